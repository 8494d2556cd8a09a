// W8 (PERF.md, issue 14): history and trajectories. This file holds the peer's rows: PostGIS 3.3
// on PostgreSQL 15 (Debian), started by the benchmark in a temporary cluster on loopback
// (tests/testing/postgres_server.h, with its tuned settings), loaded and queried as
// perf/history_postgis.h describes (schema, indexes, SQL). The locus rows are not written yet;
// they will register as W8/<Row>/locus/<objects>/<samples> beside these, on the same data and
// the same queries (perf/history_data.h), and perf/run pairs them by name.
//
// Rows (perf/run parses "W8/<Row>/<impl>/<objects>/<samples_per_object>"), each registered for
// the real size (10,000 objects x 1,000 samples) and the --quick size (500 x 200):
//   Ingest              binary COPY of every sample + both indexes + ANALYZE (W8Postgis::Load);
//                       items/s = samples/s. One load per run (Iterations(1), Repetitions(1)):
//                       minutes at 10M. Counter disk_bytes_per_sample: table + indexes.
//   Trajectory1h        one object's samples over 1 h, ordered by t
//   PassedThrough500m1h the objects with a sample in a 500 m box during 1 h, with their first
//                       time there (samples only, which favours the peer)
//   SliceAtRegion       every object's position at t (interpolated) inside a 2 km region
//   Encounters50m10min  the pairs within 50 m at the same time (|dt| < 10 s) in 10 min:
//                       one query per run (Iterations(1), Repetitions(1)): it takes minutes
//                       at 10M (~600,000 GiST probes; perf/history_postgis.h)
// A query row's time is per query (real time; one prepared-statement execution per
// iteration, results read in place, not parsed); each iteration takes the next of 1000
// seeded queries, so repetitions differ and are reproducible. Counter hits_per_query: rows
// returned. Data, COPY encoding, the load (unless it is the Ingest row's), pg_prewarm of the
// table and indexes and a few warm-up executions of each statement happen outside the timed
// loops, once per size per process and again after the Ingest row's load.
//
// Environment: $LOCUS_W8_DIR, the directory for the temporary cluster (default $TMPDIR or
// /tmp; under root it must be reachable by user postgres); LOCUS_W8_EXPLAIN=1 prints each
// query row's EXPLAIN (ANALYZE, BUFFERS) of its first query to stderr once.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "locus/check.h"
#include "perf/history_data.h"

#ifdef LOCUS_WITH_PEERS
#include "perf/history_postgis.h"
#endif

namespace locus::perf {
namespace {

#ifdef LOCUS_WITH_PEERS

constexpr size_t kQueries = 1000;  // seeded queries per row, cycled

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
      const int warm = row == 3 ? 0 : 6;
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
  const W8Size size{static_cast<size_t>(st.range(0)), static_cast<size_t>(st.range(1))};
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

void Sizes(benchmark::internal::Benchmark* b) {
  for (const W8Size& s : {kW8Real, kW8Quick}) {
    b->Args({static_cast<int64_t>(s.objects), static_cast<int64_t>(s.samples_per_object)});
  }
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

}  // namespace
}  // namespace locus::perf
