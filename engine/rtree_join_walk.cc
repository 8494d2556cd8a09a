// Dispatch table and entry points for the per-target join walks (rtree_join_walk.h,
// rtree_join_walk-inl.h): one HWY_DYNAMIC_DISPATCH per task, never per node pair.
//
// foreach_target.h must come first (it re-includes this file once per target).
// clang-format off
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "engine/rtree_join_walk.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include "engine/rtree_join_walk-inl.h"
#include "engine/rtree_join_walk.h"
#include "hwy/highway.h"
// clang-format on

HWY_BEFORE_NAMESPACE();
namespace locus::engine {
namespace HWY_NAMESPACE {

void ExpandPairs2F32(const internal::JoinSpec<2, float>& s, std::span<const internal::NodePair> in,
                     std::vector<internal::NodePair>* out) {
  ExpandPairsDispatch(s, in, out);
}
void ExpandPairs2F64(const internal::JoinSpec<2, double>& s, std::span<const internal::NodePair> in,
                     std::vector<internal::NodePair>* out) {
  ExpandPairsDispatch(s, in, out);
}
void ExpandPairs3F32(const internal::JoinSpec<3, float>& s, std::span<const internal::NodePair> in,
                     std::vector<internal::NodePair>* out) {
  ExpandPairsDispatch(s, in, out);
}
void ExpandPairs3F64(const internal::JoinSpec<3, double>& s, std::span<const internal::NodePair> in,
                     std::vector<internal::NodePair>* out) {
  ExpandPairsDispatch(s, in, out);
}
bool WalkPairs2F32(const internal::JoinSpec<2, float>& s, std::span<const internal::NodePair> r,
                   internal::PairOut* out) {
  return WalkPairsDispatch(s, r, out);
}
bool WalkPairs2F64(const internal::JoinSpec<2, double>& s, std::span<const internal::NodePair> r,
                   internal::PairOut* out) {
  return WalkPairsDispatch(s, r, out);
}
bool WalkPairs3F32(const internal::JoinSpec<3, float>& s, std::span<const internal::NodePair> r,
                   internal::PairOut* out) {
  return WalkPairsDispatch(s, r, out);
}
bool WalkPairs3F64(const internal::JoinSpec<3, double>& s, std::span<const internal::NodePair> r,
                   internal::PairOut* out) {
  return WalkPairsDispatch(s, r, out);
}

}  // namespace HWY_NAMESPACE
}  // namespace locus::engine
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace locus::engine {

HWY_EXPORT(ExpandPairs2F32);
HWY_EXPORT(ExpandPairs2F64);
HWY_EXPORT(ExpandPairs3F32);
HWY_EXPORT(ExpandPairs3F64);
HWY_EXPORT(WalkPairs2F32);
HWY_EXPORT(WalkPairs2F64);
HWY_EXPORT(WalkPairs3F32);
HWY_EXPORT(WalkPairs3F64);

namespace internal {
void ExpandPairs(const JoinSpec<2, float>& s, std::span<const NodePair> in,
                 std::vector<NodePair>* out) {
  HWY_DYNAMIC_DISPATCH(ExpandPairs2F32)(s, in, out);
}
void ExpandPairs(const JoinSpec<2, double>& s, std::span<const NodePair> in,
                 std::vector<NodePair>* out) {
  HWY_DYNAMIC_DISPATCH(ExpandPairs2F64)(s, in, out);
}
void ExpandPairs(const JoinSpec<3, float>& s, std::span<const NodePair> in,
                 std::vector<NodePair>* out) {
  HWY_DYNAMIC_DISPATCH(ExpandPairs3F32)(s, in, out);
}
void ExpandPairs(const JoinSpec<3, double>& s, std::span<const NodePair> in,
                 std::vector<NodePair>* out) {
  HWY_DYNAMIC_DISPATCH(ExpandPairs3F64)(s, in, out);
}
bool WalkPairs(const JoinSpec<2, float>& s, std::span<const NodePair> r, PairOut* out) {
  return HWY_DYNAMIC_DISPATCH(WalkPairs2F32)(s, r, out);
}
bool WalkPairs(const JoinSpec<2, double>& s, std::span<const NodePair> r, PairOut* out) {
  return HWY_DYNAMIC_DISPATCH(WalkPairs2F64)(s, r, out);
}
bool WalkPairs(const JoinSpec<3, float>& s, std::span<const NodePair> r, PairOut* out) {
  return HWY_DYNAMIC_DISPATCH(WalkPairs3F32)(s, r, out);
}
bool WalkPairs(const JoinSpec<3, double>& s, std::span<const NodePair> r, PairOut* out) {
  return HWY_DYNAMIC_DISPATCH(WalkPairs3F64)(s, r, out);
}
}  // namespace internal

}  // namespace locus::engine
#endif  // HWY_ONCE
