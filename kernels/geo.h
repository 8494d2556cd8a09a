// Geographic kernels (kernel family 7): lon/lat degrees -> unit-sphere x, y, z columns,
// great-circle metres <-> chord length, and haversine distances from one point to a batch.
//
// Why: geographic namespaces keep unit-sphere columns so that radius and kNN queries on the
// sphere are plain 3D Euclidean scans; a great-circle radius r becomes the chord
// 2 sin(r / (2R)) (MetresToChord), and reported distances are haversine metres.
//
// Common contract for the batch functions:
// - Lanes: T is float or double; columns of n values of T; all arithmetic is in T (a float
//   batch computes in float). Angles are in degrees.
// - Padding: every input column must be readable kColumnPaddingElements (16) elements past
//   n (kernels/column.h); padding values never affect a result. No alignment is required;
//   n == 0 is allowed. The kernels write exactly out[0, n) (tails through a stack buffer).
//   Outputs must not alias inputs or each other.
// - Angles: any finite value. Both lon and lat are first reduced modulo 360 degrees to
//   [-180, 180] in degrees (exactly, for |angle| < 2^18 * 360 in float, 2^47 * 360 in double),
//   then converted to radians, so Highway's Sin/Cos (valid on [-39000, 39000] radians) only
//   ever see |x| <= pi. LonLatToUnit takes any latitude as an angle (x, y, z are evaluated as
//   written, as <cmath> would); HaversineMetres requires latitudes in [-90, 90]. NaN or
//   infinite inputs give NaN in every output that depends on them (never a plausible
//   number; z depends on the latitude alone).
// - Accuracy: the SIMD versions use Highway's contrib math (Sin, Cos, Asin: <= 3 ULP each),
//   and on targets with FMA (AVX2, AVX3) Highway's polynomials use fused multiply-add, so
//   results differ between targets in the last bits; they are NOT bit-identical to the
//   <cmath> references in namespace `reference`. Measured max error against the references
//   (which compute in double and round, so for float this is the float kernel's error against
//   the nearly exact value of the same float inputs), over the targets AVX3, AVX2, SSE4 and
//   SCALAR, seeded random inputs incl. poles, the antimeridian and unreduced angles
//   (tests/kernels/geo_test.cc prints these as "[ accuracy ]" lines and enforces bounds
//   about 2x looser; the numbers are the worst over four seeds):
//     LonLatToUnit, per component     f64: 4.5e-16        f32: 2.4e-7
//       |(x, y, z)| - 1               f64: 4.5e-16        f32: 1.9e-7
//     MetresToChord                   f64: 4.5e-16        f32: 2.4e-7
//     ChordToMetres                   f64: 3.8e-9 m (5.6e-16 relative)
//                                     f32: 3 m (3e-7 relative)
//     HaversineMetres, arc < 90 deg   f64: 1.5e-8 m (4.3e-14 relative, from unreduced
//                                          longitudes, where it is the reference's own
//                                          rounding of lon - lon0 that the kernel compensates)
//                                     f32: 3.5 m (8.9e-7 relative)
//       arc 90 .. 179 deg             f64: 3.2e-7 m       f32: 140 m
//       arc >= 179 deg                f64: 3.6e-4 m       f32: 4.3 km
//     |u(p) - u(q)| vs MetresToChord(HaversineMetres(p, q)), all kernels
//                                     f64: 1.1e-15        f32: 5e-7
//   Long arcs lose accuracy because d = 2R asin(sqrt(a)) has dd/da = R / sqrt(a (1 - a)):
//   the haversine formula itself (the reference too) turns an error of a few ULP in `a` into
//   R * eps / sqrt(1 - a), up to about 2R sqrt(4 eps) at the antipode (~0.3 m in f64, ~6 km
//   in f32). Use f64 for distances that may approach half the globe.
//
// Thread safety: pure functions; safe to call concurrently.
#ifndef LOCUS_KERNELS_GEO_H_
#define LOCUS_KERNELS_GEO_H_

#include <cstddef>

namespace locus::kernels {

// The IUGG mean Earth radius R1, in metres.
inline constexpr double kEarthRadiusMetres = 6371008.8;

// Writes the unit vector of each (lon_deg[i], lat_deg[i]):
//   x = cos(lat) cos(lon), y = cos(lat) sin(lon), z = sin(lat).
// The vector has norm 1 within a few ULP; at the poles x and y are ~1e-16 (f64) or ~4e-8
// (f32), not 0.
void LonLatToUnit(const float* lon_deg, const float* lat_deg, size_t n, float* x, float* y,
                  float* z);
void LonLatToUnit(const double* lon_deg, const double* lat_deg, size_t n, double* x, double* y,
                  double* z);

// Returns the chord length on the unit sphere of a great-circle distance of `metres`:
// 2 sin(m / (2R)) with m clamped to [0, pi R] (so the chord is in [0, 2]); NaN -> NaN.
double MetresToChord(double metres);
// Returns the great-circle distance in metres of a unit-sphere chord: 2R asin(c / 2) with c
// clamped to [0, 2] (so the result is in [0, pi R]); NaN -> NaN.
double ChordToMetres(double chord);

// Batch versions of the two conversions above (same clamps, NaN -> NaN). Results are within
// [0, 2] and [0, pi R] exactly (pi R rounded to T), also where the approximations round up.
void MetresToChord(const float* metres, size_t n, float* chord);
void MetresToChord(const double* metres, size_t n, double* chord);
void ChordToMetres(const float* chord, size_t n, float* metres);
void ChordToMetres(const double* chord, size_t n, double* metres);

// Writes the haversine great-circle distance in metres from (lon0, lat0) to each
// (lon[i], lat[i]) on the sphere of radius kEarthRadiusMetres:
//   a = sin^2(dlat / 2) + cos(lat0) cos(lat) sin^2(dlon / 2), clamped to [0, 1] (NaN kept),
//   d = 2R asin(sqrt(a)).
// dlon is reduced modulo 360 with the subtraction's rounding error compensated, so points
// either side of the antimeridian are as accurate as any other pair. Identical points give
// exactly 0; antipodal points give pi R (no NaN); results are in [0, pi R].
// REQUIRES: latitudes in [-90, 90] (outside, the formula is evaluated as is and the result,
// still finite, is not a distance). A NaN query gives NaN everywhere.
void HaversineMetres(const float* lon, const float* lat, size_t n, float lon0, float lat0,
                     float* out_metres);
void HaversineMetres(const double* lon, const double* lat, size_t n, double lon0, double lat0,
                     double* out_metres);

// Scalar <cmath> references: the test oracles. They evaluate the same formulas in double
// (angles reduced with std::remainder(deg, 360), exact) and round the results to T.
namespace reference {
template <typename T>
void LonLatToUnit(const T* lon_deg, const T* lat_deg, size_t n, T* x, T* y, T* z);
template <typename T>
void MetresToChord(const T* metres, size_t n, T* chord);
template <typename T>
void ChordToMetres(const T* chord, size_t n, T* metres);
template <typename T>
void HaversineMetres(const T* lon, const T* lat, size_t n, T lon0, T lat0, T* out_metres);
}  // namespace reference

}  // namespace locus::kernels

#endif  // LOCUS_KERNELS_GEO_H_
