// Hilbert keys (kernel family 6) over 1M points, per target: 2D and 3D keys from quantised
// integers and from f32/f64 centres against an extent (items/s = keys/s), next to the scalar
// reference (the textbook loops) on the same data for a speed-up ratio.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <memory>
#include <random>
#include <utility>
#include <vector>

#include "kernels/hilbert.h"
#include "perf/bench_util.h"

namespace locus::perf {
namespace {

constexpr int64_t k1M = 1'000'000;

struct Data {
  kernels::Column<uint32_t> xq, yq, zq;
  kernels::Column<float> xf, yf, zf;
  kernels::Column<double> xd, yd, zd;
  explicit Data(size_t n)
      : xq(n),
        yq(n),
        zq(n),
        xf(UniformColumn<float>(n, 11, -180.0f, 180.0f)),
        yf(UniformColumn<float>(n, 12, -90.0f, 90.0f)),
        zf(UniformColumn<float>(n, 13, 0.0f, 1000.0f)),
        xd(UniformColumn<double>(n, 11, -180.0, 180.0)),
        yd(UniformColumn<double>(n, 12, -90.0, 90.0)),
        zd(UniformColumn<double>(n, 13, 0.0, 1000.0)) {
    std::mt19937_64 rng(10);
    for (size_t i = 0; i < n; ++i) {
      xq[i] = static_cast<uint32_t>(rng()) & 0xFFFF;
      yq[i] = static_cast<uint32_t>(rng()) & 0xFFFF;
      zq[i] = static_cast<uint32_t>(rng()) & 0xFFFF;
    }
  }
};

const Data& GetData(size_t n) {
  return CachedBySize<Data>(n);
}

const kernels::Box2T<float> kExtent2F{-180, -90, 180, 90};
const kernels::Box2T<double> kExtent2D{-180, -90, 180, 90};
const kernels::Box3T<float> kExtent3F{-180, -90, 0, 180, 90, 1000};
const kernels::Box3T<double> kExtent3D{-180, -90, 0, 180, 90, 1000};

void Register() {
  RegisterPerTarget("Hilbert/Keys2FromInts", {k1M}, [](benchmark::State& st) {
    const Data& d = GetData(static_cast<size_t>(st.range(0)));
    const size_t n = d.xq.size();
    std::vector<uint32_t> keys(n);
    for (auto _ : st) {
      kernels::HilbertKeys2FromInts(d.xq.data(), d.yq.data(), n, keys.data());
      benchmark::ClobberMemory();
    }
    SetThroughput(st, n, 2 * sizeof(uint32_t));
  });
  RegisterPerTarget("Hilbert/Keys2F32", {k1M}, [](benchmark::State& st) {
    const Data& d = GetData(static_cast<size_t>(st.range(0)));
    const size_t n = d.xf.size();
    std::vector<uint32_t> keys(n);
    for (auto _ : st) {
      kernels::HilbertKeys2(d.xf.data(), d.yf.data(), n, kExtent2F, keys.data());
      benchmark::ClobberMemory();
    }
    SetThroughput(st, n, 2 * sizeof(float));
  });
  RegisterPerTarget("Hilbert/Keys2F64", {k1M}, [](benchmark::State& st) {
    const Data& d = GetData(static_cast<size_t>(st.range(0)));
    const size_t n = d.xd.size();
    std::vector<uint32_t> keys(n);
    for (auto _ : st) {
      kernels::HilbertKeys2(d.xd.data(), d.yd.data(), n, kExtent2D, keys.data());
      benchmark::ClobberMemory();
    }
    SetThroughput(st, n, 2 * sizeof(double));
  });
  RegisterPerTarget("Hilbert/Keys3FromInts", {k1M}, [](benchmark::State& st) {
    const Data& d = GetData(static_cast<size_t>(st.range(0)));
    const size_t n = d.xq.size();
    std::vector<uint64_t> keys(n);
    for (auto _ : st) {
      kernels::HilbertKeys3FromInts(d.xq.data(), d.yq.data(), d.zq.data(), n, keys.data());
      benchmark::ClobberMemory();
    }
    SetThroughput(st, n, 3 * sizeof(uint32_t));
  });
  RegisterPerTarget("Hilbert/Keys3F32", {k1M}, [](benchmark::State& st) {
    const Data& d = GetData(static_cast<size_t>(st.range(0)));
    const size_t n = d.xf.size();
    std::vector<uint64_t> keys(n);
    for (auto _ : st) {
      kernels::HilbertKeys3(d.xf.data(), d.yf.data(), d.zf.data(), n, kExtent3F, keys.data());
      benchmark::ClobberMemory();
    }
    SetThroughput(st, n, 3 * sizeof(float));
  });
  RegisterPerTarget("Hilbert/Keys3F64", {k1M}, [](benchmark::State& st) {
    const Data& d = GetData(static_cast<size_t>(st.range(0)));
    const size_t n = d.xd.size();
    std::vector<uint64_t> keys(n);
    for (auto _ : st) {
      kernels::HilbertKeys3(d.xd.data(), d.yd.data(), d.zd.data(), n, kExtent3D, keys.data());
      benchmark::ClobberMemory();
    }
    SetThroughput(st, n, 3 * sizeof(double));
  });

  // The scalar references (textbook loops), once, for the ratio.
  benchmark::RegisterBenchmark("Hilbert/Keys2FromInts/reference",
                               [](benchmark::State& st) {
                                 const Data& d = GetData(static_cast<size_t>(st.range(0)));
                                 const size_t n = d.xq.size();
                                 std::vector<uint32_t> keys(n);
                                 for (auto _ : st) {
                                   kernels::reference::HilbertKeys2FromInts(
                                       d.xq.data(), d.yq.data(), n, keys.data());
                                   benchmark::ClobberMemory();
                                 }
                                 st.SetLabel("reference");
                                 SetThroughput(st, n, 2 * sizeof(uint32_t));
                               })
      ->Arg(k1M)
      ->UseRealTime();
  benchmark::RegisterBenchmark("Hilbert/Keys3FromInts/reference",
                               [](benchmark::State& st) {
                                 const Data& d = GetData(static_cast<size_t>(st.range(0)));
                                 const size_t n = d.xq.size();
                                 std::vector<uint64_t> keys(n);
                                 for (auto _ : st) {
                                   kernels::reference::HilbertKeys3FromInts(
                                       d.xq.data(), d.yq.data(), d.zq.data(), n, keys.data());
                                   benchmark::ClobberMemory();
                                 }
                                 st.SetLabel("reference");
                                 SetThroughput(st, n, 3 * sizeof(uint32_t));
                               })
      ->Arg(k1M)
      ->UseRealTime();
}
LOCUS_REGISTER_BENCHMARKS(Register);

}  // namespace
}  // namespace locus::perf
