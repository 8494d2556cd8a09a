// LSD radix sort with 8-bit digits. The parallel version splits the input into fixed-size
// blocks (independent of the thread count), counts each block's digit histogram in
// parallel, turns the block x digit table into scatter offsets with one serial prefix sum
// (digit-major, then block order, which is exactly what keeps the sort stable), and scatters
// the blocks in parallel. Passes whose digit is the same for every key are skipped.
#include "engine/radix_sort.h"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <array>
#include <vector>

#include "locus/check.h"

namespace locus::engine {
namespace {

constexpr int kDigitBits = 8;
constexpr size_t kBuckets = size_t{1} << kDigitBits;
constexpr size_t kBlock = size_t{1} << 16;  // elements per parallel block

using Histogram = std::array<size_t, kBuckets>;

inline size_t Digit(uint64_t key, int shift) {
  return static_cast<size_t>((key >> shift) & (kBuckets - 1));
}

}  // namespace

void RadixSortPairs(std::span<uint64_t> keys, std::span<uint32_t> values, int key_bits,
                    bool parallel) {
  LOCUS_CHECK(keys.size() == values.size());
  LOCUS_CHECK(key_bits >= 1 && key_bits <= 64);
  const size_t n = keys.size();
  if (n < 2) return;
  std::vector<uint64_t> key_tmp(n);
  std::vector<uint32_t> value_tmp(n);
  uint64_t* src_k = keys.data();
  uint32_t* src_v = values.data();
  uint64_t* dst_k = key_tmp.data();
  uint32_t* dst_v = value_tmp.data();

  const size_t num_blocks = parallel ? (n + kBlock - 1) / kBlock : 1;
  const size_t block = parallel ? kBlock : n;
  std::vector<Histogram> counts(num_blocks);

  for (int shift = 0; shift < key_bits; shift += kDigitBits) {
    auto count_block = [&](size_t b) {
      Histogram& h = counts[b];
      h.fill(0);
      const size_t end = std::min(n, (b + 1) * block);
      for (size_t i = b * block; i < end; ++i) ++h[Digit(src_k[i], shift)];
    };
    if (parallel) {
      tbb::parallel_for(size_t{0}, num_blocks, count_block);
    } else {
      count_block(0);
    }
    // Skip a pass in which every key has the same digit (common for the top digits).
    Histogram total{};
    for (const Histogram& h : counts)
      for (size_t d = 0; d < kBuckets; ++d) total[d] += h[d];
    if (std::count(total.begin(), total.end(), size_t{0}) == kBuckets - 1) continue;
    // Offsets: digit-major, then block order (stability).
    size_t offset = 0;
    for (size_t d = 0; d < kBuckets; ++d) {
      for (size_t b = 0; b < num_blocks; ++b) {
        const size_t c = counts[b][d];
        counts[b][d] = offset;
        offset += c;
      }
    }
    auto scatter_block = [&](size_t b) {
      Histogram& next = counts[b];
      const size_t end = std::min(n, (b + 1) * block);
      for (size_t i = b * block; i < end; ++i) {
        const size_t pos = next[Digit(src_k[i], shift)]++;
        dst_k[pos] = src_k[i];
        dst_v[pos] = src_v[i];
      }
    };
    if (parallel) {
      tbb::parallel_for(size_t{0}, num_blocks, scatter_block);
    } else {
      scatter_block(0);
    }
    std::swap(src_k, dst_k);
    std::swap(src_v, dst_v);
  }
  if (src_k != keys.data()) {
    std::copy(src_k, src_k + n, keys.data());
    std::copy(src_v, src_v + n, values.data());
  }
}

}  // namespace locus::engine
