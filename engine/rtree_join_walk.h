// Internal entry points of the per-target join walks (rtree_join_walk-inl.h, compiled per
// target by rtree_join_walk.cc). The public functions in rtree_join.cc validate, build a JoinSpec,
// split the root node pair into tasks with ExpandPairs and run each task with WalkPairs: one
// dynamic dispatch per task, never per node pair.
//
// Thread safety: pure functions of their arguments apart from *out; concurrent calls with
// distinct PairOut objects are safe (a shared `stop` flag is atomic).
#ifndef LOCUS_ENGINE_RTREE_JOIN_WALK_H_
#define LOCUS_ENGINE_RTREE_JOIN_WALK_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "engine/rtree_join.h"
#include "engine/rtree_layout.h"
#include "engine/rtree_walk.h"  // LOCUS_RTREE_WALK_DECLARE

namespace locus::engine::internal {

// One side of a join: the tree's layout and the box of its root node, which the layout does
// not store (it is the union of the top level's slots).
template <int kDims, typename T>
struct JoinSide {
  RTreeLayout<kDims, T> layout;
  T root_lo[kDims];
  T root_hi[kDims];
};

template <int kDims, typename T>
struct JoinSpec {
  JoinSide<kDims, T> left, right;  // a self-join has right == left
  bool self = false;               // walk pairs (i, j) with i <= j only; emit (min, max) ids
  bool within = false;             // false: closed boxes intersect; true: gap^2 <= bound_sq
  double bound_sq = 0;             // the largest gap^2 whose sqrt is <= the distance
};

// A pair of nodes, one per side. A node is (level >= 1, position in that level); its children
// are the node_size slots of level - 1 from position pos * node_size. The root of a side is
// (num_levels, 0). Both levels == 1: the children are items (a "leaf pair").
struct NodePair {
  uint32_t level_a, pos_a, level_b, pos_b;
  friend bool operator==(const NodePair&, const NodePair&) = default;
};

// Where a walk's item pairs go: counted (count_only); or, with a sink, delivered to it in
// batches of about `batch` pairs; or else appended to *pairs. The walk stages pairs in a local
// array and hands them over in bulk.
struct PairOut {
  bool count_only = false;
  uint64_t count = 0;
  std::vector<IdPair>* pairs = nullptr;
  PairBatchSink* sink = nullptr;
  size_t batch = 1024;
  std::atomic<bool>* stop = nullptr;  // with a sink: set once it returned false

  // Hands `staged` over; returns false when the join must stop.
  bool Take(std::span<const IdPair> staged) {
    if (sink == nullptr) {
      pairs->insert(pairs->end(), staged.begin(), staged.end());
      return true;
    }
    if (stop->load(std::memory_order_relaxed)) return false;
    if (staged.empty()) return true;
    const bool go = (*sink)(staged);
    if (!go) stop->store(true, std::memory_order_relaxed);
    return go;
  }
};

// Appends to *out, in order, the child pairs of every node pair of `in` that is not a leaf
// pair; leaf pairs are appended unchanged. The walk of a pair emits exactly the concatenated
// walks of its child pairs, so any such split of the root gives the same output order.
#define LOCUS_RTREE_EXPAND_PAIRS_PARAMS(D, T)                                    \
  (const internal::JoinSpec<D, T>& spec, std::span<const internal::NodePair> in, \
   std::vector<internal::NodePair>* out)
LOCUS_RTREE_WALK_DECLARE(void, ExpandPairs, LOCUS_RTREE_EXPAND_PAIRS_PARAMS)

// Walks the pairs of `roots` depth-first, in order, into *out. Returns false if the sink
// stopped the join.
#define LOCUS_RTREE_WALK_PAIRS_PARAMS(D, T)                                         \
  (const internal::JoinSpec<D, T>& spec, std::span<const internal::NodePair> roots, \
   internal::PairOut* out)
LOCUS_RTREE_WALK_DECLARE(bool, WalkPairs, LOCUS_RTREE_WALK_PAIRS_PARAMS)

}  // namespace locus::engine::internal

#endif  // LOCUS_ENGINE_RTREE_JOIN_WALK_H_
