// Path segments vs a box or a circle during a time window (kernel family 9): one object's
// path of 1M samples (a seeded random walk in the unit square, steps up to 0.002, a sample
// every ~1 s), queried with a box and a circle of 1% of the square's area, over all time and
// over the middle half of the path's time; per target and for the scalar reference. The
// "AllCandidates" variants use regions holding the whole square, so every vector passes the
// cheap exact step and pays the divisions (and, for the circle, the square root): the worst
// case. Items are segments (n - 1); bytes are the path's 24 bytes per sample (the kernels
// load the times only for vectors with a candidate, so they may read less).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "kernels/column.h"
#include "kernels/segment.h"
#include "perf/bench_util.h"

namespace locus::perf {
namespace {

constexpr int64_t k1M = 1'000'000;

struct Path {
  kernels::Column<int64_t> t;
  kernels::Column<double> x, y;
  explicit Path(size_t n) : t(n), x(n), y(n) {
    std::mt19937_64 rng(14);
    std::uniform_real_distribution<double> step(-0.002, 0.002);
    std::uniform_int_distribution<int64_t> dt(900, 1100);
    double px = 0.5, py = 0.5;
    int64_t pt = 1'700'000'000'000;  // ms since the epoch, 2023
    for (size_t i = 0; i < n; ++i) {
      t[i] = pt;
      x[i] = px;
      y[i] = py;
      pt += dt(rng);
      px = std::clamp(px + step(rng), 0.0, 1.0);  // stay in the square
      py = std::clamp(py + step(rng), 0.0, 1.0);
    }
  }
};

const Path& GetPath(size_t n) { return CachedBySize<Path>(n); }

enum class Window { kAll, kMiddleHalf };

kernels::SegmentWindow MakeWindow(const Path& p, Window w) {
  const size_t n = p.t.size();
  if (w == Window::kAll) return {p.t[0], p.t[n - 1]};
  return {p.t[n / 4], p.t[3 * n / 4]};
}

constexpr kernels::SegmentBox kBox{0.40, 0.40, 0.50, 0.50};
constexpr double kCx = 0.45, kCy = 0.45, kRSq = 0.01 / 3.141592653589793;  // area 0.01
constexpr kernels::SegmentBox kAllBox{-1, -1, 2, 2};
constexpr double kAllRSq = 4;

template <bool kCircle, bool kReference>
void Body(benchmark::State& st, Window which, bool all_candidates) {
  const Path& p = GetPath(static_cast<size_t>(st.range(0)));
  const size_t n = p.t.size();
  const kernels::SegmentWindow w = MakeWindow(p, which);
  std::vector<uint64_t> bits((n - 1 + 63) / 64);
  size_t count = 0;
  for (auto _ : st) {
    if constexpr (kCircle) {
      const double r_sq = all_candidates ? kAllRSq : kRSq;
      count = kReference ? kernels::reference::SegmentsInCircle(p.t.data(), p.x.data(), p.y.data(),
                                                                n, kCx, kCy, r_sq, w, bits.data())
                         : kernels::SegmentsInCircle(p.t.data(), p.x.data(), p.y.data(), n, kCx,
                                                     kCy, r_sq, w, bits.data());
    } else {
      const kernels::SegmentBox& box = all_candidates ? kAllBox : kBox;
      count = kReference ? kernels::reference::SegmentsInBox(p.t.data(), p.x.data(), p.y.data(), n,
                                                             box, w, bits.data())
                         : kernels::SegmentsInBox(p.t.data(), p.x.data(), p.y.data(), n, box, w,
                                                  bits.data());
    }
    Keep(count);
    benchmark::ClobberMemory();
  }
  st.counters["hits"] = static_cast<double>(count);
  SetThroughput(st, n - 1, sizeof(int64_t) + 2 * sizeof(double));
}

// Registers one workload per target and once for the scalar reference.
template <bool kCircle>
void RegisterWorkload(const std::string& name, Window which, bool all_candidates) {
  RegisterPerTarget("Kernels/" + name, {k1M}, [which, all_candidates](benchmark::State& st) {
    Body<kCircle, false>(st, which, all_candidates);
  });
  benchmark::RegisterBenchmark(("Kernels/" + name + "/reference").c_str(),
                               [which, all_candidates](benchmark::State& st) {
                                 st.SetLabel("reference");
                                 Body<kCircle, true>(st, which, all_candidates);
                               })
      ->Arg(k1M)
      ->UseRealTime();
}

void Register() {
  RegisterWorkload<false>("SegmentsInBox", Window::kAll, false);
  RegisterWorkload<false>("SegmentsInBoxMiddleHalf", Window::kMiddleHalf, false);
  RegisterWorkload<false>("SegmentsInBoxAllCandidates", Window::kMiddleHalf, true);
  RegisterWorkload<true>("SegmentsInCircle", Window::kAll, false);
  RegisterWorkload<true>("SegmentsInCircleMiddleHalf", Window::kMiddleHalf, false);
  RegisterWorkload<true>("SegmentsInCircleAllCandidates", Window::kMiddleHalf, true);
  RegisterPerTarget("Kernels/SegmentReadLoop3F64", {k1M}, [](benchmark::State& st) {
    const Path& p = GetPath(static_cast<size_t>(st.range(0)));
    const size_t n = p.t.size();
    // The int64 column read as doubles: the same bytes, for the bandwidth baseline.
    const double* cols[] = {reinterpret_cast<const double*>(p.t.data()), p.x.data(), p.y.data()};
    for (auto _ : st) Keep(kernels::ReadLoopF64(cols, 3, n));
    SetThroughput(st, n - 1, sizeof(int64_t) + 2 * sizeof(double));
  });
}
LOCUS_REGISTER_BENCHMARKS(Register);

}  // namespace
}  // namespace locus::perf
