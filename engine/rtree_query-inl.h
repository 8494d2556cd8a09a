// Per-target R-tree traversal loops. Included once per Highway target by rtree_query.cc;
// later query kinds (kNN, raycast, regions, joins) add their loops here or beside it and
// reuse the helpers.
//
// A range query is a depth-first walk with an explicit stack of nodes. For each node, one
// inlined kernel pass (box_mask-inl.h's FilterBits over the node_size child slots) yields the
// overlap mask; for inner nodes a second pass yields the "child inside the query" mask, and
// such children are swept: their leaves are a contiguous run of level-0 positions, so their
// ids are delivered straight from the tree's id array (kVisit) or counted by length (kCount)
// without testing a single box below them.

#if defined(LOCUS_ENGINE_RTREE_QUERY_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef LOCUS_ENGINE_RTREE_QUERY_INL_H_
#undef LOCUS_ENGINE_RTREE_QUERY_INL_H_
#else
#define LOCUS_ENGINE_RTREE_QUERY_INL_H_
#endif

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>

#include "engine/rtree_layout.h"
#include "engine/rtree_query.h"
#include "hwy/cache_control.h"
#include "hwy/highway.h"
#include "kernels/box_mask-inl.h"
#include "kernels/types.h"

HWY_BEFORE_NAMESPACE();
namespace locus::engine {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;
namespace hk = locus::kernels::HWY_NAMESPACE;

// ---- helpers shared by every tree walk (range here; kNN and ray/region include this) ----

// Loads Lanes(d) values of a T column as f64 (f32 promoted exactly).
template <class D, typename T>
HWY_INLINE hn::Vec<D> LoadAsF64(D d, const T* HWY_RESTRICT p) {
  if constexpr (std::is_same_v<T, double>) {
    return hn::LoadU(d, p);
  } else {
    return hn::PromoteTo(d, hn::LoadU(hn::Rebind<float, D>(), p));
  }
}

// leaves[k] = node_size^k, saturated: the level-0 run under one level-k position.
template <int kDims, typename T>
HWY_INLINE void LeafRuns(const RTreeLayout<kDims, T>& l, uint64_t* leaves) {
  leaves[0] = 1;
  for (uint32_t k = 1; k <= l.num_levels; ++k) {
    leaves[k] = leaves[k - 1] > (uint64_t{1} << 40) ? leaves[k - 1] : leaves[k - 1] * l.node_size;
  }
}

// The overlap / inside predicate over the child slots starting at `slot`.
template <bool kInside, typename T>
HWY_INLINE hk::BoxBoxPred2<T, kInside> ChildPred(const RTreeLayout<2, T>& l, uint64_t slot,
                                                 const kernels::Box2T<T>& q) {
  return {l.min[0] + slot, l.min[1] + slot, l.max[0] + slot, l.max[1] + slot, q};
}
template <bool kInside, typename T>
HWY_INLINE hk::BoxBoxPred3<T, kInside> ChildPred(const RTreeLayout<3, T>& l, uint64_t slot,
                                                 const kernels::Box3T<T>& q) {
  return {l.min[0] + slot, l.min[1] + slot, l.min[2] + slot,
          l.max[0] + slot, l.max[1] + slot, l.max[2] + slot, q};
}

// Returns the mask of the node_size children at `slot` that satisfy the predicate.
template <bool kInside, int kDims, typename T, class QBox>
HWY_INLINE uint64_t ChildMask(const RTreeLayout<kDims, T>& l, uint64_t slot, const QBox& q) {
  uint64_t bits = 0;
  hk::FilterBits(hn::ScalableTag<T>(), l.node_size, ChildPred<kInside>(l, slot, q), &bits,
                 static_cast<T*>(nullptr));
  return bits;
}

// Prefetches the node_size child slots at `slot` (every axis, min and max).
template <int kDims, typename T>
HWY_INLINE void PrefetchChildren(const RTreeLayout<kDims, T>& l, uint64_t slot) {
  const size_t bytes = l.node_size * sizeof(T);
  for (int a = 0; a < kDims; ++a) {
    for (size_t off = 0; off < bytes; off += 64) {
      hwy::Prefetch(reinterpret_cast<const char*>(l.min[a] + slot) + off);
      hwy::Prefetch(reinterpret_cast<const char*>(l.max[a] + slot) + off);
    }
  }
}

// Collects ids in a small buffer and hands batches to the sink; contiguous runs of the id
// array (swept subtrees) go to the sink directly.
class Emitter {
 public:
  explicit Emitter(IdBatchSink* sink) : sink_(sink) {}
  bool Add(uint32_t id) {
    buffer_[size_++] = id;
    return size_ < kCapacity || Flush();
  }
  bool AddRun(const uint32_t* ids, size_t n) {
    if (!Flush()) return false;
    delivered_ += n;
    return (*sink_)(std::span<const uint32_t>(ids, n));
  }
  bool Flush() {
    if (size_ == 0) return true;
    const size_t n = size_;
    size_ = 0;
    delivered_ += n;
    return (*sink_)(std::span<const uint32_t>(buffer_, n));
  }
  uint64_t delivered() const { return delivered_; }

 private:
  static constexpr size_t kCapacity = 256;
  IdBatchSink* sink_;
  uint32_t buffer_[kCapacity];
  size_t size_ = 0;
  uint64_t delivered_ = 0;
};

template <int kDims, typename T, class QBox>
HWY_INLINE internal::RangeResult RangeQueryT(const RTreeLayout<kDims, T>& l, const QBox& q,
                                             internal::RangeMode mode, IdBatchSink* sink) {
  using internal::RangeMode;
  internal::RangeResult result;
  if (l.num_levels == 0 || l.num_items == 0) return result;
  const uint64_t ns = l.node_size;
  uint64_t leaves[kMaxLevels + 1];
  LeafRuns(l, leaves);

  // A frame is a node: `level` >= 1 and its position there; its children are the node_size
  // slots of level - 1 starting at position pos * node_size.
  struct Frame {
    uint32_t level;
    uint32_t pos;
  };
  Frame stack[kMaxLevels * kMaxNodeSize];
  size_t top = 0;
  stack[top++] = {l.num_levels, 0};  // the virtual parent of the top level's first node_size slots
  Emitter emit(sink);
  uint64_t count = 0;

  while (top > 0) {
    const Frame f = stack[--top];
    const uint32_t child_level = f.level - 1;
    const uint64_t first = uint64_t{f.pos} * ns;  // first child's position in child_level
    const uint64_t slot = l.level_begin[child_level] + first;
    uint64_t overlap = ChildMask<false>(l, slot, q);
    if (overlap == 0) continue;

    if (child_level == 0) {  // children are items
      if (mode == RangeMode::kAny) return {false, 1};
      if (mode == RangeMode::kCount) {
        count += static_cast<uint64_t>(hwy::PopCount(overlap));
        continue;
      }
      for (; overlap != 0; overlap &= overlap - 1) {
        const uint64_t j = hwy::Num0BitsBelowLS1Bit_Nonzero64(overlap);
        if (!emit.Add(l.ids[first + j])) return {false, emit.delivered()};
      }
      continue;
    }

    const uint64_t inside = ChildMask<true>(l, slot, q);
    // Sweep children entirely inside the query: their leaves are contiguous.
    for (uint64_t bits = inside; bits != 0; bits &= bits - 1) {
      const uint64_t c = first + hwy::Num0BitsBelowLS1Bit_Nonzero64(bits);
      const uint64_t begin = c * leaves[child_level];
      const uint64_t end = std::min<uint64_t>(begin + leaves[child_level], l.num_items);
      if (mode == RangeMode::kAny) return {false, 1};
      if (mode == RangeMode::kCount) {
        count += end - begin;
      } else if (!emit.AddRun(l.ids + begin, static_cast<size_t>(end - begin))) {
        return {false, emit.delivered()};
      }
    }
    // Descend into the others, pushed in reverse so they pop in ascending order. Each
    // pushed node's child slots are prefetched now: a walk over a large tree is bound by
    // cache misses on those slots, and this overlaps them instead of taking them one pop at
    // a time.
    uint64_t descend = overlap & ~inside;
    while (descend != 0) {
      const uint64_t j = 63 - hwy::Num0BitsAboveMS1Bit_Nonzero64(descend);
      descend &= ~(uint64_t{1} << j);
      stack[top++] = {child_level, static_cast<uint32_t>(first + j)};
      PrefetchChildren(l, l.level_begin[child_level - 1] + (first + j) * ns);
    }
  }
  if (mode == RangeMode::kVisit) {
    if (!emit.Flush()) return {false, emit.delivered()};
    count = emit.delivered();
  }
  result.count = count;
  return result;
}

}  // namespace HWY_NAMESPACE
}  // namespace locus::engine
HWY_AFTER_NAMESPACE();

#endif  // include guard
