// Per-target implementation of kernels/geo.h. Included once per Highway target by geo.cc;
// other kernels may include it for the vector helpers (degree reduction, unit vectors,
// haversine) from namespace locus::kernels::HWY_NAMESPACE.
//
// Degrees are reduced modulo 360 in degrees, where the reduction is exact (r = deg - 360 k
// with k = round(deg / 360): 360 k is exact and the subtraction is exact by Sterbenz's lemma),
// and only then converted to radians. That keeps every argument of Highway's Sin/Cos within
// [-pi, pi] (their documented valid range is [-39000, 39000]) whatever the input, and is more
// accurate than reducing radians.

#if defined(LOCUS_KERNELS_GEO_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef LOCUS_KERNELS_GEO_INL_H_
#undef LOCUS_KERNELS_GEO_INL_H_
#else
#define LOCUS_KERNELS_GEO_INL_H_
#endif

#include <cstddef>
#include <cstring>

#include "hwy/contrib/math/math-inl.h"
#include "hwy/highway.h"
#include "kernels/geo.h"

HWY_BEFORE_NAMESPACE();
namespace locus::kernels {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

inline constexpr double kPi = 3.14159265358979323846;

// Returns deg reduced modulo 360 to [-180, 180] (ties to even: 540 -> -180). NaN and
// infinities give NaN.
template <class D, class V = hn::Vec<D>>
HWY_INLINE V ReduceDegrees(D d, V deg) {
  using T = hn::TFromD<D>;
  const V k = hn::Round(hn::Mul(deg, hn::Set(d, static_cast<T>(1.0 / 360.0))));
  return hn::Sub(deg, hn::Mul(k, hn::Set(d, static_cast<T>(360))));
}

// Returns a - b reduced modulo 360 to about [-180, 180], with the rounding error of the
// subtraction put back after the reduction (Knuth's TwoSum: the error is exact without FMA).
// Without it a difference near +-360 degrees (two longitudes either side of the antimeridian)
// would keep the absolute rounding error of a number near 360, ulp(360) / 2: 1.5e-5 degrees,
// about 1.7 m, in float, even when the points are centimetres apart.
template <class D, class V = hn::Vec<D>>
HWY_INLINE V ReducedDifference(D d, V a, V b) {
  const V s = hn::Sub(a, b);
  const V a_part = hn::Add(s, b);       // the part of s that came from a
  const V b_part = hn::Sub(a_part, s);  // minus the part that came from b
  const V err = hn::Add(hn::Sub(a, a_part), hn::Sub(b_part, b));
  return hn::Add(ReduceDegrees(d, s), err);
}

// Returns the angle deg (any finite value) in radians, reduced to [-pi, pi].
template <class D, class V = hn::Vec<D>>
HWY_INLINE V ReducedRadians(D d, V deg) {
  using T = hn::TFromD<D>;
  return hn::Mul(ReduceDegrees(d, deg), hn::Set(d, static_cast<T>(kPi / 180.0)));
}

// Returns v with lanes above hi replaced by hi and lanes below lo by lo; NaN lanes stay NaN
// on every target (plain compares and selects, no Min/Max whose NaN handling differs).
template <class D, class V = hn::Vec<D>>
HWY_INLINE V ClampKeepNaN(D d, V v, hn::TFromD<D> lo, hn::TFromD<D> hi) {
  const V vlo = hn::Set(d, lo);
  const V vhi = hn::Set(d, hi);
  v = hn::IfThenElse(hn::Gt(v, vhi), vhi, v);
  return hn::IfThenElse(hn::Lt(v, vlo), vlo, v);
}

// Stores the first `count` lanes of v to out (all of them when count == Lanes(d)); never
// writes past out[count - 1].
template <class D, class V = hn::Vec<D>>
HWY_INLINE void StoreFirst(D d, V v, size_t count, hn::TFromD<D>* HWY_RESTRICT out) {
  if (HWY_LIKELY(count == hn::Lanes(d))) {
    hn::StoreU(v, d, out);
  } else {
    HWY_ALIGN hn::TFromD<D> buf[hn::MaxLanes(d)];
    hn::Store(v, d, buf);
    std::memcpy(out, buf, count * sizeof(hn::TFromD<D>));
  }
}

// Returns v with lanes above pi R (as T) replaced by it: 2R asin(1) can round an ULP above.
template <class D, class V = hn::Vec<D>>
HWY_INLINE V AtMostHalfCircumference(D d, V v) {
  using T = hn::TFromD<D>;
  const V limit = hn::Set(d, static_cast<T>(kPi * kEarthRadiusMetres));
  return hn::IfThenElse(hn::Gt(v, limit), limit, v);
}

// Unit vectors of the Lanes(d) points (lon, lat) in degrees.
template <class D, class V = hn::Vec<D>>
HWY_INLINE void UnitVec(D d, V lon_deg, V lat_deg, V* HWY_RESTRICT x, V* HWY_RESTRICT y,
                        V* HWY_RESTRICT z) {
  const V lon = ReducedRadians(d, lon_deg);
  const V lat = ReducedRadians(d, lat_deg);
  const V cos_lat = hn::Cos(d, lat);
  *x = hn::Mul(cos_lat, hn::Cos(d, lon));
  *y = hn::Mul(cos_lat, hn::Sin(d, lon));
  *z = hn::Sin(d, lat);
}

// Haversine distance in metres from the query, given its latitude's cosine.
template <typename T>
struct HaversineQuery {
  T lon0, lat0, cos_lat0;
};
template <class D, class V = hn::Vec<D>>
HWY_INLINE V HaversineVec(D d, V lon_deg, V lat_deg, const HaversineQuery<hn::TFromD<D>>& q) {
  using T = hn::TFromD<D>;
  // Half-angle sines: the degree differences are reduced (sin^2 of half the difference has
  // period 360), so the half angles are within [-pi/2, pi/2]. Valid latitudes differ by at
  // most 180, so only the longitude difference needs the compensated reduction.
  const V half = hn::Set(d, static_cast<T>(kPi / 360.0));
  const V s_lat = hn::Sin(d, hn::Mul(ReduceDegrees(d, hn::Sub(lat_deg, hn::Set(d, q.lat0))), half));
  const V s_lon = hn::Sin(d, hn::Mul(ReducedDifference(d, lon_deg, hn::Set(d, q.lon0)), half));
  const V cos_lat = hn::Cos(d, ReducedRadians(d, lat_deg));
  V a = hn::Add(hn::Mul(s_lat, s_lat),
                hn::Mul(hn::Mul(hn::Set(d, q.cos_lat0), cos_lat), hn::Mul(s_lon, s_lon)));
  a = ClampKeepNaN(d, a, T(0), T(1));
  return AtMostHalfCircumference(
      d, hn::Mul(hn::Set(d, static_cast<T>(2 * kEarthRadiusMetres)), hn::Asin(d, hn::Sqrt(a))));
}

// 2 sin(m / (2R)) with m clamped to [0, pi R]; the result is clamped to [0, 2] too (Sin near
// pi / 2 can round an ULP above 1 on FMA targets).
template <class D, class V = hn::Vec<D>>
HWY_INLINE V MetresToChordVec(D d, V m) {
  using T = hn::TFromD<D>;
  m = ClampKeepNaN(d, m, T(0), static_cast<T>(kPi * kEarthRadiusMetres));
  const V angle = hn::Mul(m, hn::Set(d, static_cast<T>(0.5 / kEarthRadiusMetres)));
  return ClampKeepNaN(d, hn::Mul(hn::Set(d, T(2)), hn::Sin(d, angle)), T(0), T(2));
}

// 2R asin(c / 2) with c clamped to [0, 2].
template <class D, class V = hn::Vec<D>>
HWY_INLINE V ChordToMetresVec(D d, V c) {
  using T = hn::TFromD<D>;
  c = ClampKeepNaN(d, c, T(0), T(2));
  return AtMostHalfCircumference(d, hn::Mul(hn::Set(d, static_cast<T>(2 * kEarthRadiusMetres)),
                                            hn::Asin(d, hn::Mul(c, hn::Set(d, T(0.5))))));
}

}  // namespace HWY_NAMESPACE
}  // namespace locus::kernels
HWY_AFTER_NAMESPACE();

#endif  // include guard
