// engine/sphere.h (unit vectors, chords, sphere boxes of lon/lat rectangles) and
// engine::KeepInside (polygon.h), against direct oracles on seeded points: rectangles that
// touch the poles, span 0 / +-90 / +-180 degrees of longitude, and cross the antimeridian.
#include "engine/sphere.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "engine/geodesy.h"
#include "engine/polygon.h"
#include "kernels/geo.h"
#include "tests/testing/harness.h"

namespace locus::engine {
namespace {

TEST(SphereTest, UnitVectorMatchesTheBatchKernelBitForBit) {
  std::mt19937_64 rng(::locus::testing::TestSeed());
  std::uniform_real_distribution<double> lon(-180, 180), lat(-90, 90);
  const size_t n = 1000;
  kernels::Column<double> lo(n), la(n), x(n), y(n), z(n);
  for (size_t i = 0; i < n; ++i) {
    lo[i] = lon(rng);
    la[i] = lat(rng);
  }
  lo[0] = 180, la[0] = 90, lo[1] = -180, la[1] = -90;  // the extremes
  kernels::LonLatToUnit(lo.data(), la.data(), n, x.data(), y.data(), z.data());
  for (size_t i = 0; i < n; ++i) {
    const auto u = UnitVector(lo[i], la[i]);
    EXPECT_EQ(u[0], x[i]) << i;
    EXPECT_EQ(u[1], y[i]) << i;
    EXPECT_EQ(u[2], z[i]) << i;
    EXPECT_NEAR(u[0] * u[0] + u[1] * u[1] + u[2] * u[2], 1.0, 1e-15);
  }
}

TEST(SphereTest, SquaredChordsAreHaversineMetres) {
  std::mt19937_64 rng(::locus::testing::TestSeed());
  std::uniform_real_distribution<double> lon(-180, 180), lat(-90, 90);
  for (int i = 0; i < 1000; ++i) {
    const Point2 p{lon(rng), lat(rng)}, q{lon(rng), lat(rng)};
    const auto a = UnitVector(p.x, p.y), b = UnitVector(q.x, q.y);
    const double chord_sq = (a[0] - b[0]) * (a[0] - b[0]) + (a[1] - b[1]) * (a[1] - b[1]) +
                            (a[2] - b[2]) * (a[2] - b[2]);
    const double metres = Distance(DistanceMethod::kHaversine, p, q).value();
    EXPECT_NEAR(MetresOfSquaredChord(chord_sq), metres, 1e-6 + 1e-9 * metres) << i;
    EXPECT_NEAR(SquaredChordOfMetres(metres), chord_sq, 1e-12) << i;
  }
  EXPECT_EQ(SquaredChordOfMetres(0), 0);
  EXPECT_EQ(MetresOfSquaredChord(0), 0);
}

bool Inside(const std::array<double, 3>& u, const std::array<double, 3>& lo,
            const std::array<double, 3>& hi) {
  for (int a = 0; a < 3; ++a) {
    if (!(u[a] >= lo[a] && u[a] <= hi[a])) return false;
  }
  return true;
}

// Every point of the rectangle (corners, edges, a grid and random interior points) has its
// unit vector inside the rectangle's sphere box.
void ExpectBoxHoldsRectangle(double w, double e, double s, double n, std::mt19937_64& rng) {
  std::array<double, 3> lo, hi;
  SphereBox(w, e, s, n, &lo, &hi);
  std::uniform_real_distribution<double> ulon(w, e), ulat(s, n);
  std::vector<Point2> pts = {{w, s}, {w, n}, {e, s}, {e, n}};
  for (int i = 0; i <= 16; ++i) {
    for (int j = 0; j <= 16; ++j) pts.push_back({w + (e - w) * i / 16, s + (n - s) * j / 16});
  }
  for (double special : {-180.0, -90.0, 0.0, 90.0, 180.0}) {
    if (special >= w && special <= e) pts.push_back({special, (s + n) / 2});
  }
  for (int i = 0; i < 200; ++i) pts.push_back({ulon(rng), ulat(rng)});
  for (const Point2& p : pts) {
    EXPECT_TRUE(Inside(UnitVector(p.x, p.y), lo, hi))
        << "(" << p.x << ", " << p.y << ") outside the box of [" << w << ", " << e << "] x ["
        << s << ", " << n << "]";
  }
}

TEST(SphereTest, SphereBoxHoldsEveryPointOfItsRectangle) {
  std::mt19937_64 rng(::locus::testing::TestSeed());
  // Named cases: whole sphere, poles, across 0 / 90 / 180, a degenerate point and lines.
  const double cases[][4] = {{-180, 180, -90, 90}, {-10, 10, 80, 90},  {170, 180, -90, -80},
                             {-5, 5, -5, 5},       {80, 100, 10, 20},  {-100, -80, -20, -10},
                             {-180, -170, 0, 1},   {3, 3, 4, 4},       {3, 3, -90, 90},
                             {-180, 180, 45, 45}};
  for (const auto& c : cases) ExpectBoxHoldsRectangle(c[0], c[1], c[2], c[3], rng);
  std::uniform_real_distribution<double> lon(-180, 180), lat(-90, 90);
  for (int i = 0; i < 300; ++i) {
    double w = lon(rng), e = lon(rng), s = lat(rng), n = lat(rng);
    if (w > e) std::swap(w, e);
    if (s > n) std::swap(s, n);
    ExpectBoxHoldsRectangle(w, e, s, n, rng);
  }
}

TEST(SphereTest, SphereBoxIsNotTheWholeCube) {
  // A 1-degree square at the equator: the box is about 0.0175 wide on y and z.
  std::array<double, 3> lo, hi;
  SphereBox(0, 1, 0, 1, &lo, &hi);
  EXPECT_LT(hi[1] - lo[1], 0.02);
  EXPECT_LT(hi[2] - lo[2], 0.02);
  EXPECT_GT(lo[0], 0.99);
}

TEST(SphereTest, SphereBoxesSplitAtTheAntimeridian) {
  SpherePiece pieces[2];
  ASSERT_EQ(SphereBoxes(-10, 10, -5, 5, pieces), 1u);
  EXPECT_EQ(pieces[0].west, -10);
  EXPECT_EQ(pieces[0].east, 10);
  ASSERT_EQ(SphereBoxes(170, -170, -5, 5, pieces), 2u);
  EXPECT_EQ(pieces[0].west, 170);
  EXPECT_EQ(pieces[0].east, 180);
  EXPECT_EQ(pieces[1].west, -180);
  EXPECT_EQ(pieces[1].east, -170);
  // A point on either side is in one piece's box and lon range; 0 is in neither range.
  for (double lon : {175.0, -175.0, 180.0, -180.0}) {
    const auto u = UnitVector(lon, 0);
    const bool in0 = Inside(u, pieces[0].lo, pieces[0].hi) &&
                     InLonLatBox(lon, 0, pieces[0].west, pieces[0].east, -5, 5);
    const bool in1 = Inside(u, pieces[1].lo, pieces[1].hi) &&
                     InLonLatBox(lon, 0, pieces[1].west, pieces[1].east, -5, 5);
    EXPECT_TRUE(in0 || in1) << lon;
  }
  EXPECT_FALSE(InLonLatBox(0, 0, pieces[0].west, pieces[0].east, -5, 5));
  EXPECT_FALSE(InLonLatBox(0, 0, pieces[1].west, pieces[1].east, -5, 5));
}

TEST(KeepInsideTest, MatchesContainsPointByPointAcrossChunks) {
  std::mt19937_64 rng(::locus::testing::TestSeed());
  // A square with a square hole; points on the edges count as inside (closed polygon).
  auto polygon = Polygon::Make({{{0, 0}, {10, 0}, {10, 10}, {0, 10}},
                                {{4, 4}, {6, 4}, {6, 6}, {4, 6}}})
                     .value();
  std::uniform_int_distribution<int> grid(-4, 44);  // quarter units: many boundary points
  std::vector<Point2> pts(1000);
  for (Point2& p : pts) p = {grid(rng) / 4.0, grid(rng) / 4.0};
  std::vector<uint32_t> keys;
  for (uint32_t k = 0; k < pts.size(); ++k) keys.push_back(k);
  std::vector<uint32_t> expected;
  for (uint32_t k : keys) {
    if (polygon.Contains(pts[k])) expected.push_back(k);
  }
  ASSERT_GT(expected.size(), 256u);  // more than one chunk inside
  KeepInside(polygon, &keys, [&](uint32_t k) { return pts[k]; });
  EXPECT_EQ(keys, expected);
  std::vector<uint32_t> none;
  KeepInside(polygon, &none, [&](uint32_t k) { return pts[k]; });
  EXPECT_TRUE(none.empty());
}

}  // namespace
}  // namespace locus::engine
