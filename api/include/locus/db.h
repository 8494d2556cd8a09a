// locus::Db: the embedded database of moving objects, in memory (OpenInMemory) or durable
// (Open: an append-only log and checkpoints in a directory; docs/LOG_FORMAT.md).
//
// A database holds namespaces; a namespace holds objects: a string id -> position,
// timestamp, opaque metadata and an optional expiry. Queries run over the current positions.
//
//   auto db = locus::Db::OpenInMemory().value();
//   db->Upsert("fleet", {.id = "truck-7", .pos = {.x = 2.35, .y = 48.85}, .timestamp = t});
//   auto near = db->WithinRadius("fleet", {.x = 2.3, .y = 48.8}, 10'000, {.limit = 100});
//
// Coordinates (NamespaceOptions): geographic namespaces take x = longitude and y = latitude
// in degrees (WGS84 / EPSG:4326 order, as GeoJSON) and z = altitude in metres; distances are
// great-circle metres on the sphere of radius 6371008.8 m, computed exactly across the
// antimeridian and at the poles (radius and kNN run as 3D chord scans over unit vectors).
// Planar namespaces take x, y (and z in 3D) in any unit; distances are Euclidean.
//
// Conflict rule (every write is one value a log can record, so a replay decides the same):
//   - An upsert carries a timestamp (milliseconds; the caller's clock). It is applied when
//     the object is absent (or expired) or when its timestamp is >= the stored one; an
//     upsert older than the stored object is ignored and reported as WriteOutcome::kStale.
//     Equal timestamps: the later write (in apply order, which is log order) wins.
//   - Delete is unconditional: it removes the object if present (NotFound otherwise). No
//     tombstone is kept, so an upsert older than a delete that arrives after it re-creates
//     the object.
//   - Expiry: an object's expiry is absolute (Object::expires_at, or now + ttl_ms at apply
//     time). From that instant the object is invisible to every read (Get, queries, counts);
//     a sweeper removes it later (SweepExpired; a background thread when
//     DbOptions::sweep_interval_ms > 0).
//
// History (NamespaceOptions::history; locus/history.h): a history namespace keeps every
// sample of every object, indexed in space and time, and answers the trajectory queries below.
//   - Every upsert adds a sample (id, timestamp, position[, metadata]) to the history, also one
//     that loses to the conflict rule: a sample older than the object's current position is
//     still history (it fills in the past) while the current position ignores it. The same
//     (id, t) twice keeps the later write. Deleting or expiring an object keeps its history;
//     DeleteHistory erases samples.
//   - Between two consecutive samples an object moves at constant speed along the straight
//     line (planar) or the shorter great-circle arc (geographic; altitude linear in time).
//     Every query that interpolates uses this rule (engine/motion.h).
//   - Queries over the past see exactly the samples stored: no position before an object's
//     first sample or after its last (PositionAt can clamp).
//   - Durable databases keep history like the objects: every sample is in the log (a stale
//     upsert as a sample record, InsertTrajectory as one all-or-nothing record, DeleteHistory
//     as its own), and each checkpoint writes the chunks sealed since the last one as files of
//     their own (docs/LOG_FORMAT.md, "History"), so the log stays bounded. After a crash every
//     object's history is exactly the acknowledged samples (a prefix under the weaker sync
//     policies). DeleteHistory is durable as the sync policy says; the erased samples leave
//     every file at the next checkpoint. Retention drops chunks in memory at the sweep and
//     their files at the next checkpoint (which the sweep asks for): a restart in between
//     brings them back until the next sweep.
//
// Atomicity: Apply(Batch) validates every operation first and applies all or none; readers
// never see part of a batch (the batch holds every namespace it touches exclusively while it
// applies; namespaces are locked in name order).
//
// Bad input (non-finite or out-of-range coordinates, empty or oversized ids and namespace
// names, negative radius, crossed boxes, empty z bands, k = 0, limit = 0) is an
// InvalidArgument naming the field and the value; the stored state is unchanged.
//
// Thread safety: every method may be called from many threads at once. Queries on a
// namespace run concurrently; writes to one namespace are serialised; different namespaces
// are written in parallel.
#ifndef LOCUS_DB_H_
#define LOCUS_DB_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "locus/function_ref.h"
#include "locus/history.h"
#include "locus/status.h"

namespace locus {
namespace db_internal {
class DbFactory;  // api/db/test_seams.h: opens a Db with test seams
}  // namespace db_internal

enum class CoordinateSystem {
  kGeographic,  // x = lon, y = lat (degrees), z = altitude (metres, stored, not indexed yet)
  kPlanar2D,    // x, y
  kPlanar3D,    // x, y, z
};
const char* CoordinateSystemName(CoordinateSystem c);

struct NamespaceOptions {
  CoordinateSystem coordinates = CoordinateSystem::kGeographic;
  HistoryOptions history;  // see "History" above
};

// Milliseconds since the Unix epoch. Injectable so tests control expiry without sleeping.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t NowMillis() const = 0;
};
// A clock that moves only when told to.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t now = 0) : now_(now) {}
  int64_t NowMillis() const override { return now_.load(std::memory_order_relaxed); }
  void Set(int64_t now) { now_.store(now, std::memory_order_relaxed); }
  void Advance(int64_t millis) { now_.fetch_add(millis, std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> now_;
};

// When an acknowledged write is durable (Db::Open; docs/LOG_FORMAT.md, "Sync policies").
enum class SyncPolicy {
  // A write returns only after its log bytes are synced. Concurrent writers share syncs
  // (group commit): while one sync runs, the writes that arrive queue behind it and the next
  // sync covers them all, so throughput grows with the number of writers.
  kAlways,
  // A background thread syncs the log every sync_interval_ms: a crash loses at most the
  // writes acknowledged in the last sync_interval_ms plus the duration of one sync.
  kEverySecond,
  // The operating system writes the log back when it chooses; a crash keeps a prefix of the
  // writes (never a write without the ones before it). Close and Db::Sync still sync.
  kNever,
};
enum class SyncMode {
  kFdatasync,  // fdatasync(2): the data and the size, not the timestamps (the default)
  kFsync,      // fsync(2)
};

struct DurabilityOptions {
  SyncPolicy sync = SyncPolicy::kAlways;
  SyncMode sync_mode = SyncMode::kFdatasync;
  // kEverySecond: the period of the background sync (milliseconds, >= 1). kNever: of the
  // background write of buffered records to the file (without a sync).
  int64_t sync_interval_ms = 1000;
  // kAlways: writes made with WriteOptions::sync = false are logged without waiting; the
  // write that brings the unsynced records to sync_batch_size syncs them all and waits (so a
  // single writer pays one sync per sync_batch_size records). >= 1.
  size_t sync_batch_size = 64;
  // Recovery: damage before the tail of the log is a Corruption error naming the file and
  // offset. true: cut the log at the first damaged record instead (keeping the prefix before
  // it, a consistent state) and report what was dropped in RecoveryReport.
  bool repair = false;
  // Checkpoints (Db::Checkpoint): taken in the background when the log written since the
  // last checkpoint exceeds both checkpoint_min_log_bytes and checkpoint_log_ratio times the
  // size of that checkpoint. 0 for checkpoint_min_log_bytes disables automatic checkpoints.
  uint64_t checkpoint_min_log_bytes = 64ull << 20;
  double checkpoint_log_ratio = 2.0;
};

struct DbOptions {
  // Db::Open only: the log and checkpoints.
  DurabilityOptions durability;
  // Defaults to the system clock.
  std::shared_ptr<const Clock> clock;
  size_t max_id_bytes = 256;
  size_t max_namespace_bytes = 128;
  size_t max_metadata_bytes = 1 << 20;
  // Background sweeps of expired objects: every interval, up to sweep_batch objects per
  // namespace. 0 disables the thread (call SweepExpired yourself).
  int64_t sweep_interval_ms = 1000;
  size_t sweep_batch = 10000;
  // Rows per block of the live index (a multiple of 16): the unit of pruning.
  uint32_t block_rows = 512;
  // Moves inflate the index's block bounds; past a threshold the namespace is reclustered
  // (rebuilt in Hilbert order). true: on a maintenance thread of the database, while
  // queries and writes go on (writers pause only to copy the rows and to catch up, queries
  // only for the swap). false: inline, on the write that crossed the threshold (no thread;
  // deterministic for tests).
  bool background_recluster = true;
};

struct Object {
  std::string id;
  Position pos;
  int64_t timestamp = 0;  // milliseconds; the conflict rule compares these
  std::string metadata;   // opaque bytes
  // Expiry: absolute (milliseconds since the epoch), or relative to the clock at apply time.
  // At most one of the two.
  std::optional<int64_t> expires_at;
  std::optional<int64_t> ttl_ms;
};

enum class WriteOutcome { kApplied, kStale };

// Per-write choices (Upsert, Delete, Apply).
struct WriteOptions {
  // Whether the call returns only once the write is durable. Unset: as the sync policy says
  // (kAlways: yes; kEverySecond and kNever: no). true under the other policies syncs for this
  // write; false under kAlways logs it without waiting (see sync_batch_size): it is durable
  // once a later waiting write of any thread, or Db::Sync, returns OK.
  std::optional<bool> sync;
};

// What Db::Open found and did (Db::recovery()).
struct RecoveryReport {
  std::string checkpoint;         // the file loaded ("" when none)
  uint64_t checkpoint_objects = 0;
  uint64_t history_files = 0;     // history chunk files the checkpoint listed, loaded
  uint64_t history_bytes = 0;     // their size
  uint64_t segments = 0;          // log segments replayed
  uint64_t records = 0;           // log records replayed
  uint64_t operations = 0;        // upserts, deletes and expiries in them
  uint64_t log_bytes = 0;         // bytes of log read
  double checkpoint_seconds = 0;  // loading the checkpoint
  double replay_seconds = 0;      // replaying the log
  double records_per_second = 0;  // records / replay_seconds
  // A torn record at the end of the log (a write cut short by a crash): cut off.
  bool torn_tail = false;
  std::string torn_file;
  uint64_t torn_offset = 0;  // where the log now ends
  uint64_t torn_bytes = 0;   // bytes cut off
  // DurabilityOptions::repair: what was dropped at and after the first damaged record.
  bool repaired = false;
  std::string repaired_file;
  uint64_t repaired_offset = 0;
  uint64_t dropped_bytes = 0;     // from the damage to the end of the log
  uint64_t dropped_records = 0;   // whole records found (by checksum) in what was dropped
  uint64_t dropped_segments = 0;  // later segments removed
  std::string ToString() const;
};

struct DurabilityStats {
  uint64_t log_bytes = 0;           // written to the log since the last checkpoint
  uint64_t records = 0;             // appended since open
  uint64_t syncs = 0;               // log syncs since open
  uint64_t checkpoints = 0;         // since open
  uint64_t checkpoint_bytes = 0;    // size of the last checkpoint file
  double last_checkpoint_ms = 0;    // the last checkpoint, in all
  double last_checkpoint_writer_pause_ms = 0;  // the longest time it held a namespace's writes
  // Set once a write or sync of the log failed: every later write is refused with it.
  std::string failure;
};

// Upserts, deletes and trajectories applied together by Db::Apply, all or nothing.
class Batch {
 public:
  void Upsert(std::string ns, Object object);
  void Delete(std::string ns, std::string id);
  // Db::InsertTrajectory inside the batch: one upsert per sample (each adds a sample; the
  // newest becomes the current position by the conflict rule, the others are history only).
  // Apply fails with FailedPrecondition, applying nothing, when `ns` keeps no history.
  void InsertTrajectory(std::string ns, std::string id, const std::vector<Sample>& samples);
  size_t size() const { return ops_.size(); }
  bool empty() const { return ops_.empty(); }

 private:
  friend class Db;
  struct Op {
    bool upsert;
    std::string ns;
    Object object;             // delete: only object.id
    bool needs_history = false;  // a trajectory's sample
  };
  std::vector<Op> ops_;
};

struct QueryOptions {
  // The most hits returned (> 0); past it the result says truncated.
  size_t limit = 1000;
  // Only objects last updated within [updated_from, updated_to] (timestamps, inclusive).
  std::optional<int64_t> updated_from, updated_to;
  bool with_metadata = false;
  // Queries around an object (WithinRadiusOf, CountWithinRadiusOf, NearestTo,
  // WithinCylinderOf, CountWithinCylinderOf): whether the object itself may be a hit. It then
  // counts like any other object (it must pass the time filter, and a cylinder's band).
  // Other queries ignore it.
  bool include_self = false;
};

struct Hit {
  std::string id;
  Position pos;
  int64_t timestamp = 0;
  // Metres (geographic) or units (planar): the query's metric (horizontal for cylinders);
  // 0 for box and polygon queries.
  double distance = 0;
  std::string metadata;  // when QueryOptions::with_metadata
};

struct QueryResult {
  std::vector<Hit> hits;
  bool truncated = false;  // more objects matched than QueryOptions::limit
};

// A hit as a query's visitor receives it: the fields of Hit as views into the database,
// valid only during the visitor's call (the namespace's read lock is held meanwhile, so a
// visitor must not call back into the database). Nothing is copied or allocated per hit: a
// server or a binding serialises straight from here.
struct HitView {
  std::string_view id;
  Position pos;
  int64_t timestamp = 0;
  double distance = 0;        // as Hit::distance
  std::string_view metadata;  // empty unless QueryOptions::with_metadata
};
// Receives a query's hits one by one, in the query's order; returns false to stop the query
// there (the hits after it are never looked at).
using HitVisitor = FunctionRef<bool(const HitView&)>;
// What a visiting query did.
struct VisitResult {
  size_t hits = 0;         // hits the visitor received
  bool truncated = false;  // more objects matched than QueryOptions::limit
  bool stopped = false;    // the visitor returned false
};

// How Db::Distance measures (geographic namespaces; planar ones use kPlanar).
enum class DistanceMethod {
  kHaversine,  // great circle on the sphere of radius 6371008.8 m (the queries' metric)
  kVincenty,   // Vincenty inverse on WGS84 (Karney's result where it does not converge)
  kGeodesic,   // Karney's geodesic on WGS84 (GeographicLib): exact to nanometres
  kRhumb,      // rhumb line (constant bearing) on WGS84
  kPlanar,     // Euclidean in the namespace's units
};

// How long the last recluster of a namespace took, and how long it held others up
// (milliseconds; zero before the first).
struct ReclusterTimes {
  double total_ms = 0;         // from the copy of the rows to the swap
  double writer_pause_ms = 0;  // writes to the namespace waited: the copy, catch-up and swap
  double reader_pause_ms = 0;  // queries waited: the swap only
};

struct NamespaceStats {
  CoordinateSystem coordinates = CoordinateSystem::kGeographic;
  size_t objects = 0;  // visible now
  size_t expired = 0;  // expired, not yet swept
  size_t swept = 0;    // removed by sweeps since the namespace was created
  size_t reclusters = 0;  // index rebuilds since the namespace was created
  ReclusterTimes last_recluster;
  // Bytes of memory the namespace holds: every heap block owned by its records (ids and
  // metadata included), its id -> key map and its free-key list, at the size asked of the
  // allocator (the allocator's own per-block overhead is not included), plus its live index
  // as engine::LiveIndex::MemoryBytes accounts it. Not counted: the namespace's fixed-size
  // object and the Db's map of namespaces.
  size_t memory_bytes = 0;
  // History namespaces: samples kept, sealed chunks, and the bytes they hold (counted as
  // memory_bytes counts, and included in it).
  size_t history_samples = 0;
  size_t history_chunks = 0;
  size_t history_bytes = 0;
};

class Db {
 public:
  static Result<std::unique_ptr<Db>> OpenInMemory(DbOptions options = {});
  // A durable database in `directory` (created if missing): recovers the latest checkpoint
  // and replays the log after it (see recovery()), then logs every write
  // (options.durability). An exclusive lock on directory/LOCK keeps other processes (and
  // other opens in this one) out: FailedPrecondition while it is held. Recovery errors:
  // Corruption naming the file and offset (see DurabilityOptions::repair), IoError.
  static Result<std::unique_ptr<Db>> Open(const std::string& directory, DbOptions options = {});
  // Syncs the log and stops the background threads; later writes fail. Returns the first
  // failure (a sync that failed now or earlier). The destructor closes too, ignoring errors.
  Status Close();
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  // Namespaces. Writes create a namespace on first use with default options; Create makes
  // one explicitly (AlreadyExists if it exists with other options).
  Status CreateNamespace(std::string_view name, const NamespaceOptions& options = {});
  std::vector<std::string> ListNamespaces() const;
  Status DropNamespace(std::string_view name);

  // Writes. In a durable database a write that returns OK is durable as WriteOptions and the
  // sync policy say; one that fails with IoError was not made durable (it may be visible to
  // reads until the database is reopened), and every later write fails with that error.
  Result<WriteOutcome> Upsert(std::string_view ns, const Object& object,
                              const WriteOptions& write = {});
  // NotFound when absent or expired.
  Result<Object> Get(std::string_view ns, std::string_view id) const;
  Status Delete(std::string_view ns, std::string_view id, const WriteOptions& write = {});
  // One outcome per operation (deletes of absent objects are kApplied: nothing to do).
  Result<std::vector<WriteOutcome>> Apply(const Batch& batch, const WriteOptions& write = {});

  // Durable databases (OK and no-ops in memory):
  // Syncs every write made so far (of every thread).
  Status Sync();
  // Writes the live state as a checkpoint (an index file; docs/LOG_FORMAT.md) and removes
  // the log it replaces; returns once it is durable. Writes go on meanwhile, each namespace
  // held only while its objects are copied.
  Status Checkpoint();
  const RecoveryReport& recovery() const;
  DurabilityStats durability_stats() const;

  // Objects within `radius` of `center` (inclusive), in no particular order.
  Result<QueryResult> WithinRadius(std::string_view ns, const Position& center, double radius,
                                   const QueryOptions& options = {}) const;
  Result<size_t> CountWithinRadius(std::string_view ns, const Position& center, double radius,
                                   const QueryOptions& options = {}) const;
  // Objects inside the closed box [min, max]. Geographic: min = (west, south), max = (east,
  // north); west > east is a box across the antimeridian (as GeoJSON bounding boxes).
  Result<QueryResult> InBox(std::string_view ns, const Position& min, const Position& max,
                            const QueryOptions& options = {}) const;
  Result<size_t> CountInBox(std::string_view ns, const Position& min, const Position& max,
                            const QueryOptions& options = {}) const;
  // The k nearest objects, nearest first, with their distances.
  Result<QueryResult> Nearest(std::string_view ns, const Position& center, size_t k,
                              const QueryOptions& options = {}) const;
  // The same queries handing each hit to `visit` (HitView) instead of collecting Hits: the
  // same hits in the same order, the same errors, with no per-hit copies or allocations.
  Result<VisitResult> WithinRadius(std::string_view ns, const Position& center, double radius,
                                   const QueryOptions& options, HitVisitor visit) const;
  Result<VisitResult> InBox(std::string_view ns, const Position& min, const Position& max,
                            const QueryOptions& options, HitVisitor visit) const;
  Result<VisitResult> Nearest(std::string_view ns, const Position& center, size_t k,
                              const QueryOptions& options, HitVisitor visit) const;

  // Objects in the vertical cylinder over a disc: within horizontal distance `radius` of
  // center's x/y and with z in the band [z_min, z_max] (both inclusive; center.z is ignored),
  // in no particular order. Hit::distance is the horizontal distance. Geographic: the disc is
  // great-circle metres around center's lon/lat (exact across the antimeridian and at the
  // poles, as WithinRadius) and z is the altitude in metres. Planar 3D: x/y distance in
  // units. Planar 2D namespaces have no z axis: InvalidArgument.
  Result<QueryResult> WithinCylinder(std::string_view ns, const Position& center, double radius,
                                     double z_min, double z_max,
                                     const QueryOptions& options = {}) const;
  Result<size_t> CountWithinCylinder(std::string_view ns, const Position& center, double radius,
                                     double z_min, double z_max,
                                     const QueryOptions& options = {}) const;

  // The queries around an existing object `id`, from its current position (NotFound when it
  // is absent or expired). The position is read under the same lock hold as the query, so a
  // concurrent write is seen wholly before or after. The object itself is left out unless
  // QueryOptions::include_self. The time filter selects among the other objects; it does not
  // apply to the object queried around.
  //
  // WithinRadius around the object: the namespace's metric (a sphere in planar 3D; great
  // circle, altitude ignored, in geographic namespaces).
  Result<QueryResult> WithinRadiusOf(std::string_view ns, std::string_view id, double radius,
                                     const QueryOptions& options = {}) const;
  Result<size_t> CountWithinRadiusOf(std::string_view ns, std::string_view id, double radius,
                                     const QueryOptions& options = {}) const;
  // The k nearest other objects (k others even when some share the object's position).
  Result<QueryResult> NearestTo(std::string_view ns, std::string_view id, size_t k,
                                const QueryOptions& options = {}) const;
  // WithinCylinder around the object, the band relative to its z: [z + dz_min, z + dz_max]
  // (dz_min <= dz_max, either sign; e.g. -300, 300 for 300 m above or below an aircraft).
  // Relative, as separation rules are stated (within 300 m of its altitude), and the caller
  // need not know the altitude the query reads. With include_self the object is a hit
  // exactly when dz_min <= 0 <= dz_max (and the time filter passes it).
  Result<QueryResult> WithinCylinderOf(std::string_view ns, std::string_view id, double radius,
                                       double dz_min, double dz_max,
                                       const QueryOptions& options = {}) const;
  Result<size_t> CountWithinCylinderOf(std::string_view ns, std::string_view id, double radius,
                                       double dz_min, double dz_max,
                                       const QueryOptions& options = {}) const;

  // Objects inside a polygon: rings[0] is the exterior, the others holes (GeoJSON style,
  // closed or open, either orientation; at least 3 distinct points each, not
  // self-intersecting). Boundary rule: the closed polygon (points on the exterior or on a
  // hole's edge are inside). Geographic: edges are straight in lon/lat degrees; a polygon
  // across the antimeridian must be given split (RFC 7946, 3.1.9). Planar 3D: x/y only.
  Result<QueryResult> WithinPolygon(std::string_view ns,
                                    const std::vector<std::vector<Position>>& rings,
                                    const QueryOptions& options = {}) const;
  Result<VisitResult> WithinPolygon(std::string_view ns,
                                    const std::vector<std::vector<Position>>& rings,
                                    const QueryOptions& options, HitVisitor visit) const;
  Result<size_t> CountWithinPolygon(std::string_view ns,
                                    const std::vector<std::vector<Position>>& rings,
                                    const QueryOptions& options = {}) const;

  // Distance between two objects, or from an object to a point, by `method` (metres for
  // geographic namespaces, whose altitude combines as sqrt(surface^2 + dalt^2); planar
  // namespaces accept only kPlanar). NotFound for an absent or expired object.
  Result<double> Distance(std::string_view ns, std::string_view id_a, std::string_view id_b,
                          DistanceMethod method = DistanceMethod::kHaversine) const;
  Result<double> DistanceTo(std::string_view ns, std::string_view id, const Position& point,
                            DistanceMethod method = DistanceMethod::kHaversine) const;

  // The convex hull (x/y, counter-clockwise, no collinear points; fewer than 3 points when
  // the objects are fewer or collinear) and the bounding box of the visible objects.
  // Geographic hulls and boxes are taken in lon/lat degrees (not across the antimeridian).
  Result<std::vector<Position>> ConvexHull(std::string_view ns,
                                           const QueryOptions& options = {}) const;
  // NotFound when the namespace has no visible object.
  Result<std::pair<Position, Position>> Bounds(std::string_view ns,
                                               const QueryOptions& options = {}) const;

  // ---- history (namespaces with NamespaceOptions::history; FailedPrecondition otherwise) ----
  // Adds many samples of one object at once, in any order, all or none (one bad sample: an
  // InvalidArgument naming it, and nothing changes). The current position becomes the newest
  // sample when it is not older than the stored object (the conflict rule), without expiry.
  Status InsertTrajectory(std::string_view ns, std::string_view id,
                          const std::vector<Sample>& samples, const WriteOptions& write = {});
  // Erases the object's samples with t in [t0, t1]; returns how many. Durable (see History
  // above); gone from every file after the next checkpoint.
  Result<size_t> DeleteHistory(std::string_view ns, std::string_view id, int64_t t0, int64_t t1,
                               const WriteOptions& write = {});
  // The object's samples with t in [t0, t1] (NotFound for an object without history).
  Result<TrajectoryResult> Trajectory(std::string_view ns, std::string_view id, int64_t t0,
                                      int64_t t1, const TrajectoryOptions& options = {}) const;
  // The interpolated position at t.
  Result<Position> PositionAt(std::string_view ns, std::string_view id, int64_t t,
                              const PositionAtOptions& options = {}) const;
  // Every object's interpolated position at t (those whose history spans t), inside the
  // region; Hit::timestamp is t, Hit::distance 0. Sorted by id.
  Result<QueryResult> SliceAt(std::string_view ns, int64_t t,
                              const Region& region = Region::Everywhere(),
                              const QueryOptions& options = {}) const;
  // Objects whose path (the segments between samples, not only the samples) was inside the
  // region at some instant of [t0, t1], with the first such instant.
  Result<PassageResult> PassedThrough(std::string_view ns, const Region& region, int64_t t0,
                                      int64_t t1, const QueryOptions& options = {}) const;
  // The k nearest objects at time t (their interpolated positions), nearest first.
  Result<QueryResult> NearestAt(std::string_view ns, const Position& center, int64_t t, size_t k,
                                const QueryOptions& options = {}) const;
  // When, during [t0, t1], the two objects came closest (over the time both have history).
  Result<Approach> ClosestApproach(std::string_view ns, std::string_view id_a,
                                   std::string_view id_b, int64_t t0, int64_t t1) const;
  // Every pair of objects within `distance` of each other at the same time during [t0, t1]
  // (a spatio-temporal self-join, run in parallel; the output does not depend on threads).
  Result<EncounterResult> Encounters(std::string_view ns, double distance, int64_t t0, int64_t t1,
                                     const QueryOptions& options = {}) const;
  Result<TrajectoryStatistics> TrajectoryStats(std::string_view ns, std::string_view id,
                                               int64_t t0, int64_t t1) const;
  Result<std::vector<Stop>> Stops(std::string_view ns, std::string_view id, int64_t t0,
                                  int64_t t1, double radius, int64_t min_duration_ms) const;

  Result<NamespaceStats> Stats(std::string_view ns) const;
  // One bounded pass: removes up to `max_per_namespace` expired objects from every
  // namespace; returns how many were removed.
  size_t SweepExpired(size_t max_per_namespace);

 private:
  friend class db_internal::DbFactory;
  struct Impl;
  explicit Db(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace locus

#endif  // LOCUS_DB_H_
