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

LOCUS_RTREE_WALK_TARGETS(void, ExpandPairs, LOCUS_RTREE_EXPAND_PAIRS_PARAMS, (spec, in, out))
LOCUS_RTREE_WALK_TARGETS(bool, WalkPairs, LOCUS_RTREE_WALK_PAIRS_PARAMS, (spec, roots, out))

}  // namespace HWY_NAMESPACE
}  // namespace locus::engine
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace locus::engine {

LOCUS_RTREE_WALK_DISPATCH(void, ExpandPairs, LOCUS_RTREE_EXPAND_PAIRS_PARAMS, (spec, in, out))
LOCUS_RTREE_WALK_DISPATCH(bool, WalkPairs, LOCUS_RTREE_WALK_PAIRS_PARAMS, (spec, roots, out))

}  // namespace locus::engine
#endif  // HWY_ONCE
