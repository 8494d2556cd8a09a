// Dispatch table and entry points for the per-target raycast and region walks
// (rtree_ray_walk.h, rtree_ray_walk-inl.h): one HWY_DYNAMIC_DISPATCH per query.
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

void PolygonSearchF32(const RTreeLayout<2, float>& l, const ConvexPolygon& p,
                      std::vector<uint32_t>* out) {
  PolygonSearchT(l, p, out);
}
void PolygonSearchF64(const RTreeLayout<2, double>& l, const ConvexPolygon& p,
                      std::vector<uint32_t>* out) {
  PolygonSearchT(l, p, out);
}
void FrustumSearchF32(const RTreeLayout<3, float>& l, const Frustum& f,
                      std::vector<uint32_t>* out) {
  FrustumSearchT(l, f, out);
}
void FrustumSearchF64(const RTreeLayout<3, double>& l, const Frustum& f,
                      std::vector<uint32_t>* out) {
  FrustumSearchT(l, f, out);
}

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
HWY_EXPORT(PolygonSearchF32);
HWY_EXPORT(PolygonSearchF64);
HWY_EXPORT(FrustumSearchF32);
HWY_EXPORT(FrustumSearchF64);

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

void PolygonSearch(const RTreeLayout<2, float>& l, const ConvexPolygon& p,
                   std::vector<uint32_t>* out) {
  HWY_DYNAMIC_DISPATCH(PolygonSearchF32)(l, p, out);
}
void PolygonSearch(const RTreeLayout<2, double>& l, const ConvexPolygon& p,
                   std::vector<uint32_t>* out) {
  HWY_DYNAMIC_DISPATCH(PolygonSearchF64)(l, p, out);
}
void FrustumSearch(const RTreeLayout<3, float>& l, const Frustum& f, std::vector<uint32_t>* out) {
  HWY_DYNAMIC_DISPATCH(FrustumSearchF32)(l, f, out);
}
void FrustumSearch(const RTreeLayout<3, double>& l, const Frustum& f, std::vector<uint32_t>* out) {
  HWY_DYNAMIC_DISPATCH(FrustumSearchF64)(l, f, out);
}

}  // namespace internal
}  // namespace locus::engine
#endif  // HWY_ONCE
