// Scalar <cmath> references for kernels/geo.h: the textbook formulas evaluated in double
// (also for float inputs, so a float kernel is measured against the nearly exact value of
// its own inputs) and rounded to T once at the end. Angles are reduced with std::remainder
// (exact) before the conversion to radians, so large or out-of-range angles do not lose
// accuracy to a rounded radian argument.
#include <cmath>
#include <cstddef>

#include "kernels/geo.h"

namespace locus::kernels::reference {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kDegToRad = kPi / 180.0;

// Returns deg reduced modulo 360 to [-180, 180], in radians.
double Radians(double deg) { return std::remainder(deg, 360.0) * kDegToRad; }

}  // namespace

template <typename T>
void LonLatToUnit(const T* lon_deg, const T* lat_deg, size_t n, T* x, T* y, T* z) {
  for (size_t i = 0; i < n; ++i) {
    const double lon = Radians(static_cast<double>(lon_deg[i]));
    const double lat = Radians(static_cast<double>(lat_deg[i]));
    x[i] = static_cast<T>(std::cos(lat) * std::cos(lon));
    y[i] = static_cast<T>(std::cos(lat) * std::sin(lon));
    z[i] = static_cast<T>(std::sin(lat));
  }
}

template <typename T>
void MetresToChord(const T* metres, size_t n, T* chord) {
  for (size_t i = 0; i < n; ++i) {
    chord[i] = static_cast<T>(kernels::MetresToChord(static_cast<double>(metres[i])));
  }
}

template <typename T>
void ChordToMetres(const T* chord, size_t n, T* metres) {
  for (size_t i = 0; i < n; ++i) {
    metres[i] = static_cast<T>(kernels::ChordToMetres(static_cast<double>(chord[i])));
  }
}

template <typename T>
void HaversineMetres(const T* lon, const T* lat, size_t n, T lon0, T lat0, T* out_metres) {
  const double phi0 = Radians(static_cast<double>(lat0));
  for (size_t i = 0; i < n; ++i) {
    const double phi = Radians(static_cast<double>(lat[i]));
    const double dphi = Radians(static_cast<double>(lat[i]) - static_cast<double>(lat0));
    const double dlambda = Radians(static_cast<double>(lon[i]) - static_cast<double>(lon0));
    const double s_phi = std::sin(dphi / 2);
    const double s_lambda = std::sin(dlambda / 2);
    double a = s_phi * s_phi + std::cos(phi0) * std::cos(phi) * s_lambda * s_lambda;
    if (a < 0) a = 0;
    if (a > 1) a = 1;  // NaN stays NaN
    out_metres[i] = static_cast<T>(2 * kEarthRadiusMetres * std::asin(std::sqrt(a)));
  }
}

#define LOCUS_INSTANTIATE(T)                                             \
  template void LonLatToUnit<T>(const T*, const T*, size_t, T*, T*, T*); \
  template void MetresToChord<T>(const T*, size_t, T*);                  \
  template void ChordToMetres<T>(const T*, size_t, T*);                  \
  template void HaversineMetres<T>(const T*, const T*, size_t, T, T, T*);
LOCUS_INSTANTIATE(float)
LOCUS_INSTANTIATE(double)
#undef LOCUS_INSTANTIATE

}  // namespace locus::kernels::reference
