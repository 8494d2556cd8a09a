// Per-target implementation of kernels/knn.h (squared distances and top-k selection).
// Included once per Highway target by knn.cc; other kernels may include it to reuse the
// distance functors and the top-k driver (namespace locus::kernels::HWY_NAMESPACE).
//
// Top-k shape: a distance functor produces the squared distances of the Lanes(d) points at
// i; the driver compares two vectors at a time against the broadcast pruning bound and, in
// the common case once the TopK is full, skips both with one AllFalse test. Only a vector
// with a candidate reads the row filter and pushes its candidate lanes (scalar) into the
// heap; then the bound is refreshed. The bound is conservative (never rejects a point that
// TopK::Push would keep), so the result equals pushing every point in order.

#if defined(LOCUS_KERNELS_KNN_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef LOCUS_KERNELS_KNN_INL_H_
#undef LOCUS_KERNELS_KNN_INL_H_
#else
#define LOCUS_KERNELS_KNN_INL_H_
#endif

#include <bit>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "hwy/highway.h"
#include "kernels/knn.h"
#include "kernels/point_filter-inl.h"  // RowMask, MaskBits
#include "kernels/types.h"

HWY_BEFORE_NAMESPACE();
namespace locus::kernels {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// ---- distance functors: the squared distances of the Lanes(d) points at i --------------

// dx*dx + dy*dy, in that order, separate multiply and add (-ffp-contract=off), exactly as
// the scalar reference.
template <typename T>
struct SqDist2 {
  const T* HWY_RESTRICT x;
  const T* HWY_RESTRICT y;
  T qx, qy;
  template <class D>
  HWY_INLINE hn::Vec<D> operator()(D d, size_t i) const {
    const auto dx = hn::Sub(hn::LoadU(d, x + i), hn::Set(d, qx));
    const auto dy = hn::Sub(hn::LoadU(d, y + i), hn::Set(d, qy));
    return hn::Add(hn::Mul(dx, dx), hn::Mul(dy, dy));
  }
};

// (dx*dx + dy*dy) + dz*dz.
template <typename T>
struct SqDist3 {
  const T* HWY_RESTRICT x;
  const T* HWY_RESTRICT y;
  const T* HWY_RESTRICT z;
  T qx, qy, qz;
  template <class D>
  HWY_INLINE hn::Vec<D> operator()(D d, size_t i) const {
    const auto dx = hn::Sub(hn::LoadU(d, x + i), hn::Set(d, qx));
    const auto dy = hn::Sub(hn::LoadU(d, y + i), hn::Set(d, qy));
    const auto dz = hn::Sub(hn::LoadU(d, z + i), hn::Set(d, qz));
    return hn::Add(hn::Add(hn::Mul(dx, dx), hn::Mul(dy, dy)), hn::Mul(dz, dz));
  }
};

// Precomputed distances.
template <typename T>
struct LoadDist {
  const T* HWY_RESTRICT dist;
  template <class D>
  HWY_INLINE hn::Vec<D> operator()(D d, size_t i) const {
    return hn::LoadU(d, dist + i);
  }
};

// Writes dist(d, i) for i in [0, n) to out: full vectors with StoreU, the partial tail lane
// by lane so nothing at or past out + n is written.
template <class D, class Dist>
HWY_INLINE void DistancesLoop(D d, size_t n, const Dist& dist, hn::TFromD<D>* HWY_RESTRICT out) {
  using T = hn::TFromD<D>;
  const size_t N = hn::Lanes(d);
  size_t i = 0;
  for (; i + 2 * N <= n; i += 2 * N) {
    hn::StoreU(dist(d, i), d, out + i);
    hn::StoreU(dist(d, i + N), d, out + i + N);
  }
  for (; i + N <= n; i += N) hn::StoreU(dist(d, i), d, out + i);
  if (i < n) {
    HWY_ALIGN T lanes[hn::MaxLanes(d)];
    hn::Store(dist(d, i), d, lanes);
    for (size_t j = 0; i + j < n; ++j) out[i + j] = lanes[j];
  }
}

// ---- top-k ------------------------------------------------------------------------------

// Returns the largest T below t, for a non-NaN t > -inf: std::nextafter(t, -inf) without
// the libm call (this runs once per kernel call, and the R-tree calls once per leaf).
template <typename T>
HWY_INLINE T NextBelow(T t) {
  using U = std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>;
  if (t == T(0)) return -std::numeric_limits<T>::denorm_min();  // +0 and -0
  U bits = std::bit_cast<U>(t);
  bits = t > T(0) ? bits - 1 : bits + 1;  // toward zero magnitude if positive, away if not
  return std::bit_cast<T>(bits);
}

// Returns the largest distance that can still enter `top` for candidates whose ids are all
// >= first_id. When `top` is full and its worst id is below first_id, a tie with the worst
// distance loses, so the bound is the next value below it (strict compare as a <= compare);
// this keeps duplicate-heavy data on the fast path. Otherwise the inclusive threshold.
// REQUIRES: top.k() > 0.
template <typename T>
HWY_INLINE T PruneBound(const TopK<T>& top, uint32_t first_id) {
  const T t = top.threshold();
  return top.full() && top.worst().id < first_id ? NextBelow(t) : t;
}

// Pushes the lanes of `values` selected by `m` (after the row filter, when kRows) into top
// as ids first_id + lane, in lane order. The slow path: runs only for vectors with a
// candidate.
template <bool kRows, class D>
HWY_INLINE void OfferLanes(D d, hn::Mask<D> m, hn::Vec<D> values, const RowFilter& rows,
                           size_t i, uint32_t first_id, TopK<hn::TFromD<D>>* top) {
  using T = hn::TFromD<D>;
  if constexpr (kRows) {
    m = hn::And(m, RowMask(d, rows, i));
    if (hn::AllFalse(d, m)) return;
  }
  HWY_ALIGN T lanes[hn::MaxLanes(d)];
  hn::Store(values, d, lanes);
  for (uint64_t bits = MaskBits(d, m); bits != 0; bits &= bits - 1) {
    const size_t lane = static_cast<size_t>(hwy::Num0BitsBelowLS1Bit_Nonzero64(bits));
    top->Push(lanes[lane], first_id + static_cast<uint32_t>(lane));
  }
}

// Offers (dist(d, i) lane, id_base + i + lane) for every i in [0, n) passing `rows` to top.
// Unrolled 2x: one AllFalse branch per 2 * Lanes(d) points on the fast path.
template <bool kRows, class D, class Dist>
HWY_INLINE void TopKLoop(D d, size_t n, const Dist& dist, const RowFilter& rows,
                         uint32_t id_base, TopK<hn::TFromD<D>>* top) {
  if (n == 0 || top->k() == 0) return;
  const size_t N = hn::Lanes(d);
  auto bound = hn::Set(d, PruneBound(*top, id_base));
  size_t i = 0;
  for (; i + 2 * N <= n; i += 2 * N) {
    const auto d0 = dist(d, i);
    const auto d1 = dist(d, i + N);
    const auto m0 = hn::Le(d0, bound);
    const auto m1 = hn::Le(d1, bound);
    if (HWY_LIKELY(hn::AllFalse(d, hn::Or(m0, m1)))) continue;
    const uint32_t id0 = id_base + static_cast<uint32_t>(i);
    OfferLanes<kRows>(d, m0, d0, rows, i, id0, top);
    // m1 was computed with the old bound: still conservative, Push decides.
    OfferLanes<kRows>(d, m1, d1, rows, i + N, id0 + static_cast<uint32_t>(N), top);
    bound = hn::Set(d, PruneBound(*top, id0 + static_cast<uint32_t>(2 * N)));
  }
  // At most one full and one partial vector remain; FirstN masks the padding lanes.
  for (; i < n; i += N) {
    const auto d0 = dist(d, i);
    const auto m0 = hn::And(hn::Le(d0, bound), hn::FirstN(d, n - i));
    if (hn::AllFalse(d, m0)) continue;
    const uint32_t id0 = id_base + static_cast<uint32_t>(i);
    OfferLanes<kRows>(d, m0, d0, rows, i, id0, top);
    bound = hn::Set(d, PruneBound(*top, id0 + static_cast<uint32_t>(N)));
  }
}

template <class D, class Dist>
HWY_INLINE void RunTopK(D d, size_t n, const Dist& dist, const RowFilter& rows, uint32_t id_base,
                        TopK<hn::TFromD<D>>* top) {
  if (rows.active()) {
    TopKLoop<true>(d, n, dist, rows, id_base, top);
  } else {
    TopKLoop<false>(d, n, dist, rows, id_base, top);
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace locus::kernels
HWY_AFTER_NAMESPACE();

#endif  // include guard
