// Dispatch table and entry points for the per-target R-tree kNN walks (rtree_knn_walk.h).
//
// foreach_target.h must come first (it re-includes this file once per target).
// clang-format off
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "engine/rtree_knn_walk.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include "engine/rtree_knn_walk-inl.h"
#include "engine/rtree_knn_walk.h"
#include "hwy/highway.h"
// clang-format on

HWY_BEFORE_NAMESPACE();
namespace locus::engine {
namespace HWY_NAMESPACE {

void NearestWalk2F32(const RTreeLayout<2, float>& l, const internal::KnnQuery& q, const Box2* exact,
                     size_t k, double max_dist_sq, std::vector<kernels::Neighbor<double>>* out) {
  NearestWalkT(l, q, exact, k, max_dist_sq, out);
}
void NearestWalk2F64(const RTreeLayout<2, double>& l, const internal::KnnQuery& q,
                     const Box2* exact, size_t k, double max_dist_sq,
                     std::vector<kernels::Neighbor<double>>* out) {
  NearestWalkT(l, q, exact, k, max_dist_sq, out);
}
void NearestWalk3F32(const RTreeLayout<3, float>& l, const internal::KnnQuery& q, const Box3* exact,
                     size_t k, double max_dist_sq, std::vector<kernels::Neighbor<double>>* out) {
  NearestWalkT(l, q, exact, k, max_dist_sq, out);
}
void NearestWalk3F64(const RTreeLayout<3, double>& l, const internal::KnnQuery& q,
                     const Box3* exact, size_t k, double max_dist_sq,
                     std::vector<kernels::Neighbor<double>>* out) {
  NearestWalkT(l, q, exact, k, max_dist_sq, out);
}

internal::RangeResult WithinQuery2F32(const RTreeLayout<2, float>& l, const internal::KnnQuery& q,
                                      double bound, internal::RangeMode m, IdBatchSink* s) {
  return WithinQueryT(l, q, bound, m, s);
}
internal::RangeResult WithinQuery2F64(const RTreeLayout<2, double>& l, const internal::KnnQuery& q,
                                      double bound, internal::RangeMode m, IdBatchSink* s) {
  return WithinQueryT(l, q, bound, m, s);
}
internal::RangeResult WithinQuery3F32(const RTreeLayout<3, float>& l, const internal::KnnQuery& q,
                                      double bound, internal::RangeMode m, IdBatchSink* s) {
  return WithinQueryT(l, q, bound, m, s);
}
internal::RangeResult WithinQuery3F64(const RTreeLayout<3, double>& l, const internal::KnnQuery& q,
                                      double bound, internal::RangeMode m, IdBatchSink* s) {
  return WithinQueryT(l, q, bound, m, s);
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
HWY_EXPORT(WithinQuery2F32);
HWY_EXPORT(WithinQuery2F64);
HWY_EXPORT(WithinQuery3F32);
HWY_EXPORT(WithinQuery3F64);

namespace internal {
void NearestWalk(const RTreeLayout<2, float>& l, const KnnQuery& q, const Box2* exact, size_t k,
                 double max_dist_sq, std::vector<kernels::Neighbor<double>>* out) {
  HWY_DYNAMIC_DISPATCH(NearestWalk2F32)(l, q, exact, k, max_dist_sq, out);
}
void NearestWalk(const RTreeLayout<2, double>& l, const KnnQuery& q, const Box2* exact, size_t k,
                 double max_dist_sq, std::vector<kernels::Neighbor<double>>* out) {
  HWY_DYNAMIC_DISPATCH(NearestWalk2F64)(l, q, exact, k, max_dist_sq, out);
}
void NearestWalk(const RTreeLayout<3, float>& l, const KnnQuery& q, const Box3* exact, size_t k,
                 double max_dist_sq, std::vector<kernels::Neighbor<double>>* out) {
  HWY_DYNAMIC_DISPATCH(NearestWalk3F32)(l, q, exact, k, max_dist_sq, out);
}
void NearestWalk(const RTreeLayout<3, double>& l, const KnnQuery& q, const Box3* exact, size_t k,
                 double max_dist_sq, std::vector<kernels::Neighbor<double>>* out) {
  HWY_DYNAMIC_DISPATCH(NearestWalk3F64)(l, q, exact, k, max_dist_sq, out);
}
RangeResult WithinQuery(const RTreeLayout<2, float>& l, const KnnQuery& q, double bound_sq,
                        RangeMode m, IdBatchSink* s) {
  return HWY_DYNAMIC_DISPATCH(WithinQuery2F32)(l, q, bound_sq, m, s);
}
RangeResult WithinQuery(const RTreeLayout<2, double>& l, const KnnQuery& q, double bound_sq,
                        RangeMode m, IdBatchSink* s) {
  return HWY_DYNAMIC_DISPATCH(WithinQuery2F64)(l, q, bound_sq, m, s);
}
RangeResult WithinQuery(const RTreeLayout<3, float>& l, const KnnQuery& q, double bound_sq,
                        RangeMode m, IdBatchSink* s) {
  return HWY_DYNAMIC_DISPATCH(WithinQuery3F32)(l, q, bound_sq, m, s);
}
RangeResult WithinQuery(const RTreeLayout<3, double>& l, const KnnQuery& q, double bound_sq,
                        RangeMode m, IdBatchSink* s) {
  return HWY_DYNAMIC_DISPATCH(WithinQuery3F64)(l, q, bound_sq, m, s);
}
}  // namespace internal

}  // namespace locus::engine
#endif  // HWY_ONCE
