// The kill -9 loop of the durable database (issue 6): a child process (crash_child.cc) opens
// a directory, writes the deterministic workload of crash_workload.h from several threads and
// reports each operation as it returns; the test kills it with SIGKILL at a random moment,
// opens the directory itself and checks, for every writer thread, that the recovered state is
// exactly the state after some prefix 0..n-1 of the thread's operations (compared object by
// object, bit for bit, with an in-memory Db that replays the same operations: the oracle;
// and the whole history of each thread's counter, kept by the history namespace t.meta),
// that n covers every operation reported durable (SyncPolicy::kAlways), that n is at most the
// operations the child started, and that the index answers queries over every recovered
// object. The next child continues the same directory from the recovered counts, so
// recoveries of recovered directories, checkpoints (explicit, and automatic ones with a small
// threshold) and many segments accumulate over the trials. 70% of the trials run under
// kAlways, the rest under kEverySecond and kNever, where a killed process may lose buffered
// writes: only the prefix property and "nothing before the child's start is lost" are checked
// there.
//
// Environment: LOCUS_CRASH_TRIALS (default 200), LOCUS_CRASH_THREADS (writer threads, default
// 2), LOCUS_CRASH_POLICY (always, every_second or never: every trial under that policy),
// LOCUS_CRASH_DIR (where the directory goes; default /dev/shm when writable, else the
// test temp directory), LOCUS_TEST_SEED (workload and kill times). A failure keeps the
// directory and prints its path and the seed.
//
// The checker itself is tested too (it must reject a state missing an acknowledged write and
// a state that is no prefix, and accept every prefix).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cfloat>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "api/db/test_seams.h"
#include "locus/db.h"
#include "storage/file_system.h"
#include "tests/api/crash_workload.h"
#include "tests/testing/fault_injecting_file_system.h"
#include "tests/testing/harness.h"

extern char** environ;

namespace locus {
namespace {

using crash_test::CrashReport;
using crash_test::MakeOp;
using crash_test::WorkloadOp;
using ::locus::testing::FaultInjectingFileSystem;
using ::locus::testing::SeedTrace;
using ::locus::testing::TestSeed;
using SteadyClock = std::chrono::steady_clock;

uint64_t EnvCount(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::strtoull(v, nullptr, 0) : fallback;
}

bool SameBits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

std::string Describe(const Object& o) {
  char b[160];
  std::snprintf(b, sizeof b, "{pos (%a, %a, %a), timestamp %lld, %zu metadata bytes, expires %s}",
                o.pos.x, o.pos.y, o.pos.z, static_cast<long long>(o.timestamp), o.metadata.size(),
                o.expires_at ? std::to_string(*o.expires_at).c_str() : "never");
  return b;
}

bool SameObject(const Object& a, const Object& b) {
  return a.id == b.id && SameBits(a.pos.x, b.pos.x) && SameBits(a.pos.y, b.pos.y) &&
         SameBits(a.pos.z, b.pos.z) && a.timestamp == b.timestamp && a.metadata == b.metadata &&
         a.expires_at == b.expires_at && a.ttl_ms == b.ttl_ms;
}

// ---- one writer thread's state ----

struct NsState {
  CoordinateSystem coordinates = CoordinateSystem::kGeographic;
  size_t objects = 0;                   // Stats: visible objects
  std::map<std::string, Object> found;  // Get over the pool (and the counter)
  std::vector<Sample> counter_history;  // history namespaces: the counter's whole history
};
using ThreadState = std::map<std::string, NsState>;  // the thread's namespaces

// Reads thread t's namespaces of `db`. with_queries: also checks that a query over the whole
// coordinate range finds exactly the objects Get finds (the index agrees with the records).
ThreadState ReadThread(const Db& db, uint32_t t, bool with_queries, std::string* error) {
  ThreadState state;
  const std::string prefix = crash_test::NsName(t, "");
  for (const std::string& name : db.ListNamespaces()) {
    if (name.compare(0, prefix.size(), prefix) != 0) continue;
    auto stats = db.Stats(name);
    if (!stats.ok()) {
      *error += "Stats(" + name + "): " + stats.status().ToString() + "\n";
      continue;
    }
    NsState& ns = state[name];
    ns.coordinates = stats->coordinates;
    ns.objects = stats->objects;
    auto get = [&](const std::string& id) {
      auto o = db.Get(name, id);
      if (o.ok()) {
        ns.found.emplace(id, std::move(o).value());
      } else if (o.status().code() != StatusCode::kNotFound) {
        *error += "Get(" + name + ", " + id + "): " + o.status().ToString() + "\n";
      }
    };
    for (uint32_t j = 0; j < crash_test::kPoolIds; ++j) get(crash_test::PoolId(j));
    get("counter");
    auto h = db.Trajectory(name, "counter", INT64_MIN / 4, INT64_MAX / 4, {.with_metadata = true});
    if (h.ok()) {
      ns.counter_history = std::move(h->samples);
    } else if (h.status().code() != StatusCode::kNotFound &&
               h.status().code() != StatusCode::kFailedPrecondition) {
      *error += "Trajectory(" + name + ", counter): " + h.status().ToString() + "\n";
    }
    if (ns.found.size() != ns.objects) {
      *error += name + ": Stats counts " + std::to_string(ns.objects) + " objects, Get finds " +
                std::to_string(ns.found.size()) + "\n";
    }
    if (!with_queries) continue;
    const bool geo = ns.coordinates == CoordinateSystem::kGeographic;
    const Position lo = geo ? Position{-180, -90, 0} : Position{-DBL_MAX, -DBL_MAX, -DBL_MAX};
    const Position hi = geo ? Position{180, 90, 0} : Position{DBL_MAX, DBL_MAX, DBL_MAX};
    QueryOptions everything;
    everything.limit = crash_test::kPoolIds + 2;
    everything.with_metadata = true;
    auto hits = db.InBox(name, lo, hi, everything);
    if (!hits.ok()) {
      *error += "InBox(" + name + "): " + hits.status().ToString() + "\n";
      continue;
    }
    size_t matched = 0;
    for (const Hit& h : hits->hits) {
      auto it = ns.found.find(h.id);
      if (it == ns.found.end() || !SameBits(h.pos.x, it->second.pos.x) ||
          !SameBits(h.pos.y, it->second.pos.y) || !SameBits(h.pos.z, it->second.pos.z) ||
          h.timestamp != it->second.timestamp || h.metadata != it->second.metadata) {
        *error += name + ": the query over everything returns '" + h.id +
                  "', which Get does not find as it is\n";
      } else {
        ++matched;
      }
    }
    if (matched != ns.found.size() || hits->truncated) {
      *error += name + ": the query over everything finds " + std::to_string(matched) + " of " +
                std::to_string(ns.found.size()) + " objects\n";
    }
  }
  return state;
}

std::optional<int64_t> MaxTimestamp(const ThreadState& state) {
  std::optional<int64_t> m;
  for (const auto& [name, ns] : state) {
    for (const auto& [id, o] : ns.found) m = std::max(m.value_or(o.timestamp), o.timestamp);
  }
  return m;
}

// "" when `got` equals `want`, except that namespaces in `may_be_extra` may exist in `got`
// only, empty and geographic (created implicitly by the operation in flight, whose write
// did not make it). Otherwise the first differences.
std::string Compare(const ThreadState& got, const ThreadState& want,
                    const std::vector<std::string>& may_be_extra) {
  std::string diff;
  int reported = 0;
  auto note = [&](const std::string& s) {
    if (++reported <= 8) diff += "    " + s + "\n";
  };
  for (const auto& [name, w] : want) {
    auto it = got.find(name);
    if (it == got.end()) {
      note("namespace " + name + " is missing");
      continue;
    }
    const NsState& g = it->second;
    if (g.coordinates != w.coordinates) {
      note("namespace " + name + " is " + CoordinateSystemName(g.coordinates) + ", not " +
           CoordinateSystemName(w.coordinates));
    }
    for (const auto& [id, o] : w.found) {
      auto f = g.found.find(id);
      if (f == g.found.end()) {
        note(name + "/" + id + " is missing (want " + Describe(o) + ")");
      } else if (!SameObject(f->second, o)) {
        note(name + "/" + id + " is " + Describe(f->second) + ", want " + Describe(o));
      }
    }
    for (const auto& [id, o] : g.found) {
      if (!w.found.count(id)) note(name + "/" + id + " should not exist: " + Describe(o));
    }
    const auto& gh = g.counter_history;
    const auto& wh = w.counter_history;
    bool same_history = gh.size() == wh.size();
    for (size_t i = 0; same_history && i < gh.size(); ++i) {
      same_history = gh[i].t == wh[i].t && SameBits(gh[i].pos.x, wh[i].pos.x) &&
                     SameBits(gh[i].pos.y, wh[i].pos.y) && SameBits(gh[i].pos.z, wh[i].pos.z) &&
                     gh[i].metadata == wh[i].metadata;
    }
    if (!same_history) {
      note(name + "/counter has a history of " + std::to_string(gh.size()) + " samples" +
           (gh.empty() ? "" : " (last t " + std::to_string(gh.back().t) + ")") + ", want " +
           std::to_string(wh.size()) +
           (wh.empty() ? "" : " (last t " + std::to_string(wh.back().t) + ")"));
    }
  }
  for (const auto& [name, g] : got) {
    if (want.count(name)) continue;
    const bool allowed =
        std::find(may_be_extra.begin(), may_be_extra.end(), name) != may_be_extra.end();
    if (!allowed || g.objects != 0 || g.coordinates != CoordinateSystem::kGeographic) {
      note("namespace " + name + " should not exist (" + std::to_string(g.objects) + " objects)");
    }
  }
  if (reported > 8) diff += "    ... " + std::to_string(reported - 8) + " more differences\n";
  return diff;
}

// The in-memory Db that has run the first done(t) operations of every thread t.
class Oracle {
 public:
  Oracle(uint64_t seed, uint32_t threads) : seed_(seed), done_(threads, 0) {
    DbOptions o;
    o.sweep_interval_ms = 0;
    o.background_recluster = false;
    o.block_rows = 64;
    db_ = std::move(Db::OpenInMemory(o)).value();
  }
  uint64_t seed() const { return seed_; }
  uint64_t done(uint32_t t) const { return done_[t]; }
  const Db& db() const { return *db_; }
  // Runs thread t's operations up to n. REQUIRES: n >= done(t).
  void AdvanceTo(uint32_t t, uint64_t n) {
    for (; done_[t] < n; ++done_[t]) {
      bool durable;
      const Status s = crash_test::RunOp(*db_, MakeOp(seed_, t, done_[t]), &durable);
      ASSERT_TRUE(s.ok()) << "oracle, thread " << t << " operation " << done_[t] << ": "
                          << s.ToString();
    }
  }

 private:
  uint64_t seed_;
  std::vector<uint64_t> done_;
  std::unique_ptr<Db> db_;
};

struct Bounds {
  uint64_t lower = 0;           // every operation below it must be there
  uint64_t upper = UINT64_MAX;  // the operations the child may have started
};

// Checks that thread t's state in `recovered` is the state after its first n operations for
// an n within `bounds`, advancing the oracle to that n. Returns "" and sets *n, or says why
// not. REQUIRES: oracle.done(t) <= bounds.lower.
std::string CheckThread(const Db& recovered, Oracle& oracle, uint32_t t, const Bounds& bounds,
                        uint64_t* n) {
  std::string error;
  const ThreadState got = ReadThread(recovered, t, /*with_queries=*/true, &error);
  if (!error.empty()) return "thread " + std::to_string(t) + ": " + error;
  const std::optional<int64_t> m = MaxTimestamp(got);
  std::string why;
  for (uint64_t c : crash_test::CandidateCounts(oracle.seed(), t, m)) {
    if (c < bounds.lower) {
      why += "  n = " + std::to_string(c) + " would lose an acknowledged operation\n";
      continue;
    }
    if (c > bounds.upper) {
      why += "  n = " + std::to_string(c) + " is more operations than the child started\n";
      break;
    }
    if (c < oracle.done(t)) {
      why += "  n = " + std::to_string(c) + " is below the previous trial's count\n";
      continue;
    }
    oracle.AdvanceTo(t, c);
    if (::testing::Test::HasFatalFailure()) return "the oracle failed";
    const ThreadState want = ReadThread(oracle.db(), t, /*with_queries=*/false, &error);
    if (!error.empty()) return "oracle: " + error;
    const std::string diff = Compare(got, want, MakeOp(oracle.seed(), t, c).upserts_into);
    if (diff.empty()) {
      *n = c;
      return "";
    }
    why += "  against the state after n = " + std::to_string(c) + " operations:\n" + diff;
  }
  return "thread " + std::to_string(t) + ": the recovered state is not the state after any " +
         "n operations with n in [" + std::to_string(bounds.lower) + ", " +
         (bounds.upper == UINT64_MAX ? std::string("inf") : std::to_string(bounds.upper)) +
         "] (largest visible timestamp: " + (m ? std::to_string(*m) : std::string("none")) + ")\n" +
         why;
}

// ---- the child ----

struct ChildRun {
  std::string error;  // the child did not die by our SIGKILL
  bool ready = false;
  double ran_ms = 0;                                   // from the spawn to the kill
  std::vector<std::optional<uint64_t>> done, durable;  // the last reported op per thread
};

// Runs the child on `dir` (its writer threads starting at the operations in start_list,
// "n0,n1,...") and kills it `delay_us` after it reported ready (or after the spawn, when
// from_spawn: the kill may then land during its recovery).
ChildRun RunChild(const std::string& dir, uint64_t seed, const char* policy, std::string start_list,
                  bool from_spawn, uint64_t delay_us) {
  ChildRun run;
  const size_t threads = 1 + std::count(start_list.begin(), start_list.end(), ',');
  run.done.resize(threads);
  run.durable.resize(threads);
  const std::string seed_text = std::to_string(seed);
  std::vector<char*> argv = {const_cast<char*>(LOCUS_CRASH_CHILD),
                             const_cast<char*>(dir.c_str()),
                             const_cast<char*>(seed_text.c_str()),
                             const_cast<char*>(policy),
                             start_list.data(),
                             nullptr};
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    run.error = std::string("pipe2: ") + std::strerror(errno);
    return run;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  pid_t pid;
  const auto t0 = SteadyClock::now();
  const int spawned =
      ::posix_spawn(&pid, LOCUS_CRASH_CHILD, &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  if (spawned != 0) {
    ::close(fds[0]);
    run.error = std::string("posix_spawn " LOCUS_CRASH_CHILD ": ") + std::strerror(spawned);
    return run;
  }
  std::optional<SteadyClock::time_point> kill_at;
  if (from_spawn) kill_at = t0 + std::chrono::microseconds(delay_us);
  // A child that never becomes ready (hung in recovery) fails the trial.
  const auto give_up = t0 + std::chrono::seconds(120);
  std::vector<uint8_t> pending;
  bool eof = false;
  auto consume = [&] {
    uint8_t buf[4096];
    const ssize_t r = ::read(fds[0], buf, sizeof buf);
    if (r == 0) {
      eof = true;
      return;
    }
    if (r < 0) {
      if (errno != EINTR && errno != EAGAIN) eof = true;
      return;
    }
    pending.insert(pending.end(), buf, buf + r);
    size_t i = 0;
    for (; i + sizeof(CrashReport) <= pending.size(); i += sizeof(CrashReport)) {
      CrashReport rep;
      std::memcpy(&rep, pending.data() + i, sizeof rep);
      if (rep.kind == CrashReport::kReady) {
        run.ready = true;
        if (!kill_at) kill_at = SteadyClock::now() + std::chrono::microseconds(delay_us);
      } else if (rep.thread < threads) {
        run.done[rep.thread] = rep.op;
        if (rep.kind == CrashReport::kDurable) run.durable[rep.thread] = rep.op;
      }
    }
    pending.erase(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(i));
  };
  while (!eof) {
    const auto now = SteadyClock::now();
    const auto until = kill_at ? *kill_at : give_up;
    if (now >= until) break;
    pollfd p{fds[0], POLLIN, 0};
    const auto wait_ms = std::chrono::duration_cast<std::chrono::milliseconds>(until - now).count();
    const int ready = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(wait_ms + 1, 1000)));
    if (ready > 0) consume();
  }
  const bool exited_early = eof;
  ::kill(pid, SIGKILL);
  run.ran_ms = std::chrono::duration<double, std::milli>(SteadyClock::now() - t0).count();
  // What the child reported before it died is still in the pipe.
  while (!eof) consume();
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) || exited_early) {
    run.error = "the child ended by itself (" +
                (WIFEXITED(status)     ? "exit status " + std::to_string(WEXITSTATUS(status))
                 : WIFSIGNALED(status) ? "signal " + std::to_string(WTERMSIG(status))
                                       : std::string("?")) +
                "; see its stderr above)";
  } else if (!run.ready && SteadyClock::now() >= give_up) {
    run.error = "the child did not open the database within 120 s";
  }
  return run;
}

std::string MakeDir() {
  std::string base;
  if (const char* env = std::getenv("LOCUS_CRASH_DIR"); env && *env) {
    base = env;
  } else if (::access("/dev/shm", W_OK) == 0) {
    base = "/dev/shm";  // a kill -9 (not a power loss) loses nothing the kernel has: no disk needed
  } else {
    base = ::testing::TempDir();
  }
  std::string templ = base + "/locus_crash_XXXXXX";
  if (::mkdtemp(templ.data()) == nullptr) return "";
  return templ;
}

TEST(DbCrashTest, KillNineLoopRecoversAPrefixWithEveryAcknowledgedWrite) {
  const uint64_t seed = TestSeed();
  const uint64_t trials = EnvCount("LOCUS_CRASH_TRIALS", 200);
  const uint32_t threads =
      static_cast<uint32_t>(std::max<uint64_t>(1, EnvCount("LOCUS_CRASH_THREADS", 2)));
  const std::string dir = MakeDir();
  ASSERT_FALSE(dir.empty()) << "mkdtemp: " << std::strerror(errno);
  SCOPED_TRACE(SeedTrace(seed) + ", directory " + dir + " (kept on failure)");

  int forced_policy = -1;
  if (const char* env = std::getenv("LOCUS_CRASH_POLICY"); env && *env) {
    const std::string p = env;
    forced_policy = p == "always" ? 0 : p == "every_second" ? 1 : p == "never" ? 2 : -2;
    ASSERT_NE(forced_policy, -2) << "LOCUS_CRASH_POLICY=" << p
                                 << ": expected always, every_second or never";
  }
  Oracle oracle(seed, threads);
  std::vector<uint64_t> starts(threads, 0);
  crash_test::Rng rng(seed ^ 0xC2A5'4B111ull);
  DbOptions parent;  // recovery only: no background work that would change the directory
  parent.sweep_interval_ms = 0;
  parent.background_recluster = false;
  parent.durability.checkpoint_min_log_bytes = 0;
  struct {
    uint64_t by_policy[3] = {0, 0, 0};
    uint64_t before_ready = 0, torn = 0, from_checkpoint = 0, lost_unacknowledged = 0;
    uint64_t max_segments = 0;
    double child_ms = 0, check_ms = 0;
  } summary;
  const auto t_start = SteadyClock::now();
  for (uint64_t trial = 0; trial < trials; ++trial) {
    const uint64_t p = rng.Below(100);
    const int policy = forced_policy >= 0 ? forced_policy : p < 70 ? 0 : p < 85 ? 1 : 2;
    const char* policy_name = policy == 0 ? "always" : policy == 1 ? "every_second" : "never";
    // One trial in ten measures from the spawn (the kill may land in the child's recovery);
    // the others let the child write for 1 to 60 ms.
    const bool from_spawn = rng.Below(10) == 0;
    const uint64_t delay_us = from_spawn ? rng.Below(40000) : 1000 + rng.Below(59000);
    SCOPED_TRACE("trial " + std::to_string(trial) + " (policy " + policy_name + ", kill " +
                 std::to_string(delay_us) + " us after " + (from_spawn ? "spawn" : "ready") + ")");
    std::string start_list;
    for (uint64_t s : starts) {
      if (!start_list.empty()) start_list += ',';
      start_list += std::to_string(s);
    }
    const ChildRun run = RunChild(dir, seed, policy_name, start_list, from_spawn, delay_us);
    ASSERT_TRUE(run.error.empty()) << run.error;
    ++summary.by_policy[policy];
    summary.before_ready += !run.ready;
    summary.child_ms += run.ran_ms;

    const auto t_check = SteadyClock::now();
    auto opened = Db::Open(dir, parent);
    ASSERT_TRUE(opened.ok()) << "Db::Open after the kill: " << opened.status().ToString();
    std::unique_ptr<Db> db = std::move(opened).value();
    const RecoveryReport& report = db->recovery();
    EXPECT_FALSE(report.repaired) << report.ToString();
    if (report.torn_tail) {
      ++summary.torn;
      EXPECT_FALSE(report.torn_file.empty()) << report.ToString();
      // Nothing cut only when the last segment was empty: a roll killed before it wrote the
      // new segment's header.
      if (report.torn_offset != 0) {
        EXPECT_GT(report.torn_bytes, 0u) << report.ToString();
      }
    }
    summary.from_checkpoint += !report.checkpoint.empty();
    summary.max_segments = std::max(summary.max_segments, report.segments);
    for (uint32_t t = 0; t < threads; ++t) {
      Bounds b;
      b.lower = starts[t];
      if (run.durable[t]) b.lower = std::max(b.lower, *run.durable[t] + 1);
      b.upper = run.done[t] ? *run.done[t] + 2 : starts[t] + 1;
      uint64_t n = 0;
      const std::string why = CheckThread(*db, oracle, t, b, &n);
      ASSERT_TRUE(why.empty()) << why << "recovery: " << report.ToString()
                               << "\nthe child ran as: " LOCUS_CRASH_CHILD " " << dir << " " << seed
                               << " " << policy_name << " " << start_list;
      if (run.done[t] && n < *run.done[t] + 1) ++summary.lost_unacknowledged;
      starts[t] = n;
    }
    const Status closed = db->Close();
    ASSERT_TRUE(closed.ok()) << closed.ToString();
    summary.check_ms +=
        std::chrono::duration<double, std::milli>(SteadyClock::now() - t_check).count();
  }
  const double total_s = std::chrono::duration<double>(SteadyClock::now() - t_start).count();
  uint64_t ops = 0;
  for (uint64_t s : starts) ops += s;
  std::printf(
      "[ crash    ] %llu trials (always %llu, every_second %llu, never %llu) in %.1f s "
      "(children %.1f s, recovery and checks %.1f s); %llu threads recovered %llu operations "
      "in all; %llu kills before the child was ready, %llu torn tails, %llu recoveries from a "
      "checkpoint, up to %llu segments replayed; %llu times a thread lost reported-done "
      "(unsynced) operations\n",
      static_cast<unsigned long long>(trials),
      static_cast<unsigned long long>(summary.by_policy[0]),
      static_cast<unsigned long long>(summary.by_policy[1]),
      static_cast<unsigned long long>(summary.by_policy[2]), total_s, summary.child_ms / 1e3,
      summary.check_ms / 1e3, static_cast<unsigned long long>(threads),
      static_cast<unsigned long long>(ops), static_cast<unsigned long long>(summary.before_ready),
      static_cast<unsigned long long>(summary.torn),
      static_cast<unsigned long long>(summary.from_checkpoint),
      static_cast<unsigned long long>(summary.max_segments),
      static_cast<unsigned long long>(summary.lost_unacknowledged));
  // The loop must have reached what it claims to test: checkpoints taken while writing.
  if (trials >= 50) {
    EXPECT_GT(summary.from_checkpoint, 0u) << "no recovery started from a checkpoint";
  }
  if (!HasFailure()) std::filesystem::remove_all(dir);
}

// ---- a checkpoint while writes go on, then a power loss ----

// A checkpoint copies namespaces one at a time while writes go on, so its copy of a later
// namespace can hold writes that follow writes to an earlier namespace that its copy missed;
// only replaying the log segment it starts over it restores a consistent state. Under
// kNever and kEverySecond that segment's records may still be buffered when the checkpoint
// is published: the checkpoint must make them durable first. (The kill -9 loop found this;
// this test shows it directly.) A writer alternates "a" then "z" (object "x", timestamp j)
// while a checkpoint copies "a", a large "m" (the copy takes a while) and "z" (in name
// order); a power loss follows. In the recovered state z's timestamp must not exceed a's.
TEST(DbCrashTest, CheckpointDuringWritesThenPowerLossKeepsAPrefix) {
  for (SyncPolicy policy : {SyncPolicy::kNever, SyncPolicy::kEverySecond}) {
    SCOPED_TRACE(policy == SyncPolicy::kNever ? "kNever" : "kEverySecond");
    const std::string dir = MakeDir();
    ASSERT_FALSE(dir.empty());
    auto fi = std::make_shared<FaultInjectingFileSystem>(storage::DefaultFileSystem());
    DbOptions o;
    o.sweep_interval_ms = 0;
    o.background_recluster = false;
    o.durability.sync = policy;
    o.durability.sync_interval_ms = 3'600'000;  // nothing leaves the buffer by itself
    o.durability.checkpoint_min_log_bytes = 0;
    db_internal::TestSeams seams;
    seams.file_system = fi;
    auto db = std::move(db_internal::DbFactory::Open(dir, o, seams)).value();
    Batch big;
    for (int i = 0; i < 50'000; ++i) {
      Object x;
      x.id = std::to_string(i);
      x.pos = {static_cast<double>(i % 360) - 180, static_cast<double>(i % 180) - 90, 0};
      big.Upsert("m", std::move(x));
    }
    ASSERT_TRUE(db->Apply(big).ok());
    Object x;
    x.id = "x";
    ASSERT_TRUE(db->Upsert("a", x).ok());
    ASSERT_TRUE(db->Upsert("z", x).ok());
    ASSERT_TRUE(db->Sync().ok());
    std::atomic<bool> stop{false};
    std::thread writer([&] {
      Object w;
      w.id = "x";
      for (int64_t j = 1; !stop.load(); ++j) {
        w.timestamp = j;
        if (!db->Upsert("a", w).ok() || !db->Upsert("z", w).ok()) break;
      }
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    const Status checkpoint = db->Checkpoint();
    stop = true;
    writer.join();
    ASSERT_TRUE(checkpoint.ok()) << checkpoint.ToString();
    fi->PowerLoss();
    db->Close().IgnoreError();  // its files are dead
    db.reset();

    auto reopened = Db::Open(dir, o);
    ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
    auto a = (*reopened)->Get("a", "x");
    auto b = (*reopened)->Get("z", "x");
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_LE(b->timestamp, a->timestamp)
        << "z has the write of step " << b->timestamp << " but a only that of step " << a->timestamp
        << " (written before it): not a prefix of the log; recovery: "
        << (*reopened)->recovery().ToString();
    EXPECT_FALSE((*reopened)->recovery().checkpoint.empty());
    ASSERT_TRUE((*reopened)->Close().ok());
    std::filesystem::remove_all(dir);
  }
}

// ---- the checker ----

// A Db that ran thread 0's first n operations (what a recovery would give).
std::unique_ptr<Db> StateAfter(uint64_t seed, uint64_t n) {
  DbOptions opts;
  opts.sweep_interval_ms = 0;
  opts.background_recluster = false;
  auto db = std::move(Db::OpenInMemory(opts)).value();
  for (uint64_t k = 0; k < n; ++k) {
    bool durable;
    EXPECT_TRUE(crash_test::RunOp(*db, MakeOp(seed, 0, k), &durable).ok());
  }
  return db;
}

TEST(DbCrashTest, CheckerAcceptsEveryPrefix) {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE(SeedTrace(seed));
  Oracle oracle(seed, 1);
  DbOptions opts;
  opts.sweep_interval_ms = 0;
  opts.background_recluster = false;
  auto state = std::move(Db::OpenInMemory(opts)).value();
  uint64_t applied = 0;
  // Every count at the start (the two creations and the first operations), then a sample.
  for (uint64_t n = 0; n < 600; n += n < 40 ? 1 : 1 + n % 13) {
    for (; applied < n; ++applied) {
      bool durable;
      ASSERT_TRUE(crash_test::RunOp(*state, MakeOp(seed, 0, applied), &durable).ok());
    }
    uint64_t found = 0;
    const std::string why = CheckThread(*state, oracle, 0, {.lower = n, .upper = n}, &found);
    ASSERT_TRUE(why.empty()) << "n = " << n << ": " << why;
    EXPECT_EQ(found, n);
  }
}

TEST(DbCrashTest, CheckerRejectsAStateMissingAnAcknowledgedOperation) {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE(SeedTrace(seed));
  auto state = StateAfter(seed, 300);
  Oracle oracle(seed, 1);
  uint64_t n = 0;
  // Operation 300 was acknowledged: a state after 300 operations lacks it.
  const std::string why = CheckThread(*state, oracle, 0, {.lower = 301, .upper = 302}, &n);
  EXPECT_NE(why.find("would lose an acknowledged operation"), std::string::npos) << why;
}

TEST(DbCrashTest, CheckerRejectsAStateThatIsNoPrefix) {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE(SeedTrace(seed));
  auto state = StateAfter(seed, 300);
  // One visible object changed in one byte of its metadata, keeping its timestamp.
  bool changed = false;
  for (uint32_t j = 0; j < crash_test::kPoolIds && !changed; ++j) {
    auto o = state->Get("t0.planar", crash_test::PoolId(j));
    if (!o.ok()) continue;
    o->metadata += "x";
    o->ttl_ms.reset();
    ASSERT_TRUE(state->Upsert("t0.planar", *o).ok());
    changed = true;
  }
  ASSERT_TRUE(changed);
  Oracle oracle(seed, 1);
  uint64_t n = 0;
  const std::string why = CheckThread(*state, oracle, 0, {}, &n);
  EXPECT_NE(why.find("metadata bytes"), std::string::npos) << why;
  // An object that no operation wrote.
  auto other = StateAfter(seed, 300);
  Object stranger;
  stranger.id = "stranger";
  stranger.timestamp = 1;
  ASSERT_TRUE(other->Upsert("t0.geo", stranger).ok());
  Oracle oracle2(seed, 1);
  const std::string why2 = CheckThread(*other, oracle2, 0, {}, &n);
  EXPECT_NE(why2.find("Stats counts"), std::string::npos) << why2;
}

}  // namespace
}  // namespace locus
