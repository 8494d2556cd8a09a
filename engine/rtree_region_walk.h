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
#include <vector>

#include "engine/convex_region.h"
#include "engine/rtree_layout.h"

namespace locus::engine::internal {

// Appends the items whose (stored) box satisfies poly.Intersects / frustum.Intersects, in
// tree order; nodes satisfying Contains are swept without testing their leaves.
void PolygonSearch(const RTreeLayout<2, float>& l, const ConvexPolygon& poly,
                   std::vector<uint32_t>* out);
void PolygonSearch(const RTreeLayout<2, double>& l, const ConvexPolygon& poly,
                   std::vector<uint32_t>* out);
void FrustumSearch(const RTreeLayout<3, float>& l, const Frustum& f, std::vector<uint32_t>* out);
void FrustumSearch(const RTreeLayout<3, double>& l, const Frustum& f, std::vector<uint32_t>* out);

}  // namespace locus::engine::internal

#endif  // LOCUS_ENGINE_RTREE_REGION_WALK_H_
