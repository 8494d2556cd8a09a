// engine/history.h against a brute-force oracle: every object's samples in a std::map (a later
// sample at the same t replaces the earlier), with the same motion rule (motion.h). Checked:
// timelines (windows, neighbours, metadata), spans, counts, and the completeness of
// Candidates (every object whose path is inside a box at some instant of a window is a
// candidate), after random out-of-order inserts, duplicates, erases, seals at small chunk
// sizes and retention drops; planar and geographic (antimeridian, poles) data.
#include "engine/history.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "tests/testing/harness.h"

namespace locus::engine {
namespace {

struct OracleSample {
  Fix f;
  std::string meta;
};
using Oracle = std::map<uint32_t, std::map<int64_t, OracleSample>>;

std::vector<Fix> OracleTimeline(const Oracle& o, uint32_t object) {
  std::vector<Fix> out;
  auto it = o.find(object);
  if (it == o.end()) return out;
  for (const auto& [t, s] : it->second) out.push_back(s.f);
  return out;
}

// Random walkers: planar in [0, 1000]^2; geographic near the antimeridian, a pole, or anywhere.
class Walker {
 public:
  Walker(std::mt19937_64* rng, Space space, uint32_t object) : rng_(rng), space_(space) {
    std::uniform_real_distribution<double> u(0, 1);
    if (space == Space::kSphere) {
      const int kind = static_cast<int>(object % 3);
      x_ = kind == 0 ? 179.5 : -180 + 360 * u(*rng);
      y_ = kind == 1 ? 89.0 : -60 + 120 * u(*rng);
    } else {
      x_ = 1000 * u(*rng), y_ = 1000 * u(*rng);
    }
  }
  Fix Next(int64_t t) {
    std::normal_distribution<double> step(0, space_ == Space::kSphere ? 0.05 : 5);
    x_ += step(*rng_);
    y_ += step(*rng_);
    if (space_ == Space::kSphere) {
      x_ = std::remainder(x_, 360.0);
      y_ = std::max(-89.99, std::min(89.99, y_));
    }
    return {t, x_, y_, space_ == Space::kPlanar3D ? x_ * 0.1 : 0};
  }

 private:
  std::mt19937_64* rng_;
  Space space_;
  double x_, y_;
};

// Every object whose oracle path is inside the box at some instant of [t0, t1].
std::vector<uint32_t> OracleInBox(const Oracle& o, const MotionRegion& box, int64_t t0, int64_t t1,
                                  Space space) {
  std::vector<uint32_t> out;
  for (const auto& [object, samples] : o) {
    const std::vector<Fix> tl = OracleTimeline(o, object);
    bool hit = false;
    for (size_t i = 0; i < tl.size() && !hit; ++i) {
      if (tl.size() == 1 || i + 1 == tl.size()) {
        hit = tl[i].t >= t0 && tl[i].t <= t1 && InRegion(box, tl[i], space);
        if (tl.size() > 1) break;
      } else {
        hit = FirstInside(tl[i], tl[i + 1], t0, t1, box, space).has_value();
      }
    }
    if (hit) out.push_back(object);
  }
  return out;
}

// *in_place (when not null) counts the candidate stretches read in place (History::Stretch).
void CheckAgainstOracle(const History& h, const Oracle& o, std::mt19937_64& rng, Space space,
                        int64_t t_max, size_t* in_place = nullptr) {
  size_t total = 0;
  for (const auto& [object, samples] : o) total += samples.size();
  EXPECT_EQ(h.Counts().samples, total);
  std::uniform_int_distribution<int64_t> tq(-1000, t_max + 1000);
  for (const auto& [object, samples] : o) {
    // The whole timeline, with metadata.
    std::vector<Fix> got;
    std::vector<std::string_view> meta;
    h.Timeline(object, INT64_MIN, INT64_MAX, false, &got, &meta);
    const std::vector<Fix> want = OracleTimeline(o, object);
    ASSERT_EQ(got, want) << "object " << object;
    size_t i = 0;
    for (const auto& [t, s] : samples) EXPECT_EQ(meta[i++], s.meta);
    int64_t first = 0, last = 0;
    ASSERT_EQ(h.Span(object, &first, &last), !want.empty());
    if (!want.empty()) {
      EXPECT_EQ(first, want.front().t);
      EXPECT_EQ(last, want.back().t);
    }
    // A random window with neighbours.
    int64_t t0 = tq(rng), t1 = tq(rng);
    if (t0 > t1) std::swap(t0, t1);
    std::vector<Fix> win;
    h.Timeline(object, t0, t1, true, &win);
    std::vector<Fix> expect;
    const Fix* pred = nullptr;
    const Fix* succ = nullptr;
    for (const Fix& f : want) {
      if (f.t < t0) pred = &f;
      if (f.t > t1 && !succ) succ = &f;
    }
    if (pred) expect.push_back(*pred);
    for (const Fix& f : want) {
      if (f.t >= t0 && f.t <= t1) expect.push_back(f);
    }
    if (succ) expect.push_back(*succ);
    ASSERT_EQ(win, expect) << "object " << object << " window [" << t0 << ", " << t1 << "]";
  }
  // Candidates are complete.
  std::uniform_real_distribution<double> u(0, 1);
  for (int q = 0; q < 60; ++q) {
    MotionRegion box;
    if (space == Space::kSphere) {
      const double cx = q % 3 == 0 ? 179.8 : -180 + 360 * u(rng);
      const double cy = q % 3 == 1 ? 89.0 : -70 + 140 * u(rng);
      box.min_x = cx - u(rng) * 0.5, box.max_x = cx + u(rng) * 0.5;
      if (box.max_x > 180) box.max_x -= 360;
      box.min_y = std::max(-90.0, cy - u(rng) * 0.5), box.max_y = std::min(90.0, cy + u(rng) * 0.5);
    } else {
      const double cx = 1000 * u(rng), cy = 1000 * u(rng);
      box.min_x = cx - 60 * u(rng), box.max_x = cx + 60 * u(rng);
      box.min_y = cy - 60 * u(rng), box.max_y = cy + 60 * u(rng);
    }
    int64_t t0 = tq(rng), t1 = tq(rng);
    if (t0 > t1) std::swap(t0, t1);
    if (q == 0) {  // everything, always: every index entry is a candidate
      box.min_x = space == Space::kSphere ? -180 : -1e9, box.max_x = -box.min_x;
      box.min_y = space == Space::kSphere ? -90 : -1e9, box.max_y = -box.min_y;
      t0 = INT64_MIN / 4, t1 = INT64_MAX / 4;
    }
    std::array<double, 4> pieces[2];
    const int np = RegionBoxes(box, space, pieces);
    std::vector<uint32_t> cand;
    for (int p = 0; p < np; ++p) h.Candidates(pieces[p], t0, t1, &cand);
    std::sort(cand.begin(), cand.end());
    for (uint32_t object : OracleInBox(o, box, t0, t1, space)) {
      EXPECT_TRUE(std::binary_search(cand.begin(), cand.end(), object))
          << "object " << object << " passed through box " << q << " but is no candidate";
    }
    // Every candidate stretch, as found, clipped to a part of its rows, and widened over the
    // object's next rows in the chunk: Stretch reads what Timeline reads.
    std::vector<HistorySpan> spans;
    for (int p = 0; p < np; ++p) h.CandidateSpans(pieces[p], t0, t1, &spans);
    std::vector<uint32_t> span_objects;
    for (const HistorySpan& sp : spans) span_objects.push_back(sp.object);
    std::sort(span_objects.begin(), span_objects.end());
    span_objects.erase(std::unique(span_objects.begin(), span_objects.end()), span_objects.end());
    cand.erase(std::unique(cand.begin(), cand.end()), cand.end());
    EXPECT_EQ(span_objects, cand) << "box " << q;
    for (size_t i = 0; i < spans.size(); ++i) {
      std::vector<HistorySpan> variants = {spans[i]};
      HistorySpan clipped = spans[i];
      clipped.t0 += (clipped.t1 - clipped.t0) / 3;
      clipped.t1 -= (clipped.t1 - clipped.t0) / 3;
      variants.push_back(clipped);
      for (size_t j = i + 1; j < spans.size(); ++j) {
        if (spans[j].seq == spans[i].seq && spans[j].object == spans[i].object &&
            spans[j].seq != kNoRow && spans[j].first_row > spans[i].last_row) {
          HistorySpan wide = spans[i];
          wide.last_row = spans[j].last_row;
          wide.t1 = spans[j].t1;
          variants.push_back(wide);
          break;
        }
      }
      for (const HistorySpan& v : variants) {
        std::vector<Fix> got, want;
        const bool read_in_place = h.Stretch(v, &got);
        if (in_place) *in_place += read_in_place;
        h.Timeline(v.object, v.t0, v.t1, true, &want);
        ASSERT_EQ(got, want) << "object " << v.object << " [" << v.t0 << ", " << v.t1 << "]";
      }
    }
  }
}

void RunScenario(Space space, size_t chunk_samples, bool in_order) {
  std::mt19937_64 rng(::locus::testing::TestSeed() + chunk_samples + (in_order ? 1 : 0));
  HistoryConfig config;
  config.space = space;
  config.keep_metadata = true;
  config.chunk_samples = chunk_samples;
  config.run_samples = 4;
  History h(config);
  Oracle oracle;
  const uint32_t kObjects = 40;
  const int kSamples = 60;
  std::vector<std::pair<uint32_t, Fix>> all;
  for (uint32_t object = 0; object < kObjects; ++object) {
    Walker w(&rng, space, object);
    for (int i = 0; i < kSamples; ++i) all.push_back({object, w.Next(i * 1000 + object)});
  }
  if (!in_order) std::shuffle(all.begin(), all.end(), rng);
  std::uniform_real_distribution<double> u(0, 1);
  size_t step = 0;
  for (const auto& [object, f] : all) {
    std::string meta = std::to_string(step++);  // ("m" + to_string trips GCC 12's -Wrestrict)
    h.Add(object, f, meta);
    oracle[object][f.t] = {f, meta};
    if (u(rng) < 0.02) {  // a duplicate of an earlier sample of this object: replaced
      auto& samples = oracle[object];
      auto it = samples.begin();
      std::advance(it, static_cast<long>(rng() % samples.size()));
      Fix moved = it->second.f;
      moved.x += space == Space::kSphere ? 0.01 : 3;
      h.Add(object, moved, "dup");
      it->second = {moved, "dup"};
    }
    if (u(rng) < 0.01) {  // erase a window of one object
      const uint32_t victim = static_cast<uint32_t>(rng() % kObjects);
      const int64_t t0 = static_cast<int64_t>(u(rng) * kSamples * 1000);
      const int64_t t1 = t0 + static_cast<int64_t>(u(rng) * 8000);
      size_t expected = 0;
      auto& samples = oracle[victim];
      for (auto it = samples.lower_bound(t0); it != samples.end() && it->first <= t1;) {
        it = samples.erase(it);
        ++expected;
      }
      if (samples.empty()) oracle.erase(victim);
      EXPECT_EQ(h.Erase(victim, t0, t1), expected);
    }
  }
  size_t in_place = 0;
  CheckAgainstOracle(h, oracle, rng, space, kSamples * 1000, &in_place);
  {
    // Exported and imported (what the database's files do): the same history, searchable.
    History r(config);
    for (const HistoryChunkInfo& c : h.LiveChunks()) {
      auto seq = r.ImportChunk(h.ExportChunk(c.seq), h.object_limit());
      ASSERT_TRUE(seq.ok()) << seq.status().ToString();
    }
    ASSERT_TRUE(r.ImportOpen(h.ExportOpen(), h.object_limit()).ok());
    EXPECT_EQ(r.Counts().samples, h.Counts().samples);
    EXPECT_EQ(r.Counts().chunks, h.Counts().chunks);
    CheckAgainstOracle(r, oracle, rng, space, kSamples * 1000, &in_place);
    // Replaying every sample (a log over a restored history) changes nothing.
    std::vector<size_t> erased_before;
    for (const HistoryChunkInfo& c : r.LiveChunks()) erased_before.push_back(c.erased);
    for (const auto& [object, samples] : oracle) {
      for (const auto& [t, s] : samples) r.Add(object, s.f, s.meta);
    }
    std::vector<size_t> erased_after;
    for (const HistoryChunkInfo& c : r.LiveChunks()) erased_after.push_back(c.erased);
    EXPECT_EQ(erased_after, erased_before);
    EXPECT_EQ(r.Counts().samples, h.Counts().samples);
    CheckAgainstOracle(r, oracle, rng, space, kSamples * 1000, &in_place);
  }
  if (chunk_samples < 1000) {
    EXPECT_GT(h.Counts().chunks, 1u);
  }
  // Retention: drop the chunks wholly older than the middle, then mirror what went.
  h.Seal();
  const int64_t cutoff = kSamples * 1000 / 2;
  const size_t before = h.Counts().samples;
  const size_t dropped = h.DropChunksBefore(cutoff);
  EXPECT_EQ(h.Counts().samples, before - dropped);
  Oracle after;
  for (const auto& [object, samples] : oracle) {
    std::vector<Fix> tl;
    h.Timeline(object, INT64_MIN, INT64_MAX, false, &tl);
    for (const Fix& f : tl) {
      auto it = samples.find(f.t);
      ASSERT_TRUE(it != samples.end());
      EXPECT_EQ(it->second.f, f);
      after[object][f.t] = it->second;
    }
    // Whatever remains is a suffix-closed set: nothing at or after the cutoff was dropped.
    for (const auto& [t, s] : samples) {
      if (t >= cutoff) {
        EXPECT_TRUE(after[object].count(t)) << object << " lost " << t;
      }
    }
    if (after[object].empty()) after.erase(object);
  }
  CheckAgainstOracle(h, after, rng, space, kSamples * 1000, &in_place);
  // More samples after retention, then everything again.
  for (uint32_t object = 0; object < kObjects; object += 3) {
    Walker w(&rng, space, object);
    const Fix f = w.Next(kSamples * 1000 + 5000 + object);
    h.Add(object, f, "late");
    after[object][f.t] = {f, "late"};
  }
  CheckAgainstOracle(h, after, rng, space, kSamples * 1000 + 6000, &in_place);
  // Written object by object in time order, most chunks hold stretches of timelines.
  if (in_order) {
    EXPECT_GT(in_place, 0u);
  }
}

TEST(HistoryTest, PlanarInOrderSmallChunks) { RunScenario(Space::kPlanar2D, 97, true); }
TEST(HistoryTest, PlanarShuffledSmallChunks) { RunScenario(Space::kPlanar2D, 97, false); }
TEST(HistoryTest, PlanarShuffledOneChunk) { RunScenario(Space::kPlanar2D, 1 << 20, false); }
TEST(HistoryTest, Planar3DShuffled) { RunScenario(Space::kPlanar3D, 211, false); }
TEST(HistoryTest, SphereInOrder) { RunScenario(Space::kSphere, 97, true); }
TEST(HistoryTest, SphereShuffled) { RunScenario(Space::kSphere, 131, false); }

TEST(HistoryTest, EmptyAndSingleSample) {
  History h({.space = Space::kPlanar2D});
  std::vector<Fix> out;
  h.Timeline(3, 0, 100, true, &out);
  EXPECT_TRUE(out.empty());
  int64_t a, b;
  EXPECT_FALSE(h.Span(3, &a, &b));
  h.Add(3, {50, 1, 2, 0});
  std::vector<uint32_t> cand;
  h.Candidates({0, 0, 5, 5}, 0, 100, &cand);
  EXPECT_EQ(cand, std::vector<uint32_t>{3});
  cand.clear();
  h.Candidates({0, 0, 5, 5}, 51, 100, &cand);
  EXPECT_TRUE(cand.empty());
  h.Seal();
  h.Candidates({0, 0, 5, 5}, 0, 50, &cand);
  EXPECT_EQ(cand, std::vector<uint32_t>{3});
  EXPECT_EQ(h.Counts().chunks, 1u);
  EXPECT_GT(h.Counts().memory_bytes, 0u);
}

TEST(HistoryTest, EraseLeavesABridgeThatIsSearchable) {
  History h({.space = Space::kPlanar2D, .chunk_samples = 3});
  // 0 -> (10, 50) -> 20: erasing the middle sample opens the straight segment 0 -> 20, which
  // passes through (10, 0).
  h.Add(1, {0, 0, 0, 0});
  h.Add(1, {10, 10, 50, 0});
  h.Add(1, {20, 20, 0, 0});  // sealed here
  h.Add(1, {30, 30, 0, 0});
  std::vector<uint32_t> cand;
  EXPECT_EQ(h.Erase(1, 10, 10), 1u);
  h.Candidates({9, -1, 11, 1}, 0, 30, &cand);
  EXPECT_EQ(cand, std::vector<uint32_t>{1});
  h.Seal();
  cand.clear();
  h.Candidates({9, -1, 11, 1}, 0, 30, &cand);
  EXPECT_EQ(cand, std::vector<uint32_t>{1});
}

// Every run's stretch read in place equals the timeline's, and how many were read in place.
size_t CheckEveryStretch(const History& h) {
  std::vector<HistorySpan> spans;
  h.CandidateSpans({-1e9, -1e9, 1e9, 1e9}, -1000000, 1000000, &spans);
  size_t in_place = 0;
  for (const HistorySpan& sp : spans) {
    std::vector<Fix> got, want;
    in_place += h.Stretch(sp, &got);
    h.Timeline(sp.object, sp.t0, sp.t1, true, &want);
    EXPECT_EQ(got, want) << "object " << sp.object << " [" << sp.t0 << ", " << sp.t1 << "]";
  }
  return in_place;
}

TEST(HistoryTest, SamplesAmongAChunksTimesStopReadsInPlace) {
  const HistoryConfig config{.space = Space::kPlanar2D, .chunk_samples = 32, .run_samples = 4};
  History h(config);
  for (uint32_t object = 0; object < 2; ++object) {
    for (int64_t i = 0; i < 64; ++i) {
      h.Add(object, {i * 1000, static_cast<double>(i), static_cast<double>(object), 0});
    }
  }
  ASSERT_EQ(h.Counts().chunks, 4u);
  const size_t all_runs = CheckEveryStretch(h);
  EXPECT_GT(all_runs, 20u);  // all but the runs at an object's first row in a chunk
  // Open samples among the sealed times of object 0: one between two sealed samples, one
  // replacing a sealed sample; and one of object 1 after all its samples.
  h.Add(0, {10500, 500, 500, 0});
  h.Add(0, {40000, -500, 500, 0});
  h.Add(1, {70000, 70, 1, 0});
  const size_t open = CheckEveryStretch(h);
  EXPECT_LT(open, all_runs);
  EXPECT_GT(open, 0u);
  h.Seal();
  EXPECT_EQ(CheckEveryStretch(h), open);
  // The same after export and import.
  History r(config);
  for (const HistoryChunkInfo& c : h.LiveChunks()) {
    ASSERT_TRUE(r.ImportChunk(h.ExportChunk(c.seq), h.object_limit()).ok());
  }
  ASSERT_TRUE(r.ImportOpen(h.ExportOpen(), h.object_limit()).ok());
  EXPECT_GT(CheckEveryStretch(r), 0u);
}

TEST(HistoryTest, ImportRejectsBadImages) {
  HistoryConfig config;
  config.chunk_samples = 4;
  History h(config);
  for (int i = 0; i < 4; ++i) h.Add(1, {i * 10, 1.0 * i, 2.0, 0});
  ASSERT_EQ(h.LiveChunks().size(), 1u);
  const HistoryChunkImage good = h.ExportChunk(h.LiveChunks()[0].seq);
  auto expect_bad = [&](HistoryChunkImage im, uint32_t limit, const char* what) {
    History fresh(config);
    auto r = fresh.ImportChunk(std::move(im), limit);
    ASSERT_FALSE(r.ok()) << what;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << what;
    EXPECT_EQ(fresh.Counts().chunks, 0u) << what;
  };
  {
    History fresh(config);
    ASSERT_TRUE(fresh.ImportChunk(good, 2).ok());
  }
  expect_bad(good, 1, "object beyond the limit");
  auto im = good;
  im.t[2] = im.t[1];
  expect_bad(im, 2, "times not ascending");
  im = good;
  im.x.pop_back();
  expect_bad(im, 2, "short column");
  im = good;
  im.y[0] = std::nan("");
  expect_bad(im, 2, "NaN");
  im = good;
  im.begin.back() = 3;
  expect_bad(im, 2, "offsets");
  im = good;
  im.erased = {uint64_t{1} << 5};
  expect_bad(im, 2, "erased bit past the rows");
  im = good;
  im.entries[0].min_x = im.entries[0].max_x + 1;
  expect_bad(im, 2, "inverted entry");
  im = good;
  im.meta_end = {0, 0, 0, 0};
  expect_bad(im, 2, "metadata in a history without");
  History fresh(config);
  HistoryOpenObject o;
  o.object = 0;
  o.tail = {{5, 0, 0, 0}, {5, 1, 1, 0}};
  EXPECT_FALSE(fresh.ImportOpen({o}, 1).ok());
  o.tail = {{5, 0, 0, 0}};
  EXPECT_FALSE(fresh.ImportOpen({o}, 0).ok());
  EXPECT_TRUE(fresh.ImportOpen({o}, 1).ok());
  EXPECT_EQ(fresh.Counts().samples, 1u);
}

}  // namespace
}  // namespace locus::engine
