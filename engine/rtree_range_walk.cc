// Dispatch table and entry points for the per-target range walks (rtree_range_walk.h).
//
// foreach_target.h must come first (it re-includes this file once per target).
// clang-format off
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "engine/rtree_range_walk.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include "engine/rtree_range_walk-inl.h"
#include "engine/rtree_range_walk.h"
#include "hwy/highway.h"
// clang-format on

HWY_BEFORE_NAMESPACE();
namespace locus::engine {
namespace HWY_NAMESPACE {

internal::RangeResult RangeQuery2F32(const RTreeLayout<2, float>& l, const kernels::Box2T<float>& q,
                                     internal::RangeMode m, IdBatchSink* s) {
  return RangeQueryT(l, q, m, s);
}
internal::RangeResult RangeQuery2F64(const RTreeLayout<2, double>& l,
                                     const kernels::Box2T<double>& q, internal::RangeMode m,
                                     IdBatchSink* s) {
  return RangeQueryT(l, q, m, s);
}
internal::RangeResult RangeQuery3F32(const RTreeLayout<3, float>& l, const kernels::Box3T<float>& q,
                                     internal::RangeMode m, IdBatchSink* s) {
  return RangeQueryT(l, q, m, s);
}
internal::RangeResult RangeQuery3F64(const RTreeLayout<3, double>& l,
                                     const kernels::Box3T<double>& q, internal::RangeMode m,
                                     IdBatchSink* s) {
  return RangeQueryT(l, q, m, s);
}

}  // namespace HWY_NAMESPACE
}  // namespace locus::engine
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace locus::engine {

HWY_EXPORT(RangeQuery2F32);
HWY_EXPORT(RangeQuery2F64);
HWY_EXPORT(RangeQuery3F32);
HWY_EXPORT(RangeQuery3F64);

namespace internal {
RangeResult RangeQuery(const RTreeLayout<2, float>& l, const kernels::Box2T<float>& q, RangeMode m,
                       IdBatchSink* s) {
  return HWY_DYNAMIC_DISPATCH(RangeQuery2F32)(l, q, m, s);
}
RangeResult RangeQuery(const RTreeLayout<2, double>& l, const kernels::Box2T<double>& q,
                       RangeMode m, IdBatchSink* s) {
  return HWY_DYNAMIC_DISPATCH(RangeQuery2F64)(l, q, m, s);
}
RangeResult RangeQuery(const RTreeLayout<3, float>& l, const kernels::Box3T<float>& q, RangeMode m,
                       IdBatchSink* s) {
  return HWY_DYNAMIC_DISPATCH(RangeQuery3F32)(l, q, m, s);
}
RangeResult RangeQuery(const RTreeLayout<3, double>& l, const kernels::Box3T<double>& q,
                       RangeMode m, IdBatchSink* s) {
  return HWY_DYNAMIC_DISPATCH(RangeQuery3F64)(l, q, m, s);
}
}  // namespace internal

}  // namespace locus::engine
#endif  // HWY_ONCE
