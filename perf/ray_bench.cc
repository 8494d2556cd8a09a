// Ray vs SoA boxes (kernel family 5): all hits, hit mask with entry t, and closest hit of one
// ray against 1M small boxes (side <= 0.002, uniform in the unit square / cube), plus the
// R-tree's node step (hit mask over 16 boxes per call). The ray crosses the domain diagonally
// and hits a few dozen boxes; a second closest-hit ray has a zero component (the parallel-axis
// specialisation).
#include <benchmark/benchmark.h>

#include <memory>
#include <utility>
#include <vector>

#include "kernels/ray.h"
#include "perf/bench_util.h"

namespace locus::perf {
namespace {

constexpr int64_t k1M = 1'000'000;
constexpr size_t kNode = 16;

template <typename T>
const BoxColumns<T>& GetBoxes(size_t n) {
  struct Boxes : BoxColumns<T> {
    explicit Boxes(size_t n) : BoxColumns<T>(n, 30) {}
  };
  return CachedBySize<Boxes>(n);
}

template <typename T>
kernels::Ray3T<T> Diagonal3() {
  return {T(-0.1), T(0.05), T(0.02), T(1), T(0.9), T(0.95), T(0), T(10)};
}
template <typename T>
kernels::Ray3T<T> AxisParallel3() {
  return {T(-0.1), T(0.5), T(0.5), T(1), T(0), T(0), T(0), T(10)};
}
template <typename T>
kernels::Ray2T<T> Diagonal2() {
  return {T(-0.1), T(0.05), T(1), T(0.9), T(0), T(10)};
}

template <typename T>
void RegisterType(const char* s) {
  const std::string suffix = s;
  RegisterPerTarget("Kernels/RayHits3" + suffix, {k1M}, [](benchmark::State& st) {
    const auto& b = GetBoxes<T>(static_cast<size_t>(st.range(0)));
    const size_t n = b.lo[0].size();
    std::vector<uint32_t> ids(n);
    std::vector<T> t(n);
    size_t hits = 0;
    for (auto _ : st) {
      hits = kernels::RayHits3(b.lo[0].data(), b.lo[1].data(), b.lo[2].data(), b.hi[0].data(),
                               b.hi[1].data(), b.hi[2].data(), n, Diagonal3<T>(), 0, ids.data(),
                               t.data());
      Keep(hits);
    }
    st.counters["hits"] = static_cast<double>(hits);
    SetThroughput(st, n, 6 * sizeof(T));
  });
  RegisterPerTarget("Kernels/RayClosest3" + suffix, {k1M}, [](benchmark::State& st) {
    const auto& b = GetBoxes<T>(static_cast<size_t>(st.range(0)));
    const size_t n = b.lo[0].size();
    for (auto _ : st) {
      uint32_t id;
      T t;
      Keep(kernels::RayClosest3(b.lo[0].data(), b.lo[1].data(), b.lo[2].data(), b.hi[0].data(),
                                b.hi[1].data(), b.hi[2].data(), n, Diagonal3<T>(), 0, &id, &t));
      Keep(id);
    }
    SetThroughput(st, n, 6 * sizeof(T));
  });
  RegisterPerTarget("Kernels/RayHitMask3" + suffix, {k1M}, [](benchmark::State& st) {
    const auto& b = GetBoxes<T>(static_cast<size_t>(st.range(0)));
    const size_t n = b.lo[0].size();
    std::vector<uint64_t> bits((n + 63) / 64);
    std::vector<T> t(n);
    for (auto _ : st) {
      kernels::RayHitMask3(b.lo[0].data(), b.lo[1].data(), b.lo[2].data(), b.hi[0].data(),
                           b.hi[1].data(), b.hi[2].data(), n, Diagonal3<T>(), bits.data(),
                           t.data());
      Keep(bits[n / 128]);
    }
    SetThroughput(st, n, 6 * sizeof(T));
  });
  RegisterPerTarget("Kernels/RayHits2" + suffix, {k1M}, [](benchmark::State& st) {
    const auto& b = GetBoxes<T>(static_cast<size_t>(st.range(0)));
    const size_t n = b.lo[0].size();
    std::vector<uint32_t> ids(n);
    std::vector<T> t(n);
    size_t hits = 0;
    for (auto _ : st) {
      hits = kernels::RayHits2(b.lo[0].data(), b.lo[1].data(), b.hi[0].data(), b.hi[1].data(), n,
                               Diagonal2<T>(), 0, ids.data(), t.data());
      Keep(hits);
    }
    st.counters["hits"] = static_cast<double>(hits);
    SetThroughput(st, n, 4 * sizeof(T));
  });
}

void Register() {
  RegisterType<float>("F32");
  RegisterType<double>("F64");
  RegisterPerTarget("Kernels/RayClosest3ParallelF32", {k1M}, [](benchmark::State& st) {
    const auto& b = GetBoxes<float>(static_cast<size_t>(st.range(0)));
    const size_t n = b.lo[0].size();
    for (auto _ : st) {
      uint32_t id = 0;
      float t;
      Keep(kernels::RayClosest3(b.lo[0].data(), b.lo[1].data(), b.lo[2].data(), b.hi[0].data(),
                                b.hi[1].data(), b.hi[2].data(), n, AxisParallel3<float>(), 0,
                                &id, &t));
      Keep(id);
    }
    SetThroughput(st, n, 6 * sizeof(float));
  });
  // The R-tree node step: hit mask and entry t of 16 children per call.
  RegisterPerTarget("Kernels/RayHitMask3Node16F32", {k1M}, [](benchmark::State& st) {
    const auto& b = GetBoxes<float>(static_cast<size_t>(st.range(0)));
    const size_t n = b.lo[0].size() / kNode * kNode;
    const auto r = Diagonal3<float>();
    for (auto _ : st) {
      uint64_t acc = 0;
      float t[kNode];
      for (size_t i = 0; i < n; i += kNode) {
        uint64_t bits;
        kernels::RayHitMask3(b.lo[0].data() + i, b.lo[1].data() + i, b.lo[2].data() + i,
                             b.hi[0].data() + i, b.hi[1].data() + i, b.hi[2].data() + i, kNode, r,
                             &bits, t);
        acc += bits;
      }
      Keep(acc);
    }
    SetThroughput(st, n, 6 * sizeof(float));
  });
  RegisterPerTarget("Kernels/RayReadLoop6F32", {k1M}, [](benchmark::State& st) {
    const auto& b = GetBoxes<float>(static_cast<size_t>(st.range(0)));
    const size_t n = b.lo[0].size();
    const float* cols[] = {b.lo[0].data(), b.lo[1].data(), b.lo[2].data(),
                           b.hi[0].data(), b.hi[1].data(), b.hi[2].data()};
    for (auto _ : st) Keep(kernels::ReadLoopF32(cols, 6, n));
    SetThroughput(st, n, 6 * sizeof(float));
  });
}
LOCUS_REGISTER_BENCHMARKS(Register);

}  // namespace
}  // namespace locus::perf
