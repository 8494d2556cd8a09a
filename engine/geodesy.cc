// Distances and bearings by method (engine/geodesy.h): validation and dispatch, the
// haversine and Vincenty implementations, and the GeographicLib calls (Karney geodesic,
// rhumb). GeographicLib stays private to this file; nothing of it appears in the header.
#include "engine/geodesy.h"

#include <GeographicLib/Geodesic.hpp>
#include <GeographicLib/Rhumb.hpp>
#include <charconv>
#include <cmath>
#include <string>

#include "kernels/geo.h"

namespace locus::engine {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kDegToRad = kPi / 180.0;
constexpr double kRadToDeg = 180.0 / kPi;

// Returns deg reduced modulo 360 to [-180, 180], in radians (exact reduction).
double Radians(double deg) { return std::remainder(deg, 360.0) * kDegToRad; }

// At a pole every longitude names the same point; use 0 so that the formulas give exactly
// the same (zero) distance between two polar points of different longitude.
double PoleLon(double lon, double lat) { return std::abs(lat) == 90 ? 0.0 : lon; }

// Returns an azimuth in degrees mapped from (-180, 180] (or any range) to [0, 360).
double Bearing360(double azimuth_deg) {
  double b = std::fmod(azimuth_deg, 360.0);
  if (b < 0) b += 360.0;
  if (b >= 360.0 || b == 0) b = 0;  // -1e-17 + 360 rounds to 360; -0 becomes +0
  return b;
}

bool SameEllipsoid(const Ellipsoid& a, const Ellipsoid& b) { return a.a == b.a && a.f == b.f; }

// Returns the surface inverse of a geographic method. REQUIRES: validated input,
// method != kPlanar.
InverseResult SurfaceInverse(DistanceMethod method, double lon1, double lat1, double lon2,
                             double lat2) {
  switch (method) {
    case DistanceMethod::kHaversine:
      return HaversineInverse(lon1, lat1, lon2, lat2);
    case DistanceMethod::kVincenty: {
      const VincentyResult v = VincentyInverse(lon1, lat1, lon2, lat2);
      // Nearly antipodal: Vincenty's iteration does not settle; Karney's method is defined
      // everywhere and agrees with Vincenty to ~0.1 mm where both work.
      if (v.converged) return {v.metres, v.azimuth1_deg};
      return GeodesicInverse(lon1, lat1, lon2, lat2);
    }
    case DistanceMethod::kGeodesic:
      return GeodesicInverse(lon1, lat1, lon2, lat2);
    case DistanceMethod::kRhumb:
      return RhumbInverse(lon1, lat1, lon2, lat2);
    case DistanceMethod::kPlanar:
      break;
  }
  LOCUS_CHECK_MSG(false, "SurfaceInverse: not a geographic method");
  return {};
}

}  // namespace

std::string_view DistanceMethodName(DistanceMethod method) {
  switch (method) {
    case DistanceMethod::kHaversine:
      return "haversine";
    case DistanceMethod::kVincenty:
      return "vincenty";
    case DistanceMethod::kGeodesic:
      return "geodesic";
    case DistanceMethod::kRhumb:
      return "rhumb";
    case DistanceMethod::kPlanar:
      return "planar";
  }
  return "unknown";
}

Result<DistanceMethod> ParseDistanceMethod(std::string_view name) {
  for (DistanceMethod m :
       {DistanceMethod::kHaversine, DistanceMethod::kVincenty, DistanceMethod::kGeodesic,
        DistanceMethod::kRhumb, DistanceMethod::kPlanar}) {
    if (name == DistanceMethodName(m)) return m;
  }
  return InvalidArgumentError("distance method '" + std::string(name) +
                              "': expected haversine, vincenty, geodesic, rhumb or planar");
}

Status ValidateLonLat(const Point2& p, int index) {
  const std::string i = std::to_string(index);
  LOCUS_RETURN_IF_ERROR(ValidateLongitude(p.x, "lon" + i));
  return ValidateLatitude(p.y, "lat" + i);
}

Status ValidateLonLat(const Point3& p, int index) {
  LOCUS_RETURN_IF_ERROR(ValidateLonLat(Point2{p.x, p.y}, index));
  if (std::isfinite(p.z)) return Status();
  return InvalidArgumentError("alt" + std::to_string(index) + " = " + FormatNumber(p.z) +
                              ": not a finite number");
}

Result<double> Distance(DistanceMethod method, const Point2& p1, const Point2& p2) {
  if (method == DistanceMethod::kPlanar) {
    LOCUS_RETURN_IF_ERROR(ValidateCoordinate(p1.x, "x1"));
    LOCUS_RETURN_IF_ERROR(ValidateCoordinate(p1.y, "y1"));
    LOCUS_RETURN_IF_ERROR(ValidateCoordinate(p2.x, "x2"));
    LOCUS_RETURN_IF_ERROR(ValidateCoordinate(p2.y, "y2"));
    return std::hypot(p2.x - p1.x, p2.y - p1.y);
  }
  LOCUS_RETURN_IF_ERROR(ValidateLonLat(p1, 1));
  LOCUS_RETURN_IF_ERROR(ValidateLonLat(p2, 2));
  return SurfaceInverse(method, p1.x, p1.y, p2.x, p2.y).metres;
}

Result<double> Distance(DistanceMethod method, const Point3& p1, const Point3& p2) {
  if (method == DistanceMethod::kPlanar) {
    LOCUS_RETURN_IF_ERROR(ValidateCoordinate(p1.x, "x1"));
    LOCUS_RETURN_IF_ERROR(ValidateCoordinate(p1.y, "y1"));
    LOCUS_RETURN_IF_ERROR(ValidateCoordinate(p1.z, "z1"));
    LOCUS_RETURN_IF_ERROR(ValidateCoordinate(p2.x, "x2"));
    LOCUS_RETURN_IF_ERROR(ValidateCoordinate(p2.y, "y2"));
    LOCUS_RETURN_IF_ERROR(ValidateCoordinate(p2.z, "z2"));
    return std::hypot(p2.x - p1.x, p2.y - p1.y, p2.z - p1.z);
  }
  LOCUS_RETURN_IF_ERROR(ValidateLonLat(p1, 1));
  LOCUS_RETURN_IF_ERROR(ValidateLonLat(p2, 2));
  const double s = SurfaceInverse(method, p1.x, p1.y, p2.x, p2.y).metres;
  return std::hypot(s, p2.z - p1.z);  // exactly s when the altitudes are equal
}

Result<double> InitialBearingDegrees(DistanceMethod method, const Point2& p1, const Point2& p2) {
  if (method == DistanceMethod::kPlanar) {
    LOCUS_RETURN_IF_ERROR(ValidateCoordinate(p1.x, "x1"));
    LOCUS_RETURN_IF_ERROR(ValidateCoordinate(p1.y, "y1"));
    LOCUS_RETURN_IF_ERROR(ValidateCoordinate(p2.x, "x2"));
    LOCUS_RETURN_IF_ERROR(ValidateCoordinate(p2.y, "y2"));
    if (p1 == p2) return 0.0;
    return Bearing360(std::atan2(p2.x - p1.x, p2.y - p1.y) * kRadToDeg);
  }
  LOCUS_RETURN_IF_ERROR(ValidateLonLat(p1, 1));
  LOCUS_RETURN_IF_ERROR(ValidateLonLat(p2, 2));
  const InverseResult r = SurfaceInverse(method, p1.x, p1.y, p2.x, p2.y);
  if (r.metres == 0) return 0.0;
  return Bearing360(r.azimuth1_deg);
}

InverseResult HaversineInverse(double lon1, double lat1, double lon2, double lat2) {
  lon1 = PoleLon(lon1, lat1);
  lon2 = PoleLon(lon2, lat2);
  InverseResult r;
  // The scalar reference of the SIMD kernel: one formula for reported distances.
  kernels::reference::HaversineMetres<double>(&lon2, &lat2, 1, lon1, lat1, &r.metres);
  const double phi1 = Radians(lat1), phi2 = Radians(lat2), dlambda = Radians(lon2 - lon1);
  r.azimuth1_deg = std::atan2(std::sin(dlambda) * std::cos(phi2),
                              std::cos(phi1) * std::sin(phi2) -
                                  std::sin(phi1) * std::cos(phi2) * std::cos(dlambda)) *
                   kRadToDeg;
  return r;
}

VincentyResult VincentyInverse(double lon1, double lat1, double lon2, double lat2,
                               const Ellipsoid& ellipsoid) {
  const double a = ellipsoid.a, f = ellipsoid.f, b = (1 - f) * a;
  lon1 = PoleLon(lon1, lat1);
  lon2 = PoleLon(lon2, lat2);
  const double L = Radians(lon2 - lon1);
  // Reduced latitudes, through atan2 so the poles need no tan(90 degrees).
  const double u1 = std::atan2((1 - f) * std::sin(Radians(lat1)), std::cos(Radians(lat1)));
  const double u2 = std::atan2((1 - f) * std::sin(Radians(lat2)), std::cos(Radians(lat2)));
  const double sin_u1 = std::sin(u1), cos_u1 = std::cos(u1);
  const double sin_u2 = std::sin(u2), cos_u2 = std::cos(u2);

  VincentyResult r;
  if (L == 0 && lat1 == lat2) {  // identical points: exactly 0, whatever the rounding below
    r.converged = true;
    return r;
  }
  // One step of Vincenty's eq. (13) at the auxiliary longitude `lambda`: the auxiliary
  // sphere's sigma, alpha and 2 sigma_m, and the next lambda. Returns false where sigma is
  // undefined (sin sigma == 0 with distinct points: exactly antipodal).
  double sin_lambda = 0, cos_lambda = 1, sin_sigma = 0, cos_sigma = 1, sigma = 0;
  double cos2_alpha = 1, cos_2sigma_m = 0;
  const auto step = [&](double lambda, double* next) {
    sin_lambda = std::sin(lambda);
    cos_lambda = std::cos(lambda);
    const double t1 = cos_u2 * sin_lambda;
    const double t2 = cos_u1 * sin_u2 - sin_u1 * cos_u2 * cos_lambda;
    sin_sigma = std::sqrt(t1 * t1 + t2 * t2);
    if (sin_sigma == 0) return false;
    cos_sigma = sin_u1 * sin_u2 + cos_u1 * cos_u2 * cos_lambda;
    sigma = std::atan2(sin_sigma, cos_sigma);
    const double sin_alpha = cos_u1 * cos_u2 * sin_lambda / sin_sigma;
    cos2_alpha = 1 - sin_alpha * sin_alpha;
    // On the equator cos^2(alpha) = 0 and the term's coefficient C vanishes too.
    cos_2sigma_m = cos2_alpha != 0 ? cos_sigma - 2 * sin_u1 * sin_u2 / cos2_alpha : 0;
    const double c = f / 16 * cos2_alpha * (4 + f * (4 - 3 * cos2_alpha));
    *next = L + (1 - c) * f * sin_alpha *
                    (sigma +
                     c * sin_sigma *
                         (cos_2sigma_m + c * cos_sigma * (-1 + 2 * cos_2sigma_m * cos_2sigma_m)));
    return true;
  };
  double lambda = L;
  for (r.iterations = 1; r.iterations <= kVincentyMaxIterations; ++r.iterations) {
    double next = 0;
    if (!step(lambda, &next)) return r;
    if (!(std::abs(next) <= kPi)) return r;  // diverging: nearly antipodal (or NaN)
    const double change = std::abs(next - lambda);
    lambda = next;
    if (change < 1e-12) {
      r.converged = true;
      break;
    }
  }
  if (!r.converged) return r;
  // sigma and alpha above belong to the lambda before the last step, which may still be
  // ~1e-12 rad off (~6 um on the Earth); evaluate them once more at the converged lambda.
  double unused = 0;
  if (!step(lambda, &unused)) {
    r.converged = false;
    return r;
  }

  const double u_sq = cos2_alpha * (a * a - b * b) / (b * b);
  const double big_a = 1 + u_sq / 16384 * (4096 + u_sq * (-768 + u_sq * (320 - 175 * u_sq)));
  const double big_b = u_sq / 1024 * (256 + u_sq * (-128 + u_sq * (74 - 47 * u_sq)));
  const double c2m = cos_2sigma_m * cos_2sigma_m;
  const double delta_sigma =
      big_b * sin_sigma *
      (cos_2sigma_m +
       big_b / 4 *
           (cos_sigma * (-1 + 2 * c2m) -
            big_b / 6 * cos_2sigma_m * (-3 + 4 * sin_sigma * sin_sigma) * (-3 + 4 * c2m)));
  r.metres = b * big_a * (sigma - delta_sigma);
  r.azimuth1_deg =
      std::atan2(cos_u2 * sin_lambda, cos_u1 * sin_u2 - sin_u1 * cos_u2 * cos_lambda) * kRadToDeg;
  return r;
}

InverseResult GeodesicInverse(double lon1, double lat1, double lon2, double lat2,
                              const Ellipsoid& ellipsoid) {
  InverseResult r;
  double azi2 = 0;
  if (SameEllipsoid(ellipsoid, kWgs84)) {
    GeographicLib::Geodesic::WGS84().Inverse(lat1, lon1, lat2, lon2, r.metres, r.azimuth1_deg,
                                             azi2);
  } else {
    GeographicLib::Geodesic(ellipsoid.a, ellipsoid.f)
        .Inverse(lat1, lon1, lat2, lon2, r.metres, r.azimuth1_deg, azi2);
  }
  return r;
}

InverseResult RhumbInverse(double lon1, double lat1, double lon2, double lat2,
                           const Ellipsoid& ellipsoid) {
  // A rhumb line that starts or ends at a pole is a meridian: the pole is infinitely far in
  // the Mercator projection, so any finite longitude difference makes the azimuth 0. Use the
  // other point's longitude for the pole (GeographicLib treats a pole as a point very close
  // to it, where the longitude still shifts the result by kilometres).
  if (std::abs(lat1) == 90) {
    lon1 = lon2;
  } else if (std::abs(lat2) == 90) {
    lon2 = lon1;
  }
  InverseResult r;
  if (SameEllipsoid(ellipsoid, kWgs84)) {
    GeographicLib::Rhumb::WGS84().Inverse(lat1, lon1, lat2, lon2, r.metres, r.azimuth1_deg);
  } else {
    GeographicLib::Rhumb(ellipsoid.a, ellipsoid.f)
        .Inverse(lat1, lon1, lat2, lon2, r.metres, r.azimuth1_deg);
  }
  return r;
}

}  // namespace locus::engine
