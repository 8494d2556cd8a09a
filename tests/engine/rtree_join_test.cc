// Tests the spatial joins of engine/rtree_join.h against N x M brute force on the seeded data
// of tests/testing/data.h (uniform, clustered, duplicates, zero-area, identical), for 2D/3D,
// f64/f32 trees (f32 against brute force over the stored, outward-rounded boxes), different
// sizes and node sizes on the two sides, overlap and within-distance joins, self-joins.
// Also: parallel output == serial output in the same order for every thread count; counts ==
// output sizes; sinks that stop; bad distances; concurrent joins on shared trees (run it under
// TSan); every compiled SIMD target.
#include "engine/rtree_join.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "engine/packed_rtree.h"
#include "tests/testing/data.h"
#include "tests/testing/harness.h"
#include "tests/testing/rtree_util.h"

namespace locus::engine {
namespace {

using ::locus::testing::Distribution;
using ::locus::testing::kAllDistributions;
using ::locus::testing::MakeBoxes;
using ::locus::testing::SeedTrace;
using ::locus::testing::Stored;
using ::locus::testing::TestSeed;
using ::locus::testing::TreeTraits;

template <class Box>
double Lo(const Box& b, int a) {
  if constexpr (std::is_same_v<Box, Box3>) {
    return a == 0 ? b.min.x : a == 1 ? b.min.y : b.min.z;
  } else {
    return a == 0 ? b.min.x : b.min.y;
  }
}
template <class Box>
double Hi(const Box& b, int a) {
  if constexpr (std::is_same_v<Box, Box3>) {
    return a == 0 ? b.max.x : a == 1 ? b.max.y : b.max.z;
  } else {
    return a == 0 ? b.max.x : b.max.y;
  }
}

// The rule of rtree_join.h, written independently: distance 0 = closed boxes intersect;
// otherwise sqrt(gap^2) <= distance with the gap in f64, axis by axis.
template <class Box>
bool Matches(const Box& a, const Box& b, double distance) {
  if (distance == 0) return Intersects(a, b);
  constexpr int kDims = std::is_same_v<Box, Box3> ? 3 : 2;
  double d2 = 0;
  for (int k = 0; k < kDims; ++k) {
    const double g = std::max(std::max(Lo(b, k) - Hi(a, k), Lo(a, k) - Hi(b, k)), 0.0);
    d2 = k == 0 ? g * g : d2 + g * g;
  }
  return std::sqrt(d2) <= distance;
}

template <class Box>
std::vector<IdPair> BruteJoin(const std::vector<Box>& l, const std::vector<Box>& r,
                              double distance) {
  std::vector<IdPair> out;
  for (uint32_t i = 0; i < l.size(); ++i) {
    for (uint32_t j = 0; j < r.size(); ++j) {
      if (Matches(l[i], r[j], distance)) out.push_back({i, j});
    }
  }
  return out;  // sorted by construction
}

template <class Box>
std::vector<IdPair> BruteSelfJoin(const std::vector<Box>& boxes, double distance) {
  std::vector<IdPair> out;
  for (uint32_t i = 0; i < boxes.size(); ++i) {
    for (uint32_t j = i + 1; j < boxes.size(); ++j) {
      if (Matches(boxes[i], boxes[j], distance)) out.push_back({i, j});
    }
  }
  return out;
}

std::vector<IdPair> SortedPairs(std::vector<IdPair> v) {
  std::sort(v.begin(), v.end());
  return v;
}

std::string Describe(const std::vector<IdPair>& got, const std::vector<IdPair>& want) {
  // The first difference of two sorted lists, so a failure says which pair is wrong.
  size_t i = 0;
  while (i < got.size() && i < want.size() && got[i] == want[i]) ++i;
  std::string s = "sizes got " + std::to_string(got.size()) + " want " +
                  std::to_string(want.size()) + "; first difference at " + std::to_string(i);
  if (i < got.size())
    s += " got (" + std::to_string(got[i].a) + "," + std::to_string(got[i].b) + ")";
  if (i < want.size()) {
    s += " want (" + std::to_string(want[i].a) + "," + std::to_string(want[i].b) + ")";
  }
  return s;
}

// What a tree with scalar T stores for the boxes (identity for f64).
template <typename T, class Box>
std::vector<Box> AsStored(const std::vector<Box>& boxes) {
  std::vector<Box> out(boxes);
  if constexpr (std::is_same_v<T, float>) {
    for (Box& b : out) b = Stored<float>(b);
  }
  return out;
}

JoinOptions Threads(size_t n, bool sorted = false) {
  JoinOptions o;
  o.max_threads = n;
  o.parallel_threshold = 0;  // small test inputs must exercise the parallel path too
  o.sorted = sorted;
  return o;
}

// Runs the two-tree join (distance 0: Join; else JoinWithin) / self-join with `options`.
template <class Tree>
std::vector<IdPair> RunJoin(const Tree& l, const Tree& r, double distance,
                            const JoinOptions& options) {
  std::vector<IdPair> out = {{7, 7}};  // must be replaced, not appended to
  const Status s =
      distance == 0 ? Join(l, r, &out, options) : JoinWithin(l, r, distance, &out, options);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}
template <class Tree>
std::vector<IdPair> RunSelfJoin(const Tree& t, double distance, const JoinOptions& options) {
  std::vector<IdPair> out = {{7, 7}};
  const Status s =
      distance == 0 ? SelfJoin(t, &out, options) : SelfJoinWithin(t, distance, &out, options);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

// Checks one two-tree join case: brute force, serial == parallel in the same order, sorted
// option, count, visit.
template <class Tree, class Box>
void CheckJoin(const std::vector<Box>& lb, const std::vector<Box>& rb, uint32_t ns_l, uint32_t ns_r,
               double distance) {
  using T = typename TreeTraits<Tree>::Scalar;
  SCOPED_TRACE("left " + std::to_string(lb.size()) + " (node size " + std::to_string(ns_l) +
               "), right " + std::to_string(rb.size()) + " (node size " + std::to_string(ns_r) +
               "), distance " + std::to_string(distance));
  RTreeOptions ol, orr;
  ol.node_size = ns_l;
  orr.node_size = ns_r;
  const Tree l = Tree::Build(std::span<const Box>(lb), ol).value();
  const Tree r = Tree::Build(std::span<const Box>(rb), orr).value();
  const std::vector<IdPair> want = BruteJoin(AsStored<T>(lb), AsStored<T>(rb), distance);

  const std::vector<IdPair> serial = RunJoin(l, r, distance, Threads(1));
  ASSERT_EQ(SortedPairs(serial), want) << Describe(SortedPairs(serial), want);
  for (size_t threads : {size_t{0}, size_t{2}, size_t{8}}) {
    SCOPED_TRACE("max_threads " + std::to_string(threads));
    ASSERT_EQ(RunJoin(l, r, distance, Threads(threads)), serial);  // same order, exactly
    ASSERT_EQ(RunJoin(l, r, distance, Threads(threads, /*sorted=*/true)), want);
    EXPECT_EQ(CountJoin(l, r, distance, Threads(threads)).value(), want.size());
  }
  JoinOptions defaults;  // default threshold: these sizes run serially
  ASSERT_EQ(RunJoin(l, r, distance, defaults), serial);
}

template <class Tree, class Box>
void CheckSelfJoin(const std::vector<Box>& boxes, uint32_t ns, double distance) {
  using T = typename TreeTraits<Tree>::Scalar;
  SCOPED_TRACE("self-join of " + std::to_string(boxes.size()) + " (node size " +
               std::to_string(ns) + "), distance " + std::to_string(distance));
  RTreeOptions o;
  o.node_size = ns;
  const Tree t = Tree::Build(std::span<const Box>(boxes), o).value();
  const std::vector<IdPair> want = BruteSelfJoin(AsStored<T>(boxes), distance);

  const std::vector<IdPair> serial = RunSelfJoin(t, distance, Threads(1));
  for (const IdPair& p : serial) ASSERT_LT(p.a, p.b);
  ASSERT_EQ(SortedPairs(serial), want) << Describe(SortedPairs(serial), want);
  for (size_t threads : {size_t{0}, size_t{2}, size_t{8}}) {
    SCOPED_TRACE("max_threads " + std::to_string(threads));
    ASSERT_EQ(RunSelfJoin(t, distance, Threads(threads)), serial);
    ASSERT_EQ(RunSelfJoin(t, distance, Threads(threads, /*sorted=*/true)), want);
    EXPECT_EQ(CountSelfJoin(t, distance, Threads(threads)).value(), want.size());
  }
}

template <class Tree>
class RTreeJoinTest : public ::testing::Test {};
using TreeTypes = ::testing::Types<PackedRTree2D, PackedRTree3D, PackedRTree2F, PackedRTree3F>;
TYPED_TEST_SUITE(RTreeJoinTest, TreeTypes);

template <class Tree>
using BoxOf = typename Tree::Box;

// Per-distribution sizes: the large size keeps the pair count (and the O(N*M) oracle) modest
// on distributions where nearly everything overlaps.
size_t LargeSize(Distribution d) {
  switch (d) {
    case Distribution::kIdentical:
      return 300;
    case Distribution::kDuplicates:
      return 700;
    default:
      return 2500;
  }
}

TYPED_TEST(RTreeJoinTest, TwoTreeMatchesBruteForceEdgeSizes) {
  using Tree = TypeParam;
  using Box = BoxOf<Tree>;
  const uint64_t seed = TestSeed();
  SCOPED_TRACE(SeedTrace(seed));
  constexpr uint32_t kNs = 16;
  const size_t sizes[] = {0, 1, kNs - 1, kNs, kNs + 1, 100};
  for (Distribution dist : kAllDistributions) {
    SCOPED_TRACE(::locus::testing::Name(dist));
    for (size_t nl : sizes) {
      for (size_t nr : sizes) {
        const auto lb = MakeBoxes<Box>(nl, dist, seed + nl);
        const auto rb = MakeBoxes<Box>(nr, dist, seed + 1000 + nr);
        CheckJoin<Tree>(lb, rb, kNs, kNs, 0.0);
        if (::testing::Test::HasFatalFailure()) return;
      }
    }
  }
}

TYPED_TEST(RTreeJoinTest, TwoTreeMatchesBruteForceLarge) {
  using Tree = TypeParam;
  using Box = BoxOf<Tree>;
  const uint64_t seed = TestSeed();
  SCOPED_TRACE(SeedTrace(seed));
  for (Distribution dist : kAllDistributions) {
    SCOPED_TRACE(::locus::testing::Name(dist));
    const size_t n = LargeSize(dist);
    const auto lb = MakeBoxes<Box>(n, dist, seed);
    const auto rb = MakeBoxes<Box>(n * 3 / 5, dist, seed + 1);  // sides of different sizes
    CheckJoin<Tree>(lb, rb, 16, 16, 0.0);
    CheckJoin<Tree>(lb, rb, 4, 16, 0.0);  // heights differ: 6 levels vs 3
    CheckJoin<Tree>(rb, lb, 64, 3, 0.0);
    if (::testing::Test::HasFatalFailure()) return;
  }
}

TYPED_TEST(RTreeJoinTest, WithinDistanceMatchesBruteForce) {
  using Tree = TypeParam;
  using Box = BoxOf<Tree>;
  const uint64_t seed = TestSeed();
  SCOPED_TRACE(SeedTrace(seed));
  for (Distribution dist : kAllDistributions) {
    SCOPED_TRACE(::locus::testing::Name(dist));
    const size_t n = LargeSize(dist) / 2;
    const auto lb = MakeBoxes<Box>(n, dist, seed + 2);
    const auto rb = MakeBoxes<Box>(n + 17, dist, seed + 3);
    for (double d : {0.5, 7.25, 30.0}) {
      CheckJoin<Tree>(lb, rb, 16, 8, d);
      CheckSelfJoin<Tree>(lb, 16, d);
      if (::testing::Test::HasFatalFailure()) return;
    }
    for (size_t small : {size_t{1}, size_t{15}, size_t{17}}) {
      const auto sb = MakeBoxes<Box>(small, dist, seed + small);
      CheckJoin<Tree>(sb, rb, 16, 16, 20.0);
      CheckJoin<Tree>(rb, sb, 16, 16, 20.0);
      CheckSelfJoin<Tree>(sb, 16, 20.0);
      if (::testing::Test::HasFatalFailure()) return;
    }
  }
}

TYPED_TEST(RTreeJoinTest, SelfJoinMatchesBruteForce) {
  using Tree = TypeParam;
  using Box = BoxOf<Tree>;
  const uint64_t seed = TestSeed();
  SCOPED_TRACE(SeedTrace(seed));
  for (Distribution dist : kAllDistributions) {
    SCOPED_TRACE(::locus::testing::Name(dist));
    for (size_t n :
         {size_t{0}, size_t{1}, size_t{2}, size_t{15}, size_t{16}, size_t{17}, LargeSize(dist)}) {
      const auto boxes = MakeBoxes<Box>(n, dist, seed + n);
      CheckSelfJoin<Tree>(boxes, 16, 0.0);
      if (n > 100) CheckSelfJoin<Tree>(boxes, 5, 0.0);
      if (::testing::Test::HasFatalFailure()) return;
    }
  }
}

// A self-join equals the two-tree join of a tree with itself, minus the diagonal, halved.
TYPED_TEST(RTreeJoinTest, SelfJoinIsHalfTheJoinWithItself) {
  using Tree = TypeParam;
  using Box = BoxOf<Tree>;
  const uint64_t seed = TestSeed();
  SCOPED_TRACE(SeedTrace(seed));
  const auto boxes = MakeBoxes<Box>(3000, Distribution::kClustered, seed);
  const Tree t = Tree::Build(std::span<const Box>(boxes)).value();
  for (double d : {0.0, TreeTraits<Tree>::kDims == 3 ? 20.0 : 6.0}) {
    SCOPED_TRACE("distance " + std::to_string(d));
    std::vector<IdPair> self, both;
    ASSERT_TRUE(SelfJoinWithin(t, d, &self, Threads(0, true)).ok());
    ASSERT_TRUE(JoinWithin(t, t, d, &both, Threads(0, true)).ok());
    std::vector<IdPair> upper;
    for (const IdPair& p : both) {
      if (p.a < p.b) upper.push_back(p);
    }
    EXPECT_EQ(both.size(), 2 * self.size() + boxes.size());
    EXPECT_EQ(self, upper);
    EXPECT_GT(self.size(), d == 0 ? 10 : boxes.size());  // clustered data: plenty of pairs
  }
}

// Points on an integer grid: 4-neighbours at distance exactly 1, diagonals at sqrt(2).
TYPED_TEST(RTreeJoinTest, WithinIsInclusiveAtExactDistance) {
  using Tree = TypeParam;
  using Point = typename Tree::Point;
  constexpr int k = 40;
  std::vector<Point> points;
  for (int i = 0; i < k; ++i) {
    for (int j = 0; j < k; ++j) {
      Point p{};
      p.x = i;
      p.y = j;
      points.push_back(p);
    }
  }
  const Tree t = Tree::Build(std::span<const Point>(points)).value();
  const uint64_t axis = 2ull * k * (k - 1), diag = 2ull * (k - 1) * (k - 1);
  for (size_t threads : {size_t{1}, size_t{0}}) {
    EXPECT_EQ(CountSelfJoin(t, 1.0, Threads(threads)).value(), axis);
    EXPECT_EQ(CountSelfJoin(t, std::nextafter(1.0, 0.0), Threads(threads)).value(), 0u);
    EXPECT_EQ(CountSelfJoin(t, std::sqrt(2.0), Threads(threads)).value(), axis + diag);
    EXPECT_EQ(CountSelfJoin(t, 0.0, Threads(threads)).value(), 0u);
    EXPECT_EQ(CountJoin(t, t, 1.0, Threads(threads)).value(), 2 * axis + points.size());
  }
  // Touching boxes: [i, i+1] x [0, 1] share an edge with their neighbours.
  using Box = typename Tree::Box;
  std::vector<Box> strip;
  for (int i = 0; i < 100; ++i) {
    Box b{};
    b.min.x = i;
    b.max.x = i + 1;
    b.max.y = 1;
    strip.push_back(b);
  }
  const Tree s = Tree::Build(std::span<const Box>(strip)).value();
  EXPECT_EQ(CountSelfJoin(s, 0.0).value(), 99u);        // touching counts
  EXPECT_EQ(CountSelfJoin(s, 1.0).value(), 99u + 98u);  // gap 1 to the next but one
  EXPECT_EQ(CountSelfJoin(s, 0.999).value(), 99u);
}

TYPED_TEST(RTreeJoinTest, VisitDeliversEverythingAndStops) {
  using Tree = TypeParam;
  using Box = BoxOf<Tree>;
  const uint64_t seed = TestSeed();
  SCOPED_TRACE(SeedTrace(seed));
  const auto boxes = MakeBoxes<Box>(6000, Distribution::kClustered, seed);
  const Tree t = Tree::Build(std::span<const Box>(boxes)).value();
  // Within-distance, for enough pairs to need several batches.
  constexpr double kD = TreeTraits<Tree>::kDims == 3 ? 20.0 : 6.0;
  std::vector<IdPair> want;
  ASSERT_TRUE(SelfJoinWithin(t, kD, &want, Threads(1, true)).ok());
  ASSERT_GT(want.size(), 5000u);  // several batches

  for (size_t threads : {size_t{1}, size_t{0}, size_t{4}}) {
    SCOPED_TRACE("max_threads " + std::to_string(threads));
    std::mutex mu;
    std::vector<IdPair> got;
    auto all = [&](std::span<const IdPair> batch) {
      std::lock_guard<std::mutex> lock(mu);
      got.insert(got.end(), batch.begin(), batch.end());
      return true;
    };
    EXPECT_TRUE(VisitSelfJoin(t, kD, all, Threads(threads)).value());
    EXPECT_EQ(SortedPairs(got), want);

    std::atomic<int> calls{0};
    std::atomic<size_t> delivered{0};
    auto first_only = [&](std::span<const IdPair> batch) {
      calls.fetch_add(1);
      delivered.fetch_add(batch.size());
      return false;
    };
    EXPECT_FALSE(VisitSelfJoin(t, kD, first_only, Threads(threads)).value());
    EXPECT_GE(calls.load(), 1);
    EXPECT_LT(delivered.load(), want.size());  // stopped early
    if (threads == 1) {
      EXPECT_EQ(calls.load(), 1);
    }

    std::atomic<size_t> two_tree{0};
    auto count = [&](std::span<const IdPair> batch) {
      two_tree.fetch_add(batch.size());
      return true;
    };
    EXPECT_TRUE(VisitJoin(t, t, kD, count, Threads(threads)).value());
    EXPECT_EQ(two_tree.load(), 2 * want.size() + boxes.size());
  }
}

TYPED_TEST(RTreeJoinTest, EmptyTreesGiveNoPairs) {
  using Tree = TypeParam;
  using Box = BoxOf<Tree>;
  const Tree empty;
  const auto boxes = MakeBoxes<Box>(50, Distribution::kUniform, TestSeed());
  const Tree t = Tree::Build(std::span<const Box>(boxes)).value();
  std::vector<IdPair> out = {{1, 2}};
  ASSERT_TRUE(Join(empty, t, &out).ok());
  EXPECT_TRUE(out.empty());
  out = {{1, 2}};
  ASSERT_TRUE(Join(t, empty, &out).ok());
  EXPECT_TRUE(out.empty());
  out = {{1, 2}};
  ASSERT_TRUE(SelfJoinWithin(empty, 3.0, &out).ok());
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(CountJoin(empty, empty).value(), 0u);
  int calls = 0;
  auto sink = [&](std::span<const IdPair>) { return ++calls, true; };
  EXPECT_TRUE(VisitSelfJoin(empty, 0.0, sink).value());
  EXPECT_EQ(calls, 0);
}

TYPED_TEST(RTreeJoinTest, RejectsBadDistance) {
  using Tree = TypeParam;
  using Box = BoxOf<Tree>;
  const auto boxes = MakeBoxes<Box>(20, Distribution::kUniform, TestSeed());
  const Tree t = Tree::Build(std::span<const Box>(boxes)).value();
  std::vector<IdPair> out = {{1, 2}};
  const struct {
    double d;
    const char* text;
  } cases[] = {{std::nan(""), "distance = nan"},
               {-1.5, "distance = -1.5"},
               {std::numeric_limits<double>::infinity(), "distance = inf"}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    const Status s = JoinWithin(t, t, c.d, &out);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
    EXPECT_NE(s.message().find(c.text), std::string_view::npos) << s.message();
    EXPECT_EQ(SelfJoinWithin(t, c.d, &out).code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(CountJoin(t, t, c.d).status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(CountSelfJoin(t, c.d).status().code(), StatusCode::kInvalidArgument);
    auto sink = [](std::span<const IdPair>) { return true; };
    EXPECT_EQ(VisitJoin(t, t, c.d, sink).status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(VisitSelfJoin(t, c.d, sink).status().code(), StatusCode::kInvalidArgument);
  }
  EXPECT_EQ(out, (std::vector<IdPair>{{1, 2}}));  // untouched on error
}

// Several threads join the same trees at once, each join with `max_threads` (0: all), and all
// get the serial results. Also visits with a shared, mutex-guarded sink.
template <class Tree>
void CheckConcurrentJoins(std::initializer_list<size_t> max_threads) {
  using Box = BoxOf<Tree>;
  const uint64_t seed = TestSeed();
  SCOPED_TRACE(SeedTrace(seed));
  const auto lb = MakeBoxes<Box>(3000, Distribution::kClustered, seed);
  const auto rb = MakeBoxes<Box>(2000, Distribution::kUniform, seed + 1);
  const Tree l = Tree::Build(std::span<const Box>(lb)).value();
  const Tree r = Tree::Build(std::span<const Box>(rb)).value();
  std::vector<IdPair> want_join, want_self, want_within;
  ASSERT_TRUE(Join(l, r, &want_join, Threads(1)).ok());
  ASSERT_TRUE(SelfJoin(l, &want_self, Threads(1)).ok());
  ASSERT_TRUE(JoinWithin(l, r, 6.0, &want_within, Threads(1)).ok());
  ASSERT_FALSE(want_join.empty());

  const std::vector<size_t> settings(max_threads);
  std::vector<int> ok(settings.size(), 0);
  std::mutex mu;
  size_t visited = 0;
  std::vector<std::thread> workers;
  for (size_t w = 0; w < settings.size(); ++w) {
    workers.emplace_back([&, w] {
      const JoinOptions o = Threads(settings[w]);
      int good = 0;
      for (int rep = 0; rep < 2; ++rep) {
        std::vector<IdPair> a, b, c;
        good += Join(l, r, &a, o).ok() && a == want_join;
        good += SelfJoin(l, &b, o).ok() && b == want_self;
        good += JoinWithin(l, r, 6.0, &c, o).ok() && c == want_within;
        good += CountSelfJoin(l, 0.0, o).value_or(0) == want_self.size();
        auto sink = [&](std::span<const IdPair> batch) {
          std::lock_guard<std::mutex> lock(mu);
          visited += batch.size();
          return true;
        };
        good += VisitJoin(l, r, 0.0, sink, o).value_or(false);
      }
      ok[w] = good;
    });
  }
  for (std::thread& t : workers) t.join();
  for (size_t w = 0; w < settings.size(); ++w) EXPECT_EQ(ok[w], 10) << "worker " << w;
  EXPECT_EQ(visited, 2 * settings.size() * want_join.size());
}

// Concurrent serial joins: no oneTBB inside, so ThreadSanitizer checks them even with an
// uninstrumented libtbb (which makes TSan report TBB's own hand-offs as races).
TYPED_TEST(RTreeJoinTest, ConcurrentSerialJoinsOnSharedTrees) {
  CheckConcurrentJoins<TypeParam>({1, 1, 1, 1});
}

// Concurrent joins that are themselves parallel, mixed with serial ones.
TYPED_TEST(RTreeJoinTest, ConcurrentParallelJoinsOnSharedTrees) {
  CheckConcurrentJoins<TypeParam>({0, 2, 1, 8});
}

TEST(RTreeJoinRefineTest, RemovesPairsThatOnlyStoredBoxesMatch) {
  // Exactly 1e-9 apart; the f32 tree stores both ends rounded outward onto the same float.
  std::vector<Box2> left = {{{0, 0}, {1.0 + 1e-9, 1}}};
  std::vector<Box2> right = {{{1.0 + 2e-9, 0}, {2, 1}}, {{0.5, 0.5}, {0.6, 0.6}}};
  const auto lf = PackedRTree2F::Build(std::span<const Box2>(left)).value();
  const auto rf = PackedRTree2F::Build(std::span<const Box2>(right)).value();
  std::vector<IdPair> pairs;
  ASSERT_TRUE(Join(lf, rf, &pairs, Threads(1, true)).ok());
  EXPECT_EQ(pairs, (std::vector<IdPair>{{0, 0}, {0, 1}}));  // superset
  ASSERT_TRUE(RefineJoin(left, right, 0.0, &pairs).ok());
  EXPECT_EQ(pairs, (std::vector<IdPair>{{0, 1}}));

  // Within distance: the exact gap is 1e-9 (> 5e-10), the stored gap 0.
  ASSERT_TRUE(JoinWithin(lf, rf, 5e-10, &pairs, Threads(1, true)).ok());
  EXPECT_EQ(pairs.size(), 2u);
  ASSERT_TRUE(RefineJoin(left, right, 5e-10, &pairs).ok());
  EXPECT_EQ(pairs, (std::vector<IdPair>{{0, 1}}));

  std::vector<IdPair> bad = {{0, 5}};
  const Status s = RefineJoin(left, right, 0.0, &bad);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("pairs[0] = (0, 5)"), std::string_view::npos) << s.message();
  EXPECT_EQ(bad.size(), 1u);
  EXPECT_EQ(RefineJoin(left, right, -1.0, &bad).code(), StatusCode::kInvalidArgument);
}

TEST(RTreeJoinRefineTest, ExactOnF32EqualsF64Join) {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE(SeedTrace(seed));
  // Coordinates far from the origin so f32 rounding matters: most stored boxes grow.
  auto boxes = MakeBoxes<Box3>(2000, Distribution::kUniform, seed);
  for (Box3& b : boxes) {
    b.min.x += 1e5, b.max.x += 1e5;
  }
  const auto t64 = PackedRTree3D::Build(std::span<const Box3>(boxes)).value();
  const auto t32 = PackedRTree3F::Build(std::span<const Box3>(boxes)).value();
  for (double d : {0.0, 2.5}) {
    std::vector<IdPair> exact, refined;
    ASSERT_TRUE(SelfJoinWithin(t64, d, &exact, Threads(0, true)).ok());
    ASSERT_TRUE(SelfJoinWithin(t32, d, &refined, Threads(0, true)).ok());
    ASSERT_GE(refined.size(), exact.size());
    ASSERT_TRUE(RefineJoin(boxes, boxes, d, &refined).ok());
    EXPECT_EQ(refined, exact) << "distance " << d;
  }
}

// Every compiled SIMD target gives the brute-force answer.
class RTreeJoinTargetTest : public ::locus::testing::PerTargetTest {};

TEST_P(RTreeJoinTargetTest, MatchesBruteForce) {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE(SeedTrace(seed));
  const auto b2 = MakeBoxes<Box2>(1200, Distribution::kClustered, seed);
  const auto b3 = MakeBoxes<Box3>(900, Distribution::kUniform, seed + 1);
  CheckSelfJoin<PackedRTree2D>(b2, 16, 0.0);
  CheckSelfJoin<PackedRTree2F>(b2, 16, 3.0);
  const auto c3 = MakeBoxes<Box3>(700, Distribution::kClustered, seed + 2);
  CheckJoin<PackedRTree3D>(b3, c3, 8, 16, 12.0);
  CheckJoin<PackedRTree3F>(c3, b3, 16, 5, 0.0);
}

LOCUS_INSTANTIATE_PER_TARGET(RTreeJoinTargetTest);

}  // namespace
}  // namespace locus::engine
