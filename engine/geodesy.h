// Distances (and initial bearings) between two points by one of five methods: haversine on
// the sphere, Vincenty's and Karney's geodesic inverse on an ellipsoid (WGS84 by default),
// rhumb lines (loxodromes) on the ellipsoid, and planar Euclidean distance. This is the
// scalar, per-pair path behind "distance between objects / to a point"; the SIMD scans use
// the unit-sphere chords of kernels/geo.h and report haversine metres, which is the
// kHaversine method here (the same formula and code: kernels::reference::HaversineMetres).
//
// Accuracy of each method (against the exact ellipsoidal geodesic unless stated):
// - kHaversine: great circle on the sphere of radius kernels::kEarthRadiusMetres
//   (6371008.8 m, IUGG mean radius). As a model of the Earth it is off by up to 0.56% of
//   the WGS84 geodesic (short north-south lines at the equator, where the meridian's radius
//   of curvature is 6335 km; tests check < 0.6% on random pairs); as arithmetic it is exact to
//   ~1e-8 m for short arcs and ~0.3 m near the antipode (kernels/geo.h explains why).
// - kVincenty: Vincenty's (1975) inverse iteration on the ellipsoid, iterated until the
//   longitude on the auxiliary sphere changes by < 1e-12 rad (at most
//   kVincentyMaxIterations). Where it converges its truncated series are good to ~0.1 mm
//   on WGS84 (tests check |Vincenty - Karney| <= 0.1 mm on random pairs). It fails to
//   converge for nearly antipodal points (the geodesic is then not unique in the way the
//   iteration assumes); Distance then returns the Karney result instead (same
//   answer to ~0.1 mm, always defined), and VincentyInverse reports converged = false.
// - kGeodesic: Karney (2013), "Algorithms for geodesics", through GeographicLib (Karney's
//   reference implementation): accurate to ~15 nm on WGS84, for every pair, including
//   antipodal ones. Use this when in doubt.
// - kRhumb: length of the rhumb line (constant azimuth) on the ellipsoid, GeographicLib's
//   Rhumb (tests check it to 1 um against the meridian arc and the equator arc a * dlon).
//   Never shorter than the geodesic; equal to it along meridians, and along the equator
//   up to a longitude difference of (1 - f) 180 degrees (beyond, the geodesic leaves it).
// - kPlanar: Euclidean distance in the caller's units, 2D or 3D (x, y[, z]); no
//   validation beyond finiteness.
//
// Coordinates: for the geographic methods Point2/Point3 carry x = longitude and y =
// latitude in degrees, and z = altitude in metres (any datum, only differences matter).
// Altitude enters as a slant combination: d = sqrt(s^2 + (alt2 - alt1)^2), where s is the
// surface distance of the method between the points' footprints (at altitude 0). So equal
// altitudes give exactly s, purely vertical separation gives |dalt|, and it is the natural
// "3D distance" at the scales where altitude matters (aircraft, drones). It ignores that a
// path at altitude h is longer by the factor (R + h) / R (1.6e-4 per km of altitude), and
// for long arcs it is not the straight chord through the Earth (which is shorter than s).
//
// Poles and the antimeridian: longitudes at a pole are irrelevant (points at lat +-90 with
// different longitudes are at distance 0; a rhumb line to or from a pole is the meridian),
// and longitude differences are taken modulo 360, so 179.9 and -179.9 are 0.2 degrees
// apart.
//
// Thread safety: pure functions; safe to call concurrently (GeographicLib's WGS84 objects
// are immutable statics).
#ifndef LOCUS_ENGINE_GEODESY_H_
#define LOCUS_ENGINE_GEODESY_H_

#include <string_view>

#include "locus/geometry.h"
#include "locus/status.h"

namespace locus::engine {

enum class DistanceMethod {
  kHaversine,  // great circle on the mean-radius sphere
  kVincenty,   // Vincenty inverse on WGS84 (Karney where it does not converge)
  kGeodesic,   // Karney geodesic inverse on WGS84 (GeographicLib)
  kRhumb,      // rhumb line on WGS84 (GeographicLib)
  kPlanar,     // Euclidean, caller's units
};

// Returns "haversine", "vincenty", "geodesic", "rhumb" or "planar".
std::string_view DistanceMethodName(DistanceMethod method);
// Parses one of the names above (exact, lower case). Anything else is InvalidArgument:
//   "distance method 'karney': expected haversine, vincenty, geodesic, rhumb or planar".
Result<DistanceMethod> ParseDistanceMethod(std::string_view name);

// An ellipsoid of revolution: equatorial radius a (metres) and flattening f.
struct Ellipsoid {
  double a;
  double f;
};
inline constexpr Ellipsoid kWgs84{6378137.0, 1 / 298.257223563};

// Validates a geographic point: lon (x) in [-180, 180], lat (y) in [-90, 90], both finite
// (and alt (z) finite for Point3). `index` (1 or 2) suffixes the field names, so messages
// read "lat1 = 91: outside [-90, 90]" or "alt2 = nan: not a finite number".
Status ValidateLonLat(const Point2& p, int index);
Status ValidateLonLat(const Point3& p, int index);

// Returns the distance between p1 and p2 by `method`: metres for the geographic methods
// (x = lon, y = lat in degrees; z = altitude in metres, combined as described at the top
// of this file), the caller's units for kPlanar. Identical points give exactly 0.
// Errors: InvalidArgument naming the field and value ("lon2 = 181: outside [-180, 180]");
// kPlanar only rejects non-finite coordinates ("x1 = inf: coordinate is not a finite
// number").
Result<double> Distance(DistanceMethod method, const Point2& p1, const Point2& p2);
Result<double> Distance(DistanceMethod method, const Point3& p1, const Point3& p2);

// Returns the initial bearing from p1 towards p2 in degrees clockwise from north, in
// [0, 360): the start azimuth of the great circle (kHaversine), of the geodesic
// (kVincenty, kGeodesic; Karney's where Vincenty does not converge), the constant azimuth
// of the rhumb line (kRhumb), and atan2(dx, dy) for kPlanar (y is north, x is east).
// Coincident points (distance 0, including two points at the same pole) give 0. Same
// validation as Distance.
Result<double> InitialBearingDegrees(DistanceMethod method, const Point2& p1, const Point2& p2);

// The unchecked per-method building blocks. REQUIRES: finite lon in [-180, 180] and lat in
// [-90, 90] (degrees); the ellipsoid with a > 0 and 0 <= f < 1. Azimuths are degrees
// clockwise from north in (-180, 180].
struct InverseResult {
  double metres = 0;
  double azimuth1_deg = 0;  // at point 1, towards point 2
};

// Haversine distance on the sphere of radius kernels::kEarthRadiusMetres, and the initial
// great-circle azimuth.
InverseResult HaversineInverse(double lon1, double lat1, double lon2, double lat2);

inline constexpr int kVincentyMaxIterations = 200;
struct VincentyResult {
  double metres = 0;        // valid only when converged
  double azimuth1_deg = 0;  // valid only when converged
  // Steps of eq. (13) taken: 0 for identical points, kVincentyMaxIterations + 1 when the
  // cap stopped the iteration.
  int iterations = 0;
  bool converged = false;
};
// Vincenty's inverse method on `ellipsoid` (own implementation of Vincenty 1975: eq. (13)
// iterated on the auxiliary longitude lambda until a step changes it by < 1e-12 rad, then
// sigma and alpha evaluated once more at the final lambda, then the A, B series). Not
// converged after kVincentyMaxIterations, or lambda left [-pi, pi], or exactly antipodal
// points (all nearly antipodal cases): converged = false.
VincentyResult VincentyInverse(double lon1, double lat1, double lon2, double lat2,
                               const Ellipsoid& ellipsoid = kWgs84);

// Karney's geodesic inverse on `ellipsoid` (GeographicLib::Geodesic).
InverseResult GeodesicInverse(double lon1, double lat1, double lon2, double lat2,
                              const Ellipsoid& ellipsoid = kWgs84);

// Rhumb-line inverse on `ellipsoid` (GeographicLib::Rhumb): the length of the
// shortest rhumb line (longitude difference reduced to [-180, 180]) and its azimuth.
InverseResult RhumbInverse(double lon1, double lat1, double lon2, double lat2,
                           const Ellipsoid& ellipsoid = kWgs84);

}  // namespace locus::engine

#endif  // LOCUS_ENGINE_GEODESY_H_
