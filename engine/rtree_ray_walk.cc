// Dispatch table and entry points for the per-target raycast walks (rtree_ray_walk.h,
// rtree_ray_walk-inl.h): one HWY_DYNAMIC_DISPATCH per query.
//
// foreach_target.h must come first (it re-includes this file once per target).
// clang-format off
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "engine/rtree_ray_walk.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include "engine/rtree_ray_walk-inl.h"
#include "engine/rtree_ray_walk.h"
#include "hwy/highway.h"
// clang-format on

HWY_BEFORE_NAMESPACE();
namespace locus::engine {
namespace HWY_NAMESPACE {

LOCUS_RTREE_WALK_TARGETS(void, RayAll, LOCUS_RTREE_RAY_ALL_PARAMS, (l, ray, out))
LOCUS_RTREE_WALK_TARGETS(bool, RayFirst, LOCUS_RTREE_RAY_FIRST_PARAMS, (l, ray, exact_items, out))

}  // namespace HWY_NAMESPACE
}  // namespace locus::engine
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace locus::engine {

LOCUS_RTREE_WALK_DISPATCH(void, RayAll, LOCUS_RTREE_RAY_ALL_PARAMS, (l, ray, out))
LOCUS_RTREE_WALK_DISPATCH(bool, RayFirst, LOCUS_RTREE_RAY_FIRST_PARAMS, (l, ray, exact_items, out))

}  // namespace locus::engine
#endif  // HWY_ONCE
