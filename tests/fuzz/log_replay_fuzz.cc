// libFuzzer target for the durable database's recovery (docs/LOG_FORMAT.md): log segments and
// checkpoints as Db::Open meets them after a crash or on a damaged disk. The first byte of
// an input picks the mode (modulo 4):
//   0  raw: the rest is segment 1 (log-0000000000000001.log), header and all;
//   1  structured: byte 1 holds flags, the rest is records as (type:u8 length:u16le payload);
//      they are framed with correct checksums into segment 1 (and 2, flag 1; numbered from 2
//      instead, flag 8, which is a gap), followed by a torn record (flag 2) and zeros (flag
//      4). Mutations then reach the payload decoder and the replay instead of stopping at a
//      checksum;
//   2  one record payload: byte 1 is the type, the rest the payload, for
//      db_internal::DecodeRecord alone (fast);
//   3  a checkpoint: the rest, its checksums recomputed (tests/testing/index_bytes.h), for
//      db_internal::CheckpointReader and then Db::Open over it.
// Properties (a violation traps):
//   - nothing crashes, leaks or trips ASan/UBSan;
//   - Db::Open fails only with Corruption; with DurabilityOptions::repair a log without a
//     checkpoint always opens;
//   - an opened database answers a query over everything that agrees with Stats and Get,
//     and closes cleanly; opened again (no repair) it recovers cleanly (no torn tail, nothing
//     repaired) to exactly the same state, and so it does from a checkpoint of that state;
//   - a payload that decodes re-encodes (durable_format.h's encoders) to one that decodes to
//     the same operations.
// Each input is written to a fresh directory under /dev/shm (or $TMPDIR) with the POSIX file
// system: recovery's file handling (truncation, removal of later segments) is exercised too.
//
// Seeds: corpus/log_segments, written from a real database by running this binary with
// LOCUS_LOG_REPLAY_WRITE_SEEDS=<dir> (it writes the seeds and exits). Build and run: see
// .ci/run (clang, -DLOCUS_BUILD_FUZZERS=ON).
#include <unistd.h>

#include <cfloat>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "api/db/durable_format.h"
#include "locus/db.h"
#include "storage/log.h"
#include "tests/testing/index_bytes.h"

namespace {

namespace fs = std::filesystem;
using locus::CoordinateSystem;
using locus::Db;
using locus::DbOptions;
using locus::Object;
using locus::Position;
using locus::StatusCode;
namespace dbi = locus::db_internal;

constexpr int64_t kNow = 1'700'000'000'000;  // the clock of every database here (fixed)

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

bool SameBits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

std::string& WorkDir() {
  static std::string dir;
  return dir;
}

void WriteFile(const std::string& path, std::span<const uint8_t> bytes) {
  FILE* f = std::fopen(path.c_str(), "wb");
  Check(f != nullptr);
  Check(bytes.empty() || std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size());
  Check(std::fclose(f) == 0);
}

std::vector<uint8_t> ReadFile(const std::string& path) {
  std::vector<uint8_t> b;
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return b;
  uint8_t buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) b.insert(b.end(), buf, buf + n);
  std::fclose(f);
  return b;
}

// The files of one database directory, by name.
using Files = std::map<std::string, std::vector<uint8_t>>;

// Empties the work directory and writes `files` into it.
void Materialise(const Files& files) {
  std::error_code ec;
  fs::remove_all(WorkDir(), ec);
  fs::create_directories(WorkDir());
  for (const auto& [name, bytes] : files) WriteFile(WorkDir() + "/" + name, bytes);
}

DbOptions Options(bool repair) {
  DbOptions o;
  o.clock = std::make_shared<locus::ManualClock>(kNow);
  o.sweep_interval_ms = 0;
  o.background_recluster = false;
  o.block_rows = 16;
  // Replay does not apply the size limits (they may have changed since the write): raise
  // them so every recovered object can be read back.
  o.max_id_bytes = 1 << 30;
  o.max_namespace_bytes = 1 << 30;
  o.max_metadata_bytes = 1 << 30;
  o.durability.checkpoint_min_log_bytes = 0;  // no checkpoint thread
  o.durability.repair = repair;
  return o;
}

// Everything a database shows: per namespace its coordinates and visible objects by id.
struct NsDump {
  CoordinateSystem coordinates;
  std::map<std::string, Object> objects;
};
using Dump = std::map<std::string, NsDump>;

Dump DumpDb(const Db& db) {
  Dump dump;
  for (const std::string& name : db.ListNamespaces()) {
    auto stats = db.Stats(name);
    Check(stats.ok());
    NsDump& ns = dump[name];
    ns.coordinates = stats->coordinates;
    const bool geo = ns.coordinates == CoordinateSystem::kGeographic;
    const Position lo = geo ? Position{-180, -90, 0} : Position{-DBL_MAX, -DBL_MAX, -DBL_MAX};
    const Position hi = geo ? Position{180, 90, 0} : Position{DBL_MAX, DBL_MAX, DBL_MAX};
    locus::QueryOptions all;
    all.limit = stats->objects + 1;
    all.with_metadata = true;
    auto hits = db.InBox(name, lo, hi, all);
    Check(hits.ok());
    Check(!hits->truncated && hits->hits.size() == stats->objects);
    for (const locus::Hit& h : hits->hits) {
      auto o = db.Get(name, h.id);
      Check(o.ok());
      Check(SameBits(o->pos.x, h.pos.x) && SameBits(o->pos.y, h.pos.y) &&
            SameBits(o->pos.z, h.pos.z) && o->timestamp == h.timestamp &&
            o->metadata == h.metadata);
      Check(ns.objects.emplace(h.id, std::move(o).value()).second);  // each id once
    }
  }
  return dump;
}

bool SameObject(const Object& a, const Object& b) {
  return a.id == b.id && SameBits(a.pos.x, b.pos.x) && SameBits(a.pos.y, b.pos.y) &&
         SameBits(a.pos.z, b.pos.z) && a.timestamp == b.timestamp && a.metadata == b.metadata &&
         a.expires_at == b.expires_at;
}

bool SameDump(const Dump& a, const Dump& b) {
  if (a.size() != b.size()) return false;
  for (auto i = a.begin(), j = b.begin(); i != a.end(); ++i, ++j) {
    if (i->first != j->first || i->second.coordinates != j->second.coordinates ||
        i->second.objects.size() != j->second.objects.size()) {
      return false;
    }
    for (auto x = i->second.objects.begin(), y = j->second.objects.begin();
         x != i->second.objects.end(); ++x, ++y) {
      if (!SameObject(x->second, y->second)) return false;
    }
  }
  return true;
}

// Opens the directory as it is now; once open: dumps, closes, reopens (it must recover
// cleanly to the same state), and with `checkpoint` also checkpoints and reopens again.
// Returns whether the first open succeeded.
bool OpenAndCheck(bool repair, bool checkpoint) {
  auto opened = Db::Open(WorkDir(), Options(repair));
  if (!opened.ok()) {
    Check(opened.status().code() == StatusCode::kCorruption);
    return false;
  }
  std::unique_ptr<Db> db = std::move(opened).value();
  const Dump first = DumpDb(*db);
  Check(db->Close().ok());
  db.reset();

  auto again = Db::Open(WorkDir(), Options(/*repair=*/false));
  Check(again.ok());
  db = std::move(again).value();
  Check(!db->recovery().torn_tail && !db->recovery().repaired);
  Check(SameDump(first, DumpDb(*db)));
  if (checkpoint) {
    Check(db->Checkpoint().ok());
    Check(db->Close().ok());
    db.reset();
    auto third = Db::Open(WorkDir(), Options(/*repair=*/false));
    Check(third.ok());
    db = std::move(third).value();
    Check(!db->recovery().checkpoint.empty() && db->recovery().records == 0);
    Check(SameDump(first, DumpDb(*db)));
  }
  Check(db->Close().ok());
  return true;
}

// Mode 0: the bytes are segment 1.
void RawSegment(std::span<const uint8_t> bytes) {
  const Files files = {
      {locus::storage::SegmentFileName(1), std::vector<uint8_t>(bytes.begin(), bytes.end())}};
  Materialise(files);
  OpenAndCheck(/*repair=*/false, /*checkpoint=*/false);
  Materialise(files);
  Check(OpenAndCheck(/*repair=*/true, /*checkpoint=*/false));  // a repair always opens
}

// Mode 1: records framed with correct checksums.
void StructuredLog(std::span<const uint8_t> bytes) {
  if (bytes.empty()) return;
  const uint8_t flags = bytes[0];
  bytes = bytes.subspan(1);
  struct Rec {
    uint8_t type;
    std::span<const uint8_t> payload;
  };
  std::vector<Rec> recs;
  while (bytes.size() >= 3) {
    const size_t len = std::min<size_t>(bytes[1] | (size_t{bytes[2]} << 8), bytes.size() - 3);
    recs.push_back({bytes[0], bytes.subspan(3, len)});
    bytes = bytes.subspan(3 + len);
  }
  const bool two = (flags & 1) && recs.size() >= 2;
  const uint64_t first_seq = (flags & 8) ? 2 : 1;
  std::vector<uint8_t> seg[2];
  for (int s = 0; s < (two ? 2 : 1); ++s) {
    locus::storage::EncodeSegmentHeader(first_seq + s, &seg[s]);
  }
  for (size_t i = 0; i < recs.size(); ++i) {
    const bool second = two && i >= recs.size() / 2;
    locus::storage::FrameRecord(recs[i].type, recs[i].payload, &seg[second]);
  }
  std::vector<uint8_t>& last = seg[two];
  if (flags & 2) {  // a torn record: the first part of a framed one
    std::vector<uint8_t> rec;
    const Rec& r = recs.empty() ? Rec{3, {}} : recs.back();
    locus::storage::FrameRecord(r.type, r.payload, &rec);
    last.insert(last.end(), rec.begin(), rec.begin() + static_cast<std::ptrdiff_t>(rec.size() / 2));
  }
  if (flags & 4) last.resize(last.size() + 1 + (flags >> 4), 0);
  Files files;
  for (int s = 0; s < (two ? 2 : 1); ++s) {
    files[locus::storage::SegmentFileName(first_seq + s)] = seg[s];
  }
  Materialise(files);
  OpenAndCheck(/*repair=*/false, /*checkpoint=*/true);
  Materialise(files);
  const bool opened = OpenAndCheck(/*repair=*/true, /*checkpoint=*/true);
  Check(opened || first_seq != 1);  // a repair opens any log that starts at segment 1
}

bool SameOps(const std::vector<dbi::LoggedOp>& a, const std::vector<dbi::LoggedOp>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    const dbi::LoggedOp &x = a[i], &y = b[i];
    if (x.kind != y.kind || x.ns != y.ns || x.id != y.id || x.coordinates != y.coordinates ||
        !SameBits(x.pos.x, y.pos.x) || !SameBits(x.pos.y, y.pos.y) || !SameBits(x.pos.z, y.pos.z) ||
        x.timestamp != y.timestamp || x.expires != y.expires || x.metadata != y.metadata ||
        x.history != y.history || x.t1 != y.t1) {
      return false;
    }
  }
  return true;
}

Object ObjectOf(const dbi::LoggedOp& op) {
  Object o;
  o.id = std::string(op.id);
  o.pos = op.pos;
  o.timestamp = op.timestamp;
  o.metadata = std::string(op.metadata);
  return o;
}

// Mode 2: one payload through the decoder, and what decodes through the encoders.
void DecodeOne(uint8_t type, std::span<const uint8_t> payload) {
  std::vector<dbi::LoggedOp> ops;
  const locus::Status s = dbi::DecodeRecord(type, payload, &ops);
  if (!s.ok()) {
    Check(s.code() == StatusCode::kCorruption && ops.empty());
    return;
  }
  std::vector<uint8_t> out;
  switch (type) {
    case dbi::kCreateNamespace:
      Check(ops.size() == 1);
      dbi::EncodeNamespace(
          ops[0].ns, {.coordinates = ops[0].coordinates, .history = ops[0].history}, &out);
      break;
    case dbi::kDropNamespace:
      Check(ops.size() == 1);
      dbi::EncodeName(ops[0].ns, &out);
      break;
    case dbi::kUpsert:
      Check(ops.size() == 1);
      dbi::EncodeUpsert(ops[0].ns, ObjectOf(ops[0]), ops[0].expires, &out);
      break;
    case dbi::kDelete:
      Check(ops.size() == 1);
      dbi::EncodeDelete(ops[0].ns, ops[0].id, &out);
      break;
    case dbi::kSample:
      Check(ops.size() == 1);
      dbi::EncodeSample(ops[0].ns, ops[0].id, ops[0].timestamp, ops[0].pos, ops[0].metadata, &out);
      break;
    case dbi::kDeleteHistory:
      Check(ops.size() == 1);
      dbi::EncodeDeleteHistory(ops[0].ns, ops[0].id, ops[0].timestamp, ops[0].t1, &out);
      break;
    case dbi::kExpire: {
      std::vector<std::string_view> ids;
      for (const auto& op : ops) {
        Check(op.kind == dbi::kDelete && op.ns == ops[0].ns);
        ids.push_back(op.id);
      }
      // An empty expiry names no namespace the decoder could return: nothing to compare.
      if (ops.empty()) return;
      dbi::EncodeExpire(ops[0].ns, ids, &out);
      break;
    }
    case dbi::kBatch:
      dbi::BeginBatch(&out);
      for (const auto& op : ops) {
        Check(op.kind == dbi::kUpsert || op.kind == dbi::kDelete || op.kind == dbi::kSample);
        if (op.kind == dbi::kUpsert) {
          dbi::BatchUpsert(op.ns, ObjectOf(op), op.expires, &out);
        } else if (op.kind == dbi::kSample) {
          dbi::BatchSample(op.ns, op.id, op.timestamp, op.pos, op.metadata, &out);
        } else {
          dbi::BatchDelete(op.ns, op.id, &out);
        }
      }
      dbi::EndBatch(static_cast<uint32_t>(ops.size()), &out);
      break;
    default:
      Check(false);  // an unknown type must not decode
  }
  std::vector<dbi::LoggedOp> again;
  Check(dbi::DecodeRecord(type, out, &again).ok());
  Check(SameOps(ops, again));
}

// Mode 3: a checkpoint file (checksums recomputed), alone in the directory.
void CheckpointFile(std::span<const uint8_t> bytes) {
  std::vector<uint8_t> b(bytes.begin(), bytes.end());
  locus::testing::Resign(b);
  auto reader = dbi::CheckpointReader::Open(b);
  locus::Status s = reader.ok() ? locus::Status() : reader.status();
  if (reader.ok()) {
    s = reader->ForEach([&](const dbi::CheckpointObject& o) {
      Check(o.ns < reader->namespaces().size());
      return locus::Status();
    });
  }
  if (!s.ok()) {
    // InvalidArgument too: a valid index file of another shape (a 2D tree, say) is passed
    // on as the index loader words it. Db::Open must call it Corruption either way.
    Check(s.code() == StatusCode::kCorruption || s.code() == StatusCode::kInvalidArgument);
    Materialise({{dbi::CheckpointFileName(1), b}});
    Check(!OpenAndCheck(/*repair=*/true, /*checkpoint=*/false));
    return;
  }
  // Named after the segment it says it precedes (a mismatch is an error of its own).
  Materialise({{dbi::CheckpointFileName(reader->segment()), b}});
  OpenAndCheck(/*repair=*/false, /*checkpoint=*/true);
}

// ---- the seed corpus ----

void WriteSeed(const std::string& dir, const std::string& name, uint8_t mode,
               std::span<const uint8_t> a, std::span<const uint8_t> b = {}) {
  std::vector<uint8_t> bytes = {mode};
  bytes.insert(bytes.end(), a.begin(), a.end());
  bytes.insert(bytes.end(), b.begin(), b.end());
  WriteFile(dir + "/" + name, bytes);
}

// Writes the seeds from real databases: every record type, batches, expiries, namespaces
// of the three coordinate systems, history (samples, trajectories, erasures), and a
// checkpoint. Returns a process exit status.
int WriteSeeds(const std::string& out) {
  fs::create_directories(out);
  auto must = [](const locus::Status& s) {
    if (!s.ok()) {
      std::fprintf(stderr, "seed database: %s\n", s.ToString().c_str());
      std::exit(1);
    }
  };
  DbOptions o = Options(false);
  auto clock = std::make_shared<locus::ManualClock>(kNow);
  o.clock = clock;
  std::error_code ec;
  fs::remove_all(WorkDir(), ec);
  auto db = std::move(Db::Open(WorkDir(), o)).value();
  must(db->CreateNamespace("planar", {.coordinates = CoordinateSystem::kPlanar3D}));
  must(db->CreateNamespace("flat", {.coordinates = CoordinateSystem::kPlanar2D}));
  Object a;
  a.id = "truck-7";
  a.pos = {2.35, 48.85, 35};
  a.timestamp = kNow;
  a.metadata = "{\"speed\":12}";
  must(db->Upsert("fleet", a).status());  // creates "fleet" (geographic) implicitly
  Object b;
  b.id = "p1";
  b.pos = {-1e300, 0.5, -0.0};
  b.timestamp = 5;
  b.expires_at = kNow + 3'600'000;
  must(db->Upsert("planar", b).status());
  Object gone;
  gone.id = "ttl";
  gone.pos = {1, 2, 0};
  gone.timestamp = 6;
  gone.ttl_ms = 10;
  must(db->Upsert("flat", gone).status());
  locus::Batch batch;
  for (int i = 0; i < 4; ++i) {
    Object x;
    x.id = "car-" + std::to_string(i);
    x.pos = {-179.5 + i, -89.0 + i, 0};
    x.timestamp = kNow + i;
    x.metadata = std::string(1, static_cast<char>(i));
    batch.Upsert("fleet", x);
  }
  batch.Delete("fleet", "truck-7");
  batch.Delete("planar", "absent");
  must(db->Apply(batch).status());
  must(db->Delete("planar", "p1"));
  clock->Advance(100);
  if (db->SweepExpired(100) != 1) std::exit(1);  // an expire record for "ttl"
  must(db->CreateNamespace("tmp", {.coordinates = CoordinateSystem::kPlanar2D}));
  must(db->DropNamespace("tmp"));
  // History: a namespace with history options, a stale upsert (a sample record), a
  // trajectory across the antimeridian (a batch of samples and an upsert), an erasure.
  locus::NamespaceOptions h{.coordinates = CoordinateSystem::kGeographic};
  h.history = {.enabled = true, .retention_ms = 86'400'000, .keep_metadata = true,
               .chunk_samples = 16};
  must(db->CreateNamespace("trips", h));
  Object bus;
  bus.id = "bus-1";
  bus.pos = {2.3, 48.8, 0};
  bus.timestamp = kNow;
  must(db->Upsert("trips", bus).status());
  bus.pos = {2.2, 48.7, 0};
  bus.timestamp = kNow - 60'000;  // stale: history only
  must(db->Upsert("trips", bus).status());
  std::vector<locus::Sample> path;
  for (int i = 0; i < 20; ++i) {
    path.push_back({kNow + i * 1000, {179.9 + 0.01 * i - (i > 9 ? 360 : 0), 60, 0}, "p"});
  }
  must(db->InsertTrajectory("trips", "ferry", path));
  must(db->DeleteHistory("trips", "ferry", kNow + 3000, kNow + 5000).status());
  must(db->Close());
  db.reset();
  const std::vector<uint8_t> log = ReadFile(WorkDir() + "/" + locus::storage::SegmentFileName(1));
  WriteSeed(out, "raw_all_types.bin", 0, log);
  WriteSeed(out, "raw_torn.bin", 0, std::span(log).first(log.size() - 5));

  // The same records, structured, and each payload alone.
  std::vector<uint8_t> records;
  std::map<uint8_t, int> per_type;
  const auto scan = locus::storage::ScanSegment(
      log, 1, [&](uint8_t type, std::span<const uint8_t> payload, uint64_t) {
        records.push_back(type);
        records.push_back(static_cast<uint8_t>(payload.size()));
        records.push_back(static_cast<uint8_t>(payload.size() >> 8));
        records.insert(records.end(), payload.begin(), payload.end());
        const std::string name =
            "record_type" + std::to_string(type) + "_" + std::to_string(per_type[type]++) + ".bin";
        WriteSeed(out, name, 2, std::span(&type, 1), payload);
        return locus::Status();
      });
  if (scan.end != locus::storage::ScanEnd::kClean) std::exit(1);
  const uint8_t plain = 0, split_torn = 1 | 2;
  WriteSeed(out, "structured.bin", 1, std::span(&plain, 1), records);
  WriteSeed(out, "structured_split_torn.bin", 1, std::span(&split_torn, 1), records);

  // A checkpoint of the state, and a log after it.
  db = std::move(Db::Open(WorkDir(), o)).value();
  must(db->Checkpoint());
  must(db->Close());
  db.reset();
  for (const auto& e : fs::directory_iterator(WorkDir())) {
    uint64_t seq;
    if (dbi::ParseCheckpointFileName(e.path().filename().string(), &seq)) {
      WriteSeed(out, "checkpoint.bin", 3, ReadFile(e.path().string()));
    }
  }
  std::printf("seeds written to %s\n", out.c_str());
  return 0;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const char* base = ::access("/dev/shm", W_OK) == 0 ? "/dev/shm" : nullptr;
  if (!base) base = std::getenv("TMPDIR");
  std::string templ = std::string(base ? base : "/tmp") + "/locus_log_fuzz_XXXXXX";
  Check(::mkdtemp(templ.data()) != nullptr);
  WorkDir() = templ + "/db";
  std::atexit([] {
    std::error_code ec;
    fs::remove_all(fs::path(WorkDir()).parent_path(), ec);
  });
  if (const char* out = std::getenv("LOCUS_LOG_REPLAY_WRITE_SEEDS"); out && *out) {
    std::exit(WriteSeeds(out));
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::span<const uint8_t> rest(data + 1, size - 1);
  switch (data[0] % 4) {
    case 0:
      RawSegment(rest);
      break;
    case 1:
      StructuredLog(rest);
      break;
    case 2:
      if (!rest.empty()) DecodeOne(rest[0], rest.subspan(1));
      break;
    case 3:
      CheckpointFile(rest);
      break;
  }
  return 0;
}
