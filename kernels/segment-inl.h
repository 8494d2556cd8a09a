// Per-target implementation of kernels/segment.h (path segments vs a box or a circle during
// a time window). Included once per Highway target by segment.cc.
//
// Shape: a predicate object produces the mask of the Lanes(d) segments at i from samples
// i (LoadU at i) and i + 1 (LoadU at i + 1); SegmentBits drives it over the segments into
// bit words and a count. Each predicate first evaluates the cheap, exact parts of the
// definition and returns as soon as no lane is left: the region's bounding-box step (x and y
// only; most vectors of a typical query stop here, before the times are even loaded), then
// the time overlap and finiteness; only then any division or square root. The window's s-range
// needs two int64 -> double conversions and two divisions per lane, but only the segments that hold
// t_lo or t_hi (at most two per sorted path) are cut by the window; a vector whose candidate
// segments all lie inside the window uses s-range [0, 1], which is exactly what the divisions give
// for them.
//
// Every operation mirrors the scalar definition in segment.h one for one. min / max are
// compare-and-select (a < b ? a : b); on x86 that is exactly what minpd / maxpd compute
// (the second operand when either is NaN or both are zero), so those targets use hn::Min /
// hn::Max, and the others select explicitly. The only fused multiply-adds in the object code
// are Highway's own uint64 -> double conversion on AVX2 (2^32 * hi + lo, whose product is
// exact, so it rounds once, like the scalar conversion); -ffp-contract=off keeps the
// compiler from fusing anything else.

#if defined(LOCUS_KERNELS_SEGMENT_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef LOCUS_KERNELS_SEGMENT_INL_H_
#undef LOCUS_KERNELS_SEGMENT_INL_H_
#else
#define LOCUS_KERNELS_SEGMENT_INL_H_
#endif

#include <cstddef>
#include <cstdint>
#include <limits>

#include "hwy/highway.h"
#include "kernels/point_filter-inl.h"
#include "kernels/segment.h"

HWY_BEFORE_NAMESPACE();
namespace locus::kernels {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// min(a, b) = a < b ? a : b and max(a, b) = a > b ? a : b (segment.h's definitions).
template <class V>
HWY_INLINE V SegMinV(V a, V b) {
#if HWY_ARCH_X86 && HWY_TARGET != HWY_SCALAR && HWY_TARGET != HWY_EMU128
  return hn::Min(a, b);  // minpd(a, b): a < b ? a : b
#else
  return hn::IfThenElse(hn::Lt(a, b), a, b);
#endif
}
template <class V>
HWY_INLINE V SegMaxV(V a, V b) {
#if HWY_ARCH_X86 && HWY_TARGET != HWY_SCALAR && HWY_TARGET != HWY_EMU128
  return hn::Max(a, b);  // maxpd(a, b): a > b ? a : b
#else
  return hn::IfThenElse(hn::Gt(a, b), a, b);
#endif
}

// |v| <= DBL_MAX: false for NaN and +-inf.
template <class D, class V = hn::Vec<D>>
HWY_INLINE hn::Mask<D> FiniteV(D d, V v) {
  return hn::Le(hn::Abs(v), hn::Set(d, std::numeric_limits<double>::max()));
}

// The samples of the Lanes(d) segments at i, and the parts of the definition every region
// shares: the time overlap (window meets [t0, t1], t0 < t1) and finiteness (x0, y0, dx, dy).
// The times are loaded only by Valid(), after the region's bounding-box step has found a
// candidate lane (most vectors stop before).
template <class D>
struct SegmentLanes {
  using V = hn::Vec<D>;
  using VI = hn::Vec<hn::RebindToSigned<D>>;
  const int64_t* HWY_RESTRICT t;
  size_t i;
  V x0, y0, x1, y1;
  VI t0, t1;  // set by Valid()

  HWY_INLINE SegmentLanes(D d, const int64_t* HWY_RESTRICT t_in, const double* HWY_RESTRICT x,
                          const double* HWY_RESTRICT y, size_t i_in)
      : t(t_in),
        i(i_in),
        x0(hn::LoadU(d, x + i_in)),
        y0(hn::LoadU(d, y + i_in)),
        x1(hn::LoadU(d, x + i_in + 1)),
        y1(hn::LoadU(d, y + i_in + 1)) {}

  V Dx() const { return hn::Sub(x1, x0); }
  V Dy() const { return hn::Sub(y1, y0); }

  // t0 < t1, t_lo <= t1, t0 <= t_hi (t_lo <= t_hi is checked once per call), and x0, y0,
  // dx, dy finite. int64 has only < and > on every target.
  HWY_INLINE hn::Mask<D> Valid(D d, const SegmentWindow& w) {
    const hn::RebindToSigned<D> di;
    t0 = hn::LoadU(di, t + i);
    t1 = hn::LoadU(di, t + i + 1);
    const auto t_lo = hn::Set(di, w.t_lo), t_hi = hn::Set(di, w.t_hi);
    const auto time_ok = hn::AndNot(hn::Or(hn::Lt(t1, t_lo), hn::Gt(t0, t_hi)), hn::Lt(t0, t1));
    const auto finite = hn::And(hn::And(FiniteV(d, x0), FiniteV(d, y0)),
                                hn::And(FiniteV(d, Dx()), FiniteV(d, Dy())));
    return hn::And(hn::RebindMask(d, time_ok), finite);
  }

  // The window as the s-range [s_lo, s_hi] of each lane (segment.h, SegmentWindowToS),
  // meaningful on the lanes of `cand` (which overlap the window).
  HWY_INLINE void WindowToS(D d, const SegmentWindow& w, hn::Mask<D> cand, V* s_lo, V* s_hi) const {
    const hn::RebindToSigned<D> di;
    const hn::RebindToUnsigned<D> du;
    const auto t_lo = hn::Set(di, w.t_lo), t_hi = hn::Set(di, w.t_hi);
    // Lanes cut by the window: t0 < t_lo or t1 > t_hi. When no candidate is cut, the
    // divisions would give exactly 0 / dt = 0 and dt / dt = 1.
    const auto cut = hn::RebindMask(d, hn::Or(hn::Lt(t0, t_lo), hn::Gt(t1, t_hi)));
    if (hn::AllFalse(d, hn::And(cut, cand))) {
      *s_lo = hn::Zero(d);
      *s_hi = hn::Set(d, 1.0);
      return;
    }
    const auto lo = hn::IfThenElse(hn::Gt(t_lo, t0), t_lo, t0);
    const auto hi = hn::IfThenElse(hn::Lt(t_hi, t1), t_hi, t1);
    // Differences in uint64: exact integers in [0, 2^64) for the candidate lanes.
    const auto u0 = hn::BitCast(du, t0);
    const auto dt = hn::ConvertTo(d, hn::Sub(hn::BitCast(du, t1), u0));
    *s_lo = hn::Div(hn::ConvertTo(d, hn::Sub(hn::BitCast(du, lo), u0)), dt);
    *s_hi = hn::Div(hn::ConvertTo(d, hn::Sub(hn::BitCast(du, hi), u0)), dt);
  }
};

// One axis of the slab test over s (segment.h, SegmentBoxInterval step 5): lanes with
// d == 0 keep their range (their position was checked by the bounding-box step).
template <class D, class V = hn::Vec<D>>
HWY_INLINE void SegmentSlab(D d, V o, V dir, V lo, V hi, V& s_near, V& s_far) {
  const V t1 = hn::Div(hn::Sub(lo, o), dir);
  const V t2 = hn::Div(hn::Sub(hi, o), dir);
  const auto moving = hn::Ne(dir, hn::Zero(d));
  s_near = hn::IfThenElse(moving, SegMaxV(s_near, SegMinV(t1, t2)), s_near);
  s_far = hn::IfThenElse(moving, SegMinV(s_far, SegMaxV(t1, t2)), s_far);
}

// Segments inside a box during a window. REQUIRES: the box and the window are valid
// (checked once per call by the entry point).
struct SegmentBoxPred {
  const int64_t* HWY_RESTRICT t;
  const double* HWY_RESTRICT x;
  const double* HWY_RESTRICT y;
  SegmentBox box;
  SegmentWindow w;

  template <class D>
  HWY_INLINE hn::Mask<D> operator()(D d, size_t i) const {
    SegmentLanes<D> s(d, t, x, y, i);
    const auto min_x = hn::Set(d, box.min_x), max_x = hn::Set(d, box.max_x);
    const auto min_y = hn::Set(d, box.min_y), max_y = hn::Set(d, box.max_y);
    // Step 4: the segment's bounding box meets the box.
    const auto bbox =
        hn::And(hn::And(hn::Le(SegMinV(s.x0, s.x1), max_x), hn::Ge(SegMaxV(s.x0, s.x1), min_x)),
                hn::And(hn::Le(SegMinV(s.y0, s.y1), max_y), hn::Ge(SegMaxV(s.y0, s.y1), min_y)));
    if (hn::AllFalse(d, bbox)) return bbox;
    const auto cand = hn::And(s.Valid(d, w), bbox);
    if (hn::AllFalse(d, cand)) return cand;
    hn::Vec<D> s_near, s_far;
    s.WindowToS(d, w, cand, &s_near, &s_far);
    SegmentSlab(d, s.x0, s.Dx(), min_x, max_x, s_near, s_far);
    SegmentSlab(d, s.y0, s.Dy(), min_y, max_y, s_near, s_far);
    return hn::And(cand, hn::Le(s_near, s_far));
  }
};

// Segments inside a disc during a window. REQUIRES: the circle and the window are valid
// (checked once per call by the entry point).
struct SegmentCirclePred {
  const int64_t* HWY_RESTRICT t;
  const double* HWY_RESTRICT x;
  const double* HWY_RESTRICT y;
  double cx, cy, r_sq;
  SegmentWindow w;

  template <class D>
  HWY_INLINE hn::Mask<D> operator()(D d, size_t i) const {
    using V = hn::Vec<D>;
    SegmentLanes<D> s(d, t, x, y, i);
    const V vcx = hn::Set(d, cx), vcy = hn::Set(d, cy), vr_sq = hn::Set(d, r_sq);
    const V zero = hn::Zero(d);
    // Step 4: squared distance from the centre to the segment's bounding box.
    const V gx = SegMaxV(
        SegMaxV(hn::Sub(SegMinV(s.x0, s.x1), vcx), hn::Sub(vcx, SegMaxV(s.x0, s.x1))), zero);
    const V gy = SegMaxV(
        SegMaxV(hn::Sub(SegMinV(s.y0, s.y1), vcy), hn::Sub(vcy, SegMaxV(s.y0, s.y1))), zero);
    const auto near = hn::Le(hn::Add(hn::Mul(gx, gx), hn::Mul(gy, gy)), vr_sq);
    if (hn::AllFalse(d, near)) return near;
    const auto cand = hn::And(s.Valid(d, w), near);
    if (hn::AllFalse(d, cand)) return cand;
    V s_lo, s_hi;
    s.WindowToS(d, w, cand, &s_lo, &s_hi);
    // Step 5.
    const V ox = hn::Sub(s.x0, vcx), oy = hn::Sub(s.y0, vcy);
    const V dx = s.Dx(), dy = s.Dy();
    const V a = hn::Add(hn::Mul(dx, dx), hn::Mul(dy, dy));
    const V b = hn::Mul(hn::Set(d, 2.0), hn::Add(hn::Mul(dx, ox), hn::Mul(dy, oy)));
    const V c = hn::Sub(hn::Add(hn::Mul(ox, ox), hn::Mul(oy, oy)), vr_sq);
    // Step 6 (both branches computed; lanes select).
    const V inf = hn::Set(d, std::numeric_limits<double>::infinity());
    const V neg_inf = hn::Neg(inf);
    const auto in0 = hn::Le(c, zero);
    const V disc = hn::Sub(hn::Mul(b, b), hn::Mul(hn::Mul(hn::Set(d, 4.0), a), c));
    const V sq = hn::Sqrt(disc);
    const V q =
        hn::Mul(hn::Set(d, -0.5), hn::IfThenElse(hn::Ge(b, zero), hn::Add(b, sq), hn::Sub(b, sq)));
    const V r1 = hn::Div(q, a);
    const V r2 = hn::IfThenElse(hn::Ne(q, zero), hn::Div(c, q), r1);
    const auto stationary = hn::Eq(a, zero);
    const auto real = hn::AndNot(stationary, hn::Ge(disc, zero));
    const auto all = hn::And(stationary, in0);
    V s_enter = hn::IfThenElse(real, SegMinV(r1, r2), hn::IfThenElse(all, neg_inf, inf));
    V s_exit = hn::IfThenElse(real, SegMaxV(r1, r2), hn::IfThenElse(all, inf, neg_inf));
    // Step 7: the endpoints.
    s_enter = hn::IfThenElse(in0, SegMinV(s_enter, zero), s_enter);
    s_exit = hn::IfThenElse(in0, SegMaxV(s_exit, zero), s_exit);
    const V ex = hn::Sub(s.x1, vcx), ey = hn::Sub(s.y1, vcy);
    const auto in1 = hn::Le(hn::Add(hn::Mul(ex, ex), hn::Mul(ey, ey)), vr_sq);
    const V one = hn::Set(d, 1.0);
    s_enter = hn::IfThenElse(in1, SegMinV(s_enter, one), s_enter);
    s_exit = hn::IfThenElse(in1, SegMaxV(s_exit, one), s_exit);
    // Step 8.
    return hn::And(cand, hn::Le(SegMaxV(s_lo, s_enter), SegMinV(s_hi, s_exit)));
  }
};

// Drives `pred` over `segments` segments: writes ceil(segments / 64) words to out_bits
// (segment i in bit i % 64 of word i / 64; bits past `segments` are zero) and returns the
// number of bits set. The predicate reads samples up to i + Lanes(d) for the vector at i,
// inside the padding; the one partial tail vector is masked with FirstN.
template <class D, class Pred>
HWY_INLINE size_t SegmentBits(D d, size_t segments, const Pred& pred,
                              uint64_t* HWY_RESTRICT out_bits) {
  static_assert(hn::MaxLanes(D()) <= 64, "lane count must divide 64");
  const size_t N = hn::Lanes(d);
  uint64_t word = 0;
  size_t count = 0;
  size_t i = 0;
  for (; i + N <= segments; i += N) {
    word |= MaskBits(d, pred(d, i)) << (i % 64);
    if ((i + N) % 64 == 0) {
      out_bits[i / 64] = word;
      count += static_cast<size_t>(hwy::PopCount(word));
      word = 0;
    }
  }
  if (i < segments) {
    word |= MaskBits(d, hn::And(pred(d, i), hn::FirstN(d, segments - i))) << (i % 64);
  }
  if (segments % 64 != 0) {
    out_bits[segments / 64] = word;
    count += static_cast<size_t>(hwy::PopCount(word));
  }
  return count;
}

HWY_INLINE size_t ClearSegmentBits(size_t segments, uint64_t* out_bits) {
  for (size_t k = 0; k < (segments + 63) / 64; ++k) out_bits[k] = 0;
  return 0;
}

HWY_INLINE size_t SegmentsInBoxImpl(const int64_t* t, const double* x, const double* y, size_t n,
                                    const SegmentBox& box, const SegmentWindow& w,
                                    uint64_t* out_bits) {
  const size_t segments = n < 2 ? 0 : n - 1;
  if (!(w.t_lo <= w.t_hi && box.min_x <= box.max_x && box.min_y <= box.max_y)) {
    return ClearSegmentBits(segments, out_bits);
  }
  const SegmentBoxPred pred{t, x, y, box, w};
  return SegmentBits(hn::ScalableTag<double>(), segments, pred, out_bits);
}

HWY_INLINE size_t SegmentsInCircleImpl(const int64_t* t, const double* x, const double* y, size_t n,
                                       double cx, double cy, double r_sq, const SegmentWindow& w,
                                       uint64_t* out_bits) {
  const size_t segments = n < 2 ? 0 : n - 1;
  constexpr double kMax = std::numeric_limits<double>::max();
  if (!(w.t_lo <= w.t_hi && internal::SegFinite(cx, cy) && r_sq >= 0 && r_sq <= kMax)) {
    return ClearSegmentBits(segments, out_bits);
  }
  const SegmentCirclePred pred{t, x, y, cx, cy, r_sq, w};
  return SegmentBits(hn::ScalableTag<double>(), segments, pred, out_bits);
}

}  // namespace HWY_NAMESPACE
}  // namespace locus::kernels
HWY_AFTER_NAMESPACE();

#endif  // include guard
