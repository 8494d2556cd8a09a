// W8 (PERF.md, issue 14): history and trajectories, locus against PostGIS 3.3 on PostgreSQL 15
// (Debian). Both sides load the same samples and answer the same queries (perf/history_data.h):
//   locus    an in-memory locus::Db with one geographic history namespace, loaded and
//            queried as perf/history_locus.h describes, its answers checked against the
//            references (and, where locus answers on the path between samples, against an
//            oracle of its own contract) before any row is timed: a mismatch aborts.
//   postgis  started by the benchmark in a temporary cluster on loopback
//            (tests/testing/postgres_server.h, with its tuned settings), loaded and queried as
//            perf/history_postgis.h describes (schema, indexes, SQL); built with the peers
//            only (-DLOCUS_BUILD_PEERS=ON).
//
// Rows (perf/run parses "W8/<Row>/<impl>/<objects>/<samples_per_object>"), each registered for
// the real size (10,000 objects x 1,000 samples) and the --quick size (500 x 200):
//   Ingest              locus: one InsertTrajectory per object with its samples, into a fresh
//                       database. postgis: binary COPY of every sample + both indexes +
//                       ANALYZE (W8Postgis::Load). items/s = samples/s. One load per run
//                       (Iterations(1), Repetitions(1)): minutes at 10M for the peer.
//                       Counters: locus memory_bytes_per_sample and history_bytes_per_sample
//                       (NamespaceStats), rss_bytes_per_sample and heap_bytes_per_sample (the
//                       process's resident set and malloc's bytes in use, growth over the
//                       load, after the previous database was freed and malloc_trim'd);
//                       postgis disk_bytes_per_sample (table + indexes).
//   Trajectory1h        one object's samples over 1 h, ordered by t
//   PassedThrough500m1h the objects in a 500 m box during 1 h, with their first time there
//                       (postgis: samples only, which favours the peer; locus: the path
//                       between samples too)
//   SliceAtRegion       every object's position at t (interpolated) inside a 2 km region
//   Encounters50m10min  the pairs within 50 m at the same time in 10 min (postgis: samples
//                       less than 10 s apart, ~600,000 GiST probes at 10M,
//                       perf/history_postgis.h; locus: Db::Encounters on the interpolated
//                       paths, run in parallel on every core): one query per run
//                       (Iterations(1), Repetitions(1)), the same query on both sides
//   Restart             locus only: the loaded samples in a durable database (sync policy
//                       never), closed; the row's time is Db::Open of it (manual time). Skipped
//                       with "n/a: ..." while durable databases refuse history namespaces.
// A query row's time is per query (real time; one execution per iteration: a Db call whose
// answer is materialised, or a prepared statement whose rows are read in place, not parsed);
// each iteration takes the next of 1000 seeded queries, so repetitions differ and are
// reproducible, and both sides run the same sequence. Counter hits_per_query: rows returned.
// Data, COPY encoding, the load (unless it is the Ingest row's), pg_prewarm of the table and
// indexes, the checks and a few warm-up executions of each query happen outside the timed
// loops, once per size per process and again after the Ingest row's load.
//
// Environment: $LOCUS_W8_DIR, the directory for the temporary cluster and the Restart row's
// database (default $TMPDIR or /tmp for the cluster, /var/tmp for the database; under root it
// must be reachable by user postgres); LOCUS_W8_EXPLAIN=1 prints each PostGIS query row's
// EXPLAIN (ANALYZE, BUFFERS) of its first query to stderr once.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <malloc.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "locus/check.h"
#include "perf/bench_util.h"
#include "perf/history_data.h"
#include "perf/history_locus.h"

#ifdef LOCUS_WITH_PEERS
#include "perf/history_postgis.h"
#endif

namespace locus::perf {
namespace {

constexpr size_t kQueries = 1000;  // seeded queries per row, cycled
constexpr int kWarm = 6;           // untimed executions of each query row after a load

void Sizes(benchmark::internal::Benchmark* b) {
  for (const W8Size& s : {kW8Real, kW8Quick}) {
    b->Args({static_cast<int64_t>(s.objects), static_cast<int64_t>(s.samples_per_object)});
  }
}

W8Size SizeOf(const benchmark::State& st) {
  return {static_cast<size_t>(st.range(0)), static_cast<size_t>(st.range(1))};
}

#ifdef LOCUS_WITH_PEERS

// Everything one size needs, built on first use and kept for the process's lifetime (the
// server stops and its directory goes when the process exits normally).
struct PostgisSide {
  W8Size size;
  std::vector<HistorySample> data;
  std::string copy;  // the binary COPY stream
  W8Queries queries;
  std::vector<std::vector<std::string>> params[4];  // per W8Row, per query
  size_t cursor[4] = {0, 0, 0, 0};
  std::unique_ptr<W8Postgis> pg;
  std::string label;  // "PostGIS <v> / PostgreSQL <v>"
  std::string error;  // why the peer cannot run, if it cannot
  bool loaded = false, prepared = false, explained = false;

  explicit PostgisSide(W8Size s) : size(s) {
    data = GenerateW8(size.objects, size.samples_per_object, kW8Seed);
    copy = W8Postgis::EncodeCopy(data);
    queries =
        GenerateW8Queries(data, size.objects, size.samples_per_object, kQueries, kW8QuerySeed);
    for (const auto& q : queries.trajectory) params[0].push_back(W8Postgis::Params(q));
    for (const auto& q : queries.passed_through) params[1].push_back(W8Postgis::Params(q));
    for (const auto& q : queries.slice) params[2].push_back(W8Postgis::Params(q));
    for (const auto& q : queries.encounters) params[3].push_back(W8Postgis::Params(q));
    testing::PostgresOptions options;
    if (const char* dir = std::getenv("LOCUS_W8_DIR"); dir && *dir) options.parent_dir = dir;
    auto started = W8Postgis::Start(options);
    if (!started.ok()) {
      error = "PostGIS peer: " + started.status().ToString();
      return;
    }
    pg = std::move(started).value();
    auto v = pg->Exec(
        "SELECT postgis_lib_version(), "
        "split_part(current_setting('server_version'), ' ', 1)");
    if (v.ok()) label = "PostGIS " + (*v)[0][0] + " / PostgreSQL " + (*v)[0][1];
  }

  // Loads the table (untimed) unless a load happened already, then Settle().
  bool EnsureReady() {
    if (!error.empty()) return false;
    if (loaded) return true;
    auto copied = pg->Load(copy);
    if (!copied.ok()) {
      error = "PostGIS load: " + copied.status().ToString();
      return false;
    }
    return Settle();
  }

  // After any load: the table and indexes into the buffer cache, the statements prepared
  // (once per connection; PostgreSQL re-plans them against a reloaded table) and each run
  // a few times untimed, past PostgreSQL's first five executions of a prepared statement,
  // which are planned for their parameters (it may then switch to a generic plan).
  bool Settle() {
    loaded = true;
    Status s = pg->Prewarm();
    if (s.ok() && !prepared) s = pg->Prepare();
    if (!s.ok()) {
      error = "PostGIS prewarm/prepare: " + s.ToString();
      return false;
    }
    prepared = true;
    for (int row = 0; row < 4; ++row) {
      // Encounters: seconds to minutes each, and Iterations(1): every measured run is planned
      // for its parameters, no warm-up needed for a steady plan.
      const int warm = row == 3 ? 0 : kWarm;
      for (int i = 0; i < warm; ++i) {
        auto r = pg->Run(W8Row(row), params[row][kQueries - 1 - i]);
        if (!r.ok()) {
          error = "PostGIS warm-up: " + r.status().ToString();
          return false;
        }
      }
    }
    if (const char* e = std::getenv("LOCUS_W8_EXPLAIN"); e && std::string(e) == "1" && !explained) {
      explained = true;
      Explain();
    }
    return true;
  }

  void Explain() {
    static const char* kNames[] = {"w8_trajectory", "w8_passed_through", "w8_slice",
                                   "w8_encounters"};
    for (int row = 0; row < 4; ++row) {
      std::string sql = std::string("EXPLAIN (ANALYZE, BUFFERS) EXECUTE ") + kNames[row] + "(";
      for (size_t i = 0; i < params[row][0].size(); ++i) {
        sql += (i ? ", '" : "'") + params[row][0][i] + "'";
      }
      auto plan = pg->Exec(sql + ")");
      std::fprintf(stderr, "W8 %s (%zu x %zu):\n", kNames[row], size.objects,
                   size.samples_per_object);
      if (!plan.ok()) std::fprintf(stderr, "  %s\n", plan.status().ToString().c_str());
      for (const auto& line : plan.ok() ? *plan : testing::PgRows{}) {
        std::fprintf(stderr, "  %s\n", line[0].c_str());
      }
    }
  }
};

PostgisSide& Side(const benchmark::State& st) {
  static std::map<std::pair<size_t, size_t>, std::unique_ptr<PostgisSide>> sides;
  const W8Size size = SizeOf(st);
  auto& side = sides[{size.objects, size.samples_per_object}];
  if (!side) side = std::make_unique<PostgisSide>(size);
  return *side;
}

void PostgisIngest(benchmark::State& st) {
  PostgisSide& s = Side(st);
  if (!s.error.empty()) return st.SkipWithError(s.error.c_str());
  uint64_t copied = 0;
  for (auto _ : st) {
    auto r = s.pg->Load(s.copy);
    if (!r.ok()) {
      s.error = "PostGIS load: " + r.status().ToString();
      return st.SkipWithError(s.error.c_str());
    }
    copied = *r;
  }
  LOCUS_CHECK(copied == s.data.size());
  st.SetItemsProcessed(st.iterations() * static_cast<int64_t>(s.data.size()));
  st.SetLabel(s.label);
  auto bytes = s.pg->Exec("SELECT pg_total_relation_size('samples')");
  if (bytes.ok()) {
    st.counters["disk_bytes_per_sample"] = std::stod((*bytes)[0][0]) / s.data.size();
  }
  if (!s.Settle()) return st.SkipWithError(s.error.c_str());
}

void PostgisQuery(benchmark::State& st, W8Row row) {
  PostgisSide& s = Side(st);
  if (!s.EnsureReady()) return st.SkipWithError(s.error.c_str());
  const auto& params = s.params[static_cast<int>(row)];
  size_t& cursor = s.cursor[static_cast<int>(row)];
  int64_t rows = 0;
  for (auto _ : st) {
    auto r = s.pg->Run(row, params[cursor]);
    cursor = (cursor + 1) % params.size();
    if (!r.ok()) {
      s.error = "PostGIS query: " + r.status().ToString();
      return st.SkipWithError(s.error.c_str());
    }
    rows += r->rows();
  }
  st.SetItemsProcessed(st.iterations());  // queries/s
  st.counters["hits_per_query"] =
      static_cast<double>(rows) / static_cast<double>(std::max<int64_t>(1, st.iterations()));
  st.SetLabel(s.label);
}

BENCHMARK(PostgisIngest)
    ->Name("W8/Ingest/postgis")
    ->Apply(Sizes)
    ->Iterations(1)
    ->Repetitions(1)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(PostgisQuery, trajectory, W8Row::kTrajectory)
    ->Name("W8/Trajectory1h/postgis")
    ->Apply(Sizes)
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(PostgisQuery, passed_through, W8Row::kPassedThrough)
    ->Name("W8/PassedThrough500m1h/postgis")
    ->Apply(Sizes)
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(PostgisQuery, slice, W8Row::kSlice)
    ->Name("W8/SliceAtRegion/postgis")
    ->Apply(Sizes)
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(PostgisQuery, encounters, W8Row::kEncounters)
    ->Name("W8/Encounters50m10min/postgis")
    ->Apply(Sizes)
    ->Iterations(1)
    ->Repetitions(1)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

#endif  // LOCUS_WITH_PEERS

// ---- locus ----

// Everything one size needs on the locus side, built on first use and kept for the process's
// lifetime.
struct LocusSide {
  W8Size size;
  std::vector<HistorySample> data;
  W8Queries queries;
  size_t cursor[4] = {0, 0, 0, 0};
  std::unique_ptr<W8Locus> db;

  explicit LocusSide(W8Size s) : size(s) {
    data = GenerateW8(size.objects, size.samples_per_object, kW8Seed);
    queries =
        GenerateW8Queries(data, size.objects, size.samples_per_object, kQueries, kW8QuerySeed);
  }

  // The hits of query i of `row` (every answer is materialised by the Db call).
  Result<size_t> Run(W8Row row, size_t i) const {
    switch (row) {
      case W8Row::kTrajectory: {
        LOCUS_ASSIGN_OR_RETURN(auto r, db->Trajectory(queries.trajectory[i]));
        return r.samples.size();
      }
      case W8Row::kPassedThrough: {
        LOCUS_ASSIGN_OR_RETURN(auto r, db->PassedThrough(queries.passed_through[i]));
        return r.passages.size();
      }
      case W8Row::kSlice: {
        LOCUS_ASSIGN_OR_RETURN(auto r, db->Slice(queries.slice[i]));
        return r.hits.size();
      }
      case W8Row::kEncounters: {
        LOCUS_ASSIGN_OR_RETURN(auto r, db->Encounters(queries.encounters[i]));
        return r.encounters.size();
      }
    }
    return InternalError("unknown W8Row");
  }

  // Query i of a row with many queries checked against the references
  // (perf/history_locus.h).
  Status Check(W8Row row, size_t i) const {
    switch (row) {
      case W8Row::kTrajectory: {
        LOCUS_ASSIGN_OR_RETURN(auto r, db->Trajectory(queries.trajectory[i]));
        return CheckTrajectory(data, queries.trajectory[i], r);
      }
      case W8Row::kPassedThrough: {
        LOCUS_ASSIGN_OR_RETURN(auto r, db->PassedThrough(queries.passed_through[i]));
        return CheckPassedThrough(data, queries.passed_through[i], r);
      }
      case W8Row::kSlice: {
        LOCUS_ASSIGN_OR_RETURN(auto r, db->Slice(queries.slice[i]));
        return CheckSlice(data, queries.slice[i], r);
      }
      case W8Row::kEncounters:
        break;  // checked on the timed answer (LocusEncounters)
    }
    return InternalError("W8 locus: no set-up check for this row");
  }

  // After a load: the database's sample count, then the first kChecked queries of the
  // trajectory, passed-through and slice rows (those timed first) and their last kWarm (the
  // warm-up, as the peer's) against the references. A wrong answer aborts the process: no
  // number is reported for a database that answers wrongly. (Encounters: minutes per query
  // at 10M, so the row checks the answer it timed instead of running the query twice.)
  void Settle() const {
    static constexpr size_t kChecked = 20;
    auto stats = db->Stats();
    LOCUS_CHECK_MSG(
        stats.ok() && stats->history_samples == data.size(),
        ("W8 locus: history_samples after the load is " +
         (stats.ok() ? std::to_string(stats->history_samples) : stats.status().ToString()) +
         ", expected " + std::to_string(data.size()))
            .c_str());
    for (W8Row row : {W8Row::kTrajectory, W8Row::kPassedThrough, W8Row::kSlice}) {
      for (size_t i = 0; i < kQueries; ++i) {
        if (i == kChecked) i = kQueries - kWarm;
        const Status s = Check(row, i);
        LOCUS_CHECK_MSG(s.ok(), s.ToString().c_str());
      }
    }
  }

  // Loads (untimed) unless loaded, then Settle().
  void EnsureReady() {
    if (db) return;
    auto opened = W8Locus::OpenInMemory();
    LOCUS_CHECK_MSG(opened.ok(), opened.status().ToString().c_str());
    db = std::move(opened).value();
    const Status s = db->Load(data);
    LOCUS_CHECK_MSG(s.ok(), s.ToString().c_str());
    Settle();
  }
};

LocusSide& Locus(const benchmark::State& st) {
  static std::map<std::pair<size_t, size_t>, std::unique_ptr<LocusSide>> sides;
  const W8Size size = SizeOf(st);
  auto& side = sides[{size.objects, size.samples_per_object}];
  if (!side) side = std::make_unique<LocusSide>(size);
  return *side;
}

void LocusIngest(benchmark::State& st) {
  LocusSide& s = Locus(st);
  size_t rss = 0, heap = 0;
  for (auto _ : st) {
    st.PauseTiming();
    s.db.reset();  // a fresh database per load; the old one's memory back to the system
    malloc_trim(0);
    auto opened = W8Locus::OpenInMemory();
    LOCUS_CHECK_MSG(opened.ok(), opened.status().ToString().c_str());
    s.db = std::move(opened).value();
    rss = ResidentBytes(), heap = HeapBytes();
    st.ResumeTiming();
    const Status loaded = s.db->Load(s.data);
    LOCUS_CHECK_MSG(loaded.ok(), loaded.ToString().c_str());
  }
  const size_t rss_after = ResidentBytes(), heap_after = HeapBytes();
  rss = rss_after - std::min(rss, rss_after);
  heap = heap_after - std::min(heap, heap_after);
  const double n = static_cast<double>(s.data.size());
  st.SetItemsProcessed(st.iterations() * static_cast<int64_t>(s.data.size()));
  auto stats = s.db->Stats();
  LOCUS_CHECK_MSG(stats.ok(), stats.status().ToString().c_str());
  st.counters["memory_bytes_per_sample"] = static_cast<double>(stats->memory_bytes) / n;
  st.counters["history_bytes_per_sample"] = static_cast<double>(stats->history_bytes) / n;
  st.counters["history_chunks"] = static_cast<double>(stats->history_chunks);
  st.counters["rss_bytes_per_sample"] = static_cast<double>(rss) / n;
  st.counters["heap_bytes_per_sample"] = static_cast<double>(heap) / n;
  s.Settle();
}

void LocusQuery(benchmark::State& st, W8Row row) {
  LocusSide& s = Locus(st);
  s.EnsureReady();
  size_t& cursor = s.cursor[static_cast<int>(row)];
  int64_t rows = 0;
  for (auto _ : st) {
    auto r = s.Run(row, cursor);
    cursor = (cursor + 1) % kQueries;
    if (!r.ok()) return st.SkipWithError(("locus query: " + r.status().ToString()).c_str());
    rows += static_cast<int64_t>(*r);
  }
  st.SetItemsProcessed(st.iterations());  // queries/s
  st.counters["hits_per_query"] =
      static_cast<double>(rows) / static_cast<double>(std::max<int64_t>(1, st.iterations()));
}

// As LocusQuery, and each answer is checked (untimed) before the row reports.
void LocusEncounters(benchmark::State& st) {
  LocusSide& s = Locus(st);
  s.EnsureReady();
  size_t& cursor = s.cursor[static_cast<int>(W8Row::kEncounters)];
  W8EncounterCounts counts, sum;
  int64_t rows = 0;
  for (auto _ : st) {
    const W8EncounterQuery& q = s.queries.encounters[cursor];
    cursor = (cursor + 1) % kQueries;
    auto r = s.db->Encounters(q);
    if (!r.ok()) return st.SkipWithError(("locus query: " + r.status().ToString()).c_str());
    st.PauseTiming();
    const Status c = CheckEncounters(s.data, q, *r, &counts);
    LOCUS_CHECK_MSG(c.ok(), c.ToString().c_str());
    rows += static_cast<int64_t>(r->encounters.size());
    sum.pairs += counts.pairs;
    sum.sample_pairs += counts.sample_pairs;
    st.ResumeTiming();
  }
  const double n = static_cast<double>(std::max<int64_t>(1, st.iterations()));
  st.SetItemsProcessed(st.iterations());
  st.counters["hits_per_query"] = static_cast<double>(rows) / n;  // encounters (intervals)
  st.counters["pairs_per_query"] = static_cast<double>(sum.pairs) / n;
  st.counters["sample_pairs_per_query"] = static_cast<double>(sum.sample_pairs) / n;
  st.SetLabel("paths interpolated; " + std::to_string(std::thread::hardware_concurrency()) +
              " threads");
}

// A fresh directory under $LOCUS_W8_DIR (default /var/tmp); removed by the destructor.
class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("LOCUS_W8_DIR");
    std::string pattern = std::string(base && *base ? base : "/var/tmp") + "/locus-w8-XXXXXX";
    LOCUS_CHECK_MSG(mkdtemp(pattern.data()) != nullptr, "mkdtemp under $LOCUS_W8_DIR failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

void LocusRestart(benchmark::State& st) {
  LocusSide& s = Locus(st);
  TempDir dir;
  const std::string path = dir.path() + "/db";
  {
    auto opened = W8Locus::OpenDurable(path);
    Status s_load = opened.ok() ? opened.value()->Load(s.data) : opened.status();
    if (opened.ok() && s_load.ok()) s_load = opened.value()->db().Close();
    if (!s_load.ok()) {
      return st.SkipWithError(
          ("n/a: durable history not on this branch (" + s_load.ToString() + ")").c_str());
    }
  }
  uint64_t disk = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(path)) {
    if (e.is_regular_file()) disk += e.file_size();
  }
  const int fd = open(path.c_str(), O_RDONLY | O_DIRECTORY);
  LOCUS_CHECK(fd >= 0 && syncfs(fd) == 0);  // written back: no writeback during the Open
  close(fd);
  RecoveryReport report;
  for (auto _ : st) {
    const auto start = std::chrono::steady_clock::now();
    auto opened = W8Locus::OpenDurable(path);
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    if (!opened.ok()) return st.SkipWithError(opened.status().ToString().c_str());
    st.SetIterationTime(took.count());
    auto stats = opened.value()->Stats();
    LOCUS_CHECK_MSG(stats.ok() && stats->history_samples == s.data.size(),
                    "W8 locus: the reopened database lost samples");
    report = opened.value()->db().recovery();
  }
  st.SetItemsProcessed(st.iterations() * static_cast<int64_t>(s.data.size()));
  st.counters["disk_bytes_per_sample"] = static_cast<double>(disk) / s.data.size();
  st.counters["checkpoint_ms"] = report.checkpoint_seconds * 1000;
  st.counters["replay_ms"] = report.replay_seconds * 1000;
  st.counters["records"] = static_cast<double>(report.records);
}

BENCHMARK(LocusIngest)
    ->Name("W8/Ingest/locus")
    ->Apply(Sizes)
    ->Iterations(1)
    ->Repetitions(1)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(LocusQuery, trajectory, W8Row::kTrajectory)
    ->Name("W8/Trajectory1h/locus")
    ->Apply(Sizes)
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(LocusQuery, passed_through, W8Row::kPassedThrough)
    ->Name("W8/PassedThrough500m1h/locus")
    ->Apply(Sizes)
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(LocusQuery, slice, W8Row::kSlice)
    ->Name("W8/SliceAtRegion/locus")
    ->Apply(Sizes)
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();
BENCHMARK(LocusEncounters)
    ->Name("W8/Encounters50m10min/locus")
    ->Apply(Sizes)
    ->Iterations(1)
    ->Repetitions(1)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(LocusRestart)
    ->Name("W8/Restart/locus")
    ->Apply(Sizes)
    ->Iterations(1)
    ->Repetitions(1)
    ->Unit(benchmark::kMillisecond)
    ->UseManualTime();

}  // namespace
}  // namespace locus::perf
