// W2 (PERF.md): the packed Hilbert R-tree against the libraries a C++ user would otherwise
// pick, on the same seeded data in the same binary. Peers are compiled in only with
// -DLOCUS_BUILD_PEERS=ON (LOCUS_WITH_PEERS); without them the locus rows still run.
//
// Rows (names are parsed by perf/run: "W2/<Row>/<impl>/<n>"):
//   Build2DPoints   build over 1M uniform points (Boost: rtree<rstar<16>> packing constructor)
//   Bbox10k         10k box queries with ~100 hits each over the 1M-point tree
//   Radius10k       10k radius queries with ~100 hits each (r = sqrt(100 / (pi n))); Boost:
//                   the query's bounding box, then the exact distance filter (PERF.md)
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "engine/packed_rtree.h"
#include "perf/bench_util.h"

#ifdef LOCUS_WITH_PEERS
#include <boost/geometry.hpp>
#include <boost/geometry/index/rtree.hpp>
#endif

namespace locus::perf {
namespace {

constexpr int64_t kPoints = 1'000'000;
constexpr int kQueries = 10'000;

struct W2Data {
  std::vector<Point2> points;
  std::vector<Box2> queries;  // ~100 hits each: side sqrt(100 / n) of the unit square
  std::vector<Point2> centres;  // radius queries: ~100 hits each at radius `radius`
  double radius = 0;
};

const W2Data& Data(size_t n) {
  static W2Data* data = nullptr;
  if (data == nullptr || data->points.size() != n) {
    delete data;
    data = new W2Data;
    std::mt19937_64 rng(20261122);
    std::uniform_real_distribution<double> u(0, 1);
    data->points.resize(n);
    for (Point2& p : data->points) p = {u(rng), u(rng)};
    const double side = std::sqrt(100.0 / static_cast<double>(n));
    std::uniform_real_distribution<double> corner(0, 1 - side);
    for (int q = 0; q < kQueries; ++q) {
      const double x = corner(rng), y = corner(rng);
      data->queries.push_back({{x, y}, {x + side, y + side}});
    }
    data->radius = std::sqrt(100.0 / (3.141592653589793 * static_cast<double>(n)));
    std::uniform_real_distribution<double> centre(data->radius, 1 - data->radius);
    for (int q = 0; q < kQueries; ++q) data->centres.push_back({centre(rng), centre(rng)});
  }
  return *data;
}

void SetQueryCounters(benchmark::State& st, size_t hits) {
  st.SetItemsProcessed(static_cast<int64_t>(st.iterations()) * kQueries);
  st.counters["hits_per_query"] = static_cast<double>(hits) / kQueries;
}

template <typename Tree>
void LocusBuild(benchmark::State& st) {
  const W2Data& d = Data(static_cast<size_t>(st.range(0)));
  for (auto _ : st) {
    auto tree = Tree::Build(std::span<const Point2>(d.points));
    benchmark::DoNotOptimize(tree.ok());
  }
  st.SetItemsProcessed(static_cast<int64_t>(st.iterations()) * st.range(0));
  st.SetLabel(kernels::DispatchedTargetName());
}

template <typename Tree>
void LocusBbox(benchmark::State& st) {
  const W2Data& d = Data(static_cast<size_t>(st.range(0)));
  const Tree tree = Tree::Build(std::span<const Point2>(d.points)).value();
  std::vector<uint32_t> out;
  size_t hits = 0;
  for (auto _ : st) {
    hits = 0;
    for (const Box2& q : d.queries) {
      (void)tree.Search(q, &out);
      hits += out.size();
    }
    benchmark::DoNotOptimize(hits);
  }
  SetQueryCounters(st, hits);
  st.SetLabel(kernels::DispatchedTargetName());
}

template <typename Tree>
void LocusRadius(benchmark::State& st) {
  const W2Data& d = Data(static_cast<size_t>(st.range(0)));
  const Tree tree = Tree::Build(std::span<const Point2>(d.points)).value();
  std::vector<uint32_t> out;
  size_t hits = 0;
  for (auto _ : st) {
    hits = 0;
    for (const Point2& c : d.centres) {
      (void)tree.SearchRadius(c, d.radius, &out);
      hits += out.size();
    }
    benchmark::DoNotOptimize(hits);
  }
  SetQueryCounters(st, hits);
  st.SetLabel(kernels::DispatchedTargetName());
}

BENCHMARK_TEMPLATE(LocusBuild, engine::PackedRTree2D)
    ->Name("W2/Build2DPoints/locus_f64")->Arg(kPoints)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_TEMPLATE(LocusBuild, engine::PackedRTree2F)
    ->Name("W2/Build2DPoints/locus_f32")->Arg(kPoints)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_TEMPLATE(LocusBbox, engine::PackedRTree2D)
    ->Name("W2/Bbox10k/locus_f64")->Arg(kPoints)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_TEMPLATE(LocusBbox, engine::PackedRTree2F)
    ->Name("W2/Bbox10k/locus_f32")->Arg(kPoints)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_TEMPLATE(LocusRadius, engine::PackedRTree2D)
    ->Name("W2/Radius10k/locus_f64")->Arg(kPoints)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_TEMPLATE(LocusRadius, engine::PackedRTree2F)
    ->Name("W2/Radius10k/locus_f32")->Arg(kPoints)->Unit(benchmark::kMillisecond)->UseRealTime();

#ifdef LOCUS_WITH_PEERS
namespace bg = boost::geometry;
namespace bgi = boost::geometry::index;
using BPoint = bg::model::point<double, 2, bg::cs::cartesian>;
using BBox = bg::model::box<BPoint>;
using BValue = std::pair<BPoint, uint32_t>;
using BTree = bgi::rtree<BValue, bgi::rstar<16>>;

std::vector<BValue> BoostValues(const W2Data& d) {
  std::vector<BValue> values;
  values.reserve(d.points.size());
  for (size_t i = 0; i < d.points.size(); ++i) {
    values.emplace_back(BPoint(d.points[i].x, d.points[i].y), static_cast<uint32_t>(i));
  }
  return values;
}

void BoostBuild(benchmark::State& st) {
  const W2Data& d = Data(static_cast<size_t>(st.range(0)));
  const std::vector<BValue> values = BoostValues(d);
  for (auto _ : st) {
    BTree tree(values.begin(), values.end());  // the packing (STR bulk-load) constructor
    benchmark::DoNotOptimize(tree.size());
  }
  st.SetItemsProcessed(static_cast<int64_t>(st.iterations()) * st.range(0));
}

void BoostBbox(benchmark::State& st) {
  const W2Data& d = Data(static_cast<size_t>(st.range(0)));
  const std::vector<BValue> values = BoostValues(d);
  const BTree tree(values.begin(), values.end());
  std::vector<BValue> out;
  size_t hits = 0;
  for (auto _ : st) {
    hits = 0;
    for (const Box2& q : d.queries) {
      out.clear();
      tree.query(bgi::intersects(BBox(BPoint(q.min.x, q.min.y), BPoint(q.max.x, q.max.y))),
                 std::back_inserter(out));
      hits += out.size();
    }
    benchmark::DoNotOptimize(hits);
  }
  SetQueryCounters(st, hits);
}

void BoostRadius(benchmark::State& st) {
  const W2Data& d = Data(static_cast<size_t>(st.range(0)));
  const std::vector<BValue> values = BoostValues(d);
  const BTree tree(values.begin(), values.end());
  std::vector<BValue> out;
  size_t hits = 0;
  const double r = d.radius;
  for (auto _ : st) {
    hits = 0;
    for (const Point2& c : d.centres) {
      out.clear();
      const BPoint centre(c.x, c.y);
      tree.query(bgi::intersects(BBox(BPoint(c.x - r, c.y - r), BPoint(c.x + r, c.y + r))) &&
                     bgi::satisfies([&](const BValue& v) {
                       return bg::comparable_distance(v.first, centre) <= r * r;
                     }),
                 std::back_inserter(out));
      hits += out.size();
    }
    benchmark::DoNotOptimize(hits);
  }
  SetQueryCounters(st, hits);
}

BENCHMARK(BoostBuild)->Name("W2/Build2DPoints/boost_rstar16_packed")->Arg(kPoints)
    ->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BoostBbox)->Name("W2/Bbox10k/boost_rstar16_packed")->Arg(kPoints)
    ->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BoostRadius)->Name("W2/Radius10k/boost_rstar16_packed")->Arg(kPoints)
    ->Unit(benchmark::kMillisecond)->UseRealTime();
#endif  // LOCUS_WITH_PEERS

}  // namespace
}  // namespace locus::perf
