// libFuzzer target for the streaming reader (storage/stream_tree.h). Each input is an index
// file served through a RangeReader; for every tree type it is opened and queried (range
// search with payloads, under limits) in several ways:
//   - as given, and with every checksum recomputed (so mutations reach the per-node checks);
//   - through a clean reader, and through a hostile one that flips bytes of every read from
//     a seed taken from the input (a server that returns different garbage each time);
//   - with no cache below the top level (every level streamed) and with everything cached.
// Nothing may crash, hang, or trip ASan/UBSan; an accepted query's ids must be item ids.
//
// Build and run: see .ci/run (clang, -DLOCUS_BUILD_FUZZERS=ON).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "storage/range_reader.h"
#include "storage/stream_tree.h"
#include "tests/testing/index_bytes.h"

namespace {

using locus::Status;
using locus::storage::MemoryRangeReader;
using locus::storage::RangeReader;
using locus::storage::ReadRequest;

// Serves `bytes`; when `seed` != 0 flips one byte of every read, chosen by a xorshift stream.
class FlippingReader : public RangeReader {
 public:
  FlippingReader(std::span<const uint8_t> bytes, uint64_t seed) : inner_(bytes), state_(seed) {}
  Status ReadAt(uint64_t offset, std::span<uint8_t> out) override {
    Status s = inner_.ReadAt(offset, out);
    if (!s.ok() || state_ == 0 || out.empty()) return s;
    state_ ^= state_ << 13;
    state_ ^= state_ >> 7;
    state_ ^= state_ << 17;
    out[state_ % out.size()] ^= static_cast<uint8_t>(state_ >> 56 | 1);
    return s;
  }
  std::optional<uint64_t> size() const override { return inner_.size(); }
  std::string name() const override { return "fuzz"; }

 private:
  MemoryRangeReader inner_;
  uint64_t state_;
};

template <int D, typename T>
void Query(const std::vector<uint8_t>& bytes, uint64_t seed, uint64_t cache) {
  using Tree = locus::storage::StreamTree<D, T>;
  using Box = typename Tree::Box;
  FlippingReader reader(bytes, seed);
  locus::storage::StreamOptions options;
  options.cache_bytes = cache;
  options.coalesce_gap = seed % 2 ? 0 : 512;
  auto tree = Tree::Open(reader, options);
  if (!tree.ok()) return;
  locus::storage::QueryLimits limits;
  limits.max_reads = 4096;
  limits.max_bytes = 1 << 24;
  locus::storage::StreamHits hits;
  Box all, some;
  if constexpr (D == 2) {
    all = Box{{-1e30, -1e30}, {1e30, 1e30}};
    some = Box{{100, 100}, {400, 400}};
  } else {
    all = Box{{-1e30, -1e30, -1e30}, {1e30, 1e30, 1e30}};
    some = Box{{100, 100, 100}, {400, 400, 400}};
  }
  for (const Box& q : {all, some}) {
    if (!tree->SearchWithPayloads(reader, q, limits, &hits).ok()) continue;
    volatile uint64_t sum = 0;
    for (size_t i = 0; i < hits.size(); ++i) {
      if (hits.ids[i] >= tree->size() || hits.positions[i] >= tree->size()) __builtin_trap();
      for (uint8_t c : hits.payload(i)) sum = sum + c;
    }
  }
}

template <int D, typename T>
void QueryAll(const std::vector<uint8_t>& raw, const std::vector<uint8_t>& resigned,
              uint64_t seed) {
  for (uint64_t cache : {uint64_t{0}, uint64_t{1} << 20}) {
    Query<D, T>(raw, 0, cache);
    Query<D, T>(resigned, 0, cache);
    Query<D, T>(resigned, seed, cache);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::vector<uint8_t> raw(data, data + size);
  std::vector<uint8_t> resigned = raw;
  locus::testing::Resign(resigned);
  uint64_t seed = 0x9E3779B97F4A7C15ull;
  for (size_t i = 0; i < size && i < 64; ++i) seed = (seed ^ data[size - 1 - i]) * 0x100000001B3ull;
  seed |= 1;
  QueryAll<2, double>(raw, resigned, seed);
  QueryAll<3, double>(raw, resigned, seed);
  QueryAll<2, float>(raw, resigned, seed);
  QueryAll<3, float>(raw, resigned, seed);
  return 0;
}
