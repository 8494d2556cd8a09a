// Per-target raycast walks over a packed R-tree. Included once per Highway target by
// rtree_ray_walk.cc.
//
// Every walk tests the node_size children of one node per step with the kernels' bit-mask
// driver (box_mask-inl.h's FilterBits) and the kernels' slab test evaluated in f64 (f32
// columns are promoted on load, so f32 trees answer the f64 predicate on their stored boxes;
// ray-inl.h's SlabAxis / SetUpRay: the ray's reciprocal direction and parallel axes are set up
// once per query and the predicate is specialised on them). All hits: depth-first. Closest:
// best-first by entry t (a min-heap of nodes), with the running best as the ray's t_max, so
// later nodes and leaves farther than it fail the slab test itself; the walk ends when the
// nearest open node starts beyond the best. The per-box operations are those of
// kernels/ray.h's reference, in the same order, so results agree bit for bit.

#if defined(LOCUS_ENGINE_RTREE_RAY_WALK_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef LOCUS_ENGINE_RTREE_RAY_WALK_INL_H_
#undef LOCUS_ENGINE_RTREE_RAY_WALK_INL_H_
#else
#define LOCUS_ENGINE_RTREE_RAY_WALK_INL_H_
#endif

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <vector>

#include "engine/rtree_layout.h"
#include "engine/rtree_ray_walk.h"  // RayHit
#include "engine/rtree_walk-inl.h"  // LoadAsF64
#include "hwy/highway.h"
#include "kernels/box_mask-inl.h"
#include "kernels/ray-inl.h"
#include "kernels/ray.h"

HWY_BEFORE_NAMESPACE();
namespace locus::engine {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;
namespace hk = locus::kernels::HWY_NAMESPACE;

// The kernels' slab test (hk::RayPred) over the tree's columns from `base`, in f64.
template <typename T, int kDims, unsigned kParallel>
struct TreeRayPred {
  const T* lo[3];
  const T* hi[3];
  uint64_t base;
  hk::RayConsts<double> c;
  template <class D>
  HWY_INLINE hn::Mask<D> operator()(D d, size_t i, hn::Vec<D>* entry_t) const {
    const size_t k = base + i;
    auto t_near = hn::Set(d, c.t_min);
    auto t_far = hn::Set(d, c.t_max);
    auto ok = hn::FirstN(d, hn::Lanes(d));
    hk::SlabAxis<(kParallel & 1) != 0>(d, LoadAsF64(d, lo[0] + k), LoadAsF64(d, hi[0] + k),
                                       hn::Set(d, c.o[0]), hn::Set(d, c.inv[0]), t_near, t_far, ok);
    hk::SlabAxis<(kParallel & 2) != 0>(d, LoadAsF64(d, lo[1] + k), LoadAsF64(d, hi[1] + k),
                                       hn::Set(d, c.o[1]), hn::Set(d, c.inv[1]), t_near, t_far, ok);
    if constexpr (kDims == 3) {
      hk::SlabAxis<(kParallel & 4) != 0>(d, LoadAsF64(d, lo[2] + k), LoadAsF64(d, hi[2] + k),
                                         hn::Set(d, c.o[2]), hn::Set(d, c.inv[2]), t_near, t_far,
                                         ok);
    }
    *entry_t = hn::Add(t_near, hn::Zero(d));  // -0 -> +0
    return hn::And(ok, hn::Le(t_near, t_far));
  }
};

// Calls fn(pred) with the TreeRayPred specialised for the ray's parallel axes.
template <int kDims, typename T, class Ray, class Fn>
HWY_INLINE void WithTreeRayPred(const RTreeLayout<kDims, T>& l, const Ray& ray, const Fn& fn) {
  hk::RayConsts<double> c;
  unsigned parallel;
  if (!hk::SetUpRay(ray, &c, &parallel)) return;
  hk::WithParallelAxes<kDims>(parallel, [&](auto k) {
    constexpr unsigned kPar = decltype(k)::value;
    TreeRayPred<T, kDims, kPar> pred{{l.min[0], l.min[1], kDims == 3 ? l.min[kDims - 1] : nullptr},
                                     {l.max[0], l.max[1], kDims == 3 ? l.max[kDims - 1] : nullptr},
                                     0,
                                     c};
    fn(pred);
  });
}

// Runs pred over the node_size children at `slot`: returns the hit mask, entry t to t_out.
template <class Pred>
HWY_INLINE uint64_t RayChildren(Pred& pred, uint64_t slot, uint32_t node_size, double* t_out) {
  pred.base = slot;
  uint64_t bits = 0;
  hk::FilterBits(hn::ScalableTag<double>(), node_size, pred, &bits, t_out);
  return bits;
}

template <int kDims, typename T, class Ray>
HWY_INLINE void RayAllT(const RTreeLayout<kDims, T>& l, const Ray& ray, std::vector<RayHit>* out) {
  if (l.num_levels == 0 || l.num_items == 0) return;
  WithTreeRayPred(l, ray, [&](auto pred) {
    const uint64_t ns = l.node_size;
    struct Frame {
      uint32_t level, pos;
    };
    Frame stack[kMaxLevels * kMaxNodeSize];
    size_t top = 0;
    stack[top++] = {l.num_levels, 0};
    HWY_ALIGN double t[kMaxNodeSize];
    while (top > 0) {
      const Frame f = stack[--top];
      const uint32_t child_level = f.level - 1;
      const uint64_t first = uint64_t{f.pos} * ns;
      uint64_t bits = RayChildren(pred, l.level_begin[child_level] + first, l.node_size,
                                  child_level == 0 ? t : nullptr);
      if (child_level == 0) {
        for (; bits != 0; bits &= bits - 1) {
          const uint64_t j = hwy::Num0BitsBelowLS1Bit_Nonzero64(bits);
          out->push_back({l.ids[first + j], t[j]});
        }
        continue;
      }
      while (bits != 0) {  // pushed in reverse so they pop in ascending order
        const uint64_t j = 63 - hwy::Num0BitsAboveMS1Bit_Nonzero64(bits);
        bits &= ~(uint64_t{1} << j);
        stack[top++] = {child_level, static_cast<uint32_t>(first + j)};
      }
    }
  });
}

inline bool ExactHit(const Box2& b, const kernels::Ray2T<double>& r, double* t) {
  return kernels::reference::RayHitsBox2<double>(b.min.x, b.min.y, b.max.x, b.max.y, r, t);
}
inline bool ExactHit(const Box3& b, const kernels::Ray3T<double>& r, double* t) {
  return kernels::reference::RayHitsBox3<double>(b.min.x, b.min.y, b.min.z, b.max.x, b.max.y,
                                                 b.max.z, r, t);
}

template <int kDims, typename T, class Ray, class ItemBox>
HWY_INLINE bool RayFirstT(const RTreeLayout<kDims, T>& l, const Ray& ray,
                          const ItemBox* exact_items, RayHit* result) {
  if (l.num_levels == 0 || l.num_items == 0) return false;
  bool found = false;
  RayHit best;
  WithTreeRayPred(l, ray, [&](auto pred) {
    const uint64_t ns = l.node_size;
    struct Open {
      double t;  // lower bound of the entry t of every item below
      uint32_t level, pos;
    };
    // Min-heap on t (std heaps are max-heaps: invert the comparison).
    auto later = [](const Open& a, const Open& b) { return a.t > b.t; };
    std::vector<Open> heap;
    heap.reserve(64);
    heap.push_back({ray.t_min, l.num_levels, 0});
    HWY_ALIGN double t[kMaxNodeSize];
    while (!heap.empty()) {
      std::pop_heap(heap.begin(), heap.end(), later);
      const Open f = heap.back();
      heap.pop_back();
      if (found && f.t > best.t) break;  // every open node starts beyond the best
      const uint32_t child_level = f.level - 1;
      const uint64_t first = uint64_t{f.pos} * ns;
      uint64_t bits = RayChildren(pred, l.level_begin[child_level] + first, l.node_size, t);
      if (child_level == 0) {
        for (; bits != 0; bits &= bits - 1) {
          const uint64_t j = hwy::Num0BitsBelowLS1Bit_Nonzero64(bits);
          const uint32_t id = l.ids[first + j];
          double tj = t[j];
          if (exact_items != nullptr && !ExactHit(exact_items[id], ray, &tj)) continue;
          if (!found || tj < best.t || (tj == best.t && id < best.id)) {
            found = true;
            best = {id, tj};
            // Inclusive bound: a tie at best.t with a smaller id still passes.
            pred.c.t_max = std::min(pred.c.t_max, tj);
          }
        }
        continue;
      }
      for (; bits != 0; bits &= bits - 1) {
        const uint64_t j = hwy::Num0BitsBelowLS1Bit_Nonzero64(bits);
        heap.push_back({t[j], child_level, static_cast<uint32_t>(first + j)});
        std::push_heap(heap.begin(), heap.end(), later);
      }
    }
  });
  if (found) *result = best;
  return found;
}

}  // namespace HWY_NAMESPACE
}  // namespace locus::engine
HWY_AFTER_NAMESPACE();

#endif  // include guard
