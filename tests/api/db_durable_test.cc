// Tests the durable database (Db::Open; docs/LOG_FORMAT.md) against in-memory oracles
// (Db::OpenInMemory given the same operations): seeded random workloads over geographic,
// planar 2D and planar 3D namespaces (upserts with metadata and expiries, deletes, batches
// with repeated ids, namespaces dropped and created again with other coordinates, sweeps,
// checkpoints) recover to the oracle's state under every sync policy, twice in a row; a small
// log cut at every length recovers exactly its whole records (a torn tail reported with its
// offset and size); every byte of it flipped is an error naming the file and offset, a torn
// tail only in the last record, or with repair the prefix before the damage; a failure
// injected at every file-system call of a workload (open, append, sync, rename, remove,
// directory sync, truncate, read) is reported, refuses later writes, and reopening keeps
// every acknowledged write in a prefix-consistent state (with and without a power loss);
// power losses under each sync policy (eight writers under kAlways lose no acknowledged
// write; kEverySecond keeps what a later sync covered; kNever keeps a prefix, also after a
// process crash); checkpoints stopped at each step, taken while writers run (then recovered,
// and, under kNever, followed by a power loss: still a prefix); the directory lock; option
// checks; automatic checkpoints; Close; damage before the end of the log, a missing segment,
// a damaged checkpoint, and a repair cut short.
//
// Every test works in its own directory under $TMPDIR (or /tmp), removed at the end.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "api/db/test_seams.h"
#include "locus/db.h"
#include "storage/file_system.h"
#include "storage/log.h"
#include "tests/testing/fault_injecting_file_system.h"
#include "tests/testing/harness.h"

// The tests build objects with designated initializers naming only the fields they need.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace locus {

// Parameter names in gtest's messages.
void PrintTo(SyncPolicy policy, std::ostream* os) {
  *os << (policy == SyncPolicy::kAlways        ? "kAlways"
          : policy == SyncPolicy::kEverySecond ? "kEverySecond"
                                               : "kNever");
}

namespace {

using ::locus::testing::SeedTrace;
using ::locus::testing::TestSeed;
using ::locus::testing::FaultInjectingFileSystem;
using ::locus::testing::OpName;
using Op = FaultInjectingFileSystem::Op;
using Bytes = std::vector<uint8_t>;

constexpr Op kAllOps[] = {Op::kOpen,   Op::kAppend,  Op::kSync,     Op::kRename,
                          Op::kRemove, Op::kSyncDir, Op::kTruncate, Op::kRead};

// ---- files ----

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it at the end.
class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern =
        std::string(base && *base ? base : "/tmp") + "/locus_db_durable_test_XXXXXX";
    LOCUS_CHECK(::mkdtemp(pattern.data()) != nullptr);
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  // A fresh, empty subdirectory.
  std::string Sub(const std::string& name) const {
    const std::string p = path_ + "/" + name;
    std::error_code ec;
    std::filesystem::remove_all(p, ec);
    std::filesystem::create_directories(p);
    return p;
  }

 private:
  std::string path_;
};

Bytes ReadBytes(const std::string& path) {
  auto bytes = storage::DefaultFileSystem()->ReadFile(path);
  LOCUS_CHECK_MSG(bytes.ok(), bytes.status().ToString().c_str());
  return std::move(bytes).value();
}

void WriteBytes(const std::string& path, std::span<const uint8_t> bytes) {
  auto file = storage::DefaultFileSystem()->OpenForAppend(path, /*truncate=*/true);
  LOCUS_CHECK_MSG(file.ok(), file.status().ToString().c_str());
  LOCUS_CHECK((*file)->Append(bytes).ok());
  LOCUS_CHECK((*file)->Close().ok());
}

// Writes `bytes` as a new file at `path` (replacing any file there).
void ReplaceFile(const std::string& path, std::span<const uint8_t> bytes) {
  std::error_code ec;
  std::filesystem::remove(path, ec);
  WriteBytes(path, bytes);
}

std::vector<std::string> Files(const std::string& dir) {
  auto names = storage::DefaultFileSystem()->ListDir(dir);
  LOCUS_CHECK_MSG(names.ok(), names.status().ToString().c_str());
  return std::move(names).value();
}

// Copies the files of `from` (not its lock) into `to`.
void CopyFiles(const std::string& from, const std::string& to) {
  for (const std::string& name : Files(from)) {
    if (name != "LOCK") WriteBytes(to + "/" + name, ReadBytes(from + "/" + name));
  }
}

std::string SegmentPath(const std::string& dir, uint64_t seq) {
  return dir + "/" + storage::SegmentFileName(seq);
}

std::string CheckpointName(uint64_t seq) {
  char name[48];
  std::snprintf(name, sizeof name, "checkpoint-%016" PRIx64 ".locus", seq);
  return name;
}

bool Contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

// The segments and checkpoints in `dir`, and whether any *.tmp is left.
struct DirContents {
  std::vector<uint64_t> segments, checkpoints;
  bool tmp = false;
};
DirContents Contents(const std::string& dir) {
  DirContents c;
  for (const std::string& name : Files(dir)) {
    uint64_t seq;
    if (storage::ParseSegmentFileName(name, &seq)) {
      c.segments.push_back(seq);
    } else if (name.size() == 33 && name.rfind("checkpoint-", 0) == 0 &&
               name.substr(27) == ".locus") {
      c.checkpoints.push_back(std::stoull(name.substr(11, 16), nullptr, 16));
    } else if (name.size() > 4 && name.substr(name.size() - 4) == ".tmp") {
      c.tmp = true;
    }
  }
  return c;
}

// ---- options and opening ----

const char* PolicyName(SyncPolicy p) {
  switch (p) {
    case SyncPolicy::kAlways:
      return "Always";
    case SyncPolicy::kEverySecond:
      return "EverySecond";
    case SyncPolicy::kNever:
      return "Never";
  }
  return "?";
}

// DbOptions and the test seams (api/db/test_seams.h) a database is opened with.
struct TestOptions : DbOptions {
  db_internal::TestSeams seams;
};

// Opens a durable database with the options' seams.
Result<std::unique_ptr<Db>> OpenDb(const std::string& dir, TestOptions options) {
  db_internal::TestSeams seams = std::move(options.seams);
  return db_internal::DbFactory::Open(dir, std::move(options), std::move(seams));
}

// Deterministic options: no sweeper, inline reclusters, no automatic checkpoints.
TestOptions Options(SyncPolicy policy, std::shared_ptr<ManualClock> clock,
                  std::shared_ptr<storage::FileSystem> fs = nullptr, bool repair = false) {
  TestOptions o;
  o.clock = std::move(clock);
  o.sweep_interval_ms = 0;
  o.background_recluster = false;
  o.durability.sync = policy;
  o.durability.checkpoint_min_log_bytes = 0;
  o.seams.file_system = std::move(fs);
  o.durability.repair = repair;
  return o;
}

std::unique_ptr<Db> OpenOrFail(const std::string& dir, TestOptions options) {
  auto db = OpenDb(dir, std::move(options));
  if (!db.ok()) {
    ADD_FAILURE() << "Open " << dir << ": " << db.status().ToString();
    return nullptr;
  }
  return std::move(db).value();
}

std::unique_ptr<Db> Oracle(std::shared_ptr<ManualClock> clock) {
  return Db::OpenInMemory(Options(SyncPolicy::kAlways, std::move(clock))).value();
}

// ---- the state of a database, as its readers see it ----

struct ObjState {
  Position pos;
  int64_t timestamp = 0;
  std::string metadata;
  std::optional<int64_t> expires;
  friend bool operator==(const ObjState&, const ObjState&) = default;
};
struct NsState {
  CoordinateSystem coordinates = CoordinateSystem::kGeographic;
  size_t visible = 0;  // Stats().objects: catches objects whose ids the test never used
  std::map<std::string, ObjState> objects;
  // History namespaces: each id's whole history (Trajectory, with metadata).
  std::map<std::string, std::vector<Sample>> history;
  friend bool operator==(const NsState&, const NsState&) = default;
};
using State = std::map<std::string, NsState>;

// Every namespace, and Get of every id in `ids` in each.
State Snapshot(const Db& db, const std::vector<std::string>& ids) {
  State s;
  for (const std::string& name : db.ListNamespaces()) {
    auto stats = db.Stats(name);
    if (!stats.ok()) {
      ADD_FAILURE() << "Stats(" << name << "): " << stats.status().ToString();
      continue;
    }
    NsState& ns = s[name];
    ns.coordinates = stats->coordinates;
    ns.visible = stats->objects;
    for (const std::string& id : ids) {
      auto o = db.Get(name, id);
      if (o.ok()) {
        ns.objects[id] = {o->pos, o->timestamp, o->metadata, o->expires_at};
      } else if (o.status().code() != StatusCode::kNotFound) {
        ADD_FAILURE() << "Get(" << name << ", " << id << "): " << o.status().ToString();
      }
      auto h = db.Trajectory(name, id, INT64_MIN / 4, INT64_MAX / 4, {.with_metadata = true});
      if (h.ok()) {
        if (!h->samples.empty()) ns.history[id] = h->samples;
      } else if (h.status().code() != StatusCode::kNotFound &&
                 h.status().code() != StatusCode::kFailedPrecondition) {
        ADD_FAILURE() << "Trajectory(" << name << ", " << id << "): " << h.status().ToString();
      }
    }
  }
  return s;
}

std::string Describe(const ObjState& o) {
  char b[160];
  std::snprintf(b, sizeof b, "pos (%.17g, %.17g, %.17g) t=%" PRId64 " expires=%s", o.pos.x, o.pos.y,
                o.pos.z, o.timestamp, o.expires ? std::to_string(*o.expires).c_str() : "never");
  return std::string(b) + " metadata " + std::to_string(o.metadata.size()) + " bytes";
}

// "" when equal, else the first differences.
std::string Diff(const State& want, const State& got) {
  std::string out;
  int shown = 0;
  auto add = [&](const std::string& line) {
    if (shown++ < 8) out += "\n  " + line;
  };
  std::set<std::string> names;
  for (const auto& [n, s] : want) names.insert(n);
  for (const auto& [n, s] : got) names.insert(n);
  for (const std::string& n : names) {
    auto w = want.find(n);
    auto g = got.find(n);
    if (w == want.end() || g == got.end()) {
      add("namespace '" + n + "': " + (w == want.end() ? "unexpected" : "missing"));
      continue;
    }
    if (w->second.coordinates != g->second.coordinates) {
      add("namespace '" + n + "': coordinates " + CoordinateSystemName(g->second.coordinates) +
          ", want " + CoordinateSystemName(w->second.coordinates));
    }
    if (w->second.visible != g->second.visible) {
      add("namespace '" + n + "': " + std::to_string(g->second.visible) +
          " visible objects, want " + std::to_string(w->second.visible));
    }
    std::set<std::string> ids;
    for (const auto& [id, o] : w->second.objects) ids.insert(id);
    for (const auto& [id, o] : g->second.objects) ids.insert(id);
    for (const std::string& id : ids) {
      auto wo = w->second.objects.find(id);
      auto go = g->second.objects.find(id);
      if (wo == w->second.objects.end()) {
        add(n + "/" + id + ": unexpected, " + Describe(go->second));
      } else if (go == g->second.objects.end()) {
        add(n + "/" + id + ": missing, want " + Describe(wo->second));
      } else if (!(wo->second == go->second)) {
        add(n + "/" + id + ": " + Describe(go->second) + ", want " + Describe(wo->second));
      }
    }
    ids.clear();
    for (const auto& [id, h] : w->second.history) ids.insert(id);
    for (const auto& [id, h] : g->second.history) ids.insert(id);
    for (const std::string& id : ids) {
      auto wh = w->second.history.find(id);
      auto gh = g->second.history.find(id);
      const size_t want_n = wh == w->second.history.end() ? 0 : wh->second.size();
      const size_t got_n = gh == g->second.history.end() ? 0 : gh->second.size();
      if (want_n != got_n || (want_n > 0 && wh->second != gh->second)) {
        add(n + "/" + id + ": history of " + std::to_string(got_n) + " samples, want " +
            std::to_string(want_n) + (want_n == got_n ? " (values differ)" : ""));
      }
    }
  }
  if (shown > 8) out += "\n  ... " + std::to_string(shown - 8) + " more";
  return out;
}

// Radius queries (as id sets) and kNN (as distance lists) from a few random centres agree.
void ExpectSameQueries(const Db& want, const Db& got, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> lon(-180, 180), lat(-90, 90);
  for (const std::string& ns : want.ListNamespaces()) {
    const bool geo = want.Stats(ns)->coordinates == CoordinateSystem::kGeographic;
    for (int q = 0; q < 3; ++q) {
      const Position c{lon(rng), lat(rng), 0};
      const double radius = geo ? 3e6 : 60;
      auto a = want.WithinRadius(ns, c, radius, {.limit = 100000});
      auto b = got.WithinRadius(ns, c, radius, {.limit = 100000});
      ASSERT_TRUE(a.ok() && b.ok()) << a.status().ToString() << b.status().ToString();
      std::set<std::string> ia, ib;
      for (const Hit& h : a->hits) ia.insert(h.id);
      for (const Hit& h : b->hits) ib.insert(h.id);
      EXPECT_EQ(ia, ib) << "WithinRadius in " << ns;
      auto na = want.Nearest(ns, c, 5);
      auto nb = got.Nearest(ns, c, 5);
      ASSERT_TRUE(na.ok() && nb.ok());
      ASSERT_EQ(na->hits.size(), nb->hits.size()) << "Nearest in " << ns;
      for (size_t i = 0; i < na->hits.size(); ++i) {
        EXPECT_NEAR(na->hits[i].distance, nb->hits[i].distance,
                    1e-9 * std::max(1.0, na->hits[i].distance))
            << "Nearest in " << ns << ", hit " << i;
      }
    }
  }
}

// ---- 1. random workloads against the oracle ----

constexpr int kIds = 40;
const std::vector<std::string> kNamespaces = {"geo", "p2", "p3", "tmp"};

std::vector<std::string> IdUniverse(int n) {
  std::vector<std::string> ids;
  for (int i = 0; i < n; ++i) ids.push_back("id" + std::to_string(i));
  return ids;
}

// Valid in every coordinate system (so a namespace created again with other coordinates
// takes the same kind of writes).
Position RandomPos(std::mt19937_64& rng) {
  std::uniform_real_distribution<double> lon(-180, 180), lat(-90, 90), z(-100, 100);
  return {lon(rng), lat(rng), z(rng)};
}

std::string RandomBytes(std::mt19937_64& rng, size_t max) {
  std::string s(rng() % (max + 1), '\0');
  for (char& c : s) c = static_cast<char>(rng() % 4 == 0 ? 0 : rng());
  return s;
}

Object RandomObject(std::mt19937_64& rng, int64_t now, int ids) {
  Object o;
  o.id = "id" + std::to_string(rng() % ids);
  o.pos = RandomPos(rng);
  o.timestamp = static_cast<int64_t>(rng() % 2000);
  o.metadata = RandomBytes(rng, 24);
  const int e = static_cast<int>(rng() % 20);
  if (e < 3) {
    o.expires_at = now + static_cast<int64_t>(rng() % 3000) - 200;  // some already expired
  } else if (e < 5) {
    o.ttl_ms = 1 + static_cast<int64_t>(rng() % 3000);
  }
  return o;
}

WriteOptions RandomWrite(std::mt19937_64& rng) {
  switch (rng() % 3) {
    case 0:
      return {};
    case 1:
      return {.sync = true};
    default:
      return {.sync = false};
  }
}

void ExpectSameStatus(const Status& durable, const Status& oracle, const char* what) {
  EXPECT_EQ(durable.code(), oracle.code())
      << what << ": durable " << durable.ToString() << ", oracle " << oracle.ToString();
}

// Applies one random operation to the durable database and to the oracle, expecting the
// same answers. Counts checkpoints in *checkpoints.
void RandomStep(std::mt19937_64& rng, ManualClock& clock, Db& d, Db& o, bool with_checkpoints,
                int* checkpoints) {
  const std::string& ns = kNamespaces[rng() % kNamespaces.size()];
  const int what = static_cast<int>(rng() % 100);
  if (what < 40) {
    const Object obj = RandomObject(rng, clock.NowMillis(), kIds);
    auto a = d.Upsert(ns, obj, RandomWrite(rng));
    auto b = o.Upsert(ns, obj);
    ExpectSameStatus(a.status(), b.status(), "Upsert");
    if (a.ok() && b.ok()) {
      EXPECT_EQ(*a, *b) << "Upsert outcome";
    }
  } else if (what < 52) {
    const std::string id = "id" + std::to_string(rng() % kIds);
    ExpectSameStatus(d.Delete(ns, id, RandomWrite(rng)), o.Delete(ns, id), "Delete");
  } else if (what < 64) {
    Batch batch;
    const size_t n = 1 + rng() % 8;
    const bool invalid = rng() % 20 == 0;
    for (size_t i = 0; i < n; ++i) {
      const std::string& bns = kNamespaces[rng() % kNamespaces.size()];
      if (rng() % 10 < 7) {
        Object obj = RandomObject(rng, clock.NowMillis(), 6);  // few ids: repeats
        if (invalid && i == n - 1) obj.pos.x = std::numeric_limits<double>::quiet_NaN();
        batch.Upsert(bns, obj);
      } else {
        batch.Delete(bns, "id" + std::to_string(rng() % 6));
      }
    }
    auto a = d.Apply(batch, RandomWrite(rng));
    auto b = o.Apply(batch);
    ExpectSameStatus(a.status(), b.status(), "Apply");
    if (a.ok() && b.ok()) {
      EXPECT_EQ(*a, *b) << "Apply outcomes";
    }
  } else if (what < 68) {
    const std::string name = rng() % 4 == 0 ? ns : "tmp";
    ExpectSameStatus(d.DropNamespace(name), o.DropNamespace(name), "DropNamespace");
  } else if (what < 73) {
    const std::string name = rng() % 4 == 0 ? ns : "tmp";
    const NamespaceOptions options{static_cast<CoordinateSystem>(rng() % 3)};
    ExpectSameStatus(d.CreateNamespace(name, options), o.CreateNamespace(name, options),
                     "CreateNamespace");
  } else if (what < 83) {
    clock.Advance(static_cast<int64_t>(rng() % 400));
  } else if (what < 88) {
    // The counts may differ once a checkpoint left expired objects out; what is visible
    // may not.
    const size_t limit = 1 + rng() % 4;
    d.SweepExpired(limit);
    o.SweepExpired(limit);
  } else if (what < 92) {
    if (with_checkpoints) {
      const Status s = d.Checkpoint();
      EXPECT_TRUE(s.ok()) << s.ToString();
      ++*checkpoints;
    }
  } else {
    const Status s = d.Sync();
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
}

class DurableRoundTripTest : public ::testing::TestWithParam<std::tuple<SyncPolicy, bool>> {};

// Two sessions of random operations, each closed and recovered; the recovered state is the
// oracle's (every object, every namespace, radius and kNN answers).
TEST_P(DurableRoundTripTest, RecoversTheOracleState) {
  const auto [policy, with_checkpoints] = GetParam();
  const uint64_t seed = TestSeed() + static_cast<uint64_t>(policy) * 2 + with_checkpoints;
  SCOPED_TRACE(SeedTrace(seed));
  std::mt19937_64 rng(seed);
  auto clock = std::make_shared<ManualClock>(1'700'000'000'000);
  TempDir dir;
  TestOptions options = Options(policy, clock);
  if (policy == SyncPolicy::kEverySecond) {
    options.durability.sync_interval_ms = 5;
    options.durability.sync_mode = SyncMode::kFsync;
  }
  if (policy == SyncPolicy::kNever) options.durability.sync_interval_ms = 3;
  if (policy == SyncPolicy::kAlways) options.durability.sync_batch_size = 4;
  auto oracle = Oracle(clock);
  auto db = OpenOrFail(dir.path(), options);
  ASSERT_NE(db, nullptr);
  const std::pair<const char*, CoordinateSystem> initial[] = {
      {"geo", CoordinateSystem::kGeographic},
      {"p2", CoordinateSystem::kPlanar2D},
      {"p3", CoordinateSystem::kPlanar3D}};
  for (const auto& [name, cs] : initial) {
    ASSERT_TRUE(db->CreateNamespace(name, {cs}).ok());
    ASSERT_TRUE(oracle->CreateNamespace(name, {cs}).ok());
  }
  const std::vector<std::string> ids = IdUniverse(kIds);
  uint64_t records = 0;  // appended over every session (the replay count without checkpoints)
  for (int session = 0; session < 2; ++session) {
    SCOPED_TRACE("session " + std::to_string(session));
    int checkpoints = 0;
    for (int step = 0; step < 300; ++step) {
      RandomStep(rng, *clock, *db, *oracle, with_checkpoints, &checkpoints);
      if (::testing::Test::HasFatalFailure()) return;
    }
    records += db->durability_stats().records;
    EXPECT_EQ(db->durability_stats().checkpoints, static_cast<uint64_t>(checkpoints));
    const Status closed = db->Close();
    ASSERT_TRUE(closed.ok()) << closed.ToString();
    db = OpenOrFail(dir.path(), options);
    ASSERT_NE(db, nullptr);
    const RecoveryReport& report = db->recovery();
    EXPECT_FALSE(report.torn_tail) << report.ToString();
    EXPECT_FALSE(report.repaired) << report.ToString();
    if (!with_checkpoints) {
      EXPECT_EQ(report.checkpoint, "");
      EXPECT_EQ(report.records, records) << report.ToString();
    } else if (checkpoints > 0) {
      EXPECT_NE(report.checkpoint, "") << report.ToString();
    }
    EXPECT_EQ(Diff(Snapshot(*oracle, ids), Snapshot(*db, ids)), "")
        << "recovered state differs from the oracle (" << report.ToString() << ")";
    ExpectSameQueries(*oracle, *db, rng);
  }
  EXPECT_TRUE(db->Close().ok());
}

INSTANTIATE_TEST_SUITE_P(Policies, DurableRoundTripTest,
                         ::testing::Combine(::testing::Values(SyncPolicy::kAlways,
                                                              SyncPolicy::kEverySecond,
                                                              SyncPolicy::kNever),
                                            ::testing::Bool()),
                         [](const auto& info) {
                           return std::string(PolicyName(std::get<0>(info.param))) +
                                  (std::get<1>(info.param) ? "WithCheckpoints" : "LogOnly");
                         });

// Replaying a drop releases the recovered map's reference, the only one, so the replay must
// not free the namespace under its own hold of the namespace's writer lock (it unlocked a
// freed mutex; ThreadSanitizer is the check that sees it). Each drop here is of a namespace
// nothing else holds, the name reused with the other coordinate system, live and replayed.
TEST(DurableNamespaceTest, ReplayedDropOfTheLastReferenceThenReuse) {
  TempDir dir;
  auto clock = std::make_shared<ManualClock>(1);
  const TestOptions options = Options(SyncPolicy::kNever, clock);
  auto db = OpenOrFail(dir.path(), options);
  ASSERT_NE(db, nullptr);
  for (int round = 0; round < 4; ++round) {
    const CoordinateSystem cs =
        round % 2 == 0 ? CoordinateSystem::kPlanar3D : CoordinateSystem::kGeographic;
    ASSERT_TRUE(db->CreateNamespace("n", {cs}).ok());
    ASSERT_TRUE(db->Upsert("n", {.id = "x", .pos = {1, 2, double(round)}, .timestamp = 1}).ok());
    ASSERT_TRUE(db->DropNamespace("n").ok());
  }
  ASSERT_TRUE(db->CreateNamespace("n", {CoordinateSystem::kPlanar2D}).ok());
  ASSERT_TRUE(db->Upsert("n", {.id = "y", .pos = {3, 4}, .timestamp = 1}).ok());
  ASSERT_TRUE(db->Close().ok());
  db.reset();
  for (int reopen = 0; reopen < 2; ++reopen) {  // the second replays the drops again
    auto re = OpenOrFail(dir.path(), options);
    ASSERT_NE(re, nullptr);
    EXPECT_EQ(re->ListNamespaces(), std::vector<std::string>{"n"});
    EXPECT_EQ(re->Stats("n")->coordinates, CoordinateSystem::kPlanar2D);
    EXPECT_EQ(re->Get("n", "x").status().code(), StatusCode::kNotFound);
    EXPECT_EQ(re->Get("n", "y")->pos.y, 4.0);
    ASSERT_TRUE(re->Close().ok());
  }
}

// ---- 2 and 3. a small log cut at every length and flipped at every byte ----

// A log of one segment, each operation one record (or none), with the oracle's state after
// each record and the segment's size there.
struct SmallLog {
  Bytes segment;
  std::vector<uint64_t> boundaries;  // [r]: the segment's size after r records
  std::vector<State> states;         // [r]: the oracle's state after r records
  std::vector<std::string> ids;
};

SmallLog BuildSmallLog(std::shared_ptr<ManualClock> clock) {
  TempDir dir;
  SmallLog log;
  log.ids = {"a", "b", "c", "d", "x", "zz"};
  auto d = OpenOrFail(dir.path(), Options(SyncPolicy::kAlways, clock));
  LOCUS_CHECK(d != nullptr);
  auto o = Oracle(clock);
  const int64_t now = clock->NowMillis();
  using G = CoordinateSystem;
  const std::vector<std::function<Status(Db&)>> ops = {
      [](Db& db) { return db.CreateNamespace("g", {G::kGeographic}); },
      [](Db& db) { return db.CreateNamespace("p", {G::kPlanar3D}); },
      [](Db& db) {
        return db
            .Upsert("g", {.id = "a", .pos = {2.35, 48.85, 35}, .timestamp = 10, .metadata = "m1"})
            .status();
      },
      [&](Db& db) {
        return db
            .Upsert(
                "g",
                {.id = "b", .pos = {-73.98, 40.75}, .timestamp = 11, .expires_at = now + 100000})
            .status();
      },
      [](Db& db) {
        return db.Upsert("p", {.id = "a", .pos = {1, 2, 3}, .timestamp = 5}).status();
      },
      [](Db& db) {
        return db
            .Upsert("g", {.id = "a",
                          .pos = {2.36, 48.86},
                          .timestamp = 20,
                          .metadata = std::string("m\0two", 5)})
            .status();
      },
      [](Db& db) {  // stale: not logged
        return db.Upsert("g", {.id = "a", .pos = {0, 0}, .timestamp = 1}).status();
      },
      [](Db& db) { return db.Delete("g", "b"); },
      [](Db& db) { return db.Delete("g", "zz"); },  // missing: NotFound, not logged
      [](Db& db) {
        Batch b;
        b.Upsert("p", {.id = "b", .pos = {4, 5, 6}, .timestamp = 7, .metadata = "batch"});
        b.Upsert("g", {.id = "c", .pos = {139.69, 35.69}, .timestamp = 8});
        b.Delete("p", "a");
        b.Upsert("p", {.id = "a", .pos = {7, 8, 9}, .timestamp = 9});
        b.Delete("g", "a");
        b.Delete("g", "zz");
        return db.Apply(b).status();
      },
      [](Db& db) { return db.CreateNamespace("q", {G::kPlanar2D}); },
      [](Db& db) {
        return db.Upsert("q", {.id = "x", .pos = {1000, -1000}, .timestamp = 1}).status();
      },
      [](Db& db) { return db.DropNamespace("q"); },
      [](Db& db) { return db.CreateNamespace("q", {G::kGeographic}); },
      [](Db& db) {
        return db.Upsert("q", {.id = "x", .pos = {-0.13, 51.5}, .timestamp = 2}).status();
      },
      [](Db& db) {
        return db.Upsert("g", {.id = "d", .pos = {151.2, -33.87}, .timestamp = 3, .ttl_ms = 50000})
            .status();
      },
      [&](Db& db) {  // already expired when written: logged, invisible
        return db.Upsert("g", {.id = "zz", .pos = {0, 0}, .timestamp = 3, .expires_at = now - 1})
            .status();
      },
      [](Db& db) {
        return db
            .Upsert("p", {.id = "c",
                          .pos = {-1.5, 2.5, -3.5},
                          .timestamp = 4,
                          .metadata = std::string("\xff\x00\x01\x80", 4)})
            .status();
      },
      [](Db& db) { return db.Delete("p", "b"); },
  };
  log.boundaries.push_back(d->durability_stats().log_bytes);
  log.states.push_back(Snapshot(*o, log.ids));
  for (size_t i = 0; i < ops.size(); ++i) {
    const uint64_t before = d->durability_stats().records;
    const Status a = ops[i](*d);
    const Status b = ops[i](*o);
    EXPECT_EQ(a.code(), b.code()) << "op " << i << ": " << a.ToString() << " vs " << b.ToString();
    const uint64_t after = d->durability_stats().records;
    State s = Snapshot(*o, log.ids);
    if (after == before) {
      EXPECT_EQ(Diff(log.states.back(), s), "") << "op " << i << " changed state unlogged";
      continue;
    }
    EXPECT_EQ(after, before + 1) << "op " << i << " logged more than one record";
    log.states.push_back(std::move(s));
    log.boundaries.push_back(d->durability_stats().log_bytes);
  }
  LOCUS_CHECK(d->Close().ok());
  log.segment = ReadBytes(SegmentPath(dir.path(), 1));
  EXPECT_EQ(log.segment.size(), log.boundaries.back());
  EXPECT_GE(log.states.size(), 15u);
  return log;
}

// The record containing byte `pos` (-1: the segment header).
int RecordAt(const SmallLog& log, uint64_t pos) {
  if (pos < storage::kSegmentHeaderBytes) return -1;
  return static_cast<int>(std::upper_bound(log.boundaries.begin(), log.boundaries.end(), pos) -
                          log.boundaries.begin()) -
         1;
}

TEST(DurableTruncationTest, EveryLengthRecoversItsWholeRecords) {
  auto clock = std::make_shared<ManualClock>(1'700'000'000'000);
  const SmallLog log = BuildSmallLog(clock);
  const size_t size = log.segment.size();
  std::printf("small log: %zu records, %zu bytes\n", log.states.size() - 1, size);
  TempDir root;
  const std::string dir = root.Sub("cut");
  for (size_t len = 0; len <= size; ++len) {
    SCOPED_TRACE("length " + std::to_string(len) + " of " + std::to_string(size));
    ReplaceFile(SegmentPath(dir, 1), std::span<const uint8_t>(log.segment.data(), len));
    auto db = OpenOrFail(dir, Options(SyncPolicy::kAlways, clock));
    ASSERT_NE(db, nullptr);
    const bool header = len >= storage::kSegmentHeaderBytes;
    const size_t k = header ? static_cast<size_t>(RecordAt(log, len)) : 0;
    const uint64_t good = header ? log.boundaries[k] : 0;
    const RecoveryReport& r = db->recovery();
    EXPECT_EQ(r.records, k);
    // Under 32 bytes: the segment's creation was cut short (its header is rewritten).
    const bool torn = !header || len != good;
    EXPECT_EQ(r.torn_tail, torn) << r.ToString();
    if (torn) {
      EXPECT_EQ(r.torn_offset, good);
      EXPECT_EQ(r.torn_bytes, len - good);
      EXPECT_EQ(r.torn_file, SegmentPath(dir, 1));
    }
    EXPECT_FALSE(r.repaired);
    EXPECT_EQ(Diff(log.states[k], Snapshot(*db, log.ids)), "") << r.ToString();
    if (len % 7 == 0) {
      // Writes go on after the last good record, and recover after the cut.
      ASSERT_TRUE(db->Upsert("after", {.id = "x", .pos = {1, 1}, .timestamp = 1}).ok());
      ASSERT_TRUE(db->Close().ok());
      db = OpenOrFail(dir, Options(SyncPolicy::kAlways, clock));
      ASSERT_NE(db, nullptr);
      EXPECT_FALSE(db->recovery().torn_tail) << db->recovery().ToString();
      State want = log.states[k];
      want["after"] = {CoordinateSystem::kGeographic, 1, {{"x", {{1, 1, 0}, 1, "", {}}}}};
      EXPECT_EQ(Diff(want, Snapshot(*db, log.ids)), "") << "after writing past the cut";
    }
  }
}

TEST(DurableDamageTest, FlipOfEveryByteOfASmallLog) {
  auto clock = std::make_shared<ManualClock>(1'700'000'000'000);
  const SmallLog log = BuildSmallLog(clock);
  const size_t size = log.segment.size();
  const int records = static_cast<int>(log.states.size()) - 1;
  TempDir root;
  const std::string dir = root.Sub("flip");
  const std::string path = SegmentPath(dir, 1);
  size_t errors = 0, torn = 0;
  for (size_t pos = 0; pos < size; ++pos) {
    const int j = RecordAt(log, pos);  // the damaged record
    SCOPED_TRACE("byte " + std::to_string(pos) + " (record " + std::to_string(j) + " of " +
                 std::to_string(records) + ")");
    Bytes damaged = log.segment;
    damaged[pos] ^= 0xff;
    ReplaceFile(path, damaged);
    {
      auto db = OpenDb(dir, Options(SyncPolicy::kAlways, clock));
      if (!db.ok()) {
        ++errors;
        EXPECT_EQ(db.status().code(), StatusCode::kCorruption) << db.status().ToString();
        EXPECT_TRUE(Contains(db.status().message(), path)) << db.status().ToString();
        EXPECT_TRUE(Contains(db.status().message(), "offset")) << db.status().ToString();
        const uint64_t at = j < 0 ? 0 : log.boundaries[j];
        EXPECT_TRUE(Contains(db.status().message(), "offset " + std::to_string(at)))
            << db.status().ToString();
      } else {
        ++torn;
        const RecoveryReport& r = (*db)->recovery();
        EXPECT_TRUE(r.torn_tail) << "damage accepted silently: " << r.ToString();
        EXPECT_EQ(j, records - 1) << "a torn tail for damage before the last record: "
                                  << r.ToString();
        EXPECT_EQ(r.torn_offset, log.boundaries[std::max(j, 0)]);
        EXPECT_EQ(Diff(log.states[std::max(j, 0)], Snapshot(**db, log.ids)), "");
      }
    }
    // Repair: always opens, with the prefix before the damaged record.
    ReplaceFile(path, damaged);
    auto db = OpenOrFail(dir, Options(SyncPolicy::kAlways, clock, nullptr, /*repair=*/true));
    ASSERT_NE(db, nullptr);
    const RecoveryReport& r = (*db).recovery();
    const size_t keep = j < 0 ? 0 : static_cast<size_t>(j);
    EXPECT_EQ(Diff(log.states[keep], Snapshot(*db, log.ids)), "") << r.ToString();
    EXPECT_NE(r.torn_tail, r.repaired) << r.ToString();
    if (r.torn_tail) {
      EXPECT_EQ(j, records - 1) << r.ToString();
    } else {
      EXPECT_EQ(r.repaired_file, path);
      EXPECT_EQ(r.repaired_offset, j < 0 ? 0 : log.boundaries[j]);
      EXPECT_EQ(r.dropped_bytes, size - r.repaired_offset);
      EXPECT_EQ(r.dropped_records, static_cast<uint64_t>(j < 0 ? records : records - j - 1))
          << r.ToString();
      EXPECT_EQ(r.dropped_segments, 0u);
      EXPECT_EQ(r.records, keep);
    }
    if (pos % 11 == 0) {  // the cut is on disk: a plain open finds a clean log
      ASSERT_TRUE(db->Close().ok());
      db = OpenOrFail(dir, Options(SyncPolicy::kAlways, clock));
      ASSERT_NE(db, nullptr);
      EXPECT_FALSE(db->recovery().torn_tail || db->recovery().repaired);
      EXPECT_EQ(Diff(log.states[keep], Snapshot(*db, log.ids)), "");
    }
  }
  std::printf("flips of %zu bytes: %zu errors, %zu torn tails\n", size, errors, torn);
  EXPECT_GT(errors, 0u);
}

// ---- 4. a failure injected at every file-system call of a workload ----

struct Step {
  const char* name;
  bool write;  // changes the state (one record each); the others: Checkpoint, Sync, Close
  std::function<Status(Db&)> run;
};

// Builds the starting directory's contents through `db` (and the same writes into an
// oracle): two namespaces and a doomed one, a checkpoint stopped after its rename (so the
// next open removes what it replaced), one stopped after writing its .tmp, writes after each.
void FailureSetup(Db& db, std::string* stop) {
  using G = CoordinateSystem;
  LOCUS_CHECK(db.CreateNamespace("g", {G::kGeographic}).ok());
  LOCUS_CHECK(db.CreateNamespace("p", {G::kPlanar2D}).ok());
  LOCUS_CHECK(db.CreateNamespace("gone", {G::kPlanar3D}).ok());
  // A history namespace with small chunks: the checkpoints write chunk files.
  NamespaceOptions history{.coordinates = G::kPlanar2D,
                           .history = {.enabled = true, .keep_metadata = true, .chunk_samples = 16}};
  LOCUS_CHECK(db.CreateNamespace("h", history).ok());
  for (int i = 0; i < 20; ++i) {
    LOCUS_CHECK(db.Upsert("h", {.id = "s" + std::to_string(i % 3),
                                .pos = {i * 1.0, -i * 1.0},
                                .timestamp = i,
                                .metadata = "h"})
                    .ok());
  }
  for (int i = 0; i < 5; ++i) {
    LOCUS_CHECK(db.Upsert("g", {.id = "s" + std::to_string(i),
                                .pos = {i * 1.0, i * 2.0},
                                .timestamp = i,
                                .metadata = "setup"})
                    .ok());
  }
  for (int i = 0; i < 3; ++i) {
    LOCUS_CHECK(
        db.Upsert("p", {.id = "s" + std::to_string(i), .pos = {i * 10.0, -i * 1.0}, .timestamp = i})
            .ok());
  }
  *stop = "renamed";
  db.Checkpoint().IgnoreError();
  LOCUS_CHECK(db.Upsert("g", {.id = "s5", .pos = {5, 5}, .timestamp = 5}).ok());
  LOCUS_CHECK(db.Delete("g", "s1").ok());
  LOCUS_CHECK(db.Upsert("gone", {.id = "z0", .pos = {1, 2, 3}, .timestamp = 1}).ok());
  *stop = "written";
  db.Checkpoint().IgnoreError();
  LOCUS_CHECK(db.Upsert("p", {.id = "s3", .pos = {30, 3}, .timestamp = 3}).ok());
  LOCUS_CHECK(db.Upsert("g", {.id = "s0", .pos = {0.5, 0.5}, .timestamp = 9}).ok());
  *stop = "";
}

std::vector<Step> FailureWorkload() {
  using G = CoordinateSystem;
  auto upsert = [](const char* ns, const char* id, Position pos, int64_t t) {
    return [=](Db& db) {
      return db.Upsert(ns, {.id = id, .pos = pos, .timestamp = t, .metadata = id}).status();
    };
  };
  return {
      {"upsert g/w0", true, upsert("g", "w0", {10, 10}, 100)},
      {"upsert p/w1", true, upsert("p", "w1", {-5, 5}, 100)},
      {"delete g/s2", true, [](Db& db) { return db.Delete("g", "s2"); }},
      {"batch", true,
       [](Db& db) {
         Batch b;
         b.Upsert("g", {.id = "w2", .pos = {20, 20}, .timestamp = 100});
         b.Delete("p", "s0");
         b.Upsert("p", {.id = "w3", .pos = {3, 3}, .timestamp = 100});
         b.Upsert("g", {.id = "w0", .pos = {11, 11}, .timestamp = 101});
         return db.Apply(b).status();
       }},
      {"stale upsert h/s1 (history only)", true, upsert("h", "s1", {0.5, 0.5}, 3)},
      {"trajectory h/w8", true,
       [](Db& db) {
         std::vector<Sample> samples;
         for (int i = 0; i < 20; ++i) samples.push_back({(i * 7) % 20 + 100, {i * 2.0, 1}, "t"});
         return db.InsertTrajectory("h", "w8", samples);
       }},
      {"create n3", true, [](Db& db) { return db.CreateNamespace("n3", {G::kPlanar3D}); }},
      {"upsert n3/w4", true, upsert("n3", "w4", {1, 2, 3}, 100)},
      {"drop gone", true, [](Db& db) { return db.DropNamespace("gone"); }},
      {"checkpoint", false, [](Db& db) { return db.Checkpoint(); }},
      {"delete history h/s0", true,
       [](Db& db) { return db.DeleteHistory("h", "s0", 0, 10).status(); }},
      {"checkpoint 2", false, [](Db& db) { return db.Checkpoint(); }},
      {"upsert g/w5", true, upsert("g", "w5", {50, 50}, 100)},
      {"batch 2", true,
       [](Db& db) {
         Batch b;
         b.Delete("g", "w2");
         b.Upsert("n3", {.id = "w6", .pos = {6, 6, 6}, .timestamp = 100});
         return db.Apply(b).status();
       }},
      {"sync", false, [](Db& db) { return db.Sync(); }},
      {"upsert p/w7", true, upsert("p", "w7", {7, 7}, 100)},
      {"close", false, [](Db& db) { return db.Close(); }},
  };
}

std::vector<std::string> FailureIds() {
  return {"s0", "s1", "s2", "s3", "s4", "s5", "z0", "w0", "w1", "w2", "w3", "w4", "w5", "w6", "w7",
          "w8"};
}

TEST(DurableFailureTest, EveryFileSystemCallFailsInTurn) {
  auto clock = std::make_shared<ManualClock>(1'700'000'000'000);
  TempDir root;
  const std::vector<std::string> ids = FailureIds();
  const std::vector<Step> steps = FailureWorkload();
  const int n = static_cast<int>(steps.size());

  // The starting directory: a checkpoint whose replaced segment is still there, a .tmp, three
  // segments, the last one ending in a torn record.
  const std::string start = root.Sub("start");
  {
    auto stop = std::make_shared<std::string>();
    TestOptions options = Options(SyncPolicy::kAlways, clock);
    options.seams.checkpoint_step = [stop](const char* step) {
      return *stop != step;
    };
    auto db = OpenOrFail(start, options);
    ASSERT_NE(db, nullptr);
    FailureSetup(*db, stop.get());
    ASSERT_TRUE(db->Close().ok());
    Bytes last = ReadBytes(SegmentPath(start, 3));
    last.insert(last.end(), {0x11, 0x22, 0x33});
    WriteBytes(SegmentPath(start, 3), last);
    const DirContents c = Contents(start);
    ASSERT_EQ(c.segments, (std::vector<uint64_t>{1, 2, 3}));
    ASSERT_EQ(c.checkpoints, (std::vector<uint64_t>{2}));
    ASSERT_TRUE(c.tmp);
  }
  // The oracle's states: [i] after the first i steps.
  std::vector<State> states;
  {
    auto oracle = Oracle(clock);
    std::string unused;
    FailureSetup(*oracle, &unused);
    states.push_back(Snapshot(*oracle, ids));
    for (const Step& step : steps) {
      if (step.write) {
        ASSERT_TRUE(step.run(*oracle).ok()) << step.name;
      }
      states.push_back(Snapshot(*oracle, ids));
    }
  }
  // A reference run: how many calls of each kind the workload makes.
  uint64_t counts[static_cast<size_t>(Op::kCount)];
  {
    const std::string dir = root.Sub("reference");
    CopyFiles(start, dir);
    auto fs = std::make_shared<FaultInjectingFileSystem>(storage::DefaultFileSystem());
    auto db = OpenOrFail(dir, Options(SyncPolicy::kAlways, clock, fs));
    ASSERT_NE(db, nullptr);
    EXPECT_TRUE(db->recovery().torn_tail);
    EXPECT_EQ(Diff(states[0], Snapshot(*db, ids)), "");
    for (const Step& step : steps) {
      const Status s = step.run(*db);
      ASSERT_TRUE(s.ok()) << step.name << ": " << s.ToString();
    }
    std::string line;
    for (Op op : kAllOps) {
      counts[static_cast<size_t>(op)] = fs->Count(op);
      line += std::string(" ") + OpName(op) + "=" + std::to_string(fs->Count(op));
      EXPECT_GT(fs->Count(op), 0u) << "the workload never calls " << OpName(op);
    }
    std::printf("calls of the workload:%s\n", line.c_str());
    db.reset();
    db = OpenOrFail(dir, Options(SyncPolicy::kAlways, clock));
    ASSERT_NE(db, nullptr);
    EXPECT_EQ(Diff(states[n], Snapshot(*db, ids)), "");
  }

  size_t runs = 0;
  for (Op op : kAllOps) {
    const uint64_t calls = std::min<uint64_t>(counts[static_cast<size_t>(op)], 40);
    for (uint64_t k = 1; k <= calls; ++k) {
      const int error_number = k % 2 ? EIO : ENOSPC;
      const size_t partial = op == Op::kAppend && k % 3 == 0 ? 5 : 0;
      const bool power_loss = k % 4 >= 2;
      SCOPED_TRACE(std::string(OpName(op)) + " call " + std::to_string(k) + " fails (" +
                   std::strerror(error_number) + (partial ? ", 5 bytes written" : "") + ")" +
                   (power_loss ? ", then a power loss" : ""));
      ++runs;
      const std::string dir = root.Sub("run");
      CopyFiles(start, dir);
      auto fs = std::make_shared<FaultInjectingFileSystem>(storage::DefaultFileSystem());
      fs->FailNth(op, k, error_number, partial);
      int failed_at = -2;  // -1: Open; else the step
      Status first_error;
      // The recovered state must be the one after steps [lo, hi): every acknowledged write,
      // and at most the write that hit the failure besides (never one refused after it).
      int last_acknowledged = -1, hi = n;
      auto opened = OpenDb(dir, Options(SyncPolicy::kAlways, clock, fs));
      std::unique_ptr<Db> db;
      if (!opened.ok()) {
        failed_at = -1;
        first_error = opened.status();
        hi = 0;
      } else {
        EXPECT_EQ(fs->Fired(), 0u) << "Open hit the injected failure and returned OK";
        db = std::move(opened).value();
        bool refused = false;  // the log failed: every later write must fail
        for (int i = 0; i < n; ++i) {
          const uint64_t fired = fs->Fired();
          const Status s = steps[i].run(*db);
          if (fs->Fired() > fired) {
            EXPECT_FALSE(s.ok()) << steps[i].name << " hit the injected failure, returned OK";
          }
          if (!s.ok()) {
            EXPECT_EQ(s.code(), StatusCode::kIoError) << steps[i].name << ": " << s.ToString();
            if (failed_at == -2) {
              failed_at = i;
              first_error = s;
            }
          }
          if (steps[i].write) {
            if (refused) {
              EXPECT_FALSE(s.ok()) << steps[i].name << " accepted after the log failed";
            } else if (failed_at != -2 && failed_at != i) {
              // Only a checkpoint failed: the log is intact and writes go on.
              EXPECT_TRUE(s.ok()) << steps[i].name << ": " << s.ToString();
            }
            if (s.ok()) last_acknowledged = i;
            if (!s.ok()) hi = std::min(hi, refused ? i : i + 1);
          }
          if (!db->durability_stats().failure.empty()) refused = true;
          if (i + 1 < n && refused) {
            // Refused writes are refused before they touch the log or the state.
            EXPECT_EQ(
                db->Upsert("g", {.id = "w0", .pos = {0, 0}, .timestamp = 1 << 30}).status().code(),
                StatusCode::kIoError);
          }
        }
      }
      EXPECT_EQ(fs->Fired(), 1u);
      ASSERT_NE(failed_at, -2) << "the injected failure was never reported";
      EXPECT_TRUE(Contains(first_error.message(), std::strerror(error_number)))
          << first_error.ToString();
      if (power_loss) fs->PowerLoss();
      db.reset();
      // Reopen on a healthy file system: the state after every acknowledged write, and at
      // most the failed one besides (applied whole, in order).
      auto re = OpenOrFail(dir, Options(SyncPolicy::kAlways, clock));
      ASSERT_NE(re, nullptr) << "failed at " << failed_at << ": " << first_error.ToString();
      const State got = Snapshot(*re, ids);
      const int lo = last_acknowledged + 1;
      EXPECT_LE(lo, hi);
      bool found = false;
      for (int m = lo; m <= hi && !found; ++m) found = states[m] == got;
      EXPECT_TRUE(found) << "recovered state is not the state after steps [" << lo << ", " << hi
                         << "] (failure at step " << failed_at << ": " << first_error.ToString()
                         << "); against step " << lo << ":" << Diff(states[lo], got)
                         << "\nagainst step " << hi << ":" << Diff(states[hi], got);
      // What recovery leaves: no .tmp, one checkpoint at most, and the segments from it on.
      const DirContents c = Contents(dir);
      EXPECT_FALSE(c.tmp);
      EXPECT_LE(c.checkpoints.size(), 1u);
      ASSERT_FALSE(c.segments.empty());
      EXPECT_EQ(c.segments.back() - c.segments.front() + 1, c.segments.size());
      if (!c.checkpoints.empty()) {
        EXPECT_EQ(c.segments.front(), c.checkpoints[0]);
      }
      EXPECT_TRUE(re->Close().ok());
    }
  }
  std::printf("%zu runs, each with one call failing\n", runs);
}

// ---- 5. power loss under each policy ----

// The length m of the prefix seq/s0 .. s(m-1) present in `db`; a failure when the objects
// present are not a prefix or not what was written.
size_t PrefixLength(const Db& db, size_t written) {
  if (!db.Stats("seq").ok()) return 0;
  size_t m = 0;
  while (m < written && db.Get("seq", "s" + std::to_string(m)).ok()) ++m;
  for (size_t i = 0; i < written + 5; ++i) {
    auto o = db.Get("seq", "s" + std::to_string(i));
    EXPECT_EQ(o.ok(), i < m) << "s" << i << ": the recovered objects are not a prefix (m = " << m
                             << ")";
    if (o.ok()) {
      EXPECT_EQ(o->timestamp, static_cast<int64_t>(i));
      EXPECT_EQ(o->metadata, "v" + std::to_string(i));
    }
  }
  EXPECT_EQ(db.Stats("seq")->objects, m);
  return m;
}

Status WriteSeq(Db& db, size_t i) {
  return db
      .Upsert("seq", {.id = "s" + std::to_string(i),
                      .pos = {static_cast<double>(i % 360) - 180, 0},
                      .timestamp = static_cast<int64_t>(i),
                      .metadata = "v" + std::to_string(i)})
      .status();
}

// Eight writers under kAlways; the power goes at a random moment; every write that returned
// OK is there after the restart (or a later one of the same object, which was attempted).
TEST(DurablePowerLossTest, AlwaysLosesNoAcknowledgedWrite) {
  const uint64_t seed = TestSeed() + 50;
  SCOPED_TRACE(SeedTrace(seed));
  std::mt19937_64 rng(seed);
  for (int round = 0; round < 3; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    TempDir dir;
    auto clock = std::make_shared<ManualClock>(1'700'000'000'000);
    auto fs = std::make_shared<FaultInjectingFileSystem>(storage::DefaultFileSystem());
    auto db = OpenOrFail(dir.path(), Options(SyncPolicy::kAlways, clock, fs));
    ASSERT_NE(db, nullptr);
    ASSERT_TRUE(db->CreateNamespace("pl", {CoordinateSystem::kPlanar2D}).ok());
    constexpr int kThreads = 8, kIdsPerThread = 8;
    // [thread][id]: the last value written with OK, and the last one attempted.
    std::vector<std::vector<int64_t>> acked(kThreads, std::vector<int64_t>(kIdsPerThread, 0));
    std::vector<std::vector<int64_t>> attempted = acked;
    std::atomic<bool> stop{false};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        auto id = [t](int j) { return "t" + std::to_string(t) + "-" + std::to_string(j); };
        auto object = [&](int j, int64_t v) {
          return Object{.id = id(j),
                        .pos = {static_cast<double>(v), static_cast<double>(t)},
                        .timestamp = v,
                        .metadata = std::to_string(v)};
        };
        for (int64_t v = 1; !stop.load(); ++v) {
          const int j = static_cast<int>(v % kIdsPerThread);
          Status s;
          if (v % 10 == 0) {  // a batch of two
            const int j2 = (j + 1) % kIdsPerThread;
            Batch b;
            b.Upsert("pl", object(j, v));
            b.Upsert("pl", object(j2, v));
            attempted[t][j] = attempted[t][j2] = v;
            s = db->Apply(b).status();
            if (s.ok()) acked[t][j] = acked[t][j2] = v;
          } else {
            attempted[t][j] = v;
            s = db->Upsert("pl", object(j, v)).status();
            if (s.ok()) acked[t][j] = v;
          }
          if (!s.ok()) break;
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20 + rng() % 100));
    fs->PowerLoss();
    stop = true;
    for (auto& t : threads) t.join();
    int64_t total_acked = 0;
    for (const auto& per : acked) {
      for (int64_t v : per) total_acked += v > 0;
    }
    ASSERT_GT(total_acked, 0) << "no write was acknowledged before the power loss";
    db.reset();
    auto re = OpenOrFail(dir.path(), Options(SyncPolicy::kAlways, clock, fs));
    ASSERT_NE(re, nullptr);
    for (int t = 0; t < kThreads; ++t) {
      for (int j = 0; j < kIdsPerThread; ++j) {
        const std::string id = "t" + std::to_string(t) + "-" + std::to_string(j);
        auto o = re->Get("pl", id);
        if (attempted[t][j] == 0) {
          EXPECT_FALSE(o.ok()) << id;
          continue;
        }
        if (acked[t][j] == 0 && !o.ok()) continue;
        ASSERT_TRUE(o.ok()) << id << ": acknowledged value " << acked[t][j] << " lost";
        EXPECT_GE(o->timestamp, acked[t][j]) << id << ": an acknowledged write lost";
        EXPECT_LE(o->timestamp, attempted[t][j]) << id;
        EXPECT_EQ(o->metadata, std::to_string(o->timestamp)) << id;
        EXPECT_EQ(o->pos.x, static_cast<double>(o->timestamp)) << id;
      }
    }
  }
}

// Write groups (kAlways): many threads' single writes are applied by whichever thread leads
// their group. Every writer gets its own outcome (applied, stale, not found, a bad namespace)
// and the reopened database holds exactly what was acknowledged; the syncs are shared.
TEST(DurableGroupTest, ConcurrentWritersGetTheirOwnOutcomes) {
  TempDir dir;
  auto clock = std::make_shared<ManualClock>(1'700'000'000'000);
  auto db = OpenOrFail(dir.path(), Options(SyncPolicy::kAlways, clock));
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(db->CreateNamespace("g", {CoordinateSystem::kPlanar2D}).ok());
  constexpr int kThreads = 16, kOps = 300;
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string mine = "w" + std::to_string(t);
      auto report = [&](int k, const std::string& what) {
        if (wrong.fetch_add(1) < 10) ADD_FAILURE() << "thread " << t << " op " << k << ": " << what;
      };
      for (int k = 0; k < kOps; ++k) {
        const int64_t ts = 10 * k + 5;
        switch (k % 5) {
          case 0:
          case 1: {  // applied: a newer timestamp for this thread's own id
            auto r = db->Upsert("g", {.id = mine,
                                      .pos = {double(k), double(t)},
                                      .timestamp = ts,
                                      .metadata = std::to_string(k)});
            if (!r.ok() || *r != WriteOutcome::kApplied) report(k, "upsert not applied");
            break;
          }
          case 2: {  // stale: older than the last one applied (logs nothing)
            auto r = db->Upsert("g", {.id = mine, .pos = {-1, -1}, .timestamp = 1});
            if (!r.ok() || *r != WriteOutcome::kStale) report(k, "stale upsert not stale");
            break;
          }
          case 3: {  // a delete of an id that does not exist: NotFound, nothing logged
            const Status s = db->Delete("g", mine + "-absent");
            if (s.code() != StatusCode::kNotFound) report(k, "absent delete: " + s.ToString());
            break;
          }
          case 4: {  // a delete in a namespace that does not exist: NotFound from the apply
            const Status s = db->Delete("nowhere", mine);
            if (s.code() != StatusCode::kNotFound) report(k, "bad namespace: " + s.ToString());
            // and a create + delete that are both applied
            const std::string tmp = mine + "-tmp" + std::to_string(k);
            if (!db->Upsert("g", {.id = tmp, .pos = {0, 0}, .timestamp = ts}).ok() ||
                !db->Delete("g", tmp).ok()) {
              report(k, "create and delete");
            }
            break;
          }
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
  const DurabilityStats stats = db->durability_stats();
  EXPECT_LT(stats.syncs, stats.records) << "no sync was shared";
  db.reset();
  auto re = OpenOrFail(dir.path(), Options(SyncPolicy::kAlways, clock));
  ASSERT_NE(re, nullptr);
  EXPECT_EQ(*re->CountInBox("g", {-1e9, -1e9}, {1e9, 1e9}), size_t{kThreads});
  constexpr int kLast = (kOps - 1) / 5 * 5 + 1;  // the last op with k % 5 == 1
  for (int t = 0; t < kThreads; ++t) {
    auto o = re->Get("g", "w" + std::to_string(t));
    ASSERT_TRUE(o.ok()) << t;
    EXPECT_EQ(o->timestamp, 10 * kLast + 5) << t;
    EXPECT_EQ(o->pos, (Position{double(kLast), double(t)})) << t;
    EXPECT_EQ(o->metadata, std::to_string(kLast)) << t;
  }
}

// kEverySecond: writes acknowledged before a background sync that started after them
// survive a power loss; what survives is a prefix of the writes.
TEST(DurablePowerLossTest, EverySecondKeepsWhatALaterSyncCovered) {
  TempDir dir;
  auto clock = std::make_shared<ManualClock>(1'700'000'000'000);
  auto fs = std::make_shared<FaultInjectingFileSystem>(storage::DefaultFileSystem());
  TestOptions options = Options(SyncPolicy::kEverySecond, clock, fs);
  options.durability.sync_interval_ms = 50;
  auto db = OpenOrFail(dir.path(), options);
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(db->CreateNamespace("seq", {}).ok());
  size_t written = 0;
  for (; written < 200; ++written) ASSERT_TRUE(WriteSeq(*db, written).ok());
  const size_t a = written;
  // Two more syncs complete: the second started after A was acknowledged. Keep writing
  // meanwhile (a sync only runs when there is something to sync).
  const uint64_t syncs = db->durability_stats().syncs;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (db->durability_stats().syncs < syncs + 2) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "no background sync in 20 s";
    ASSERT_TRUE(WriteSeq(*db, written++).ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(WriteSeq(*db, written++).ok());
  fs->PowerLoss();
  db.reset();
  auto re = OpenOrFail(dir.path(), Options(SyncPolicy::kEverySecond, clock));
  ASSERT_NE(re, nullptr);
  const size_t m = PrefixLength(*re, written);
  EXPECT_GE(m, a) << "writes covered by a completed sync were lost";
  std::printf("kEverySecond: %zu of %zu writes survived (%zu were covered)\n", m, written, a);
}

// kNever: a power loss keeps a prefix; Db::Sync makes everything before it durable.
TEST(DurablePowerLossTest, NeverKeepsAPrefixAndSyncedWrites) {
  const uint64_t seed = TestSeed() + 51;
  SCOPED_TRACE(SeedTrace(seed));
  std::mt19937_64 rng(seed);
  for (int round = 0; round < 3; ++round) {
    TempDir dir;
    auto clock = std::make_shared<ManualClock>(1'700'000'000'000);
    auto fs = std::make_shared<FaultInjectingFileSystem>(storage::DefaultFileSystem());
    TestOptions options = Options(SyncPolicy::kNever, clock, fs);
    options.durability.sync_interval_ms = 2;
    auto db = OpenOrFail(dir.path(), options);
    ASSERT_NE(db, nullptr);
    ASSERT_TRUE(db->CreateNamespace("seq", {}).ok());
    const size_t total = 300 + rng() % 300, sync_at = rng() % total;
    size_t synced = 0;
    for (size_t i = 0; i < total; ++i) {
      ASSERT_TRUE(WriteSeq(*db, i).ok());
      if (i == sync_at) {
        ASSERT_TRUE(db->Sync().ok());
        synced = i + 1;
      }
      if (i % 50 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    fs->PowerLoss();
    db.reset();
    auto re = OpenOrFail(dir.path(), Options(SyncPolicy::kNever, clock));
    ASSERT_NE(re, nullptr);
    EXPECT_GE(PrefixLength(*re, total), synced);
  }
}

// A process crash (the files as the OS has them, copied while the writer runs) keeps a
// prefix under kNever; once the writer stops, the background write hands every record to
// the OS within about an interval.
TEST(DurablePowerLossTest, NeverProcessCrashKeepsAPrefix) {
  TempDir dir, copies;
  auto clock = std::make_shared<ManualClock>(1'700'000'000'000);
  TestOptions options = Options(SyncPolicy::kNever, clock);
  options.durability.sync_interval_ms = 3;
  auto db = OpenOrFail(dir.path(), options);
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(db->CreateNamespace("seq", {}).ok());
  constexpr size_t kTotal = 3000;
  std::atomic<size_t> written{0};
  std::thread writer([&] {
    for (size_t i = 0; i < kTotal; ++i) {
      if (!WriteSeq(*db, i).ok()) break;
      written = i + 1;
      if (i % 20 == 0) std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  });
  auto crash_image = [&](const std::string& name) {
    const std::string to = copies.Sub(name);
    CopyFiles(dir.path(), to);
    return to;
  };
  std::vector<std::pair<std::string, size_t>> images;
  for (int c = 0; c < 4; ++c) {
    std::this_thread::sleep_for(std::chrono::milliseconds(4 + 5 * c));
    const std::string image = crash_image("c" + std::to_string(c));
    images.emplace_back(image, written.load() + 1);  // the write in flight may be in it
  }
  writer.join();
  ASSERT_EQ(written.load(), kTotal);
  for (const auto& [image, bound] : images) {
    auto re = OpenOrFail(image, Options(SyncPolicy::kNever, clock));
    ASSERT_NE(re, nullptr);
    const size_t m = PrefixLength(*re, kTotal);
    EXPECT_LE(m, bound);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (int attempt = 0;; ++attempt) {
    auto re = OpenOrFail(crash_image("final" + std::to_string(attempt)),
                         Options(SyncPolicy::kNever, clock));
    ASSERT_NE(re, nullptr);
    if (PrefixLength(*re, kTotal) == kTotal) break;
    ASSERT_LT(std::chrono::steady_clock::now(), deadline)
        << "buffered records not handed to the OS within 10 s (interval 3 ms)";
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

// ---- 6. checkpoints stopped at each step ----

TEST(DurableCheckpointTest, StoppedAtEachStepRecovers) {
  const std::vector<std::string> ids = IdUniverse(30);
  for (const char* stop_at : {"rolled", "copied", "written", "renamed", "removed"}) {
    for (bool power_loss : {false, true}) {
      SCOPED_TRACE(std::string("stopped after '") + stop_at + "'" +
                   (power_loss ? ", then a power loss" : ""));
      TempDir dir;
      auto clock = std::make_shared<ManualClock>(1'700'000'000'000);
      auto fs = std::make_shared<FaultInjectingFileSystem>(storage::DefaultFileSystem());
      auto stop = std::make_shared<std::string>();
      TestOptions options = Options(SyncPolicy::kAlways, clock, fs);
      options.seams.checkpoint_step = [stop](const char* step) {
        return *stop != step;
      };
      auto db = OpenOrFail(dir.path(), options);
      ASSERT_NE(db, nullptr);
      auto oracle = Oracle(clock);
      std::mt19937_64 rng(TestSeed() + 60);
      auto writes = [&](int count) {
        for (int i = 0; i < count; ++i) {
          const std::string& ns = kNamespaces[rng() % 3];
          Object o = RandomObject(rng, clock->NowMillis(), 30);
          o.expires_at.reset();
          o.ttl_ms.reset();
          if (rng() % 5 == 0) {
            ExpectSameStatus(db->Delete(ns, o.id), oracle->Delete(ns, o.id), "Delete");
          } else {
            auto a = db->Upsert(ns, o);
            auto b = oracle->Upsert(ns, o);
            ASSERT_TRUE(a.ok()) << a.status().ToString();
            ASSERT_TRUE(b.ok());
          }
        }
      };
      for (const auto& [name, cs] : {std::pair{"geo", CoordinateSystem::kGeographic},
                                     std::pair{"p2", CoordinateSystem::kPlanar2D},
                                     std::pair{"p3", CoordinateSystem::kPlanar3D}}) {
        ASSERT_TRUE(db->CreateNamespace(name, {cs}).ok());
        ASSERT_TRUE(oracle->CreateNamespace(name, {cs}).ok());
      }
      writes(40);
      ASSERT_TRUE(db->Checkpoint().ok());  // checkpoint-2, log-2
      writes(40);
      *stop = stop_at;
      const Status s = db->Checkpoint();  // rolls to log-3
      EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << s.ToString();
      EXPECT_TRUE(Contains(s.message(), stop_at)) << s.ToString();
      writes(40);  // the log is fine: writes go on
      *stop = "";
      if (power_loss) {
        fs->PowerLoss();
      } else {
        ASSERT_TRUE(db->Close().ok());
      }
      db.reset();
      auto re = OpenOrFail(dir.path(), Options(SyncPolicy::kAlways, clock));
      ASSERT_NE(re, nullptr);
      EXPECT_EQ(Diff(Snapshot(*oracle, ids), Snapshot(*re, ids)), "") << re->recovery().ToString();
      const bool renamed = std::string(stop_at) == "renamed" || std::string(stop_at) == "removed";
      const uint64_t k = renamed ? 3 : 2;
      EXPECT_EQ(re->recovery().checkpoint, dir.path() + "/" + CheckpointName(k));
      const DirContents c = Contents(dir.path());
      EXPECT_FALSE(c.tmp) << "a .tmp left behind";
      EXPECT_EQ(c.checkpoints, std::vector<uint64_t>{k}) << "older checkpoints not removed";
      EXPECT_EQ(c.segments, (renamed ? std::vector<uint64_t>{3} : std::vector<uint64_t>{2, 3}))
          << "segments replaced by the checkpoint not removed";
      EXPECT_TRUE(re->Close().ok());
    }
  }
}

// Writers on several threads (upserts, deletes, batches over two namespaces, one thread
// dropping and creating a namespace again with other coordinates) while checkpoints run:
// every write that lands between a checkpoint's roll and its copy is both in the copy and in
// the log, and replaying it over the copy must give the same state. Each thread owns its
// namespaces, so the oracle (each thread's operations in its order) is exact.
TEST(DurableCheckpointTest, ConcurrentWritesDuringCheckpoints) {
  const uint64_t seed = TestSeed() + 70;
  SCOPED_TRACE(SeedTrace(seed));
  TempDir dir;
  auto clock = std::make_shared<ManualClock>(1'700'000'000'000);
  TestOptions options = Options(SyncPolicy::kEverySecond, clock);
  options.durability.sync_interval_ms = 5;
  options.background_recluster = true;
  auto db = OpenOrFail(dir.path(), options);
  ASSERT_NE(db, nullptr);
  auto oracle = Oracle(clock);
  constexpr int kThreads = 4;
  const std::vector<std::string> ids = IdUniverse(50);
  std::vector<std::vector<std::function<Status(Db&)>>> done(kThreads + 1);
  std::atomic<bool> stop{false};
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937_64 rng(seed + t);
      const std::string a = "w" + std::to_string(t) + "a", b = "w" + std::to_string(t) + "b";
      for (int i = 0; !stop.load() || i < 200; ++i) {
        std::function<Status(Db&)> op;
        Object o = RandomObject(rng, clock->NowMillis(), 50);
        o.expires_at.reset();
        o.ttl_ms.reset();
        o.timestamp = i;  // never stale: the outcome is the same whatever the order
        const int what = static_cast<int>(rng() % 10);
        if (what < 6) {
          const std::string ns = rng() % 2 ? a : b;
          op = [=](Db& d) { return d.Upsert(ns, o).status(); };
        } else if (what < 8) {
          const std::string id = o.id;
          op = [=](Db& d) {
            const Status s = d.Delete(a, id);
            return s.code() == StatusCode::kNotFound ? Status() : s;
          };
        } else {
          Batch batch;
          batch.Upsert(a, o);
          o.id = ids[rng() % ids.size()];
          batch.Upsert(b, o);
          batch.Delete(b, ids[rng() % ids.size()]);
          op = [=](Db& d) { return d.Apply(batch).status(); };
        }
        if (!op(*db).ok()) ++errors;
        done[t].push_back(std::move(op));
      }
    });
  }
  threads.emplace_back([&] {
    for (int i = 0; !stop.load() || i < 30; ++i) {
      const NamespaceOptions no{static_cast<CoordinateSystem>(i % 3)};
      std::vector<std::function<Status(Db&)>> ops = {
          [](Db& d) { return d.DropNamespace("flux"); },
          [=](Db& d) { return d.CreateNamespace("flux", no); }};
      for (int j = 0; j < 5; ++j) {
        const Object o{.id = ids[(i * 5 + j) % ids.size()],
                       .pos = {j * 10.0, (i % 90) * 1.0, j * 1.0},
                       .timestamp = i};
        ops.push_back([=](Db& d) { return d.Upsert("flux", o).status(); });
      }
      for (auto& op : ops) {
        const Status s = op(*db);
        if (!s.ok() && s.code() != StatusCode::kNotFound) ++errors;
        done[kThreads].push_back(std::move(op));
      }
    }
  });
  for (int c = 0; c < 6; ++c) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    const Status s = db->Checkpoint();
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
  stop = true;
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors.load(), 0);
  for (const auto& ops : done) {
    for (const auto& op : ops) op(*oracle).IgnoreError();
  }
  const State want = Snapshot(*oracle, ids);
  EXPECT_EQ(Diff(want, Snapshot(*db, ids)), "") << "the live database differs from the oracle";
  EXPECT_EQ(db->durability_stats().checkpoints, 6u);
  ASSERT_TRUE(db->Close().ok());
  auto re = OpenOrFail(dir.path(), options);
  ASSERT_NE(re, nullptr);
  EXPECT_NE(re->recovery().checkpoint, "");
  EXPECT_EQ(Diff(want, Snapshot(*re, ids)), "") << re->recovery().ToString();
}

// kNever: a checkpoint copies namespaces while a writer goes on writing: a power loss right
// after the checkpoint returns must still leave a prefix of the writes. The writer alternates
// between namespaces "a" and "z" while the checkpoint copies "m" (large) between them: its
// writes to "a" (copied already) are not in the checkpoint, its later writes to "z" are, so
// unless the log holding the first ones is durable before the checkpoint can be found, a
// power loss keeps later writes without earlier ones.
TEST(DurableCheckpointTest, CheckpointUnderNeverThenPowerLossKeepsAPrefix) {
  const uint64_t seed = TestSeed() + 90;
  SCOPED_TRACE(SeedTrace(seed));
  std::mt19937_64 rng(seed);
  constexpr int kObjects = 100, kLarge = 20000;
  const char* const kNs[] = {"a", "z"};
  for (int round = 0; round < 3; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    TempDir dir;
    auto clock = std::make_shared<ManualClock>(1'700'000'000'000);
    auto fs = std::make_shared<FaultInjectingFileSystem>(storage::DefaultFileSystem());
    auto db = OpenOrFail(dir.path(), Options(SyncPolicy::kNever, clock, fs));
    ASSERT_NE(db, nullptr);
    Batch b;
    for (const char* ns : kNs) {
      for (int j = 0; j < kObjects; ++j) {
        b.Upsert(ns, {.id = "o" + std::to_string(j), .pos = {0, 0}, .timestamp = 0});
      }
    }
    const std::string metadata(200, 'm');
    for (int j = 0; j < kLarge; ++j) {
      b.Upsert("m", {.id = "o" + std::to_string(j), .pos = {1, 1}, .metadata = metadata});
    }
    ASSERT_TRUE(db->Apply(b).ok());
    ASSERT_TRUE(db->Sync().ok());
    struct Write {
      int ns, object;
    };
    std::vector<Write> writes;  // writes[s - 1]: the write with timestamp s
    writes.reserve(1 << 22);
    std::atomic<bool> stop{false};
    std::atomic<bool> before_checkpoint{false}, writer_done{false};
    const uint64_t writer_seed = rng();
    std::thread writer([&] {
      std::mt19937_64 wr(writer_seed);
      for (int64_t s = 1; !stop.load() && s < (1 << 22); ++s) {
        const Write w{static_cast<int>(s % 2), static_cast<int>(wr() % kObjects)};
        writes.push_back(w);
        const Object o{.id = "o" + std::to_string(w.object),
                       .pos = {static_cast<double>(s % 180), 0},
                       .timestamp = s};
        if (!db->Upsert(kNs[w.ns], o).ok()) break;
        if (s == 1000) before_checkpoint = true;
        if (s % 16 == 0) std::this_thread::sleep_for(std::chrono::microseconds(20));
      }
      writer_done = true;
    });
    while (!before_checkpoint.load() && !writer_done.load()) std::this_thread::yield();
    if (!before_checkpoint.load()) {
      writer.join();
      FAIL() << "the writer failed before its 1000th write";
    }
    const Status checkpointed = db->Checkpoint();
    fs->PowerLoss();
    stop = true;
    writer.join();
    ASSERT_TRUE(checkpointed.ok()) << checkpointed.ToString();
    db.reset();
    auto re = OpenOrFail(dir.path(), Options(SyncPolicy::kNever, clock));
    ASSERT_NE(re, nullptr);
    ASSERT_EQ(re->Stats("m")->objects, static_cast<size_t>(kLarge));
    // The recovered timestamps; m = the largest + 1: every write before m must be there.
    std::vector<std::vector<int64_t>> got(2, std::vector<int64_t>(kObjects, -1));
    int64_t m = 0;
    for (int n = 0; n < 2; ++n) {
      for (int j = 0; j < kObjects; ++j) {
        auto o = re->Get(kNs[n], "o" + std::to_string(j));
        ASSERT_TRUE(o.ok()) << kNs[n] << "/o" << j << " (synced before the checkpoint) lost";
        got[n][j] = o->timestamp;
        m = std::max(m, o->timestamp + 1);
      }
    }
    EXPECT_GE(m, 1000) << "writes synced by the checkpoint's first step were lost";
    std::vector<std::vector<int64_t>> want(2, std::vector<int64_t>(kObjects, 0));
    for (int64_t s = 1; s < m; ++s) want[writes[s - 1].ns][writes[s - 1].object] = s;
    int wrong = 0;
    for (int n = 0; n < 2; ++n) {
      for (int j = 0; j < kObjects; ++j) {
        if (got[n][j] != want[n][j] && wrong++ < 5) {
          ADD_FAILURE() << kNs[n] << "/o" << j << ": timestamp " << got[n][j] << ", want "
                        << want[n][j] << " (the recovered writes are not a prefix: write " << m - 1
                        << " survived)";
        }
      }
    }
    std::printf("round %d: %lld of %zu writes survived the power loss after the checkpoint\n",
                round, static_cast<long long>(m - 1), writes.size());
  }
}

// ---- 7. the lock and the options ----

TEST(DurableOpenTest, SecondOpenOfADirectoryFails) {
  TempDir dir;
  auto clock = std::make_shared<ManualClock>(1);
  auto db = OpenOrFail(dir.path(), Options(SyncPolicy::kAlways, clock));
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(db->Upsert("a", {.id = "x", .pos = {1, 2}, .timestamp = 1}).ok());
  auto second = OpenDb(dir.path(), Options(SyncPolicy::kAlways, clock));
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Contains(second.status().message(), dir.path() + "/LOCK"))
      << second.status().ToString();
  // A trailing slash names the same directory.
  EXPECT_EQ(OpenDb(dir.path() + "/", Options(SyncPolicy::kAlways, clock)).status().code(),
            StatusCode::kFailedPrecondition);
  ASSERT_TRUE(db->Close().ok());
  auto third = OpenOrFail(dir.path(), Options(SyncPolicy::kAlways, clock));
  ASSERT_NE(third, nullptr);
  EXPECT_TRUE(third->Get("a", "x").ok());
  third.reset();  // the destructor releases the lock too
  EXPECT_NE(OpenOrFail(dir.path(), Options(SyncPolicy::kAlways, clock)), nullptr);
}

TEST(DurableOpenTest, BadOptionsNameTheField) {
  TempDir dir;
  auto clock = std::make_shared<ManualClock>(1);
  auto expect_bad = [&](TestOptions o, const char* field) {
    auto db = OpenDb(dir.path(), std::move(o));
    ASSERT_FALSE(db.ok()) << field;
    EXPECT_EQ(db.status().code(), StatusCode::kInvalidArgument) << db.status().ToString();
    EXPECT_TRUE(Contains(db.status().message(), field)) << db.status().ToString();
  };
  for (int64_t bad : {int64_t{0}, int64_t{-5}}) {
    TestOptions o = Options(SyncPolicy::kEverySecond, clock);
    o.durability.sync_interval_ms = bad;
    expect_bad(o, "sync_interval_ms");
  }
  TestOptions o = Options(SyncPolicy::kAlways, clock);
  o.durability.sync_batch_size = 0;
  expect_bad(o, "sync_batch_size");
  for (double bad : {0.0, -1.0, std::nan(""), std::numeric_limits<double>::infinity()}) {
    o = Options(SyncPolicy::kAlways, clock);
    o.durability.checkpoint_log_ratio = bad;
    expect_bad(o, "checkpoint_log_ratio");
  }
  o = Options(SyncPolicy::kAlways, clock);
  o.durability.sync = static_cast<SyncPolicy>(7);
  expect_bad(o, "durability.sync");
  auto empty = OpenDb("", Options(SyncPolicy::kAlways, clock));
  EXPECT_EQ(empty.status().code(), StatusCode::kInvalidArgument);
  // Nothing was created by the refused opens.
  EXPECT_TRUE(Files(dir.path()).empty());
}

// ---- 8. automatic checkpoints ----

TEST(DurableCheckpointTest, AutomaticCheckpointReplacesTheLog) {
  TempDir dir;
  auto clock = std::make_shared<ManualClock>(1'700'000'000'000);
  TestOptions options = Options(SyncPolicy::kNever, clock);
  options.durability.checkpoint_min_log_bytes = 64 << 10;
  auto db = OpenOrFail(dir.path(), options);
  ASSERT_NE(db, nullptr);
  auto oracle = Oracle(clock);
  const std::vector<std::string> ids = IdUniverse(500);
  std::mt19937_64 rng(TestSeed() + 80);
  const std::string metadata(100, 'm');
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  size_t writes = 0;
  while (db->durability_stats().checkpoints == 0) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "no automatic checkpoint";
    for (int i = 0; i < 100; ++i, ++writes) {
      const Object o{.id = ids[rng() % ids.size()],
                     .pos = RandomPos(rng),
                     .timestamp = static_cast<int64_t>(writes),
                     .metadata = metadata};
      const char* ns = writes % 2 ? "geo" : "other";
      ASSERT_TRUE(db->Upsert(ns, o).ok());
      ASSERT_TRUE(oracle->Upsert(ns, o).ok());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  // Each write logs fewer than 170 bytes.
  EXPECT_GE(writes * 170, size_t{64} << 10) << "a checkpoint before the threshold";
  const DurabilityStats stats = db->durability_stats();
  EXPECT_GT(stats.checkpoint_bytes, 0u);
  ASSERT_TRUE(db->Close().ok());
  const DirContents c = Contents(dir.path());
  ASSERT_EQ(c.checkpoints.size(), 1u);
  EXPECT_GE(c.checkpoints[0], 2u);
  ASSERT_FALSE(c.segments.empty());
  EXPECT_EQ(c.segments.front(), c.checkpoints[0]) << "segments before the checkpoint remain";
  auto re = OpenOrFail(dir.path(), Options(SyncPolicy::kNever, clock));
  ASSERT_NE(re, nullptr);
  EXPECT_EQ(re->recovery().checkpoint, dir.path() + "/" + CheckpointName(c.checkpoints[0]));
  EXPECT_GT(re->recovery().checkpoint_objects, 0u);
  EXPECT_EQ(Diff(Snapshot(*oracle, ids), Snapshot(*re, ids)), "");
}

// ---- 9. Close ----

TEST(DurableCloseTest, WritesAfterCloseFail) {
  TempDir dir;
  auto clock = std::make_shared<ManualClock>(1);
  auto db = OpenOrFail(dir.path(), Options(SyncPolicy::kEverySecond, clock));
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(db->Upsert("n", {.id = "x", .pos = {1, 2}, .timestamp = 1}).ok());
  ASSERT_TRUE(db->Close().ok());
  EXPECT_TRUE(db->Close().ok()) << "a second Close";
  const Object o{.id = "y", .pos = {1, 2}, .timestamp = 2};
  EXPECT_EQ(db->Upsert("n", o).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(db->Upsert("new", o).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(db->Delete("n", "x").code(), StatusCode::kFailedPrecondition);
  Batch b;
  b.Upsert("n", o);
  EXPECT_EQ(db->Apply(b).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(db->CreateNamespace("m").code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(db->DropNamespace("n").code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(db->Checkpoint().code(), StatusCode::kFailedPrecondition);
  db.reset();
  auto re = OpenOrFail(dir.path(), Options(SyncPolicy::kEverySecond, clock));
  ASSERT_NE(re, nullptr);
  EXPECT_TRUE(re->Get("n", "x").ok()) << "Close synced the write";
  EXPECT_FALSE(re->Get("n", "y").ok());
  EXPECT_EQ(re->ListNamespaces(), std::vector<std::string>{"n"});
}

TEST(DurableCloseTest, SyncUnderNeverSurvivesAPowerLoss) {
  TempDir dir;
  auto clock = std::make_shared<ManualClock>(1);
  auto fs = std::make_shared<FaultInjectingFileSystem>(storage::DefaultFileSystem());
  auto db = OpenOrFail(dir.path(), Options(SyncPolicy::kNever, clock, fs));
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(db->CreateNamespace("seq", {}).ok());
  for (size_t i = 0; i < 20; ++i) ASSERT_TRUE(WriteSeq(*db, i).ok());
  ASSERT_TRUE(db->Sync().ok());
  for (size_t i = 20; i < 25; ++i) ASSERT_TRUE(WriteSeq(*db, i).ok());
  fs->PowerLoss();
  db.reset();
  auto re = OpenOrFail(dir.path(), Options(SyncPolicy::kNever, clock));
  ASSERT_NE(re, nullptr);
  EXPECT_GE(PrefixLength(*re, 25), 20u);
}

// Close under kAlways with writes made with sync = false: Close syncs them.
TEST(DurableCloseTest, CloseSyncsUnwaitedWrites) {
  TempDir dir;
  auto clock = std::make_shared<ManualClock>(1);
  auto fs = std::make_shared<FaultInjectingFileSystem>(storage::DefaultFileSystem());
  auto db = OpenOrFail(dir.path(), Options(SyncPolicy::kAlways, clock, fs));
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(db->CreateNamespace("seq", {}).ok());
  for (size_t i = 0; i < 10; ++i) {
    ASSERT_TRUE(db->Upsert("seq",
                           {.id = "s" + std::to_string(i),
                            .pos = {0, 0},
                            .timestamp = static_cast<int64_t>(i),
                            .metadata = "v" + std::to_string(i)},
                           {.sync = false})
                    .ok());
  }
  ASSERT_TRUE(db->Close().ok());
  fs->PowerLoss();
  auto re = OpenOrFail(dir.path(), Options(SyncPolicy::kAlways, clock));
  ASSERT_NE(re, nullptr);
  EXPECT_EQ(PrefixLength(*re, 10), 10u);
}

// ---- 10. damage before the end of the log, missing segments, damaged checkpoints ----

// A log of three segments (two checkpoints stopped after their roll), each with writes;
// states[s] = the oracle after the writes of segments 1..s, and before_last_of_1 = the state
// before the last record of segment 1.
struct ThreeSegments {
  std::vector<State> states;
  State before_last_of_1;
  std::vector<std::string> ids;
  std::vector<uint64_t> records;  // per segment
};

ThreeSegments BuildThreeSegments(const std::string& dir, std::shared_ptr<ManualClock> clock) {
  ThreeSegments t;
  t.ids = IdUniverse(12);
  auto stop = std::make_shared<std::string>("rolled");
  TestOptions options = Options(SyncPolicy::kAlways, clock);
  options.seams.checkpoint_step = [stop](const char* step) {
    return *stop != step;
  };
  auto db = OpenOrFail(dir, options);
  LOCUS_CHECK(db != nullptr);
  auto oracle = Oracle(clock);
  t.states.push_back(Snapshot(*oracle, t.ids));
  int v = 0;
  for (int seg = 1; seg <= 3; ++seg) {
    const uint64_t before = db->durability_stats().records;
    for (int i = 0; i < 4; ++i, ++v) {
      if (seg == 1 && i == 3) t.before_last_of_1 = Snapshot(*oracle, t.ids);
      const Object o{.id = t.ids[v % t.ids.size()],
                     .pos = {v * 1.0, v * 0.5},
                     .timestamp = v,
                     .metadata = std::string(20, static_cast<char>('a' + v))};
      LOCUS_CHECK(db->Upsert("n", o).ok());
      LOCUS_CHECK(oracle->Upsert("n", o).ok());
    }
    t.records.push_back(db->durability_stats().records - before);
    t.states.push_back(Snapshot(*oracle, t.ids));
    if (seg < 3) LOCUS_CHECK(db->Checkpoint().code() == StatusCode::kFailedPrecondition);
  }
  LOCUS_CHECK(db->Close().ok());
  LOCUS_CHECK(Contents(dir).segments == (std::vector<uint64_t>{1, 2, 3}));
  LOCUS_CHECK(Contents(dir).checkpoints.empty());
  return t;
}

TEST(DurableDamageTest, DamageBeforeTheLastSegment) {
  auto clock = std::make_shared<ManualClock>(1'700'000'000'000);
  TempDir root;
  const std::string start = root.Sub("start");
  const ThreeSegments t = BuildThreeSegments(start, clock);
  {  // the three segments replay in order
    const std::string dir = root.Sub("intact");
    CopyFiles(start, dir);
    auto db = OpenOrFail(dir, Options(SyncPolicy::kAlways, clock));
    ASSERT_NE(db, nullptr);
    EXPECT_EQ(db->recovery().segments, 3u);
    EXPECT_EQ(Diff(t.states[3], Snapshot(*db, t.ids)), "");
  }
  const Bytes seg1 = ReadBytes(SegmentPath(start, 1));
  // The last record of segment 1 damaged (a payload byte near its end), or cut short.
  for (bool cut : {false, true}) {
    SCOPED_TRACE(cut ? "segment 1 cut short" : "a byte of segment 1 flipped");
    const std::string dir = root.Sub("damaged");
    CopyFiles(start, dir);
    Bytes bad = seg1;
    if (cut) {
      bad.resize(bad.size() - 3);
    } else {
      bad[bad.size() - 2] ^= 0x20;
    }
    WriteBytes(SegmentPath(dir, 1), bad);
    auto db = OpenDb(dir, Options(SyncPolicy::kAlways, clock));
    ASSERT_FALSE(db.ok()) << "damage before the last segment accepted";
    EXPECT_EQ(db.status().code(), StatusCode::kCorruption);
    EXPECT_TRUE(Contains(db.status().message(), SegmentPath(dir, 1))) << db.status().ToString();
    EXPECT_TRUE(Contains(db.status().message(), "offset")) << db.status().ToString();
    EXPECT_EQ(Contents(dir).segments, (std::vector<uint64_t>{1, 2, 3})) << "nothing removed";
    auto repaired = OpenOrFail(dir, Options(SyncPolicy::kAlways, clock, nullptr, true));
    ASSERT_NE(repaired, nullptr);
    const RecoveryReport& r = repaired->recovery();
    EXPECT_TRUE(r.repaired) << r.ToString();
    EXPECT_EQ(r.repaired_file, SegmentPath(dir, 1));
    EXPECT_EQ(r.dropped_segments, 2u);
    EXPECT_EQ(r.dropped_records, t.records[1] + t.records[2]) << r.ToString();
    EXPECT_EQ(r.dropped_bytes, bad.size() - r.repaired_offset +
                                   ReadBytes(SegmentPath(start, 2)).size() +
                                   ReadBytes(SegmentPath(start, 3)).size());
    EXPECT_EQ(Diff(t.before_last_of_1, Snapshot(*repaired, t.ids)), "") << r.ToString();
    EXPECT_EQ(Contents(dir).segments, std::vector<uint64_t>{1});
  }
}

// A repair cut short by a failure (or a failure and a power loss) at any of its file
// operations: opening with repair again still gives the prefix before the damage, never the
// cut segment followed by the segments after it.
TEST(DurableDamageTest, RepairInterruptedKeepsThePrefix) {
  auto clock = std::make_shared<ManualClock>(1'700'000'000'000);
  TempDir root;
  const std::string start = root.Sub("start");
  const ThreeSegments t = BuildThreeSegments(start, clock);
  Bytes bad = ReadBytes(SegmentPath(start, 1));
  bad[bad.size() - 2] ^= 0x20;
  WriteBytes(SegmentPath(start, 1), bad);
  uint64_t counts[static_cast<size_t>(Op::kCount)];
  {
    const std::string dir = root.Sub("reference");
    CopyFiles(start, dir);
    auto fs = std::make_shared<FaultInjectingFileSystem>(storage::DefaultFileSystem());
    auto db = OpenOrFail(dir, Options(SyncPolicy::kAlways, clock, fs, true));
    ASSERT_NE(db, nullptr);
    for (Op op : kAllOps) counts[static_cast<size_t>(op)] = fs->Count(op);
  }
  for (Op op : kAllOps) {
    for (uint64_t k = 1; k <= counts[static_cast<size_t>(op)]; ++k) {
      for (bool power_loss : {false, true}) {
        SCOPED_TRACE(std::string(OpName(op)) + " call " + std::to_string(k) + " fails" +
                     (power_loss ? ", then a power loss" : ""));
        const std::string dir = root.Sub("run");
        CopyFiles(start, dir);
        auto fs = std::make_shared<FaultInjectingFileSystem>(storage::DefaultFileSystem());
        fs->FailNth(op, k, EIO);
        {
          auto db = OpenDb(dir, Options(SyncPolicy::kAlways, clock, fs, true));
          EXPECT_FALSE(db.ok()) << "the failure was not reported";
          EXPECT_EQ(fs->Fired(), 1u);
        }
        if (power_loss) fs->PowerLoss();
        auto db = OpenOrFail(dir, Options(SyncPolicy::kAlways, clock, nullptr, true));
        ASSERT_NE(db, nullptr);
        EXPECT_EQ(Diff(t.before_last_of_1, Snapshot(*db, t.ids)), "") << db->recovery().ToString();
        EXPECT_EQ(Contents(dir).segments, std::vector<uint64_t>{1});
      }
    }
  }
}

TEST(DurableDamageTest, MissingSegment) {
  auto clock = std::make_shared<ManualClock>(1'700'000'000'000);
  TempDir root;
  const std::string dir = root.Sub("db");
  BuildThreeSegments(dir, clock);
  ASSERT_EQ(::unlink(SegmentPath(dir, 2).c_str()), 0);
  for (bool repair : {false, true}) {
    auto db = OpenDb(dir, Options(SyncPolicy::kAlways, clock, nullptr, repair));
    ASSERT_FALSE(db.ok());
    EXPECT_EQ(db.status().code(), StatusCode::kCorruption);
    EXPECT_TRUE(Contains(db.status().message(), SegmentPath(dir, 2))) << db.status().ToString();
    EXPECT_TRUE(Contains(db.status().message(), "missing")) << db.status().ToString();
  }
  EXPECT_EQ(Contents(dir).segments, (std::vector<uint64_t>{1, 3})) << "nothing removed";
}

// Every byte of a checkpoint flipped, and the file cut short: Open fails with Corruption
// naming the checkpoint (repair or not: a checkpoint is not cut), or, where the byte is one
// no reader uses (the zero padding between an index file's chunks, which no checksum
// covers: docs/FORMAT.md), recovers exactly the oracle's state.
TEST(DurableDamageTest, DamagedCheckpoint) {
  auto clock = std::make_shared<ManualClock>(1'700'000'000'000);
  TempDir root;
  const std::string start = root.Sub("start");
  const std::vector<std::string> ids = IdUniverse(6);
  auto oracle = Oracle(clock);
  {
    auto db = OpenOrFail(start, Options(SyncPolicy::kAlways, clock));
    ASSERT_NE(db, nullptr);
    for (int i = 0; i < 6; ++i) {
      const Object o{.id = ids[i],
                     .pos = {i * 10.0, i * 5.0, i * 1.0},
                     .timestamp = i,
                     .metadata = "meta" + std::to_string(i)};
      const char* ns = i % 2 ? "g" : "p";
      if (i < 2) {
        const NamespaceOptions no{i % 2 ? CoordinateSystem::kGeographic
                                        : CoordinateSystem::kPlanar3D};
        ASSERT_TRUE(db->CreateNamespace(ns, no).ok());
        ASSERT_TRUE(oracle->CreateNamespace(ns, no).ok());
      }
      ASSERT_TRUE(db->Upsert(ns, o).ok());
      ASSERT_TRUE(oracle->Upsert(ns, o).ok());
    }
    ASSERT_TRUE(db->CreateNamespace("empty", {CoordinateSystem::kPlanar2D}).ok());
    ASSERT_TRUE(oracle->CreateNamespace("empty", {CoordinateSystem::kPlanar2D}).ok());
    ASSERT_TRUE(db->Checkpoint().ok());
    ASSERT_TRUE(db->Close().ok());
  }
  const State want = Snapshot(*oracle, ids);
  const std::string name = CheckpointName(2);
  const Bytes checkpoint = ReadBytes(start + "/" + name);
  size_t errors = 0, harmless = 0;
  const std::string dir = root.Sub("damaged");
  CopyFiles(start, dir);  // opening does not change them: one copy serves every check
  auto check = [&](const Bytes& bytes, bool repair) {
    ReplaceFile(dir + "/" + name, bytes);
    auto db = OpenDb(dir, Options(SyncPolicy::kAlways, clock, nullptr, repair));
    if (!db.ok()) {
      ++errors;
      EXPECT_EQ(db.status().code(), StatusCode::kCorruption) << db.status().ToString();
      EXPECT_TRUE(Contains(db.status().message(), dir + "/" + name)) << db.status().ToString();
    } else {
      ++harmless;
      EXPECT_EQ(Diff(want, Snapshot(**db, ids)), "") << "a damaged checkpoint read as other data";
    }
  };
  for (size_t pos = 0; pos < checkpoint.size(); ++pos) {
    SCOPED_TRACE("checkpoint byte " + std::to_string(pos) + " of " +
                 std::to_string(checkpoint.size()));
    Bytes bad = checkpoint;
    bad[pos] ^= 0xff;
    check(bad, pos % 2 == 0);
  }
  for (size_t len : {size_t{0}, size_t{7}, checkpoint.size() / 2, checkpoint.size() - 1}) {
    SCOPED_TRACE("checkpoint cut to " + std::to_string(len) + " bytes");
    const size_t before = errors;
    check(Bytes(checkpoint.begin(), checkpoint.begin() + len), false);
    EXPECT_EQ(errors, before + 1) << "a truncated checkpoint was accepted";
  }
  std::printf("checkpoint of %zu bytes: %zu flips and cuts rejected, %zu harmless\n",
              checkpoint.size(), errors, harmless);
}

}  // namespace
}  // namespace locus
