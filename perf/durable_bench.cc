// W5 (PERF.md): durable writes. locus::Db::Open on a real directory, upserts of moving
// objects under each sync policy, and the restart of a 1M-object database (checkpoint + log
// tail). The Redis peer (AOF, driven by redis-benchmark) is an external server: perf/run
// starts it and runs it beside these rows; the fdatasync loop below is the machine's limit
// for one writer under sync = always, measured in the same run.
//
// Directories: every run works in a fresh directory under $LOCUS_W5_DIR (default /var/tmp;
// it must be on the disk being measured, not tmpfs) and removes it afterwards.
//
// Data: a pool of 1M ids ("vehicle-N", as W4) over lon [0, 1] x lat [50, 51]; a precomputed
// stream of moves of up to 5 m per axis. Each upsert run starts from an empty database (as
// the Redis peer starts from an empty AOF), so the first write of an id creates it and later
// ones move it. Timestamps come from one atomic counter, so a write is stale only when two
// threads race on one id (counted in the `stale` counter).
// Rows (perf/run parses the names):
//   W5/Upsert/<always|every_second|never|in_memory>/<pool>/real_time/threads:<T>
//       T threads upsert into one geographic namespace; items/s is the total over threads.
//       in_memory: the same stream into Db::OpenInMemory (no log), the durable rows' ceiling.
//       Counters: ops_per_sync (DurabilityStats: records / syncs), checkpoints (automatic,
//       by the default thresholds), stale.
//   W5/UpsertBatched/<every_second|in_memory>/<pool>/<batch>/real_time  one thread, the
//       stream in Db::Apply batches (building a batch is not timed); items/s.
//   W5/Restart/locus/<n>   n objects (one checkpoint) + n/10 logged upserts, closed; the
//       row's time is Db::Open on a copy of that directory (manual time, ms). Counters: the
//       RecoveryReport (replay records/s, checkpoint and replay seconds, records).
//   W5/FdatasyncLoop/posix/<bytes>  append `bytes` + fdatasync on the benchmark's disk;
//       items/s, and the median and p99 latency per sync (us).
// Threads: the upsert rows share one Db per run, opened by thread 0 before the timed loop
// (Google Benchmark's start barrier orders it before the other threads' loops) and closed by
// thread 0 after it (the stop barrier orders that after every thread's loop).
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "locus/db.h"

// Objects are built with designated initializers naming only the fields they need.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace locus::perf {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kPool = 1'000'000;
constexpr size_t kStream = 1 << 20;  // precomputed moves, cycled
constexpr double kStep = 0.00005;    // degrees: ~5.6 m of latitude, ~3.5 m of longitude
constexpr char kNs[] = "w5";

// A fresh, empty directory under $LOCUS_W5_DIR; removed by the destructor.
class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("LOCUS_W5_DIR");
    std::string pattern = std::string(base && *base ? base : "/var/tmp") + "/locus-w5-XXXXXX";
    LOCUS_CHECK_MSG(mkdtemp(pattern.data()) != nullptr, "mkdtemp under $LOCUS_W5_DIR failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct W5Data {
  std::vector<std::string> ids;
  std::vector<uint32_t> who;    // the stream: which object moves
  std::vector<Position> where;  // and where to

  W5Data() {
    std::mt19937_64 rng(0x5D0AB1E);
    std::uniform_real_distribution<double> u(0, 1), step(-kStep, kStep);
    ids.resize(kPool);
    std::vector<Position> now(kPool);
    for (size_t i = 0; i < ids.size(); ++i) {
      ids[i] = "vehicle-" + std::to_string(i);
      now[i] = {u(rng), 50 + u(rng), 0};
    }
    who.resize(kStream);
    where.resize(kStream);
    for (size_t k = 0; k < kStream; ++k) {
      const uint32_t i = static_cast<uint32_t>(rng() % kPool);
      now[i].x = std::clamp(now[i].x + step(rng), 0.0, 1.0);
      now[i].y = std::clamp(now[i].y + step(rng), 50.0, 51.0);
      who[k] = i;
      where[k] = now[i];
    }
  }
};

const W5Data& Data() {
  static const W5Data* d = new W5Data;
  return *d;
}

std::atomic<int64_t> g_timestamp{1};

DbOptions DurableOptions(SyncPolicy sync) {
  DbOptions o;
  o.sweep_interval_ms = 0;
  o.durability.sync = sync;
  return o;
}

// The Db the threads of one upsert run share (see the file comment for the ordering).
struct UpsertRun {
  std::unique_ptr<TempDir> dir;
  std::unique_ptr<Db> db;
};
UpsertRun g_run;

// `sync`: the policy of a Db::Open database; nullopt: Db::OpenInMemory (no log), the
// ceiling the durable rows are compared with.
void Upserts(benchmark::State& state, std::optional<SyncPolicy> sync) {
  const W5Data& d = Data();
  // Operations per iteration and thread: one sync's worth under always (a few hundred us),
  // a block under the others.
  const size_t block = sync == SyncPolicy::kAlways ? 8 : 10'000;
  if (state.thread_index() == 0) {
    g_run.dir = std::make_unique<TempDir>();
    auto db = sync ? Db::Open(g_run.dir->path(), DurableOptions(*sync))
                   : Db::OpenInMemory(DurableOptions(SyncPolicy::kNever));
    if (!db.ok()) {
      state.SkipWithError(db.status().ToString().c_str());
    } else {
      g_run.db = std::move(db).value();
      LOCUS_CHECK(g_run.db->CreateNamespace(kNs, {CoordinateSystem::kGeographic}).ok());
    }
  }
  // Each thread starts at its own place in the stream.
  size_t cursor = (static_cast<size_t>(state.thread_index()) * 7919 * 131) % kStream;
  int64_t stale = 0;
  for (auto _ : state) {
    if (!g_run.db) [[unlikely]] {  // thread 0 could not open it
      state.SkipWithError("Db::Open failed");
      break;
    }
    Db& db = *g_run.db;
    for (size_t k = 0; k < block; ++k, cursor = (cursor + 1) % kStream) {
      const uint32_t i = d.who[cursor];
      auto r = db.Upsert(kNs, {.id = d.ids[i],
                               .pos = d.where[cursor],
                               .timestamp = g_timestamp.fetch_add(1, std::memory_order_relaxed)});
      if (!r.ok()) [[unlikely]] {
        state.SkipWithError(r.status().ToString().c_str());
        break;
      }
      stale += *r == WriteOutcome::kStale;
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * block));
  state.counters["stale"] = static_cast<double>(stale);
  if (state.thread_index() == 0 && g_run.db) {
    // Writes still unsynced under every_second and never are synced by Close, after the
    // timed loop (as the Redis peer's run ends before its next background fsync).
    const DurabilityStats s = g_run.db->durability_stats();
    state.counters["ops_per_sync"] =
        s.syncs ? static_cast<double>(s.records) / static_cast<double>(s.syncs) : 0;
    state.counters["checkpoints"] = static_cast<double>(s.checkpoints);
    const Status closed = g_run.db->Close();
    if (!closed.ok()) state.SkipWithError(closed.ToString().c_str());
    g_run.db.reset();
    g_run.dir.reset();
  }
}

// The same stream in Db::Apply batches of `state.range(1)` upserts (a writer that sends its
// position reports in batches, as the README advises); one batch is one log record.
void BatchedUpserts(benchmark::State& state, std::optional<SyncPolicy> sync) {
  const W5Data& d = Data();
  const size_t batch_size = static_cast<size_t>(state.range(1));
  TempDir dir;
  auto opened = sync ? Db::Open(dir.path(), DurableOptions(*sync))
                     : Db::OpenInMemory(DurableOptions(SyncPolicy::kNever));
  if (!opened.ok()) {
    state.SkipWithError(opened.status().ToString().c_str());
    return;
  }
  std::unique_ptr<Db> db = std::move(opened).value();
  LOCUS_CHECK(db->CreateNamespace(kNs, {CoordinateSystem::kGeographic}).ok());
  size_t cursor = 0;
  int64_t stale = 0;
  Batch batch;
  for (auto _ : state) {
    state.PauseTiming();  // building the batch is the caller's work
    batch = Batch();
    for (size_t k = 0; k < batch_size; ++k, cursor = (cursor + 1) % kStream) {
      batch.Upsert(kNs, {.id = d.ids[d.who[cursor]],
                         .pos = d.where[cursor],
                         .timestamp = g_timestamp.fetch_add(1, std::memory_order_relaxed)});
    }
    state.ResumeTiming();
    auto r = db->Apply(batch);
    if (!r.ok()) [[unlikely]] {
      state.SkipWithError(r.status().ToString().c_str());
      break;
    }
    for (WriteOutcome w : *r) stale += w == WriteOutcome::kStale;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * batch_size));
  state.counters["stale"] = static_cast<double>(stale);
  state.counters["checkpoints"] = static_cast<double>(db->durability_stats().checkpoints);
  const Status closed = db->Close();
  if (!closed.ok()) state.SkipWithError(closed.ToString().c_str());
}

// A closed database directory of n objects in one checkpoint plus n/10 logged upserts
// (moves), built once per n and copied for every timed Open.
class RestartTemplate {
 public:
  explicit RestartTemplate(size_t n) : tail_(n / 10) {
    const W5Data& d = Data();
    DbOptions o = DurableOptions(SyncPolicy::kNever);
    o.durability.checkpoint_min_log_bytes = 0;  // only the explicit checkpoint below
    auto db = std::move(Db::Open(dir_.path(), o)).value();
    LOCUS_CHECK(db->CreateNamespace(kNs, {CoordinateSystem::kGeographic}).ok());
    std::mt19937_64 rng(0x5E57A87);
    std::uniform_real_distribution<double> u(0, 1);
    std::vector<Position> now(n);
    for (size_t i = 0; i < n; i += 1000) {
      Batch b;
      for (size_t j = i; j < std::min(n, i + 1000); ++j) {
        now[j] = {u(rng), 50 + u(rng), 0};
        b.Upsert(kNs, {.id = d.ids[j], .pos = now[j], .timestamp = 1});
      }
      LOCUS_CHECK(db->Apply(b).ok());
    }
    LOCUS_CHECK(db->Checkpoint().ok());
    std::uniform_real_distribution<double> step(-kStep, kStep);
    for (size_t k = 0; k < tail_; ++k) {
      const size_t i = rng() % n;
      now[i] = {std::clamp(now[i].x + step(rng), 0.0, 1.0),
                std::clamp(now[i].y + step(rng), 50.0, 51.0), 0};
      LOCUS_CHECK(
          db->Upsert(kNs, {.id = d.ids[i], .pos = now[i], .timestamp = 2 + static_cast<int64_t>(k)})
              .ok());
    }
    LOCUS_CHECK(db->Close().ok());
  }
  const std::string& path() const { return dir_.path(); }
  size_t tail() const { return tail_; }

 private:
  TempDir dir_;
  size_t tail_;
};

const RestartTemplate& Template(size_t n) {
  // Kept until exit: the TempDir destructors remove the directories then.
  static std::map<size_t, std::unique_ptr<RestartTemplate>> cache;
  auto& t = cache[n];
  if (!t) t = std::make_unique<RestartTemplate>(n);
  return *t;
}

// Db::Open of the template's copy: checkpoint load + log replay. The copy is written back to
// disk first (syncfs), so the timed Open reads warm page-cache files with no writeback
// competing; the cold-cache case is not measured (see W5.notes.md).
void Restart(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  const RestartTemplate& tmpl = Template(n);
  RecoveryReport sum;
  for (auto _ : state) {
    TempDir dir;
    fs::copy(tmpl.path(), dir.path(), fs::copy_options::recursive);
    const int fd = open(dir.path().c_str(), O_RDONLY | O_DIRECTORY);
    LOCUS_CHECK(fd >= 0 && syncfs(fd) == 0);
    close(fd);
    DbOptions o = DurableOptions(SyncPolicy::kAlways);
    o.durability.checkpoint_min_log_bytes = 0;
    const auto start = std::chrono::steady_clock::now();
    auto db = Db::Open(dir.path(), o);
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    if (!db.ok()) {
      state.SkipWithError(db.status().ToString().c_str());
      break;
    }
    state.SetIterationTime(took.count());
    const RecoveryReport& r = (*db)->recovery();
    LOCUS_CHECK_MSG(r.checkpoint_objects == n && r.records >= tmpl.tail(), r.ToString().c_str());
    sum.checkpoint_seconds += r.checkpoint_seconds;
    sum.replay_seconds += r.replay_seconds;
    sum.records_per_second += r.records_per_second;
    sum.records += r.records;
    sum.log_bytes += r.log_bytes;
    LOCUS_CHECK((*db)->Close().ok());
  }
  const double iters = static_cast<double>(std::max<int64_t>(1, state.iterations()));
  state.counters["replay_records_per_s"] = sum.records_per_second / iters;
  state.counters["checkpoint_ms"] = sum.checkpoint_seconds * 1000 / iters;
  state.counters["replay_ms"] = sum.replay_seconds * 1000 / iters;
  state.counters["records"] = static_cast<double>(sum.records) / iters;
  state.counters["log_bytes"] = static_cast<double>(sum.log_bytes) / iters;
}

// The disk's sync latency: append `bytes` to a file and fdatasync, as a log of one writer
// under sync = always must at least do.
void FdatasyncLoop(benchmark::State& state) {
  const size_t bytes = static_cast<size_t>(state.range(0));
  TempDir dir;
  const std::string path = dir.path() + "/sync_probe";
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  LOCUS_CHECK_MSG(fd >= 0, path.c_str());
  const std::string record(bytes, 'x');
  std::vector<double> us;
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    if (write(fd, record.data(), bytes) != static_cast<ssize_t>(bytes) || fdatasync(fd) != 0) {
      state.SkipWithError("write or fdatasync failed");
      break;
    }
    us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start)
                     .count());
  }
  close(fd);
  state.SetItemsProcessed(state.iterations());
  if (!us.empty()) {
    std::sort(us.begin(), us.end());
    state.counters["median_us"] = us[us.size() / 2];
    state.counters["p99_us"] = us[us.size() * 99 / 100];
  }
}

BENCHMARK_CAPTURE(Upserts, always, SyncPolicy::kAlways)
    ->Name("W5/Upsert/always")
    ->Arg(kPool)
    ->UseRealTime()
    ->Threads(1)
    ->Threads(50);
BENCHMARK_CAPTURE(Upserts, every_second, SyncPolicy::kEverySecond)
    ->Name("W5/Upsert/every_second")
    ->Arg(kPool)
    ->UseRealTime()
    ->Threads(1);
BENCHMARK_CAPTURE(Upserts, never, SyncPolicy::kNever)
    ->Name("W5/Upsert/never")
    ->Arg(kPool)
    ->UseRealTime()
    ->Threads(1);
BENCHMARK_CAPTURE(Upserts, in_memory, std::nullopt)
    ->Name("W5/Upsert/in_memory")
    ->Arg(kPool)
    ->UseRealTime()
    ->Threads(1);
BENCHMARK_CAPTURE(BatchedUpserts, every_second, SyncPolicy::kEverySecond)
    ->Name("W5/UpsertBatched/every_second")
    ->Args({kPool, 1000})
    ->UseRealTime();
BENCHMARK_CAPTURE(BatchedUpserts, in_memory, std::nullopt)
    ->Name("W5/UpsertBatched/in_memory")
    ->Args({kPool, 1000})
    ->UseRealTime();
BENCHMARK(Restart)
    ->Name("W5/Restart/locus")
    ->Arg(100'000)
    ->Arg(1'000'000)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3);
BENCHMARK(FdatasyncLoop)
    ->Name("W5/FdatasyncLoop/posix")
    ->Arg(64)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace locus::perf
