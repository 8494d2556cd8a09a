// Box overlap / contains masks (kernel family 4) over SoA boxes: one call over 1M boxes
// (a flat scan), and the R-tree's pattern of many small calls, one per 16-child node, over the
// same 1M boxes. Boxes are small (side <= 0.002) and uniform in the unit square / cube; the
// query selects about 1% of them.
#include <benchmark/benchmark.h>

#include <memory>
#include <utility>
#include <vector>

#include "kernels/box_mask.h"
#include "perf/bench_util.h"

namespace locus::perf {
namespace {

constexpr int64_t k1M = 1'000'000;
constexpr size_t kNode = 16;

template <typename T>
const BoxColumns<T>& GetBoxes(size_t n) {
  struct Boxes : BoxColumns<T> {
    explicit Boxes(size_t n) : BoxColumns<T>(n, 10) {}
  };
  return CachedBySize<Boxes>(n);
}

template <typename T>
kernels::Box2T<T> Query2() {
  return {T(0.45), T(0.45), T(0.55), T(0.55)};
}
template <typename T>
kernels::Box3T<T> Query3() {  // ~1% of the cube: 0.215^3
  return {T(0.39), T(0.39), T(0.39), T(0.605), T(0.605), T(0.605)};
}

template <typename T>
void RegisterType(const char* s) {
  const std::string suffix = s;
  RegisterPerTarget("Kernels/BoxOverlapBits2" + suffix, {k1M}, [](benchmark::State& st) {
    const auto& b = GetBoxes<T>(static_cast<size_t>(st.range(0)));
    const size_t n = b.lo[0].size();
    std::vector<uint64_t> bits((n + 63) / 64);
    for (auto _ : st) {
      kernels::BoxOverlapBits2(b.lo[0].data(), b.lo[1].data(), b.hi[0].data(), b.hi[1].data(), n,
                               Query2<T>(), bits.data());
      Keep(bits[n / 128]);
    }
    SetThroughput(st, n, 4 * sizeof(T));
  });
  RegisterPerTarget("Kernels/BoxOverlapIds2" + suffix, {k1M}, [](benchmark::State& st) {
    const auto& b = GetBoxes<T>(static_cast<size_t>(st.range(0)));
    const size_t n = b.lo[0].size();
    std::vector<uint32_t> ids(n);
    for (auto _ : st) {
      Keep(kernels::BoxOverlapIds2(b.lo[0].data(), b.lo[1].data(), b.hi[0].data(),
                                   b.hi[1].data(), n, Query2<T>(), 0, ids.data()));
    }
    SetThroughput(st, n, 4 * sizeof(T));
  });
  RegisterPerTarget("Kernels/BoxOverlapCount2" + suffix, {k1M}, [](benchmark::State& st) {
    const auto& b = GetBoxes<T>(static_cast<size_t>(st.range(0)));
    const size_t n = b.lo[0].size();
    for (auto _ : st) {
      Keep(kernels::BoxOverlapCount2(b.lo[0].data(), b.lo[1].data(), b.hi[0].data(),
                                     b.hi[1].data(), n, Query2<T>()));
    }
    SetThroughput(st, n, 4 * sizeof(T));
  });
  RegisterPerTarget("Kernels/BoxContainsBits2" + suffix, {k1M}, [](benchmark::State& st) {
    const auto& b = GetBoxes<T>(static_cast<size_t>(st.range(0)));
    const size_t n = b.lo[0].size();
    std::vector<uint64_t> bits((n + 63) / 64);
    for (auto _ : st) {
      kernels::BoxContainsBits2(b.lo[0].data(), b.lo[1].data(), b.hi[0].data(), b.hi[1].data(),
                                n, Query2<T>(), bits.data());
      Keep(bits[n / 128]);
    }
    SetThroughput(st, n, 4 * sizeof(T));
  });
  RegisterPerTarget("Kernels/BoxOverlapBits3" + suffix, {k1M}, [](benchmark::State& st) {
    const auto& b = GetBoxes<T>(static_cast<size_t>(st.range(0)));
    const size_t n = b.lo[0].size();
    std::vector<uint64_t> bits((n + 63) / 64);
    for (auto _ : st) {
      kernels::BoxOverlapBits3(b.lo[0].data(), b.lo[1].data(), b.lo[2].data(), b.hi[0].data(),
                               b.hi[1].data(), b.hi[2].data(), n, Query3<T>(), bits.data());
      Keep(bits[n / 128]);
    }
    SetThroughput(st, n, 6 * sizeof(T));
  });
  // The R-tree case: one call per 16-child node; items are boxes, so the rate compares
  // directly with the flat scan above.
  RegisterPerTarget("Kernels/BoxOverlapBits2Node16" + suffix, {k1M}, [](benchmark::State& st) {
    const auto& b = GetBoxes<T>(static_cast<size_t>(st.range(0)));
    const size_t n = b.lo[0].size() / kNode * kNode;
    const auto q = Query2<T>();
    for (auto _ : st) {
      uint64_t acc = 0;
      for (size_t i = 0; i < n; i += kNode) {
        uint64_t bits;
        kernels::BoxOverlapBits2(b.lo[0].data() + i, b.lo[1].data() + i, b.hi[0].data() + i,
                                 b.hi[1].data() + i, kNode, q, &bits);
        acc += bits;
      }
      Keep(acc);
    }
    SetThroughput(st, n, 4 * sizeof(T));
  });
  RegisterPerTarget("Kernels/BoxOverlapBits3Node16" + suffix, {k1M}, [](benchmark::State& st) {
    const auto& b = GetBoxes<T>(static_cast<size_t>(st.range(0)));
    const size_t n = b.lo[0].size() / kNode * kNode;
    const auto q = Query3<T>();
    for (auto _ : st) {
      uint64_t acc = 0;
      for (size_t i = 0; i < n; i += kNode) {
        uint64_t bits;
        kernels::BoxOverlapBits3(b.lo[0].data() + i, b.lo[1].data() + i, b.lo[2].data() + i,
                                 b.hi[0].data() + i, b.hi[1].data() + i, b.hi[2].data() + i,
                                 kNode, q, &bits);
        acc += bits;
      }
      Keep(acc);
    }
    SetThroughput(st, n, 6 * sizeof(T));
  });
}

void Register() {
  RegisterType<float>("F32");
  RegisterType<double>("F64");
  // The bandwidth baseline over the same bytes (4 f32 columns).
  RegisterPerTarget("Kernels/BoxReadLoop4F32", {k1M}, [](benchmark::State& st) {
    const auto& b = GetBoxes<float>(static_cast<size_t>(st.range(0)));
    const size_t n = b.lo[0].size();
    const float* cols[] = {b.lo[0].data(), b.lo[1].data(), b.hi[0].data(), b.hi[1].data()};
    for (auto _ : st) Keep(kernels::ReadLoopF32(cols, 4, n));
    SetThroughput(st, n, 4 * sizeof(float));
  });
}
LOCUS_REGISTER_BENCHMARKS(Register);

}  // namespace
}  // namespace locus::perf
