// Dispatch table and entry points for kernels/geo.h, and the scalar chord conversions.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/geo.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include <algorithm>
#include <cmath>

#include "hwy/highway.h"
#include "kernels/geo-inl.h"
#include "kernels/geo.h"

HWY_BEFORE_NAMESPACE();
namespace locus::kernels {
namespace HWY_NAMESPACE {

template <typename T>
void LonLatToUnitT(const T* HWY_RESTRICT lon, const T* HWY_RESTRICT lat, size_t n,
                   T* HWY_RESTRICT x, T* HWY_RESTRICT y, T* HWY_RESTRICT z) {
  const hn::ScalableTag<T> d;
  const size_t N = hn::Lanes(d);
  for (size_t i = 0; i < n; i += N) {
    const size_t count = std::min(N, n - i);
    hn::Vec<decltype(d)> vx, vy, vz;
    UnitVec(d, hn::LoadU(d, lon + i), hn::LoadU(d, lat + i), &vx, &vy, &vz);
    StoreFirst(d, vx, count, x + i);
    StoreFirst(d, vy, count, y + i);
    StoreFirst(d, vz, count, z + i);
  }
}

template <typename T>
void HaversineMetresT(const T* HWY_RESTRICT lon, const T* HWY_RESTRICT lat, size_t n, T lon0,
                      T lat0, T* HWY_RESTRICT out) {
  const hn::ScalableTag<T> d;
  const size_t N = hn::Lanes(d);
  // The query's cosine once, in double with <cmath> (std::cos reduces any argument).
  const HaversineQuery<T> q{lon0, lat0,
                            static_cast<T>(std::cos(static_cast<double>(lat0) * (kPi / 180.0)))};
  for (size_t i = 0; i < n; i += N) {
    StoreFirst(d, HaversineVec(d, hn::LoadU(d, lon + i), hn::LoadU(d, lat + i), q),
               std::min(N, n - i), out + i);
  }
}

template <typename T>
void MetresToChordT(const T* HWY_RESTRICT m, size_t n, T* HWY_RESTRICT out) {
  const hn::ScalableTag<T> d;
  const size_t N = hn::Lanes(d);
  for (size_t i = 0; i < n; i += N) {
    StoreFirst(d, MetresToChordVec(d, hn::LoadU(d, m + i)), std::min(N, n - i), out + i);
  }
}

template <typename T>
void ChordToMetresT(const T* HWY_RESTRICT c, size_t n, T* HWY_RESTRICT out) {
  const hn::ScalableTag<T> d;
  const size_t N = hn::Lanes(d);
  for (size_t i = 0; i < n; i += N) {
    StoreFirst(d, ChordToMetresVec(d, hn::LoadU(d, c + i)), std::min(N, n - i), out + i);
  }
}

// HWY_EXPORT needs one plain function name per entry.
#define LOCUS_DEFINE(T, S)                                                                 \
  void LonLatToUnit##S(const T* lon, const T* lat, size_t n, T* x, T* y, T* z) {           \
    LonLatToUnitT(lon, lat, n, x, y, z);                                                   \
  }                                                                                        \
  void HaversineMetres##S(const T* lon, const T* lat, size_t n, T lon0, T lat0, T* out) {  \
    HaversineMetresT(lon, lat, n, lon0, lat0, out);                                        \
  }                                                                                        \
  void MetresToChord##S(const T* m, size_t n, T* out) { MetresToChordT(m, n, out); }       \
  void ChordToMetres##S(const T* c, size_t n, T* out) { ChordToMetresT(c, n, out); }
LOCUS_DEFINE(float, F32)
LOCUS_DEFINE(double, F64)
#undef LOCUS_DEFINE

}  // namespace HWY_NAMESPACE
}  // namespace locus::kernels
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace locus::kernels {

#define LOCUS_EXPORT(S)            \
  HWY_EXPORT(LonLatToUnit##S);     \
  HWY_EXPORT(HaversineMetres##S);  \
  HWY_EXPORT(MetresToChord##S);    \
  HWY_EXPORT(ChordToMetres##S)
LOCUS_EXPORT(F32);
LOCUS_EXPORT(F64);
#undef LOCUS_EXPORT

#define LOCUS_ENTRY(T, S)                                                                  \
  void LonLatToUnit(const T* lon_deg, const T* lat_deg, size_t n, T* x, T* y, T* z) {      \
    HWY_DYNAMIC_DISPATCH(LonLatToUnit##S)(lon_deg, lat_deg, n, x, y, z);                   \
  }                                                                                        \
  void HaversineMetres(const T* lon, const T* lat, size_t n, T lon0, T lat0,               \
                       T* out_metres) {                                                    \
    HWY_DYNAMIC_DISPATCH(HaversineMetres##S)(lon, lat, n, lon0, lat0, out_metres);         \
  }                                                                                        \
  void MetresToChord(const T* metres, size_t n, T* chord) {                                \
    HWY_DYNAMIC_DISPATCH(MetresToChord##S)(metres, n, chord);                              \
  }                                                                                        \
  void ChordToMetres(const T* chord, size_t n, T* metres) {                                \
    HWY_DYNAMIC_DISPATCH(ChordToMetres##S)(chord, n, metres);                              \
  }
LOCUS_ENTRY(float, F32)
LOCUS_ENTRY(double, F64)
#undef LOCUS_ENTRY

double MetresToChord(double metres) {
  constexpr double kPi = 3.14159265358979323846;
  if (metres < 0) metres = 0;
  if (metres > kPi * kEarthRadiusMetres) metres = kPi * kEarthRadiusMetres;
  return 2 * std::sin(metres / (2 * kEarthRadiusMetres));  // NaN stays NaN
}

double ChordToMetres(double chord) {
  if (chord < 0) chord = 0;
  if (chord > 2) chord = 2;
  return 2 * kEarthRadiusMetres * std::asin(chord / 2);  // NaN stays NaN
}

}  // namespace locus::kernels
#endif  // HWY_ONCE
