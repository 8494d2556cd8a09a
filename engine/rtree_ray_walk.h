// Internal entry points of the per-target raycast walks (rtree_ray_walk-inl.h, compiled per
// target by rtree_ray_walk.cc). RTreeView's raycast methods validate the query and call these:
// one dynamic dispatch per query, never per node. All geometry is evaluated in f64: f32 trees'
// stored boxes are promoted on load, so an f32 tree answers the f64 predicate on its
// outward-rounded boxes (a superset of the exact answer; entry t values are lower bounds of the
// exact ones).
//
// Thread safety: pure functions of their arguments; safe to call concurrently.
#ifndef LOCUS_ENGINE_RTREE_RAY_WALK_H_
#define LOCUS_ENGINE_RTREE_RAY_WALK_H_

#include <type_traits>
#include <vector>

#include "engine/rtree_layout.h"
#include "engine/rtree_view.h"  // RayHit
#include "engine/rtree_walk.h"  // LOCUS_RTREE_WALK_DECLARE
#include "kernels/ray.h"
#include "locus/geometry.h"

namespace locus::engine::internal {

// The f64 kernel ray of a dimension.
template <int D>
using KRay = std::conditional_t<D == 2, kernels::Ray2T<double>, kernels::Ray3T<double>>;

// Appends every hit (id, entry t) in tree order (unsorted). REQUIRES: the ray is valid.
#define LOCUS_RTREE_RAY_ALL_PARAMS(D, T) \
  (const RTreeLayout<D, T>& l, const internal::KRay<D>& ray, std::vector<RayHit>* out)
LOCUS_RTREE_WALK_DECLARE(void, RayAll, LOCUS_RTREE_RAY_ALL_PARAMS)

// Sets *out to the hit with the smallest entry t, ties to the smaller id; returns false when
// there is none. With exact_items (the caller's f64 boxes, indexed by id), candidate leaves
// are re-tested against them and the answer is the exact one. REQUIRES: the ray is valid.
#define LOCUS_RTREE_RAY_FIRST_PARAMS(D, T) \
  (const RTreeLayout<D, T>& l, const internal::KRay<D>& ray, const Box##D* exact_items, RayHit* out)
LOCUS_RTREE_WALK_DECLARE(bool, RayFirst, LOCUS_RTREE_RAY_FIRST_PARAMS)

}  // namespace locus::engine::internal

#endif  // LOCUS_ENGINE_RTREE_RAY_WALK_H_
