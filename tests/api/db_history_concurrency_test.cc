// History under concurrency: queries of every kind run while writers append samples (single
// upserts, stale ones, batches, trajectories), erase windows, the open part seals into chunks
// (small chunks) and retention drops chunks (the sweeper's path, with a manual clock). Every
// sample's position is a pure function of (object, t), so each reader checks that whatever
// it sees is a sample that was written, in order, and interpolates between written samples;
// the final state is checked against what the writers did. Run in the ASan and TSan builds
// (Encounters uses oneTBB, which the TSan build runs on one thread).
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "locus/db.h"
#include "tests/testing/harness.h"

#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace locus {
namespace {

constexpr int kObjects = 8;
constexpr int64_t kStep = 100;

// The position of object i at sample time t (t a multiple of kStep): a slow walk.
Position At(int i, int64_t t) {
  const double s = static_cast<double>(t / kStep);
  return {i * 10.0 + std::sin(s * 0.1) * 3, s * 0.01 + i, 0};
}

std::string Id(int i) { return "o" + std::to_string(i); }

TEST(DbHistoryConcurrencyTest, QueriesDuringAppendsSealsErasuresAndRetention) {
  auto clock = std::make_shared<ManualClock>(0);
  DbOptions options;
  options.sweep_interval_ms = 0;
  options.clock = clock;
  auto db = Db::OpenInMemory(options).value();
  NamespaceOptions o{.coordinates = CoordinateSystem::kPlanar2D};
  o.history = {.enabled = true, .retention_ms = 400 * kStep, .chunk_samples = 16};
  ASSERT_TRUE(db->CreateNamespace("h", o).ok());

  constexpr int64_t kSamples = 1500;  // per object
  std::atomic<bool> done{false};
  std::atomic<int64_t> reads{0};
  std::atomic<int> bad{0};
  auto check_sample = [&](int i, int64_t t, const Position& p, const char* what) {
    if (t % kStep != 0 || p.x != At(i, t).x || p.y != At(i, t).y) {
      if (bad.fetch_add(1) < 5) {
        ADD_FAILURE() << what << ": " << Id(i) << " at t " << t << " is (" << p.x << ", " << p.y
                      << "), never written";
      }
    }
  };

  // The writer: objects' samples in rounds, mixing the write paths; erases windows; moves the
  // clock and sweeps (retention drops sealed chunks).
  std::thread writer([&] {
    std::mt19937_64 rng(::locus::testing::TestSeed());
    for (int64_t k = 0; k < kSamples; k += 4) {
      for (int i = 0; i < kObjects; ++i) {
        const int mode = static_cast<int>(rng() % 3);
        if (mode == 0) {  // four upserts, the last one first (three stale: history only)
          for (int64_t j : {3, 0, 1, 2}) {
            const int64_t t = (k + j) * kStep;
            EXPECT_TRUE(db->Upsert("h", {.id = Id(i), .pos = At(i, t), .timestamp = t}).ok());
          }
        } else if (mode == 1) {
          std::vector<Sample> s;
          for (int64_t j = 0; j < 4; ++j) s.push_back({(k + j) * kStep, At(i, (k + j) * kStep)});
          EXPECT_TRUE(db->InsertTrajectory("h", Id(i), s).ok());
        } else {
          Batch b;
          std::vector<Sample> s;
          for (int64_t j = 0; j < 4; ++j) s.push_back({(k + j) * kStep, At(i, (k + j) * kStep)});
          b.InsertTrajectory("h", Id(i), s);
          EXPECT_TRUE(db->Apply(b).ok());
        }
      }
      if (k % 64 == 0 && k > 0) {
        const int victim = static_cast<int>(rng() % kObjects);
        EXPECT_TRUE(db->DeleteHistory("h", Id(victim), (k - 8) * kStep, (k - 6) * kStep).ok());
      }
      if (k % 100 == 0) {
        clock->Set(k * kStep);
        db->SweepExpired(1000);
      }
    }
    done = true;
  });

  // Readers: every query kind, checking what they see against At().
  auto reader = [&](int which) {
    std::mt19937_64 rng(::locus::testing::TestSeed() + 1 + which);
    while (!done.load()) {
      const int i = static_cast<int>(rng() % kObjects);
      const int64_t now = clock->NowMillis();
      const int64_t a = now + static_cast<int64_t>(rng() % 200) * kStep;
      const int64_t b = a + static_cast<int64_t>(rng() % 100) * kStep;
      switch (which) {
        case 0: {
          auto tr = db->Trajectory("h", Id(i), a, b);
          if (tr.ok()) {
            for (size_t s = 0; s < tr->samples.size(); ++s) {
              check_sample(i, tr->samples[s].t, tr->samples[s].pos, "Trajectory");
              if (s > 0 && tr->samples[s].t <= tr->samples[s - 1].t) bad.fetch_add(1);
            }
          } else if (tr.status().code() != StatusCode::kNotFound) {
            ADD_FAILURE() << tr.status().ToString();
          }
          auto p = db->PositionAt("h", Id(i), a);
          if (p.ok() && a % kStep == 0) {
            // Either the sample at a, or (erased) between two written samples: on the walk's
            // y line, which is linear in t.
            const double want_y = At(i, a).y;
            if (std::abs(p->y - want_y) > 1e-9) bad.fetch_add(1);
          }
          break;
        }
        case 1: {
          auto slice = db->SliceAt("h", a, Region::Box({-100, -100, 0}, {1000, 1000, 0}));
          if (slice.ok()) {
            for (const Hit& h : slice->hits) {
              const int j = std::stoi(h.id.substr(1));
              if (std::abs(h.pos.y - At(j, a).y) > 1e-9) bad.fetch_add(1);
            }
          }
          auto passed = db->PassedThrough("h", Region::Circle({i * 10.0, 0}, 50), a, b);
          if (!passed.ok()) ADD_FAILURE() << passed.status().ToString();
          break;
        }
        default: {
          auto n = db->NearestAt("h", {i * 10.0, 5}, a, 3);
          if (!n.ok()) ADD_FAILURE() << n.status().ToString();
          auto cpa = db->ClosestApproach("h", Id(i), Id((i + 1) % kObjects), a, b);
          if (!cpa.ok() && cpa.status().code() != StatusCode::kNotFound) {
            ADD_FAILURE() << cpa.status().ToString();
          }
          auto met = db->Encounters("h", 5, a, b);
          if (!met.ok()) ADD_FAILURE() << met.status().ToString();
          break;
        }
      }
      reads.fetch_add(1);
    }
  };
  std::vector<std::thread> readers;
  for (int r = 0; r < 3; ++r) readers.emplace_back(reader, r);
  writer.join();
  for (auto& r : readers) r.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_GT(reads.load(), 0);

  // The end state: every sample after retention's cutoff that no erasure touched is there.
  auto stats = db->Stats("h");
  ASSERT_TRUE(stats.ok());
  EXPECT_GT(stats->history_chunks, 1u);
  for (int i = 0; i < kObjects; ++i) {
    auto tr = db->Trajectory("h", Id(i), 0, kSamples * kStep);
    ASSERT_TRUE(tr.ok());
    for (const Sample& s : tr->samples) check_sample(i, s.t, s.pos, "final Trajectory");
    // Retention keeps everything within retention_ms of the clock's last value.
    const int64_t keep_from = clock->NowMillis() - o.history.retention_ms;
    int64_t expected = 0, got = 0;
    for (int64_t t = std::max<int64_t>(0, keep_from); t < kSamples * kStep; t += kStep) ++expected;
    for (const Sample& s : tr->samples) got += s.t >= keep_from;
    // Erasures remove at most a few windows of 3 samples.
    EXPECT_LE(got, expected);
    EXPECT_GE(got, expected - 3 * (kSamples / 64 + 1));
  }
}

}  // namespace
}  // namespace locus
