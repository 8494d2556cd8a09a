// W2F (issue 3): the flatbush-style workload, the shape of flatbush's own bench.js, so our
// numbers sit beside flatbush (run by perf/run from perf/flatbush/bench.mjs on the same data)
// and the figures published for flatbush and packed_spatial_index. n boxes in [0, 100]^2
// with sides up to 1 (100k as the issue asks, and 1M as flatbush's bench), then 1000 box
// queries each covering 10%, 1% and 0.01% of the area. The data comes from mulberry32, which
// bench.mjs uses too: both sides index the same boxes bit for bit.
//
// Rows (parsed by perf/run: "W2F/<Row>/<impl>/<n>"): Build, Search10pct, Search1pct,
// Search001pct; impls locus_f64, locus_f32 and (with peers) boost_rstar16_packed.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "engine/packed_rtree.h"
#include "perf/bench_util.h"

#ifdef LOCUS_WITH_PEERS
#include <boost/geometry.hpp>
#include <boost/geometry/index/rtree.hpp>
#endif

namespace locus::perf {
namespace {

constexpr int kQueries = 1000;

// mulberry32, exactly as perf/flatbush/bench.mjs computes it.
class Mulberry32 {
 public:
  explicit Mulberry32(uint32_t seed) : a_(seed) {}
  double operator()() {
    a_ += 0x6D2B79F5u;
    uint32_t t = a_;
    t = (t ^ (t >> 15)) * (t | 1u);
    t ^= t + (t ^ (t >> 7)) * (t | 61u);
    return static_cast<double>(t ^ (t >> 14)) / 4294967296.0;
  }

 private:
  uint32_t a_;
};

struct FlatbushData {
  std::vector<Box2> boxes;
  std::vector<Box2> queries[3];  // 10%, 1%, 0.01% of the area
  explicit FlatbushData(size_t n) {
    Mulberry32 rand(20261122);
    auto box = [&](double size) {
      const double x = rand() * (100 - size);
      const double y = rand() * (100 - size);
      const double x2 = x + rand() * size;
      const double y2 = y + rand() * size;
      return Box2{{x, y}, {x2, y2}};
    };
    boxes.reserve(n);
    for (size_t i = 0; i < n; ++i) boxes.push_back(box(1));
    for (int i = 0; i < kQueries; ++i) {
      queries[0].push_back(box(100 * std::sqrt(0.1)));
      queries[1].push_back(box(10));
      queries[2].push_back(box(1));
    }
  }
};

template <typename Tree>
void LocusBuild(benchmark::State& st) {
  const FlatbushData& d = CachedBySize<FlatbushData>(static_cast<size_t>(st.range(0)));
  for (auto _ : st) {
    auto tree = Tree::Build(std::span<const Box2>(d.boxes));
    benchmark::DoNotOptimize(tree.ok());
  }
  st.SetItemsProcessed(static_cast<int64_t>(st.iterations()) * st.range(0));
}

template <typename Tree, int kSet>
void LocusSearch(benchmark::State& st) {
  const FlatbushData& d = CachedBySize<FlatbushData>(static_cast<size_t>(st.range(0)));
  const Tree tree = Tree::Build(std::span<const Box2>(d.boxes)).value();
  std::vector<uint32_t> out;
  size_t hits = 0;
  for (auto _ : st) {
    hits = 0;
    for (const Box2& q : d.queries[kSet]) {
      (void)tree.Search(q, &out);
      hits += out.size();
    }
    benchmark::DoNotOptimize(hits);
  }
  st.counters["hits"] = static_cast<double>(hits);
}

#define LOCUS_W2F(Tree, impl)                                                                \
  BENCHMARK_TEMPLATE(LocusBuild, Tree)->Name("W2F/Build/" impl)->Arg(100'000)->Arg(1'000'000) \
      ->Unit(benchmark::kMillisecond)->UseRealTime();                                        \
  BENCHMARK_TEMPLATE(LocusSearch, Tree, 0)->Name("W2F/Search10pct/" impl)->Arg(100'000)      \
      ->Arg(1'000'000)->Unit(benchmark::kMillisecond)->UseRealTime();                        \
  BENCHMARK_TEMPLATE(LocusSearch, Tree, 1)->Name("W2F/Search1pct/" impl)->Arg(100'000)       \
      ->Arg(1'000'000)->Unit(benchmark::kMillisecond)->UseRealTime();                        \
  BENCHMARK_TEMPLATE(LocusSearch, Tree, 2)->Name("W2F/Search001pct/" impl)->Arg(100'000)     \
      ->Arg(1'000'000)->Unit(benchmark::kMillisecond)->UseRealTime();
LOCUS_W2F(engine::PackedRTree2D, "locus_f64")
LOCUS_W2F(engine::PackedRTree2F, "locus_f32")

#ifdef LOCUS_WITH_PEERS
namespace bg = boost::geometry;
namespace bgi = boost::geometry::index;
using BPoint = bg::model::point<double, 2, bg::cs::cartesian>;
using BBox = bg::model::box<BPoint>;
using BValue = std::pair<BBox, uint32_t>;
using BTree = bgi::rtree<BValue, bgi::rstar<16>>;

BBox ToBoost(const Box2& b) { return {BPoint(b.min.x, b.min.y), BPoint(b.max.x, b.max.y)}; }

std::vector<BValue> BoostValues(const FlatbushData& d) {
  std::vector<BValue> values;
  values.reserve(d.boxes.size());
  for (size_t i = 0; i < d.boxes.size(); ++i) {
    values.emplace_back(ToBoost(d.boxes[i]), static_cast<uint32_t>(i));
  }
  return values;
}

void BoostBuild(benchmark::State& st) {
  const FlatbushData& d = CachedBySize<FlatbushData>(static_cast<size_t>(st.range(0)));
  const std::vector<BValue> values = BoostValues(d);
  for (auto _ : st) {
    BTree tree(values.begin(), values.end());  // packing constructor
    benchmark::DoNotOptimize(tree.size());
  }
  st.SetItemsProcessed(static_cast<int64_t>(st.iterations()) * st.range(0));
}

template <int kSet>
void BoostSearch(benchmark::State& st) {
  const FlatbushData& d = CachedBySize<FlatbushData>(static_cast<size_t>(st.range(0)));
  const std::vector<BValue> values = BoostValues(d);
  const BTree tree(values.begin(), values.end());
  std::vector<BValue> out;
  size_t hits = 0;
  for (auto _ : st) {
    hits = 0;
    for (const Box2& q : d.queries[kSet]) {
      out.clear();
      tree.query(bgi::intersects(ToBoost(q)), std::back_inserter(out));
      hits += out.size();
    }
    benchmark::DoNotOptimize(hits);
  }
  st.counters["hits"] = static_cast<double>(hits);
}

BENCHMARK(BoostBuild)->Name("W2F/Build/boost_rstar16_packed")->Arg(100'000)->Arg(1'000'000)
    ->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_TEMPLATE(BoostSearch, 0)->Name("W2F/Search10pct/boost_rstar16_packed")->Arg(100'000)
    ->Arg(1'000'000)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_TEMPLATE(BoostSearch, 1)->Name("W2F/Search1pct/boost_rstar16_packed")->Arg(100'000)
    ->Arg(1'000'000)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_TEMPLATE(BoostSearch, 2)->Name("W2F/Search001pct/boost_rstar16_packed")
    ->Arg(100'000)->Arg(1'000'000)->Unit(benchmark::kMillisecond)->UseRealTime();
#endif  // LOCUS_WITH_PEERS

}  // namespace
}  // namespace locus::perf
