// Tests of W8's data and query generators (perf/history_data.h): deterministic, ordered, inside
// the area, at vehicle speeds, one sample per 10 s with staggered starts; queries inside the
// data's span and of the stated sizes; the reference answers against direct brute force.
#include "perf/history_data.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <set>

namespace locus::perf {
namespace {

// The seed of the data under test: kW8Seed, or $LOCUS_TEST_SEED.
uint64_t Seed() {
  const char* env = std::getenv("LOCUS_TEST_SEED");
  return env && *env ? std::strtoull(env, nullptr, 0) : kW8Seed;
}

TEST(HistoryDataTest, SameSeedSameDataOtherSeedOtherData) {
  const uint64_t seed = Seed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  const auto a = GenerateW8(50, 30, seed), b = GenerateW8(50, 30, seed);
  const auto c = GenerateW8(50, 30, seed + 1);
  ASSERT_EQ(a.size(), 1500u);
  size_t differ = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].object, b[i].object);
    EXPECT_EQ(a[i].t_ms, b[i].t_ms);
    EXPECT_EQ(a[i].lon, b[i].lon);
    EXPECT_EQ(a[i].lat, b[i].lat);
    differ += a[i].lon != c[i].lon;
  }
  EXPECT_GT(differ, a.size() * 9 / 10);
}

// A smaller data set is a prefix of a larger one: object k's walk depends only on (seed, k).
TEST(HistoryDataTest, SmallerSetIsAPrefix) {
  const uint64_t seed = Seed();
  const auto small = GenerateW8(20, 10, seed), large = GenerateW8(40, 25, seed);
  for (size_t k = 0; k < 20; ++k) {
    for (size_t i = 0; i < 10; ++i) {
      const HistorySample& s = small[k * 10 + i];
      const HistorySample& l = large[k * 25 + i];
      EXPECT_EQ(s.t_ms, l.t_ms);
      EXPECT_EQ(s.lon, l.lon);
      EXPECT_EQ(s.lat, l.lat);
    }
  }
}

TEST(HistoryDataTest, OrderIntervalsAreaAndSpeeds) {
  const uint64_t seed = Seed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  constexpr size_t kObjects = 300, kSamples = 400;
  const auto d = GenerateW8(kObjects, kSamples, seed);
  ASSERT_EQ(d.size(), kObjects * kSamples);
  const LonLatBox area = W8Area();
  std::set<int64_t> offsets;
  double min_speed = 1e9, max_speed = 0;
  for (size_t k = 0; k < kObjects; ++k) {
    const HistorySample* s = &d[k * kSamples];
    const int64_t offset = s[0].t_ms - kW8StartMs;
    EXPECT_GE(offset, 0);
    EXPECT_LE(offset, 9000);
    EXPECT_EQ(offset % 1000, 0);
    offsets.insert(offset);
    for (size_t i = 0; i < kSamples; ++i) {
      ASSERT_EQ(s[i].object, k);
      ASSERT_EQ(s[i].t_ms, s[0].t_ms + static_cast<int64_t>(i) * kW8StepMs);
      ASSERT_GE(s[i].lon, area.min_lon - 1e-12);
      ASSERT_LE(s[i].lon, area.max_lon + 1e-12);
      ASSERT_GE(s[i].lat, area.min_lat - 1e-12);
      ASSERT_LE(s[i].lat, area.max_lat + 1e-12);
      if (i > 0) {
        const double v =
            W8DistanceMetres(s[i - 1].lon, s[i - 1].lat, s[i].lon, s[i].lat) / (kW8StepMs / 1000.0);
        // A reflection shortens a step, so only the top speed bounds every step (0.5% for the
        // walk's projection against the sphere).
        ASSERT_LE(v, kW8MaxSpeed * 1.005) << "object " << k << " step " << i;
        min_speed = std::min(min_speed, v);
        max_speed = std::max(max_speed, v);
      }
    }
  }
  EXPECT_EQ(offsets.size(), 10u);  // every offset 0..9 s occurs
  EXPECT_GT(max_speed, 20);
  EXPECT_LT(min_speed, 10);
  // Headings change smoothly: consecutive steps mostly turn by less than 90 degrees.
  size_t sharp = 0, steps = 0;
  for (size_t k = 0; k < kObjects; ++k) {
    const HistorySample* s = &d[k * kSamples];
    for (size_t i = 2; i < kSamples; ++i, ++steps) {
      const double ax = s[i - 1].lon - s[i - 2].lon, ay = s[i - 1].lat - s[i - 2].lat;
      const double bx = s[i].lon - s[i - 1].lon, by = s[i].lat - s[i - 1].lat;
      sharp += ax * bx * std::cos(kW8CentreLat * M_PI / 180) * std::cos(kW8CentreLat * M_PI / 180) +
                   ay * by <
               0;
    }
  }
  EXPECT_LT(sharp, steps / 50) << sharp << " of " << steps << " steps turned by over 90 degrees";
}

TEST(HistoryDataTest, ObjectNames) {
  EXPECT_EQ(W8ObjectName(0), "vehicle-0");
  EXPECT_EQ(W8ObjectName(9999), "vehicle-9999");
}

TEST(HistoryDataTest, QueriesAreDeterministicSizedAndInsideTheData) {
  const uint64_t seed = Seed();
  constexpr size_t kObjects = 200, kSamples = 500;  // 5000 s: longer than an hour
  const auto d = GenerateW8(kObjects, kSamples, seed);
  const W8Queries q = GenerateW8Queries(d, kObjects, kSamples, 50, kW8QuerySeed);
  const W8Queries again = GenerateW8Queries(d, kObjects, kSamples, 50, kW8QuerySeed);
  const W8Queries other = GenerateW8Queries(d, kObjects, kSamples, 50, kW8QuerySeed + 1);
  ASSERT_EQ(q.trajectory.size(), 50u);
  ASSERT_EQ(q.passed_through.size(), 50u);
  ASSERT_EQ(q.slice.size(), 50u);
  ASSERT_EQ(q.encounters.size(), 50u);
  int64_t first = d[0].t_ms, last = d[0].t_ms;
  for (const HistorySample& s : d) first = std::min(first, s.t_ms), last = std::max(last, s.t_ms);
  size_t same_as_other = 0;
  for (size_t i = 0; i < 50; ++i) {
    EXPECT_EQ(q.trajectory[i].object, again.trajectory[i].object);
    EXPECT_EQ(q.trajectory[i].begin_ms, again.trajectory[i].begin_ms);
    EXPECT_EQ(q.slice[i].t_ms, again.slice[i].t_ms);
    same_as_other += q.slice[i].t_ms == other.slice[i].t_ms;

    EXPECT_LT(q.trajectory[i].object, kObjects);
    EXPECT_EQ(q.trajectory[i].end_ms - q.trajectory[i].begin_ms, kW8TrajectoryMs);
    EXPECT_GE(q.trajectory[i].begin_ms, first);
    EXPECT_LE(q.trajectory[i].end_ms, last);

    const W8PassedThroughQuery& p = q.passed_through[i];
    EXPECT_EQ(p.end_ms - p.begin_ms, kW8PassedMs);
    EXPECT_GE(p.begin_ms, first);
    EXPECT_LE(p.end_ms, last);
    const double mid_lon = (p.box.min_lon + p.box.max_lon) / 2;
    const double mid_lat = (p.box.min_lat + p.box.max_lat) / 2;
    EXPECT_NEAR(W8DistanceMetres(p.box.min_lon, mid_lat, p.box.max_lon, mid_lat), 500, 0.01);
    EXPECT_NEAR(W8DistanceMetres(mid_lon, p.box.min_lat, mid_lon, p.box.max_lat), 500, 0.01);
    // Centred on a sample inside the window: never empty.
    EXPECT_FALSE(ReferencePassedThrough(d, p).empty()) << "query " << i;

    const W8SliceQuery& s = q.slice[i];
    EXPECT_GE(s.t_ms, first + kW8StepMs);
    EXPECT_LE(s.t_ms, last);
    EXPECT_NEAR(
        W8DistanceMetres(s.region.min_lon, s.region.min_lat, s.region.min_lon, s.region.max_lat),
        2000, 0.05);

    EXPECT_EQ(q.encounters[i].end_ms - q.encounters[i].begin_ms, kW8EncounterMs);
    EXPECT_EQ(q.encounters[i].distance_metres, 50);
    EXPECT_GE(q.encounters[i].begin_ms, first);
    EXPECT_LE(q.encounters[i].end_ms, last);
  }
  EXPECT_LT(same_as_other, 5u);
}

// The references against the plainest possible loops.
TEST(HistoryDataTest, ReferencesAgreeWithBruteForce) {
  const uint64_t seed = Seed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  constexpr size_t kObjects = 200, kSamples = 70;
  const auto d = GenerateW8(kObjects, kSamples, seed);
  const W8Queries q = GenerateW8Queries(d, kObjects, kSamples, 10, kW8QuerySeed);
  size_t encounters = 0, slices = 0;
  for (size_t i = 0; i < 10; ++i) {
    // Encounters: every pair of samples in the window.
    const W8EncounterQuery& e = q.encounters[i];
    std::vector<HistorySample> in;
    for (const HistorySample& x : d) {
      if (x.t_ms >= e.begin_ms && x.t_ms <= e.end_ms) in.push_back(x);
    }
    std::vector<W8Encounter> brute;
    for (const HistorySample& a : in) {
      for (const HistorySample& b : in) {
        if (b.object <= a.object || std::abs(a.t_ms - b.t_ms) >= kW8StepMs ||
            W8DistanceMetres(a.lon, a.lat, b.lon, b.lat) > e.distance_metres) {
          continue;
        }
        const int64_t lo = std::min(a.t_ms, b.t_ms), hi = std::max(a.t_ms, b.t_ms);
        auto it = std::find_if(brute.begin(), brute.end(), [&](const W8Encounter& x) {
          return x.a == a.object && x.b == b.object;
        });
        if (it == brute.end()) {
          brute.push_back({a.object, b.object, lo, hi});
        } else {
          it->first_ms = std::min(it->first_ms, lo);
          it->last_ms = std::max(it->last_ms, hi);
        }
      }
    }
    std::sort(brute.begin(), brute.end(), [](const W8Encounter& x, const W8Encounter& y) {
      return std::pair(x.a, x.b) < std::pair(y.a, y.b);
    });
    EXPECT_EQ(ReferenceEncounters(d, e), brute) << "query " << i;
    encounters += brute.size();

    // Slice: per object, find the bracketing samples by time.
    const W8SliceQuery& s = q.slice[i];
    std::vector<HistorySample> expect;
    for (uint32_t k = 0; k < kObjects; ++k) {
      const HistorySample* o = &d[k * kSamples];
      for (size_t j = 0; j < kSamples; ++j) {
        if (o[j].t_ms > s.t_ms || o[j].t_ms <= s.t_ms - kW8StepMs) continue;
        double lon = o[j].lon, lat = o[j].lat;
        if (j + 1 < kSamples) {
          const double f = double(s.t_ms - o[j].t_ms) / double(o[j + 1].t_ms - o[j].t_ms);
          lon += (o[j + 1].lon - o[j].lon) * f;
          lat += (o[j + 1].lat - o[j].lat) * f;
        }
        if (lon >= s.region.min_lon && lon <= s.region.max_lon && lat >= s.region.min_lat &&
            lat <= s.region.max_lat) {
          expect.push_back({k, s.t_ms, lon, lat});
        }
      }
    }
    const auto got = ReferenceSlice(d, s);
    ASSERT_EQ(got.size(), expect.size()) << "query " << i;
    for (size_t j = 0; j < got.size(); ++j) {
      EXPECT_EQ(got[j].object, expect[j].object);
      EXPECT_EQ(got[j].lon, expect[j].lon);
      EXPECT_EQ(got[j].lat, expect[j].lat);
    }
    slices += got.size();
  }
  EXPECT_GT(encounters, 0u);  // the test must see some pairs to mean anything
  EXPECT_GT(slices, 0u);
}

}  // namespace
}  // namespace locus::perf
