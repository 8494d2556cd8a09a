// Tests PackedRTree build and range queries against brute force, for 2D/3D, f64/f32
// storage, several node sizes and the data distributions of tests/testing/data.h; the
// structural invariants of the packed layout; deterministic parallel builds; errors.
#include "engine/packed_rtree.h"

#include <gtest/gtest.h>
#include <tbb/task_arena.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <thread>
#include <vector>

#include "tests/testing/data.h"
#include "tests/testing/rtree_util.h"
#include "tests/testing/harness.h"

namespace locus::engine {
namespace {

using ::locus::testing::BruteForceIntersects;
using ::locus::testing::Distribution;
using ::locus::testing::kAllDistributions;
using ::locus::testing::MakeBoxes;
using ::locus::testing::MakeQuery;
using ::locus::testing::SeedTrace;
using ::locus::testing::Sorted;
using ::locus::testing::Stored;
using ::locus::testing::TestSeed;
using ::locus::testing::TreeTraits;

// Structural invariants: level sizes, ids a permutation, every node contains its children,
// padding slots are the empty box and no real slot is.
template <typename Tree>
void CheckStructure(const Tree& tree, size_t n) {
  constexpr int kDims = TreeTraits<Tree>::kDims;
  using T = typename TreeTraits<Tree>::Scalar;
  const auto l = tree.layout();
  ASSERT_EQ(l.num_items, n);
  if (n == 0) {
    EXPECT_EQ(l.num_levels, 0u);
    return;
  }
  const uint64_t ns = l.node_size;
  std::vector<bool> seen(n, false);
  for (uint64_t p = 0; p < l.level_begin[1]; ++p) {
    if (p < n) {
      ASSERT_LT(l.ids[p], n);
      ASSERT_FALSE(seen[l.ids[p]]) << "id " << l.ids[p] << " twice";
      seen[l.ids[p]] = true;
    } else {
      ASSERT_EQ(l.ids[p], kNoId);
    }
  }
  uint64_t real = n;
  for (uint32_t level = 0; level < l.num_levels; ++level) {
    const uint64_t begin = l.level_begin[level], end = l.level_begin[level + 1];
    ASSERT_EQ((end - begin) % ns, 0u) << "level " << level << " not whole nodes";
    ASSERT_GE(end - begin, real);
    for (uint64_t p = 0; p < end - begin; ++p) {
      for (int a = 0; a < kDims; ++a) {
        const T lo = l.min[a][begin + p], hi = l.max[a][begin + p];
        if (p < real) {
          ASSERT_LE(lo, hi) << "real slot " << p << " at level " << level << " is empty";
        } else {
          ASSERT_EQ(lo, std::numeric_limits<T>::infinity());
          ASSERT_EQ(hi, -std::numeric_limits<T>::infinity());
        }
      }
      if (level > 0 && p < real) {  // contains its children
        for (uint64_t c = p * ns; c < (p + 1) * ns; ++c) {
          const uint64_t cs = l.level_begin[level - 1] + c;
          for (int a = 0; a < kDims; ++a) {
            if (l.min[a][cs] > l.max[a][cs]) continue;  // padding child
            ASSERT_LE(l.min[a][begin + p], l.min[a][cs]);
            ASSERT_GE(l.max[a][begin + p], l.max[a][cs]);
          }
        }
      }
    }
    real = (real + ns - 1) / ns;
  }
  EXPECT_EQ(real, 1u);
}

template <typename Tree>
void CheckQueries(const Tree& tree, const std::vector<typename Tree::Box>& boxes,
                  std::mt19937_64& rng) {
  using Box = typename Tree::Box;
  using T = typename TreeTraits<Tree>::Scalar;
  std::vector<Box> stored(boxes.size());
  for (size_t i = 0; i < boxes.size(); ++i) stored[i] = Stored<T>(boxes[i]);
  std::vector<Box> queries;
  for (double extent : {0.0, 1.0, 30.0, 200.0, 1200.0}) {
    for (int k = 0; k < 12; ++k) queries.push_back(MakeQuery<Box>(rng, extent));
  }
  if (!boxes.empty()) {
    queries.push_back(boxes[0]);                   // exactly an item's box
    queries.push_back(BoxAround(boxes.back().max));  // a corner point: touching counts
  }
  // Tree order: each result's level-0 position must increase along the result.
  const auto layout = tree.layout();
  std::vector<uint64_t> position(boxes.size());
  for (uint64_t p = 0; p < boxes.size(); ++p) position[layout.ids[p]] = p;
  std::vector<uint32_t> got;
  for (const Box& q : queries) {
    const std::vector<uint32_t> exact = BruteForceIntersects(boxes, q);
    ASSERT_TRUE(tree.Search(q, &got).ok());
    for (size_t i = 1; i < got.size(); ++i) {
      ASSERT_LT(position[got[i - 1]], position[got[i]]) << "not in tree order at " << i;
    }
    if constexpr (std::is_same_v<T, double>) {
      ASSERT_EQ(Sorted(got), exact);
    } else {
      // f32: exactly the items whose stored (outward-rounded) box meets the rounded query.
      ASSERT_EQ(Sorted(got), BruteForceIntersects(stored, Stored<T>(q)));
      std::vector<uint32_t> refined;
      ASSERT_TRUE(tree.SearchExact(q, boxes, &refined).ok());
      ASSERT_EQ(Sorted(refined), exact);
    }
    ASSERT_EQ(tree.Count(q).value(), got.size());
    ASSERT_EQ(tree.Any(q).value(), !got.empty());
    // Early stop: a sink that stops after the first batch sees a prefix and reports it.
    size_t seen = 0;
    auto stop_early = [&](std::span<const uint32_t> ids) {
      seen += ids.size();
      return false;
    };
    const bool completed = tree.Visit(q, stop_early).value();
    EXPECT_EQ(completed, got.empty());
    EXPECT_LE(seen, got.size());
  }
}

template <typename Tree>
void RunOracle(uint32_t node_size) {
  using Box = typename Tree::Box;
  const uint64_t seed = TestSeed();
  SCOPED_TRACE(SeedTrace(seed));
  std::mt19937_64 rng(seed);
  const size_t sizes[] = {0, 1, node_size - 1u, node_size, node_size + 1u, 1000, 20000};
  for (Distribution dist : kAllDistributions) {
    for (size_t n : sizes) {
      SCOPED_TRACE(::testing::Message() << Name(dist) << " n=" << n << " node_size=" << node_size);
      const std::vector<Box> boxes = MakeBoxes<Box>(n, dist, rng());
      RTreeOptions options;
      options.node_size = node_size;
      options.parallel_threshold = 5000;  // the 20000 case builds in parallel
      auto tree = Tree::Build(boxes, options);
      ASSERT_TRUE(tree.ok()) << tree.status().ToString();
      CheckStructure(*tree, n);
      // The points layout (walks read only min[] at level 0) is on exactly when every
      // stored item box is a point.
      bool points = n > 0;
      for (const Box& b : boxes) {
        const Box s = Stored<typename TreeTraits<Tree>::Scalar>(b);
        points &= s.min == s.max;
      }
      EXPECT_EQ(tree->layout().points, points);
      if (n > 0) {  // bounds() is the union of every stored item box
        Box u = Stored<typename TreeTraits<Tree>::Scalar>(boxes[0]);
        for (const Box& b : boxes) {
          const Box s = Stored<typename TreeTraits<Tree>::Scalar>(b);
          u.min.x = std::min(u.min.x, s.min.x), u.max.x = std::max(u.max.x, s.max.x);
          u.min.y = std::min(u.min.y, s.min.y), u.max.y = std::max(u.max.y, s.max.y);
          if constexpr (std::is_same_v<Box, Box3>) {
            u.min.z = std::min(u.min.z, s.min.z), u.max.z = std::max(u.max.z, s.max.z);
          }
        }
        EXPECT_EQ(tree->bounds(), u);
      }
      if (dist == Distribution::kPoints && std::is_same_v<typename TreeTraits<Tree>::Scalar, double>) {
        EXPECT_EQ(tree->layout().points, n > 0);
      }
      CheckQueries(*tree, boxes, rng);
    }
  }
}

TEST(PackedRTreeTest, OracleF64_2D) { RunOracle<PackedRTree2D>(16); }
TEST(PackedRTreeTest, OracleF64_3D) { RunOracle<PackedRTree3D>(16); }
TEST(PackedRTreeTest, OracleF32_2D) { RunOracle<PackedRTree2F>(16); }
TEST(PackedRTreeTest, OracleF32_3D) { RunOracle<PackedRTree3F>(16); }
TEST(PackedRTreeTest, OracleNodeSize2) { RunOracle<PackedRTree2D>(2); }
TEST(PackedRTreeTest, OracleNodeSize5) { RunOracle<PackedRTree3F>(5); }
TEST(PackedRTreeTest, OracleNodeSize32) { RunOracle<PackedRTree3D>(32); }
TEST(PackedRTreeTest, OracleNodeSize64) { RunOracle<PackedRTree2F>(64); }

// Every compiled target walks the tree identically.
class PackedRTreeTargetTest : public ::locus::testing::PerTargetTest {};
LOCUS_INSTANTIATE_PER_TARGET(PackedRTreeTargetTest);
TEST_P(PackedRTreeTargetTest, OracleOnEveryTarget) {
  RunOracle<PackedRTree2F>(16);
  RunOracle<PackedRTree3D>(16);
  RunOracle<PackedRTree2D>(32);  // the other unrolled node size; 2D f64 point leaves
  RunOracle<PackedRTree3F>(7);   // the run-time node size path
}

TEST(PackedRTreeTest, PointsAreZeroSizeBoxes) {
  std::mt19937_64 rng(TestSeed());
  std::uniform_real_distribution<double> u(0, 100);
  std::vector<Point2> points(5000);
  for (Point2& p : points) p = {std::floor(u(rng)), std::floor(u(rng))};  // many duplicates
  auto tree = PackedRTree2D::Build(points);
  ASSERT_TRUE(tree.ok());
  std::vector<Box2> boxes;
  for (const Point2& p : points) boxes.push_back(BoxAround(p));
  std::vector<uint32_t> got;
  for (int k = 0; k < 50; ++k) {
    const Box2 q = MakeQuery<Box2>(rng, 20);
    ASSERT_TRUE(tree->Search(q, &got).ok());
    ASSERT_EQ(Sorted(got), BruteForceIntersects(boxes, q));
  }
}

// The tree is byte-identical whatever the thread count: serial, 1 thread, 2 threads, all.
TEST(PackedRTreeTest, ParallelBuildIsDeterministic) {
  const auto boxes = MakeBoxes<Box2>(100000, Distribution::kDuplicates, TestSeed());
  auto build = [&](size_t threshold, int threads) {
    RTreeOptions options;
    options.parallel_threshold = threshold;
    tbb::task_arena arena(threads);
    PackedRTree2F tree;
    arena.execute([&] { tree = std::move(PackedRTree2F::Build(boxes, options).value()); });
    return tree;
  };
  auto bytes = [](const PackedRTree2F& t) {
    const auto l = t.layout();
    std::vector<unsigned char> out;
    auto add = [&](const void* p, size_t n) {
      const auto* b = static_cast<const unsigned char*>(p);
      out.insert(out.end(), b, b + n);
    };
    const uint64_t total = l.level_begin[l.num_levels];
    for (int a = 0; a < 2; ++a) add(l.min[a], total * 4), add(l.max[a], total * 4);
    add(l.ids, l.level_begin[1] * 4);
    add(l.level_begin, (l.num_levels + 1) * 8);
    return out;
  };
  const auto serial = bytes(build(size_t{1} << 40, 1));
  EXPECT_EQ(bytes(build(0, 1)), serial);
  EXPECT_EQ(bytes(build(0, 2)), serial);
  EXPECT_EQ(bytes(build(0, tbb::task_arena::automatic)), serial);
}

TEST(PackedRTreeTest, RejectsInvalidItemsByIndex) {
  std::vector<Box2> boxes = MakeBoxes<Box2>(100, Distribution::kUniform, 1);
  boxes[17].min.y = 4, boxes[17].max.y = 2;
  boxes[60].min.x = std::numeric_limits<double>::quiet_NaN();
  auto tree = PackedRTree2D::Build(boxes);
  ASSERT_FALSE(tree.ok());
  EXPECT_EQ(tree.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(tree.status().message(), "item[17]: min.y (4) > max.y (2): box is crossed");
  boxes[17] = boxes[16];
  EXPECT_EQ(PackedRTree2D::Build(boxes).status().message(),
            "item[60].min.x = nan: coordinate is not a finite number");
  // The same in a parallel build: the lowest bad index is reported.
  RTreeOptions parallel;
  parallel.parallel_threshold = 0;
  std::vector<Box3> big = MakeBoxes<Box3>(50000, Distribution::kUniform, 2);
  big[40000].max.z = std::numeric_limits<double>::infinity();
  big[30000].max.z = -1;
  EXPECT_EQ(PackedRTree3F::Build(big, parallel).status().message().substr(0, 12), "item[30000]:");
}

TEST(PackedRTreeTest, RejectsBadOptionsAndQueries) {
  const auto boxes = MakeBoxes<Box2>(10, Distribution::kUniform, 3);
  RTreeOptions options;
  options.node_size = 1;
  EXPECT_EQ(PackedRTree2D::Build(boxes, options).status().message(),
            "options.node_size = 1: must be in [2, 64]");
  options.node_size = 65;
  EXPECT_FALSE(PackedRTree2D::Build(boxes, options).ok());
  auto tree = PackedRTree2D::Build(boxes);
  ASSERT_TRUE(tree.ok());
  std::vector<uint32_t> out;
  const Box2 nan_query{{std::numeric_limits<double>::quiet_NaN(), 0}, {1, 1}};
  EXPECT_EQ(tree->Search(nan_query, &out).message(),
            "query.min.x = nan: coordinate is not a finite number");
  EXPECT_FALSE(tree->Count(Box2{{5, 5}, {1, 1}}).ok());
  EXPECT_FALSE(tree->Any(Box2{{0, 0}, {1, std::numeric_limits<double>::infinity()}}).ok());
}

TEST(PackedRTreeTest, EmptyTreeAnswersNothing) {
  auto tree = PackedRTree3D::Build(std::span<const Box3>());
  ASSERT_TRUE(tree.ok());
  EXPECT_TRUE(tree->empty());
  std::vector<uint32_t> out = {1, 2};
  ASSERT_TRUE(tree->Search(Box3{{0, 0, 0}, {1, 1, 1}}, &out).ok());
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(tree->Count(Box3{{0, 0, 0}, {1, 1, 1}}).value(), 0u);
}

// Moving a tree keeps its arrays (the view's pointers stay valid); the source is empty.
TEST(PackedRTreeTest, MoveKeepsTheViewValid) {
  const auto boxes = MakeBoxes<Box2>(5000, Distribution::kUniform, TestSeed());
  PackedRTree2D a = PackedRTree2D::Build(boxes).value();
  const size_t want = a.Count(Box2{{0, 0}, {500, 500}}).value();
  PackedRTree2D b = std::move(a);
  EXPECT_TRUE(a.empty());                                          // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(a.Count(Box2{{0, 0}, {500, 500}}).value(), 0u);        // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(b.Count(Box2{{0, 0}, {500, 500}}).value(), want);
  const RTreeView<2, double> view = b.view();  // a copy of the view, not of the arrays
  EXPECT_EQ(view.Count(Box2{{0, 0}, {500, 500}}).value(), want);
  EXPECT_EQ(view.layout().min[0], b.layout().min[0]);
  a = std::move(b);
  EXPECT_EQ(a.Count(Box2{{0, 0}, {500, 500}}).value(), want);
  EXPECT_TRUE(b.empty());  // NOLINT(bugprone-use-after-move)
}

// Many threads query one tree at once (run under TSan to check for races).
TEST(PackedRTreeTest, ConcurrentQueriesAgree) {
  const auto boxes = MakeBoxes<Box2>(30000, Distribution::kClustered, TestSeed());
  const auto tree = PackedRTree2F::Build(boxes).value();
  std::mt19937_64 rng(TestSeed());
  std::vector<Box2> queries;
  for (int k = 0; k < 200; ++k) queries.push_back(MakeQuery<Box2>(rng, 50));
  std::vector<size_t> want;
  for (const Box2& q : queries) want.push_back(tree.Count(q).value());
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::vector<uint32_t> got;
      for (size_t k = 0; k < queries.size(); ++k) {
        if (!tree.Search(queries[k], &got).ok() || got.size() != want[k]) ++failures[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures, std::vector<int>(4, 0));
}

// Every query kind from many threads at once on one tree (kNN keeps per-thread scratch; run
// under TSan to check for races): each thread's answers equal the single-threaded ones.
TEST(PackedRTreeTest, ConcurrentQueriesOfEveryKindAgree) {
  const auto boxes = MakeBoxes<Box3>(20000, Distribution::kClustered, TestSeed());
  const auto tree = PackedRTree3D::Build(boxes).value();
  std::mt19937_64 rng(TestSeed());
  std::vector<Point3> points;
  std::vector<Ray3> rays;
  for (int k = 0; k < 100; ++k) {
    const Box3 q = MakeQuery<Box3>(rng, 0);
    points.push_back(q.min);
    rays.push_back(Ray3{q.min, Point3{1.0 + k, 2.0 - k, 0.5}, 2000});
  }
  auto answers = [&] {
    std::vector<std::vector<uint32_t>> out;
    std::vector<PackedRTree3D::Neighbor> nearest;
    std::vector<RayHit> hits;
    std::vector<uint32_t> ids;
    for (size_t k = 0; k < points.size(); ++k) {
      std::vector<uint32_t> row;
      EXPECT_TRUE(tree.Nearest(points[k], 1 + k % 40, &nearest).ok());
      for (const auto& n : nearest) row.push_back(n.id);
      EXPECT_TRUE(tree.SearchRadius(points[k], 5.0 + k % 7, &ids).ok());
      row.insert(row.end(), ids.begin(), ids.end());
      EXPECT_TRUE(tree.Raycast(rays[k], &hits).ok());
      for (const RayHit& h : hits) row.push_back(h.id);
      const auto first = tree.RaycastClosest(rays[k]).value();
      row.push_back(first ? first->id : kNoId);
      out.push_back(std::move(row));
    }
    return out;
  };
  const auto want = answers();
  std::vector<std::vector<std::vector<uint32_t>>> got(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) threads.emplace_back([&, t] { got[t] = answers(); });
  for (auto& th : threads) th.join();
  for (int t = 0; t < 4; ++t) EXPECT_EQ(got[t], want) << "thread " << t;
}

}  // namespace
}  // namespace locus::engine
