// Tests the fast write paths of locus::Db against the plain ones: a bulk load (a large batch
// into an empty namespace, which builds the index once from the records and renumbers the
// keys), the prefetch pipeline of large batches (hints computed ahead, which earlier
// operations of the same batch may invalidate), and reclustering (which renumbers keys and
// moves the records). Each is compared with the same operations applied one at a time:
// outcomes, every object, and queries against brute force over the final state.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

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

std::unique_ptr<Db> NewDb(CoordinateSystem cs, const std::shared_ptr<ManualClock>& clock) {
  DbOptions o;
  o.clock = clock;
  o.sweep_interval_ms = 0;
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
                               size_t ids, std::mt19937_64& rng) {
  std::map<std::string, Object> objects;
  for (size_t i = 0; i < ids; ++i) {
    const std::string id = "obj-" + std::to_string(i);
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

TEST_P(DbWritePathTest, ReclusteringRenumbersKeysAndKeepsEveryObject) {
  const CoordinateSystem cs = GetParam();
  const uint64_t seed = TestSeed() + 20 + static_cast<uint64_t>(cs);
  SCOPED_TRACE(SeedTrace(seed));
  std::mt19937_64 rng(seed);
  constexpr size_t kIds = 2000;
  auto clock = std::make_shared<ManualClock>(1000);
  auto db = NewDb(cs, clock), plain = NewDb(cs, clock);
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
  ExpectSameStateAndQueries(cs, *db, *plain, kIds, rng);
}

INSTANTIATE_TEST_SUITE_P(AllCoordinateSystems, DbWritePathTest,
                         ::testing::Values(CoordinateSystem::kGeographic,
                                           CoordinateSystem::kPlanar2D,
                                           CoordinateSystem::kPlanar3D),
                         [](const auto& info) { return std::string(CoordinateSystemName(info.param)); });

}  // namespace
}  // namespace locus
