// The child process of the kill -9 crash test (db_crash_test.cc): opens a durable database
// and runs the deterministic workload of crash_workload.h until it is killed, reporting on
// stdout which operations are done.
//
//   locus_crash_child DIR SEED POLICY START[,START...]
//
// POLICY is always, every_second or never. One writer thread per START (thread t begins at
// its operation number START[t]: the count the parent recovered from DIR). Reports are
// fixed-size binary records (CrashReport), each written by one write(2) (so records of
// different threads never interleave in the pipe):
//   kReady    once Db::Open returned (its recovery done);
//   kDone     operation `op` of `thread` returned OK;
//   kDurable  the same, and the operation is durable (SyncPolicy::kAlways and not a
//             WriteOptions::sync = false upsert): with every earlier operation of the thread,
//             it must survive the crash.
// The child never exits on its own: an unexpected error is printed to stderr and ends it
// with status 3, which the parent reports as a failure.
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "locus/db.h"
#include "tests/api/crash_workload.h"

namespace {

using locus::crash_test::CrashReport;

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "locus_crash_child: %s\n", what.c_str());
  std::fflush(stderr);
  std::_Exit(3);
}

void Report(CrashReport::Kind kind, uint32_t thread, uint64_t op) {
  const CrashReport r{static_cast<uint32_t>(kind), thread, op};
  for (;;) {
    const ssize_t n = ::write(STDOUT_FILENO, &r, sizeof r);
    if (n == static_cast<ssize_t>(sizeof r)) return;
    if (n < 0 && errno == EINTR) continue;
    std::_Exit(4);  // the parent is gone
  }
}

}  // namespace

int main(int argc, char** argv) {
  // Die with the test, whatever happens to it.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (argc != 5) {
    Die("usage: locus_crash_child DIR SEED always|every_second|never START[,START...]");
  }
  const std::string dir = argv[1];
  const uint64_t seed = std::strtoull(argv[2], nullptr, 0);
  const std::string policy = argv[3];
  std::vector<uint64_t> starts;
  for (const char* p = argv[4]; *p;) {
    char* end;
    starts.push_back(std::strtoull(p, &end, 10));
    if (end == p) Die(std::string("bad START list '") + argv[4] + "'");
    p = *end == ',' ? end + 1 : end;
  }

  locus::DbOptions options;
  locus::DurabilityOptions& d = options.durability;
  if (policy == "always") {
    d.sync = locus::SyncPolicy::kAlways;
  } else if (policy == "every_second") {
    d.sync = locus::SyncPolicy::kEverySecond;
  } else if (policy == "never") {
    d.sync = locus::SyncPolicy::kNever;
  } else {
    Die("bad POLICY '" + policy + "'");
  }
  // Everything that happens in the background of a real database, often: syncs and buffer
  // writes, batched syncs of sync = false writes, checkpoints, sweeps (which log expiries of
  // the workload's already-expired objects) and reclusters.
  d.sync_interval_ms = 10;
  d.sync_batch_size = 4;
  d.checkpoint_min_log_bytes = 64 << 10;
  d.checkpoint_log_ratio = 0.5;
  options.sweep_interval_ms = 5;
  options.sweep_batch = 64;
  options.block_rows = 64;
  auto opened = locus::Db::Open(dir, options);
  if (!opened.ok()) Die("Db::Open(" + dir + "): " + opened.status().ToString());
  std::unique_ptr<locus::Db> db = std::move(opened).value();
  Report(CrashReport::kReady, 0, 0);

  const bool always = d.sync == locus::SyncPolicy::kAlways;
  std::vector<std::thread> writers;
  for (uint32_t t = 0; t < starts.size(); ++t) {
    writers.emplace_back([&, t] {
      for (uint64_t k = starts[t];; ++k) {
        const locus::crash_test::WorkloadOp op = locus::crash_test::MakeOp(seed, t, k);
        bool durable = false;
        const locus::Status s = locus::crash_test::RunOp(*db, op, &durable);
        if (!s.ok()) {
          Die("thread " + std::to_string(t) + " operation " + std::to_string(k) + ": " +
              s.ToString());
        }
        Report(always && durable ? CrashReport::kDurable : CrashReport::kDone, t, k);
      }
    });
  }
  for (std::thread& w : writers) w.join();  // never: the writers run until the kill
  return 0;
}
