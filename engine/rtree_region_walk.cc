// Dispatch table and entry points for the per-target region walks (rtree_region_walk.h,
// rtree_region_walk-inl.h): one HWY_DYNAMIC_DISPATCH per query.
//
// foreach_target.h must come first (it re-includes this file once per target).
// clang-format off
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "engine/rtree_region_walk.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include "engine/rtree_region_walk-inl.h"
#include "engine/rtree_region_walk.h"
#include "hwy/highway.h"
// clang-format on

HWY_BEFORE_NAMESPACE();
namespace locus::engine {
namespace HWY_NAMESPACE {

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

HWY_EXPORT(PolygonSearchF32);
HWY_EXPORT(PolygonSearchF64);
HWY_EXPORT(FrustumSearchF32);
HWY_EXPORT(FrustumSearchF64);

namespace internal {

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
