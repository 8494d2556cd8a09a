// Tests PackedRTree kNN and radius queries against brute force: Nearest (point and box queries) for
// 2D/3D, f64/f32 storage (f32 against the stored, outward-rounded boxes), NearestExact
// against the exact boxes, several node sizes, every data distribution of
// tests/testing/data.h (duplicates and identical boxes give heavy ties), k in {1, 10, n,
// n + 3}, max distances (none, 0, exactly an item's distance: inclusive, just below it), every
// compiled target; NearestBy with a custom (L1) metric; NearestHaversine against the
// haversine kernel over lon/lat points incl. antimeridian and polar data; the lon/lat
// point-to-box distance against dense sampling; errors.
//
// Oracles compare exactly (ids and distances): the tree's order is (d^2, id), which is one
// deterministic answer, so ties cannot make a correct result differ from brute force.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <random>
#include <set>
#include <type_traits>
#include <utility>
#include <vector>

#include "engine/packed_rtree.h"
#include "engine/rtree_knn_walk.h"
#include "kernels/column.h"
#include "kernels/geo.h"
#include "tests/testing/data.h"
#include "tests/testing/harness.h"
#include "tests/testing/rtree_util.h"

namespace locus::engine {
namespace {

using ::locus::testing::Distribution;
using ::locus::testing::kAllDistributions;
using ::locus::testing::MakeBoxes;
using ::locus::testing::MakeQuery;
using ::locus::testing::SeedTrace;
using ::locus::testing::Stored;
using ::locus::testing::TestSeed;
using ::locus::testing::TreeTraits;

constexpr double kInf = std::numeric_limits<double>::infinity();

// The documented distance: per axis g = max(lo - q.max, q.min - hi, 0), d^2 = sum in axis order.
double GapSq(const Box2& b, const Box2& q) {
  const double gx = std::max(std::max(b.min.x - q.max.x, q.min.x - b.max.x), 0.0);
  const double gy = std::max(std::max(b.min.y - q.max.y, q.min.y - b.max.y), 0.0);
  return gx * gx + gy * gy;
}
double GapSq(const Box3& b, const Box3& q) {
  const double gx = std::max(std::max(b.min.x - q.max.x, q.min.x - b.max.x), 0.0);
  const double gy = std::max(std::max(b.min.y - q.max.y, q.min.y - b.max.y), 0.0);
  const double gz = std::max(std::max(b.min.z - q.max.z, q.min.z - b.max.z), 0.0);
  return gx * gx + gy * gy + gz * gz;
}

// Every item as (d^2, id), sorted: brute force over `boxes`.
template <typename Box>
std::vector<std::pair<double, uint32_t>> AllByDistance(const std::vector<Box>& boxes,
                                                       const Box& q) {
  std::vector<std::pair<double, uint32_t>> all(boxes.size());
  for (size_t i = 0; i < boxes.size(); ++i) all[i] = {GapSq(boxes[i], q), uint32_t(i)};
  std::sort(all.begin(), all.end());
  return all;
}

// The first k of `all` with sqrt(d^2) <= max_distance, as (id, distance).
std::vector<std::pair<uint32_t, double>> TakeK(const std::vector<std::pair<double, uint32_t>>& all,
                                               size_t k, double max_distance) {
  std::vector<std::pair<uint32_t, double>> out;
  for (const auto& [d2, id] : all) {
    if (out.size() >= k) break;
    if (std::sqrt(d2) <= max_distance) out.push_back({id, std::sqrt(d2)});
  }
  return out;
}

template <typename Neighbor>
std::vector<std::pair<uint32_t, double>> Pairs(const std::vector<Neighbor>& v) {
  std::vector<std::pair<uint32_t, double>> out;
  for (const Neighbor& n : v) out.push_back({n.id, n.distance});
  return out;
}

template <typename Box>
Box PointBox(const Box& b) {  // the centre, as a zero-size box
  Box p = b;
  p.min.x = p.max.x = (b.min.x + b.max.x) / 2;
  p.min.y = p.max.y = (b.min.y + b.max.y) / 2;
  if constexpr (std::is_same_v<Box, Box3>) p.min.z = p.max.z = (b.min.z + b.max.z) / 2;
  return p;
}

// Checks Nearest (point and box), NearestExact, all k and max-distance cases against brute
// force, for one tree type and node size over every distribution and size.
template <typename Tree>
void RunKnnOracle(uint32_t node_size, std::vector<size_t> extra_sizes = {}) {
  using T = typename TreeTraits<Tree>::Scalar;
  using Box = typename Tree::Box;
  const uint64_t seed = TestSeed();
  SCOPED_TRACE(SeedTrace(seed));
  std::vector<size_t> sizes = {0, 1, node_size - 1, node_size, node_size + 1, 1000};
  sizes.insert(sizes.end(), extra_sizes.begin(), extra_sizes.end());
  for (Distribution dist : kAllDistributions) {
    for (size_t n : sizes) {
      SCOPED_TRACE(::testing::Message()
                   << testing::Name(dist) << " n=" << n << " node_size=" << node_size);
      const std::vector<Box> boxes = MakeBoxes<Box>(n, dist, seed + n);
      RTreeOptions options;
      options.node_size = node_size;
      auto tree = Tree::Build(boxes, options);
      ASSERT_TRUE(tree.ok()) << tree.status().message();
      std::vector<Box> stored(boxes.size());
      for (size_t i = 0; i < n; ++i) stored[i] = Stored<T>(boxes[i]);
      std::mt19937_64 rng(seed ^ (n * 7919));
      std::vector<typename Tree::Neighbor> got;
      for (int qi = 0; qi < 12; ++qi) {
        // Alternate points and boxes; query 0 is an item's own centre when there are items.
        Box q = MakeQuery<Box>(rng, qi % 3 == 2 ? 40 : 0);
        if (qi == 0 && n > 0) q = PointBox(boxes[rng() % n]);
        const bool is_point = q.min == q.max;
        const auto all_stored = AllByDistance(stored, q);
        const auto all_exact = AllByDistance(boxes, q);
        std::vector<double> maxes = {kInf, 0.0};
        if (n > 0) {
          const double dj = std::sqrt(all_stored[std::min<size_t>(5, n - 1)].first);
          maxes.push_back(dj);                       // inclusive: the item is kept
          maxes.push_back(std::nextafter(dj, 0.0));  // just below: it is not
          maxes.push_back(dj * 1.5 + 1);
        }
        if (is_point) {  // radius queries: every item with distance <= r, as a set
          std::vector<uint32_t> ids;
          for (double r : maxes) {
            SCOPED_TRACE(::testing::Message() << "query " << qi << " radius=" << r);
            std::vector<uint32_t> want;
            for (const auto& [d2, id] : all_stored) {
              if (std::sqrt(d2) <= r) want.push_back(id);
            }
            std::sort(want.begin(), want.end());
            ASSERT_TRUE(tree->SearchRadius(q.min, r, &ids).ok());
            std::sort(ids.begin(), ids.end());
            ASSERT_EQ(ids, want);
            ASSERT_EQ(tree->CountRadius(q.min, r).value(), want.size());
            size_t seen = 0;
            auto stop = [&](std::span<const uint32_t> batch) {
              seen += batch.size();
              return false;
            };
            ASSERT_EQ(tree->VisitRadius(q.min, r, stop).value(), want.empty());
            ASSERT_LE(seen, want.size());
          }
        }
        for (size_t k : {size_t{1}, size_t{10}, size_t{32}, size_t{33}, n, n + 3}) {
          for (double m : maxes) {
            SCOPED_TRACE(::testing::Message() << "query " << qi << " k=" << k << " max=" << m);
            if (is_point) {
              ASSERT_TRUE(tree->Nearest(q.min, k, &got, m).ok());
            } else {
              ASSERT_TRUE(tree->Nearest(q, k, &got, m).ok());
            }
            ASSERT_EQ(Pairs(got), TakeK(all_stored, k, m));
            if (is_point) {
              ASSERT_TRUE(tree->NearestExact(q.min, k, boxes, &got, m).ok());
            } else {
              ASSERT_TRUE(tree->NearestExact(q, k, boxes, &got, m).ok());
            }
            ASSERT_EQ(Pairs(got), TakeK(all_exact, k, m));
          }
        }
      }
    }
  }
}

TEST(RTreeKnnTest, Oracle2D64) { RunKnnOracle<PackedRTree2D>(16, {20000}); }
TEST(RTreeKnnTest, Oracle3D64) { RunKnnOracle<PackedRTree3D>(16); }
TEST(RTreeKnnTest, Oracle2F32) { RunKnnOracle<PackedRTree2F>(16); }
TEST(RTreeKnnTest, Oracle3F32) { RunKnnOracle<PackedRTree3F>(16, {5000}); }
TEST(RTreeKnnTest, OracleNodeSize2) { RunKnnOracle<PackedRTree2D>(2); }
TEST(RTreeKnnTest, OracleNodeSize5) { RunKnnOracle<PackedRTree3F>(5); }
TEST(RTreeKnnTest, OracleNodeSize64) { RunKnnOracle<PackedRTree2F>(64); }
TEST(RTreeKnnTest, OracleNodeSize7) { RunKnnOracle<PackedRTree3D>(7); }

// Every compiled target walks the tree identically (and computes identical distances).
class RTreeKnnTargetTest : public ::locus::testing::PerTargetTest {};
LOCUS_INSTANTIATE_PER_TARGET(RTreeKnnTargetTest);
TEST_P(RTreeKnnTargetTest, OracleOnEveryTarget) {
  RunKnnOracle<PackedRTree2D>(16);
  RunKnnOracle<PackedRTree2F>(16);
  RunKnnOracle<PackedRTree3D>(9);
  RunKnnOracle<PackedRTree3F>(16);
}

// kNN first tries a bound guessed from the density under the dive's leaf, grows it, then
// walks without one (rtree_knn_walk-inl.h). A dense cluster inside sparse points makes the
// guess wrong both ways (too small beside the cluster, too large inside it), and queries far
// outside the data need the fallback: every answer still equals brute force.
template <typename Tree>
void RunDensityChangeOracle(uint64_t seed) {
  using T = typename TreeTraits<Tree>::Scalar;
  using Box = typename Tree::Box;
  constexpr bool k3 = std::is_same_v<Box, Box3>;
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<Box> boxes;
  auto point = [&](double x, double y, double z) {
    Box b;
    b.min.x = b.max.x = x;
    b.min.y = b.max.y = y;
    if constexpr (k3) b.min.z = b.max.z = z;
    boxes.push_back(b);
  };
  for (int i = 0; i < 6000; ++i) point(0.5 + u(rng) * 1e-3, 0.5 + u(rng) * 1e-3, u(rng) * 1e-3);
  for (int i = 0; i < 3000; ++i) point(u(rng), u(rng), u(rng));
  auto tree = Tree::Build(boxes);
  ASSERT_TRUE(tree.ok());
  std::vector<Box> stored;
  for (const Box& b : boxes) stored.push_back(Stored<T>(b));
  std::vector<typename Tree::Neighbor> got;
  for (int qi = 0; qi < 200; ++qi) {
    // Inside the cluster, just beside it, anywhere, and far outside the data.
    const double spread = qi % 4 == 0 ? 1e-3 : qi % 4 == 1 ? 2e-2 : qi % 4 == 2 ? 1 : 40;
    const double base = qi % 4 == 2 ? 0 : 0.5 - spread / 2;
    Box q;
    q.min.x = q.max.x = base + u(rng) * spread;
    q.min.y = q.max.y = base + u(rng) * spread;
    if constexpr (k3) q.min.z = q.max.z = u(rng) * (qi % 4 == 3 ? 40 : 1);
    if (qi % 5 == 4) q.max.x += 1e-3;  // a box query
    const auto all = AllByDistance(stored, q);
    for (size_t k : {size_t{1}, size_t{10}, size_t{32}, size_t{100}}) {
      for (double m : {kInf, std::sqrt(all[k / 2].first)}) {
        SCOPED_TRACE(::testing::Message() << "query " << qi << " k=" << k << " max=" << m);
        ASSERT_TRUE(tree->Nearest(q, k, &got, m).ok());
        ASSERT_EQ(Pairs(got), TakeK(all, k, m));
      }
    }
  }
}
TEST(RTreeKnnTest, NearestWhereTheDensityChanges) {
  SCOPED_TRACE(SeedTrace(TestSeed()));
  RunDensityChangeOracle<PackedRTree2D>(TestSeed());
  RunDensityChangeOracle<PackedRTree3F>(TestSeed() + 1);
}

// Far-off f32 coordinates: the stored boxes differ visibly from the exact ones, so Nearest
// (stored distances, lower bounds) and NearestExact give different, each correct, answers.
TEST(RTreeKnnTest, F32StoredVsExactDistances) {
  std::mt19937_64 rng(TestSeed());
  std::uniform_real_distribution<double> u(1e7, 1e7 + 50);
  std::vector<Box2> boxes(3000);
  for (Box2& b : boxes) b.min = b.max = {u(rng), u(rng)};
  auto tree = PackedRTree2F::Build(boxes);
  ASSERT_TRUE(tree.ok());
  std::vector<Box2> stored;
  for (const Box2& b : boxes) stored.push_back(Stored<float>(b));
  std::vector<PackedRTree2F::Neighbor> got;
  int differ = 0;
  for (int qi = 0; qi < 50; ++qi) {
    const Point2 p{u(rng), u(rng)};
    const Box2 q = BoxAround(p);
    ASSERT_TRUE(tree->Nearest(p, 10, &got).ok());
    const auto lower = Pairs(got);
    ASSERT_EQ(lower, TakeK(AllByDistance(stored, q), 10, kInf));
    ASSERT_TRUE(tree->NearestExact(p, 10, boxes, &got).ok());
    ASSERT_EQ(Pairs(got), TakeK(AllByDistance(boxes, q), 10, kInf));
    differ += Pairs(got) != lower;
    for (size_t i = 0; i < got.size(); ++i) ASSERT_LE(lower[i].second, got[i].distance);
  }
  EXPECT_GT(differ, 0);  // the exact variant is not a no-op here
}

// Radius queries with many hits: whole subtrees inside the circle are swept (not tested),
// in tree order, and the answer still equals brute force.
TEST(RTreeKnnTest, RadiusSweepsCoveredSubtrees) {
  std::mt19937_64 rng(TestSeed());
  SCOPED_TRACE(SeedTrace(TestSeed()));
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<Point2> points(50000);
  for (Point2& p : points) p = {u(rng), u(rng)};
  auto tree = PackedRTree2D::Build(points);
  ASSERT_TRUE(tree.ok());
  std::vector<uint32_t> got;
  for (int qi = 0; qi < 20; ++qi) {
    const Point2 c{u(rng), u(rng)};
    const double r = 0.02 + 0.2 * u(rng);
    std::vector<uint32_t> want;
    for (uint32_t i = 0; i < points.size(); ++i) {
      const double dx = points[i].x - c.x, dy = points[i].y - c.y;
      if (std::sqrt(dx * dx + dy * dy) <= r) want.push_back(i);
    }
    ASSERT_TRUE(tree->SearchRadius(c, r, &got).ok());
    ASSERT_GT(got.size(), 50u);
    // Tree order: the same order Search over the bounding box gives, filtered.
    std::vector<uint32_t> in_box;
    ASSERT_TRUE(tree->Search(Box2{{c.x - r, c.y - r}, {c.x + r, c.y + r}}, &in_box).ok());
    std::erase_if(in_box,
                  [&](uint32_t i) { return !std::binary_search(want.begin(), want.end(), i); });
    ASSERT_EQ(got.size(), want.size());
    ASSERT_EQ(got, in_box);
  }
  EXPECT_EQ(tree->SearchRadius(Point2{0.5, 0.5}, -1, &got).message(),
            "radius = -1: must be >= 0 (+inf for no limit)");
  EXPECT_FALSE(tree->CountRadius(Point2{std::nan(""), 0.5}, 1).ok());
  EXPECT_EQ(tree->CountRadius(Point2{0.5, 0.5}, kInf).value(), points.size());
}

TEST(RTreeKnnTest, EmptyTreeAndZeroK) {
  PackedRTree2D empty;
  std::vector<PackedRTree2D::Neighbor> got = {{1, 2.0}};
  ASSERT_TRUE(empty.Nearest(Point2{1, 2}, 5, &got).ok());
  EXPECT_TRUE(got.empty());
  const auto boxes = MakeBoxes<Box2>(100, Distribution::kUniform, 3);
  auto tree = PackedRTree2D::Build(boxes);
  ASSERT_TRUE(tree.ok());
  got = {{1, 2.0}};
  ASSERT_TRUE(tree->Nearest(Point2{1, 2}, 0, &got).ok());  // k == 0: empty, not an error
  EXPECT_TRUE(got.empty());
  ASSERT_TRUE(tree->Nearest(Point2{1, 2}, 1, &got).ok());
  EXPECT_EQ(got.size(), 1u);
}

TEST(RTreeKnnTest, Errors) {
  const auto boxes = MakeBoxes<Box2>(100, Distribution::kUniform, 3);
  auto tree = PackedRTree2D::Build(boxes);
  ASSERT_TRUE(tree.ok());
  std::vector<PackedRTree2D::Neighbor> got;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(tree->Nearest(Point2{nan, 1}, 3, &got).message(),
            "point.x = nan: coordinate is not a finite number");
  EXPECT_EQ(tree->Nearest(Point2{1, kInf}, 3, &got).message(),
            "point.y = inf: coordinate is not a finite number");
  EXPECT_EQ(tree->Nearest(Box2{{0, 4}, {1, 2}}, 3, &got).message(),
            "query: min.y (4) > max.y (2): box is crossed");
  EXPECT_EQ(tree->Nearest(Point2{1, 1}, 3, &got, -1).message(),
            "max_distance = -1: must be >= 0 (+inf for no limit)");
  EXPECT_EQ(tree->Nearest(Point2{1, 1}, 3, &got, nan).message(),
            "max_distance = nan: must be >= 0 (+inf for no limit)");
  EXPECT_EQ(
      tree->NearestExact(Point2{1, 1}, 3, std::span<const Box2>(boxes).first(99), &got).message(),
      "items.size() = 99: must equal the tree's size 100");
  EXPECT_EQ(tree->NearestHaversine(Point2{10, 91}, 3, &got).message(),
            "lon_lat.y = 91: outside [-90, 90]");
  EXPECT_EQ(tree->NearestHaversine(Point2{nan, 0}, 3, &got).message(),
            "lon_lat.x = nan: coordinate is not a finite number");
  EXPECT_EQ(tree->NearestHaversine(Point2{0, 0}, 3, &got, -2).message(),
            "max_metres = -2: must be >= 0 (+inf for no limit)");
}

// NearestBy with the L1 (Manhattan) gap: admissible lower bound = the same L1 gap of the node.
TEST(RTreeKnnTest, CustomMetricL1) {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE(SeedTrace(seed));
  for (Distribution dist : kAllDistributions) {
    SCOPED_TRACE(testing::Name(dist));
    const auto boxes = MakeBoxes<Box3>(3000, dist, seed);
    RTreeOptions options;
    options.node_size = 8;
    auto tree = PackedRTree3F::Build(boxes, options);
    ASSERT_TRUE(tree.ok());
    std::mt19937_64 rng(seed);
    std::vector<PackedRTree3F::Neighbor> got;
    for (int qi = 0; qi < 20; ++qi) {
      const Box3 q = MakeQuery<Box3>(rng, 10);
      auto l1 = [&](const Box3& b) {
        return std::max({b.min.x - q.max.x, q.min.x - b.max.x, 0.0}) +
               std::max({b.min.y - q.max.y, q.min.y - b.max.y, 0.0}) +
               std::max({b.min.z - q.max.z, q.min.z - b.max.z, 0.0});
      };
      int item_calls = 0;
      auto item = [&](uint32_t, const Box3& b) {
        ++item_calls;
        return l1(b);
      };
      const double m = qi % 2 ? kInf : 100.0;
      ASSERT_TRUE(tree->NearestBy({l1, item}, 7, &got, m).ok());
      std::vector<std::pair<double, uint32_t>> all;
      for (size_t i = 0; i < boxes.size(); ++i) all.push_back({l1(Stored<float>(boxes[i])), i});
      std::sort(all.begin(), all.end());
      std::vector<std::pair<uint32_t, double>> want;
      for (const auto& [d, id] : all) {
        if (want.size() < 7 && d <= m) want.push_back({id, d});
      }
      ASSERT_EQ(Pairs(got), want);
      if (dist == Distribution::kUniform) {
        EXPECT_LT(item_calls, 1500);  // it prunes
      }
    }
  }
}

// ---- great-circle kNN ----------------------------------------------------------------

constexpr double kDeg = std::numbers::pi / 180;

// Lon/lat points: uniform on the sphere, plus clusters straddling the antimeridian and at
// both poles (incl. the poles themselves, at many longitudes).
std::vector<Point2> GeoPoints(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(-1, 1), lon(-180, 180), e(0, 1);
  std::vector<Point2> pts(n);
  for (size_t i = 0; i < n; ++i) {
    switch (i % 4) {
      case 0:
        pts[i] = {lon(rng), std::asin(u(rng)) / kDeg};
        break;
      case 1:
        pts[i] = {u(rng) > 0 ? 180 - e(rng) : -180 + e(rng), 10 * u(rng)};
        break;
      case 2:
        pts[i] = {lon(rng), (u(rng) > 0 ? 1 : -1) * (90 - e(rng) * e(rng))};
        break;
      default:
        pts[i] = {lon(rng), i % 8 == 3 ? 90.0 : 60 * u(rng)};
        break;
    }
  }
  return pts;
}

template <typename Tree>
void RunHaversineOracle(uint32_t node_size) {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE(SeedTrace(seed));
  const size_t n = 6000;
  const std::vector<Point2> pts = GeoPoints(n, seed);
  RTreeOptions options;
  options.node_size = node_size;
  auto tree = Tree::Build(std::span<const Point2>(pts), options);
  ASSERT_TRUE(tree.ok());
  // The oracle distances come from the haversine kernel over the (stored) coordinates.
  using T = typename TreeTraits<Tree>::Scalar;
  kernels::Column<double> lon(n), lat(n), dist(n);
  for (size_t i = 0; i < n; ++i) {
    const Box2 s = Stored<T>(BoxAround(pts[i]));
    lon[i] = s.min.x, lat[i] = s.min.y;
  }
  std::mt19937_64 rng(seed + 1);
  std::uniform_real_distribution<double> u(-1, 1), ulon(-180, 180);
  std::vector<Point2> queries = {{179.99, 0.5}, {-179.999, -3}, {180, 0},     {-180, 5},   {0, 90},
                                 {123, -90},    {539.5, 2},     {-200, 89.9}, {45, 89.999}};
  for (int i = 0; i < 25; ++i) queries.push_back({ulon(rng), std::asin(u(rng)) / kDeg});
  std::vector<typename Tree::Neighbor> got;
  // Metres: scalar <cmath> vs the SIMD kernel; f32 trees store each point as a box one f32
  // ulp wide (up to ~1.7 m at longitude 180), so the oracle's corner is that far off.
  const double kTol = std::is_same_v<T, double> ? 1e-6 : 3.0;
  for (const Point2& q : queries) {
    SCOPED_TRACE(::testing::Message() << "query " << q.x << ", " << q.y);
    kernels::HaversineMetres(lon.data(), lat.data(), n, q.x, q.y, dist.data());
    std::vector<std::pair<double, uint32_t>> all;
    for (size_t i = 0; i < n; ++i) all.push_back({dist[i], uint32_t(i)});
    std::sort(all.begin(), all.end());
    for (size_t k : {size_t{1}, size_t{10}, size_t{100}}) {
      // A max distance in a clear gap between oracle distances, so tolerance cannot matter.
      double m = kInf;
      for (size_t j = k / 2; j + 1 < n; ++j) {
        if (all[j + 1].first - all[j].first > 4 * kTol + 1) {
          m = (all[j].first + all[j + 1].first) / 2;
          break;
        }
      }
      for (double max_metres : {kInf, m}) {
        ASSERT_TRUE(tree->NearestHaversine(q, k, &got, max_metres).ok());
        size_t want = 0;
        while (want < std::min(k, n) && all[want].first <= max_metres) ++want;
        ASSERT_EQ(got.size(), want) << "k=" << k << " max=" << max_metres;
        std::set<uint32_t> ids;
        for (size_t i = 0; i < got.size(); ++i) {
          ASSERT_NEAR(got[i].distance, all[i].first, kTol) << "rank " << i;
          ASSERT_NEAR(got[i].distance, dist[got[i].id], kTol) << "id " << got[i].id;
          ASSERT_TRUE(ids.insert(got[i].id).second);
          if (i > 0) {
            ASSERT_LE(got[i - 1].distance, got[i].distance);
          }
        }
      }
    }
  }
}

TEST(RTreeKnnTest, HaversineF64) { RunHaversineOracle<PackedRTree2D>(16); }
TEST(RTreeKnnTest, HaversineF32NodeSize5) { RunHaversineOracle<PackedRTree2F>(5); }
TEST_P(RTreeKnnTargetTest, Haversine) { RunHaversineOracle<PackedRTree2D>(8); }

// The point-to-box great-circle distance against the minimum over a dense grid of the box:
// never above it (admissible) and below it by at most the grid's resolution (tight).
TEST(RTreeKnnTest, LonLatBoxDistanceMatchesSampling) {
  std::mt19937_64 rng(TestSeed());
  std::uniform_real_distribution<double> u(0, 1);
  constexpr int kGrid = 120;
  kernels::Column<double> lon((kGrid + 1) * (kGrid + 1)), lat(lon.size()), d(lon.size());
  for (int trial = 0; trial < 400; ++trial) {
    Box2 b;
    const double w = trial % 5 == 0 ? 300 * u(rng) : 30 * u(rng);
    b.min.x = -180 + (360 - w) * u(rng);
    b.max.x = b.min.x + w;
    const double h = trial % 7 == 0 ? 180 * u(rng) : 20 * u(rng);
    b.min.y = -90 + (180 - h) * u(rng);
    if (trial % 11 == 0) b.min.y = 90 - h;  // touching the north pole
    b.max.y = b.min.y + h;
    const Point2 q =
        trial % 4 == 0 ? Point2{b.min.x - 0.5 + u(rng) - 180 * (trial % 8 == 0), -90 + 180 * u(rng)}
                       : Point2{-180 + 360 * u(rng), -90 + 180 * u(rng)};
    size_t idx = 0;
    for (int i = 0; i <= kGrid; ++i) {
      for (int j = 0; j <= kGrid; ++j, ++idx) {
        lon[idx] = b.min.x + w * i / kGrid;
        lat[idx] = b.min.y + h * j / kGrid;
      }
    }
    kernels::HaversineMetres(lon.data(), lat.data(), idx, q.x, q.y, d.data());
    const double sampled = *std::min_element(d.data(), d.data() + idx);
    const double got = internal::LonLatBoxMetres(q.x, q.y, b);
    const double cell = (w + h) / kGrid * kDeg * kernels::kEarthRadiusMetres;
    SCOPED_TRACE(::testing::Message()
                 << "box lon [" << b.min.x << ", " << b.max.x << "] lat [" << b.min.y << ", "
                 << b.max.y << "] query " << q.x << ", " << q.y);
    ASSERT_LE(got, sampled + 1e-6);
    ASSERT_GE(got, sampled - cell);
  }
}

// NearestHaversine over lon/lat boxes: the walk agrees with brute force over the same
// point-to-box distance (checked against sampling above).
TEST(RTreeKnnTest, HaversineBoxItems) {
  std::mt19937_64 rng(TestSeed());
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<Box2> boxes(4000);
  for (Box2& b : boxes) {
    b.min = {-180 + 355 * u(rng), -90 + 175 * u(rng)};
    b.max = {b.min.x + 5 * u(rng), b.min.y + 5 * u(rng)};
  }
  auto tree = PackedRTree2F::Build(boxes);
  ASSERT_TRUE(tree.ok());
  std::vector<PackedRTree2F::Neighbor> got;
  for (int qi = 0; qi < 40; ++qi) {
    const Point2 q = {qi % 3 == 0 ? 179.9 + 0.2 * u(rng) : -180 + 360 * u(rng),
                      qi % 5 == 0 ? 89.9 : -90 + 180 * u(rng)};
    std::vector<std::pair<double, uint32_t>> all;
    for (size_t i = 0; i < boxes.size(); ++i) {
      all.push_back({internal::LonLatBoxMetres(q.x, q.y, Stored<float>(boxes[i])), i});
    }
    std::sort(all.begin(), all.end());
    ASSERT_TRUE(tree->NearestHaversine(q, 12, &got).ok());
    std::vector<std::pair<uint32_t, double>> want;
    for (size_t i = 0; i < 12; ++i) want.push_back({all[i].second, all[i].first});
    ASSERT_EQ(Pairs(got), want) << "query " << q.x << ", " << q.y;
  }
}

}  // namespace
}  // namespace locus::engine
