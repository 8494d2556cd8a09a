// W3 (PERF.md): spatial joins over packed Hilbert R-trees (engine/rtree_join.h) against the
// index nested loop a Boost.Geometry user would write, on the same seeded data in the same
// binary. Trees (ours and Boost's) are built outside the timed loop; the timed loop produces
// every result pair into a reused vector. Peers are compiled in only with -DLOCUS_BUILD_PEERS=ON.
//
// Rows (names are parsed by perf/run: "W3/<Row>/<impl>/<n>"):
//   SelfJoin1M      self-join of 1M boxes in the unit square, sides uniform in [0, 2/sqrt(n)]
//                   (~2 overlaps per box); every unordered pair once
//   PointsInBoxes   1M uniform points x 10k square boxes of side sqrt(100/n) (~100 points each)
//   Within1M        within-distance self-join of 1M uniform points, d = sqrt(5 / (pi n))
//                   (~5 neighbours per point); every unordered pair once
//   PointsInPolygons 1M uniform points x 10k convex octagons (~100 points each), as an index
//                   nested loop on both sides (SearchPolygon per polygon, single thread; Boost:
//                   intersects(polygon) per polygon)
// impls: locus_f64 / locus_f32 (all threads), locus_f64_serial (max_threads = 1),
// boost_rstar16_packed (rtree<rstar<16>> packing constructor + one query per item; single
// threaded). The "pairs" counter is the result size (the same for every impl of a row).
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <numbers>
#include <random>
#include <vector>

#include "engine/packed_rtree.h"
#include "engine/rtree_join.h"
#include "kernels/dispatch.h"
#include "perf/bench_util.h"

#ifdef LOCUS_WITH_PEERS
#include <boost/geometry.hpp>
#include <boost/geometry/index/rtree.hpp>
#include <boost/iterator/function_output_iterator.hpp>
#endif

namespace locus::perf {
namespace {

using engine::IdPair;
using engine::JoinOptions;

constexpr int64_t kN = 1'000'000;
constexpr int kBoxes = 10'000;

struct W3Data {
  std::vector<Box2> boxes;     // SelfJoin1M
  std::vector<Point2> points;  // PointsInBoxes, Within1M
  std::vector<Box2> queries;   // PointsInBoxes: the 10k boxes
  double within = 0;           // Within1M distance
  std::vector<std::vector<Point2>> polygons;  // PointsInPolygons: 10k convex octagons

  explicit W3Data(size_t n) {
    std::mt19937_64 rng(20261122);
    std::uniform_real_distribution<double> u(0, 1);
    const double max_side = 2 / std::sqrt(static_cast<double>(n));
    std::uniform_real_distribution<double> side(0, max_side);
    boxes.resize(n);
    for (Box2& b : boxes) {
      b.min = {u(rng), u(rng)};
      b.max = {b.min.x + side(rng), b.min.y + side(rng)};
    }
    points.resize(n);
    for (Point2& p : points) p = {u(rng), u(rng)};
    const double q = std::sqrt(100.0 / static_cast<double>(n));
    std::uniform_real_distribution<double> corner(0, 1 - q);
    for (int i = 0; i < kBoxes; ++i) {
      const double x = corner(rng), y = corner(rng);
      queries.push_back({{x, y}, {x + q, y + q}});
    }
    within = std::sqrt(5.0 / (std::numbers::pi * static_cast<double>(n)));
    // Regular octagons (area 2 sqrt(2) R^2 holds ~100 points), randomly rotated.
    const double radius = std::sqrt(100.0 / (2 * std::numbers::sqrt2 * static_cast<double>(n)));
    std::uniform_real_distribution<double> centre(radius, 1 - radius), turn(0, std::numbers::pi);
    for (int i = 0; i < kBoxes; ++i) {
      const double cx = centre(rng), cy = centre(rng), phase = turn(rng);
      std::vector<Point2> poly;
      for (int k = 0; k < 8; ++k) {
        const double a = phase + k * std::numbers::pi / 4;
        poly.push_back({cx + radius * std::cos(a), cy + radius * std::sin(a)});
      }
      polygons.push_back(std::move(poly));
    }
  }
};

const W3Data& Data(benchmark::State& st) {
  return CachedBySize<W3Data>(static_cast<size_t>(st.range(0)));
}

template <typename Tree>
struct LocusTrees {
  Tree boxes, points, queries;
  explicit LocusTrees(const W3Data& d)
      : boxes(Tree::Build(std::span<const Box2>(d.boxes)).value()),
        points(Tree::Build(std::span<const Point2>(d.points)).value()),
        queries(Tree::Build(std::span<const Box2>(d.queries)).value()) {}
};

template <typename Tree>
const LocusTrees<Tree>& Trees(const W3Data& d) {
  static const LocusTrees<Tree>* trees = new LocusTrees<Tree>(d);  // one size per run
  return *trees;
}

void SetPairCounters(benchmark::State& st, size_t items, size_t pairs) {
  st.SetItemsProcessed(static_cast<int64_t>(st.iterations()) * static_cast<int64_t>(items));
  st.counters["pairs"] = static_cast<double>(pairs);
}

JoinOptions Options(size_t threads) {
  JoinOptions o;
  o.max_threads = threads;
  return o;
}

template <typename Tree, size_t kThreads>
void LocusSelfJoin(benchmark::State& st) {
  const W3Data& d = Data(st);
  const auto& t = Trees<Tree>(d);
  std::vector<IdPair> out;
  for (auto _ : st) {
    (void)engine::SelfJoin(t.boxes, &out, Options(kThreads));
    benchmark::DoNotOptimize(out.data());
  }
  SetPairCounters(st, d.boxes.size(), out.size());
  st.SetLabel(kernels::DispatchedTargetName());
}

template <typename Tree, size_t kThreads>
void LocusPointsInBoxes(benchmark::State& st) {
  const W3Data& d = Data(st);
  const auto& t = Trees<Tree>(d);
  std::vector<IdPair> out;
  for (auto _ : st) {
    (void)engine::Join(t.queries, t.points, &out, Options(kThreads));
    benchmark::DoNotOptimize(out.data());
  }
  SetPairCounters(st, d.points.size(), out.size());
  st.SetLabel(kernels::DispatchedTargetName());
}

template <typename Tree, size_t kThreads>
void LocusWithin(benchmark::State& st) {
  const W3Data& d = Data(st);
  const auto& t = Trees<Tree>(d);
  std::vector<IdPair> out;
  for (auto _ : st) {
    (void)engine::SelfJoinWithin(t.points, d.within, &out, Options(kThreads));
    benchmark::DoNotOptimize(out.data());
  }
  SetPairCounters(st, d.points.size(), out.size());
  st.SetLabel(kernels::DispatchedTargetName());
}

template <typename Tree, size_t kThreads>
void LocusPointsInPolygons(benchmark::State& st) {
  static_assert(kThreads == 1, "an index nested loop on the calling thread");
  const W3Data& d = Data(st);
  const auto& t = Trees<Tree>(d);
  std::vector<engine::ConvexPolygon> polygons;
  for (const auto& p : d.polygons) polygons.push_back(engine::ConvexPolygon::Make(p).value());
  std::vector<IdPair> out;
  std::vector<uint32_t> ids;
  for (auto _ : st) {
    out.clear();
    for (uint32_t i = 0; i < polygons.size(); ++i) {
      (void)t.points.SearchPolygon(polygons[i], &ids);
      for (uint32_t id : ids) out.push_back({i, id});
    }
    benchmark::DoNotOptimize(out.data());
  }
  SetPairCounters(st, d.points.size(), out.size());
  st.SetLabel(kernels::DispatchedTargetName());
}

#define LOCUS_W3(fn, row, impl, tree, threads) \
  BENCHMARK_TEMPLATE(fn, tree, threads)        \
      ->Name("W3/" row "/" impl)               \
      ->Arg(kN)                                \
      ->Unit(benchmark::kMillisecond)          \
      ->UseRealTime()

LOCUS_W3(LocusSelfJoin, "SelfJoin1M", "locus_f64", engine::PackedRTree2D, 0);
LOCUS_W3(LocusSelfJoin, "SelfJoin1M", "locus_f32", engine::PackedRTree2F, 0);
LOCUS_W3(LocusSelfJoin, "SelfJoin1M", "locus_f64_serial", engine::PackedRTree2D, 1);
LOCUS_W3(LocusPointsInBoxes, "PointsInBoxes", "locus_f64", engine::PackedRTree2D, 0);
LOCUS_W3(LocusPointsInBoxes, "PointsInBoxes", "locus_f32", engine::PackedRTree2F, 0);
LOCUS_W3(LocusPointsInBoxes, "PointsInBoxes", "locus_f64_serial", engine::PackedRTree2D, 1);
LOCUS_W3(LocusWithin, "Within1M", "locus_f64", engine::PackedRTree2D, 0);
LOCUS_W3(LocusWithin, "Within1M", "locus_f32", engine::PackedRTree2F, 0);
LOCUS_W3(LocusWithin, "Within1M", "locus_f64_serial", engine::PackedRTree2D, 1);
LOCUS_W3(LocusPointsInPolygons, "PointsInPolygons", "locus_f64_serial", engine::PackedRTree2D, 1);

#ifdef LOCUS_WITH_PEERS
namespace bg = boost::geometry;
namespace bgi = boost::geometry::index;
using BPoint = bg::model::point<double, 2, bg::cs::cartesian>;
using BBox = bg::model::box<BPoint>;
using BBoxValue = std::pair<BBox, uint32_t>;
using BPointValue = std::pair<BPoint, uint32_t>;
using BBoxTree = bgi::rtree<BBoxValue, bgi::rstar<16>>;
using BPointTree = bgi::rtree<BPointValue, bgi::rstar<16>>;

BBox ToBoost(const Box2& b) { return BBox(BPoint(b.min.x, b.min.y), BPoint(b.max.x, b.max.y)); }

struct BoostTrees {
  BBoxTree boxes;
  BPointTree points;
  explicit BoostTrees(const W3Data& d) {
    std::vector<BBoxValue> bv;
    bv.reserve(d.boxes.size());
    for (size_t i = 0; i < d.boxes.size(); ++i) {
      bv.emplace_back(ToBoost(d.boxes[i]), static_cast<uint32_t>(i));
    }
    boxes = BBoxTree(bv.begin(), bv.end());  // the packing (bulk-load) constructor
    std::vector<BPointValue> pv;
    pv.reserve(d.points.size());
    for (size_t i = 0; i < d.points.size(); ++i) {
      pv.emplace_back(BPoint(d.points[i].x, d.points[i].y), static_cast<uint32_t>(i));
    }
    points = BPointTree(pv.begin(), pv.end());
  }
};

const BoostTrees& Boost(const W3Data& d) {
  static const BoostTrees* trees = new BoostTrees(d);
  return *trees;
}

// Index nested loop: one intersects() query per box, keeping each unordered pair once.
void BoostSelfJoin(benchmark::State& st) {
  const W3Data& d = Data(st);
  const BoostTrees& t = Boost(d);
  std::vector<IdPair> out;
  for (auto _ : st) {
    out.clear();
    for (uint32_t i = 0; i < d.boxes.size(); ++i) {
      t.boxes.query(bgi::intersects(ToBoost(d.boxes[i])),
                    boost::make_function_output_iterator([&](const BBoxValue& v) {
                      if (i < v.second) out.push_back({i, v.second});
                    }));
    }
    benchmark::DoNotOptimize(out.data());
  }
  SetPairCounters(st, d.boxes.size(), out.size());
}

// Index nested loop over the smaller side: one query per box into the point tree.
void BoostPointsInBoxes(benchmark::State& st) {
  const W3Data& d = Data(st);
  const BoostTrees& t = Boost(d);
  std::vector<IdPair> out;
  for (auto _ : st) {
    out.clear();
    for (uint32_t i = 0; i < d.queries.size(); ++i) {
      t.points.query(bgi::intersects(ToBoost(d.queries[i])),
                     boost::make_function_output_iterator([&](const BPointValue& v) {
                       out.push_back({i, v.second});
                     }));
    }
    benchmark::DoNotOptimize(out.data());
  }
  SetPairCounters(st, d.points.size(), out.size());
}

// Index nested loop: the box of side 2d around each point, then the exact distance; each
// unordered pair once.
void BoostWithin(benchmark::State& st) {
  const W3Data& d = Data(st);
  const BoostTrees& t = Boost(d);
  const double r = d.within, r2 = r * r;
  std::vector<IdPair> out;
  for (auto _ : st) {
    out.clear();
    for (uint32_t i = 0; i < d.points.size(); ++i) {
      const Point2 p = d.points[i];
      const BBox q(BPoint(p.x - r, p.y - r), BPoint(p.x + r, p.y + r));
      t.points.query(bgi::intersects(q),
                     boost::make_function_output_iterator([&](const BPointValue& v) {
                       if (i >= v.second) return;
                       const double dx = bg::get<0>(v.first) - p.x, dy = bg::get<1>(v.first) - p.y;
                       if (dx * dx + dy * dy <= r2) out.push_back({i, v.second});
                     }));
    }
    benchmark::DoNotOptimize(out.data());
  }
  SetPairCounters(st, d.points.size(), out.size());
}

// Index nested loop: one intersects(polygon) query per polygon into the point tree.
void BoostPointsInPolygons(benchmark::State& st) {
  const W3Data& d = Data(st);
  const BoostTrees& t = Boost(d);
  using BPolygon = bg::model::polygon<BPoint>;
  std::vector<BPolygon> polygons;
  for (const auto& p : d.polygons) {
    BPolygon poly;
    for (const Point2& v : p) bg::append(poly.outer(), BPoint(v.x, v.y));
    bg::append(poly.outer(), BPoint(p[0].x, p[0].y));
    bg::correct(poly);  // orientation and closure as Boost expects
    polygons.push_back(std::move(poly));
  }
  std::vector<IdPair> out;
  for (auto _ : st) {
    out.clear();
    for (uint32_t i = 0; i < polygons.size(); ++i) {
      t.points.query(bgi::intersects(polygons[i]),
                     boost::make_function_output_iterator([&](const BPointValue& v) {
                       out.push_back({i, v.second});
                     }));
    }
    benchmark::DoNotOptimize(out.data());
  }
  SetPairCounters(st, d.points.size(), out.size());
}

BENCHMARK(BoostPointsInPolygons)
    ->Name("W3/PointsInPolygons/boost_rstar16_packed")
    ->Arg(kN)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BoostSelfJoin)
    ->Name("W3/SelfJoin1M/boost_rstar16_packed")
    ->Arg(kN)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BoostPointsInBoxes)
    ->Name("W3/PointsInBoxes/boost_rstar16_packed")
    ->Arg(kN)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BoostWithin)
    ->Name("W3/Within1M/boost_rstar16_packed")
    ->Arg(kN)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
#endif  // LOCUS_WITH_PEERS

}  // namespace
}  // namespace locus::perf
