// History in durable databases (Db::Open; docs/LOG_FORMAT.md, "History"): seeded workloads of
// upserts (stale ones included: history only), batches, InsertTrajectory and DeleteHistory
// over history namespaces with small chunks, with checkpoints and reopens at random points,
// recover every object's history exactly as an in-memory oracle holds it (samples, metadata,
// counts), under each sync policy's clean close; DeleteHistory is durable and its samples
// leave every file at the next checkpoint; retention's chunk files go with the checkpoint
// after the sweep; namespace options survive; a damaged or missing chunk file is an error
// naming the file.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "locus/db.h"
#include "tests/testing/harness.h"


// The tests build objects and options with designated initializers naming only the fields they need.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace locus {
namespace {

namespace fs = std::filesystem;

struct Dir {
  explicit Dir(const std::string& name) : path(::testing::TempDir() + "/" + name) {
    fs::remove_all(path);
  }
  ~Dir() { fs::remove_all(path); }
  std::string path;
};

// id -> t -> (position, metadata)
using Oracle = std::map<std::string, std::map<int64_t, Sample>>;

std::vector<std::string> HistoryFiles(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string n = e.path().filename().string();
    if (n.rfind("history-", 0) == 0) out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string ReadAll(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

NamespaceOptions HistoryNs(CoordinateSystem cs) {
  NamespaceOptions o;
  o.coordinates = cs;
  o.history.enabled = true;
  o.history.keep_metadata = true;
  o.history.chunk_samples = 16;
  return o;
}

void ExpectHistory(Db& db, const std::string& ns, const Oracle& oracle, const std::string& when) {
  size_t total = 0;
  for (const auto& [id, samples] : oracle) {
    total += samples.size();
    auto got = db.Trajectory(ns, id, INT64_MIN / 4, INT64_MAX / 4, {.with_metadata = true});
    if (samples.empty()) {
      // Every sample erased: the object may be known with no samples, or unknown.
      if (got.ok()) {
        EXPECT_TRUE(got->samples.empty()) << when << ": " << id;
      }
      continue;
    }
    ASSERT_TRUE(got.ok()) << when << ": " << id << ": " << got.status().ToString();
    std::vector<Sample> want;
    for (const auto& [t, s] : samples) want.push_back(s);
    ASSERT_EQ(got->samples.size(), want.size()) << when << ": " << id;
    for (size_t i = 0; i < want.size(); ++i) {
      EXPECT_EQ(got->samples[i], want[i]) << when << ": " << id << " sample " << i;
    }
  }
  auto stats = db.Stats(ns);
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->history_samples, total) << when;
}

class DurableHistoryTest : public ::testing::TestWithParam<CoordinateSystem> {};

TEST_P(DurableHistoryTest, RecoversEveryAcknowledgedSampleAcrossCheckpointsAndReopens) {
  const CoordinateSystem cs = GetParam();
  Dir dir("locus_history_durable_" + std::to_string(static_cast<int>(cs)));
  std::mt19937_64 rng(::locus::testing::TestSeed() + static_cast<int>(cs));
  std::uniform_real_distribution<double> u(0, 1);
  const bool geo = cs == CoordinateSystem::kGeographic;
  auto position = [&] {
    // Geographic: some objects near the antimeridian and the poles.
    if (geo) return Position{u(rng) * 360 - 180, u(rng) * 180 - 90, 0};
    return Position{u(rng) * 1000, u(rng) * 1000, cs == CoordinateSystem::kPlanar3D ? u(rng) : 0};
  };
  DbOptions options;
  options.sweep_interval_ms = 0;
  auto db = Db::Open(dir.path, options).value();
  ASSERT_TRUE(db->CreateNamespace("h", HistoryNs(cs)).ok());
  Oracle oracle;
  const int kObjects = 12;
  auto id_of = [](int i) { return "obj-" + std::to_string(i); };
  int64_t step = 0;
  for (int round = 0; round < 6; ++round) {
    for (int op = 0; op < 150; ++op) {
      const std::string id = id_of(static_cast<int>(rng() % kObjects));
      const double r = u(rng);
      if (r < 0.5) {  // an upsert at a random time: often stale (history only)
        const int64_t t = static_cast<int64_t>(rng() % 5000);
        Object o{.id = id, .pos = position(), .timestamp = t,
                 .metadata = "m" + std::to_string(step++)};
        ASSERT_TRUE(db->Upsert("h", o).ok());
        oracle[id][t] = {t, o.pos, o.metadata};
      } else if (r < 0.65) {  // a batch of upserts
        Batch b;
        for (int k = 0; k < 4; ++k) {
          const std::string bid = id_of(static_cast<int>(rng() % kObjects));
          const int64_t t = static_cast<int64_t>(rng() % 5000);
          Object o{.id = bid, .pos = position(), .timestamp = t,
                   .metadata = "b" + std::to_string(step++)};
          oracle[bid][t] = {t, o.pos, o.metadata};
          b.Upsert("h", o);
        }
        ASSERT_TRUE(db->Apply(b).ok());
      } else if (r < 0.85) {  // a trajectory, in any order
        std::vector<Sample> samples;
        for (int k = 0; k < 5; ++k) {
          const int64_t t = static_cast<int64_t>(rng() % 5000);
          samples.push_back({t, position(), "t" + std::to_string(step++)});
        }
        ASSERT_TRUE(db->InsertTrajectory("h", id, samples).ok());
        for (const Sample& s : samples) oracle[id][s.t] = s;
      } else if (r < 0.95) {  // erase a window
        const int64_t t0 = static_cast<int64_t>(rng() % 5000);
        const int64_t t1 = t0 + static_cast<int64_t>(rng() % 400);
        auto erased = db->DeleteHistory("h", id, t0, t1);
        if (!oracle.count(id)) {
          EXPECT_EQ(erased.status().code(), StatusCode::kNotFound);
          continue;
        }
        ASSERT_TRUE(erased.ok()) << erased.status().ToString();
        auto& s = oracle[id];
        size_t expected = 0;
        for (auto it = s.lower_bound(t0); it != s.end() && it->first <= t1;) {
          it = s.erase(it);
          ++expected;
        }
        EXPECT_EQ(*erased, expected);
      } else {
        ASSERT_TRUE(db->Checkpoint().ok());
      }
    }
    ExpectHistory(*db, "h", oracle, "round " + std::to_string(round) + " before reopening");
    if (round % 2 == 0) {
      ASSERT_TRUE(db->Checkpoint().ok());
    }
    ASSERT_TRUE(db->Close().ok());
    db.reset();
    auto reopened = Db::Open(dir.path, options);
    ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
    db = std::move(reopened).value();
    ExpectHistory(*db, "h", oracle, "round " + std::to_string(round) + " after reopening (" +
                                        db->recovery().ToString() + ")");
    // The namespace keeps its options.
    EXPECT_TRUE(db->CreateNamespace("h", HistoryNs(cs)).ok());
    NamespaceOptions other = HistoryNs(cs);
    other.history.chunk_samples = 32;
    EXPECT_EQ(db->CreateNamespace("h", other).code(), StatusCode::kAlreadyExists);
  }
  // Only the files the last checkpoint lists remain, and loading them gave the same history.
  ASSERT_TRUE(db->Checkpoint().ok());
  const auto files = HistoryFiles(dir.path);
  EXPECT_FALSE(files.empty());
  ASSERT_TRUE(db->Close().ok());
  db = Db::Open(dir.path, options).value();
  EXPECT_EQ(db->recovery().history_files, files.size()) << db->recovery().ToString();
  ExpectHistory(*db, "h", oracle, "after the last checkpoint");
  ASSERT_TRUE(db->Close().ok());
}

INSTANTIATE_TEST_SUITE_P(Coordinates, DurableHistoryTest,
                         ::testing::Values(CoordinateSystem::kGeographic,
                                           CoordinateSystem::kPlanar2D,
                                           CoordinateSystem::kPlanar3D));

TEST(DurableHistoryFilesTest, ErasedSamplesLeaveEveryFileAtTheNextCheckpoint) {
  Dir dir("locus_history_erase");
  DbOptions options;
  options.sweep_interval_ms = 0;
  auto db = Db::Open(dir.path, options).value();
  ASSERT_TRUE(db->CreateNamespace("h", HistoryNs(CoordinateSystem::kPlanar2D)).ok());
  std::vector<Sample> samples;
  for (int i = 0; i < 100; ++i) {
    samples.push_back({i * 10, {1.0 * i, 2.0 * i, 0}, i == 37 ? "SECRET-37" : "ok"});
  }
  ASSERT_TRUE(db->InsertTrajectory("h", "a", samples).ok());
  ASSERT_TRUE(db->Checkpoint().ok());  // the sample is in a chunk file now
  bool found = false;
  for (const auto& f : HistoryFiles(dir.path)) found |= ReadAll(f).find("SECRET-37") != std::string::npos;
  ASSERT_TRUE(found) << "the test's premise: the sample is in a chunk file";
  auto erased = db->DeleteHistory("h", "a", 365, 375);
  ASSERT_TRUE(erased.ok());
  EXPECT_EQ(*erased, 1u);
  ASSERT_TRUE(db->Checkpoint().ok());
  for (const auto& e : fs::directory_iterator(dir.path)) {
    EXPECT_EQ(ReadAll(e.path().string()).find("SECRET-37"), std::string::npos)
        << e.path() << " still holds the erased sample";
  }
  ASSERT_TRUE(db->Close().ok());
  db = Db::Open(dir.path, options).value();
  auto got = db->Trajectory("h", "a", 0, 1000, {.with_metadata = true});
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->samples.size(), 99u);
  for (const Sample& s : got->samples) EXPECT_NE(s.t, 370);
  ASSERT_TRUE(db->Close().ok());
}

TEST(DurableHistoryFilesTest, RetentionRemovesChunkFilesWithTheNextCheckpoint) {
  Dir dir("locus_history_retention");
  auto clock = std::make_shared<ManualClock>(0);
  DbOptions options;
  options.sweep_interval_ms = 0;
  options.clock = clock;
  auto db = Db::Open(dir.path, options).value();
  NamespaceOptions o = HistoryNs(CoordinateSystem::kPlanar2D);
  o.history.retention_ms = 1000;
  ASSERT_TRUE(db->CreateNamespace("h", o).ok());
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(db->Upsert("h", {.id = "a", .pos = {1.0 * i, 0, 0}, .timestamp = i * 10}).ok());
  }
  ASSERT_TRUE(db->Checkpoint().ok());
  const size_t files_before = HistoryFiles(dir.path).size();
  const size_t samples_before = db->Stats("h")->history_samples;
  ASSERT_GT(files_before, 5u);
  clock->Set(2000 + 1000);  // samples before t = 2000 are past retention
  db->SweepExpired(1000);
  const size_t samples_after = db->Stats("h")->history_samples;
  EXPECT_LT(samples_after, samples_before);
  ASSERT_TRUE(db->Checkpoint().ok());
  EXPECT_LT(HistoryFiles(dir.path).size(), files_before);
  auto before_close = db->Trajectory("h", "a", 0, 10000);
  ASSERT_TRUE(before_close.ok());
  ASSERT_TRUE(db->Close().ok());
  db = Db::Open(dir.path, options).value();
  auto after = db->Trajectory("h", "a", 0, 10000);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->samples, before_close->samples);
  EXPECT_EQ(db->Stats("h")->history_samples, samples_after);
  ASSERT_TRUE(db->Close().ok());
}

TEST(DurableHistoryFilesTest, ADamagedOrMissingChunkFileIsAnErrorNamingIt) {
  for (bool remove : {false, true}) {
    Dir dir("locus_history_damage");
    DbOptions options;
    options.sweep_interval_ms = 0;
    {
      auto db = Db::Open(dir.path, options).value();
      ASSERT_TRUE(db->CreateNamespace("h", HistoryNs(CoordinateSystem::kPlanar2D)).ok());
      for (int i = 0; i < 64; ++i) {
        ASSERT_TRUE(db->Upsert("h", {.id = "a", .pos = {1.0 * i, 0, 0}, .timestamp = i}).ok());
      }
      ASSERT_TRUE(db->Checkpoint().ok());
      ASSERT_TRUE(db->Close().ok());
    }
    const auto files = HistoryFiles(dir.path);
    ASSERT_FALSE(files.empty());
    if (remove) {
      fs::remove(files[0]);
    } else {
      std::string bytes = ReadAll(files[0]);
      bytes[bytes.size() / 2] ^= 0x40;
      std::ofstream(files[0], std::ios::binary | std::ios::trunc) << bytes;
    }
    auto db = Db::Open(dir.path, options);
    ASSERT_FALSE(db.ok()) << (remove ? "missing" : "damaged");
    EXPECT_NE(db.status().ToString().find(fs::path(files[0]).filename().string()),
              std::string::npos)
        << db.status().ToString();
  }
}

TEST(DurableHistoryFilesTest, NamespaceOptionsCompareEqualAfterARestart) {
  Dir dir("locus_history_options");
  DbOptions options;
  options.sweep_interval_ms = 0;
  NamespaceOptions plain;
  plain.history.retention_ms = 5000;  // meaningless without history: normalised away
  NamespaceOptions kept = HistoryNs(CoordinateSystem::kGeographic);
  kept.history.retention_ms = 86'400'000;
  {
    auto db = Db::Open(dir.path, options).value();
    ASSERT_TRUE(db->CreateNamespace("plain", plain).ok());
    ASSERT_TRUE(db->CreateNamespace("kept", kept).ok());
    ASSERT_TRUE(db->Close().ok());
  }
  for (bool checkpoint : {false, true}) {
    auto db = Db::Open(dir.path, options).value();
    EXPECT_TRUE(db->CreateNamespace("plain", plain).ok());
    EXPECT_TRUE(db->CreateNamespace("plain", NamespaceOptions{}).ok());
    EXPECT_TRUE(db->CreateNamespace("kept", kept).ok()) << "checkpoint " << checkpoint;
    NamespaceOptions other = kept;
    other.history.keep_metadata = false;
    EXPECT_EQ(db->CreateNamespace("kept", other).code(), StatusCode::kAlreadyExists);
    if (!checkpoint) {
      ASSERT_TRUE(db->Checkpoint().ok());
    }
    ASSERT_TRUE(db->Close().ok());
  }
}

}  // namespace
}  // namespace locus
