// What the internal entry points of every per-target tree walk share: the modes and result of
// filter walks (range and radius queries), and the f64 query box of the squared-gap-distance
// predicate (kNN, radius, within-distance joins). Each query family declares its entry points
// in its own rtree_<query>_walk.h on top of this file; this file includes none of them.
//
// RTreeView's methods validate and convert a query, then call an entry point: one dynamic
// dispatch per query, never per node. Entry points read only an RTreeLayout, so they serve
// owned trees and file views alike.
//
// Thread safety: plain value types.
#ifndef LOCUS_ENGINE_RTREE_WALK_H_
#define LOCUS_ENGINE_RTREE_WALK_H_

#include <cstdint>

#include "engine/rtree_layout.h"
#include "engine/rtree_view.h"  // IdBatchSink

namespace locus::engine::internal {

// What a filter walk does with the items that match.
enum class RangeMode {
  kVisit,  // deliver every matching id to the sink
  kCount,  // count matches; fully covered subtrees are counted, not visited
  kAny,    // stop at the first match
};

struct RangeResult {
  // False when the sink stopped the query (kVisit) or a match was found (kAny).
  bool completed = true;
  uint64_t count = 0;  // matches seen (kCount: all; kAny: 0 or 1; kVisit: delivered)
};

// A query box in f64 for the squared gap distance (a point query has lo == hi), axes beyond
// kDims unused.
struct KnnQuery {
  double lo[3] = {0, 0, 0};
  double hi[3] = {0, 0, 0};
};

}  // namespace locus::engine::internal

#endif  // LOCUS_ENGINE_RTREE_WALK_H_
