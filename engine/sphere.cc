// Geographic coordinates on the unit sphere (sphere.h).
#include "engine/sphere.h"

#include <algorithm>
#include <cmath>

#include "kernels/geo.h"

namespace locus::engine {

std::array<double, 3> UnitVector(double lon, double lat) {
  // The batch kernel reads 16 elements past n: pad the single point (it writes only out[0]).
  const double lo[17] = {lon}, la[17] = {lat};
  double x, y, z;
  kernels::LonLatToUnit(lo, la, 1, &x, &y, &z);
  return {x, y, z};
}

double SquaredChordOfMetres(double metres) {
  const double chord = kernels::MetresToChord(metres);
  return chord * chord;
}

double MetresOfSquaredChord(double chord_sq) { return kernels::ChordToMetres(std::sqrt(chord_sq)); }

void SphereBox(double w, double e, double s, double n, std::array<double, 3>* lo,
               std::array<double, 3>* hi) {
  constexpr double kDeg = 3.14159265358979323846 / 180;
  // x = cos(lat) cos(lon), y = cos(lat) sin(lon), z = sin(lat): bound cos(lat) over
  // [s, n] and cos(lon), sin(lon) over [w, e] (extrema at the ends or where the range
  // crosses 0, +-90 or +-180 degrees), then each product by its four corner values.
  const double cos_s = std::cos(s * kDeg), cos_n = std::cos(n * kDeg);
  const double cmax = (s <= 0 && n >= 0) ? 1.0 : std::max(cos_s, cos_n);
  const double cmin = std::min(cos_s, cos_n);
  double clo = std::min(std::cos(w * kDeg), std::cos(e * kDeg));
  double chi = std::max(std::cos(w * kDeg), std::cos(e * kDeg));
  if (w <= 0 && e >= 0) chi = 1;
  if (w <= -180 || e >= 180) clo = -1;
  double slo = std::min(std::sin(w * kDeg), std::sin(e * kDeg));
  double shi = std::max(std::sin(w * kDeg), std::sin(e * kDeg));
  if (w <= 90 && e >= 90) shi = 1;
  if (w <= -90 && e >= -90) slo = -1;
  auto range = [&](double a, double b, double* out_lo, double* out_hi) {
    const double c[4] = {cmin * a, cmin * b, cmax * a, cmax * b};
    *out_lo = *std::min_element(c, c + 4);
    *out_hi = *std::max_element(c, c + 4);
  };
  range(clo, chi, &(*lo)[0], &(*hi)[0]);
  range(slo, shi, &(*lo)[1], &(*hi)[1]);
  (*lo)[2] = std::sin(s * kDeg);
  (*hi)[2] = std::sin(n * kDeg);
  constexpr double kPad = 1e-12;
  for (int a = 0; a < 3; ++a) {
    (*lo)[a] -= kPad;
    (*hi)[a] += kPad;
  }
}

size_t SphereBoxes(double west, double east, double south, double north, SpherePiece out[2]) {
  size_t n = 0;
  auto add = [&](double w, double e) {
    out[n] = {w, e, {}, {}};
    SphereBox(w, e, south, north, &out[n].lo, &out[n].hi);
    ++n;
  };
  if (west <= east) {
    add(west, east);
  } else {
    add(west, 180.0);
    add(-180.0, east);
  }
  return n;
}

}  // namespace locus::engine
