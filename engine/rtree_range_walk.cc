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

LOCUS_RTREE_WALK_TARGETS(internal::RangeResult, RangeQuery, LOCUS_RTREE_RANGE_QUERY_PARAMS,
                         (layout, query, mode, sink))

}  // namespace HWY_NAMESPACE
}  // namespace locus::engine
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace locus::engine {

LOCUS_RTREE_WALK_DISPATCH(internal::RangeResult, RangeQuery, LOCUS_RTREE_RANGE_QUERY_PARAMS,
                          (layout, query, mode, sink))

}  // namespace locus::engine
#endif  // HWY_ONCE
