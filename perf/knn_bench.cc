// Kernel family 3 (distances and top-k) over seeded uniform SoA points in the unit square or
// cube: squared distances (1M f32 2D), the brute-force top-k (k = 10 over 1M f32 2D points,
// and f64 3D), and the R-tree leaf step (the same 1M points fed 16 at a time into one TopK,
// each leaf a separate kernel call with its own id_base). Compare against W1/ReadLoop2F32
// (the same bytes read by a plain loop on the same target).
#include <benchmark/benchmark.h>

#include <memory>
#include <utility>
#include <vector>

#include "kernels/knn.h"
#include "perf/bench_util.h"

namespace locus::perf {
namespace {

constexpr int64_t k1M = 1'000'000;

template <typename T>
struct Points {
  kernels::Column<T> x, y, z;
  explicit Points(size_t n)
      : x(UniformColumn<T>(n, 11)), y(UniformColumn<T>(n, 12)), z(UniformColumn<T>(n, 13)) {}
};

// Data is built once per size and shared by every benchmark and target.
template <typename T>
const Points<T>& GetPoints(size_t n) {
  return CachedBySize<Points<T>>(n);
}

void Register() {
  RegisterPerTarget("Kernels/SquaredDistances2F32", {k1M}, [](benchmark::State& st) {
    const auto& p = GetPoints<float>(static_cast<size_t>(st.range(0)));
    const size_t n = p.x.size();
    kernels::Column<float> out(n);
    for (auto _ : st) {
      kernels::SquaredDistances2(p.x.data(), p.y.data(), n, 0.5f, 0.5f, out.data());
      benchmark::ClobberMemory();
    }
    SetThroughput(st, n, 3 * sizeof(float));  // two columns read, one written
  });
  RegisterPerTarget("Kernels/TopK2F32K10", {k1M}, [](benchmark::State& st) {
    const auto& p = GetPoints<float>(static_cast<size_t>(st.range(0)));
    const size_t n = p.x.size();
    kernels::TopK<float> top;
    for (auto _ : st) {
      top.Reset(10);
      kernels::TopK2(p.x.data(), p.y.data(), n, 0.5f, 0.5f, {}, 0, &top);
      Keep(top.threshold());
    }
    SetThroughput(st, n, 2 * sizeof(float));
  });
  RegisterPerTarget("Kernels/TopK3F64K10", {k1M}, [](benchmark::State& st) {
    const auto& p = GetPoints<double>(static_cast<size_t>(st.range(0)));
    const size_t n = p.x.size();
    kernels::TopK<double> top;
    for (auto _ : st) {
      top.Reset(10);
      kernels::TopK3(p.x.data(), p.y.data(), p.z.data(), n, 0.5, 0.5, 0.5, {}, 0, &top);
      Keep(top.threshold());
    }
    SetThroughput(st, n, 3 * sizeof(double));
  });
  // The R-tree leaf step: one kernel call (one dispatch) per 16-point leaf.
  RegisterPerTarget("Kernels/TopK2F32K10Leaf16", {k1M}, [](benchmark::State& st) {
    const auto& p = GetPoints<float>(static_cast<size_t>(st.range(0)));
    const size_t n = p.x.size();
    constexpr size_t kLeaf = 16;
    kernels::TopK<float> top;
    for (auto _ : st) {
      top.Reset(10);
      for (size_t i = 0; i < n; i += kLeaf) {
        const size_t len = n - i < kLeaf ? n - i : kLeaf;
        kernels::TopK2(p.x.data() + i, p.y.data() + i, len, 0.5f, 0.5f, {},
                       static_cast<uint32_t>(i), &top);
      }
      Keep(top.threshold());
    }
    SetThroughput(st, n, 2 * sizeof(float));
  });
}
LOCUS_REGISTER_BENCHMARKS(Register);

}  // namespace
}  // namespace locus::perf
