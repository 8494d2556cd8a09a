// Per-target range walk (RTreeView::Search, Visit, Any, Count). Included once per Highway
// target by rtree_range_walk.cc.
//
// A range query is FilterWalk (rtree_walk-inl.h) with box predicates: for each node, one
// inlined kernel pass (box_mask-inl.h's FilterBits over the node_size child slots) yields the
// overlap mask; for inner nodes a second pass yields the "child inside the query" mask, and
// such children are swept: their leaves are a contiguous run of level-0 positions, so their
// ids are delivered straight from the tree's id array (kVisit) or counted by length (kCount)
// without testing a single box below them. Level 0 of a points layout reads only min[].

#if defined(LOCUS_ENGINE_RTREE_RANGE_WALK_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef LOCUS_ENGINE_RTREE_RANGE_WALK_INL_H_
#undef LOCUS_ENGINE_RTREE_RANGE_WALK_INL_H_
#else
#define LOCUS_ENGINE_RTREE_RANGE_WALK_INL_H_
#endif

#include <cstddef>
#include <cstdint>

#include "engine/rtree_layout.h"
#include "engine/rtree_range_walk.h"
#include "engine/rtree_walk-inl.h"  // ChildMask, FilterWalk, WithNodeSize
#include "hwy/highway.h"
#include "kernels/box_mask-inl.h"
#include "kernels/point_filter-inl.h"  // BoxPred2/3: point leaves
#include "kernels/types.h"

HWY_BEFORE_NAMESPACE();
namespace locus::engine {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;
namespace hk = locus::kernels::HWY_NAMESPACE;

// The mask of the node_size level-0 children at `slot` of a points layout (l.points) inside
// the closed query: reads only min[], and equals ChildMask<false> there (padding is +inf).
template <typename T>
HWY_INLINE uint64_t PointMask(const RTreeLayout<2, T>& l, size_t ns, uint64_t slot,
                              const kernels::Box2T<T>& q) {
  uint64_t bits = 0;
  hk::FilterBits(hn::ScalableTag<T>(), ns, hk::BoxPred2<T>{l.min[0] + slot, l.min[1] + slot, q},
                 &bits, static_cast<T*>(nullptr));
  return bits;
}
template <typename T>
HWY_INLINE uint64_t PointMask(const RTreeLayout<3, T>& l, size_t ns, uint64_t slot,
                              const kernels::Box3T<T>& q) {
  uint64_t bits = 0;
  hk::FilterBits(hn::ScalableTag<T>(), ns,
                 hk::BoxPred3<T>{l.min[0] + slot, l.min[1] + slot, l.min[2] + slot, q}, &bits,
                 static_cast<T*>(nullptr));
  return bits;
}

// The overlap mask of the children at `slot` of level `child_level`.
template <int kDims, typename T, class QBox>
HWY_INLINE uint64_t OverlapMask(const RTreeLayout<kDims, T>& l, size_t ns, uint32_t child_level,
                                uint64_t slot, const QBox& q) {
  return child_level == 0 && l.points ? PointMask(l, ns, slot, q)
                                      : ChildMask<false>(l, ns, slot, q);
}

// Range query predicates: box overlap, and box inside the query.
template <uint32_t kNs, int kDims, typename T, class QBox>
struct RangePreds {
  const RTreeLayout<kDims, T>& l;
  const QBox& q;
  HWY_INLINE uint64_t Overlap(uint32_t child_level, uint64_t slot) const {
    return OverlapMask(l, kNs != 0 ? kNs : l.node_size, child_level, slot, q);
  }
  HWY_INLINE uint64_t Inside(uint32_t /*child_level*/, uint64_t slot) const {
    return ChildMask<true>(l, kNs != 0 ? kNs : l.node_size, slot, q);
  }
};

template <uint32_t kNs, int kDims, typename T, class QBox>
HWY_INLINE internal::RangeResult RangeWalk(const RTreeLayout<kDims, T>& l, const QBox& q,
                                           internal::RangeMode mode, IdBatchSink* sink) {
  return FilterWalk<kNs>(l, RangePreds<kNs, kDims, T, QBox>{l, q}, mode, sink);
}

template <int kDims, typename T, class QBox>
HWY_INLINE internal::RangeResult RangeQueryT(const RTreeLayout<kDims, T>& l, const QBox& q,
                                             internal::RangeMode mode, IdBatchSink* sink) {
  if (l.num_levels == 0 || l.num_items == 0) return {};
  return WithNodeSize(l.node_size, [&](auto ns) HWY_ATTR {
    return RangeWalk<decltype(ns)::value>(l, q, mode, sink);
  });
}

}  // namespace HWY_NAMESPACE
}  // namespace locus::engine
HWY_AFTER_NAMESPACE();

#endif  // include guard
