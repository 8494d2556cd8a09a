// Tests for engine/polygon.h: the exact orientation predicate against a 128-bit integer
// oracle, Contains against an independent long double winding-number oracle and an exact
// integer oracle near edges, the boundary rule, validation messages, ContainsMany, and the
// convex hull against its defining properties.
#include "engine/polygon.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <random>
#include <vector>

#include "tests/testing/harness.h"

namespace locus::engine {
namespace {

using ::locus::testing::SeedTrace;
using ::locus::testing::TestSeed;
using Ring = std::vector<Point2>;

// ---- Oracles -------------------------------------------------------------------------------

__extension__ typedef __int128 Int128;  // GCC/Clang extension; -Wpedantic-clean

// Exact orientation for coordinates that are multiples of 2^-shift with |v| * 2^shift < 2^62.
int IntOrient(Point2 a, Point2 b, Point2 c, int shift) {
  auto i = [shift](double v) { return static_cast<Int128>(std::llround(std::ldexp(v, shift))); };
  const Int128 det = (i(a.x) - i(c.x)) * (i(b.y) - i(c.y)) - (i(a.y) - i(c.y)) * (i(b.x) - i(c.x));
  return (det > 0) - (det < 0);
}

// Closed-polygon membership computed with IntOrient (exact on the grid 2^-shift).
bool IntContains(const std::vector<Ring>& rings, Point2 p, int shift) {
  bool odd = false;
  for (const Ring& r : rings) {
    for (size_t k = 0; k < r.size(); ++k) {
      const Point2 a = r[k], b = r[(k + 1) % r.size()];
      const int o = IntOrient(a, b, p, shift);
      if (o == 0 && std::min(a.x, b.x) <= p.x && p.x <= std::max(a.x, b.x) &&
          std::min(a.y, b.y) <= p.y && p.y <= std::max(a.y, b.y)) {
        return true;
      }
      if ((a.y > p.y) != (b.y > p.y) && ((b.y > a.y) ? o > 0 : o < 0)) odd = !odd;
    }
  }
  return odd;
}

// Winding number of ring r around p in long double (Sunday's algorithm). Only for points
// that are clearly off every edge.
int WindingNumber(const Ring& r, Point2 p) {
  int wn = 0;
  for (size_t k = 0; k < r.size(); ++k) {
    const Point2 a = r[k], b = r[(k + 1) % r.size()];
    const long double cross =
        (static_cast<long double>(b.x) - a.x) * (static_cast<long double>(p.y) - a.y) -
        (static_cast<long double>(p.x) - a.x) * (static_cast<long double>(b.y) - a.y);
    if (a.y <= p.y) {
      if (b.y > p.y && cross > 0) ++wn;
    } else if (b.y <= p.y && cross < 0) {
      --wn;
    }
  }
  return wn;
}
bool WindingContains(const std::vector<Ring>& rings, Point2 p) {
  if (WindingNumber(rings[0], p) == 0) return false;
  for (size_t h = 1; h < rings.size(); ++h) {
    if (WindingNumber(rings[h], p) != 0) return false;
  }
  return true;
}

Polygon MakeOk(std::vector<Ring> rings) {
  Result<Polygon> p = Polygon::Make(std::move(rings));
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  return std::move(p).value();
}

std::string MakeError(std::vector<Ring> rings) {
  Result<Polygon> p = Polygon::Make(std::move(rings));
  EXPECT_FALSE(p.ok());
  if (p.ok()) return "(ok)";
  EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument);
  return std::string(p.status().message());
}

// A star-shaped ring around (cx, cy): n vertices at sorted random angles, radii in
// [r_min, r_max]; counter-clockwise.
Ring StarRing(std::mt19937_64& rng, size_t n, double cx, double cy, double r_min, double r_max) {
  std::uniform_real_distribution<double> angle(0, 2 * M_PI), radius(r_min, r_max);
  std::vector<double> angles(n);
  for (double& a : angles) a = angle(rng);
  std::sort(angles.begin(), angles.end());
  angles.erase(std::unique(angles.begin(), angles.end()), angles.end());
  Ring r;
  for (double a : angles) {
    const double rr = radius(rng);
    r.push_back({cx + rr * std::cos(a), cy + rr * std::sin(a)});
  }
  return r;
}

Ring Square(double x0, double y0, double x1, double y1) {
  return {{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}};
}

// ---- Orient2D ------------------------------------------------------------------------------

TEST(Orient2D, NearCollinearTriplesMatchIntegerOracle) {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE(SeedTrace(seed));
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int64_t> coord(-(int64_t{1} << 49), int64_t{1} << 49);
  std::uniform_int_distribution<int> jitter(-2, 2);
  std::uniform_real_distribution<double> t(-0.5, 1.5);
  int zero = 0, nonzero = 0;
  for (int i = 0; i < 200000; ++i) {
    auto g = [&] { return std::ldexp(static_cast<double>(coord(rng)), -40); };
    const Point2 a{g(), g()}, b{g(), g()};
    // c near the line ab, snapped to the 2^-40 grid and nudged by a few grid steps.
    const double s = t(rng);
    Point2 c{a.x + s * (b.x - a.x), a.y + s * (b.y - a.y)};
    c.x = std::ldexp(std::round(std::ldexp(c.x, 40)) + jitter(rng), -40);
    c.y = std::ldexp(std::round(std::ldexp(c.y, 40)) + jitter(rng), -40);
    if (i % 4 == 0) c = {(a.x + b.x) * 0.5, (a.y + b.y) * 0.5};  // exact midpoint (2^-41 grid)
    const int want = IntOrient(a, b, c, 41);
    ASSERT_EQ(Orient2D(a, b, c), want) << i;
    (want == 0 ? zero : nonzero) += 1;
  }
  EXPECT_GT(zero, 1000);  // the exact midpoints at least
  EXPECT_GT(nonzero, 1000);
}

// Kettner et al., "Classroom examples of robustness problems": the naive f64 determinant
// gets the sign wrong for many points of this 256 x 256 ulp grid.
TEST(Orient2D, ClassroomGridIsExact) {
  const Point2 q{12, 12}, r{24, 24};
  const double u = std::ldexp(1.0, -53);
  int naive_wrong = 0;
  for (int i = 0; i < 256; ++i) {
    for (int j = 0; j < 256; ++j) {
      const Point2 p{0.5 + i * u, 0.5 + j * u};
      const int want = IntOrient(p, q, r, 53);
      ASSERT_EQ(Orient2D(p, q, r), want) << i << "," << j;
      const double naive = (q.x - p.x) * (r.y - p.y) - (q.y - p.y) * (r.x - p.x);
      naive_wrong += ((naive > 0) - (naive < 0)) != want;
    }
  }
  EXPECT_GT(naive_wrong, 0);  // proves the grid exercises the exact fallback
}

// ---- Contains ------------------------------------------------------------------------------

TEST(PolygonContains, BoundaryRuleClosedPolygonWithHole) {
  // 10 x 10 square with a 2 x 2 hole in the middle.
  const Polygon p = MakeOk({Square(0, 0, 10, 10), Square(4, 4, 6, 6)});
  // Exterior vertices and edges: inside.
  for (Point2 q : {Point2{0, 0}, Point2{10, 0}, Point2{10, 10}, Point2{0, 10}, Point2{5, 0},
                   Point2{10, 3.25}, Point2{0.125, 10}, Point2{0, 9.999999999}}) {
    EXPECT_TRUE(p.Contains(q)) << q.x << "," << q.y;
  }
  // Hole vertices and edges: inside (closed polygon); strictly inside the hole: outside.
  for (Point2 q : {Point2{4, 4}, Point2{6, 6}, Point2{5, 4}, Point2{4, 5.5}, Point2{6, 4.75}}) {
    EXPECT_TRUE(p.Contains(q)) << q.x << "," << q.y;
  }
  for (Point2 q : {Point2{5, 5}, Point2{4.000000001, 5}, Point2{5, 5.999999999}}) {
    EXPECT_FALSE(p.Contains(q)) << q.x << "," << q.y;
  }
  // Just outside the exterior.
  for (Point2 q : {Point2{-1e-300, 5}, Point2{std::nextafter(10.0, 11.0), 5}, Point2{5, -0.0001},
                   Point2{11, 11}}) {
    EXPECT_FALSE(p.Contains(q)) << q.x << "," << q.y;
  }
  EXPECT_FALSE(p.Contains({std::nan(""), 5}));
  EXPECT_FALSE(p.Contains({5, std::numeric_limits<double>::infinity()}));
  EXPECT_EQ(p.bounds(), (Box2{{0, 0}, {10, 10}}));
}

TEST(PolygonContains, PointsOnASlantedEdgeAndOneUlpOffIt) {
  // Triangle with a slanted edge from (0.5, 0.5) to (12.5, 24.5): y = 2x - 0.5 on it.
  // Counter-clockwise: (0.5, 0.5) -> (12.5, 0.5) -> (12.5, 24.5); the slanted edge closes it
  // and the interior is to the right of the line (below it).
  const Polygon p = MakeOk({{{0.5, 0.5}, {12.5, 0.5}, {12.5, 24.5}}});
  std::mt19937_64 rng(TestSeed());
  std::uniform_int_distribution<int64_t> k(1, (int64_t{12} << 30) - 1);
  for (int i = 0; i < 20000; ++i) {
    const double x = 0.5 + std::ldexp(static_cast<double>(k(rng)), -30);
    const double y = 2 * x - 0.5;  // exact: x has few enough bits
    ASSERT_EQ(y, std::ldexp(std::round(std::ldexp(y, 40)), -40));
    ASSERT_TRUE(p.Contains({x, y})) << x << "," << y;
    ASSERT_FALSE(p.Contains({x, std::nextafter(y, 100.0)})) << x << "," << y;   // above: out
    ASSERT_TRUE(p.Contains({x, std::nextafter(y, -100.0)})) << x << "," << y;   // below: in
    ASSERT_FALSE(p.Contains({std::nextafter(x, -100.0), y})) << x << "," << y;  // left: out
  }
}

TEST(PolygonContains, ConcaveUShape) {
  // U: outer 0..9 x 0..9, notch 3..6 x 3..9 open at the top.
  const Polygon u =
      MakeOk({{{0, 0}, {9, 0}, {9, 9}, {6, 9}, {6, 3}, {3, 3}, {3, 9}, {0, 9}, {0, 0}}});
  EXPECT_TRUE(u.Contains({1, 8}));     // left arm
  EXPECT_TRUE(u.Contains({8, 8}));     // right arm
  EXPECT_TRUE(u.Contains({4.5, 1}));   // base
  EXPECT_FALSE(u.Contains({4.5, 5}));  // in the notch
  EXPECT_FALSE(u.Contains({4.5, 9}));  // on the notch's open top, between the arms
  EXPECT_TRUE(u.Contains({4.5, 3}));   // notch floor: boundary
  EXPECT_TRUE(u.Contains({3, 6}));     // notch wall: boundary
  EXPECT_TRUE(u.Contains({6, 9}));     // vertex
  // The ray from (1, 3) passes through the notch corners (3, 3), (6, 3) along an edge.
  EXPECT_TRUE(u.Contains({1, 3}));
  EXPECT_FALSE(u.Contains({-1, 3}));
  EXPECT_FALSE(u.Contains({-1, 9}));  // ray along the top edges and through vertices
  EXPECT_FALSE(u.Contains({10, 0}));
}

TEST(PolygonContains, StarWithHolesMatchesWindingOracle) {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE(SeedTrace(seed));
  std::mt19937_64 rng(seed);
  for (size_t n : {3, 5, 17, 200, 3000}) {
    SCOPED_TRACE("n=" + std::to_string(n));
    std::vector<Ring> rings = {StarRing(rng, n, 3, -2, 0.2, 10)};
    // Holes well inside the star's kernel (within 0.15 of the centre, inside every chord
    // once the angular gaps are below 90 degrees, as they are for n >= 200 here).
    if (n >= 200) {
      rings.push_back(Square(3.01, -1.99, 3.1, -1.9));
      Ring tri = {{2.9, -2.1}, {2.99, -2.1}, {2.95, -2.01}};
      std::reverse(tri.begin(), tri.end());  // clockwise, as RFC 7946 asks of holes
      rings.push_back(tri);
    }
    const Polygon p = MakeOk(rings);
    std::uniform_real_distribution<double> x(-8, 14), y(-13, 9), near_x(2.8, 3.2),
        near_y(-2.2, -1.8);
    int inside = 0, total = 0;
    for (int i = 0; i < 20000; ++i) {
      const Point2 q = i % 2 ? Point2{x(rng), y(rng)} : Point2{near_x(rng), near_y(rng)};
      const bool want = WindingContains(rings, q);
      ASSERT_EQ(p.Contains(q), want) << q.x << "," << q.y;
      inside += want;
      ++total;
    }
    EXPECT_GT(inside, 0);
    EXPECT_LT(inside, total);
  }
}

TEST(PolygonContains, NearEdgePointsMatchExactIntegerOracle) {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE(SeedTrace(seed));
  std::mt19937_64 rng(seed);
  // Vertices on the 2^-20 grid, queries on the 2^-40 grid: the integer oracle is exact.
  auto snap = [](double v, int bits) { return std::ldexp(std::round(std::ldexp(v, bits)), -bits); };
  std::vector<Ring> rings = {StarRing(rng, 60, 0, 0, 1, 8), StarRing(rng, 12, 0, 0, 0.1, 0.5)};
  for (Ring& r : rings) {
    for (Point2& v : r) v = {snap(v.x, 20), snap(v.y, 20)};
  }
  const Polygon p = MakeOk(rings);
  std::uniform_real_distribution<double> t(0, 1);
  std::uniform_int_distribution<int> jitter(-1, 1);
  int on_boundary = 0;
  for (int i = 0; i < 50000; ++i) {
    const Ring& r = rings[i % 2];
    const size_t k = rng() % r.size();
    const Point2 a = r[k], b = r[(k + 1) % r.size()];
    const double s = i % 3 == 0 ? std::ldexp(static_cast<double>(rng() % 17), -4) : t(rng);
    Point2 q{snap(a.x + s * (b.x - a.x), 40), snap(a.y + s * (b.y - a.y), 40)};
    if (i % 3 != 0) q = {q.x + std::ldexp(jitter(rng), -40), q.y + std::ldexp(jitter(rng), -40)};
    const bool want = IntContains(rings, q, 40);
    ASSERT_EQ(p.Contains(q), want) << q.x << "," << q.y;
    on_boundary += IntOrient(a, b, q, 40) == 0;
  }
  EXPECT_GT(on_boundary, 10000);  // the s = k/16 points lie exactly on their edges
}

TEST(PolygonContains, ClosedAndOpenRingsAreTheSame) {
  const Ring open = {{0, 0}, {4, 0}, {4, 0}, {2, 3}};  // with a consecutive duplicate
  Ring closed = open;
  closed.push_back(open[0]);
  const Polygon a = MakeOk({open}), b = MakeOk({closed});
  ASSERT_EQ(a.num_rings(), 1u);
  EXPECT_EQ(std::vector<Point2>(a.ring(0).begin(), a.ring(0).end()),
            (std::vector<Point2>{{0, 0}, {4, 0}, {2, 3}}));
  EXPECT_EQ(std::vector<Point2>(b.ring(0).begin(), b.ring(0).end()),
            std::vector<Point2>(a.ring(0).begin(), a.ring(0).end()));
  EXPECT_EQ(a.num_edges(), 3u);
  EXPECT_TRUE(b.Contains({2, 1}));
  EXPECT_FALSE(b.Contains({0.5, 2}));
}

TEST(PolygonContains, ContainsManyEqualsContains) {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE(SeedTrace(seed));
  std::mt19937_64 rng(seed);
  const Polygon p = MakeOk({StarRing(rng, 500, 0, 0, 1, 5), Square(-0.5, -0.5, 0.5, 0.5)});
  const size_t n = 10007;
  std::uniform_real_distribution<double> c(-6, 6);
  std::vector<double> x(n), y(n);
  for (size_t i = 0; i < n; ++i) {
    x[i] = c(rng);
    y[i] = c(rng);
  }
  x[0] = std::nan("");
  x[1] = 0.5, y[1] = 0.25;  // on the hole's edge
  x[2] = 0, y[2] = 0;       // in the hole
  std::vector<uint8_t> out(n + 8, 0xA5);
  p.ContainsMany(x.data(), y.data(), n, out.data());
  size_t inside = 0;
  for (size_t i = 0; i < n; ++i) {
    ASSERT_EQ(out[i], p.Contains({x[i], y[i]}) ? 1 : 0) << i;
    inside += out[i];
  }
  for (size_t i = n; i < n + 8; ++i) EXPECT_EQ(out[i], 0xA5) << "wrote past n";
  EXPECT_EQ(out[0], 0);
  EXPECT_EQ(out[1], 1);
  EXPECT_EQ(out[2], 0);
  EXPECT_GT(inside, n / 10);
  p.ContainsMany(x.data(), y.data(), 0, out.data());  // n = 0 touches nothing
}

// ---- Validation ----------------------------------------------------------------------------

TEST(PolygonMake, RejectsDegenerateInputWithNamedFields) {
  EXPECT_EQ(MakeError({}), "rings.size() = 0: a polygon needs an exterior ring (rings[0])");
  EXPECT_EQ(MakeError({{{0, 0}, {1, 0}, {1, 1}, {0, 1}, {std::nan(""), 0}}}),
            "rings[0][4].x = nan: coordinate is not a finite number");
  EXPECT_EQ(MakeError({Square(0, 0, 9, 9),
                       {{1, 1}, {2, 1}, {1, -std::numeric_limits<double>::infinity()}}}),
            "rings[1][2].y = -inf: coordinate is not a finite number");
  EXPECT_EQ(MakeError({{{0, 0}, {1e200, 0}, {0, 1}}}),
            "rings[0][1].x = 1e+200: magnitude above 1e150 (exact predicates would overflow)");
  EXPECT_EQ(MakeError({Square(0, 0, 9, 9), {{1, 1}, {2, 2}, {1, 1}}}),
            "rings[1]: 2 distinct points, need at least 3");
  EXPECT_EQ(MakeError({{{0, 0}, {0, 0}, {1, 1}, {1, 1}, {0, 0}}}),
            "rings[0]: 2 distinct points, need at least 3");
  EXPECT_EQ(MakeError({{}}), "rings[0]: 0 distinct points, need at least 3");
  EXPECT_EQ(MakeError({{{0, 0}, {1, 1}, {3, 3}, {2, 2}, {0, 0}}}),
            "rings[0]: zero area: all 4 distinct points are collinear");
}

TEST(PolygonMake, RejectsSelfIntersectionNamingTheEdges) {
  // Bowtie: (0,0)-(1,1) crosses (1,0)-(0,1).
  EXPECT_EQ(MakeError({{{0, 0}, {1, 1}, {1, 0}, {0, 1}, {0, 0}}}),
            "rings[0]: edges [0]-[1] and [2]-[3] cross: a ring must not intersect itself");
  // Edge names use input indices (the duplicate [3] is dropped).
  EXPECT_EQ(MakeError({{{0, 0}, {2, 0}, {2, 2}, {2, 2}, {1, -1}}}),
            "rings[0]: edges [0]-[1] and [2]-[4] cross: a ring must not intersect itself");
  // A vertex exactly on a non-neighbouring edge: touch.
  EXPECT_EQ(MakeError({{{0, 0}, {4, 0}, {4, 4}, {2, 0}, {0, 4}}}),
            "rings[0]: edges [0]-[1] and [2]-[3] touch: a ring must not intersect itself");
  // The same vertex 2^-40 above the edge: a valid (spiky) ring.
  EXPECT_TRUE(Polygon::Make({{{0, 0}, {4, 0}, {4, 4}, {2, std::ldexp(1.0, -40)}, {0, 4}}}).ok());
  // A ring passing twice through (2, 2).
  EXPECT_EQ(MakeError({{{0, 0}, {2, 2}, {4, 0}, {4, 4}, {2, 2}, {0, 4}}}),
            "rings[0]: edges [0]-[1] and [3]-[4] touch: a ring must not intersect itself");
  // Neighbours doubling back: (0,0) -> (2,0) -> (1,0).
  EXPECT_EQ(MakeError({{{0, 0}, {2, 0}, {1, 0}, {1, 1}}}),
            "rings[0]: edges [0]-[1] and [1]-[2] overlap: a ring must not intersect itself");
  // Non-neighbours overlapping along a line.
  EXPECT_EQ(MakeError({{{0, 0}, {4, 0}, {6, 1}, {5, 0}, {2, 0}, {0, 2}}}),
            "rings[0]: edges [0]-[1] and [3]-[4] overlap: a ring must not intersect itself");
}

TEST(PolygonMake, RejectsBadHoles) {
  const Ring outer = Square(0, 0, 10, 10);
  EXPECT_EQ(MakeError({outer, Square(20, 20, 21, 21)}),
            "rings[1]: hole lies outside the exterior ring rings[0]");
  // A hole around the exterior is outside it too (no contact, vertex outside).
  EXPECT_EQ(MakeError({outer, Square(-1, -1, 11, 11)}),
            "rings[1]: hole lies outside the exterior ring rings[0]");
  EXPECT_EQ(MakeError({outer, Square(8, 8, 12, 9)}),
            "rings[1] edge [0]-[1] and rings[0] edge [1]-[2] cross: rings must not touch or cross");
  EXPECT_EQ(MakeError({outer, Square(8, 8, 10, 9)}),
            "rings[1] edge [0]-[1] and rings[0] edge [1]-[2] touch: rings must not touch or cross");
  EXPECT_EQ(MakeError({outer, Square(1, 1, 5, 5), Square(4, 4, 6, 6)}),
            "rings[2] edge [0]-[1] and rings[1] edge [1]-[2] cross: rings must not touch or cross");
  EXPECT_EQ(MakeError({outer, Square(1, 1, 5, 5), Square(2, 2, 3, 3)}),
            "rings[2]: hole lies inside hole rings[1]");
  EXPECT_EQ(MakeError({outer, Square(2, 2, 3, 3), Square(1, 1, 5, 5)}),
            "rings[1]: hole lies inside hole rings[2]");
  // Disjoint holes, either orientation: fine.
  Ring cw = Square(6, 6, 7, 7);
  std::reverse(cw.begin(), cw.end());
  const Polygon p = MakeOk({outer, Square(1, 1, 5, 5), cw});
  EXPECT_EQ(p.num_rings(), 3u);
  EXPECT_FALSE(p.Contains({6.5, 6.5}));
  EXPECT_TRUE(p.Contains({5.5, 5.5}));
}

TEST(PolygonMake, LargeRingsValidate) {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE(SeedTrace(seed));
  std::mt19937_64 rng(seed);
  // A noisy circle and a spiky star whose edges all run towards the centre: 10k vertices.
  const std::vector<Ring> cases = {StarRing(rng, 10000, 0, 0, 0.99, 1.0),
                                   StarRing(rng, 10000, 0, 0, 0.01, 1.0)};
  for (size_t c = 0; c < cases.size(); ++c) {
    const auto start = std::chrono::steady_clock::now();
    const Polygon p = MakeOk({cases[c], Square(-0.001, -0.001, 0.001, 0.001)});
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    std::printf("[ info ] case %zu: %zu vertices validated in %.2f ms\n", c, cases[c].size(), ms);
    EXPECT_EQ(p.num_edges(), cases[c].size() + 4);
    EXPECT_FALSE(p.Contains({0, 0}));  // in the hole
    EXPECT_TRUE(p.Contains({0.005, 0}));
    EXPECT_FALSE(p.Contains({1.5, 0}));
    std::uniform_real_distribution<double> u(-1.1, 1.1);
    for (int i = 0; i < 2000; ++i) {
      const Point2 q{u(rng), u(rng)};
      ASSERT_EQ(p.Contains(q),
                WindingContains({cases[c], Square(-0.001, -0.001, 0.001, 0.001)}, q));
    }
  }
  // One swapped pair of neighbours on a 10k-gon in convex position makes two edges cross.
  Ring bad = StarRing(rng, 10000, 0, 0, 1, 1);
  ASSERT_GT(bad.size(), 5002u);
  std::swap(bad[5000], bad[5001]);
  EXPECT_EQ(
      MakeError({bad}),
      "rings[0]: edges [4999]-[5000] and [5001]-[5002] cross: a ring must not intersect itself");
}

// ---- ConvexHull ----------------------------------------------------------------------------

void ExpectIsHull(std::span<const Point2> pts, const std::vector<Point2>& hull) {
  ASSERT_GE(hull.size(), 3u);
  for (const Point2& h : hull) {
    EXPECT_NE(std::find(pts.begin(), pts.end(), h), pts.end()) << "hull vertex not an input";
  }
  const size_t m = hull.size();
  for (size_t i = 0; i < m; ++i) {  // strictly convex and counter-clockwise
    ASSERT_EQ(Orient2D(hull[i], hull[(i + 1) % m], hull[(i + 2) % m]), 1) << i;
  }
  for (const Point2& p : pts) {  // every point inside or on
    for (size_t i = 0; i < m; ++i) ASSERT_GE(Orient2D(hull[i], hull[(i + 1) % m], p), 0);
  }
  // Starts at the lexicographically smallest point.
  EXPECT_EQ(hull[0], *std::min_element(pts.begin(), pts.end(), [](Point2 a, Point2 b) {
              return a.x < b.x || (a.x == b.x && a.y < b.y);
            }));
}

TEST(ConvexHull, SmallAndDegenerateInputs) {
  auto hull = [](std::vector<Point2> pts) { return ConvexHull(pts).value(); };
  EXPECT_EQ(hull({}), std::vector<Point2>{});
  EXPECT_EQ(hull({{1, 2}, {1, 2}, {1, 2}}), (std::vector<Point2>{{1, 2}}));
  EXPECT_EQ(hull({{3, 1}, {1, 2}, {3, 1}}), (std::vector<Point2>{{1, 2}, {3, 1}}));
  EXPECT_EQ(hull({{2, 2}, {0, 0}, {3, 3}, {1, 1}, {3, 3}}), (std::vector<Point2>{{0, 0}, {3, 3}}));
  // Square with interior points, edge midpoints and duplicates: the four corners, CCW.
  EXPECT_EQ(hull({{1, 1}, {2, 0}, {0, 0}, {2, 2}, {0, 2}, {1, 0}, {2, 1}, {0, 0}, {1, 2}}),
            (std::vector<Point2>{{0, 0}, {2, 0}, {2, 2}, {0, 2}}));
  Result<std::vector<Point2>> bad = ConvexHull(std::vector<Point2>{{0, 0}, {1, std::nan("")}});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "points[1].y = nan: coordinate is not a finite number");
}

TEST(ConvexHull, RandomSetsSatisfyTheHullProperties) {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE(SeedTrace(seed));
  std::mt19937_64 rng(seed);
  for (int trial = 0; trial < 60; ++trial) {
    const size_t n = 3 + rng() % 2000;
    std::vector<Point2> pts(n);
    std::uniform_real_distribution<double> u(-100, 100);
    std::uniform_int_distribution<int> small(-5, 5);
    for (Point2& p : pts) {
      switch (trial % 3) {
        case 0:  // uniform
          p = {u(rng), u(rng)};
          break;
        case 1:  // small integer grid: many duplicates and collinear points
          p = {static_cast<double>(small(rng)), static_cast<double>(small(rng))};
          break;
        default:  // on a circle (every point is extreme, up to rounding)
          const double a = u(rng);
          p = {std::cos(a), std::sin(a)};
      }
    }
    SCOPED_TRACE("trial=" + std::to_string(trial));
    ExpectIsHull(pts, ConvexHull(pts).value());
  }
}

}  // namespace
}  // namespace locus::engine
