// RTreeLayout: the flat, non-owning description of a packed Hilbert R-tree that the
// per-target query loops read. PackedRTree owns the arrays; views over index files (issue
// "index files") will fill the same struct from a mapped buffer.
//
// Layout (flatbush lineage, every level padded to whole nodes):
// - Slots are numbered across all levels: level 0 (the items, in Hilbert order) occupies
//   slots [level_begin[0], level_begin[1]), level 1 the next, ..., the top level last.
// - Every level's slot count is a multiple of node_size. Slot j of level l+1 is the node
//   whose children are slots [j * node_size, (j + 1) * node_size) of level l (positions
//   relative to each level's begin). Padding slots hold the empty box (min = +inf,
//   max = -inf), which no query matches.
// - The top level has exactly one real node, in its position 0.
// - Consequently the leaves under position c of level l are the level-0 positions
//   [c * node_size^l, (c + 1) * node_size^l), clipped to num_items: contiguous, which lets a
//   node fully inside a query be swept without tests.
// - ids[p] is the caller's item index at level-0 position p (padding: kNoId).
// Boxes are SoA: min[a][slot], max[a][slot] for axis a.
// - points: every level-0 box is a point (min == max on every axis, as stored; padding
//   stays the empty box). Walks then read only min[] at level 0, half the bytes of the
//   level that dominates a query's cache misses; max[] at level 0 is still present and equal.
#ifndef LOCUS_ENGINE_RTREE_LAYOUT_H_
#define LOCUS_ENGINE_RTREE_LAYOUT_H_

#include <cstddef>
#include <cstdint>

namespace locus::engine {

inline constexpr uint32_t kNoId = 0xFFFFFFFFu;
inline constexpr uint32_t kMaxNodeSize = 64;  // one node's child mask fits one uint64_t
inline constexpr uint32_t kMaxLevels = 40;    // 2^32 items at node size 2 need 33

template <int kDims, typename T>
struct RTreeLayout {
  const T* min[kDims] = {};
  const T* max[kDims] = {};
  const uint32_t* ids = nullptr;
  const uint64_t* level_begin = nullptr;  // num_levels + 1 entries
  uint32_t num_levels = 0;                // 0 for an empty tree
  uint32_t node_size = 16;
  uint64_t num_items = 0;
  bool points = false;  // every stored item box is a point (see above)
};

}  // namespace locus::engine

#endif  // LOCUS_ENGINE_RTREE_LAYOUT_H_
