// W2 (PERF.md) kNN rows: 10k k-nearest queries (k = 10) over 1M uniform 2D points, the
// packed Hilbert R-tree against nanoflann (a KD-tree, the usual C++ pick for point kNN) and
// Boost.Geometry's rtree (bgi::nearest), same seeded data in the same binary. Peers are
// compiled in only with -DLOCUS_BUILD_PEERS=ON (LOCUS_WITH_PEERS).
//
// Rows (names are parsed by perf/run: "W2/<Row>/<impl>/<n>"):
//   Knn10k   10k queries at uniform points of the unit square, k = 10; every implementation
//            returns the 10 nearest (ids and squared or plain distances), queries serial on
//            one thread. Counter: sum_dist (the summed 10th-neighbour distance, so the rows
//            can be checked to agree).
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "engine/packed_rtree.h"
#include "kernels/dispatch.h"
#include "perf/bench_util.h"

#ifdef LOCUS_WITH_PEERS
#include <nanoflann.hpp>

#include <boost/geometry.hpp>
#include <boost/geometry/index/rtree.hpp>
#endif

namespace locus::perf {
namespace {

constexpr int64_t kPoints = 1'000'000;
constexpr int kQueries = 10'000;
constexpr size_t kK = 10;

struct KnnData {
  std::vector<Point2> points;
  std::vector<Point2> queries;
  explicit KnnData(size_t n) {
    std::mt19937_64 rng(20261122);  // the W2 points (rtree_bench.cc uses the same seed)
    std::uniform_real_distribution<double> u(0, 1);
    points.resize(n);
    for (Point2& p : points) p = {u(rng), u(rng)};
    std::mt19937_64 qrng(20261123);
    for (int q = 0; q < kQueries; ++q) queries.push_back({u(qrng), u(qrng)});
  }
};

void SetKnnCounters(benchmark::State& st, double sum_dist) {
  st.SetItemsProcessed(static_cast<int64_t>(st.iterations()) * kQueries);
  st.counters["sum_dist"] = sum_dist;
}

template <typename Tree>
void LocusKnn(benchmark::State& st) {
  const KnnData& d = CachedBySize<KnnData>(static_cast<size_t>(st.range(0)));
  const Tree tree = Tree::Build(std::span<const Point2>(d.points)).value();
  std::vector<typename Tree::Neighbor> out;
  double sum = 0;
  for (auto _ : st) {
    sum = 0;
    for (const Point2& q : d.queries) {
      (void)tree.Nearest(q, kK, &out);
      sum += out.back().distance;
    }
    benchmark::DoNotOptimize(sum);
  }
  SetKnnCounters(st, sum);
  st.SetLabel(kernels::DispatchedTargetName());
}

BENCHMARK_TEMPLATE(LocusKnn, engine::PackedRTree2D)
    ->Name("W2/Knn10k/locus_f64")->Arg(kPoints)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_TEMPLATE(LocusKnn, engine::PackedRTree2F)
    ->Name("W2/Knn10k/locus_f32")->Arg(kPoints)->Unit(benchmark::kMillisecond)->UseRealTime();

#ifdef LOCUS_WITH_PEERS
// nanoflann: a dataset adaptor over the same points.
struct Cloud {
  const std::vector<Point2>* pts;
  size_t kdtree_get_point_count() const { return pts->size(); }
  double kdtree_get_pt(size_t i, size_t dim) const {
    return dim == 0 ? (*pts)[i].x : (*pts)[i].y;
  }
  template <class BBox>
  bool kdtree_get_bbox(BBox&) const { return false; }
};
using KdTree = nanoflann::KDTreeSingleIndexAdaptor<nanoflann::L2_Simple_Adaptor<double, Cloud>,
                                                   Cloud, 2, uint32_t>;

void NanoflannKnn(benchmark::State& st) {
  const KnnData& d = CachedBySize<KnnData>(static_cast<size_t>(st.range(0)));
  const Cloud cloud{&d.points};
  const KdTree index(2, cloud, nanoflann::KDTreeSingleIndexAdaptorParams(10));  // leaf 10; builds
  uint32_t ids[kK];
  double dist_sq[kK];
  double sum = 0;
  for (auto _ : st) {
    sum = 0;
    for (const Point2& q : d.queries) {
      const double qp[2] = {q.x, q.y};
      const size_t found = index.knnSearch(qp, kK, ids, dist_sq);
      sum += std::sqrt(dist_sq[found - 1]);
    }
    benchmark::DoNotOptimize(sum);
  }
  SetKnnCounters(st, sum);
}

namespace bg = boost::geometry;
namespace bgi = boost::geometry::index;
using BPoint = bg::model::point<double, 2, bg::cs::cartesian>;
using BValue = std::pair<BPoint, uint32_t>;
using BTree = bgi::rtree<BValue, bgi::rstar<16>>;

void BoostKnn(benchmark::State& st) {
  const KnnData& d = CachedBySize<KnnData>(static_cast<size_t>(st.range(0)));
  std::vector<BValue> values;
  values.reserve(d.points.size());
  for (size_t i = 0; i < d.points.size(); ++i) {
    values.emplace_back(BPoint(d.points[i].x, d.points[i].y), static_cast<uint32_t>(i));
  }
  const BTree tree(values.begin(), values.end());  // the packing (STR bulk-load) constructor
  std::vector<BValue> out;
  double sum = 0;
  for (auto _ : st) {
    sum = 0;
    for (const Point2& q : d.queries) {
      out.clear();
      const BPoint qp(q.x, q.y);
      tree.query(bgi::nearest(qp, kK), std::back_inserter(out));
      double worst = 0;  // bgi::nearest returns the k nearest unordered
      for (const BValue& v : out) worst = std::max(worst, bg::distance(qp, v.first));
      sum += worst;
    }
    benchmark::DoNotOptimize(sum);
  }
  SetKnnCounters(st, sum);
}

BENCHMARK(NanoflannKnn)->Name("W2/Knn10k/nanoflann_kd10")->Arg(kPoints)
    ->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BoostKnn)->Name("W2/Knn10k/boost_rstar16_packed")->Arg(kPoints)
    ->Unit(benchmark::kMillisecond)->UseRealTime();
#endif  // LOCUS_WITH_PEERS

}  // namespace
}  // namespace locus::perf
