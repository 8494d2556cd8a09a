// Internal entry points of the per-target kNN and radius walks (rtree_knn_walk-inl.h, compiled
// per target by rtree_knn_walk.cc) and the scalar lon/lat helpers behind
// RTreeView::NearestHaversine (defined with the methods in rtree_knn.cc). RTreeView's methods
// validate the query; these run the walk with one dynamic dispatch per query, never per node.
//
// Thread safety: pure functions of their arguments apart from the vector they fill (one per
// query) and per-thread scratch; safe to call concurrently with distinct outputs.
#ifndef LOCUS_ENGINE_RTREE_KNN_WALK_H_
#define LOCUS_ENGINE_RTREE_KNN_WALK_H_

#include <cstddef>
#include <vector>

#include "engine/rtree_layout.h"
#include "engine/rtree_walk.h"  // KnnQuery, RangeMode, RangeResult
#include "kernels/knn.h"
#include "locus/geometry.h"

namespace locus::engine::internal {

// Replaces *out with the min(k, matches) items nearest to q by squared gap distance (see
// RTreeView::Nearest), ascending by (dist_sq, id), among items with dist_sq <= max_dist_sq;
// walking best-first. With `exact` non-null, item distances are computed from exact[id]
// (f64) and the stored boxes only prune. REQUIRES: the query is valid; k > 0.
#define LOCUS_RTREE_NEAREST_WALK_PARAMS(D, T)                                              \
  (const RTreeLayout<D, T>& l, const internal::KnnQuery& q, const Box##D* exact, size_t k, \
   double max_dist_sq, std::vector<kernels::Neighbor<double>>* out)
LOCUS_RTREE_WALK_DECLARE(void, NearestWalk, LOCUS_RTREE_NEAREST_WALK_PARAMS)

// Filter-walk modes (rtree_walk.h) over the items within squared gap distance `bound_sq` of
// q: RTreeView::SearchRadius and friends. REQUIRES: the query is valid; sink non-null for
// kVisit.
#define LOCUS_RTREE_WITHIN_QUERY_PARAMS(D, T)                                \
  (const RTreeLayout<D, T>& l, const internal::KnnQuery& q, double bound_sq, \
   internal::RangeMode mode, IdBatchSink* sink)
LOCUS_RTREE_WALK_DECLARE(RangeResult, WithinQuery, LOCUS_RTREE_WITHIN_QUERY_PARAMS)

// Great-circle distance in metres (sphere of radius kernels::kEarthRadiusMetres, haversine
// formula, <cmath>, f64) between two lon/lat points in degrees. REQUIRES: |lat| <= 90.
double HaversineMetres(double lon0, double lat0, double lon1, double lat1);

// The great-circle distance in metres from (lon0, lat0) to the nearest point of the lon/lat
// box `b` (x = longitude from min.x eastward to max.x, y = latitude, degrees; a width >= 360
// covers every longitude; latitudes clamped to [-90, 90]); 0 inside. Exact up to rounding:
// the nearest point is on the query's meridian when the query's longitude is inside the box,
// else on the nearer meridian edge (at an end or at the foot of the perpendicular).
double LonLatBoxMetres(double lon0, double lat0, const Box2& b);

}  // namespace locus::engine::internal

#endif  // LOCUS_ENGINE_RTREE_KNN_WALK_H_
