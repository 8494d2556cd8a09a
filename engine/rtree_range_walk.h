// Internal entry points of the per-target range walks (rtree_range_walk-inl.h, compiled per
// target by rtree_range_walk.cc). RTreeView's range methods validate and convert queries, then
// call these: one dynamic dispatch per query, never per node. The walks read only an
// RTreeLayout, so they serve owned trees and file views alike.
//
// Thread safety: pure functions of their arguments; safe to call concurrently.
#ifndef LOCUS_ENGINE_RTREE_RANGE_WALK_H_
#define LOCUS_ENGINE_RTREE_RANGE_WALK_H_

#include <cstdint>
#include <type_traits>

#include "engine/rtree_layout.h"
#include "engine/rtree_walk.h"  // RangeMode, RangeResult
#include "kernels/types.h"

namespace locus::engine::internal {

// The kernels' box of a dimension, in the tree's type T.
template <int D, typename T>
using KBox = std::conditional_t<D == 2, kernels::Box2T<T>, kernels::Box3T<T>>;

// Runs `mode` over the items whose box meets `query` (closed boxes), in tree order.
// REQUIRES: the query is valid (min <= max, no NaN), converted to T rounding outward;
// `sink` is non-null for kVisit.
#define LOCUS_RTREE_RANGE_QUERY_PARAMS(D, T)                                                     \
  (const RTreeLayout<D, T>& layout, const internal::KBox<D, T>& query, internal::RangeMode mode, \
   IdBatchSink* sink)
LOCUS_RTREE_WALK_DECLARE(RangeResult, RangeQuery, LOCUS_RTREE_RANGE_QUERY_PARAMS)

}  // namespace locus::engine::internal

#endif  // LOCUS_ENGINE_RTREE_RANGE_WALK_H_
