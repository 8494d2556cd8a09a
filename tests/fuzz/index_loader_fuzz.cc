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

#include "storage/index_file.h"
#include "tests/testing/index_bytes.h"

namespace {

using locus::testing::Resign;

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
