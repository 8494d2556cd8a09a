// Tests the fast write paths of locus::Db against the plain ones: a bulk load (a large batch
// into an empty namespace, which builds the index once from the records and renumbers the
// keys), the prefetch pipeline of large batches (hints computed ahead, which earlier
// operations of the same batch may invalidate), and reclustering (inline, in the
// background, and with writes landing while the new index builds). Each is compared with the
// same operations applied one at a time: outcomes, every object, and queries against brute
// force over the final state.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>
#include <atomic>
#include <chrono>
#include <thread>

#include "api/db/test_seams.h"
#include "locus/db.h"
#include "tests/testing/harness.h"

#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace locus {
namespace {

using ::locus::testing::SeedTrace;
using ::locus::testing::TestSeed;

struct Op {
  bool upsert;
  Object object;
};

Position RandomPos(CoordinateSystem cs, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(0, 1);
  if (cs == CoordinateSystem::kGeographic) {
    if (rng() % 4 == 0) return {(rng() % 2 ? 179.5 : -180.0) + 0.5 * u(rng), 89 * u(rng), 0};
    return {-180 + 360 * u(rng), -85 + 170 * u(rng), 100 * u(rng)};
  }
  return {1000 * u(rng), 1000 * u(rng), 1000 * u(rng)};
}

// Operations over a small id space so ids repeat: new objects, moves, stale writes, TTLs,
// deletes (some of absent ids), and deletes followed by re-creation.
std::vector<Op> RandomOps(CoordinateSystem cs, size_t n, size_t ids, std::mt19937_64& rng) {
  std::vector<Op> ops;
  int64_t ts = 1000;
  for (size_t i = 0; i < n; ++i) {
    Op op;
    op.object.id = "obj-" + std::to_string(rng() % ids);
    const int kind = static_cast<int>(rng() % 10);
    if (kind == 0) {
      op.upsert = false;
    } else {
      op.upsert = true;
      op.object.pos = RandomPos(cs, rng);
      // Mostly newer timestamps; some older (stale when the object exists), some equal.
      op.object.timestamp = kind == 1 ? ts - 500 : kind == 2 ? ts : ++ts;
      if (kind == 3) op.object.ttl_ms = 50 + static_cast<int64_t>(rng() % 100);
      if (kind == 4) op.object.metadata = "m" + std::to_string(i);
    }
    ops.push_back(std::move(op));
  }
  return ops;
}

std::unique_ptr<Db> NewDb(CoordinateSystem cs, const std::shared_ptr<ManualClock>& clock,
                          bool background_recluster = true) {
  DbOptions o;
  o.clock = clock;
  o.sweep_interval_ms = 0;
  o.background_recluster = background_recluster;
  o.block_rows = 32;  // many blocks even for a few thousand objects
  auto db = std::move(Db::OpenInMemory(o)).value();
  EXPECT_TRUE(db->CreateNamespace("ns", {.coordinates = cs}).ok());
  return db;
}

// Applies ops one call each (Upsert / Delete); returns the outcomes as Apply reports them.
std::vector<WriteOutcome> ApplyOneByOne(Db& db, const std::vector<Op>& ops) {
  std::vector<WriteOutcome> out;
  for (const Op& op : ops) {
    if (op.upsert) {
      auto r = db.Upsert("ns", op.object);
      EXPECT_TRUE(r.ok()) << r.status().ToString();
      out.push_back(r.ok() ? *r : WriteOutcome::kApplied);
    } else {
      (void)db.Delete("ns", op.object.id);  // NotFound for absent ids: Apply says kApplied
      out.push_back(WriteOutcome::kApplied);
    }
  }
  return out;
}

std::vector<WriteOutcome> ApplyAsBatches(Db& db, const std::vector<Op>& ops, size_t batch) {
  std::vector<WriteOutcome> out;
  for (size_t i = 0; i < ops.size(); i += batch) {
    Batch b;
    for (size_t j = i; j < std::min(ops.size(), i + batch); ++j) {
      if (ops[j].upsert) b.Upsert("ns", ops[j].object);
      else b.Delete("ns", ops[j].object.id);
    }
    auto r = db.Apply(b);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (r.ok()) out.insert(out.end(), r->begin(), r->end());
  }
  return out;
}

double Dist(CoordinateSystem cs, const Position& a, const Position& b) {
  if (cs == CoordinateSystem::kGeographic) {
    constexpr long double d = 3.14159265358979323846L / 180;
    const long double s1 = std::sin((b.y - a.y) * d / 2), s2 = std::sin((b.x - a.x) * d / 2);
    long double h = s1 * s1 + std::cos(a.y * d) * std::cos(b.y * d) * s2 * s2;
    h = std::min<long double>(1, h);
    return static_cast<double>(2 * 6371008.8L * std::asin(std::sqrt(h)));
  }
  const double dz = cs == CoordinateSystem::kPlanar3D ? a.z - b.z : 0;
  return std::hypot(a.x - b.x, a.y - b.y, dz);
}

// Both databases hold exactly the same objects, and each answers radius and kNN queries as
// brute force over those objects does.
void ExpectSameStateAndQueries(CoordinateSystem cs, const Db& got, const Db& want,
                               size_t ids, std::mt19937_64& rng,
                               const std::vector<std::string>& more_ids = {}) {
  std::vector<std::string> all = more_ids;
  for (size_t i = 0; i < ids; ++i) all.push_back("obj-" + std::to_string(i));
  std::map<std::string, Object> objects;
  for (const std::string& id : all) {
    auto a = got.Get("ns", id);
    auto b = want.Get("ns", id);
    ASSERT_EQ(a.ok(), b.ok()) << id;
    if (!a.ok()) continue;
    EXPECT_EQ(a->pos, b->pos) << id;
    EXPECT_EQ(a->timestamp, b->timestamp) << id;
    EXPECT_EQ(a->metadata, b->metadata) << id;
    EXPECT_EQ(a->expires_at, b->expires_at) << id;
    objects[id] = *a;
  }
  ASSERT_EQ(got.Stats("ns")->objects, objects.size());
  const double r = cs == CoordinateSystem::kGeographic ? 2e6 : 150;
  for (int q = 0; q < 20; ++q) {
    const Position c = RandomPos(cs, rng);
    std::set<std::string> brute;
    std::vector<std::pair<double, std::string>> by_dist;
    for (const auto& [id, o] : objects) {
      const double d = Dist(cs, c, o.pos);
      by_dist.emplace_back(d, id);
      // Leave out points within rounding of the boundary from the comparison.
      if (std::abs(d - r) < 1e-6 * r) continue;
      if (d <= r) brute.insert(id);
    }
    auto hits = got.WithinRadius("ns", c, r, {.limit = 1 << 20});
    ASSERT_TRUE(hits.ok()) << hits.status().ToString();
    std::set<std::string> found;
    for (const Hit& h : hits->hits) {
      const double d = Dist(cs, c, h.pos);
      if (std::abs(d - r) >= 1e-6 * r) found.insert(h.id);
      EXPECT_NEAR(h.distance, d, 1e-6 * std::max(1.0, d)) << h.id;
    }
    EXPECT_EQ(found, brute) << "radius query " << q;
    std::sort(by_dist.begin(), by_dist.end());
    auto knn = got.Nearest("ns", c, 7);
    ASSERT_TRUE(knn.ok()) << knn.status().ToString();
    ASSERT_EQ(knn->hits.size(), std::min<size_t>(7, objects.size()));
    for (size_t i = 0; i < knn->hits.size(); ++i) {
      EXPECT_NEAR(knn->hits[i].distance, by_dist[i].first, 1e-6 * std::max(1.0, by_dist[i].first))
          << "kNN rank " << i;
    }
  }
}

class DbWritePathTest : public ::testing::TestWithParam<CoordinateSystem> {};

TEST_P(DbWritePathTest, BulkLoadEqualsOneByOne) {
  const CoordinateSystem cs = GetParam();
  const uint64_t seed = TestSeed() + static_cast<uint64_t>(cs);
  SCOPED_TRACE(SeedTrace(seed));
  std::mt19937_64 rng(seed);
  constexpr size_t kIds = 3000;
  const std::vector<Op> ops = RandomOps(cs, 6000, kIds, rng);
  auto clock = std::make_shared<ManualClock>(1000);
  auto bulk = NewDb(cs, clock), plain = NewDb(cs, clock);
  const auto bulk_out = ApplyAsBatches(*bulk, ops, ops.size());  // one batch: the bulk path
  const auto plain_out = ApplyOneByOne(*plain, ops);
  EXPECT_EQ(bulk_out, plain_out);
  EXPECT_GT(std::count(plain_out.begin(), plain_out.end(), WriteOutcome::kStale), 0);
  ExpectSameStateAndQueries(cs, *bulk, *plain, kIds, rng);
  // Writes after the bulk load go through the index as usual; expiry still applies.
  const std::vector<Op> more = RandomOps(cs, 2000, kIds, rng);
  EXPECT_EQ(ApplyAsBatches(*bulk, more, 100), ApplyOneByOne(*plain, more));
  clock->Advance(120);
  ExpectSameStateAndQueries(cs, *bulk, *plain, kIds, rng);
}

TEST_P(DbWritePathTest, PipelinedBatchesEqualOneByOne) {
  const CoordinateSystem cs = GetParam();
  const uint64_t seed = TestSeed() + 10 + static_cast<uint64_t>(cs);
  SCOPED_TRACE(SeedTrace(seed));
  std::mt19937_64 rng(seed);
  constexpr size_t kIds = 400;  // few ids: batches delete and re-create the same ones
  auto clock = std::make_shared<ManualClock>(1000);
  auto batched = NewDb(cs, clock), plain = NewDb(cs, clock);
  for (size_t batch : {64u, 65u, 200u, 999u}) {
    const std::vector<Op> ops = RandomOps(cs, 3 * batch, kIds, rng);
    EXPECT_EQ(ApplyAsBatches(*batched, ops, batch), ApplyOneByOne(*plain, ops)) << batch;
    clock->Advance(40);
    ExpectSameStateAndQueries(cs, *batched, *plain, kIds, rng);
  }
}

size_t Reclusters(const Db& db) { return db.Stats("ns")->reclusters; }

// Waits (bounded) for the maintenance thread to have reclustered at least `n` times.
bool WaitForReclusters(const Db& db, size_t n) {
  for (int i = 0; i < 2000 && Reclusters(db) < n; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return Reclusters(db) >= n;
}

TEST_P(DbWritePathTest, ReclusteringKeepsEveryObject) {
  const CoordinateSystem cs = GetParam();
  const uint64_t seed = TestSeed() + 20 + static_cast<uint64_t>(cs);
  SCOPED_TRACE(SeedTrace(seed));
  std::mt19937_64 rng(seed);
  constexpr size_t kIds = 2000;
  auto clock = std::make_shared<ManualClock>(1000);
  // Inline reclustering: deterministic, so the count is known to move.
  auto db = NewDb(cs, clock, /*background_recluster=*/false), plain = NewDb(cs, clock);
  // Objects in a small region first, then every one moved anywhere: the blocks inflate far
  // past the reclustering threshold several times over while the moves go on.
  std::vector<Op> ops;
  for (size_t i = 0; i < kIds; ++i) {
    Position p = RandomPos(cs, rng);
    p.x = cs == CoordinateSystem::kGeographic ? p.x / 100 : p.x / 100;
    p.y /= 100;
    ops.push_back({true, {.id = "obj-" + std::to_string(i), .pos = p, .timestamp = 1,
                          .metadata = "meta-" + std::to_string(i)}});
  }
  for (int round = 0; round < 3; ++round) {
    for (size_t i = 0; i < kIds; ++i) {
      ops.push_back({true, {.id = "obj-" + std::to_string(rng() % kIds),
                            .pos = RandomPos(cs, rng), .timestamp = 2 + round}});
    }
  }
  for (size_t i = 0; i < kIds / 10; ++i) ops.push_back({false, {.id = "obj-" + std::to_string(i)}});
  EXPECT_EQ(ApplyAsBatches(*db, ops, 50), ApplyOneByOne(*plain, ops));
  EXPECT_GE(Reclusters(*db), 2u);
  ExpectSameStateAndQueries(cs, *db, *plain, kIds, rng);
  // The one-by-one database reclustered in the background: the same state, once settled.
  EXPECT_TRUE(WaitForReclusters(*plain, 1));
  ExpectSameStateAndQueries(cs, *plain, *db, kIds, rng);
}

// Writes that land while a recluster builds (from the testing hook, so every case occurs):
// moves of copied objects, deletes, new objects, a deleted object's key reused by a new one,
// expiry sweeps. The catch-up must carry each into the new index.
TEST_P(DbWritePathTest, WritesDuringAReclusterAreCaughtUp) {
  const CoordinateSystem cs = GetParam();
  const uint64_t seed = TestSeed() + 40 + static_cast<uint64_t>(cs);
  SCOPED_TRACE(SeedTrace(seed));
  std::mt19937_64 rng(seed);
  constexpr size_t kIds = 1500;
  auto clock = std::make_shared<ManualClock>(1000);
  auto plain = NewDb(cs, clock, /*background_recluster=*/false);
  Db* target = nullptr;
  int hook_calls = 0;
  std::vector<WriteOutcome> hook_out, plain_out;
  DbOptions o;
  o.clock = clock;
  o.sweep_interval_ms = 0;
  o.block_rows = 32;
  o.background_recluster = false;
  db_internal::TestSeams seams;
  seams.recluster_build = [&] {
    ++hook_calls;
    // Deletes first (their keys go on the free list), then new ids that take those keys,
    // moves, TTLs; then time passes and a sweep removes what expired.
    std::vector<Op> ops;
    for (int i = 0; i < 60; ++i) ops.push_back({false, {.id = "obj-" + std::to_string(rng() % kIds)}});
    for (int i = 0; i < 60; ++i) {
      ops.push_back({true, {.id = "new-" + std::to_string(hook_calls) + "-" + std::to_string(i),
                            .pos = RandomPos(cs, rng), .timestamp = 5000 + hook_calls}});
    }
    for (int i = 0; i < 200; ++i) {
      Op op{true, {.id = "obj-" + std::to_string(rng() % kIds), .pos = RandomPos(cs, rng),
                   .timestamp = 5000 + hook_calls}};
      if (i % 4 == 0) op.object.ttl_ms = 10;
      ops.push_back(std::move(op));
    }
    auto a = ApplyAsBatches(*target, ops, 7);  // small batches: the plain paths
    auto b = ApplyOneByOne(*plain, ops);
    hook_out.insert(hook_out.end(), a.begin(), a.end());
    plain_out.insert(plain_out.end(), b.begin(), b.end());
    clock->Advance(20);
    EXPECT_EQ(target->SweepExpired(1 << 20), plain->SweepExpired(1 << 20));
  };
  auto db = std::move(db_internal::DbFactory::OpenInMemory(o, std::move(seams))).value();
  target = db.get();
  ASSERT_TRUE(db->CreateNamespace("ns", {.coordinates = cs}).ok());
  // Objects in a corner, then moved anywhere: reclusters follow.
  std::vector<Op> ops;
  for (size_t i = 0; i < kIds; ++i) {
    Position p = RandomPos(cs, rng);
    p.x /= 100;
    p.y /= 100;
    ops.push_back({true, {.id = "obj-" + std::to_string(i), .pos = p, .timestamp = 1}});
  }
  for (size_t i = 0; i < 2 * kIds; ++i) {
    ops.push_back({true, {.id = "obj-" + std::to_string(rng() % kIds), .pos = RandomPos(cs, rng),
                          .timestamp = 2}});
  }
  // In lockstep, the plain database first: the hook's writes (during db's recluster, after
  // its batch) then land after the same batch in both.
  for (size_t i = 0; i < ops.size(); i += 100) {
    const std::vector<Op> chunk(ops.begin() + i, ops.begin() + std::min(ops.size(), i + 100));
    const auto want = ApplyOneByOne(*plain, chunk);
    EXPECT_EQ(ApplyAsBatches(*db, chunk, 100), want);
  }
  EXPECT_GE(hook_calls, 1);
  EXPECT_EQ(Reclusters(*db), static_cast<size_t>(hook_calls));
  EXPECT_EQ(hook_out, plain_out);
  std::vector<std::string> created;  // by the hook
  for (int c = 1; c <= hook_calls; ++c) {
    for (int i = 0; i < 60; ++i) created.push_back("new-" + std::to_string(c) + "-" + std::to_string(i));
  }
  ExpectSameStateAndQueries(cs, *db, *plain, kIds, rng, created);
}

// A namespace dropped and created again with other coordinates between a batch's validation
// and its locks (as another thread could): the batch is checked again against the namespace
// it locked, so a planar position never lands in a geographic namespace.
TEST(DbBatchTest, ABatchIsValidatedAgainstTheNamespaceItLocks) {
  DbOptions o;
  o.sweep_interval_ms = 0;
  Db* target = nullptr;
  bool recreate = true;
  db_internal::TestSeams seams;
  seams.batch_before_lock = [&] {
    if (!recreate) return;
    recreate = false;
    ASSERT_TRUE(target->DropNamespace("ns").ok());
    ASSERT_TRUE(target->CreateNamespace("ns", {.coordinates = CoordinateSystem::kGeographic}).ok());
  };
  auto db = std::move(db_internal::DbFactory::OpenInMemory(o, std::move(seams))).value();
  target = db.get();
  ASSERT_TRUE(db->CreateNamespace("ns", {.coordinates = CoordinateSystem::kPlanar2D}).ok());
  Batch b;
  b.Upsert("ns", {.id = "ok", .pos = {10, 10}});
  b.Upsert("ns", {.id = "far", .pos = {500, 10}});  // a planar x, not a longitude
  auto r = db->Apply(b);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("batch[1].pos.lon = 500"), std::string_view::npos)
      << r.status().ToString();
  EXPECT_EQ(db->Stats("ns")->objects, 0u);  // nothing applied, not even batch[0]
  EXPECT_EQ(db->Stats("ns")->coordinates, CoordinateSystem::kGeographic);
  // Valid for the new namespace: applied.
  recreate = false;
  Batch good;
  good.Upsert("ns", {.id = "ok", .pos = {10, 10}});
  ASSERT_TRUE(db->Apply(good).ok());
  EXPECT_TRUE(db->Get("ns", "ok").ok());
}

// Background reclustering while a writer moves objects far (so reclusters keep happening)
// and re-creates some inside atomic batches, and readers query: every reader sees exactly
// kIds objects, every hit's reported distance agrees with its reported position (a record
// and its index row never disagree, through every renumbering), and the final state equals
// the writer's model.
TEST(DbReclusterTest, BackgroundReclusteringUnderConcurrentReadersAndWriters) {
  const uint64_t seed = TestSeed() + 30;
  SCOPED_TRACE(SeedTrace(seed));
  constexpr CoordinateSystem cs = CoordinateSystem::kGeographic;
  constexpr size_t kIds = 3000;
  auto clock = std::make_shared<ManualClock>(1000);
  auto db = NewDb(cs, clock);
  std::mt19937_64 rng(seed);
  std::map<std::string, Position> model;
  Batch load;
  for (size_t i = 0; i < kIds; ++i) {
    const std::string id = "obj-" + std::to_string(i);
    model[id] = {rng() % 1000 / 1000.0, rng() % 1000 / 1000.0, 0};  // a 1-degree square
    load.Upsert("ns", {.id = id, .pos = model[id], .timestamp = 1});
  }
  ASSERT_TRUE(db->Apply(load).ok());
  std::atomic<bool> done{false};
  std::atomic<size_t> reads{0}, failures{0};
  auto reader = [&](uint64_t reader_seed) {
    std::mt19937_64 r(reader_seed);
    while (!done) {
      auto count = db->CountInBox("ns", {-180, -90, 0}, {180, 90, 0});
      if (!count.ok() || *count != kIds) ++failures;
      const Position c = RandomPos(cs, r);
      auto hits = db->WithinRadius("ns", c, 3e6, {.limit = 1 << 20});
      if (!hits.ok()) {
        ++failures;
        continue;
      }
      std::set<std::string> ids;
      for (const Hit& h : hits->hits) {
        const double d = Dist(cs, c, h.pos);
        if (std::abs(h.distance - d) > 1e-6 * std::max(1.0, d) || d > 3e6 * (1 + 1e-9) ||
            !ids.insert(h.id).second) {
          ++failures;
        }
      }
      ++reads;
    }
  };
  std::thread r1(reader, seed + 1), r2(reader, seed + 2);
  int64_t ts = 2;
  for (int round = 0; round < 60; ++round) {
    Batch b;
    for (int k = 0; k < 200; ++k) {
      const std::string id = "obj-" + std::to_string(rng() % kIds);
      model[id] = RandomPos(cs, rng);
      if (k % 50 == 0) b.Delete("ns", id);  // deleted and re-created in one atomic batch
      b.Upsert("ns", {.id = id, .pos = model[id], .timestamp = ts++});
    }
    ASSERT_TRUE(db->Apply(b).ok());
    if (round % 10 == 0) {  // single writes too
      const std::string id = "obj-" + std::to_string(rng() % kIds);
      model[id] = RandomPos(cs, rng);
      ASSERT_TRUE(db->Upsert("ns", {.id = id, .pos = model[id], .timestamp = ts++}).ok());
    }
  }
  EXPECT_TRUE(WaitForReclusters(*db, 1));
  done = true;
  r1.join();
  r2.join();
  EXPECT_EQ(failures.load(), 0u) << "over " << reads.load() << " reads";
  EXPECT_GT(reads.load(), 0u);
  for (const auto& [id, pos] : model) {
    auto got = db->Get("ns", id);
    ASSERT_TRUE(got.ok()) << id;
    EXPECT_EQ(got->pos, pos) << id;
  }
  for (int q = 0; q < 20; ++q) {
    const Position c = RandomPos(cs, rng);
    size_t want = 0;
    for (const auto& [id, pos] : model) want += Dist(cs, c, pos) <= 2e6 * (1 - 1e-9);
    size_t boundary = 0;
    for (const auto& [id, pos] : model) boundary += std::abs(Dist(cs, c, pos) - 2e6) <= 2e6 * 1e-9;
    const size_t got = *db->CountWithinRadius("ns", c, 2e6);
    EXPECT_GE(got, want);
    EXPECT_LE(got, want + boundary);
  }
}

INSTANTIATE_TEST_SUITE_P(AllCoordinateSystems, DbWritePathTest,
                         ::testing::Values(CoordinateSystem::kGeographic,
                                           CoordinateSystem::kPlanar2D,
                                           CoordinateSystem::kPlanar3D),
                         [](const auto& info) { return std::string(CoordinateSystemName(info.param)); });

}  // namespace
}  // namespace locus
