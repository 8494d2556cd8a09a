// Per-target implementation of kernels/ray.h (slab test of one ray against SoA boxes).
// Included once per Highway target by ray.cc.
//
// Which axes are parallel (1 / d infinite) is known per call, so it is a template parameter
// (kParallel, bit a for axis a): the inner loop of a parallel axis is two compares of the
// position, and no lane ever evaluates inf * 0. Every non-parallel axis also checks
// min <= max explicitly, so invalid boxes are masked out whatever NaN convention the target's
// Min/Max follows; on the boxes that survive every t is a number, where all conventions agree
// up to the sign of a zero, which the final "+ 0" canonicalises (as the reference does).

#if defined(LOCUS_KERNELS_RAY_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef LOCUS_KERNELS_RAY_INL_H_
#undef LOCUS_KERNELS_RAY_INL_H_
#else
#define LOCUS_KERNELS_RAY_INL_H_
#endif

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "hwy/highway.h"
#include "kernels/box_mask-inl.h"
#include "kernels/point_filter-inl.h"
#include "kernels/ray.h"

HWY_BEFORE_NAMESPACE();
namespace locus::kernels {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// One axis of the slab test over Lanes(d) boxes. kPar: the axis is parallel to the ray.
template <bool kPar, class D, class V = hn::Vec<D>>
HWY_INLINE void SlabAxis(D /*d*/, V lo, V hi, V o, V inv, V& t_near, V& t_far,
                         hn::Mask<D>& ok) {
  if constexpr (kPar) {
    ok = hn::And(ok, hn::And(hn::Le(lo, o), hn::Le(o, hi)));
  } else {
    const V t1 = hn::Mul(hn::Sub(lo, o), inv);
    const V t2 = hn::Mul(hn::Sub(hi, o), inv);
    t_near = hn::Max(t_near, hn::Min(t1, t2));
    t_far = hn::Min(t_far, hn::Max(t1, t2));
    ok = hn::And(ok, hn::Le(lo, hi));
  }
}

// The per-call constants of a ray: origin, reciprocal direction, t range (2D uses [0, 2)).
template <typename T>
struct RayConsts {
  T o[3];
  T inv[3];
  T t_min, t_max;
};

// Mask and canonical entry t for the Lanes(d) boxes at i. kDims is 2 or 3; for 2D the z
// pointers are unused.
template <typename T, int kDims, unsigned kParallel>
struct RayPred {
  const T* HWY_RESTRICT lo[3];
  const T* HWY_RESTRICT hi[3];
  RayConsts<T> c;
  template <class D>
  HWY_INLINE hn::Mask<D> operator()(D d, size_t i, hn::Vec<D>* entry_t) const {
    auto t_near = hn::Set(d, c.t_min);
    auto t_far = hn::Set(d, c.t_max);
    auto ok = hn::FirstN(d, hn::Lanes(d));  // all true
    SlabAxis<(kParallel & 1) != 0>(d, hn::LoadU(d, lo[0] + i), hn::LoadU(d, hi[0] + i),
                                   hn::Set(d, c.o[0]), hn::Set(d, c.inv[0]), t_near, t_far, ok);
    SlabAxis<(kParallel & 2) != 0>(d, hn::LoadU(d, lo[1] + i), hn::LoadU(d, hi[1] + i),
                                   hn::Set(d, c.o[1]), hn::Set(d, c.inv[1]), t_near, t_far, ok);
    if constexpr (kDims == 3) {
      SlabAxis<(kParallel & 4) != 0>(d, hn::LoadU(d, lo[2] + i), hn::LoadU(d, hi[2] + i),
                                     hn::Set(d, c.o[2]), hn::Set(d, c.inv[2]), t_near, t_far,
                                     ok);
    }
    *entry_t = hn::Add(t_near, hn::Zero(d));  // -0 -> +0
    return hn::And(ok, hn::Le(t_near, t_far));
  }
};

// Closest hit: per vector, the lanes that hit and beat the running best (strictly: an equal
// t later in the scan has a larger id); among them the smallest t, then the lowest lane.
template <class D, class Pred>
HWY_INLINE bool ClosestHit(D d, size_t n, const Pred& pred, uint32_t id_base,
                           uint32_t* out_id, hn::TFromD<D>* out_t) {
  using T = hn::TFromD<D>;
  const size_t N = hn::Lanes(d);
  const auto inf = hn::Set(d, std::numeric_limits<T>::infinity());
  bool found = false;
  size_t best_i = 0;
  T best_t = 0;
  auto best = inf;  // broadcast of best_t once found
  for (size_t i = 0; i < n; i += N) {
    hn::Vec<D> t;
    auto m = pred(d, i, &t);
    if (i + N > n) m = hn::And(m, hn::FirstN(d, n - i));
    if (found) m = hn::And(m, hn::Lt(t, best));  // the running best as a shrinking bound
    if (hn::AllFalse(d, m)) continue;
    const auto t_min = hn::MinOfLanes(d, hn::IfThenElse(m, t, inf));
    const intptr_t lane = hn::FindFirstTrue(d, hn::And(m, hn::Eq(t, t_min)));
    found = true;
    best = t_min;
    best_t = hn::GetLane(t_min);
    best_i = i + static_cast<size_t>(lane);
  }
  if (found) {
    if (out_id) *out_id = id_base + static_cast<uint32_t>(best_i);
    if (out_t) *out_t = best_t;
  }
  return found;
}

// Reciprocal directions and the per-call parallel-axis bits; false if the ray is invalid.
template <typename T>
HWY_INLINE bool SetUpRay(const Ray2T<T>& r, RayConsts<T>* c, unsigned* parallel) {
  if (!(std::isfinite(r.ox) && std::isfinite(r.oy) && std::isfinite(r.dx) &&
        std::isfinite(r.dy) && !std::isnan(r.t_min) && !std::isnan(r.t_max))) {
    return false;
  }
  *c = RayConsts<T>{{r.ox, r.oy, 0}, {T(1) / r.dx, T(1) / r.dy, 0}, r.t_min, r.t_max};
  *parallel = (std::isinf(c->inv[0]) ? 1u : 0u) | (std::isinf(c->inv[1]) ? 2u : 0u);
  return true;
}
template <typename T>
HWY_INLINE bool SetUpRay(const Ray3T<T>& r, RayConsts<T>* c, unsigned* parallel) {
  if (!(std::isfinite(r.ox) && std::isfinite(r.oy) && std::isfinite(r.oz) &&
        std::isfinite(r.dx) && std::isfinite(r.dy) && std::isfinite(r.dz) &&
        !std::isnan(r.t_min) && !std::isnan(r.t_max))) {
    return false;
  }
  *c = RayConsts<T>{{r.ox, r.oy, r.oz},
                    {T(1) / r.dx, T(1) / r.dy, T(1) / r.dz},
                    r.t_min,
                    r.t_max};
  *parallel = (std::isinf(c->inv[0]) ? 1u : 0u) | (std::isinf(c->inv[1]) ? 2u : 0u) |
              (std::isinf(c->inv[2]) ? 4u : 0u);
  return true;
}

// Calls make(std::integral_constant<unsigned, parallel>()): turns the per-call mask of
// parallel axes (bit a = axis a) into a compile-time constant, once per call, so the slab
// loop is specialised. Bits beyond kDims are ignored. Shared with the engine's tree walks.
template <int kDims, class Make>
HWY_INLINE decltype(auto) WithParallelAxes(unsigned parallel, const Make& make) {
  switch (parallel) {
    case 0: return make(std::integral_constant<unsigned, 0>());
    case 1: return make(std::integral_constant<unsigned, 1>());
    case 2: return make(std::integral_constant<unsigned, 2>());
    case 3: return make(std::integral_constant<unsigned, 3>());
    case 4: return make(std::integral_constant<unsigned, kDims == 3 ? 4 : 0>());
    case 5: return make(std::integral_constant<unsigned, kDims == 3 ? 5 : 0>());
    case 6: return make(std::integral_constant<unsigned, kDims == 3 ? 6 : 0>());
    default: return make(std::integral_constant<unsigned, kDims == 3 ? 7 : 0>());
  }
}

// Calls fn(pred) with the RayPred specialised for `parallel` (once per call).
template <typename T, int kDims, class Fn>
HWY_INLINE auto WithRayPred(const T* const* lo, const T* const* hi, const RayConsts<T>& c,
                            unsigned parallel, const Fn& fn) {
  return WithParallelAxes<kDims>(parallel, [&](auto k) {
    constexpr unsigned kPar = decltype(k)::value;
    RayPred<T, kDims, kPar> pred{{lo[0], lo[1], lo[2]}, {hi[0], hi[1], hi[2]}, c};
    return fn(pred);
  });
}

// The three kernels over kDims-dimensional boxes given as lo[kDims] / hi[kDims] columns.
template <int kDims, typename T, class Ray>
HWY_INLINE size_t RayHitsImpl(const T* const* lo, const T* const* hi, size_t n, const Ray& ray,
                              uint32_t id_base, uint32_t* out_ids, T* out_t) {
  RayConsts<T> c;
  unsigned parallel;
  if (!SetUpRay(ray, &c, &parallel)) return 0;
  return WithRayPred<T, kDims>(lo, hi, c, parallel, [&](const auto& pred) {
    return FilterIds<false>(hn::ScalableTag<T>(), n, pred, RowFilter(), id_base, out_ids, out_t);
  });
}
template <int kDims, typename T, class Ray>
HWY_INLINE void RayHitMaskImpl(const T* const* lo, const T* const* hi, size_t n, const Ray& ray,
                               uint64_t* out_bits, T* out_entry_t) {
  RayConsts<T> c;
  unsigned parallel;
  if (!SetUpRay(ray, &c, &parallel)) {
    for (size_t w = 0; w < (n + 63) / 64; ++w) out_bits[w] = 0;
    return;
  }
  WithRayPred<T, kDims>(lo, hi, c, parallel, [&](const auto& pred) {
    FilterBits(hn::ScalableTag<T>(), n, pred, out_bits, out_entry_t);
    return 0;
  });
}
template <int kDims, typename T, class Ray>
HWY_INLINE bool RayClosestImpl(const T* const* lo, const T* const* hi, size_t n, const Ray& ray,
                               uint32_t id_base, uint32_t* out_id, T* out_t) {
  RayConsts<T> c;
  unsigned parallel;
  if (!SetUpRay(ray, &c, &parallel)) return false;
  return WithRayPred<T, kDims>(lo, hi, c, parallel, [&](const auto& pred) {
    return ClosestHit(hn::ScalableTag<T>(), n, pred, id_base, out_id, out_t);
  });
}

}  // namespace HWY_NAMESPACE
}  // namespace locus::kernels
HWY_AFTER_NAMESPACE();

#endif  // include guard
