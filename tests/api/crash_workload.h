// The deterministic workload of the kill -9 crash test (db_crash_test.cc) and its child
// process (crash_child.cc): both include this header, so the child that writes a durable
// database and the test that replays the same operations into an in-memory oracle agree on
// what operation number k of writer thread t is.
//
// Each writer thread t owns four namespaces ("t<t>.meta", "t<t>.geo", "t<t>.planar",
// "t<t>.scratch"), so the threads' sequences commute and each thread's recovered state can be
// checked on its own. t.meta keeps history (small chunks, so checkpoints write chunk files):
// the counter's history is every batch so far. Operation k of thread t is a pure function of
// (seed, t, k):
//   k = 0, 1  create t.meta (geographic, with history) and t.planar (planar 3D); t.geo is
//             created by its first write;
//   k >= 2    a batch (Db::Apply: upserts and deletes over geo/planar/scratch plus the
//             upsert of the counter object "t.meta"/"counter" with timestamp k), a single
//             upsert, a single delete, a drop of t.scratch, an explicit creation of t.scratch
//             (planar 2D), or a Db::Checkpoint.
// Every object an operation writes has timestamp k (so the conflict rule never calls a write
// stale). An operation "leaves a trace" (WorkloadOp::trace) when it makes an object with
// timestamp k visible that no later operation can remove before the next batch: batches
// (the counter is never deleted) and single upserts (never already expired). Operations
// without a trace are allowed only right after a batch. Hence in the state after operations
// 0..n-1 the largest visible timestamp m decides n up to the trace-less operations after
// m: n = m + 1, or m + 2 when operation m + 1 has no trace (see CandidateCounts).
//
// Nothing here is thread-safe beyond being pure: MakeOp builds a fresh value per call.
#ifndef LOCUS_TESTS_API_CRASH_WORKLOAD_H_
#define LOCUS_TESTS_API_CRASH_WORKLOAD_H_

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "locus/db.h"

namespace locus::crash_test {

// Ids per thread: every object of thread t is one of "o0" .. "o<kPoolIds - 1>" (and the
// counter), so a state is read completely by Get over the pool.
inline constexpr uint32_t kPoolIds = 1000;
// Far in the future (2100-01-01): an expiry that is logged but never reached.
inline constexpr int64_t kFarFuture = 4102444800000;

// (Appended, not "t" + std::to_string(...): GCC 12 warns falsely on the latter, -Wrestrict.)
inline std::string NsName(uint32_t thread, const char* what) {
  std::string s = "t";
  s += std::to_string(thread);
  s += '.';
  s += what;
  return s;
}
inline std::string PoolId(uint32_t j) {
  std::string s = "o";
  s += std::to_string(j);
  return s;
}

// SplitMix64: the generator of every value (fast, and the same on every platform).
class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed) {}
  uint64_t Next() {
    uint64_t z = (s_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  uint64_t Below(uint64_t n) { return Next() % n; }
  double Unit() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

 private:
  uint64_t s_;
};

// What the child reports on its stdout, one record per write(2) (crash_child.cc).
struct CrashReport {
  enum Kind : uint32_t { kReady = 0, kDone = 1, kDurable = 2 };
  uint32_t kind;
  uint32_t thread;
  uint64_t op;
};
static_assert(sizeof(CrashReport) == 16);

struct WorkloadOp {
  enum Kind { kCreate, kDrop, kUpsert, kDelete, kBatch, kCheckpoint };
  Kind kind = kBatch;
  bool trace = false;  // see the file comment
  std::string ns;      // kCreate, kDrop, kUpsert, kDelete
  Object object;       // kUpsert
  std::string id;      // kDelete
  bool sync = true;    // kUpsert: false = WriteOptions::sync = false (durable only later)
  Batch batch;         // kBatch
  // kCreate
  CoordinateSystem coordinates = CoordinateSystem::kGeographic;
  bool history = false;
  // Namespaces the operation upserts into (created implicitly by the write when missing: the
  // creation is its own log record, before the write's, so a crash between the two leaves
  // the namespace without the write).
  std::vector<std::string> upserts_into;
};

namespace internal {

inline Position GeoPos(Rng& rng, bool with_altitude) {
  Position p{-180 + 360 * rng.Unit(), -90 + 180 * rng.Unit(), 0};
  switch (rng.Below(16)) {  // the edges of the ranges, exactly
    case 0:
      p.x = rng.Below(2) ? 180.0 : -180.0;
      break;
    case 1:
      p.y = rng.Below(2) ? 90.0 : -90.0;
      break;
    case 2:
      p.x = -0.0;
      break;
    default:
      break;
  }
  if (with_altitude) p.z = -500 + 20000 * rng.Unit();
  return p;
}

inline Position PlanarPos(Rng& rng) {
  auto coord = [&]() -> double {
    switch (rng.Below(32)) {
      case 0:
        return 1e300;
      case 1:
        return -1e300;
      case 2:
        return -0.0;
      case 3:
        return 5e-324;  // the smallest subnormal
      default:
        return (rng.Unit() - 0.5) * 2e6;
    }
  };
  return {coord(), coord(), coord()};
}

// Arbitrary bytes (NULs included), mostly short, sometimes a few hundred.
inline std::string Metadata(Rng& rng) {
  const size_t n = rng.Below(8) == 0 ? rng.Below(400) : rng.Below(24);
  std::string m(n, '\0');
  for (char& c : m) c = static_cast<char>(rng.Next());
  return m;
}

// The raw kind of operation k >= 2 (before the "no trace only after a batch" rule).
inline WorkloadOp::Kind RawKind(uint64_t seed, uint32_t thread, uint64_t k) {
  if (k < 2) return WorkloadOp::kCreate;
  Rng rng(seed ^ (uint64_t{thread} << 48) ^ (k * 0xD1B54A32D192ED03ull));
  const uint64_t r = rng.Below(1000);
  if (r < 450) return WorkloadOp::kBatch;
  if (r < 800) return WorkloadOp::kUpsert;
  if (r < 910) return WorkloadOp::kDelete;
  if (r < 940) return WorkloadOp::kDrop;
  if (r < 970) return WorkloadOp::kCreate;
  if (r < 973) return WorkloadOp::kCheckpoint;
  return WorkloadOp::kBatch;
}

}  // namespace internal

// Operation k of writer thread `thread` in the workload `seed`.
inline WorkloadOp MakeOp(uint64_t seed, uint32_t thread, uint64_t k) {
  WorkloadOp op;
  if (k == 0 || k == 1) {
    op.kind = WorkloadOp::kCreate;
    op.ns = NsName(thread, k == 0 ? "meta" : "planar");
    op.coordinates = k == 0 ? CoordinateSystem::kGeographic : CoordinateSystem::kPlanar3D;
    op.history = k == 0;
    return op;
  }
  WorkloadOp::Kind kind = internal::RawKind(seed, thread, k);
  const bool after_batch = internal::RawKind(seed, thread, k - 1) == WorkloadOp::kBatch;
  if (kind != WorkloadOp::kBatch && kind != WorkloadOp::kUpsert && !after_batch) {
    kind = WorkloadOp::kUpsert;
  }
  op.kind = kind;
  Rng rng(seed ^ (uint64_t{thread} << 48) ^ (k * 0x9E3779B97F4A7C15ull) ^ 0x5EED);
  const std::string geo = NsName(thread, "geo"), planar = NsName(thread, "planar"),
                    scratch = NsName(thread, "scratch");
  // One object of the pool in one of the three data namespaces, timestamp k. Scratch
  // positions are valid in every coordinate system it may have (geographic or planar 2D).
  auto make_object = [&](std::string* ns, bool may_be_expired) {
    Object o;
    o.id = PoolId(static_cast<uint32_t>(rng.Below(kPoolIds)));
    o.timestamp = static_cast<int64_t>(k);
    const uint64_t which = rng.Below(10);
    if (which < 4) {
      *ns = geo;
      o.pos = internal::GeoPos(rng, /*with_altitude=*/true);
    } else if (which < 8) {
      *ns = planar;
      o.pos = internal::PlanarPos(rng);
    } else {
      *ns = scratch;
      o.pos = internal::GeoPos(rng, /*with_altitude=*/false);
    }
    o.metadata = internal::Metadata(rng);
    const uint64_t e = rng.Below(40);
    if (e < 4) o.expires_at = kFarFuture + static_cast<int64_t>(rng.Below(1000));
    if (e == 4 && may_be_expired) o.expires_at = 1 + static_cast<int64_t>(rng.Below(1000));
    return o;
  };
  auto pick_ns = [&] {
    const uint64_t w = rng.Below(3);
    return w == 0 ? geo : w == 1 ? planar : scratch;
  };
  switch (kind) {
    case WorkloadOp::kBatch: {
      op.trace = true;
      // Mostly small; sometimes >= 16 (the batched unit-vector path of Apply).
      const size_t n = rng.Below(6) == 0 ? 16 + rng.Below(24) : 1 + rng.Below(8);
      for (size_t i = 0; i < n; ++i) {
        if (rng.Below(5) == 0) {
          op.batch.Delete(pick_ns(), PoolId(static_cast<uint32_t>(rng.Below(kPoolIds))));
        } else {
          std::string ns;
          Object o = make_object(&ns, /*may_be_expired=*/true);
          op.upserts_into.push_back(ns);
          op.batch.Upsert(std::move(ns), std::move(o));
        }
      }
      Object counter;
      counter.id = "counter";
      counter.timestamp = static_cast<int64_t>(k);
      counter.pos = {static_cast<double>(k % 360) - 180, 0, static_cast<double>(k)};
      counter.metadata = std::to_string(k);
      op.upserts_into.push_back(NsName(thread, "meta"));
      op.batch.Upsert(NsName(thread, "meta"), std::move(counter));
      break;
    }
    case WorkloadOp::kUpsert:
      op.trace = true;
      op.object = make_object(&op.ns, /*may_be_expired=*/false);
      op.sync = rng.Below(4) != 0;
      op.upserts_into.push_back(op.ns);
      break;
    case WorkloadOp::kDelete:
      op.ns = pick_ns();
      op.id = PoolId(static_cast<uint32_t>(rng.Below(kPoolIds)));
      break;
    case WorkloadOp::kDrop:
      op.ns = scratch;
      break;
    case WorkloadOp::kCreate:
      op.ns = scratch;
      op.coordinates = CoordinateSystem::kPlanar2D;
      break;
    case WorkloadOp::kCheckpoint:
      break;
  }
  return op;
}

inline NamespaceOptions HistoryNamespace(CoordinateSystem cs, bool history) {
  NamespaceOptions o{.coordinates = cs, .history = {}};
  if (history) {
    o.history.enabled = true;
    o.history.keep_metadata = true;
    o.history.chunk_samples = 16;
  }
  return o;
}

// Runs `op` on `db`. OK when it did what the workload expects (errors that the state decides
// deterministically count as done: AlreadyExists for a creation over another coordinate
// system, NotFound for a delete or drop of something absent); any other error is returned.
// *durable: whether the operation is durable once this returns under SyncPolicy::kAlways.
inline Status RunOp(Db& db, const WorkloadOp& op, bool* durable) {
  *durable = true;
  auto allow = [](const Status& s, StatusCode code) { return s.code() == code ? Status() : s; };
  switch (op.kind) {
    case WorkloadOp::kCreate:
      return allow(db.CreateNamespace(op.ns, HistoryNamespace(op.coordinates, op.history)),
                   StatusCode::kAlreadyExists);
    case WorkloadOp::kDrop:
      return allow(db.DropNamespace(op.ns), StatusCode::kNotFound);
    case WorkloadOp::kDelete:
      return allow(db.Delete(op.ns, op.id), StatusCode::kNotFound);
    case WorkloadOp::kCheckpoint:
      return db.Checkpoint();
    case WorkloadOp::kUpsert: {
      WriteOptions w;
      if (!op.sync) {
        w.sync = false;
        *durable = false;
      }
      auto r = db.Upsert(op.ns, op.object, w);
      if (!r.ok()) return r.status();
      if (*r != WriteOutcome::kApplied) {
        return InternalError("upsert of '" + op.object.id + "' in '" + op.ns + "' was stale");
      }
      return Status();
    }
    case WorkloadOp::kBatch: {
      auto r = db.Apply(op.batch);
      if (!r.ok()) return r.status();
      for (WriteOutcome o : *r) {
        if (o != WriteOutcome::kApplied) return InternalError("a batch upsert was stale");
      }
      return Status();
    }
  }
  return InternalError("unknown operation kind");
}

// The operation counts n whose state may be the one read, given the largest visible
// timestamp among the thread's objects (nullopt: none): m + 1, then one more for each
// following operation without a trace (see the file comment). Ascending.
inline std::vector<uint64_t> CandidateCounts(uint64_t seed, uint32_t thread,
                                             std::optional<int64_t> max_timestamp) {
  std::vector<uint64_t> n = {max_timestamp ? static_cast<uint64_t>(*max_timestamp) + 1 : 0};
  while (!MakeOp(seed, thread, n.back()).trace) n.push_back(n.back() + 1);
  return n;
}

}  // namespace locus::crash_test

#endif  // LOCUS_TESTS_API_CRASH_WORKLOAD_H_
