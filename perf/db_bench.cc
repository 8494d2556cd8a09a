// W4 (PERF.md): the moving-objects database (locus::Db, api/include/locus/db.h) on 1M
// objects in a geographic namespace, against Boost.Geometry's dynamic rtree<rstar<16>>
// driven the way a user would keep it current: remove + insert per move. Same seeded data
// and the same operation streams in the same binary.
//
// Data: 1M objects uniform over lon [0, 1] x lat [50, 51] (~71 x 111 km, ~127 per km^2).
// A move shifts one object by up to 5 m on each axis (+-0.00005 deg); a radius query is
// 500 m around a uniform point (~100 hits); kNN asks for the 10 nearest.
// Rows (perf/run parses "W4/<Row>/<impl>/<n>"), each reporting items (operations) per second:
//   BulkLoad  a fresh namespace filled with one 1M-object batch (Boost: packing constructor)
//   Moves     a stream of moves (Db::Upsert with a newer timestamp; Boost: remove + insert)
//   MovesBatched  the same stream through Db::Apply, 1000 moves per Batch (Boost: as Moves)
//   Mixed     90% moves, 10% radius queries (Boost: box query + haversine filter)
//   Knn10     10 nearest (Boost: nearest(10) in degrees, an approximation favouring Boost)
//   MixedLatency  the Mixed stream with every operation timed: p50/p99 of queries and moves
//   MixedThreads  moves on this thread while another runs radius queries: both rates, and
//             the reader's p50/p99 (no peer: Boost's rtree is not thread-safe)
//   MixedVisit, Knn10Visit  the same streams through the queries' visitor forms (HitView):
//             no Hit copies (Boost's rows are the same as for Mixed and Knn10)
//   Memory    locus only, one load: bytes per object as counters (NamespaceStats, RSS and
//             malloc growth); perf/run puts them beside Redis GEOADD of the same members
// Locus rows run single-threaded like the peer; the operations of one iteration are a block
// of 10k, cycled through a precomputed stream.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "locus/db.h"
#include "perf/bench_util.h"

#ifdef LOCUS_WITH_PEERS
#include <boost/geometry.hpp>
#include <boost/geometry/index/rtree.hpp>
#endif

// Objects are built with designated initializers naming only the fields they need.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace locus::perf {
namespace {

constexpr int64_t kN = 1'000'000;
constexpr size_t kBlock = 10'000;    // operations per benchmark iteration
constexpr size_t kStream = 200'000;  // precomputed operations, cycled
constexpr double kRadius = 500;      // metres: ~100 hits at this density
constexpr double kStep = 0.00005;    // degrees: ~5.6 m of latitude, ~3.5 m of longitude

double Haversine(double lon1, double lat1, double lon2, double lat2) {
  constexpr double kD = 3.14159265358979323846 / 180, kR = 6371008.8;
  const double s1 = std::sin((lat2 - lat1) * kD / 2), s2 = std::sin((lon2 - lon1) * kD / 2);
  const double h = s1 * s1 + std::cos(lat1 * kD) * std::cos(lat2 * kD) * s2 * s2;
  return 2 * kR * std::asin(std::sqrt(std::min(1.0, h)));
}

struct W4Data {
  std::vector<std::string> ids;
  std::vector<Position> start;
  // The operation stream: object index and its new position (moves), or a query centre.
  std::vector<uint32_t> who;
  std::vector<Position> where;
  std::vector<bool> is_query;  // Mixed: every 10th operation
  std::vector<Position> centres;

  explicit W4Data(size_t n) {
    std::mt19937_64 rng(0x4D0E5);
    std::uniform_real_distribution<double> u(0, 1), step(-kStep, kStep);
    ids.resize(n);
    start.resize(n);
    for (size_t i = 0; i < n; ++i) {
      ids[i] = "vehicle-" + std::to_string(i);
      start[i] = {u(rng), 50 + u(rng), 0};
    }
    std::vector<Position> now = start;
    for (size_t k = 0; k < kStream; ++k) {
      const uint32_t i = static_cast<uint32_t>(rng() % n);
      now[i].x = std::clamp(now[i].x + step(rng), 0.0, 1.0);
      now[i].y = std::clamp(now[i].y + step(rng), 50.0, 51.0);
      who.push_back(i);
      where.push_back(now[i]);
      is_query.push_back(k % 10 == 9);
      centres.push_back({0.01 + 0.98 * u(rng), 50.01 + 0.98 * u(rng), 0});
    }
  }
};

const W4Data& Data() {
  static const W4Data* d = new W4Data(kN);
  return *d;
}

std::unique_ptr<Db> LoadedDb() {
  const W4Data& d = Data();
  DbOptions o;
  o.sweep_interval_ms = 0;
  auto db = std::move(Db::OpenInMemory(o)).value();
  LOCUS_CHECK(db->CreateNamespace("w4", {.coordinates = CoordinateSystem::kGeographic}).ok());
  Batch b;
  for (size_t i = 0; i < d.ids.size(); ++i) b.Upsert("w4", {.id = d.ids[i], .pos = d.start[i]});
  LOCUS_CHECK(db->Apply(b).ok());
  return db;
}

// One loaded database shared by the stream rows; its state, the stream position and the
// timestamps carry on from row to row.
struct SharedState {
  std::unique_ptr<Db> db = LoadedDb();
  size_t cursor = 0;
  int64_t timestamp = 1;
};
SharedState& Shared() {
  static SharedState* s = new SharedState;
  return *s;
}

void LocusBulkLoad(benchmark::State& state) {
  const W4Data& d = Data();
  for (auto _ : state) {
    auto db = LoadedDb();
    benchmark::DoNotOptimize(db.get());
    state.PauseTiming();
    db.reset();  // destruction is not part of the load
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(d.ids.size()));
}

// Memory per object: the 1M objects (ids "vehicle-N", no metadata) loaded into a fresh
// database, as NamespaceStats::memory_bytes counts it and as the process's resident set
// grows (malloc's freed pages returned first: the load's Batch is gone by then). One
// iteration; perf/run sets the counters beside Redis's `INFO memory` for the same members.
void LocusMemory(benchmark::State& state) {
  const W4Data& d = Data();
  size_t rss = 0, heap = 0;
  std::unique_ptr<Db> db;
  for (auto _ : state) {
    malloc_trim(0);
    const size_t rss0 = ResidentBytes(), heap0 = HeapBytes();
    db = LoadedDb();
    malloc_trim(0);
    const size_t rss1 = ResidentBytes(), heap1 = HeapBytes();
    rss = rss1 - std::min(rss0, rss1);
    heap = heap1 - std::min(heap0, heap1);
  }
  const double n = static_cast<double>(d.ids.size());
  auto stats = db->Stats("w4");
  LOCUS_CHECK(stats.ok() && stats->objects == d.ids.size());
  state.counters["memory_bytes_per_object"] = static_cast<double>(stats->memory_bytes) / n;
  state.counters["rss_bytes_per_object"] = static_cast<double>(rss) / n;
  state.counters["heap_bytes_per_object"] = static_cast<double>(heap) / n;
}

// mode 0: moves only; 1: mixed (every 10th op a radius query); 2: kNN queries only. With
// `visit`, the queries hand their hits to a visitor (Db's HitView forms, what a server or a
// binding serialises from) instead of returning Hits; the visitor reads each hit's id and
// position, as a reply would.
void LocusStream(benchmark::State& state, int mode, bool visit) {
  const W4Data& d = Data();
  auto& [db, cursor, timestamp] = Shared();
  size_t hits = 0, queries = 0, bytes = 0;
  QueryOptions qo;
  qo.limit = 100000;
  auto visitor = [&bytes](const HitView& h) {
    bytes += h.id.size() + (h.pos.x > 0);
    return true;
  };
  for (auto _ : state) {
    for (size_t k = 0; k < kBlock; ++k, cursor = (cursor + 1) % kStream) {
      if (mode == 2) {
        if (visit) {
          hits += db->Nearest("w4", d.centres[cursor], 10, {}, visitor)->hits;
        } else {
          hits += db->Nearest("w4", d.centres[cursor], 10)->hits.size();
        }
        ++queries;
      } else if (mode == 1 && d.is_query[cursor]) {
        if (visit) {
          hits += db->WithinRadius("w4", d.centres[cursor], kRadius, qo, visitor)->hits;
        } else {
          hits += db->WithinRadius("w4", d.centres[cursor], kRadius, qo)->hits.size();
        }
        ++queries;
      } else {
        const uint32_t i = d.who[cursor];
        auto r = db->Upsert("w4", {.id = d.ids[i], .pos = d.where[cursor], .timestamp = ++timestamp});
        benchmark::DoNotOptimize(r);
      }
    }
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(kBlock));
  if (queries) state.counters["hits_per_query"] = static_cast<double>(hits) / queries;
  benchmark::DoNotOptimize(bytes);
}

// The p-th percentile (0-100) of `v` in microseconds (v in nanoseconds; sorts v).
double PercentileUs(std::vector<int64_t>* v, double p) {
  if (v->empty()) return 0;
  std::sort(v->begin(), v->end());
  const size_t i = std::min(v->size() - 1, static_cast<size_t>(p / 100 * v->size()));
  return static_cast<double>((*v)[i]) / 1000;
}

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Latency under the mixed stream: the Mixed row's operations, each timed on its own (so the
// rate here is a little lower than Mixed's); p50 and p99 of the radius queries and of the
// moves, in microseconds.
void LocusMixedLatency(benchmark::State& state) {
  const W4Data& d = Data();
  auto& [db, cursor, timestamp] = Shared();
  QueryOptions qo;
  qo.limit = 100000;
  std::vector<int64_t> query_ns, move_ns;
  for (auto _ : state) {
    for (size_t k = 0; k < kBlock; ++k, cursor = (cursor + 1) % kStream) {
      const int64_t t0 = NowNs();
      if (d.is_query[cursor]) {
        auto r = db->WithinRadius("w4", d.centres[cursor], kRadius, qo);
        benchmark::DoNotOptimize(r);
        query_ns.push_back(NowNs() - t0);
      } else {
        const uint32_t i = d.who[cursor];
        auto r = db->Upsert("w4", {.id = d.ids[i], .pos = d.where[cursor], .timestamp = ++timestamp});
        benchmark::DoNotOptimize(r);
        move_ns.push_back(NowNs() - t0);
      }
    }
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(kBlock));
  state.counters["query_p50_us"] = PercentileUs(&query_ns, 50);
  state.counters["query_p99_us"] = PercentileUs(&query_ns, 99);
  state.counters["move_p50_us"] = PercentileUs(&move_ns, 50);
  state.counters["move_p99_us"] = PercentileUs(&move_ns, 99);
}

// Two threads on one namespace: this one applies the move stream (one call per move, as
// W4/Moves) while a reader thread runs the radius queries of the mixed stream back to back,
// each timed. Items are the writer's moves; the counters are the reader's rate and its
// latency percentiles over the same wall time. No peer: Boost's rtree is not thread-safe.
void LocusMixedThreads(benchmark::State& state) {
  const W4Data& d = Data();
  auto& [db, cursor, timestamp] = Shared();
  QueryOptions qo;
  qo.limit = 100000;
  std::atomic<bool> stop{false};
  std::vector<int64_t> query_ns;
  query_ns.reserve(1 << 20);
  const int64_t start = NowNs();
  std::thread reader([&] {
    for (size_t q = 0; !stop.load(std::memory_order_relaxed); q = (q + 1) % kStream) {
      const int64_t t0 = NowNs();
      auto r = db->WithinRadius("w4", d.centres[q], kRadius, qo);
      benchmark::DoNotOptimize(r);
      query_ns.push_back(NowNs() - t0);
    }
  });
  for (auto _ : state) {
    for (size_t k = 0; k < kBlock; ++k, cursor = (cursor + 1) % kStream) {
      const uint32_t i = d.who[cursor];
      auto r = db->Upsert("w4", {.id = d.ids[i], .pos = d.where[cursor], .timestamp = ++timestamp});
      benchmark::DoNotOptimize(r);
    }
  }
  stop = true;
  reader.join();
  const double seconds = static_cast<double>(NowNs() - start) / 1e9;
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(kBlock));
  state.counters["reader_queries_per_second"] = static_cast<double>(query_ns.size()) / seconds;
  state.counters["reader_p50_us"] = PercentileUs(&query_ns, 50);
  state.counters["reader_p99_us"] = PercentileUs(&query_ns, 99);
}

// The same move stream applied as Db::Apply batches of kBatchMoves (a service draining a
// queue of position reports), building each Batch inside the timed loop. Boost has no batch
// operation: its row is the same remove + insert per move as W4/Moves.
constexpr size_t kBatchMoves = 1000;
void LocusBatchedMoves(benchmark::State& state) {
  const W4Data& d = Data();
  auto& [db, cursor, timestamp] = Shared();
  for (auto _ : state) {
    for (size_t done = 0; done < kBlock; done += kBatchMoves) {
      Batch b;
      for (size_t k = 0; k < kBatchMoves; ++k, cursor = (cursor + 1) % kStream) {
        const uint32_t i = d.who[cursor];
        b.Upsert("w4", {.id = d.ids[i], .pos = d.where[cursor], .timestamp = ++timestamp});
      }
      auto r = db->Apply(b);
      benchmark::DoNotOptimize(r);
    }
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(kBlock));
}

// One recluster of the 1M-object namespace: after a bulk load, objects jump to random
// places (batches of 1000) until the inflated blocks cross the threshold and the namespace
// is rebuilt (inline, DbOptions::background_recluster = false, so it is measured alone).
// Reports the rebuild's wall time (NamespaceStats::last_recluster.total_ms) as the row's time
// and, as counters, how long writers and readers were held up.
void LocusRecluster(benchmark::State& state) {
  const W4Data& d = Data();
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(0, 1);
  for (auto _ : state) {
    state.PauseTiming();
    DbOptions o;
    o.sweep_interval_ms = 0;
    o.background_recluster = false;
    auto db = std::move(Db::OpenInMemory(o)).value();
    LOCUS_CHECK(db->CreateNamespace("w4", {.coordinates = CoordinateSystem::kGeographic}).ok());
    {
      Batch b;
      for (size_t i = 0; i < d.ids.size(); ++i) b.Upsert("w4", {.id = d.ids[i], .pos = d.start[i]});
      LOCUS_CHECK(db->Apply(b).ok());
    }
    int64_t ts = 1;
    while (db->Stats("w4")->reclusters == 0) {
      Batch b;
      for (int k = 0; k < 1000; ++k) {
        b.Upsert("w4", {.id = d.ids[rng() % d.ids.size()], .pos = {u(rng), 50 + u(rng), 0},
                        .timestamp = ++ts});
      }
      LOCUS_CHECK(db->Apply(b).ok());
    }
    const ReclusterTimes t = db->Stats("w4")->last_recluster;
    state.SetIterationTime(t.total_ms / 1000);
    state.counters["writer_pause_ms"] = t.writer_pause_ms;
    state.counters["reader_pause_ms"] = t.reader_pause_ms;
    db.reset();
    state.ResumeTiming();
  }
}

BENCHMARK(LocusRecluster)->Name("W4/Recluster/locus")->Arg(kN)->UseManualTime()
    ->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(LocusMemory)->Name("W4/Memory/locus")->Arg(kN)->Iterations(1)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(LocusBulkLoad)->Name("W4/BulkLoad/locus")->Arg(kN)->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(LocusStream, moves, 0, false)->Name("W4/Moves/locus")->Arg(kN)->UseRealTime();
BENCHMARK(LocusBatchedMoves)->Name("W4/MovesBatched/locus")->Arg(kN)->UseRealTime();
BENCHMARK_CAPTURE(LocusStream, mixed, 1, false)->Name("W4/Mixed/locus")->Arg(kN)->UseRealTime();
BENCHMARK_CAPTURE(LocusStream, mixed_visit, 1, true)
    ->Name("W4/MixedVisit/locus")->Arg(kN)->UseRealTime();
BENCHMARK(LocusMixedLatency)->Name("W4/MixedLatency/locus")->Arg(kN)->UseRealTime();
BENCHMARK(LocusMixedThreads)->Name("W4/MixedThreads/locus")->Arg(kN)->UseRealTime();
BENCHMARK_CAPTURE(LocusStream, knn, 2, false)->Name("W4/Knn10/locus")->Arg(kN)->UseRealTime();
BENCHMARK_CAPTURE(LocusStream, knn_visit, 2, true)
    ->Name("W4/Knn10Visit/locus")->Arg(kN)->UseRealTime();

#ifdef LOCUS_WITH_PEERS
namespace bg = boost::geometry;
namespace bgi = boost::geometry::index;
using BPoint = bg::model::point<double, 2, bg::cs::cartesian>;
using BValue = std::pair<BPoint, uint32_t>;
using BTree = bgi::rtree<BValue, bgi::rstar<16>>;

std::unique_ptr<BTree> LoadedBoost() {
  const W4Data& d = Data();
  std::vector<BValue> v;
  v.reserve(d.start.size());
  for (size_t i = 0; i < d.start.size(); ++i) {
    v.push_back({BPoint(d.start[i].x, d.start[i].y), static_cast<uint32_t>(i)});
  }
  return std::make_unique<BTree>(v.begin(), v.end());
}

void BoostBulkLoad(benchmark::State& state) {
  for (auto _ : state) {
    auto t = LoadedBoost();
    benchmark::DoNotOptimize(t.get());
    state.PauseTiming();
    t.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * kN);
}

void BoostStream(benchmark::State& state, int mode) {
  const W4Data& d = Data();
  static std::unique_ptr<BTree> tree = LoadedBoost();
  static std::vector<Position> now = Data().start;
  static size_t cursor = 0;
  size_t hits = 0, queries = 0;
  std::vector<BValue> found;
  for (auto _ : state) {
    for (size_t k = 0; k < kBlock; ++k, cursor = (cursor + 1) % kStream) {
      const Position& c = d.centres[cursor];
      if (mode == 2) {
        found.clear();
        tree->query(bgi::nearest(BPoint(c.x, c.y), 10), std::back_inserter(found));
        hits += found.size();
        ++queries;
      } else if (mode == 1 && d.is_query[cursor]) {
        // The degree box around the circle, then the exact distance.
        const double dlat = kRadius / 111194.9, dlon = dlat / std::cos(c.y * 3.14159265358979 / 180);
        found.clear();
        tree->query(bgi::intersects(bg::model::box<BPoint>(BPoint(c.x - dlon, c.y - dlat),
                                                           BPoint(c.x + dlon, c.y + dlat))),
                    std::back_inserter(found));
        for (const BValue& v : found) {
          hits += Haversine(c.x, c.y, bg::get<0>(v.first), bg::get<1>(v.first)) <= kRadius;
        }
        ++queries;
      } else {
        const uint32_t i = d.who[cursor];
        tree->remove(BValue(BPoint(now[i].x, now[i].y), i));
        now[i] = d.where[cursor];
        tree->insert(BValue(BPoint(now[i].x, now[i].y), i));
      }
    }
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(kBlock));
  if (queries) state.counters["hits_per_query"] = static_cast<double>(hits) / queries;
}

BENCHMARK(BoostBulkLoad)->Name("W4/BulkLoad/boost_rstar16")->Arg(kN)
    ->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BoostStream, moves, 0)->Name("W4/Moves/boost_rstar16")->Arg(kN)->UseRealTime();
BENCHMARK_CAPTURE(BoostStream, mixed, 1)->Name("W4/Mixed/boost_rstar16")->Arg(kN)->UseRealTime();
BENCHMARK_CAPTURE(BoostStream, knn, 2)->Name("W4/Knn10/boost_rstar16")->Arg(kN)->UseRealTime();
#endif

}  // namespace
}  // namespace locus::perf
