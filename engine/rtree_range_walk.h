// Internal entry points of the per-target range walks (rtree_range_walk-inl.h, compiled per
// target by rtree_range_walk.cc). RTreeView's range methods validate and convert queries, then
// call these: one dynamic dispatch per query, never per node. The walks read only an
// RTreeLayout, so they serve owned trees and file views alike.
//
// Thread safety: pure functions of their arguments; safe to call concurrently.
#ifndef LOCUS_ENGINE_RTREE_RANGE_WALK_H_
#define LOCUS_ENGINE_RTREE_RANGE_WALK_H_

#include <cstdint>

#include "engine/rtree_layout.h"
#include "engine/rtree_walk.h"  // RangeMode, RangeResult
#include "kernels/types.h"

namespace locus::engine::internal {

// Runs `mode` over the items whose box meets `query` (closed boxes), in tree order.
// REQUIRES: the query is valid (min <= max, no NaN), converted to T rounding outward;
// `sink` is non-null for kVisit.
RangeResult RangeQuery(const RTreeLayout<2, float>& layout, const kernels::Box2T<float>& query,
                       RangeMode mode, IdBatchSink* sink);
RangeResult RangeQuery(const RTreeLayout<2, double>& layout, const kernels::Box2T<double>& query,
                       RangeMode mode, IdBatchSink* sink);
RangeResult RangeQuery(const RTreeLayout<3, float>& layout, const kernels::Box3T<float>& query,
                       RangeMode mode, IdBatchSink* sink);
RangeResult RangeQuery(const RTreeLayout<3, double>& layout, const kernels::Box3T<double>& query,
                       RangeMode mode, IdBatchSink* sink);

}  // namespace locus::engine::internal

#endif  // LOCUS_ENGINE_RTREE_RANGE_WALK_H_
