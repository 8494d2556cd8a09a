// locus::Db history and trajectory queries against a brute-force oracle: every sample kept in a
// std::map per object (the later write at the same t wins), every query answered by scanning
// all of them with the same motion rule (engine/motion.h) and no index. Data: seeded random
// walks (planar; geographic across the antimeridian and near the poles), written out of order
// through InsertTrajectory, single upserts (also stale ones) and batches, with small chunks so
// that queries span sealed chunks and open tails.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <tuple>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "engine/motion.h"
#include "locus/db.h"
#include "tests/testing/harness.h"


// The tests build objects and options with designated initializers naming only the fields they need.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace locus {
namespace {

using engine::Fix;

struct World {
  CoordinateSystem cs;
  engine::Space space;
  std::unique_ptr<Db> db;
  std::map<std::string, std::map<int64_t, Sample>> oracle;
};

std::vector<Fix> Path(const World& w, const std::string& id) {
  std::vector<Fix> out;
  for (const auto& [t, s] : w.oracle.at(id)) out.push_back({t, s.pos.x, s.pos.y, s.pos.z});
  return out;
}

std::optional<Fix> OracleAt(const std::vector<Fix>& p, double t, engine::Space space) {
  if (p.empty() || t < p.front().t || t > p.back().t) return std::nullopt;
  for (size_t i = 0; i < p.size(); ++i) {
    if (p[i].t == t) return p[i];
    if (i + 1 < p.size() && p[i].t < t && t < p[i + 1].t) {
      return engine::Interpolate(p[i], p[i + 1], t, space);
    }
  }
  return std::nullopt;
}

const char* kNs = "fleet";

// Objects are written one after another; each object's samples shuffled (out of order, in
// three ways: see below), or in time order (then each one's rows in a chunk are a stretch of
// its timeline, read in place by the queries).
World MakeWorld(CoordinateSystem cs, uint64_t seed, int objects, int samples,
                bool in_order = false) {
  World w;
  w.cs = cs;
  w.space = cs == CoordinateSystem::kGeographic ? engine::Space::kSphere
            : cs == CoordinateSystem::kPlanar3D ? engine::Space::kPlanar3D
                                                : engine::Space::kPlanar2D;
  w.db = Db::OpenInMemory({.sweep_interval_ms = 0, .background_recluster = false}).value();
  NamespaceOptions o;
  o.coordinates = cs;
  o.history = {.enabled = true, .keep_metadata = true, .chunk_samples = 64};
  EXPECT_TRUE(w.db->CreateNamespace(kNs, o).ok());
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  const bool geo = cs == CoordinateSystem::kGeographic;
  for (int i = 0; i < objects; ++i) {
    const std::string id = "v" + std::to_string(i);
    double x, y;
    if (geo) {
      x = i % 4 == 0 ? 179.9 : -180 + 360 * u(rng);
      y = i % 4 == 1 ? 89.5 : -60 + 120 * u(rng);
      if (i % 4 == 2) x = 10 + u(rng) * 0.2, y = 50 + u(rng) * 0.2;  // a cluster
    } else {
      x = 100 * u(rng), y = 100 * u(rng);
      if (i % 3 == 0) x = 50 + u(rng) * 3, y = 50 + u(rng) * 3;  // a cluster
    }
    std::vector<Sample> all;
    const int64_t t0 = static_cast<int64_t>(u(rng) * 5000);
    for (int k = 0; k < samples; ++k) {
      const double step = geo ? 0.01 : 1;
      x += (u(rng) - 0.5) * step, y += (u(rng) - 0.5) * step;
      if (geo) x = std::remainder(x, 360.0), y = std::max(-89.99, std::min(89.99, y));
      Sample s;
      s.t = t0 + k * 1000 + static_cast<int64_t>(u(rng) * 500);
      s.pos = {x, y, cs == CoordinateSystem::kPlanar3D ? u(rng) : 0};
      s.metadata = "m" + std::to_string(k);
      all.push_back(s);
    }
    if (!in_order) std::shuffle(all.begin(), all.end(), rng);
    // A third by InsertTrajectory, a third in a batch, the rest one upsert at a time (stale
    // ones included).
    const size_t third = all.size() / 3;
    EXPECT_TRUE(w.db->InsertTrajectory(kNs, id, {all.begin(), all.begin() + third}).ok());
    Batch batch;
    batch.InsertTrajectory(kNs, id, {all.begin() + third, all.begin() + 2 * third});
    EXPECT_TRUE(w.db->Apply(batch).ok());
    for (size_t k = 2 * third; k < all.size(); ++k) {
      Object obj{.id = id, .pos = all[k].pos, .timestamp = all[k].t, .metadata = all[k].metadata};
      EXPECT_TRUE(w.db->Upsert(kNs, obj).ok());
    }
    for (const Sample& s : all) w.oracle[id][s.t] = s;
  }
  return w;
}

void CheckSpatioTemporalQueries(const World& w, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  const bool geo = w.cs == CoordinateSystem::kGeographic;
  for (int q = 0; q < 40; ++q) {
    // A region near some object's sample.
    auto it = w.oracle.begin();
    std::advance(it, static_cast<long>(rng() % w.oracle.size()));
    auto s = it->second.begin();
    std::advance(s, static_cast<long>(rng() % it->second.size()));
    const Position at = s->second.pos;
    const double half = geo ? 0.02 + u(rng) * 0.05 : 0.5 + u(rng) * 3;
    Region region;
    engine::MotionRegion mr;
    if (q % 2 == 0) {
      Position lo{at.x - half, at.y - half, 0};
      Position hi{at.x + half, at.y + half, 0};
      if (geo) lo.y = std::max(-90.0, lo.y), hi.y = std::min(90.0, hi.y);
      if (geo && lo.x < -180) lo.x += 360;
      if (geo && hi.x > 180) hi.x -= 360;
      region = Region::Box(lo, hi);
      mr.kind = engine::MotionRegion::Kind::kBox;
      mr.min_x = lo.x, mr.min_y = lo.y, mr.max_x = hi.x, mr.max_y = hi.y;
    } else {
      const double r = geo ? half * 111000 : half;
      region = Region::Circle(at, r);
      mr.kind = engine::MotionRegion::Kind::kCircle;
      mr.cx = at.x, mr.cy = at.y, mr.radius = r;
    }
    // Windows around the sample; every fourth a short one after it, often between two
    // samples (they are 500 to 1500 ms apart).
    const int64_t t0 = q % 4 == 3 ? s->first + 1 + static_cast<int64_t>(rng() % 400)
                                  : s->first - static_cast<int64_t>(rng() % 20000);
    const int64_t t1 = t0 + static_cast<int64_t>(rng() % (q % 4 == 3 ? 300 : 40000));
    // PassedThrough.
    auto got = w.db->PassedThrough(kNs, region, t0, t1);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    std::vector<Passage> want;
    for (const auto& [id, samples] : w.oracle) {
      const std::vector<Fix> p = Path(w, id);
      std::optional<double> first;
      if (p.size() == 1 && p[0].t >= t0 && p[0].t <= t1 && engine::InRegion(mr, p[0], w.space)) {
        first = static_cast<double>(p[0].t);
      }
      for (size_t i = 0; i + 1 < p.size() && !first; ++i) {
        first = engine::FirstInside(p[i], p[i + 1], t0, t1, mr, w.space);
      }
      if (first) want.push_back({id, *first, {}});
    }
    ASSERT_EQ(got->passages.size(), want.size()) << "query " << q;
    for (size_t i = 0; i < want.size(); ++i) {
      EXPECT_EQ(got->passages[i].id, want[i].id);
      EXPECT_DOUBLE_EQ(got->passages[i].t, want[i].t);
    }
    // SliceAt in the region at t0, and everywhere.
    for (bool everywhere : {false, true}) {
      auto slice = w.db->SliceAt(kNs, t0, everywhere ? Region::Everywhere() : region);
      ASSERT_TRUE(slice.ok()) << slice.status().ToString();
      std::vector<std::string> want_ids;
      for (const auto& [id, samples] : w.oracle) {
        auto p = OracleAt(Path(w, id), static_cast<double>(t0), w.space);
        if (p && (everywhere || engine::InRegion(mr, *p, w.space))) want_ids.push_back(id);
      }
      std::vector<std::string> got_ids;
      for (const Hit& h : slice->hits) got_ids.push_back(h.id);
      EXPECT_EQ(got_ids, want_ids) << "query " << q << (everywhere ? " everywhere" : "");
    }
    // NearestAt.
    const size_t k = 1 + rng() % 5;
    auto near = w.db->NearestAt(kNs, at, t0, k);
    ASSERT_TRUE(near.ok()) << near.status().ToString();
    std::vector<std::pair<double, std::string>> all;
    for (const auto& [id, samples] : w.oracle) {
      auto p = OracleAt(Path(w, id), static_cast<double>(t0), w.space);
      if (p) all.push_back({engine::MotionDistance({t0, at.x, at.y, at.z}, *p, w.space), id});
    }
    std::sort(all.begin(), all.end());
    ASSERT_EQ(near->hits.size(), std::min(k, all.size()));
    for (size_t i = 0; i < near->hits.size(); ++i) {
      EXPECT_NEAR(near->hits[i].distance, all[i].first, 1e-9 * (1 + all[i].first));
    }
  }
}

class DbHistoryTest : public ::testing::TestWithParam<CoordinateSystem> {};

TEST_P(DbHistoryTest, TrajectoryAndPositionAtMatchTheOracle) {
  World w = MakeWorld(GetParam(), ::locus::testing::TestSeed(), 12, 150);
  std::mt19937_64 rng(::locus::testing::TestSeed() + 1);
  for (const auto& [id, samples] : w.oracle) {
    const std::vector<Fix> path = Path(w, id);
    const int64_t a = path.front().t + static_cast<int64_t>(rng() % 60000);
    const int64_t b = a + static_cast<int64_t>(rng() % 90000);
    auto tr = w.db->Trajectory(kNs, id, a, b, {.with_metadata = true});
    ASSERT_TRUE(tr.ok()) << tr.status().ToString();
    std::vector<Sample> want;
    for (const auto& [t, s] : samples) {
      if (t >= a && t <= b) want.push_back(s);
    }
    EXPECT_EQ(tr->samples, want);
    auto desc = w.db->Trajectory(kNs, id, a, b, {.limit = 3, .order = TimeOrder::kDescending});
    ASSERT_TRUE(desc.ok());
    for (size_t i = 0; i < desc->samples.size(); ++i) {
      EXPECT_EQ(desc->samples[i].t, want[want.size() - 1 - i].t);
    }
    EXPECT_EQ(desc->truncated, want.size() > 3);
    // Positions at random instants, inside and outside the history.
    for (int q = 0; q < 20; ++q) {
      const int64_t t = path.front().t - 2000 + static_cast<int64_t>(rng() % 200000);
      auto p = w.db->PositionAt(kNs, id, t);
      const auto o = OracleAt(path, static_cast<double>(t), w.space);
      ASSERT_EQ(p.ok(), o.has_value()) << id << " at " << t;
      if (o) {
        EXPECT_NEAR(p->x, o->x, 1e-9);
        EXPECT_NEAR(p->y, o->y, 1e-9);
      } else {
        EXPECT_EQ(p.status().code(), StatusCode::kNotFound);
        auto c = w.db->PositionAt(kNs, id, t, {.clamp = true});
        ASSERT_TRUE(c.ok());
        const Fix& end = t < path.front().t ? path.front() : path.back();
        EXPECT_EQ(*c, (Position{end.x, end.y, end.z}));
      }
    }
  }
}

TEST_P(DbHistoryTest, SpatioTemporalQueriesMatchBruteForce) {
  for (bool in_order : {false, true}) {
    SCOPED_TRACE(in_order ? "samples in order" : "samples out of order");
    World w = MakeWorld(GetParam(), ::locus::testing::TestSeed() + 7, 24, 120, in_order);
    CheckSpatioTemporalQueries(w, ::locus::testing::TestSeed() + 2);
  }
}

TEST_P(DbHistoryTest, ClosestApproachAndEncountersMatchBruteForce) {
  World w = MakeWorld(GetParam(), ::locus::testing::TestSeed() + 11, 16, 80);
  const bool geo = GetParam() == CoordinateSystem::kGeographic;
  const double d = geo ? 30000 : 2;  // the clustered objects (a quarter of them) meet
  const int64_t t0 = 10000, t1 = 60000;
  std::vector<Encounter> want;
  for (auto a = w.oracle.begin(); a != w.oracle.end(); ++a) {
    for (auto b = std::next(a); b != w.oracle.end(); ++b) {
      const std::vector<Fix> pa = Path(w, a->first), pb = Path(w, b->first);
      // Pieces over the common time, cut at every sample of either.
      const int64_t lo = std::max({t0, pa.front().t, pb.front().t});
      const int64_t hi = std::min({t1, pa.back().t, pb.back().t});
      if (lo > hi) continue;
      std::vector<int64_t> cuts = {lo, hi};
      for (const auto* p : {&pa, &pb}) {
        for (const Fix& f : *p) {
          if (f.t > lo && f.t < hi) cuts.push_back(f.t);
        }
      }
      std::sort(cuts.begin(), cuts.end());
      cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
      double best_t = 0, best_d = 1e300;
      bool open = false;
      for (size_t i = 0; i + 1 < cuts.size(); ++i) {
        engine::ApproachPiece piece{*OracleAt(pa, cuts[i], w.space), *OracleAt(pa, cuts[i + 1], w.space),
                                    *OracleAt(pb, cuts[i], w.space), *OracleAt(pb, cuts[i + 1], w.space)};
        piece.a0.t = piece.b0.t = cuts[i];
        piece.a1.t = piece.b1.t = cuts[i + 1];
        const auto [t, dist] = engine::ClosestInPiece(piece, w.space);
        if (dist < best_d) best_d = dist, best_t = t;
        const auto within = engine::WithinInPiece(piece, d, w.space);
        if (!within) {
          open = false;
          continue;
        }
        if (open && within->first <= want.back().t_end) {
          want.back().t_end = within->second;
          want.back().min_distance = std::min(want.back().min_distance, dist);
        } else {
          want.push_back({a->first, b->first, within->first, within->second, dist, t});
        }
        open = within->second >= static_cast<double>(cuts[i + 1]);
      }
      auto cpa = w.db->ClosestApproach(kNs, a->first, b->first, t0, t1);
      ASSERT_TRUE(cpa.ok()) << cpa.status().ToString();
      EXPECT_NEAR(cpa->distance, best_d, 1e-9 * (1 + best_d));
      (void)best_t;
    }
  }
  std::sort(want.begin(), want.end(), [](const Encounter& x, const Encounter& y) {
    return std::tie(x.id_a, x.id_b, x.t_start) < std::tie(y.id_a, y.id_b, y.t_start);
  });
  auto got = w.db->Encounters(kNs, d, t0, t1);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(got->encounters.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(got->encounters[i].id_a, want[i].id_a);
    EXPECT_EQ(got->encounters[i].id_b, want[i].id_b);
    EXPECT_DOUBLE_EQ(got->encounters[i].t_start, want[i].t_start);
    EXPECT_DOUBLE_EQ(got->encounters[i].t_end, want[i].t_end);
    EXPECT_NEAR(got->encounters[i].min_distance, want[i].min_distance, 1e-9);
  }
  EXPECT_GT(want.size(), 0u);  // the clustered objects meet
}

INSTANTIATE_TEST_SUITE_P(Coordinates, DbHistoryTest,
                         ::testing::Values(CoordinateSystem::kPlanar2D,
                                           CoordinateSystem::kPlanar3D,
                                           CoordinateSystem::kGeographic));

std::unique_ptr<Db> PlanarHistoryDb() {
  auto db = Db::OpenInMemory({.sweep_interval_ms = 0}).value();
  NamespaceOptions o{.coordinates = CoordinateSystem::kPlanar2D};
  o.history.enabled = true;
  EXPECT_TRUE(db->CreateNamespace("h", o).ok());
  EXPECT_TRUE(db->CreateNamespace("plain", {.coordinates = CoordinateSystem::kPlanar2D}).ok());
  return db;
}

TEST(DbHistoryRulesTest, StaleUpsertsAreHistoryDeletesKeepItDeleteHistoryErases) {
  auto db = PlanarHistoryDb();
  ASSERT_TRUE(db->Upsert("h", {.id = "a", .pos = {10, 0}, .timestamp = 100}).ok());
  auto stale = db->Upsert("h", {.id = "a", .pos = {5, 0}, .timestamp = 50});
  ASSERT_TRUE(stale.ok());
  EXPECT_EQ(*stale, WriteOutcome::kStale);
  EXPECT_EQ(db->Get("h", "a")->pos.x, 10);  // the current position ignores it
  auto tr = db->Trajectory("h", "a", 0, 1000);
  ASSERT_EQ(tr->samples.size(), 2u);        // the history keeps it
  EXPECT_EQ(tr->samples[0].t, 50);
  // The same (id, t) twice keeps the later write.
  ASSERT_TRUE(db->Upsert("h", {.id = "a", .pos = {7, 0}, .timestamp = 100}).ok());
  tr = db->Trajectory("h", "a", 0, 1000);
  ASSERT_EQ(tr->samples.size(), 2u);
  EXPECT_EQ(tr->samples[1].pos.x, 7);
  EXPECT_EQ(db->PositionAt("h", "a", 75)->x, 6);
  ASSERT_TRUE(db->Delete("h", "a").ok());
  EXPECT_EQ(db->Trajectory("h", "a", 0, 1000)->samples.size(), 2u);
  EXPECT_EQ(*db->DeleteHistory("h", "a", 0, 60), 1u);
  EXPECT_EQ(db->Trajectory("h", "a", 0, 1000)->samples.size(), 1u);
  auto stats = db->Stats("h");
  EXPECT_EQ(stats->history_samples, 1u);
  EXPECT_GT(stats->history_bytes, 0u);
}

TEST(DbHistoryRulesTest, InsertTrajectoryIsAllOrNothing) {
  auto db = PlanarHistoryDb();
  std::vector<Sample> s = {{.t = 1, .pos = {0, 0}}, {.t = 2, .pos = {NAN, 0}}, {.t = 3, .pos = {1, 1}}};
  auto st = db->InsertTrajectory("h", "x", s);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("samples[1].pos.x"), std::string_view::npos) << st.ToString();
  EXPECT_EQ(db->Trajectory("h", "x", 0, 10).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(db->Get("h", "x").status().code(), StatusCode::kNotFound);
  s[1].pos.x = 0.5;
  ASSERT_TRUE(db->InsertTrajectory("h", "x", s).ok());
  EXPECT_EQ(db->Trajectory("h", "x", 0, 10)->samples.size(), 3u);
  EXPECT_EQ(db->Get("h", "x")->timestamp, 3);  // the newest sample is the current position
}

TEST(DbHistoryRulesTest, BatchTrajectoriesNeedAHistoryNamespace) {
  auto db = PlanarHistoryDb();
  ASSERT_TRUE(db->CreateNamespace("plain", {.coordinates = CoordinateSystem::kPlanar2D,
                                            .history = {}})
                  .ok());
  const std::vector<Sample> s = {{.t = 5, .pos = {5, 0}}, {.t = 1, .pos = {1, 0}}};
  Batch bad;
  bad.Upsert("plain", {.id = "other", .pos = {1, 1}, .timestamp = 1});
  bad.InsertTrajectory("plain", "x", s);
  auto r = db->Apply(bad);
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("batch[1]: namespace 'plain' keeps no history"),
            std::string_view::npos)
      << r.status().ToString();
  EXPECT_EQ(db->Get("plain", "other").status().code(), StatusCode::kNotFound);
  Batch missing;
  missing.InsertTrajectory("nowhere", "x", s);
  EXPECT_EQ(db->Apply(missing).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(db->Stats("nowhere").status().code(), StatusCode::kNotFound);
  Batch good;
  good.InsertTrajectory("h", "x", s);
  good.Upsert("plain", {.id = "other", .pos = {1, 1}, .timestamp = 1});
  ASSERT_TRUE(db->Apply(good).ok());
  EXPECT_EQ(db->Trajectory("h", "x", 0, 10)->samples.size(), 2u);
  EXPECT_EQ(db->Get("h", "x")->timestamp, 5);  // the newest sample is the current position
}

TEST(DbHistoryRulesTest, TimesBeyondWhatAHistoryKeepsAreRefused) {
  auto db = PlanarHistoryDb();
  const int64_t far = kMaxHistoryTime + 1;
  auto up = db->Upsert("h", {.id = "a", .pos = {1, 1}, .timestamp = far});
  EXPECT_EQ(up.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(up.status().message().find("object.timestamp = 9007199254740992"),
            std::string_view::npos)
      << up.status().ToString();
  auto tr = db->InsertTrajectory("h", "a", {{.t = 0, .pos = {0, 0}}, {.t = -far, .pos = {1, 0}}});
  EXPECT_NE(tr.message().find("samples[1].t = -9007199254740992"), std::string_view::npos)
      << tr.ToString();
  Batch b;
  b.Upsert("plain", {.id = "p", .pos = {1, 1}, .timestamp = far});  // no history: any time
  b.Upsert("h", {.id = "a", .pos = {1, 1}, .timestamp = far});
  auto r = db->Apply(b);
  EXPECT_NE(r.status().message().find("batch[1].timestamp"), std::string_view::npos)
      << r.status().ToString();
  EXPECT_EQ(db->Get("plain", "p").status().code(), StatusCode::kNotFound);  // all or nothing
  EXPECT_EQ(db->Stats("h")->history_samples, 0u);
  EXPECT_TRUE(db->Upsert("plain", {.id = "p", .pos = {1, 1}, .timestamp = far}).ok());
  EXPECT_TRUE(db->Upsert("h", {.id = "a", .pos = {1, 1}, .timestamp = kMaxHistoryTime}).ok());
}

TEST(DbHistoryRulesTest, BadInputIsNamed) {
  auto db = PlanarHistoryDb();
  ASSERT_TRUE(db->InsertTrajectory("h", "x", {{.t = 0, .pos = {0, 0}}, {.t = 10, .pos = {10, 0}}}).ok());
  auto crossed = db->Trajectory("h", "x", 10, 5);
  EXPECT_EQ(crossed.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(crossed.status().message().find("t1 = 5: before t0 = 10"), std::string_view::npos);
  EXPECT_EQ(db->Stops("h", "x", 0, 10, -1, 0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(db->Trajectory("h", "x", 0, 10, {.simplify_tolerance = -1}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(db->NearestAt("h", {0, 0}, 5, 0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(db->Encounters("h", -1, 0, 10).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(db->PassedThrough("h", Region::Circle({0, 0}, -2), 0, 10).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(db->Trajectory("nope", "x", 0, 10).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(db->Trajectory("h", "nobody", 0, 10).status().code(), StatusCode::kNotFound);
  auto plain = db->Trajectory("plain", "x", 0, 10);
  EXPECT_EQ(plain.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(db->ClosestApproach("h", "x", "nobody", 0, 10).status().code(), StatusCode::kNotFound);
}

TEST(DbHistoryRulesTest, MeasuresAndStops) {
  auto db = PlanarHistoryDb();
  // 0..10 s along x at 1 unit/s, then 10 s standing near x = 10, then 5 s back at 2 units/s.
  std::vector<Sample> s;
  for (int i = 0; i <= 10; ++i) s.push_back({.t = i * 1000, .pos = {double(i), 0}});
  for (int i = 1; i <= 10; ++i) s.push_back({.t = 10000 + i * 1000, .pos = {10 + 0.01 * (i % 2), 0}});
  s.push_back({.t = 25000, .pos = {0, 0}});
  ASSERT_TRUE(db->InsertTrajectory("h", "v", s).ok());
  auto st = db->TrajectoryStats("h", "v", 0, 25000);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->samples, s.size());
  EXPECT_EQ(st->duration_ms, 25000);
  EXPECT_NEAR(st->length, 10 + 0.1 + 10, 1e-9);
  EXPECT_NEAR(st->max_speed, 2, 1e-9);
  // A window clipped mid-segment: from t = 2.5 s to 5.5 s, 3 units.
  EXPECT_NEAR(db->TrajectoryStats("h", "v", 2500, 5500)->length, 3, 1e-9);
  auto stops = db->Stops("h", "v", 0, 25000, 0.5, 5000);
  ASSERT_TRUE(stops.ok());
  ASSERT_EQ(stops->size(), 1u);
  EXPECT_EQ((*stops)[0].t_start, 10000);
  EXPECT_EQ((*stops)[0].t_end, 20000);
  // Simplification keeps the corners of the path.
  auto simple = db->Trajectory("h", "v", 0, 25000, {.simplify_tolerance = 0.1});
  ASSERT_TRUE(simple.ok());
  EXPECT_EQ(simple->samples.front().t, 0);
  EXPECT_EQ(simple->samples.back().t, 25000);
  EXPECT_LE(simple->samples.size(), 4u);
}

TEST(DbHistoryRulesTest, RetentionDropsWholeOldChunks) {
  auto clock = std::make_shared<ManualClock>(0);
  auto db = Db::OpenInMemory({.clock = clock, .sweep_interval_ms = 0}).value();
  NamespaceOptions o{.coordinates = CoordinateSystem::kPlanar2D};
  o.history = {.enabled = true, .retention_ms = 60000, .chunk_samples = 16};
  ASSERT_TRUE(db->CreateNamespace("h", o).ok());
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(db->Upsert("h", {.id = "v", .pos = {double(i), 0}, .timestamp = i * 1000}).ok());
  }
  clock->Set(200000);
  db->SweepExpired(100);
  auto tr = db->Trajectory("h", "v", 0, 1000000);
  ASSERT_TRUE(tr.ok());
  ASSERT_FALSE(tr->samples.empty());
  // Every sample newer than now - retention is kept; older ones go in whole chunks.
  EXPECT_LE(tr->samples.front().t, 140000);
  EXPECT_GT(tr->samples.front().t, 100000);
  EXPECT_EQ(tr->samples.back().t, 199000);
  EXPECT_EQ(db->Stats("h")->history_samples, tr->samples.size());
}

}  // namespace
}  // namespace locus
