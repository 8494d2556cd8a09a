// Benchmark helpers: per-target registration and seeded data, shared by every *_bench.cc.
//
// Conventions (STYLE.md): data is generated outside the timed loop from fixed seeds;
// every benchmark calls SetItemsProcessed (points) and SetBytesProcessed (bytes the kernel
// must read), and its label is the Highway target it ran on. Benchmarks are registered
// once per compiled target as "<workload>/<Kernel>/<TARGET>/<n>" so `perf/run` can pick
// the dispatched target and compare against the read loop of the same target.
#ifndef LOCUS_PERF_BENCH_UTIL_H_
#define LOCUS_PERF_BENCH_UTIL_H_

#include <benchmark/benchmark.h>
#include <malloc.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <utility>
#include <random>
#include <string>
#include <vector>

#include "kernels/column.h"
#include "kernels/dispatch.h"

namespace locus::perf {

// Registers `body` once per compiled target as "<name>/<TARGET>" with each of `sizes` as
// the benchmark argument. The target is forced for the duration of the run.
inline void RegisterPerTarget(const std::string& name, std::vector<int64_t> sizes,
                              std::function<void(benchmark::State&)> body) {
  for (int64_t target : kernels::CompiledTargets()) {
    const std::string full = name + "/" + kernels::TargetName(target);
    auto* b = benchmark::RegisterBenchmark(full.c_str(), [target, body](benchmark::State& st) {
      kernels::SetTargetForTest(target);
      st.SetLabel(kernels::TargetName(target));
      body(st);
      kernels::SetTargetForTest(0);
    });
    for (int64_t n : sizes) b->Arg(n);
    b->UseRealTime();
  }
}

// Seeded uniform values in [lo, hi).
template <typename T>
kernels::Column<T> UniformColumn(size_t n, uint64_t seed, T lo = 0, T hi = 1) {
  kernels::Column<T> c(n);
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> dist(lo, hi);
  for (size_t i = 0; i < n; ++i) c[i] = static_cast<T>(dist(rng));
  return c;
}

// Returns the Data built for size n (Data(n)), building it on first use: data is generated
// once per size, outside every timed loop, and shared by all benchmarks and targets.
template <class Data>
const Data& CachedBySize(size_t n) {
  static std::vector<std::pair<size_t, std::unique_ptr<Data>>> cache;
  for (auto& [size, data] : cache) {
    if (size == n) return *data;
  }
  cache.emplace_back(n, std::make_unique<Data>(n));
  return *cache.back().second;
}

// Reports n items and n * bytes_per_item bytes per iteration.
// The process's resident set and malloc's bytes in use (every arena), in bytes.
inline size_t ResidentBytes() {
  long pages = 0, resident = 0;
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    std::fclose(f);
  }
  return static_cast<size_t>(resident) * static_cast<size_t>(sysconf(_SC_PAGESIZE));
}
inline size_t HeapBytes() {
  const struct mallinfo2 m = mallinfo2();
  return m.uordblks + m.hblkhd;
}

inline void SetThroughput(benchmark::State& st, size_t n, size_t bytes_per_item) {
  st.SetItemsProcessed(static_cast<int64_t>(st.iterations()) * static_cast<int64_t>(n));
  st.SetBytesProcessed(static_cast<int64_t>(st.iterations()) *
                       static_cast<int64_t>(n * bytes_per_item));
}

// SoA boxes in the unit cube: seeded uniform min corners, sides up to 0.002.
template <typename T>
struct BoxColumns {
  kernels::Column<T> lo[3], hi[3];
  BoxColumns(size_t n, uint64_t seed) {
    for (int a = 0; a < 3; ++a) {
      lo[a] = UniformColumn<T>(n, seed + a);
      hi[a] = UniformColumn<T>(n, seed + 10 + a, T(0), T(0.002));
      for (size_t i = 0; i < n; ++i) hi[a][i] += lo[a][i];
    }
  }
};

// Keeps `value` alive so the compiler cannot drop the computation producing it.
template <typename T>
inline void Keep(const T& value) {
  benchmark::DoNotOptimize(value);
}

}  // namespace locus::perf

// Registers benchmarks from a static initialiser (runs before main parses flags).
#define LOCUS_REGISTER_BENCHMARKS(fn) \
  static const bool locus_registered_##fn = (fn(), true)

#endif  // LOCUS_PERF_BENCH_UTIL_H_
