// Per-target implementation of kernels/box_mask.h (box overlap / contains masks), plus the
// bit-mask driver FilterBits that kernels/ray-inl.h reuses. Included once per Highway target
// by box_mask.cc (and ray.cc, for FilterBits).
//
// Shape: a predicate object produces a mask for the Lanes(d) children at i; the id and count
// drivers are the ones in point_filter-inl.h (no row filter), the bit driver is below. Every
// child-box test carries an explicit validity compare (min <= max per axis), because the
// overlap and contains compares alone would accept crossed boxes and the +inf/-inf sentinel.

#if defined(LOCUS_KERNELS_BOX_MASK_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef LOCUS_KERNELS_BOX_MASK_INL_H_
#undef LOCUS_KERNELS_BOX_MASK_INL_H_
#else
#define LOCUS_KERNELS_BOX_MASK_INL_H_
#endif

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "hwy/highway.h"
#include "kernels/point_filter-inl.h"
#include "kernels/types.h"

HWY_BEFORE_NAMESPACE();
namespace locus::kernels {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Drives `pred` over n rows and writes its mask as ceil(n / 64) words to out_bits (row i in
// bit i % 64 of word i / 64; bits past n are zero), and, when out_values is not null, the
// predicate's value for every row to out_values[0, n). Writes nothing outside those ranges.
template <class D, class Pred>
HWY_INLINE void FilterBits(D d, size_t n, const Pred& pred, uint64_t* HWY_RESTRICT out_bits,
                           hn::TFromD<D>* HWY_RESTRICT out_values) {
  // A vector's bits must land inside one word: true for every power-of-two lane count <= 64.
  static_assert(hn::MaxLanes(D()) <= 64, "lane count must divide 64");
  const size_t N = hn::Lanes(d);
  uint64_t word = 0;
  size_t i = 0;
  for (; i + N <= n; i += N) {
    hn::Vec<D> values;
    const auto m = pred(d, i, &values);
    if (out_values) hn::StoreU(values, d, out_values + i);
    word |= MaskBits(d, m) << (i % 64);
    if ((i + N) % 64 == 0) {
      out_bits[i / 64] = word;
      word = 0;
    }
  }
  if (i < n) {
    hn::Vec<D> values;
    const auto m = hn::And(pred(d, i, &values), hn::FirstN(d, n - i));
    if (out_values) {
      HWY_ALIGN hn::TFromD<D> lanes[hn::MaxLanes(d)];
      hn::Store(values, d, lanes);
      std::memcpy(out_values + i, lanes, (n - i) * sizeof(lanes[0]));
    }
    word |= MaskBits(d, m) << (i % 64);
  }
  if (n % 64 != 0) out_bits[n / 64] = word;
}

// ---- predicates ----------------------------------------------------------------------
// All take the query by value (broadcast once per call, hoisted out of the loop).

// The closed child interval [lo, hi] is valid and meets [q_lo, q_hi].
template <class D, class V>
HWY_INLINE hn::Mask<D> AxisOverlaps(D /*d*/, V lo, V hi, V q_lo, V q_hi) {
  return hn::And(hn::Le(lo, hi), hn::And(hn::Le(lo, q_hi), hn::Le(q_lo, hi)));
}
// The closed child interval [lo, hi] is valid and lies inside [q_lo, q_hi].
template <class D, class V>
HWY_INLINE hn::Mask<D> AxisInside(D /*d*/, V lo, V hi, V q_lo, V q_hi) {
  return hn::And(hn::Le(lo, hi), hn::And(hn::Le(q_lo, lo), hn::Le(hi, q_hi)));
}

template <typename T, bool kInside>
struct BoxBoxPred2 {
  const T* HWY_RESTRICT min_x;
  const T* HWY_RESTRICT min_y;
  const T* HWY_RESTRICT max_x;
  const T* HWY_RESTRICT max_y;
  Box2T<T> q;
  template <class D>
  HWY_INLINE hn::Mask<D> operator()(D d, size_t i, hn::Vec<D>* /*values*/) const {
    const auto lx = hn::LoadU(d, min_x + i), hx = hn::LoadU(d, max_x + i);
    const auto ly = hn::LoadU(d, min_y + i), hy = hn::LoadU(d, max_y + i);
    if constexpr (kInside) {
      return hn::And(AxisInside(d, lx, hx, hn::Set(d, q.min_x), hn::Set(d, q.max_x)),
                     AxisInside(d, ly, hy, hn::Set(d, q.min_y), hn::Set(d, q.max_y)));
    } else {
      return hn::And(AxisOverlaps(d, lx, hx, hn::Set(d, q.min_x), hn::Set(d, q.max_x)),
                     AxisOverlaps(d, ly, hy, hn::Set(d, q.min_y), hn::Set(d, q.max_y)));
    }
  }
};

template <typename T, bool kInside>
struct BoxBoxPred3 {
  const T* HWY_RESTRICT min_x;
  const T* HWY_RESTRICT min_y;
  const T* HWY_RESTRICT min_z;
  const T* HWY_RESTRICT max_x;
  const T* HWY_RESTRICT max_y;
  const T* HWY_RESTRICT max_z;
  Box3T<T> q;
  template <class D>
  HWY_INLINE hn::Mask<D> operator()(D d, size_t i, hn::Vec<D>* /*values*/) const {
    const auto lx = hn::LoadU(d, min_x + i), hx = hn::LoadU(d, max_x + i);
    const auto ly = hn::LoadU(d, min_y + i), hy = hn::LoadU(d, max_y + i);
    const auto lz = hn::LoadU(d, min_z + i), hz = hn::LoadU(d, max_z + i);
    if constexpr (kInside) {
      return hn::And(
          hn::And(AxisInside(d, lx, hx, hn::Set(d, q.min_x), hn::Set(d, q.max_x)),
                  AxisInside(d, ly, hy, hn::Set(d, q.min_y), hn::Set(d, q.max_y))),
          AxisInside(d, lz, hz, hn::Set(d, q.min_z), hn::Set(d, q.max_z)));
    } else {
      return hn::And(
          hn::And(AxisOverlaps(d, lx, hx, hn::Set(d, q.min_x), hn::Set(d, q.max_x)),
                  AxisOverlaps(d, ly, hy, hn::Set(d, q.min_y), hn::Set(d, q.max_y))),
          AxisOverlaps(d, lz, hz, hn::Set(d, q.min_z), hn::Set(d, q.max_z)));
    }
  }
};

// A query matches nothing unless min <= max on every axis (false for NaN).
template <typename T>
HWY_INLINE bool QueryIsValid(const Box2T<T>& q) {
  return q.min_x <= q.max_x && q.min_y <= q.max_y;
}
template <typename T>
HWY_INLINE bool QueryIsValid(const Box3T<T>& q) {
  return q.min_x <= q.max_x && q.min_y <= q.max_y && q.min_z <= q.max_z;
}

// Drivers shared by the 2D and 3D, overlap and contains entry points.
template <class Pred, class Box>
HWY_INLINE size_t BoxMaskIds(size_t n, const Pred& pred, const Box& q, uint32_t id_base,
                             uint32_t* out_ids) {
  if (!QueryIsValid(q)) return 0;
  using T = decltype(q.min_x);
  return FilterIds<false>(hn::ScalableTag<T>(), n, pred, RowFilter(), id_base, out_ids,
                          static_cast<T*>(nullptr));
}
template <class Pred, class Box>
HWY_INLINE void BoxMaskBits(size_t n, const Pred& pred, const Box& q, uint64_t* out_bits) {
  if (!QueryIsValid(q)) {
    for (size_t w = 0; w < (n + 63) / 64; ++w) out_bits[w] = 0;
    return;
  }
  using T = decltype(q.min_x);
  FilterBits(hn::ScalableTag<T>(), n, pred, out_bits, static_cast<T*>(nullptr));
}
template <class Pred, class Box>
HWY_INLINE size_t BoxMaskCount(size_t n, const Pred& pred, const Box& q) {
  if (!QueryIsValid(q)) return 0;
  using T = decltype(q.min_x);
  return FilterCount<false>(hn::ScalableTag<T>(), n, pred, RowFilter());
}

}  // namespace HWY_NAMESPACE
}  // namespace locus::kernels
HWY_AFTER_NAMESPACE();

#endif  // include guard
