// Tests LiveIndex (engine/live_index.h) against a reference model: a map key -> row and brute
// force over it. Random sequences of inserts, moves, removals, clock advances, bounded
// sweeps and reclusterings, checked after every step with radius, box and kNN queries (and
// their counts) under random time windows, on every compiled SIMD target, 2D and 3D.
#include "engine/live_index.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>

#include "tests/testing/harness.h"

namespace locus::engine {
namespace {

using ::locus::testing::PerTargetTest;
using ::locus::testing::SeedTrace;
using ::locus::testing::TestSeed;

template <int D>
struct Model {
  using Point = typename LiveIndex<D>::Point;
  std::map<uint32_t, typename LiveIndex<D>::Row> rows;

  static double DistSq(const Point& a, const Point& b) {
    double s = 0;
    for (int i = 0; i < D; ++i) s += (a[i] - b[i]) * (a[i] - b[i]);
    return s;
  }
  static bool Visible(const typename LiveIndex<D>::Row& r, const TimeWindow& w, int64_t now) {
    return r.expires > now && r.t >= w.t_min && r.t <= w.t_max;
  }
};

template <int D>
typename LiveIndex<D>::Point RandomPoint(std::mt19937_64& rng, int mode) {
  std::uniform_real_distribution<double> u(0, 1000);
  std::normal_distribution<double> around(0, 10);
  typename LiveIndex<D>::Point p;
  for (int a = 0; a < D; ++a) {
    switch (mode) {
      case 0: p[a] = u(rng); break;                                         // uniform
      case 1: p[a] = 300 + around(rng); break;                              // one cluster
      default: p[a] = std::floor(u(rng) / 250) * 250; break;                // duplicates
    }
  }
  return p;
}

template <int D>
void RunModel(uint64_t seed, uint32_t block_rows, bool sphere = false) {
  SCOPED_TRACE(SeedTrace(seed));
  std::mt19937_64 rng(seed);
  LiveIndex<D> index({.block_rows = block_rows, .recluster_growth = 2.0, .sphere = sphere});
  Model<D> model;
  int64_t now = 1000;
  size_t checks = 0, nonempty = 0;
  for (int step = 0; step < 1500; ++step) {
    const int op = static_cast<int>(rng() % 100);
    const uint32_t key = static_cast<uint32_t>(rng() % 600);
    if (op < 55) {  // upsert: a new object or a move
      const auto p = RandomPoint<D>(rng, static_cast<int>(rng() % 3));
      const int64_t t = now - static_cast<int64_t>(rng() % 500);
      const int64_t expires = rng() % 4 == 0 ? now + static_cast<int64_t>(rng() % 300)
                                             : kNeverExpires;
      index.Upsert(key, p, t, expires);
      model.rows[key] = {p, t, expires};
    } else if (op < 70) {
      EXPECT_EQ(index.Remove(key), model.rows.erase(key) == 1);
    } else if (op < 80) {
      now += static_cast<int64_t>(rng() % 120);
    } else if (op < 85) {  // a bounded sweep
      std::vector<uint32_t> removed;
      const size_t n = index.SweepExpired(now, 7, &removed);
      ASSERT_EQ(n, removed.size());
      ASSERT_LE(n, 7u);
      for (uint32_t k : removed) {
        ASSERT_TRUE(model.rows.count(k));
        ASSERT_LE(model.rows[k].expires, now) << "swept an alive row";
        model.rows.erase(k);
      }
    } else if (op < 87) {
      if (rng() % 2) {
        index = index.Reclustered();
      } else {  // renumbered: keys become slots; the model follows the mapping
        std::vector<uint32_t> renumber;
        index = index.Reclustered(&renumber);
        std::map<uint32_t, typename LiveIndex<D>::Row> moved;
        std::vector<bool> used(model.rows.size(), false);
        for (const auto& [k, row] : model.rows) {
          ASSERT_LT(k, renumber.size());
          const uint32_t nk = renumber[k];
          ASSERT_LT(nk, model.rows.size()) << "new keys are dense";
          ASSERT_FALSE(used[nk]) << "new keys are distinct";
          used[nk] = true;
          moved[nk] = row;
        }
        for (uint32_t k = 0; k < renumber.size(); ++k) {
          if (!model.rows.count(k)) {
            ASSERT_EQ(renumber[k], kNoKey);
          }
        }
        model.rows = std::move(moved);
        // Keys equal slots: key order is the Hilbert storage order, so a radius query over
        // everything reports keys ascending.
        std::vector<typename LiveIndex<D>::Hit> all;
        bool truncated;
        index.Radius(RandomPoint<D>(rng, 0), 1e300, {}, now, 1u << 30, &all, &truncated);
        for (size_t i = 1; i < all.size(); ++i) ASSERT_LT(all[i - 1].key, all[i].key);
      }
      ASSERT_FALSE(index.NeedsRecluster());
    }
    ASSERT_EQ(index.size(), model.rows.size());
    ASSERT_TRUE(index.CheckInvariants());
    if (step % 5 != 0) continue;

    // Queries against brute force.
    const auto c = RandomPoint<D>(rng, static_cast<int>(rng() % 3));
    const double r = std::uniform_real_distribution<double>(0, 300)(rng);
    TimeWindow w;
    if (rng() % 3 == 0) {
      w.t_min = now - static_cast<int64_t>(rng() % 400);
      w.t_max = w.t_min + static_cast<int64_t>(rng() % 300);
    }
    std::vector<std::pair<uint32_t, double>> want;
    size_t expired = 0;
    for (const auto& [k, row] : model.rows) {
      expired += row.expires <= now;
      if (Model<D>::Visible(row, w, now) && Model<D>::DistSq(row.pos, c) <= r * r) {
        want.emplace_back(k, Model<D>::DistSq(row.pos, c));
      }
    }
    std::vector<typename LiveIndex<D>::Hit> hits;
    bool truncated = true;
    index.Radius(c, r * r, w, now, 1u << 30, &hits, &truncated);
    EXPECT_FALSE(truncated);
    std::vector<std::pair<uint32_t, double>> got;
    for (const auto& h : hits) got.emplace_back(h.key, h.dist_sq);
    std::sort(got.begin(), got.end());
    ASSERT_EQ(got, want) << "radius, step " << step;
    ASSERT_EQ(index.CountRadius(c, r * r, w, now), want.size());
    ASSERT_EQ(index.CountExpired(now), expired);
    if (want.size() > 1) {  // the limit truncates
      index.Radius(c, r * r, w, now, want.size() - 1, &hits, &truncated);
      EXPECT_TRUE(truncated);
      EXPECT_EQ(hits.size(), want.size() - 1);
    }
    // Box.
    typename LiveIndex<D>::Point lo, hi;
    for (int a = 0; a < D; ++a) {
      lo[a] = c[a] - r;
      hi[a] = c[a] + r * 0.5;
    }
    std::vector<uint32_t> want_box;
    for (const auto& [k, row] : model.rows) {
      bool in = Model<D>::Visible(row, w, now);
      for (int a = 0; a < D; ++a) in &= row.pos[a] >= lo[a] && row.pos[a] <= hi[a];
      if (in) want_box.push_back(k);
    }
    std::vector<uint32_t> got_box;
    index.InBox(lo, hi, w, now, 1u << 30, &got_box, &truncated);
    std::sort(got_box.begin(), got_box.end());
    ASSERT_EQ(got_box, want_box) << "box, step " << step;
    ASSERT_EQ(index.CountBox(lo, hi, w, now), want_box.size());
    // kNN: compared by distance (ties are safe).
    const size_t k = 1 + rng() % 12;
    std::vector<double> want_d;
    for (const auto& [key2, row] : model.rows) {
      if (Model<D>::Visible(row, w, now)) want_d.push_back(Model<D>::DistSq(row.pos, c));
    }
    std::sort(want_d.begin(), want_d.end());
    if (want_d.size() > k) want_d.resize(k);
    index.Nearest(c, k, std::numeric_limits<double>::infinity(), w, now, &hits);
    std::vector<double> got_d;
    for (const auto& h : hits) {
      got_d.push_back(h.dist_sq);
      ASSERT_EQ(Model<D>::DistSq(model.rows.at(h.key).pos, c), h.dist_sq);
    }
    ASSERT_EQ(got_d, want_d) << "knn, step " << step;
    // Get.
    const auto g = index.Get(key);
    ASSERT_EQ(g.has_value(), model.rows.count(key) == 1);
    if (g) {
      EXPECT_EQ(g->pos, model.rows[key].pos);
      EXPECT_EQ(g->t, model.rows[key].t);
    }
    ++checks;
    nonempty += !want.empty();
  }
  EXPECT_GT(checks, 200u);
  EXPECT_GT(nonempty, checks / 4);
}

class LiveIndexTest : public PerTargetTest {};

TEST_P(LiveIndexTest, MatchesTheReferenceModel2D) {
  for (uint32_t rows : {16u, 64u}) RunModel<2>(TestSeed() + rows, rows);
}
TEST_P(LiveIndexTest, MatchesTheReferenceModel3D) {
  for (uint32_t rows : {16u, 128u}) RunModel<3>(TestSeed() + 7 * rows, rows);
  // Sphere clustering orders rows differently; every answer must stay the same.
  RunModel<3>(TestSeed() + 5, 32, /*sphere=*/true);
}
LOCUS_INSTANTIATE_PER_TARGET(LiveIndexTest);

TEST(LiveIndexClusterTest, MovesInflateBoundsAndReclusteringRestoresThem) {
  std::mt19937_64 rng(TestSeed());
  std::uniform_real_distribution<double> u(0, 1000);
  LiveIndex<2> index({.block_rows = 64, .recluster_growth = 2.0, .sphere = false});
  for (uint32_t k = 0; k < 5000; ++k) index.Upsert(k, {u(rng), u(rng)}, 0, kNeverExpires);
  index = index.Reclustered();
  EXPECT_FALSE(index.NeedsRecluster());
  EXPECT_EQ(index.num_blocks(), (5000u + 63) / 64);
  // Clustered blocks prune: a small radius query touches few rows' worth of blocks, which
  // shows up as the same answer; check that moving everyone far inflates the bounds.
  for (uint32_t k = 0; k < 5000; ++k) index.Upsert(k, {u(rng), u(rng)}, 1, kNeverExpires);
  EXPECT_TRUE(index.NeedsRecluster());
  const size_t before = index.CountRadius({500, 500}, 100 * 100, {}, 0);
  auto fresh = index.Reclustered();
  EXPECT_FALSE(fresh.NeedsRecluster());
  EXPECT_EQ(fresh.size(), 5000u);
  EXPECT_EQ(fresh.CountRadius({500, 500}, 100 * 100, {}, 0), before);
  EXPECT_TRUE(fresh.CheckInvariants());
  EXPECT_GT(fresh.MemoryBytes(), 5000u * (2 * 8 + 2 * 8 + 4));
  // A build allocates its columns exactly (no growth slack): 40 bytes a row (x, y, t,
  // expiry, key <-> slot) over 79 blocks of 64 rows, plus per-leaf, per-block and
  // per-superblock bounds and column padding.
  EXPECT_LT(fresh.MemoryBytes(), 79u * 64 * 40 + 79 * 4 * 4 * 4 + 79 * 4 * 8 + 16 * 1024);
}

TEST(LiveIndexClusterTest, DeletedAndExpiredRowsAreInvisibleAtOnceAndSweptInBoundedPasses) {
  LiveIndex<2> index({.block_rows = 16, .recluster_growth = 2.0, .sphere = false});
  for (uint32_t k = 0; k < 100; ++k) {
    index.Upsert(k, {double(k), 0}, 0, k < 50 ? 1000 : kNeverExpires);
  }
  EXPECT_EQ(index.CountRadius({50, 0}, 1e9, {}, 999), 100u);
  EXPECT_EQ(index.CountRadius({50, 0}, 1e9, {}, 1000), 50u);  // expiry is strict: > now
  EXPECT_EQ(index.CountExpired(1000), 50u);
  EXPECT_TRUE(index.Remove(60));
  EXPECT_FALSE(index.Remove(60));
  EXPECT_EQ(index.CountRadius({50, 0}, 1e9, {}, 1000), 49u);
  std::vector<uint32_t> removed;
  size_t total = 0;
  for (int pass = 0; pass < 20 && total < 50; ++pass) {
    const size_t n = index.SweepExpired(1000, 8, &removed);
    EXPECT_LE(n, 8u);
    total += n;
  }
  EXPECT_EQ(total, 50u);
  std::sort(removed.begin(), removed.end());
  for (uint32_t k = 0; k < 50; ++k) EXPECT_EQ(removed[k], k);
  EXPECT_EQ(index.size(), 49u);
  EXPECT_EQ(index.SweepExpired(1000, 8, &removed), 0u);
  // A freed slot is reused.
  index.Upsert(500, {1, 1}, 0, kNeverExpires);
  EXPECT_EQ(index.size(), 50u);
  EXPECT_TRUE(index.CheckInvariants());
}


// Nearest first tries a radius guessed from the density around the query and falls back to
// a top-k walk when the guess holds fewer than k rows. Both must give exactly what brute
// force gives (distance, then slot order, which is key order here: keys are inserted in
// slot order), also where the guess is useless: a sparse time window, a query far outside
// the data, every point in one place, points on a line, and a finite maximum distance.
template <int D>
void CheckNearestAgainstBruteForce(const std::vector<typename LiveIndex<D>::Point>& pts,
                                   const std::vector<typename LiveIndex<D>::Point>& queries,
                                   bool sphere, uint64_t seed) {
  SCOPED_TRACE(SeedTrace(seed));
  std::mt19937_64 rng(seed);
  LiveIndex<D> index({.block_rows = 128, .recluster_growth = 2.0, .sphere = sphere});
  for (uint32_t k = 0; k < pts.size(); ++k) index.Upsert(k, pts[k], k % 100, kNeverExpires);
  index = index.Reclustered();
  size_t nonempty = 0;
  for (const auto& c : queries) {
    for (int variant = 0; variant < 4; ++variant) {
      TimeWindow w;
      if (variant == 1) w.t_min = w.t_max = static_cast<int64_t>(rng() % 100);  // 1% of rows
      const size_t k = variant == 3 ? 200 : 1 + rng() % 20;
      double max_sq = std::numeric_limits<double>::infinity();
      if (variant == 2) max_sq = std::uniform_real_distribution<double>(0, 2500)(rng);
      std::vector<std::pair<double, uint32_t>> want;
      for (uint32_t key = 0; key < pts.size(); ++key) {
        const double d = Model<D>::DistSq(pts[key], c);
        const int64_t t = key % 100;
        if (t >= w.t_min && t <= w.t_max && d <= max_sq) want.emplace_back(d, key);
      }
      std::sort(want.begin(), want.end());
      if (want.size() > k) want.resize(k);
      std::vector<typename LiveIndex<D>::Hit> hits;
      index.Nearest(c, k, max_sq, w, 0, &hits);
      // Ties are broken by slot, and slots follow the clustering, not the key: compare the
      // distances in order and the keys as sets among equal distances.
      ASSERT_EQ(hits.size(), want.size()) << "variant " << variant;
      for (size_t i = 0; i < hits.size(); ++i) {
        ASSERT_EQ(hits[i].dist_sq, want[i].first) << "variant " << variant << " rank " << i;
        ASSERT_EQ(Model<D>::DistSq(pts[hits[i].key], c), hits[i].dist_sq);
      }
      nonempty += !hits.empty();
    }
  }
  EXPECT_GT(nonempty, queries.size());
}

TEST(LiveIndexNearestTest, GuessedRadiusAndFallbackMatchBruteForce) {
  const uint64_t seed = TestSeed();
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0, 1000);
  std::vector<LiveIndex<2>::Point> uniform(20000), line(3000), same(500, {5, 5});
  for (auto& p : uniform) p = {u(rng), u(rng)};
  for (auto& p : line) p = {u(rng), 7};
  std::vector<LiveIndex<2>::Point> queries;
  for (int i = 0; i < 40; ++i) queries.push_back({u(rng), u(rng)});
  queries.push_back({-5000, 500});  // far outside the data
  queries.push_back({1e6, 1e6});
  CheckNearestAgainstBruteForce<2>(uniform, queries, false, seed);
  CheckNearestAgainstBruteForce<2>(line, queries, false, seed + 1);
  CheckNearestAgainstBruteForce<2>(same, queries, false, seed + 2);
  // 3D: a filled cube, a flat sheet (z = 0) and unit vectors (the sphere's clustering).
  std::vector<LiveIndex<3>::Point> cube(10000), sheet(10000), sphere(10000);
  for (auto& p : cube) p = {u(rng), u(rng), u(rng)};
  for (auto& p : sheet) p = {u(rng), u(rng), 0};
  for (auto& p : sphere) {
    const double lon = (u(rng) / 1000 - 0.5) * 6.28, z = u(rng) / 500 - 1;
    const double r = std::sqrt(1 - z * z);
    p = {r * std::cos(lon), r * std::sin(lon), z};
  }
  std::vector<LiveIndex<3>::Point> q3;
  for (int i = 0; i < 40; ++i) q3.push_back({u(rng), u(rng), u(rng) / 1000});
  q3.push_back({-5000, 0, 0});
  for (size_t i = 0; i < 20; ++i) q3.push_back(sphere[i * 97]);
  CheckNearestAgainstBruteForce<3>(cube, q3, false, seed + 3);
  CheckNearestAgainstBruteForce<3>(sheet, q3, false, seed + 4);
  CheckNearestAgainstBruteForce<3>(sphere, q3, true, seed + 5);
}

}  // namespace
}  // namespace locus::engine
