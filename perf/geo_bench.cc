// Geographic kernels (kernel family 7) over 1M points, per target: lon/lat -> unit vectors
// and haversine distances from one point (f32 and f64), plus the chord conversions, next to
// the <cmath> references on the same data.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "kernels/geo.h"
#include "perf/bench_util.h"

namespace locus::perf {
namespace {

constexpr int64_t k1M = 1'000'000;

template <typename T>
struct LonLat {
  kernels::Column<T> lon, lat, metres;
  explicit LonLat(size_t n)
      : lon(UniformColumn<T>(n, 21, T(-180), T(180))),
        lat(UniformColumn<T>(n, 22, T(-90), T(90))),
        metres(UniformColumn<T>(n, 23, T(0), T(2e7))) {}
};

template <typename T>
const LonLat<T>& GetLonLat(size_t n) {
  return CachedBySize<LonLat<T>>(n);
}

template <typename T>
void LonLatToUnitBody(benchmark::State& st, bool reference) {
  const LonLat<T>& d = GetLonLat<T>(static_cast<size_t>(st.range(0)));
  const size_t n = d.lon.size();
  std::vector<T> x(n), y(n), z(n);
  for (auto _ : st) {
    if (reference) {
      kernels::reference::LonLatToUnit(d.lon.data(), d.lat.data(), n, x.data(), y.data(), z.data());
    } else {
      kernels::LonLatToUnit(d.lon.data(), d.lat.data(), n, x.data(), y.data(), z.data());
    }
    benchmark::ClobberMemory();
  }
  SetThroughput(st, n, 2 * sizeof(T));
}

template <typename T>
void HaversineBody(benchmark::State& st, bool reference) {
  const LonLat<T>& d = GetLonLat<T>(static_cast<size_t>(st.range(0)));
  const size_t n = d.lon.size();
  std::vector<T> out(n);
  const T lon0 = T(2.35), lat0 = T(48.85);
  for (auto _ : st) {
    if (reference) {
      kernels::reference::HaversineMetres(d.lon.data(), d.lat.data(), n, lon0, lat0, out.data());
    } else {
      kernels::HaversineMetres(d.lon.data(), d.lat.data(), n, lon0, lat0, out.data());
    }
    benchmark::ClobberMemory();
  }
  SetThroughput(st, n, 2 * sizeof(T));
}

template <typename T>
void MetresToChordBody(benchmark::State& st) {
  const LonLat<T>& d = GetLonLat<T>(static_cast<size_t>(st.range(0)));
  const size_t n = d.metres.size();
  std::vector<T> out(n);
  for (auto _ : st) {
    kernels::MetresToChord(d.metres.data(), n, out.data());
    benchmark::ClobberMemory();
  }
  SetThroughput(st, n, sizeof(T));
}

void RegisterReference(const char* name, void (*body)(benchmark::State&, bool)) {
  benchmark::RegisterBenchmark(name,
                               [body](benchmark::State& st) {
                                 st.SetLabel("reference");
                                 body(st, true);
                               })
      ->Arg(k1M)
      ->UseRealTime();
}

void Register() {
  RegisterPerTarget("Geo/LonLatToUnitF32", {k1M},
                    [](benchmark::State& st) { LonLatToUnitBody<float>(st, false); });
  RegisterPerTarget("Geo/LonLatToUnitF64", {k1M},
                    [](benchmark::State& st) { LonLatToUnitBody<double>(st, false); });
  RegisterPerTarget("Geo/HaversineMetresF32", {k1M},
                    [](benchmark::State& st) { HaversineBody<float>(st, false); });
  RegisterPerTarget("Geo/HaversineMetresF64", {k1M},
                    [](benchmark::State& st) { HaversineBody<double>(st, false); });
  RegisterPerTarget("Geo/MetresToChordF64", {k1M},
                    [](benchmark::State& st) { MetresToChordBody<double>(st); });
  RegisterReference("Geo/LonLatToUnitF64/reference", &LonLatToUnitBody<double>);
  RegisterReference("Geo/HaversineMetresF64/reference", &HaversineBody<double>);
}
LOCUS_REGISTER_BENCHMARKS(Register);

}  // namespace
}  // namespace locus::perf
