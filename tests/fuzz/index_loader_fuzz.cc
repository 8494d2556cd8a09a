// libFuzzer target for the index file loaders (storage/index_file.h). Each input is loaded
// twice per tree type: as given, with checksums verified (what a user's hostile file meets),
// and with every checksum recomputed first and verification off, so that mutations reach
// the structural validation instead of stopping at a CRC mismatch. An accepted index is then
// read in full (every array element, payload and metadata entry), so ASan and UBSan see any
// accepted-but-broken layout. Queries are covered by tests/storage (byte flips of a file
// with recomputed checksums); this target links no engine code so it builds in seconds.
//
// Build and run: see .ci/run (clang, -DLOCUS_BUILD_FUZZERS=ON).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "storage/crc32c.h"
#include "storage/index_file.h"

namespace {

using locus::storage::Crc32c;

template <typename U>
U Get(const std::vector<uint8_t>& b, uint64_t off) {
  U v;
  std::memcpy(&v, b.data() + off, sizeof(U));
  return v;
}
template <typename U>
void Set(std::vector<uint8_t>& b, uint64_t off, U v) {
  std::memcpy(b.data() + off, &v, sizeof(U));
}

// Recomputes the chunk, directory and superblock checksums where the ranges are in bounds
// (docs/FORMAT.md fixes their positions).
void Resign(std::vector<uint8_t>& b) {
  if (b.size() < 64) return;
  const uint64_t dir = Get<uint64_t>(b, 24);
  const uint32_t count = Get<uint32_t>(b, 32);
  for (uint32_t i = 0; i < count; ++i) {
    const uint64_t e = dir + uint64_t{32} * i;
    if (dir > b.size() || e < dir || e + 32 > b.size()) break;
    const uint64_t off = Get<uint64_t>(b, e + 8), len = Get<uint64_t>(b, e + 16);
    if (off <= b.size() && len <= b.size() - off) {
      Set<uint32_t>(b, e + 24, Crc32c(std::span<const uint8_t>(b).subspan(off, len)));
    }
  }
  if (dir <= b.size() && uint64_t{count} * 32 <= b.size() - dir) {
    Set<uint32_t>(b, 36, Crc32c(std::span<const uint8_t>(b).subspan(dir, uint64_t{count} * 32)));
  }
  Set<uint32_t>(b, 60, Crc32c(std::span<const uint8_t>(b).first(60)));
}

template <int D, typename T>
void Load(const std::vector<uint8_t>& bytes, bool verify) {
  auto view = locus::storage::TreeView<D, T>::Open(bytes, {.verify_checksums = verify});
  if (!view.ok()) return;
  const auto& l = view->layout();
  volatile double sum = 0;
  if (l.num_items > 0) {
    for (uint64_t s = 0; s < l.level_begin[l.num_levels]; ++s) {
      for (int a = 0; a < D; ++a) sum = sum + l.min[a][s] - l.max[a][s];
    }
    for (uint64_t p = 0; p < l.level_begin[1]; ++p) sum = sum + l.ids[p];
  }
  for (uint32_t id = 0; id < l.num_items; ++id) {
    auto p = view->payload(id);
    if (!p.ok()) __builtin_trap();  // ids below size() must always work
    for (uint8_t c : *p) sum = sum + c;
  }
  for (const auto& [k, v] : view->metadata()) sum = sum + k.size() + v.size();
}

template <int D, typename T>
void LoadBoth(const std::vector<uint8_t>& raw, const std::vector<uint8_t>& signed_bytes) {
  Load<D, T>(raw, true);
  Load<D, T>(signed_bytes, false);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::vector<uint8_t> raw(data, data + size);  // exact size: ASan sees any over-read
  std::vector<uint8_t> resigned = raw;
  Resign(resigned);
  LoadBoth<2, double>(raw, resigned);
  LoadBoth<3, double>(raw, resigned);
  LoadBoth<2, float>(raw, resigned);
  LoadBoth<3, float>(raw, resigned);
  (void)locus::storage::ReadIndexInfo(raw);
  return 0;
}
