// Internal entry points of the per-target region walks (rtree_region_walk-inl.h, compiled per
// target by rtree_region_walk.cc). RTreeView's region methods validate the region and call
// these: one dynamic dispatch per query, never per node. All geometry is evaluated in f64:
// f32 trees' stored boxes are promoted on load, so an f32 tree answers the f64 predicate on
// its outward-rounded boxes (a superset of the exact answer).
//
// Thread safety: pure functions of their arguments apart from *out; safe to call
// concurrently with distinct outputs.
#ifndef LOCUS_ENGINE_RTREE_REGION_WALK_H_
#define LOCUS_ENGINE_RTREE_REGION_WALK_H_

#include <cstdint>
#include <type_traits>
#include <vector>

#include "engine/convex_region.h"
#include "engine/rtree_layout.h"
#include "engine/rtree_walk.h"  // LOCUS_RTREE_WALK_DECLARE

namespace locus::engine::internal {

// The region of a dimension: a convex polygon in 2D, a frustum in 3D.
template <int D>
using RegionOf = std::conditional_t<D == 2, ConvexPolygon, Frustum>;

// Appends the items whose (stored) box satisfies region.Intersects, in tree order; nodes
// satisfying region.Contains are swept without testing their leaves. REQUIRES: the region is
// valid (ConvexPolygon::Make, Frustum::Validate).
#define LOCUS_RTREE_REGION_SEARCH_PARAMS(D, T) \
  (const RTreeLayout<D, T>& l, const internal::RegionOf<D>& region, std::vector<uint32_t>* out)
LOCUS_RTREE_WALK_DECLARE(void, RegionSearch, LOCUS_RTREE_REGION_SEARCH_PARAMS)

}  // namespace locus::engine::internal

#endif  // LOCUS_ENGINE_RTREE_REGION_WALK_H_
