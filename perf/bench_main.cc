// Entry point of locus_bench: every *_bench.cc in perf/ registers into this binary.
// Adds the dispatched Highway target and the peer set to the JSON context.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstring>

#include "kernels/dispatch.h"

int main(int argc, char** argv) {
  // `--locus_print_target` prints the target that dispatch picks and exits: perf/run uses it
  // to select the per-target benchmark rows that ran on the default target.
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--locus_print_target") == 0) {
      std::printf("%s\n", locus::kernels::DispatchedTargetName());
      return 0;
    }
  }
  benchmark::AddCustomContext("highway_target", locus::kernels::DispatchedTargetName());
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
