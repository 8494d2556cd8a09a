// W1 (PERF.md): radius and box count over SoA f32 2D points at 1M (cache) and 10M (DRAM),
// next to a plain read loop over the same bytes on the same target. Also the id-emitting
// filters, the 3D and f64 variants, and the fused time/expiry masks.
#include <benchmark/benchmark.h>

#include <memory>
#include <utility>
#include <vector>

#include "kernels/point_filter.h"
#include "perf/bench_util.h"

namespace locus::perf {
namespace {

constexpr int64_t k1M = 1'000'000;
constexpr int64_t k10M = 10'000'000;

template <typename T>
struct Points {
  kernels::Column<T> x, y, z;
  kernels::Column<int64_t> t, expires;
  explicit Points(size_t n)
      : x(UniformColumn<T>(n, 1)), y(UniformColumn<T>(n, 2)), z(UniformColumn<T>(n, 3)),
        t(n), expires(n) {
    std::mt19937_64 rng(4);
    for (size_t i = 0; i < n; ++i) {
      t[i] = static_cast<int64_t>(rng() % 1000);
      expires[i] = static_cast<int64_t>(rng() % 1000);
    }
  }
};

// Data is built once per size and shared by every benchmark and target.
template <typename T>
const Points<T>& GetPoints(size_t n) {
  return CachedBySize<Points<T>>(n);
}

// Radius 0.056 over the unit square: ~1% of points, selectivity does not change a count.
constexpr float kR2 = 0.056f * 0.056f;
const kernels::Box2T<float> kBoxF32{0.45f, 0.45f, 0.55f, 0.55f};

void Register() {
  RegisterPerTarget("W1/RadiusCount2F32", {k1M, k10M}, [](benchmark::State& st) {
    const auto& p = GetPoints<float>(static_cast<size_t>(st.range(0)));
    const size_t n = p.x.size();
    for (auto _ : st) {
      Keep(kernels::RadiusCount2(p.x.data(), p.y.data(), n, 0.5f, 0.5f, kR2, {}));
    }
    SetThroughput(st, n, 2 * sizeof(float));
  });
  RegisterPerTarget("W1/BoxCount2F32", {k1M, k10M}, [](benchmark::State& st) {
    const auto& p = GetPoints<float>(static_cast<size_t>(st.range(0)));
    const size_t n = p.x.size();
    for (auto _ : st) Keep(kernels::BoxCount2(p.x.data(), p.y.data(), n, kBoxF32, {}));
    SetThroughput(st, n, 2 * sizeof(float));
  });
  RegisterPerTarget("W1/ReadLoop2F32", {k1M, k10M}, [](benchmark::State& st) {
    const auto& p = GetPoints<float>(static_cast<size_t>(st.range(0)));
    const size_t n = p.x.size();
    const float* cols[] = {p.x.data(), p.y.data()};
    for (auto _ : st) Keep(kernels::ReadLoopF32(cols, 2, n));
    SetThroughput(st, n, 2 * sizeof(float));
  });

  // Beyond W1: id-emitting filters, f64, 3D and fused row filters (1M points).
  RegisterPerTarget("Kernels/RadiusFilter2F32", {k1M}, [](benchmark::State& st) {
    const auto& p = GetPoints<float>(static_cast<size_t>(st.range(0)));
    const size_t n = p.x.size();
    std::vector<uint32_t> ids(n);
    std::vector<float> d2(n);
    for (auto _ : st) {
      Keep(kernels::RadiusFilter2(p.x.data(), p.y.data(), n, 0.5f, 0.5f, kR2, {}, 0, ids.data(),
                                  d2.data()));
    }
    SetThroughput(st, n, 2 * sizeof(float));
  });
  RegisterPerTarget("Kernels/BoxFilter2F32", {k1M}, [](benchmark::State& st) {
    const auto& p = GetPoints<float>(static_cast<size_t>(st.range(0)));
    const size_t n = p.x.size();
    std::vector<uint32_t> ids(n);
    for (auto _ : st) {
      Keep(kernels::BoxFilter2(p.x.data(), p.y.data(), n, kBoxF32, {}, 0, ids.data()));
    }
    SetThroughput(st, n, 2 * sizeof(float));
  });
  RegisterPerTarget("Kernels/RadiusCount3F64", {k1M}, [](benchmark::State& st) {
    const auto& p = GetPoints<double>(static_cast<size_t>(st.range(0)));
    const size_t n = p.x.size();
    for (auto _ : st) {
      Keep(kernels::RadiusCount3(p.x.data(), p.y.data(), p.z.data(), n, 0.5, 0.5, 0.5, 0.01,
                                 {}));
    }
    SetThroughput(st, n, 3 * sizeof(double));
  });
  RegisterPerTarget("Kernels/RadiusCount2F32TimeExpiry", {k1M}, [](benchmark::State& st) {
    const auto& p = GetPoints<float>(static_cast<size_t>(st.range(0)));
    const size_t n = p.x.size();
    kernels::RowFilter rows;
    rows.t = p.t.data();
    rows.t_min = 100;
    rows.t_max = 900;
    rows.expires = p.expires.data();
    rows.now = 500;
    for (auto _ : st) {
      Keep(kernels::RadiusCount2(p.x.data(), p.y.data(), n, 0.5f, 0.5f, kR2, rows));
    }
    SetThroughput(st, n, 2 * sizeof(float) + 2 * sizeof(int64_t));
  });
}
LOCUS_REGISTER_BENCHMARKS(Register);

}  // namespace
}  // namespace locus::perf
