// engine/motion.h: the interpolation rule, segment boxes, first entry into regions, and the
// approach of two moving points, each against dense sampling of the same motion (the oracle:
// positions at many instants, tested with the point predicates), on planar segments and on
// great-circle arcs across the antimeridian and near the poles.
#include "engine/motion.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "engine/sphere.h"
#include "tests/testing/harness.h"

namespace locus::engine {
namespace {

constexpr int kDense = 2000;  // samples per segment for the oracle

// A random segment: planar in [-100, 100]^2, or geographic anywhere (a quarter of them across
// the antimeridian, a quarter within 2 degrees of a pole), at most `span` degrees long.
std::pair<Fix, Fix> RandomSegment(std::mt19937_64& rng, Space space) {
  std::uniform_real_distribution<double> u(0, 1);
  Fix a, b;
  a.t = static_cast<int64_t>(u(rng) * 1e6);
  b.t = a.t + 1 + static_cast<int64_t>(u(rng) * 20000);
  if (space != Space::kSphere) {
    a.x = -100 + 200 * u(rng), a.y = -100 + 200 * u(rng);
    b.x = a.x + (u(rng) - 0.5) * 60, b.y = a.y + (u(rng) - 0.5) * 60;
    a.z = u(rng) * 10, b.z = u(rng) * 10;
    if (u(rng) < 0.1) b.x = a.x;  // axis-parallel
    if (u(rng) < 0.05) b.x = a.x, b.y = a.y;  // stationary
    return {a, b};
  }
  const double kind = u(rng);
  if (kind < 0.25) {
    a.x = 178 + 2 * u(rng), b.x = -180 + 2 * u(rng);
    a.y = -60 + 120 * u(rng), b.y = a.y + (u(rng) - 0.5) * 2;
  } else if (kind < 0.5) {
    a.y = 88 + 2 * u(rng) * 0.99, b.y = 88 + 2 * u(rng) * 0.99;
    a.x = -180 + 360 * u(rng), b.x = -180 + 360 * u(rng);
  } else {
    a.x = -180 + 360 * u(rng), a.y = -80 + 160 * u(rng);
    b.x = std::remainder(a.x + (u(rng) - 0.5) * 4, 360.0);
    b.y = std::max(-89.0, std::min(89.0, a.y + (u(rng) - 0.5) * 4));
  }
  return {a, b};
}

double TimeAt(const Fix& a, const Fix& b, int i) {
  return static_cast<double>(a.t) + static_cast<double>(b.t - a.t) * i / kDense;
}

TEST(MotionTest, InterpolateReturnsTheSamplesAtTheirTimes) {
  std::mt19937_64 rng(::locus::testing::TestSeed());
  for (Space space : {Space::kPlanar2D, Space::kSphere}) {
    for (int i = 0; i < 200; ++i) {
      auto [a, b] = RandomSegment(rng, space);
      EXPECT_EQ(Interpolate(a, b, static_cast<double>(a.t), space), a);
      EXPECT_EQ(Interpolate(a, b, static_cast<double>(b.t), space), b);
    }
  }
}

TEST(MotionTest, SphereInterpolationIsConstantSpeedOnTheGreatCircle) {
  std::mt19937_64 rng(::locus::testing::TestSeed());
  for (int i = 0; i < 200; ++i) {
    auto [a, b] = RandomSegment(rng, Space::kSphere);
    const double total = MotionDistance(a, b, Space::kSphere);
    if (total < 1) continue;
    for (double s : {0.1, 0.25, 0.5, 0.9}) {
      const Fix p = Interpolate(a, b, a.t + s * (b.t - a.t), Space::kSphere);
      // On the arc: the two parts add up to the whole; at the speed: the part is s of it.
      EXPECT_NEAR(MotionDistance(a, p, Space::kSphere) + MotionDistance(p, b, Space::kSphere),
                  total, 1e-6 * total + 1e-6);
      EXPECT_NEAR(MotionDistance(a, p, Space::kSphere), s * total, 1e-6 * total + 1e-6);
      EXPECT_GE(p.x, -180);
      EXPECT_LE(p.x, 180);
    }
  }
}

TEST(MotionTest, PlanarInterpolationIsLinear) {
  const Fix a{0, 0, 0, 0}, b{100, 10, -20, 4};
  const Fix p = Interpolate(a, b, 25, Space::kPlanar3D);
  EXPECT_DOUBLE_EQ(p.x, 2.5);
  EXPECT_DOUBLE_EQ(p.y, -5);
  EXPECT_DOUBLE_EQ(p.z, 1);
}

bool InBoxUnwrapped(const SpaceTimeBox& box, const Fix& p) {
  if (p.y < box.min_y || p.y > box.max_y) return false;
  for (double shift : {0.0, 360.0}) {
    if (p.x + shift >= box.min_x && p.x + shift <= box.max_x) return true;
  }
  return false;
}

TEST(MotionTest, SegmentBoxHoldsEveryPosition) {
  std::mt19937_64 rng(::locus::testing::TestSeed());
  for (Space space : {Space::kPlanar2D, Space::kSphere}) {
    for (int i = 0; i < 300; ++i) {
      auto [a, b] = RandomSegment(rng, space);
      const SpaceTimeBox box = SegmentBox(a, b, space);
      EXPECT_GE(box.min_x, -180.0 - 1e-6 - (space == Space::kSphere ? 0 : 1e9));
      for (int k = 0; k <= 200; ++k) {
        const Fix p = Interpolate(a, b, a.t + (b.t - a.t) * k / 200.0, space);
        ASSERT_TRUE(InBoxUnwrapped(box, p))
            << "segment (" << a.x << "," << a.y << ") -> (" << b.x << "," << b.y << ") at "
            << k << ": (" << p.x << "," << p.y << ") outside [" << box.min_x << "," << box.max_x
            << "]x[" << box.min_y << "," << box.max_y << "]";
      }
    }
  }
}

TEST(MotionTest, ShortArcBoxesHoldEveryPositionAndStayTight) {
  // The short-arc bound of SegmentBox (no arc trigonometry): vehicle-sized to ~60 km steps,
  // at every latitude up to the poles (where the general path takes over), across the
  // antimeridian.
  std::mt19937_64 rng(::locus::testing::TestSeed());
  std::uniform_real_distribution<double> u(0, 1);
  for (int i = 0; i < 3000; ++i) {
    const double lat = -89.9 + 179.8 * u(rng);
    const double lon = i % 5 == 0 ? 179.99 : -180 + 360 * u(rng);
    const double len = std::pow(10, -5 + 4.7 * u(rng));  // degrees: ~1 m to ~55 km
    const double dir = 2 * 3.14159265358979 * u(rng);
    Fix a{0, lon, lat, 0};
    Fix b{1000, std::remainder(lon + len * std::cos(dir), 360.0),
          std::clamp(lat + len * std::sin(dir), -90.0, 90.0), 0};
    const SpaceTimeBox box = SegmentBox(a, b, Space::kSphere);
    double top = -90, bottom = 90;
    for (int k = 0; k <= 100; ++k) {
      const Fix p = Interpolate(a, b, 10.0 * k, Space::kSphere);
      top = std::max(top, p.y), bottom = std::min(bottom, p.y);
      ASSERT_TRUE(InBoxUnwrapped(box, p))
          << "segment (" << a.x << "," << a.y << ") -> (" << b.x << "," << b.y << ") at " << k
          << ": (" << p.x << "," << p.y << ") outside [" << box.min_x << "," << box.max_x
          << "]x[" << box.min_y << "," << box.max_y << "]";
    }
    if (std::abs(lat) < 80) {  // tight: the bulge bound is second order in the length
      EXPECT_LT(box.max_y - top, 1e-6 + 0.05 * len * len) << a.y << " -> " << b.y;
      EXPECT_LT(bottom - box.min_y, 1e-6 + 0.05 * len * len) << a.y << " -> " << b.y;
    }
  }
}

TEST(MotionTest, ArcBulgesPolewardAndTheBoxFollows) {
  // Along the 60th parallel's ends the great circle rises far above 60 degrees.
  const Fix a{0, -40, 60, 0}, b{1000, 40, 60, 0};
  const SpaceTimeBox box = SegmentBox(a, b, Space::kSphere);
  const Fix mid = Interpolate(a, b, 500, Space::kSphere);
  EXPECT_GT(mid.y, 62);
  EXPECT_GE(box.max_y, mid.y);
}

std::vector<MotionRegion> RandomRegions(std::mt19937_64& rng, Space space, const Fix& near,
                                        std::vector<Polygon>* polys) {
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<MotionRegion> out;
  const double scale = space == Space::kSphere ? 3 : 40;
  MotionRegion box;
  box.kind = MotionRegion::Kind::kBox;
  box.min_x = near.x - u(rng) * scale, box.max_x = near.x + u(rng) * scale;
  box.min_y = near.y - u(rng) * scale, box.max_y = near.y + u(rng) * scale;
  if (space == Space::kSphere) {
    box.min_y = std::max(-90.0, box.min_y), box.max_y = std::min(90.0, box.max_y);
    if (box.min_x < -180) box.min_x += 360;  // across the antimeridian: west > east
    if (box.max_x > 180) box.max_x -= 360;
  }
  out.push_back(box);
  MotionRegion circle;
  circle.kind = MotionRegion::Kind::kCircle;
  circle.cx = near.x + (u(rng) - 0.5) * scale, circle.cy = near.y + (u(rng) - 0.5) * scale;
  if (space == Space::kSphere) {
    circle.cx = std::remainder(circle.cx, 360.0);
    circle.cy = std::max(-90.0, std::min(90.0, circle.cy));
    circle.radius = u(rng) * 300000;
  } else {
    circle.radius = u(rng) * scale;
  }
  out.push_back(circle);
  // A concave polygon (a notched square) around `near` (planar only, and geographic away from
  // the antimeridian).
  if (space != Space::kSphere || (std::abs(near.x) < 170 && std::abs(near.y) < 80)) {
    const double r = u(rng) * scale * 0.8 + scale * 0.05;
    const double cx = near.x + (u(rng) - 0.5) * r, cy = near.y + (u(rng) - 0.5) * r;
    auto poly = Polygon::Make({{{cx - r, cy - r},
                                {cx + r, cy - r},
                                {cx + r, cy + r},
                                {cx, cy},
                                {cx - r, cy + r}}});
    if (poly.ok()) {
      polys->push_back(std::move(poly).value());
    }
  }
  return out;
}

TEST(MotionTest, FirstInsideAgreesWithDenseSampling) {
  std::mt19937_64 rng(::locus::testing::TestSeed());
  std::uniform_real_distribution<double> u(0, 1);
  int hits = 0, cases = 0;
  for (Space space : {Space::kPlanar2D, Space::kSphere}) {
    for (int i = 0; i < 400; ++i) {
      auto [a, b] = RandomSegment(rng, space);
      std::vector<Polygon> polys;
      polys.reserve(1);
      std::vector<MotionRegion> regions = RandomRegions(rng, space, a, &polys);
      for (const Polygon& p : polys) {
        MotionRegion r;
        r.kind = MotionRegion::Kind::kPolygon;
        r.polygon = &p;
        regions.push_back(r);
      }
      const double span = static_cast<double>(b.t - a.t);
      const double t_lo = u(rng) < 0.3 ? a.t - 10.0 : a.t + u(rng) * span * 0.5;
      const double t_hi = u(rng) < 0.3 ? b.t + 10.0 : t_lo + u(rng) * span;
      for (const MotionRegion& region : regions) {
        ++cases;
        const auto first = FirstInside(a, b, t_lo, t_hi, region, space);
        // The oracle: the earliest dense instant in the window that is inside.
        std::optional<double> dense;
        for (int k = 0; k <= kDense && !dense; ++k) {
          const double t = TimeAt(a, b, k);
          if (t < t_lo || t > t_hi) continue;
          if (InRegion(region, Interpolate(a, b, t, space), space)) dense = t;
        }
        const double step = span / kDense;
        if (dense) {
          ASSERT_TRUE(first) << "region kind " << static_cast<int>(region.kind) << " missed at "
                             << *dense;
          EXPECT_LE(*first, *dense + 1e-6 * span);
          EXPECT_GE(*first, *dense - step - 1e-6 * span);
          ++hits;
        }
        if (first) {
          EXPECT_GE(*first, std::max(t_lo, static_cast<double>(a.t)) - 1e-9);
          EXPECT_LE(*first, std::min(t_hi, static_cast<double>(b.t)) + 1e-9);
          // The reported instant is inside, up to the rounding of the boundary (a point a
          // hair off the position, towards the region, is inside).
          const Fix p = Interpolate(a, b, *first, space);
          if (!InRegion(region, p, space)) {
            bool near_inside = false;
            for (double d : {1e-7, 1e-6, 1e-5}) {
              const double t2 = std::min(*first + d * span, std::min(t_hi, double(b.t)));
              near_inside |= InRegion(region, Interpolate(a, b, t2, space), space);
            }
            EXPECT_TRUE(near_inside) << "first inside at " << *first << " is outside";
          }
        }
      }
    }
  }
  EXPECT_GT(hits, cases / 10);  // the generator makes real hits
}

TEST(MotionTest, CrossingBetweenTwoOutsideSamplesIsAHit) {
  MotionRegion box;
  box.min_x = 4, box.max_x = 6, box.min_y = -1, box.max_y = 1;
  const Fix a{0, 0, 0, 0}, b{1000, 10, 0, 0};
  const auto t = FirstInside(a, b, 0, 1000, box, Space::kPlanar2D);
  ASSERT_TRUE(t);
  EXPECT_DOUBLE_EQ(*t, 400);
  EXPECT_FALSE(FirstInside(a, b, 700, 1000, box, Space::kPlanar2D));
  EXPECT_DOUBLE_EQ(*FirstInside(a, b, 500, 1000, box, Space::kPlanar2D), 500);
  // The same on the sphere, across the antimeridian with a box across it too.
  MotionRegion anti;
  anti.min_x = 179.9, anti.max_x = -179.9, anti.min_y = -0.1, anti.max_y = 0.1;
  const Fix c{0, 179, 0, 0}, d{1000, -179, 0, 0};
  const auto t2 = FirstInside(c, d, 0, 1000, anti, Space::kSphere);
  ASSERT_TRUE(t2);
  EXPECT_NEAR(*t2, 450, 1e-6);  // 0.9 of the 2 degrees to 179.9
}

TEST(MotionTest, ClosestApproachAgreesWithDenseSampling) {
  std::mt19937_64 rng(::locus::testing::TestSeed());
  for (Space space : {Space::kPlanar2D, Space::kPlanar3D, Space::kSphere}) {
    for (int i = 0; i < 300; ++i) {
      auto [a0, a1] = RandomSegment(rng, space);
      auto [b0, b1] = RandomSegment(rng, space);
      b0.t = a0.t, b1.t = a1.t;
      if (space == Space::kSphere && i % 2 == 0) {  // close enough to matter
        b0.x = a0.x + 0.01, b0.y = std::min(89.9, a0.y + 0.01);
        b1.x = a1.x - 0.01, b1.y = a1.y;
      }
      const ApproachPiece piece{a0, a1, b0, b1};
      const auto [t, dist] = ClosestInPiece(piece, space);
      double best = 1e300;
      for (int k = 0; k <= kDense; ++k) {
        const double tk = TimeAt(a0, a1, k);
        best = std::min(best, MotionDistance(Interpolate(a0, a1, tk, space),
                                             Interpolate(b0, b1, tk, space), space));
      }
      EXPECT_LE(dist, best + 1e-6 * (1 + best));
      const double at_t = MotionDistance(Interpolate(a0, a1, t, space),
                                         Interpolate(b0, b1, t, space), space);
      EXPECT_NEAR(at_t, dist, 1e-6 * (1 + dist));
      // Within the closest distance (plus a little) there is an interval holding t.
      const auto within = WithinInPiece(piece, dist * 1.0001 + 1e-9, space);
      ASSERT_TRUE(within);
      EXPECT_LE(within->first, t + 1e-6 * (a1.t - a0.t));
      EXPECT_GE(within->second, t - 1e-6 * (a1.t - a0.t));
      // And not within half of it.
      if (dist > 1e-6) {
        EXPECT_FALSE(WithinInPiece(piece, dist * 0.5, space));
      }
    }
  }
}

TEST(MotionTest, WithinIntervalEndsAreAtTheDistance) {
  // Two objects passing each other head-on, 3 units apart sideways, on parallel lines.
  const Fix a0{0, 0, 0, 0}, a1{100, 100, 0, 0};
  const Fix b0{0, 100, 3, 0}, b1{100, 0, 3, 0};
  const auto w = WithinInPiece({a0, a1, b0, b1}, 5, Space::kPlanar2D);
  ASSERT_TRUE(w);
  // Gap along x is 100 - 200 s; |gap| <= 4 (since 3-4-5) for s in [0.48, 0.52].
  EXPECT_NEAR(w->first, 48, 1e-9);
  EXPECT_NEAR(w->second, 52, 1e-9);
  const auto c = ClosestInPiece({a0, a1, b0, b1}, Space::kPlanar2D);
  EXPECT_DOUBLE_EQ(c.first, 50);
  EXPECT_DOUBLE_EQ(c.second, 3);
}

// A pass that grazes the distance after starting far away: whether it is within must follow
// the closest distance, not the rounding of b^2 - 4ac (b^2 and 4ac agree in nearly every
// digit when |start| >> d). Regression: WithinInPiece used to find a pass at 1 + 3e-8 from
// 1e5 away within 1, and FirstInside a circle of radius 1 reached by it.
TEST(MotionTest, GrazingFromAfarFollowsTheClosestDistance) {
  for (double far : {1e3, 1e5, 1e6, 1e7}) {
    for (double delta : {-1e-7, -3e-8, 3e-8, 1e-7}) {
      SCOPED_TRACE(::testing::Message() << "from " << far << ", at 1 + " << delta);
      const double y = 1 + delta;
      const Fix a0{0, -far, 0, 0}, a1{200000, far, 0, 0};
      const Fix b0{0, 0.3, y, 0}, b1{200000, 0.3, y, 0};
      const auto closest = ClosestInPiece({a0, a1, b0, b1}, Space::kPlanar2D);
      EXPECT_NEAR(closest.second, y, 1e-9 * far / 1e5 + 1e-12);
      const auto within = WithinInPiece({a0, a1, b0, b1}, 1, Space::kPlanar2D);
      EXPECT_EQ(within.has_value(), delta < 0);
      if (within) {
        // Centred on the closest instant, as wide as the chord of the unit circle at y.
        const double half = std::sqrt(1 - y * y) / (2 * far) * 200000;
        EXPECT_NEAR((within->first + within->second) / 2, closest.first, 1e-6);
        EXPECT_NEAR(within->second - within->first, 2 * half, 1e-6);
      }
      MotionRegion circle;
      circle.kind = MotionRegion::Kind::kCircle;
      circle.cx = 0.3, circle.cy = y, circle.radius = 1;
      const auto first = FirstInside(a0, a1, 0, 200000, circle, Space::kPlanar2D);
      EXPECT_EQ(first.has_value(), delta < 0);
    }
  }
}

TEST(MotionTest, DistanceToSegment) {
  EXPECT_DOUBLE_EQ(DistanceToSegment({0, 5, 3, 0}, {0, 0, 0, 0}, {0, 10, 0, 0}, Space::kPlanar2D),
                   3);
  EXPECT_DOUBLE_EQ(DistanceToSegment({0, 13, 4, 0}, {0, 0, 0, 0}, {0, 10, 0, 0}, Space::kPlanar2D),
                   5);
  // On the sphere: a point 0.01 degrees north of the equator's arc is 0.01 deg of arc away.
  const double d = DistanceToSegment({0, 1, 0.01, 0}, {0, 0, 0, 0}, {0, 2, 0, 0}, Space::kSphere);
  EXPECT_NEAR(d, 0.01 * 3.14159265358979323846 / 180 * 6371008.8, 1e-6);
}

}  // namespace
}  // namespace locus::engine
