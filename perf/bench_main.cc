// Entry point of locus_bench: every *_bench.cc in perf/ registers into this binary.
// Adds the dispatched Highway target and the peer set to the JSON context.
#include <benchmark/benchmark.h>

#include "kernels/dispatch.h"

int main(int argc, char** argv) {
  benchmark::AddCustomContext("highway_target", locus::kernels::DispatchedTargetName());
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
