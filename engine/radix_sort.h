// Stable LSD radix sort of (key, value) pairs, optionally parallel with oneTBB.
//
// Stability makes the output a pure function of the input: equal keys keep their input
// order, so when values are item ids in ascending order, ties are broken by id, and the
// result is byte-identical whatever the thread count or chunking.
//
// Thread safety: the functions are reentrant; the spans must not be shared with other
// writers during the call.
#ifndef LOCUS_ENGINE_RADIX_SORT_H_
#define LOCUS_ENGINE_RADIX_SORT_H_

#include <cstddef>
#include <cstdint>
#include <span>

namespace locus::engine {

// Sorts keys ascending, permuting values alongside. Only the low `key_bits` bits of each key
// are compared (REQUIRES: the other bits are zero, 1 <= key_bits <= 64). Uses oneTBB when
// `parallel` is true. REQUIRES: keys.size() == values.size().
void RadixSortPairs(std::span<uint64_t> keys, std::span<uint32_t> values, int key_bits,
                    bool parallel);

}  // namespace locus::engine

#endif  // LOCUS_ENGINE_RADIX_SORT_H_
