// Dispatch table and entry points for the per-target R-tree kNN walks (rtree_knn.h).
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "engine/rtree_knn.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include "engine/rtree_knn-inl.h"
#include "engine/rtree_knn.h"
#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace locus::engine {
namespace HWY_NAMESPACE {

void NearestWalk2F32(const RTreeLayout<2, float>& l, const internal::KnnQuery& q,
                     const Box2* exact, kernels::TopK<double>* top) {
  NearestWalkT(l, q, exact, top);
}
void NearestWalk2F64(const RTreeLayout<2, double>& l, const internal::KnnQuery& q,
                     const Box2* exact, kernels::TopK<double>* top) {
  NearestWalkT(l, q, exact, top);
}
void NearestWalk3F32(const RTreeLayout<3, float>& l, const internal::KnnQuery& q,
                     const Box3* exact, kernels::TopK<double>* top) {
  NearestWalkT(l, q, exact, top);
}
void NearestWalk3F64(const RTreeLayout<3, double>& l, const internal::KnnQuery& q,
                     const Box3* exact, kernels::TopK<double>* top) {
  NearestWalkT(l, q, exact, top);
}

}  // namespace HWY_NAMESPACE
}  // namespace locus::engine
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace locus::engine {

HWY_EXPORT(NearestWalk2F32);
HWY_EXPORT(NearestWalk2F64);
HWY_EXPORT(NearestWalk3F32);
HWY_EXPORT(NearestWalk3F64);

namespace internal {
void NearestWalk(const RTreeLayout<2, float>& l, const KnnQuery& q, const Box2* exact,
                 kernels::TopK<double>* top) {
  HWY_DYNAMIC_DISPATCH(NearestWalk2F32)(l, q, exact, top);
}
void NearestWalk(const RTreeLayout<2, double>& l, const KnnQuery& q, const Box2* exact,
                 kernels::TopK<double>* top) {
  HWY_DYNAMIC_DISPATCH(NearestWalk2F64)(l, q, exact, top);
}
void NearestWalk(const RTreeLayout<3, float>& l, const KnnQuery& q, const Box3* exact,
                 kernels::TopK<double>* top) {
  HWY_DYNAMIC_DISPATCH(NearestWalk3F32)(l, q, exact, top);
}
void NearestWalk(const RTreeLayout<3, double>& l, const KnnQuery& q, const Box3* exact,
                 kernels::TopK<double>* top) {
  HWY_DYNAMIC_DISPATCH(NearestWalk3F64)(l, q, exact, top);
}
}  // namespace internal

}  // namespace locus::engine
#endif  // HWY_ONCE
