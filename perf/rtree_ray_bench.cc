// W2 raycast rows (PERF.md): first-hit rays over the packed Hilbert R-tree against Boost's
// rtree on the same seeded data in the same binary (peers only with LOCUS_WITH_PEERS).
//
// Rows ("W2/<Row>/<impl>/<n>"):
//   FirstHit3D10k   10k first-hit rays over n = 1M small 3D boxes (sides <= 0.005 in the unit
//                   cube; mean free path ~0.1). Each ray: origin uniform in the cube, random
//                   unit direction, t_max = 1 (a segment). locus: RaycastClosest (best-first,
//                   shrinking t_max). Boost has no first-hit query; its idiomatic form is
//                   query(bgi::intersects(segment)) for every hit on the segment, then the
//                   smallest entry t among them (computed with the same slab test), which is
//                   what this row times. counters: hit_rate = rays with a hit.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <optional>
#include <random>
#include <vector>

#include "engine/packed_rtree.h"
#include "kernels/dispatch.h"
#include "kernels/ray.h"
#include "perf/bench_util.h"

#ifdef LOCUS_WITH_PEERS
#include <boost/geometry.hpp>
#include <boost/geometry/index/rtree.hpp>
#endif

namespace locus::perf {
namespace {

constexpr int64_t kBoxes = 1'000'000;
constexpr int kRays = 10'000;

struct RayData {
  std::vector<Box3> boxes;
  std::vector<Ray3> rays;
};

const RayData& Data(size_t n) {
  static RayData* data = nullptr;
  if (data == nullptr || data->boxes.size() != n) {
    delete data;
    data = new RayData;
    std::mt19937_64 rng(20261123);
    std::uniform_real_distribution<double> u(0, 1), side(0.0005, 0.005);
    std::normal_distribution<double> g(0, 1);
    data->boxes.resize(n);
    for (Box3& b : data->boxes) {
      b.min = {u(rng), u(rng), u(rng)};
      b.max = {b.min.x + side(rng), b.min.y + side(rng), b.min.z + side(rng)};
    }
    for (int i = 0; i < kRays; ++i) {
      Point3 d{g(rng), g(rng), g(rng)};
      const double len = std::sqrt(d.x * d.x + d.y * d.y + d.z * d.z);
      d = {d.x / len, d.y / len, d.z / len};
      data->rays.push_back({{u(rng), u(rng), u(rng)}, d, 1.0});
    }
  }
  return *data;
}

template <typename Tree>
void LocusFirstHit(benchmark::State& st) {
  const RayData& d = Data(static_cast<size_t>(st.range(0)));
  const Tree tree = Tree::Build(std::span<const Box3>(d.boxes)).value();
  size_t hits = 0;
  double sum_t = 0;
  for (auto _ : st) {
    hits = 0;
    sum_t = 0;
    for (const Ray3& r : d.rays) {
      const std::optional<engine::RayHit> h = tree.RaycastClosest(r).value();
      if (h) ++hits, sum_t += h->t;
    }
    benchmark::DoNotOptimize(sum_t);
  }
  st.SetItemsProcessed(static_cast<int64_t>(st.iterations()) * kRays);
  st.counters["hit_rate"] = static_cast<double>(hits) / kRays;
  st.counters["mean_t"] = hits ? sum_t / static_cast<double>(hits) : 0;
  st.SetLabel(kernels::DispatchedTargetName());
}

BENCHMARK_TEMPLATE(LocusFirstHit, engine::PackedRTree3D)
    ->Name("W2/FirstHit3D10k/locus_f64")->Arg(kBoxes)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_TEMPLATE(LocusFirstHit, engine::PackedRTree3F)
    ->Name("W2/FirstHit3D10k/locus_f32")->Arg(kBoxes)->Unit(benchmark::kMillisecond)->UseRealTime();

#ifdef LOCUS_WITH_PEERS
namespace bg = boost::geometry;
namespace bgi = boost::geometry::index;
using BPoint = bg::model::point<double, 3, bg::cs::cartesian>;
using BBox = bg::model::box<BPoint>;
using BSegment = bg::model::segment<BPoint>;
using BValue = std::pair<BBox, uint32_t>;
using BTree = bgi::rtree<BValue, bgi::rstar<16>>;

void BoostFirstHit(benchmark::State& st) {
  const RayData& d = Data(static_cast<size_t>(st.range(0)));
  std::vector<BValue> values;
  values.reserve(d.boxes.size());
  for (size_t i = 0; i < d.boxes.size(); ++i) {
    const Box3& b = d.boxes[i];
    values.emplace_back(BBox(BPoint(b.min.x, b.min.y, b.min.z), BPoint(b.max.x, b.max.y, b.max.z)),
                        static_cast<uint32_t>(i));
  }
  const BTree tree(values.begin(), values.end());  // packing (STR bulk-load) constructor
  std::vector<BValue> out;
  size_t hits = 0;
  double sum_t = 0;
  for (auto _ : st) {
    hits = 0;
    sum_t = 0;
    for (const Ray3& r : d.rays) {
      out.clear();
      const BPoint a(r.origin.x, r.origin.y, r.origin.z);
      const BPoint b(r.origin.x + r.direction.x * r.t_max, r.origin.y + r.direction.y * r.t_max,
                     r.origin.z + r.direction.z * r.t_max);
      tree.query(bgi::intersects(BSegment(a, b)), std::back_inserter(out));
      const kernels::Ray3T<double> k{r.origin.x, r.origin.y, r.origin.z, r.direction.x,
                                     r.direction.y, r.direction.z, 0, r.t_max};
      double best = INFINITY;
      for (const BValue& v : out) {
        double t;
        if (kernels::reference::RayHitsBox3<double>(
                v.first.min_corner().get<0>(), v.first.min_corner().get<1>(),
                v.first.min_corner().get<2>(), v.first.max_corner().get<0>(),
                v.first.max_corner().get<1>(), v.first.max_corner().get<2>(), k, &t) &&
            t < best) {
          best = t;
        }
      }
      if (best < INFINITY) ++hits, sum_t += best;
    }
    benchmark::DoNotOptimize(sum_t);
  }
  st.SetItemsProcessed(static_cast<int64_t>(st.iterations()) * kRays);
  st.counters["hit_rate"] = static_cast<double>(hits) / kRays;
  st.counters["mean_t"] = hits ? sum_t / static_cast<double>(hits) : 0;
}

BENCHMARK(BoostFirstHit)->Name("W2/FirstHit3D10k/boost_rstar16_packed")->Arg(kBoxes)
    ->Unit(benchmark::kMillisecond)->UseRealTime();
#endif  // LOCUS_WITH_PEERS

}  // namespace
}  // namespace locus::perf
