// Tests PackedRTree raycast (all hits, closest, exact variants), convex-polygon and frustum
// queries against brute force over the same boxes with the same scalar predicates (kernels'
// reference slab test, ConvexPolygon / Frustum), for 2D/3D, f64/f32 storage, several node
// sizes, every data distribution and every compiled target; plus named edge cases.
#include <gtest/gtest.h>

#include <Eigen/Geometry>
#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <random>
#include <vector>

#include "engine/frustum.h"
#include "engine/packed_rtree.h"
#include "kernels/ray.h"
#include "tests/testing/data.h"
#include "tests/testing/rtree_util.h"
#include "tests/testing/harness.h"

namespace locus::engine {
namespace {

using ::locus::testing::kAllDistributions;
using ::locus::testing::MakeBoxes;
using ::locus::testing::SeedTrace;
using ::locus::testing::Sorted;
using ::locus::testing::Stored;
using ::locus::testing::TestSeed;
using ::locus::testing::TreeTraits;

constexpr double kInf = std::numeric_limits<double>::infinity();

bool Hit(const Box2& b, const Ray2& r, double* t) {
  const kernels::Ray2T<double> k{r.origin.x, r.origin.y, r.direction.x, r.direction.y, 0,
                                 r.t_max};
  return kernels::reference::RayHitsBox2<double>(b.min.x, b.min.y, b.max.x, b.max.y, k, t);
}
bool Hit(const Box3& b, const Ray3& r, double* t) {
  const kernels::Ray3T<double> k{r.origin.x, r.origin.y, r.origin.z, r.direction.x,
                                 r.direction.y, r.direction.z, 0, r.t_max};
  return kernels::reference::RayHitsBox3<double>(b.min.x, b.min.y, b.min.z, b.max.x, b.max.y,
                                                 b.max.z, k, t);
}

// Brute force: every hit, sorted by (t, id).
template <typename Box, typename Ray>
std::vector<RayHit> BruteHits(const std::vector<Box>& boxes, const Ray& r) {
  std::vector<RayHit> out;
  for (size_t i = 0; i < boxes.size(); ++i) {
    double t;
    if (Hit(boxes[i], r, &t)) out.push_back({static_cast<uint32_t>(i), t});
  }
  std::sort(out.begin(), out.end(),
            [](const RayHit& a, const RayHit& b) { return a.t < b.t || (a.t == b.t && a.id < b.id); });
  return out;
}

// A seeded ray: half aim at a random box's centre (so points, duplicates and identical boxes
// get hit too); some have zero direction components (axis-parallel; the origin then shares
// the target's coordinate on those axes, so the ray grazes or passes through it); t_max is
// +inf, or random (possibly ending before, at or inside the target).
template <typename Ray, typename Box>
Ray RandomRay(std::mt19937_64& rng, const std::vector<Box>& boxes) {
  constexpr bool k3 = std::is_same_v<Ray, Ray3>;
  std::uniform_real_distribution<double> u(-50, 1050), len(0, 1500), unit(0, 1);
  std::normal_distribution<double> g(0, 1);
  Ray r;
  r.origin.x = u(rng), r.origin.y = u(rng);
  r.direction.x = g(rng), r.direction.y = g(rng);
  if constexpr (k3) r.origin.z = u(rng), r.direction.z = g(rng);
  const bool aim = !boxes.empty() && rng() % 2 == 0;
  Box target{};
  if (aim) {
    target = boxes[rng() % boxes.size()];
    r.direction.x = (target.min.x + target.max.x) / 2 - r.origin.x;
    r.direction.y = (target.min.y + target.max.y) / 2 - r.origin.y;
    if constexpr (k3) r.direction.z = (target.min.z + target.max.z) / 2 - r.origin.z;
  }
  const uint64_t zero = rng() % 8;
  if (zero == 1 || zero == 3) {
    r.direction.x = 0;
    if (aim) r.origin.x = zero == 1 ? target.min.x : target.max.x;  // on a face
  }
  if (zero == 2 || zero == 3) {
    r.direction.y = 0;
    if (aim) r.origin.y = target.max.y;
  }
  if constexpr (k3) {
    if (zero == 4) {
      r.direction.z = 0;
      if (aim) r.origin.z = (target.min.z + target.max.z) / 2;
    }
  }
  if (r.direction.x == 0 && r.direction.y == 0) {
    if constexpr (k3) {
      if (r.direction.z == 0) r.direction.z = 1;
    } else {
      r.direction.x = 1;
    }
  }
  const uint64_t tm = rng() % 4;
  r.t_max = tm == 0 ? kInf : tm == 1 ? len(rng) : aim ? unit(rng) * 1.2 : len(rng);
  return r;
}

std::string HitsString(const std::vector<RayHit>& v) {
  std::string s;
  for (size_t i = 0; i < v.size() && i < 8; ++i) {
    // Appended piecewise: "(" + std::string&& trips GCC 12's -Wrestrict false positive.
    s += '(';
    s += std::to_string(v[i].id);
    s += ',';
    s += std::to_string(v[i].t);
    s += ") ";
  }
  return s + "n=" + std::to_string(v.size());
}

class RtreeRayTest : public ::locus::testing::PerTargetTest {};

template <int kDims, typename T>
void CheckRays(uint64_t seed) {
  using Tree = PackedRTree<kDims, T>;
  using Box = typename Tree::Box;
  using Ray = typename Tree::Ray;
  std::mt19937_64 rng(seed);
  for (uint32_t ns : {3u, 16u, 64u}) {
    for (auto dist : kAllDistributions) {
      for (size_t n : {size_t{0}, size_t{1}, size_t{ns}, size_t{ns + 1}, size_t{3000}}) {
        SCOPED_TRACE(::testing::Message() << "ns=" << ns << " dist=" << testing::Name(dist)
                                          << " n=" << n);
        const std::vector<Box> boxes = MakeBoxes<Box>(n, dist, rng());
        std::vector<Box> stored(boxes.size());
        for (size_t i = 0; i < n; ++i) stored[i] = Stored<T>(boxes[i]);
        const Tree tree = Tree::Build(std::span<const Box>(boxes), {ns}).value();
        std::vector<RayHit> got;
        size_t total = 0;
        for (int q = 0; q < 30; ++q) {
          const Ray r = RandomRay<Ray>(rng, boxes);
          const std::vector<RayHit> want = BruteHits(stored, r);
          const std::vector<RayHit> want_exact = BruteHits(boxes, r);
          ASSERT_TRUE(tree.Raycast(r, &got).ok());
          ASSERT_EQ(got, want) << "got " << HitsString(got) << " want " << HitsString(want);
          ASSERT_TRUE(tree.RaycastExact(r, boxes, &got).ok());
          ASSERT_EQ(got, want_exact);
          total += want_exact.size();
          const std::optional<RayHit> first = tree.RaycastClosest(r).value();
          ASSERT_EQ(first.has_value(), !want.empty());
          if (first) {
            ASSERT_EQ(*first, want[0]);
          }
          const std::optional<RayHit> first_exact = tree.RaycastClosestExact(r, boxes).value();
          ASSERT_EQ(first_exact.has_value(), !want_exact.empty());
          if (first_exact) {
            ASSERT_EQ(*first_exact, want_exact[0]);
          }
        }
        if (n >= 1000) {
          // The rays do hit things (aimed at items; a ray aimed at a point may round past it).
          EXPECT_GE(total, dist == testing::Distribution::kPoints ? 1u : 3u);
        }
      }
    }
  }
}

TEST_P(RtreeRayTest, RaycastMatchesBruteForce2F64) { CheckRays<2, double>(TestSeed()); }
TEST_P(RtreeRayTest, RaycastMatchesBruteForce2F32) { CheckRays<2, float>(TestSeed() + 1); }
TEST_P(RtreeRayTest, RaycastMatchesBruteForce3F64) { CheckRays<3, double>(TestSeed() + 2); }
TEST_P(RtreeRayTest, RaycastMatchesBruteForce3F32) { CheckRays<3, float>(TestSeed() + 3); }

// A random convex polygon: points on an ellipse at sorted angles, either orientation.
std::vector<Point2> RandomConvex(std::mt19937_64& rng) {
  std::uniform_real_distribution<double> c(-50, 1050), rad(1, 400), ang(0, 2 * M_PI);
  const size_t k = 3 + rng() % 10;
  std::vector<double> a(k);
  for (double& x : a) x = ang(rng);
  std::sort(a.begin(), a.end());
  a.erase(std::unique(a.begin(), a.end()), a.end());
  const double cx = c(rng), cy = c(rng), rx = rad(rng), ry = rad(rng);
  std::vector<Point2> p;
  for (double x : a) p.push_back({cx + rx * std::cos(x), cy + ry * std::sin(x)});
  if (rng() % 2) std::reverse(p.begin(), p.end());
  return p;
}

template <typename T>
void CheckPolygons(uint64_t seed) {
  using Tree = PackedRTree<2, T>;
  std::mt19937_64 rng(seed);
  for (uint32_t ns : {3u, 16u, 64u}) {
    for (auto dist : kAllDistributions) {
      for (size_t n : {size_t{0}, size_t{1}, size_t{ns + 1}, size_t{5000}}) {
        SCOPED_TRACE(::testing::Message() << "ns=" << ns << " dist=" << testing::Name(dist)
                                          << " n=" << n);
        const std::vector<Box2> boxes = MakeBoxes<Box2>(n, dist, rng());
        const Tree tree = Tree::Build(std::span<const Box2>(boxes), {ns}).value();
        std::vector<uint32_t> got;
        size_t total = 0, inside_total = 0;
        for (int q = 0; q < 20; ++q) {
          const std::vector<Point2> pv = RandomConvex(rng);
          auto poly = ConvexPolygon::Make(pv);
          if (!poly.ok()) continue;  // near-duplicate angles can make a degenerate polygon
          std::vector<uint32_t> want;
          for (size_t i = 0; i < n; ++i) {
            if (poly.value().Contains(boxes[i])) ++inside_total;
            if (poly.value().Intersects(Stored<T>(boxes[i]))) want.push_back(uint32_t(i));
          }
          ASSERT_TRUE(tree.SearchPolygon(pv, &got).ok());
          ASSERT_EQ(Sorted(got), want);
          total += want.size();
        }
        if (n >= 1000 && dist == testing::Distribution::kUniform) {
          EXPECT_GT(total, 100u);
          EXPECT_GT(inside_total, 50u);  // the sweep path runs
        }
      }
    }
  }
}

TEST_P(RtreeRayTest, PolygonMatchesBruteForceF64) { CheckPolygons<double>(TestSeed() + 4); }
TEST_P(RtreeRayTest, PolygonMatchesBruteForceF32) { CheckPolygons<float>(TestSeed() + 5); }

Eigen::Matrix4d Perspective(double fovy, double aspect, double n, double f) {
  const double t = 1 / std::tan(fovy / 2);
  Eigen::Matrix4d m = Eigen::Matrix4d::Zero();
  m(0, 0) = t / aspect, m(1, 1) = t, m(2, 2) = (f + n) / (n - f), m(2, 3) = 2 * f * n / (n - f);
  m(3, 2) = -1;
  return m;
}
Eigen::Matrix4d Ortho(double l, double r, double b, double t, double n, double f) {
  Eigen::Matrix4d m = Eigen::Matrix4d::Identity();
  m(0, 0) = 2 / (r - l), m(1, 1) = 2 / (t - b), m(2, 2) = -2 / (f - n);
  m(0, 3) = -(r + l) / (r - l), m(1, 3) = -(t + b) / (t - b), m(2, 3) = -(f + n) / (f - n);
  return m;
}
Eigen::Matrix4d LookAt(const Eigen::Vector3d& eye, const Eigen::Vector3d& at) {
  const Eigen::Vector3d f = (at - eye).normalized();
  const Eigen::Vector3d s = f.cross(Eigen::Vector3d(0, 0, 1)).normalized();
  const Eigen::Vector3d u = s.cross(f);
  Eigen::Matrix4d v = Eigen::Matrix4d::Identity();
  v.block<1, 3>(0, 0) = s.transpose(), v.block<1, 3>(1, 0) = u.transpose();
  v.block<1, 3>(2, 0) = -f.transpose();
  v(0, 3) = -s.dot(eye), v(1, 3) = -u.dot(eye), v(2, 3) = f.dot(eye);
  return v;
}

// Whether the point is inside the clip volume of m (OpenGL convention), with a tolerance.
bool InClip(const Eigen::Matrix4d& m, double x, double y, double z, double eps) {
  const Eigen::Vector4d c = m * Eigen::Vector4d(x, y, z, 1);
  const double w = c.w() * (1 + eps) + eps;
  return std::abs(c.x()) <= w && std::abs(c.y()) <= w && std::abs(c.z()) <= w;
}

template <typename T>
void CheckFrusta(uint64_t seed) {
  using Tree = PackedRTree<3, T>;
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(-100, 1100);
  for (uint32_t ns : {3u, 16u}) {
    for (auto dist : kAllDistributions) {
      SCOPED_TRACE(::testing::Message() << "ns=" << ns << " dist=" << testing::Name(dist));
      const std::vector<Box3> boxes = MakeBoxes<Box3>(6000, dist, rng());
      const Tree tree = Tree::Build(std::span<const Box3>(boxes), {ns}).value();
      std::vector<uint32_t> got;
      size_t total = 0, inside_total = 0;
      for (int q = 0; q < 16; ++q) {
        const Eigen::Vector3d eye(u(rng), u(rng), u(rng)), at(u(rng), u(rng), u(rng));
        const Eigen::Matrix4d proj = q % 2 == 0
                                         ? Perspective(0.3 + 0.2 * (q % 5), 1.5, 1, 800)
                                         : Ortho(-200, 150, -100, 120, 0.5, 900);
        const Eigen::Matrix4d vp = proj * LookAt(eye, at);
        const Frustum f = FrustumFromViewProjection(vp);
        std::vector<uint32_t> want;
        for (size_t i = 0; i < boxes.size(); ++i) {
          const Box3 s = Stored<T>(boxes[i]);
          if (f.Intersects(s)) want.push_back(uint32_t(i));
          if (f.Contains(boxes[i])) {  // every corner is truly inside the clip volume
            ++inside_total;
            for (int c = 0; c < 8; ++c) {
              ASSERT_TRUE(InClip(vp, c & 1 ? boxes[i].max.x : boxes[i].min.x,
                                 c & 2 ? boxes[i].max.y : boxes[i].min.y,
                                 c & 4 ? boxes[i].max.z : boxes[i].min.z, 1e-9));
            }
            ASSERT_TRUE(f.Intersects(boxes[i]));
          }
        }
        ASSERT_TRUE(tree.SearchFrustum(f, &got).ok());
        ASSERT_EQ(Sorted(got), want);
        total += want.size();
      }
      if (dist == testing::Distribution::kUniform) {
        EXPECT_GT(total, 0u);
        EXPECT_GT(inside_total, 0u);
      }
    }
  }
}

TEST_P(RtreeRayTest, FrustumMatchesBruteForceF64) { CheckFrusta<double>(TestSeed() + 6); }
TEST_P(RtreeRayTest, FrustumMatchesBruteForceF32) { CheckFrusta<float>(TestSeed() + 7); }

LOCUS_INSTANTIATE_PER_TARGET(RtreeRayTest);

// ---- edge cases (dispatched target) ---------------------------------------------------------

TEST(RtreeRayEdgeTest, AxisParallelStartInsideAndTMaxInclusive) {
  // Boxes along x: [10k, 10k + 2] x [0, 2].
  std::vector<Box2> boxes;
  for (int k = 0; k < 40; ++k) boxes.push_back({{10.0 * k, 0}, {10.0 * k + 2, 2}});
  for (uint32_t ns : {2u, 16u}) {
    const auto tree = PackedRTree2D::Build(std::span<const Box2>(boxes), {ns}).value();
    std::vector<RayHit> hits;
    // Axis-parallel (dy = 0), starting inside box 0: t = 0 first, then 10k - 1 each.
    Ray2 r{{1, 1}, {1, 0}, 39};
    ASSERT_TRUE(tree.Raycast(r, &hits).ok());
    ASSERT_EQ(hits.size(), 5u);  // boxes 0..4; box 4 is entered exactly at t_max = 39
    EXPECT_EQ(hits[0], (RayHit{0, 0.0}));
    EXPECT_EQ(hits[4], (RayHit{4, 39.0}));
    r.t_max = std::nextafter(39.0, 0.0);
    ASSERT_TRUE(tree.Raycast(r, &hits).ok());
    EXPECT_EQ(hits.size(), 4u);
    // Grazing the top face y = 2 along x.
    r = {{-5, 2}, {1, 0}, kInf};
    ASSERT_TRUE(tree.Raycast(r, &hits).ok());
    EXPECT_EQ(hits.size(), 40u);
    EXPECT_EQ(tree.RaycastClosest(r).value(), (RayHit{0, 5.0}));
    // Just above: nothing.
    r.origin.y = std::nextafter(2.0, 3.0);
    ASSERT_TRUE(tree.Raycast(r, &hits).ok());
    EXPECT_TRUE(hits.empty());
    EXPECT_FALSE(tree.RaycastClosest(r).value().has_value());
    // Pointing away.
    r = {{-5, 1}, {-1, 0}, kInf};
    EXPECT_FALSE(tree.RaycastClosest(r).value().has_value());
    // Closest hit exactly at t_max counts.
    r = {{-5, 1}, {1, 0}, 5};
    EXPECT_EQ(tree.RaycastClosest(r).value(), (RayHit{0, 5.0}));
  }
}

TEST(RtreeRayEdgeTest, ClosestTiesGoToSmallerId) {
  // Many identical boxes, plus a farther one: the closest must be id 0 at t = 8.
  std::vector<Box3> boxes(100, Box3{{10, 20, 30}, {12, 22, 31}});
  boxes.push_back({{5, 20, 30}, {6, 22, 31}});  // id 100, nearer: t = 3
  boxes.push_back({{5, 20, 30}, {6, 22, 31}});  // id 101, the same
  for (uint32_t ns : {2u, 4u, 16u}) {
    const auto tree = PackedRTree3F::Build(std::span<const Box3>(boxes), {ns}).value();
    Ray3 r{{2, 21, 30.5}, {1, 0, 0}, kInf};
    EXPECT_EQ(tree.RaycastClosest(r).value(), (RayHit{100, 3.0}));
    EXPECT_EQ(tree.RaycastClosestExact(r, boxes).value(), (RayHit{100, 3.0}));
    r.origin.x = 7;  // past 100 and 101
    EXPECT_EQ(tree.RaycastClosest(r).value(), (RayHit{0, 3.0}));
  }
}

TEST(RtreeRayEdgeTest, F32ExactVariantsRefine) {
  // Box 0 ends just before the ray's x; f32 rounding (up to 1 + 2^-23) makes its stored
  // box reach it.
  const double x = 1.0 + 2e-12;
  std::vector<Box2> boxes = {{{0, 0}, {1.0 + 1e-12, 1}}, {{5, 0}, {6, 1}}};
  const auto tree = PackedRTree2F::Build(std::span<const Box2>(boxes)).value();
  Ray2 r{{x, -5}, {0, 1}, kInf};
  std::vector<RayHit> hits;
  ASSERT_TRUE(tree.Raycast(r, &hits).ok());
  EXPECT_EQ(hits.size(), 1u);  // the superset: stored box 0 is hit
  ASSERT_TRUE(tree.RaycastExact(r, boxes, &hits).ok());
  EXPECT_TRUE(hits.empty());
  EXPECT_FALSE(tree.RaycastClosestExact(r, boxes).value().has_value());
  std::vector<Box2> wrong(1);
  EXPECT_FALSE(tree.RaycastExact(r, wrong, &hits).ok());
}

TEST(RtreeRayEdgeTest, InvalidRaysAreRejected) {
  std::vector<Box3> boxes = {{{0, 0, 0}, {1, 1, 1}}};
  const auto tree = PackedRTree3D::Build(std::span<const Box3>(boxes)).value();
  std::vector<RayHit> hits;
  Status s = tree.Raycast(Ray3{{0, 0, 0}, {0, 0, 0}, 1}, &hits);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.ToString().find("ray"), std::string::npos) << s.ToString();
  EXPECT_FALSE(tree.RaycastClosest(Ray3{{NAN, 0, 0}, {1, 0, 0}, 1}).ok());
  EXPECT_FALSE(tree.RaycastClosest(Ray3{{0, 0, 0}, {1, 0, 0}, -1}).ok());
}

TEST(RtreePolygonEdgeTest, TouchingContainingAndOrientation) {
  const std::vector<Point2> tri = {{0, 0}, {10, 0}, {0, 10}};  // CCW
  std::vector<Point2> tri_cw(tri.rbegin(), tri.rend());
  std::vector<Box2> boxes = {
      {{5, 5}, {6, 6}},          // 0: touches the hypotenuse x + y = 10 at a corner
      {{5.5, 5.5}, {7, 7}},      // 1: beyond the hypotenuse (only the SAT normal rejects it)
      {{10, -3}, {12, 0}},       // 2: touches vertex (10, 0)
      {{-5, -5}, {20, 20}},      // 3: contains the polygon
      {{1, 1}, {2, 2}},          // 4: inside the polygon
      {{-3, 2}, {0, 3}},         // 5: touches the edge x = 0
      {{-3, 2}, {-1e-9, 3}},     // 6: just outside it
      {{10.000001, -3}, {12, 0}} // 7: just past the vertex
  };
  for (uint32_t ns : {2u, 16u}) {
    const auto tree = PackedRTree2D::Build(std::span<const Box2>(boxes), {ns}).value();
    for (const auto& p : {tri, tri_cw}) {
      std::vector<uint32_t> got;
      ASSERT_TRUE(tree.SearchPolygon(p, &got).ok());
      EXPECT_EQ(Sorted(got), (std::vector<uint32_t>{0, 2, 3, 4, 5}));
    }
  }
  auto poly = ConvexPolygon::Make(tri).value();
  EXPECT_TRUE(poly.Contains(boxes[4]));
  EXPECT_FALSE(poly.Contains(boxes[0]) && poly.Contains(boxes[3]));
}

TEST(RtreePolygonEdgeTest, InvalidPolygonsAreRejected) {
  std::vector<Box2> boxes = {{{0, 0}, {1, 1}}};
  const auto tree = PackedRTree2F::Build(std::span<const Box2>(boxes)).value();
  std::vector<uint32_t> got;
  auto expect_error = [&](std::vector<Point2> p, const std::string& needle) {
    const Status s = tree.SearchPolygon(p, &got);
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.ToString().find(needle), std::string::npos) << s.ToString();
  };
  expect_error({{0, 0}, {1, 0}}, "polygon.size() = 2");
  expect_error({{0, 0}, {1, 0}, {NAN, 1}}, "polygon[2]");
  expect_error({{0, 0}, {4, 0}, {1, 1}, {0, 4}}, "not convex");            // reflex at (1, 1)
  expect_error({{0, 0}, {1, 1}, {2, 2}}, "degenerate");                    // collinear
  expect_error({{0, 0}, {1, 0}, {1, 0}, {0, 1}}, "repeated vertex");
  std::vector<Point2> star;  // a pentagram: consistent turns, winds twice
  for (int k = 0; k < 5; ++k) {
    star.push_back({std::cos(k * 4 * M_PI / 5), std::sin(k * 4 * M_PI / 5)});
  }
  expect_error(star, "winds");
}

TEST(RtreeFrustumEdgeTest, InvalidFrustumIsRejected) {
  std::vector<Box3> boxes = {{{0, 0, 0}, {1, 1, 1}}};
  const auto tree = PackedRTree3D::Build(std::span<const Box3>(boxes)).value();
  std::vector<uint32_t> got;
  Frustum f = FrustumFromViewProjection(Perspective(1, 1, 1, 10));
  f.planes[3].d = NAN;
  const Status s = tree.SearchFrustum(f, &got);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.ToString().find("frustum.planes[3].d"), std::string::npos) << s.ToString();
}

}  // namespace
}  // namespace locus::engine
