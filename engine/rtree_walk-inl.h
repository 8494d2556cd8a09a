// Per-target helpers shared by every tree walk (range, kNN and radius, ray, region, join;
// each family's rtree_<query>_walk-inl.h includes this file, which includes none of them),
// and FilterWalk, the depth-first walk behind range and radius queries. Included once per
// Highway target through those files.
//
// The helpers: f32 columns loaded as f64, the squared-gap-distance and box predicates over a
// node's child slots (one inlined kernel pass, box_mask-inl.h's FilterBits, per node), the
// leaf runs under a node (the leaves under any node are one contiguous run of level-0
// positions, so a node entirely inside a query is swept without tests), prefetches of child
// slots and ids, node sizes 16 and 32 as compile-time constants, and the id Emitter.

#if defined(LOCUS_ENGINE_RTREE_WALK_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef LOCUS_ENGINE_RTREE_WALK_INL_H_
#undef LOCUS_ENGINE_RTREE_WALK_INL_H_
#else
#define LOCUS_ENGINE_RTREE_WALK_INL_H_
#endif

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>

#include "engine/rtree_layout.h"
#include "engine/rtree_walk.h"  // KnnQuery, RangeMode, RangeResult
#include "hwy/cache_control.h"
#include "hwy/highway.h"
#include "kernels/box_mask-inl.h"
#include "kernels/types.h"

HWY_BEFORE_NAMESPACE();
namespace locus::engine {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;
namespace hk = locus::kernels::HWY_NAMESPACE;

// Loads Lanes(d) values of a T column as f64 (f32 promoted exactly).
template <class D, typename T>
HWY_INLINE hn::Vec<D> LoadAsF64(D d, const T* HWY_RESTRICT p) {
  if constexpr (std::is_same_v<T, double>) {
    return hn::LoadU(d, p);
  } else {
    return hn::PromoteTo(d, hn::LoadU(hn::Rebind<float, D>(), p));
  }
}

// FilterBits predicate over the child slots at `slot`: values = squared gap distance to the
// query, mask = valid child (min.x <= max.x, which rejects the +inf/-inf padding) with
// distance <= bound. kPoints: the children are level-0 slots of a points layout, so only
// min[] is read (max == min there); validity is then min.x < +inf, and every value equals
// what the box form computes (same operations on equal inputs).
template <int kDims, typename T, bool kPoints = false>
struct ChildGapSq {
  const RTreeLayout<kDims, T>* l;
  uint64_t slot;
  const internal::KnnQuery* q;
  double bound;
  template <class D>
  HWY_INLINE hn::Mask<D> operator()(D d, size_t i, hn::Vec<D>* values) const {
    const auto zero = hn::Zero(d);
    hn::Vec<D> d2;
    hn::Mask<D> valid;
    for (int a = 0; a < kDims; ++a) {
      const auto lo = LoadAsF64(d, l->min[a] + slot + i);
      const auto hi = kPoints ? lo : LoadAsF64(d, l->max[a] + slot + i);
      if (a == 0) valid = kPoints ? hn::Lt(lo, hn::Inf(d)) : hn::Le(lo, hi);
      const auto g = hn::Max(
          hn::Max(hn::Sub(lo, hn::Set(d, q->hi[a])), hn::Sub(hn::Set(d, q->lo[a]), hi)), zero);
      d2 = a == 0 ? hn::Mul(g, g) : hn::Add(d2, hn::Mul(g, g));
    }
    *values = d2;
    return hn::And(valid, hn::Le(d2, hn::Set(d, bound)));
  }
};

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
  return {l.min[0] + slot,
          l.min[1] + slot,
          l.min[2] + slot,
          l.max[0] + slot,
          l.max[1] + slot,
          l.max[2] + slot,
          q};
}

// Returns the mask of the node_size children at `slot` that satisfy the predicate.
template <bool kInside, int kDims, typename T, class QBox>
HWY_INLINE uint64_t ChildMask(const RTreeLayout<kDims, T>& l, size_t ns, uint64_t slot,
                              const QBox& q) {
  uint64_t bits = 0;
  hk::FilterBits(hn::ScalableTag<T>(), ns, ChildPred<kInside>(l, slot, q), &bits,
                 static_cast<T*>(nullptr));
  return bits;
}

// Prefetches the node_size child slots at `slot` (every axis; min and max, or min only when
// the children are points of a points layout).
template <int kDims, typename T>
HWY_INLINE void PrefetchChildren(const RTreeLayout<kDims, T>& l, size_t ns, uint64_t slot,
                                 bool min_only = false) {
  const size_t bytes = ns * sizeof(T);
  for (int a = 0; a < kDims; ++a) {
    for (size_t off = 0; off < bytes; off += 64) {
      hwy::Prefetch(reinterpret_cast<const char*>(l.min[a] + slot) + off);
      if (!min_only) hwy::Prefetch(reinterpret_cast<const char*>(l.max[a] + slot) + off);
    }
  }
}

// Calls fn(std::integral_constant<uint32_t, N>()) with N = node_size for the common sizes 16
// (the default) and 32, so that per-node loops see a constant trip count and unroll, and
// N = 0 (meaning: read l.node_size at run time) for any other size.
template <class Fn>
HWY_INLINE decltype(auto) WithNodeSize(uint32_t node_size, Fn&& fn) {
  switch (node_size) {
    case 16:
      return fn(std::integral_constant<uint32_t, 16>());
    case 32:
      return fn(std::integral_constant<uint32_t, 32>());
    default:
      return fn(std::integral_constant<uint32_t, 0>());
  }
}

// Prefetches the ids of the node_size items at level-0 position `pos`: reading them after
// the box test is otherwise a cache miss of its own (the id array is as random as the boxes).
template <int kDims, typename T>
HWY_INLINE void PrefetchIds(const RTreeLayout<kDims, T>& l, size_t ns, uint64_t pos) {
  const size_t bytes = ns * sizeof(uint32_t);
  for (size_t off = 0; off < bytes; off += 64) {
    hwy::Prefetch(reinterpret_cast<const char*>(l.ids + pos) + off);
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
  // Adds ids[j] for each set bit j of `bits` (j < ns): one compress-store per vector of ids
  // when ns is a multiple of the vector length, else one id at a time.
  bool AddMasked(const uint32_t* HWY_RESTRICT ids, size_t ns, uint64_t bits) {
    const hn::ScalableTag<uint32_t> du;
    const size_t N = hn::Lanes(du);
    if (ns % N != 0 || ns > kSlack) {
      for (; bits != 0; bits &= bits - 1) {
        if (!Add(ids[hwy::Num0BitsBelowLS1Bit_Nonzero64(bits)])) return false;
      }
      return true;
    }
    const uint64_t lane_mask = N >= 64 ? ~uint64_t{0} : (uint64_t{1} << N) - 1;
    for (size_t i = 0; i < ns; i += N) {
      const uint64_t b = (bits >> i) & lane_mask;
      if (b != 0) size_ += hk::CompressBitsStoreU(du, hn::LoadU(du, ids + i), b, buffer_ + size_);
    }
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
  static constexpr size_t kCapacity = 256;        // flush at or above this many
  static constexpr size_t kSlack = kMaxNodeSize;  // room for one AddMasked past kCapacity - 1
  IdBatchSink* sink_;
  uint32_t buffer_[kCapacity + kSlack];
  size_t size_ = 0;
  uint64_t delivered_ = 0;
};

// The depth-first walk behind range and radius queries, in tree (Hilbert) order. `preds`
// supplies two masks over the node_size child slots at `slot` of level `child_level`:
//   Overlap(child_level, slot): children that may hold matches (at level 0: the matches);
//   Inside(child_level, slot):  children (level >= 1) all of whose items match.
// Children inside are swept: their leaves are a contiguous run of level-0 positions, so their
// ids are delivered straight from the id array (kVisit) or counted by length (kCount) without
// testing a box below them. The others are descended into. For kVisit both kinds are pushed as
// frames (a sweep is a frame too), so ids come out in tree order.
template <uint32_t kNs, int kDims, typename T, class Preds>
HWY_INLINE internal::RangeResult FilterWalk(const RTreeLayout<kDims, T>& l, const Preds& preds,
                                            internal::RangeMode mode, IdBatchSink* sink) {
  using internal::RangeMode;
  const uint64_t ns = kNs != 0 ? kNs : l.node_size;
  uint64_t leaves[kMaxLevels + 1];
  LeafRuns(l, leaves);

  // A frame is a node: its level (>= 1) and position there; its children are the node_size
  // slots of level - 1 starting at position pos * node_size. With kSweep set in `level`, the
  // frame is instead a node (at any level) whose leaves are all delivered.
  constexpr uint32_t kSweep = 0x80000000u;
  struct Frame {
    uint32_t level;
    uint32_t pos;
  };
  Frame stack[kMaxLevels * kMaxNodeSize];
  size_t top = 0;
  stack[top++] = {l.num_levels, 0};  // the virtual parent of the top level's first node_size slots
  Emitter emit(sink);
  uint64_t count = 0;
  auto sweep_range = [&](uint32_t level, uint64_t c, uint64_t* begin, uint64_t* end) {
    *begin = c * leaves[level];
    *end = std::min<uint64_t>(*begin + leaves[level], l.num_items);
  };

  while (top > 0) {
    const Frame f = stack[--top];
    if (f.level & kSweep) {  // kVisit only
      uint64_t begin, end;
      sweep_range(f.level & ~kSweep, f.pos, &begin, &end);
      if (!emit.AddRun(l.ids + begin, static_cast<size_t>(end - begin))) {
        return {false, emit.delivered()};
      }
      continue;
    }
    const uint32_t child_level = f.level - 1;
    const uint64_t first = uint64_t{f.pos} * ns;  // first child's position in child_level
    const uint64_t slot = l.level_begin[child_level] + first;
    const uint64_t overlap = preds.Overlap(child_level, slot);
    if (overlap == 0) continue;

    if (child_level == 0) {  // children are items
      if (mode == RangeMode::kAny) return {false, 1};
      if (mode == RangeMode::kCount) {
        count += static_cast<uint64_t>(hwy::PopCount(overlap));
      } else if (!emit.AddMasked(l.ids + first, ns, overlap)) {
        return {false, emit.delivered()};
      }
      continue;
    }

    const uint64_t inside = preds.Inside(child_level, slot) & overlap;
    if (inside != 0 && mode != RangeMode::kVisit) {
      if (mode == RangeMode::kAny) return {false, 1};
      for (uint64_t bits = inside; bits != 0; bits &= bits - 1) {
        uint64_t begin, end;
        sweep_range(child_level, first + hwy::Num0BitsBelowLS1Bit_Nonzero64(bits), &begin, &end);
        count += end - begin;
      }
    }
    // Push in reverse so frames pop in ascending order. Each descended node's child slots
    // are prefetched now: a walk over a large tree is bound by cache misses on those slots,
    // and this overlaps them instead of taking them one pop at a time.
    uint64_t push = mode == RangeMode::kVisit ? overlap : overlap & ~inside;
    while (push != 0) {
      const uint64_t j = 63 - hwy::Num0BitsAboveMS1Bit_Nonzero64(push);
      const uint64_t bit = uint64_t{1} << j;
      push &= ~bit;
      if (inside & bit) {
        stack[top++] = {child_level | kSweep, static_cast<uint32_t>(first + j)};
        continue;
      }
      stack[top++] = {child_level, static_cast<uint32_t>(first + j)};
      PrefetchChildren(l, ns, l.level_begin[child_level - 1] + (first + j) * ns,
                       child_level == 1 && l.points);
      if (child_level == 1) PrefetchIds(l, ns, (first + j) * ns);
    }
  }
  internal::RangeResult result;
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
