// The `locus` command-line tool. Today it has one real job, `locus bench`: generate points
// from a seed, run the scan kernels over them and print their throughput next to the
// machine's measured read bandwidth on the same bytes, with the dispatched Highway target.
// import/export/query/serve arrive with the engine, storage and server layers.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <cerrno>
#include <functional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "kernels/column.h"
#include "kernels/dispatch.h"
#include "kernels/point_filter.h"
#include "locus/status.h"

namespace locus::cli {
namespace {

using kernels::Column;

struct BenchOptions {
  size_t points = 10'000'000;
  uint64_t seed = 42;
  int repetitions = 15;
};

void PrintUsage(FILE* out) {
  std::fprintf(out,
               "usage: locus <command> [options]\n"
               "\n"
               "commands:\n"
               "  bench [--points N] [--seed S] [--repetitions R]\n"
               "        generate N seeded 2D f32 points (default 10000000) and print the scan\n"
               "        kernels' throughput next to the measured read bandwidth\n"
               "  version   print the locus version\n"
               "  help      print this message\n");
}

Result<uint64_t> ParseCount(std::string_view flag, const char* value, uint64_t min,
                            uint64_t max) {
  if (value == nullptr) return InvalidArgumentError(std::string(flag) + ": missing value");
  char* end = nullptr;
  errno = 0;
  const unsigned long long v = std::strtoull(value, &end, 10);
  if (errno != 0 || end == value || *end != '\0' || value[0] == '-' || v < min || v > max) {
    return InvalidArgumentError(std::string(flag) + " = '" + value +
                                "': expected an integer in [" + std::to_string(min) + ", " +
                                std::to_string(max) + "]");
  }
  return static_cast<uint64_t>(v);
}

Result<BenchOptions> ParseBench(int argc, char** argv) {
  BenchOptions opt;
  for (int i = 0; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const char* value = i + 1 < argc ? argv[i + 1] : nullptr;
    if (arg == "--points") {
      LOCUS_ASSIGN_OR_RETURN(opt.points, ParseCount(arg, value, 1, uint64_t{1} << 31));
      ++i;
    } else if (arg == "--seed") {
      LOCUS_ASSIGN_OR_RETURN(opt.seed, ParseCount(arg, value, 0, UINT64_MAX));
      ++i;
    } else if (arg == "--repetitions") {
      LOCUS_ASSIGN_OR_RETURN(uint64_t r, ParseCount(arg, value, 1, 1000));
      opt.repetitions = static_cast<int>(r);
      ++i;
    } else {
      return InvalidArgumentError("bench: unknown option '" + std::string(arg) + "'");
    }
  }
  return opt;
}

volatile size_t g_sink;  // keeps results alive so the kernels are not optimised away

int RunBench(const BenchOptions& opt) {
  const size_t n = opt.points;
  std::printf("locus bench: %zu points (2D, f32, uniform in the unit square, seed %llu)\n", n,
              static_cast<unsigned long long>(opt.seed));
  std::printf("dispatched Highway target: %s (compiled:", kernels::DispatchedTargetName());
  for (int64_t t : kernels::CompiledTargets()) std::printf(" %s", kernels::TargetName(t));
  std::printf(")\n\n");

  Column<float> x(n), y(n);
  Column<int64_t> t(n), expires(n);
  std::mt19937_64 rng(opt.seed);
  std::uniform_real_distribution<float> unit(0.0f, 1.0f);
  for (size_t i = 0; i < n; ++i) {
    x[i] = unit(rng);
    y[i] = unit(rng);
    t[i] = static_cast<int64_t>(rng() % 1000);
    expires[i] = static_cast<int64_t>(rng() % 1000);
  }
  std::vector<uint32_t> ids(n);
  std::vector<float> d2(n);
  const float* cols[] = {x.data(), y.data()};
  const size_t xy_bytes = n * 2 * sizeof(float);


  const kernels::Box2T<float> box{0.45f, 0.45f, 0.55f, 0.55f};
  const float r2 = 0.056f * 0.056f;
  kernels::RowFilter rows;
  rows.t = t.data();
  rows.t_min = 100;
  rows.t_max = 900;
  rows.expires = expires.data();
  rows.now = 500;

  struct Row {
    const char* name;
    size_t bytes_per_point;
    std::function<size_t()> fn;
    std::function<size_t()> reference;  // the scalar oracle, run once to verify the result
  };
  auto ref_radius = [&](const kernels::RowFilter& f) {
    return kernels::reference::RadiusFilter2(x.data(), y.data(), n, 0.5f, 0.5f, r2, f, 0,
                                             ids.data(), d2.data());
  };
  auto ref_box = [&] {
    return kernels::reference::BoxFilter2(x.data(), y.data(), n, box, {}, 0, ids.data());
  };
  const Row table[] = {
      {"radius count", 8,
       [&] { return kernels::RadiusCount2(x.data(), y.data(), n, 0.5f, 0.5f, r2, {}); },
       [&] { return ref_radius({}); }},
      {"box count", 8, [&] { return kernels::BoxCount2(x.data(), y.data(), n, box, {}); },
       ref_box},
      {"radius filter (ids + distances)", 8,
       [&] {
         return kernels::RadiusFilter2(x.data(), y.data(), n, 0.5f, 0.5f, r2, {}, 0, ids.data(),
                                       d2.data());
       },
       [&] { return ref_radius({}); }},
      {"box filter (ids)", 8,
       [&] { return kernels::BoxFilter2(x.data(), y.data(), n, box, {}, 0, ids.data()); },
       ref_box},
      {"radius count + time + expiry", 24,
       [&] { return kernels::RadiusCount2(x.data(), y.data(), n, 0.5f, 0.5f, r2, rows); },
       [&] { return ref_radius(rows); }},
  };
  // Rounds interleave the read loop with every kernel, so a noisy neighbour slows both alike;
  // each reports its median over the rounds.
  constexpr size_t kRows = sizeof(table) / sizeof(table[0]);
  std::vector<std::vector<double>> secs(kRows + 1);
  size_t results[kRows] = {};
  auto time_one = [](auto&& fn) {
    const auto t0 = std::chrono::steady_clock::now();
    fn();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  auto read_loop = [&] { g_sink = static_cast<size_t>(kernels::ReadLoopF32(cols, 2, n)); };
  for (int round = -1; round < opt.repetitions; ++round) {  // round -1 warms up
    const double r = time_one(read_loop);
    if (round >= 0) secs[kRows].push_back(r);
    for (size_t k = 0; k < kRows; ++k) {
      const double t_k = time_one([&] { g_sink = results[k] = table[k].fn(); });
      if (round >= 0) secs[k].push_back(t_k);
    }
  }
  auto median = [](std::vector<double> v) {
    std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
    return v[v.size() / 2];
  };
  const double read_gbs = xy_bytes / median(secs[kRows]) / 1e9;
  std::printf("read bandwidth (plain SIMD read loop over x and y): %.1f GB/s\n\n", read_gbs);
  std::printf("%-36s %10s %9s %9s %14s\n", "kernel", "Mpoints/s", "GB/s", "vs read", "result");
  int mismatches = 0;
  for (size_t k = 0; k < kRows; ++k) {
    const Row& row = table[k];
    const size_t result = results[k];
    const double s = median(secs[k]);
    const double gbs = n * row.bytes_per_point / s / 1e9;
    const size_t expected = row.reference();
    std::printf("%-36s %10.0f %9.1f %8.2fx %14zu%s\n", row.name, n / s / 1e6, gbs,
                gbs / read_gbs, result, result == expected ? "" : "  MISMATCH vs reference");
    mismatches += result != expected;
  }
  std::printf(
      "\n'vs read' is the kernel's bytes/s over the read loop's on the bytes it must read\n"
      "(x,y f32; plus t and expires int64 for the time row). 1.00x = memory-bound.\n"
      "Every result was checked against the scalar reference: %s.\n",
      mismatches ? "MISMATCHES FOUND" : "all equal");
  return mismatches ? 1 : 0;
}

}  // namespace
}  // namespace locus::cli

int main(int argc, char** argv) {
  using namespace locus::cli;
  if (argc < 2) {
    PrintUsage(stderr);
    return 2;
  }
  const std::string_view command = argv[1];
  if (command == "help" || command == "--help" || command == "-h") {
    PrintUsage(stdout);
    return 0;
  }
  if (command == "version" || command == "--version") {
    std::printf("locus %s\n", LOCUS_VERSION);
    return 0;
  }
  if (command == "bench") {
    auto opt = ParseBench(argc - 2, argv + 2);
    if (!opt.ok()) {
      std::fprintf(stderr, "locus: %s\n", std::string(opt.status().message()).c_str());
      return 2;
    }
    return RunBench(*opt);
  }
  std::fprintf(stderr, "locus: unknown command '%s' (try 'locus help')\n", argv[1]);
  return 2;
}
