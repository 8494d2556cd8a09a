// Tests kernels/geo.h on every compiled target against the <cmath> references with stated
// tolerances (the SIMD math is not bit-exact; see geo.h for the measured accuracy), over all
// sizes around the lane count, misaligned inputs, NaN-poisoned padding and red-zoned
// outputs; plus the places where geographic code goes wrong: poles, the antimeridian, the
// equator, identical and antipodal points, NaN and infinite inputs, and the consistency of
// unit vectors, chords and haversine metres with each other.
//
// Each accuracy test prints the largest error it saw ("max_abs_err" / "max_rel_err"), the
// numbers quoted in geo.h.
#include "kernels/geo.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "tests/testing/harness.h"

namespace locus::kernels {
namespace {

using ::locus::testing::kMisalignments;
using ::locus::testing::PaddedArray;
using ::locus::testing::RedZoneBuffer;
using ::locus::testing::SeedTrace;
using ::locus::testing::TestSeed;
using ::locus::testing::TestSizes;

constexpr double kPi = 3.14159265358979323846;
constexpr double kR = kEarthRadiusMetres;

class GeoTest : public ::locus::testing::PerTargetTest {};
LOCUS_INSTANTIATE_PER_TARGET(GeoTest);

template <typename T>
size_t Lanes() {
  return sizeof(T) == 4 ? LanesF32() : LanesF64();
}
template <typename T>
const char* TypeName() {
  return sizeof(T) == 4 ? "f32" : "f64";
}
template <typename T>
constexpr double Eps() {
  return static_cast<double>(std::numeric_limits<T>::epsilon());
}

// Tracks the largest absolute and relative errors seen, for the report line, and the inputs
// (two coordinates) where they happened. Relative errors are taken against
// max(|want|, rel_floor), so values near zero do not report meaningless ratios.
struct ErrorStats {
  explicit ErrorStats(double floor = 0) : rel_floor(floor) {}
  double rel_floor;
  double max_abs = 0, max_rel = 0, at0 = 0, at1 = 0, rel_at0 = 0, rel_at1 = 0;
  void Add(double got, double want, double in0 = 0, double in1 = 0) {
    const double abs = std::fabs(got - want);
    if (abs > max_abs) max_abs = abs, at0 = in0, at1 = in1;
    const double scale = std::max(std::fabs(want), rel_floor);
    if (scale != 0 && abs / scale > max_rel) max_rel = abs / scale, rel_at0 = in0, rel_at1 = in1;
  }
  void Print(const std::string& what) const {
    std::printf(
        "[ accuracy ] %-44s max_abs_err=%.3g (at %.9g, %.9g) max_rel_err=%.3g (at %.9g, "
        "%.9g)\n",
        what.c_str(), max_abs, at0, at1, max_rel, rel_at0, rel_at1);
  }
};

std::string Tag(const char* what, const char* type) {
  return std::string(what) + " " + type + " " + DispatchedTargetName();
}

// Seeded lon/lat: mostly the valid ranges, with exact specials (poles, antimeridian, equator,
// 0) and some out-of-range longitudes (reduced, not rejected); out-of-range latitudes too
// when `wide_lat` (unit vectors take any angle; haversine requires valid latitudes).
template <typename T>
void FillLonLat(PaddedArray<T>* lon, PaddedArray<T>* lat, size_t n, std::mt19937_64& rng,
                bool wide_lat) {
  std::uniform_real_distribution<double> ulon(-180, 180), ulat(-90, 90), wide(-1000, 1000);
  std::uniform_int_distribution<int> pick(0, 15);
  for (size_t i = 0; i < n; ++i) {
    double lo = ulon(rng), la = ulat(rng);
    switch (pick(rng)) {
      case 0:
        la = (rng() & 1) ? 90 : -90;
        break;
      case 1:
        lo = (rng() & 1) ? 180 : -180;
        break;
      case 2:
        la = 0;
        break;
      case 3:
        lo = wide(rng);
        break;
      case 4:
        la = wide_lat ? wide(rng) : la;
        break;
      default:
        break;
    }
    (*lon)[i] = static_cast<T>(lo);
    (*lat)[i] = static_cast<T>(la);
  }
}

// ---- LonLatToUnit --------------------------------------------------------------------------

template <typename T>
void CheckUnitVectors(double abs_tol, double norm_tol) {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE(SeedTrace(seed));
  std::mt19937_64 rng(seed);
  ErrorStats comp(1.0), norm;
  for (size_t n : TestSizes(Lanes<T>())) {
    for (size_t misalign : kMisalignments) {
      SCOPED_TRACE(::testing::Message() << "n=" << n << " misalign=" << misalign);
      const T nan = std::numeric_limits<T>::quiet_NaN();
      PaddedArray<T> lon(n, misalign, nan), lat(n, misalign, nan);  // poison: NaN padding
      FillLonLat(&lon, &lat, n, rng, /*wide_lat=*/true);
      RedZoneBuffer<T> x(n), y(n), z(n), wx(n), wy(n), wz(n);
      LonLatToUnit(lon.data(), lat.data(), n, x.data(), y.data(), z.data());
      reference::LonLatToUnit(lon.data(), lat.data(), n, wx.data(), wy.data(), wz.data());
      EXPECT_TRUE(x.RedZonesIntact() && y.RedZonesIntact() && z.RedZonesIntact());
      for (size_t i = 0; i < n; ++i) {
        SCOPED_TRACE(::testing::Message() << "lon=" << lon[i] << " lat=" << lat[i]);
        const double gx = x.data()[i], gy = y.data()[i], gz = z.data()[i];
        ASSERT_NEAR(gx, wx.data()[i], abs_tol);
        ASSERT_NEAR(gy, wy.data()[i], abs_tol);
        ASSERT_NEAR(gz, wz.data()[i], abs_tol);
        comp.Add(gx, wx.data()[i]);
        comp.Add(gy, wy.data()[i]);
        comp.Add(gz, wz.data()[i]);
        const double r = std::sqrt(gx * gx + gy * gy + gz * gz);
        ASSERT_NEAR(r, 1.0, norm_tol);
        norm.Add(r, 1.0);
      }
    }
  }
  comp.Print(Tag("LonLatToUnit components", TypeName<T>()));
  norm.Print(Tag("LonLatToUnit norm", TypeName<T>()));
}

TEST_P(GeoTest, UnitVectorsMatchReferenceF32) { CheckUnitVectors<float>(4e-7, 4e-7); }
TEST_P(GeoTest, UnitVectorsMatchReferenceF64) { CheckUnitVectors<double>(1e-15, 1e-15); }

// Poles, the antimeridian and the equator, with exact expectations.
template <typename T>
void CheckUnitVectorSpecials(double tol) {
  struct Case {
    double lon, lat, x, y, z;
  };
  const Case cases[] = {
      {0, 0, 1, 0, 0},
      {90, 0, 0, 1, 0},
      {-90, 0, 0, -1, 0},
      {180, 0, -1, 0, 0},
      {-180, 0, -1, 0, 0},
      {540, 0, -1, 0, 0},
      {360, 0, 1, 0, 0},
      {-720, 0, 1, 0, 0},
      {0, 90, 0, 0, 1},
      {123, 90, 0, 0, 1},
      {-45, -90, 0, 0, -1},
      {180, -90, 0, 0, -1},
      {45, 0, std::sqrt(0.5), std::sqrt(0.5), 0},
      {0, 45, std::sqrt(0.5), 0, std::sqrt(0.5)},
      {0, 180, -1, 0, 0},
      {0, -270, 0, 0, 1},  // latitudes past the poles are angles too
  };
  const size_t n = std::size(cases);
  PaddedArray<T> lon(n, 1, T(0)), lat(n, 1, T(0));
  for (size_t i = 0; i < n; ++i)
    lon[i] = static_cast<T>(cases[i].lon), lat[i] = static_cast<T>(cases[i].lat);
  RedZoneBuffer<T> x(n), y(n), z(n);
  LonLatToUnit(lon.data(), lat.data(), n, x.data(), y.data(), z.data());
  for (size_t i = 0; i < n; ++i) {
    SCOPED_TRACE(::testing::Message() << "lon=" << cases[i].lon << " lat=" << cases[i].lat);
    EXPECT_NEAR(x.data()[i], cases[i].x, tol);
    EXPECT_NEAR(y.data()[i], cases[i].y, tol);
    EXPECT_NEAR(z.data()[i], cases[i].z, tol);
  }
  EXPECT_TRUE(x.RedZonesIntact() && y.RedZonesIntact() && z.RedZonesIntact());
}

TEST_P(GeoTest, UnitVectorSpecialPointsF32) { CheckUnitVectorSpecials<float>(4e-7); }
TEST_P(GeoTest, UnitVectorSpecialPointsF64) { CheckUnitVectorSpecials<double>(1e-15); }

// ---- chord <-> metres ----------------------------------------------------------------------

TEST(GeoScalarTest, ChordConversionsClampAndKeepNaN) {
  EXPECT_EQ(MetresToChord(0.0), 0.0);
  EXPECT_EQ(MetresToChord(-5.0), 0.0);
  EXPECT_EQ(MetresToChord(kPi * kR), 2.0);
  EXPECT_EQ(MetresToChord(1e12), 2.0);
  EXPECT_EQ(MetresToChord(std::numeric_limits<double>::infinity()), 2.0);
  EXPECT_TRUE(std::isnan(MetresToChord(std::nan(""))));
  EXPECT_EQ(ChordToMetres(0.0), 0.0);
  EXPECT_EQ(ChordToMetres(-1.0), 0.0);
  EXPECT_EQ(ChordToMetres(2.0), kPi * kR);
  EXPECT_EQ(ChordToMetres(3.0), kPi * kR);
  EXPECT_TRUE(std::isnan(ChordToMetres(std::nan(""))));
  // The formulas themselves, and the round trip.
  EXPECT_EQ(MetresToChord(1000.0), 2 * std::sin(1000.0 / (2 * kR)));
  EXPECT_EQ(ChordToMetres(0.5), 2 * kR * std::asin(0.25));
  EXPECT_NEAR(ChordToMetres(MetresToChord(1000.0)), 1000.0, 1e-9);
  EXPECT_NEAR(MetresToChord(1000.0), 1000.0 / kR, 1e-12);  // the chord ~ the arc when short
  // A quarter of the great circle has chord sqrt(2).
  EXPECT_NEAR(MetresToChord(kPi / 2 * kR), std::sqrt(2.0), 4e-16);
}

template <typename T>
void CheckChordBatches(double chord_abs_tol, double metres_abs_tol) {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE(SeedTrace(seed));
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> um(-1000, kPi * kR * 1.01), uc(-0.01, 2.01);
  ErrorStats chord_err, metres_err;
  for (size_t n : TestSizes(Lanes<T>())) {
    for (size_t misalign : kMisalignments) {
      SCOPED_TRACE(::testing::Message() << "n=" << n << " misalign=" << misalign);
      const T nan = std::numeric_limits<T>::quiet_NaN();
      PaddedArray<T> m(n, misalign, nan), c(n, misalign, nan);
      for (size_t i = 0; i < n; ++i) {
        m[i] = static_cast<T>(i % 7 == 0 ? um(rng) * 1e-4 : um(rng));  // some short distances
        c[i] = static_cast<T>(i % 7 == 0 ? uc(rng) * 1e-4 : uc(rng));
      }
      RedZoneBuffer<T> got_c(n), want_c(n), got_m(n), want_m(n);
      MetresToChord(m.data(), n, got_c.data());
      reference::MetresToChord(m.data(), n, want_c.data());
      ChordToMetres(c.data(), n, got_m.data());
      reference::ChordToMetres(c.data(), n, want_m.data());
      EXPECT_TRUE(got_c.RedZonesIntact() && got_m.RedZonesIntact());
      for (size_t i = 0; i < n; ++i) {
        ASSERT_NEAR(got_c.data()[i], want_c.data()[i], chord_abs_tol) << "m=" << m[i];
        ASSERT_GE(got_c.data()[i], T(0));
        ASSERT_LE(got_c.data()[i], T(2));
        chord_err.Add(got_c.data()[i], want_c.data()[i]);
        ASSERT_NEAR(got_m.data()[i], want_m.data()[i], metres_abs_tol) << "c=" << c[i];
        ASSERT_GE(got_m.data()[i], T(0));
        ASSERT_LE(got_m.data()[i], static_cast<T>(kPi * kR));
        metres_err.Add(got_m.data()[i], want_m.data()[i]);
      }
    }
  }
  chord_err.Print(Tag("MetresToChord", TypeName<T>()));
  metres_err.Print(Tag("ChordToMetres", TypeName<T>()));
}

TEST_P(GeoTest, ChordBatchesMatchReferenceF32) { CheckChordBatches<float>(4e-7, 4.0); }
TEST_P(GeoTest, ChordBatchesMatchReferenceF64) { CheckChordBatches<double>(1e-15, 5e-9); }

// Clamps and NaN in the batches, exactly as the scalar functions.
template <typename T>
void CheckChordBatchEdges() {
  const T nan = std::numeric_limits<T>::quiet_NaN();
  const T inf = std::numeric_limits<T>::infinity();
  const T m_in[] = {T(0), T(-5), T(1e12), inf, -inf, nan, static_cast<T>(kPi * kR)};
  const T c_in[] = {T(0), T(-1), T(3), inf, -inf, nan, T(2)};
  const size_t n = std::size(m_in);
  PaddedArray<T> m(n, 0, T(0)), c(n, 0, T(0));
  for (size_t i = 0; i < n; ++i) m[i] = m_in[i], c[i] = c_in[i];
  RedZoneBuffer<T> chord(n), metres(n);
  MetresToChord(m.data(), n, chord.data());
  ChordToMetres(c.data(), n, metres.data());
  const T* ch = chord.data();
  const T* me = metres.data();
  EXPECT_EQ(ch[0], T(0));
  EXPECT_EQ(ch[1], T(0));
  EXPECT_NEAR(ch[2], 2.0, 4 * Eps<T>());
  EXPECT_NEAR(ch[3], 2.0, 4 * Eps<T>());
  EXPECT_EQ(ch[4], T(0));
  EXPECT_TRUE(std::isnan(ch[5]));
  EXPECT_NEAR(ch[6], 2.0, 4 * Eps<T>());
  EXPECT_EQ(me[0], T(0));
  EXPECT_EQ(me[1], T(0));
  EXPECT_NEAR(me[2], kPi * kR, 4 * Eps<T>() * kPi * kR);
  EXPECT_NEAR(me[3], kPi * kR, 4 * Eps<T>() * kPi * kR);
  EXPECT_EQ(me[4], T(0));
  EXPECT_TRUE(std::isnan(me[5]));
  EXPECT_NEAR(me[6], kPi * kR, 4 * Eps<T>() * kPi * kR);
  EXPECT_TRUE(chord.RedZonesIntact() && metres.RedZonesIntact());
}

TEST_P(GeoTest, ChordBatchEdgesF32) { CheckChordBatchEdges<float>(); }
TEST_P(GeoTest, ChordBatchEdgesF64) { CheckChordBatchEdges<double>(); }

// metres -> chord -> metres. The round trip is well conditioned except near pi R, where the
// chord's derivative vanishes (2 sin(m / 2R) is flat at m = pi R): there the error grows
// like R sqrt(eps).
template <typename T>
void CheckRoundTrip(double rel_tol) {
  const size_t n = 10001;
  PaddedArray<T> m(n, 0, T(0));
  for (size_t i = 0; i < n; ++i) m[i] = static_cast<T>(kPi * kR * static_cast<double>(i) / (n - 1));
  RedZoneBuffer<T> chord(n), back(n);
  MetresToChord(m.data(), n, chord.data());
  // The chord column is a kernel output, so it has no padding: copy it into a padded column.
  PaddedArray<T> padded(n, 0, T(0));
  for (size_t i = 0; i < n; ++i) padded[i] = chord.data()[i];
  ChordToMetres(padded.data(), n, back.data());
  ErrorStats err;
  for (size_t i = 0; i < n; ++i) {
    const double want = m[i];
    const double flat = kR * std::sqrt(8 * Eps<T>());  // near pi R
    const double tol = rel_tol * want + 1e-9 + (want > 0.9 * kPi * kR ? flat : 0.0);
    ASSERT_NEAR(back.data()[i], want, tol) << "m=" << want;
    if (want <= 0.9 * kPi * kR) err.Add(back.data()[i], want);
  }
  err.Print(Tag("metres->chord->metres (<= 0.9 pi R)", TypeName<T>()));
}

TEST_P(GeoTest, MetresChordRoundTripF32) { CheckRoundTrip<float>(1e-6); }
TEST_P(GeoTest, MetresChordRoundTripF64) { CheckRoundTrip<double>(4e-15); }

// ---- haversine -----------------------------------------------------------------------------

// Tolerance for a haversine distance d: a relative part, an absolute floor, and the formula's
// own ill-conditioning near antipodes, where d = 2R asin(sqrt(a)) has dd/da = R / sqrt(a (1 - a)),
// so an error of k eps in a becomes R k eps / sqrt(1 - a), capped at about 2R sqrt(k eps).
template <typename T>
double HaversineTol(double d, double rel, double abs) {
  const double k_eps = 8 * Eps<T>();
  const double s = std::sin(d / (2 * kR));
  const double one_minus_a = std::max(1 - s * s, k_eps);
  return abs + rel * d + kR * k_eps / std::sqrt(one_minus_a);
}

template <typename T>
void CheckHaversine(double rel, double abs) {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE(SeedTrace(seed));
  std::mt19937_64 rng(seed);
  // Queries: ordinary, on the antimeridian, at both poles, on the equator, out of range.
  const double queries[][2] = {{2.35, 48.85}, {180, 10}, {-180, -33}, {0, 90},
                               {77, -90},     {-70, 0},  {400, 80}};
  // Buckets by arc: short (< 90 degrees, well conditioned), long (90..179 degrees), and
  // near-antipodal (>= 179 degrees, where the formula itself is ill-conditioned).
  ErrorStats err_short(1.0), err_long(1.0), err_antipodal(1.0);
  for (const auto& qp : queries) {
    const T lon0 = static_cast<T>(qp[0]), lat0 = static_cast<T>(qp[1]);
    for (size_t n : TestSizes(Lanes<T>())) {
      for (size_t misalign : kMisalignments) {
        SCOPED_TRACE(::testing::Message() << "query=(" << qp[0] << ", " << qp[1] << ") n=" << n
                                          << " misalign=" << misalign);
        const T nan = std::numeric_limits<T>::quiet_NaN();
        PaddedArray<T> lon(n, misalign, nan), lat(n, misalign, nan);
        FillLonLat(&lon, &lat, n, rng, /*wide_lat=*/false);
        // Some points near the query, and some straddling the antimeridian from it.
        for (size_t i = 0; i < n; i += 5) {
          lon[i] =
              static_cast<T>(qp[0] + std::ldexp(static_cast<double>(rng() % 2000) - 1000, -12));
          lat[i] = static_cast<T>(std::clamp(
              qp[1] + std::ldexp(static_cast<double>(rng() % 2000) - 1000, -14), -90.0, 90.0));
        }
        RedZoneBuffer<T> got(n), want(n);
        HaversineMetres(lon.data(), lat.data(), n, lon0, lat0, got.data());
        reference::HaversineMetres(lon.data(), lat.data(), n, lon0, lat0, want.data());
        EXPECT_TRUE(got.RedZonesIntact());
        for (size_t i = 0; i < n; ++i) {
          const double g = got.data()[i], w = want.data()[i];
          ASSERT_FALSE(std::isnan(g)) << "lon=" << lon[i] << " lat=" << lat[i];
          ASSERT_NEAR(g, w, HaversineTol<T>(w, rel, abs)) << "lon=" << lon[i] << " lat=" << lat[i];
          ASSERT_GE(g, 0.0);
          ASSERT_LE(g, static_cast<T>(kPi * kR));
          ErrorStats& bucket = w < kPi * kR / 2               ? err_short
                               : w < 179.0 / 180.0 * kPi * kR ? err_long
                                                              : err_antipodal;
          bucket.Add(g, w, lon[i], lat[i]);
        }
      }
    }
  }
  err_short.Print(Tag("HaversineMetres (arc < 90 deg)", TypeName<T>()));
  err_long.Print(Tag("HaversineMetres (arc 90..179 deg)", TypeName<T>()));
  err_antipodal.Print(Tag("HaversineMetres (arc >= 179 deg)", TypeName<T>()));
}

TEST_P(GeoTest, HaversineMatchesReferenceF32) { CheckHaversine<float>(1e-6, 0.5); }
TEST_P(GeoTest, HaversineMatchesReferenceF64) { CheckHaversine<double>(4e-15, 1e-9); }

template <typename T>
void CheckHaversineSpecials(double tol_metres) {
  struct Case {
    double lon0, lat0, lon, lat, want;
  };
  const double pr = kPi * kR;
  const double deg = kPi * kR / 180;  // one degree of arc
  const Case cases[] = {
      {10, 20, 10, 20, 0},   // identical points: exactly 0
      {180, 0, -180, 0, 0},  // the same point, both antimeridian spellings
      {-180, 45, 180, 45, 0},
      {33, 90, -150, 90, 0},  // the north pole, any longitude
      {0, -90, 99, -90, 0},
      {0, 0, 180, 0, pr},          // antipodal on the equator
      {10, 30, -170, -30, pr},     // antipodal off the equator
      {0, 90, 0, -90, pr},         // pole to pole
      {179.5, 0, -179.5, 0, deg},  // straddling the antimeridian: 1 degree apart
      // 0.5 degrees of longitude at latitude 10, across the antimeridian (great circle).
      {-179.75, 10, 179.75, 10, 2 * kR * std::asin(std::cos(10 * kPi / 180) * std::sin(kPi / 720))},
      {0, 0, 90, 0, pr / 2},     // a quarter of the equator
      {0, 0, 0, 90, pr / 2},     // equator to pole
      {0, 0, 1, 0, deg},         // one degree along the equator
      {360, 0, 0, 1, deg},       // lon0 past the antimeridian, reduced
      {-720.5, 0, 0.5, 0, deg},  // and further
  };
  for (const Case& k : cases) {
    SCOPED_TRACE(::testing::Message() << "from (" << k.lon0 << ", " << k.lat0 << ") to (" << k.lon
                                      << ", " << k.lat << ")");
    PaddedArray<T> lon(1, 0, T(0)), lat(1, 0, T(0));
    lon[0] = static_cast<T>(k.lon), lat[0] = static_cast<T>(k.lat);
    RedZoneBuffer<T> got(1);
    HaversineMetres(lon.data(), lat.data(), 1, static_cast<T>(k.lon0), static_cast<T>(k.lat0),
                    got.data());
    const double g = got.data()[0];
    ASSERT_FALSE(std::isnan(g));
    EXPECT_TRUE(got.RedZonesIntact());
    if (k.lon0 == k.lon && k.lat0 == k.lat) {
      EXPECT_EQ(g, 0.0);  // identical inputs: exactly 0
    } else if (k.want == pr) {
      // The antipode is where haversine is ill-conditioned (see geo.h): about 2R sqrt(eps).
      EXPECT_NEAR(g, pr, 2 * kR * std::sqrt(8 * Eps<T>()));
      EXPECT_LE(g, static_cast<T>(pr));
    } else {
      EXPECT_NEAR(g, k.want, tol_metres + 4 * Eps<T>() * k.want);
    }
  }
}

TEST_P(GeoTest, HaversineSpecialPointsF32) { CheckHaversineSpecials<float>(0.5); }
TEST_P(GeoTest, HaversineSpecialPointsF64) { CheckHaversineSpecials<double>(1e-8); }

// NaN or infinite coordinates give NaN in every output, never a plausible number; the
// neighbouring rows are unaffected.
template <typename T>
void CheckNaNs() {
  const T nan = std::numeric_limits<T>::quiet_NaN();
  const T inf = std::numeric_limits<T>::infinity();
  const size_t n = 3 * Lanes<T>() + 2;
  PaddedArray<T> lon(n, 1, T(0)), lat(n, 1, T(0));
  for (size_t i = 0; i < n; ++i) lon[i] = T(10), lat[i] = T(20);
  std::vector<bool> bad(n, false);
  for (size_t i = 0; i < n; i += 3) {
    switch ((i / 3) % 4) {
      case 0:
        lon[i] = nan;
        break;
      case 1:
        lat[i] = nan;
        break;
      case 2:
        lon[i] = inf;
        break;
      default:
        lat[i] = -inf;
        break;
    }
    bad[i] = true;
  }
  RedZoneBuffer<T> x(n), y(n), z(n), d(n);
  LonLatToUnit(lon.data(), lat.data(), n, x.data(), y.data(), z.data());
  HaversineMetres(lon.data(), lat.data(), n, T(10), T(20), d.data());
  for (size_t i = 0; i < n; ++i) {
    SCOPED_TRACE(::testing::Message() << "i=" << i << " lon=" << lon[i] << " lat=" << lat[i]);
    EXPECT_EQ(std::isnan(d.data()[i]), bad[i]);
    if (!bad[i]) {
      EXPECT_EQ(d.data()[i], T(0));
    }
    // A bad longitude poisons x and y; a bad latitude poisons all three.
    const bool bad_lat = std::isnan(lat[i]) || std::isinf(lat[i]);
    EXPECT_EQ(std::isnan(x.data()[i]), bad[i]);
    EXPECT_EQ(std::isnan(y.data()[i]), bad[i]);
    EXPECT_EQ(std::isnan(z.data()[i]), bad_lat);
  }
  // A NaN query poisons every distance.
  HaversineMetres(lon.data(), lat.data(), n, nan, T(20), d.data());
  for (size_t i = 0; i < n; ++i) EXPECT_TRUE(std::isnan(d.data()[i])) << i;
  HaversineMetres(lon.data(), lat.data(), n, T(10), nan, d.data());
  for (size_t i = 0; i < n; ++i) EXPECT_TRUE(std::isnan(d.data()[i])) << i;
  EXPECT_TRUE(x.RedZonesIntact() && y.RedZonesIntact() && z.RedZonesIntact() && d.RedZonesIntact());
}

TEST_P(GeoTest, NaNAndInfinityGiveNaNF32) { CheckNaNs<float>(); }
TEST_P(GeoTest, NaNAndInfinityGiveNaNF64) { CheckNaNs<double>(); }

// The three representations agree: the Euclidean distance between two unit vectors equals
// MetresToChord(haversine distance), all computed by the kernels.
template <typename T>
void CheckConsistency(double tol) {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE(SeedTrace(seed));
  std::mt19937_64 rng(seed);
  const size_t n = 4099;
  PaddedArray<T> lon(n, 0, T(0)), lat(n, 0, T(0));
  FillLonLat(&lon, &lat, n, rng, /*wide_lat=*/false);
  ErrorStats err(1e-3);
  for (size_t q = 0; q < 16; ++q) {
    const T lon0 = lon[q * 7], lat0 = lat[q * 7];
    PaddedArray<T> qlon(1, 0, lon0), qlat(1, 0, lat0);
    RedZoneBuffer<T> x(n), y(n), z(n), qx(1), qy(1), qz(1), d(n);
    LonLatToUnit(lon.data(), lat.data(), n, x.data(), y.data(), z.data());
    LonLatToUnit(qlon.data(), qlat.data(), 1, qx.data(), qy.data(), qz.data());
    HaversineMetres(lon.data(), lat.data(), n, lon0, lat0, d.data());
    PaddedArray<T> dp(n, 0, T(0));
    for (size_t i = 0; i < n; ++i) dp[i] = d.data()[i];
    RedZoneBuffer<T> chord(n);
    MetresToChord(dp.data(), n, chord.data());
    for (size_t i = 0; i < n; ++i) {
      const double dx = double(x.data()[i]) - qx.data()[0];
      const double dy = double(y.data()[i]) - qy.data()[0];
      const double dz = double(z.data()[i]) - qz.data()[0];
      const double euclid = std::sqrt(dx * dx + dy * dy + dz * dz);
      ASSERT_NEAR(euclid, chord.data()[i], tol) << "lon=" << lon[i] << " lat=" << lat[i];
      err.Add(euclid, chord.data()[i], lon[i], lat[i]);
    }
  }
  err.Print(Tag("|u(p) - u(q)| vs MetresToChord(haversine)", TypeName<T>()));
}

TEST_P(GeoTest, UnitVectorsChordsAndHaversineAgreeF32) { CheckConsistency<float>(1e-6); }
TEST_P(GeoTest, UnitVectorsChordsAndHaversineAgreeF64) { CheckConsistency<double>(4e-15); }

}  // namespace
}  // namespace locus::kernels
