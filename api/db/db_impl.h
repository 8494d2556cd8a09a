// Db::Impl: the state of one database and the declarations its rooms share. Each room is a
// .cc file of api/db/ that defines the methods of its concern (docs/ARCHITECTURE.md, "The
// database's rooms"):
//
//   db.cc           opening, closing, the facade's small methods, the background threads' start
//   catalog.cc      the namespaces: create, list, drop, find
//   write_path.cc   Upsert, Delete, Apply: the conflict rule applied, effects logged
//   write_group.cc  single writes that wait for their sync, led in groups
//   queries.cc      radius, box, kNN, polygon queries and their counts; Get
//   queries_around.cc  cylinders, and queries around an object
//   measures.cc     distances, convex hull, bounds, stats
//   recluster.cc    rebuilding a namespace's index off the writers' path
//   sweeper.cc      the TTL sweep
//   recovery.cc     Db::Open's recovery: checkpoint, log replay
//   checkpoint.cc   writing checkpoints, and the thread that triggers them
//   history.cc      history writes (samples, InsertTrajectory, DeleteHistory, retention) and
//                   the queries about one object's path
//   history_queries.cc  slices, passages, nearest at t, closest approach, encounters
// with namespace.{h,cc} (a namespace's records, id map and index), validate.{h,cc} (every
// input check) and durable_format.{h,cc} (log record payloads and checkpoint contents).
//
// Locks, in the order they nest (outermost first): ns_change_mu; ns_mu; a namespace's
// `writer` (several: in name order); a namespace's `rw`; group_mu and the threads' own
// mutexes are leaves. Fields say which lock guards them.
#ifndef LOCUS_API_DB_DB_IMPL_H_
#define LOCUS_API_DB_DB_IMPL_H_

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "api/db/durable_format.h"
#include "api/db/history_files.h"
#include "api/db/namespace.h"
#include "api/db/test_seams.h"
#include "api/db/validate.h"
#include "locus/db.h"
#include "storage/file_system.h"
#include "storage/log.h"

namespace locus {

namespace db_internal {
// A steady-clock duration in seconds (the reports' unit).
inline double Seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

// A thread of the database's that sleeps on a condition variable until there is work or it
// is told to stop (the sweeper, the reclusterer, the checkpointer: each with its own loop).
struct BackgroundThread {
  std::mutex mu;
  std::condition_variable cv;
  bool stopping = false;  // guarded by mu
  std::thread thread;
  // Tells the loop to stop and joins it (work in progress finishes first). No-op when the
  // thread never started.
  void Stop();
};
}  // namespace db_internal

struct Db::Impl {
  using Namespace = db_internal::Namespace;
  using NsPtr = db_internal::NsPtr;

  DbOptions options;
  db_internal::TestSeams seams;
  std::shared_ptr<const Clock> clock;
  int64_t Now() const { return clock->NowMillis(); }

  // ---- the namespaces (catalog.cc) ----
  mutable std::shared_mutex ns_mu;
  std::map<std::string, NsPtr, std::less<>> namespaces;  // guarded by ns_mu
  // Serialises namespace creations and drops with a checkpoint's roll of the log, so the
  // namespaces a checkpoint lists are exactly those that exist at its segment's start.
  std::mutex ns_change_mu;
  NsPtr NewNamespace(const NamespaceOptions& o) const;
  NsPtr Find(std::string_view name) const;
  // A write's namespace, created with default options when missing (and the creation
  // logged; a failure of the log shows in the write's own append).
  NsPtr FindOrCreate(std::string_view name);
  // The namespace `name` after checking the name; NotFound when it does not exist.
  Result<NsPtr> Require(std::string_view name) const;

  // ---- validation with this database's limits (validate.h) ----
  bool ObjectOk(CoordinateSystem cs, const Object& o) const {
    return db_internal::ObjectOk(options, cs, o);
  }
  Status CheckObject(CoordinateSystem cs, const Object& o, const std::string& field) const {
    return db_internal::CheckObject(options, cs, o, field);
  }
  Status CheckId(std::string_view id) const {
    return db_internal::CheckName(id, "id", options.max_id_bytes);
  }

  // ---- durability (Db::Open; in memory `log` is null) ----
  std::shared_ptr<storage::FileSystem> fs;
  std::string dir;
  std::unique_ptr<storage::FileLock> dir_lock;
  std::unique_ptr<storage::Log> log;
  RecoveryReport recovery;
  std::atomic<bool> closed{false};
  bool recovering = false;  // during Open's replay: no reclusters until it ends
  // Writes fail once the database is closed or its log failed (nothing is applied then).
  Status WritableCheck() const {
    if (closed.load(std::memory_order_acquire)) {
      return FailedPreconditionError("the database is closed");
    }
    if (log && log->failed()) return log->failure();
    return Status();
  }
  // Appends one record (REQUIRES: log); the payload is built by `encode` into a reused
  // per-thread buffer.
  template <typename Encode>
  Result<uint64_t> LogRecord(db_internal::RecordType type, Encode&& encode) {
    thread_local std::vector<uint8_t> payload;
    payload.clear();
    encode(&payload);
    return log->Append(type, payload);
  }
  // Acknowledges a write at `lsn` as WriteOptions and the policy say; may start a checkpoint
  // (checkpoint.cc).
  Status Commit(uint64_t lsn, const WriteOptions& w);
  // Whether a write acknowledges only once synced (a durable database, and `w.sync` or the
  // policy says so): such single writes run in write groups (RunGrouped).
  bool Waits(const WriteOptions& w) const {
    return log && w.sync.value_or(options.durability.sync == SyncPolicy::kAlways);
  }

  // ---- recovery (recovery.cc) ----
  Status Recover();
  Status LoadCheckpoint(const std::string& name, uint64_t* segment);
  // The checkpoint's history section and the chunk files it lists (after its objects).
  Status LoadHistory(const db_internal::CheckpointReader& reader, const std::vector<NsPtr>& created,
                     const std::string& path);
  // History chunk files (history_files.h): the numbers the live checkpoint lists (filled by
  // recovery; the checkpoints keep it after) and the next number to write. Guarded by
  // checkpoint_mu after Open.
  std::set<uint64_t> history_files;
  uint64_t next_history_file = 1;
  std::set<uint64_t> history_listed;  // recovery: the history files in the directory
  // Applies one decoded record's operations (recovery): no logging, no conflict rule.
  Status ApplyLogged(const std::vector<db_internal::LoggedOp>& ops);

  // ---- checkpoints (checkpoint.cc) ----
  std::mutex checkpoint_mu;  // one checkpoint at a time; guards the stats below
  uint64_t checkpoints = 0;
  uint64_t checkpoint_bytes = 0;
  double last_checkpoint_ms = 0;
  double last_checkpoint_pause_ms = 0;
  // The log's LSN at the last checkpoint's roll, and the automatic trigger's threshold.
  std::atomic<int64_t> checkpoint_lsn{0};  // negative: the log replayed at open counts
  std::atomic<uint64_t> checkpoint_trigger_bytes{UINT64_MAX};
  // The thread that takes automatic checkpoints; `checkpoint_requested` is guarded by its mu.
  db_internal::BackgroundThread checkpointer;
  bool checkpoint_requested = false;
  Status Checkpoint();
  // A checkpoint's copy of one history namespace (checkpoint.cc).
  struct HistoryCopy {
    NsPtr ns;
    db_internal::HistorySection section;  // files: 0 where `pending` writes one
    std::vector<std::pair<uint32_t, size_t>> pending;  // (chunk sequence, slot in files)
    absl::flat_hash_map<uint32_t, db_internal::HistoryState::ChunkFile> files;  // once durable
  };
  // REQUIRES: ns's writer lock.
  HistoryCopy CopyHistory(uint32_t index, const NsPtr& ns);
  // Writes the pending chunk files (one writer-lock hold per chunk's copy) and syncs the
  // directory.
  Status WriteHistoryFiles(std::vector<HistoryCopy>* history, double* pause_ms);
  void RequestCheckpoint();
  void CheckpointLoop();
  void UpdateCheckpointTrigger(uint64_t checkpoint_size);

  // ---- the write path (write_path.cc) ----
  struct BatchApply;  // one Db::Apply call and its steps

  // ---- write groups: single writes that wait for their sync (write_group.cc) ----
  struct GroupedWrite {
    enum : uint32_t { kWaiting = 0, kLead = 1, kDone = 2 };
    void (*run)(void*) = nullptr;  // applies and logs the write: sets lsn and status
    void* ctx = nullptr;
    uint64_t lsn = 0;  // 0: nothing logged
    Status status;     // run's error, else the sync's
    std::atomic<uint32_t> state{kWaiting};
    // Set by the leader before kDone: the writers of the group this one wakes in turn.
    GroupedWrite* wakes[2] = {nullptr, nullptr};
  };
  std::mutex group_mu;
  std::vector<GroupedWrite*> group_queue;  // guarded by group_mu
  bool group_leader = false;               // guarded by group_mu
  Status RunGrouped(GroupedWrite& self);
  // Marks `w` done and wakes it. After the store `w` may be gone: only the wake, which
  // tolerates that, still names it.
  static void WakeDone(GroupedWrite* w);
  // Runs `apply` (a write's apply-and-log step, which sets *lsn) in a write group; returns
  // its error, else its sync's.
  template <typename Apply>
  Status Grouped(Apply& apply, const uint64_t* lsn) {
    GroupedWrite g;
    auto run = [&] {
      g.status = apply();
      g.lsn = g.status.ok() ? *lsn : 0;
    };
    g.run = [](void* f) { (*static_cast<decltype(run)*>(f))(); };
    g.ctx = &run;
    return RunGrouped(g);
  }

  // ---- reclustering (recluster.cc) ----
  db_internal::BackgroundThread reclusterer;
  std::deque<NsPtr> recluster_queue;  // guarded by reclusterer.mu
  // Runs ns->Recluster on the maintenance thread (queued at most once per namespace), or
  // inline when DbOptions::background_recluster is off. REQUIRES: no lock of ns held.
  void RequestRecluster(const NsPtr& ns);
  void ReclusterLoop();

  // ---- the TTL sweep (sweeper.cc) ----
  db_internal::BackgroundThread sweeper;
  void SweeperLoop();
  size_t Sweep(size_t max_per_namespace);

  // ---- query bodies (queries.cc, queries_around.cc) ----
  // Validates a radius query's arguments and finds its namespace.
  Result<NsPtr> RadiusTarget(std::string_view ns_name, const Position& center, double radius,
                             const QueryOptions& options) const;
  // The shapes of the polygon, cylinder and around-an-object queries (each defined, and
  // used, in its room): validate, find the namespace, take its shared hold, run `finish`.
  template <class R, class F>
  Result<R> PolygonQuery(std::string_view ns_name, const std::vector<std::vector<Position>>& rings,
                         const QueryOptions& options, F&& finish) const;
  template <class R, class F>
  Result<R> CylinderQuery(std::string_view ns_name, const Position* center, std::string_view id,
                          double radius, double lo, double hi, const QueryOptions& options,
                          F&& finish) const;
  template <class R, class F>
  Result<R> AroundObject(std::string_view ns_name, std::string_view id, F&& finish) const;
  // Shared by the queries around a point and those around an object, which read the object
  // and query under one hold of the shared lock (the lock is not recursive, and a write in
  // between could move the object). REQUIRES: ns->rw held shared; arguments validated.
  QueryResult RadiusLocked(const Namespace& ns, const Position& center, double radius,
                           const QueryOptions& options, int64_t now) const;
  QueryResult NearestLocked(const Namespace& ns, const Position& center, size_t k,
                            const QueryOptions& options, int64_t now) const;
  // The same handing each hit to `visit` (db.h's visitor forms; the Locked forms collect).
  VisitResult RadiusVisit(const Namespace& ns, const Position& center, double radius,
                          const QueryOptions& options, int64_t now, HitVisitor visit) const;
  VisitResult NearestVisit(const Namespace& ns, const Position& center, size_t k,
                           const QueryOptions& options, int64_t now, HitVisitor visit) const;
  VisitResult BoxVisit(const Namespace& ns, const Position& min, const Position& max,
                       const QueryOptions& options, int64_t now, HitVisitor visit) const;
  // Runs run(visitor) with a visitor that collects Hits: a visitor form as a QueryResult.
  template <class Run>
  static QueryResult Collect(Run&& run) {
    QueryResult out;
    const VisitResult r = run([&out](const HitView& v) {
      out.hits.push_back(Namespace::ToHit(v));
      return true;
    });
    out.truncated = r.truncated;
    return out;
  }
  // The keys of the objects in the box [min, max] (geographic: lon/lat, west > east across
  // the antimeridian, refined exactly on the stored positions), in index order, at most
  // `limit` (*truncated when more matched).
  std::vector<uint32_t> BoxKeysLocked(const Namespace& ns, const Position& min, const Position& max,
                                      const QueryOptions& options, int64_t now, size_t limit,
                                      bool* truncated) const;
  // The objects within horizontal distance `radius` of center's x/y (lon/lat) with z in
  // [z_min, z_max], except the key `skip`, in index order; dist_sq is the horizontal distance
  // squared in index space (Namespace::Distance converts it). REQUIRES: not planar 2D.
  std::vector<engine::LiveIndex<3>::Hit> CylinderLocked(const Namespace& ns, const Position& center,
                                                        double radius, double z_min, double z_max,
                                                        const QueryOptions& options, int64_t now,
                                                        uint32_t skip) const;
  // ---- history (history.cc, history_queries.cc) ----
  // Finds a history namespace (FailedPrecondition for one without history), holds its shared
  // lock and runs finish(ns, history).
  template <class R, class F>
  Result<R> HistoryRead(std::string_view ns_name, F&& finish) const {
    LOCUS_ASSIGN_OR_RETURN(auto ns, Require(ns_name));
    if (!ns->history) {
      return FailedPreconditionError("namespace '" + std::string(ns_name) +
                                     "' keeps no history (NamespaceOptions::history.enabled)");
    }
    std::shared_lock r(ns->rw);
    return finish(*ns, *ns->history);
  }
  // Retention of every history namespace (with the sweep).
  void DropOldHistory();

  // The key of the visible object `id`; NotFound when absent or expired.
  Result<uint32_t> AnchorLocked(const Namespace& ns, std::string_view ns_name, std::string_view id,
                                int64_t now) const;
};

}  // namespace locus

#endif  // LOCUS_API_DB_DB_IMPL_H_
