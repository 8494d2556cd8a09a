// Moving-object segments vs a box or a circle during a time window (kernel family 9, issue 14):
// which segments of one object's path are inside the query region at some instant of the
// window. A path is its time-sorted samples (t_i, x_i, y_i); between samples i and i + 1 the
// object moves in a straight line at constant speed, and segment i is samples i and i + 1.
//
// Common contract for every function here:
// - Lanes: double only. Columns t (int64, ms), x, y of n samples, n >= 0; the segments are
//   i in [0, n - 1) (none when n < 2). REQUIRES: t strictly increasing. (A segment with
//   t_{i+1} <= t_i is never inside, so a violation cannot read out of bounds or crash; it
//   only makes that segment empty.)
// - Padding: every input column must be readable kColumnPaddingElements (16) elements past
//   n (kernels/column.h); padding values are never part of a result. No alignment is
//   required. The kernels load samples i and i + 1 with unaligned loads at offsets 0 and 1.
// - Output: bit i % 64 of out_bits[i / 64] is set iff segment i is inside; the kernels write
//   exactly ceil((n - 1) / 64) words (none when n < 2), bits past n - 1 zero, and return the
//   number of set bits. Outputs must not alias inputs.
// - Exact semantics: segment i is inside iff the inline function SegmentBoxInterval /
//   SegmentCircleInterval below returns true for it. Those functions are the definition: the
//   parameter interval [s_in, s_out] they return, s = (t - t_i) / (t_{i+1} - t_i) in [0, 1],
//   is what the engine uses to get the first instant inside (t_i + s_in * (t_{i+1} - t_i)).
//   Boundaries are inclusive everywhere: touching an edge or a corner, being tangent to the
//   circle, and an instant equal to t_lo or t_hi all count.
// - Exactness: every Highway target returns bit for bit what the scalar reference in
//   namespace `reference` returns, because the kernels evaluate exactly the operations listed
//   in the functions below, in that order, in IEEE double with round-to-nearest and no fused
//   multiply-add (kernels are compiled with -ffp-contract=off), and min / max are defined as
//   compare-and-select (min(a, b) = a < b ? a : b; max(a, b) = a > b ? a : b), not as the
//   target's min/max instructions, whose NaN and signed-zero conventions differ. Returned s
//   values are canonical (+0, never -0). The inline functions give these bits in any
//   translation unit compiled with -ffp-contract=off (locus::simd_options); elsewhere a
//   compiler allowed to contract a * b + c into an FMA may move them by an ulp.
// - Endpoints are exact: when the window contains t_i (t_{i+1}) and sample i (i + 1) is in
//   the region by the point predicates of point_filter.h (min <= x <= max on both axes;
//   (x - cx) * (x - cx) + (y - cy) * (y - cy) <= r_sq), the segment is inside and its
//   interval contains s = 0 (s = 1). So a window instant at a sample's time answers exactly
//   as a point query at that sample.
// - Non-finite input never hits: a segment with a NaN or infinite coordinate, or whose
//   displacement x_{i+1} - x_i or y_{i+1} - y_i overflows (both ends finite but more than
//   DBL_MAX apart), is never inside. A box with a NaN bound or min > max, a window with
//   t_lo > t_hi, a circle with a non-finite centre or an r_sq that is NaN, negative or
//   infinite match nothing. Box bounds may be infinite (an infinite box holds every finite
//   point); r_sq == 0 is the centre point alone.
// - Accuracy: the decisions between the endpoints follow rounded arithmetic, so a segment
//   that misses or grazes the region by a few ulps of its coordinates may go either way (the
//   same way on every target). The circle's discriminant b * b - (4 * a) * c cancels near
//   tangency: a pass whose squared distance from the centre is within about
//   1e-16 * (length + radius)^2 of r_sq may go either way, which matters only for segments
//   much longer than the radius. The quadratic squares coordinate differences: beyond about
//   1e153 they overflow and the interior of such a segment is not found (endpoints, like the
//   radius filter, then match only when their own squares stay finite).
//
// Thread safety: pure functions; safe to call concurrently.
#ifndef LOCUS_KERNELS_SEGMENT_H_
#define LOCUS_KERNELS_SEGMENT_H_

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>

namespace locus::kernels {

// A closed time window [t_lo, t_hi] in ms. Empty when t_lo > t_hi.
struct SegmentWindow {
  int64_t t_lo, t_hi;
};

// A closed box: a point is inside iff min_x <= x <= max_x and min_y <= y <= max_y.
struct SegmentBox {
  double min_x, min_y, max_x, max_y;
};

// Sets bit i of out_bits for every segment i of the path (t, x, y) of n samples that is
// inside `box` at some instant of [w.t_lo, w.t_hi] ∩ [t_i, t_{i+1}]; returns the number of
// bits set. out_bits has room for ceil((n - 1) / 64) words.
size_t SegmentsInBox(const int64_t* t, const double* x, const double* y, size_t n,
                     const SegmentBox& box, const SegmentWindow& w, uint64_t* out_bits);

// The same for the closed disc of centre (cx, cy) and squared radius r_sq.
size_t SegmentsInCircle(const int64_t* t, const double* x, const double* y, size_t n, double cx,
                        double cy, double r_sq, const SegmentWindow& w, uint64_t* out_bits);

namespace internal {

// The min / max of the contract (the kernels use the same compare-and-select).
inline double SegMin(double a, double b) { return a < b ? a : b; }
inline double SegMax(double a, double b) { return a > b ? a : b; }

// Both |v| <= DBL_MAX (false for NaN and +-inf).
inline bool SegFinite(double a, double b) {
  constexpr double kMax = std::numeric_limits<double>::max();
  return std::fabs(a) <= kMax && std::fabs(b) <= kMax;
}

// The window as an s-range of the segment [t0, t1]. False when t0 >= t1 or the window does
// not meet [t0, t1]. Otherwise, exactly:
//   lo = max(t_lo, t0), hi = min(t_hi, t1)                       (int64, so lo <= hi);
//   dt = double(t1 - t0), d_lo = double(lo - t0), d_hi = double(hi - t0), each difference
//     computed in uint64 (it is an exact integer in [0, 2^64)) and converted to double
//     rounded to nearest;
//   s_lo = d_lo / dt, s_hi = d_hi / dt                            (double).
// So s_lo, s_hi are in [0, 1] with no clamping needed (lo == t0 gives 0 and hi == t1 gives 1
// exactly; the rounding is monotonic). Any two int64 times work, however far apart (no
// overflow), with one rounding per conversion.
inline bool SegmentWindowToS(int64_t t0, int64_t t1, const SegmentWindow& w, double* s_lo,
                             double* s_hi) {
  if (!(t0 < t1 && w.t_lo <= w.t_hi && w.t_lo <= t1 && t0 <= w.t_hi)) return false;
  const int64_t lo = w.t_lo > t0 ? w.t_lo : t0;
  const int64_t hi = w.t_hi < t1 ? w.t_hi : t1;
  const double dt = static_cast<double>(static_cast<uint64_t>(t1) - static_cast<uint64_t>(t0));
  *s_lo = static_cast<double>(static_cast<uint64_t>(lo) - static_cast<uint64_t>(t0)) / dt;
  *s_hi = static_cast<double>(static_cast<uint64_t>(hi) - static_cast<uint64_t>(t0)) / dt;
  return true;
}

}  // namespace internal

// The sub-interval [s_in, s_out] of the segment's parameter s in [0, 1]
// (s = (t - t0) / (t1 - t0)) during which the point moving from (x0, y0) at t0 to (x1, y1)
// at t1 is inside the closed box and inside the window; false (outputs untouched) when empty.
// Exactly, in this order:
//   1. the window to [s_lo, s_hi] by internal::SegmentWindowToS (false if it fails);
//   2. the box is valid: min_x <= max_x and min_y <= max_y (false for NaN);
//   3. dx = x1 - x0, dy = y1 - y0; x0, y0, dx, dy finite (false otherwise);
//   4. the segment's bounding box meets the box: min(x0, x1) <= max_x, max(x0, x1) >= min_x,
//      and the same in y (exact compares; this is also the whole test of an axis with
//      d == 0, and it keeps rounding from ever reporting a segment that lies entirely
//      outside the box);
//   5. the slab test over s, s_near = s_lo, s_far = s_hi, for axis x then y, skipping an
//      axis whose d == 0 (+0 or -0):
//        t1 = (min - o) / d; t2 = (max - o) / d;      (division, not a reciprocal: it makes
//        s_near = max(s_near, min(t1, t2));          the endpoints exact, e.g. an end on
//        s_far = min(s_far, max(t1, t2));            an edge gives exactly s = 1)
//   6. inside iff s_near <= s_far; s_in = s_near + 0, s_out = s_far + 0 (no -0).
inline bool SegmentBoxInterval(int64_t t0, double x0, double y0, int64_t t1, double x1, double y1,
                               const SegmentBox& box, const SegmentWindow& w, double* s_in,
                               double* s_out) {
  using internal::SegMax;
  using internal::SegMin;
  double s_near, s_far;
  if (!internal::SegmentWindowToS(t0, t1, w, &s_near, &s_far)) return false;
  if (!(box.min_x <= box.max_x && box.min_y <= box.max_y)) return false;
  const double dx = x1 - x0, dy = y1 - y0;
  if (!(internal::SegFinite(x0, y0) && internal::SegFinite(dx, dy))) return false;
  if (!(SegMin(x0, x1) <= box.max_x && SegMax(x0, x1) >= box.min_x && SegMin(y0, y1) <= box.max_y &&
        SegMax(y0, y1) >= box.min_y)) {
    return false;
  }
  if (dx != 0) {
    const double t1x = (box.min_x - x0) / dx, t2x = (box.max_x - x0) / dx;
    s_near = SegMax(s_near, SegMin(t1x, t2x));
    s_far = SegMin(s_far, SegMax(t1x, t2x));
  }
  if (dy != 0) {
    const double t1y = (box.min_y - y0) / dy, t2y = (box.max_y - y0) / dy;
    s_near = SegMax(s_near, SegMin(t1y, t2y));
    s_far = SegMin(s_far, SegMax(t1y, t2y));
  }
  if (!(s_near <= s_far)) return false;
  *s_in = s_near + 0.0;
  *s_out = s_far + 0.0;
  return true;
}

// The same for the closed disc of centre (cx, cy) and squared radius r_sq. Exactly, in this
// order:
//   1. the window to [s_lo, s_hi] by internal::SegmentWindowToS (false if it fails);
//   2. the circle is valid: cx, cy finite, 0 <= r_sq <= DBL_MAX (false for NaN);
//   3. dx = x1 - x0, dy = y1 - y0; x0, y0, dx, dy finite (false otherwise);
//   4. the segment's bounding box is near: with lx = min(x0, x1), hx = max(x0, x1),
//        gx = max(max(lx - cx, cx - hx), 0), and gy likewise, gx * gx + gy * gy <= r_sq
//      (the squared distance from the centre to the bounding box; never larger than an
//      endpoint's own squared distance, so step 7's endpoints always pass);
//   5. ox = x0 - cx, oy = y0 - cy;
//        a = dx * dx + dy * dy;
//        b = 2 * (dx * ox + dy * oy);
//        c = (ox * ox + oy * oy) - r_sq;     (c <= 0 iff sample 0 is in the disc)
//   6. the quadratic a s^2 + b s + c <= 0, as [s_enter, s_exit]:
//        a == 0 (stationary, or moving less than ~1e-162): [-inf, +inf] if c <= 0, else empty;
//        a > 0: disc = b * b - (4 * a) * c; empty unless disc >= 0; otherwise
//          sq = sqrt(disc); q = -0.5 * (b >= 0 ? b + sq : b - sq)   (no cancellation);
//          r1 = q / a; r2 = q != 0 ? c / q : r1;
//          s_enter = min(r1, r2), s_exit = max(r1, r2);
//      (empty is s_enter = +inf, s_exit = -inf);
//   7. the endpoints, so they are exact: if c <= 0, s_enter = min(s_enter, 0) and
//      s_exit = max(s_exit, 0); with ex = x1 - cx, ey = y1 - cy, if ex * ex + ey * ey <= r_sq,
//      s_enter = min(s_enter, 1) and s_exit = max(s_exit, 1) (the disc is convex, so this only
//      repairs rounding);
//   8. s_near = max(s_lo, s_enter), s_far = min(s_hi, s_exit); inside iff s_near <= s_far;
//      s_in = s_near + 0, s_out = s_far + 0.
inline bool SegmentCircleInterval(int64_t t0, double x0, double y0, int64_t t1, double x1,
                                  double y1, double cx, double cy, double r_sq,
                                  const SegmentWindow& w, double* s_in, double* s_out) {
  using internal::SegMax;
  using internal::SegMin;
  constexpr double kInf = std::numeric_limits<double>::infinity();
  double s_lo, s_hi;
  if (!internal::SegmentWindowToS(t0, t1, w, &s_lo, &s_hi)) return false;
  if (!(internal::SegFinite(cx, cy) && r_sq >= 0 && r_sq <= std::numeric_limits<double>::max())) {
    return false;
  }
  const double dx = x1 - x0, dy = y1 - y0;
  if (!(internal::SegFinite(x0, y0) && internal::SegFinite(dx, dy))) return false;
  const double gx = SegMax(SegMax(SegMin(x0, x1) - cx, cx - SegMax(x0, x1)), 0.0);
  const double gy = SegMax(SegMax(SegMin(y0, y1) - cy, cy - SegMax(y0, y1)), 0.0);
  if (!(gx * gx + gy * gy <= r_sq)) return false;
  const double ox = x0 - cx, oy = y0 - cy;
  const double a = dx * dx + dy * dy;
  const double b = 2.0 * (dx * ox + dy * oy);
  const double c = (ox * ox + oy * oy) - r_sq;
  double s_enter = kInf, s_exit = -kInf;
  if (a == 0) {
    if (c <= 0) s_enter = -kInf, s_exit = kInf;
  } else {
    const double disc = b * b - (4.0 * a) * c;
    if (disc >= 0) {
      const double sq = std::sqrt(disc);
      const double q = -0.5 * (b >= 0 ? b + sq : b - sq);
      const double r1 = q / a;
      const double r2 = q != 0 ? c / q : r1;
      s_enter = SegMin(r1, r2);
      s_exit = SegMax(r1, r2);
    }
  }
  if (c <= 0) s_enter = SegMin(s_enter, 0.0), s_exit = SegMax(s_exit, 0.0);
  const double ex = x1 - cx, ey = y1 - cy;
  if (ex * ex + ey * ey <= r_sq) s_enter = SegMin(s_enter, 1.0), s_exit = SegMax(s_exit, 1.0);
  const double s_near = SegMax(s_lo, s_enter), s_far = SegMin(s_hi, s_exit);
  if (!(s_near <= s_far)) return false;
  *s_in = s_near + 0.0;
  *s_out = s_far + 0.0;
  return true;
}

// Scalar references with the same contracts: the test oracles (SegmentBoxInterval /
// SegmentCircleInterval per segment).
namespace reference {
size_t SegmentsInBox(const int64_t* t, const double* x, const double* y, size_t n,
                     const SegmentBox& box, const SegmentWindow& w, uint64_t* out_bits);
size_t SegmentsInCircle(const int64_t* t, const double* x, const double* y, size_t n, double cx,
                        double cy, double r_sq, const SegmentWindow& w, uint64_t* out_bits);
}  // namespace reference

}  // namespace locus::kernels

#endif  // LOCUS_KERNELS_SEGMENT_H_
