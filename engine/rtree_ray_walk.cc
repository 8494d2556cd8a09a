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
using internal::KRay;

#define LOCUS_RTREE_RAY_TARGET(D, T, S)                                                       \
  void RayAll##D##S(const RTreeLayout<D, T>& l, const KRay<D>& r, std::vector<RayHit>* out) { \
    RayAllT(l, r, out);                                                                       \
  }                                                                                           \
  bool RayFirst##D##S(const RTreeLayout<D, T>& l, const KRay<D>& r, const Box##D* items,      \
                      RayHit* out) {                                                          \
    return RayFirstT(l, r, items, out);                                                       \
  }
LOCUS_RTREE_RAY_TARGET(2, float, F32)
LOCUS_RTREE_RAY_TARGET(2, double, F64)
LOCUS_RTREE_RAY_TARGET(3, float, F32)
LOCUS_RTREE_RAY_TARGET(3, double, F64)
#undef LOCUS_RTREE_RAY_TARGET

}  // namespace HWY_NAMESPACE
}  // namespace locus::engine
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace locus::engine {

HWY_EXPORT(RayAll2F32);
HWY_EXPORT(RayAll2F64);
HWY_EXPORT(RayAll3F32);
HWY_EXPORT(RayAll3F64);
HWY_EXPORT(RayFirst2F32);
HWY_EXPORT(RayFirst2F64);
HWY_EXPORT(RayFirst3F32);
HWY_EXPORT(RayFirst3F64);

namespace internal {

#define LOCUS_RTREE_RAY_DISPATCH(D, T, S)                                                         \
  void RayAll(const RTreeLayout<D, T>& l, const KRay<D>& r, std::vector<RayHit>* out) {           \
    HWY_DYNAMIC_DISPATCH(RayAll##D##S)(l, r, out);                                                \
  }                                                                                               \
  bool RayFirst(const RTreeLayout<D, T>& l, const KRay<D>& r, const Box##D* items, RayHit* out) { \
    return HWY_DYNAMIC_DISPATCH(RayFirst##D##S)(l, r, items, out);                                \
  }
LOCUS_RTREE_RAY_DISPATCH(2, float, F32)
LOCUS_RTREE_RAY_DISPATCH(2, double, F64)
LOCUS_RTREE_RAY_DISPATCH(3, float, F32)
LOCUS_RTREE_RAY_DISPATCH(3, double, F64)
#undef LOCUS_RTREE_RAY_DISPATCH

}  // namespace internal
}  // namespace locus::engine
#endif  // HWY_ONCE
