// Internal entry points of the per-target R-tree query loops (rtree_range_walk.cc). PackedRTree
// validates and converts queries, then calls these: one dynamic dispatch per query, never
// per node. The loops read only an RTreeLayout, so they serve owned trees and file views alike.
//
// Thread safety: pure functions of their arguments; safe to call concurrently.
#ifndef LOCUS_ENGINE_RTREE_RANGE_WALK_H_
#define LOCUS_ENGINE_RTREE_RANGE_WALK_H_

#include <cstdint>

#include "engine/rtree_layout.h"
#include "engine/rtree_view.h"
#include "kernels/types.h"

namespace locus::engine::internal {

enum class RangeMode {
  kVisit,  // deliver every matching id to the sink
  kCount,  // count matches; fully covered subtrees are counted, not visited
  kAny,    // stop at the first match
};

struct RangeResult {
  bool completed =
      true;            // false when the sink stopped the query (kVisit) or a match was found (kAny)
  uint64_t count = 0;  // matches seen (kCount: all; kAny: 0 or 1; kVisit: delivered)
};

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
