// locus::Db (locus/db.h): namespaces of moving objects over engine::LiveIndex.
//
// Each namespace keeps its objects' records (id, position, timestamp, metadata, expiry) in a
// vector indexed by a dense key, an id -> key hash map, and a LiveIndex over the indexed
// coordinates: (x, y[, z]) for planar namespaces, unit-sphere vectors for geographic ones.
// Locks per namespace: `writer` serialises writers; `rw` is shared by queries and taken
// exclusively only while a write mutates. Reclustering runs on a maintenance thread and
// holds the writer lock only to copy the rows and to catch up, and `rw` only to swap the new
// index in (Namespace::Recluster). A bulk load into an empty namespace builds its index in
// one pass and renumbers the keys into the index's order, so the records of neighbouring
// objects are neighbours too (Namespace::IndexRecords).
#include "locus/db.h"
#include "locus/memory.h"

#include <pthread.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <thread>

#include "absl/container/flat_hash_map.h"

#include "api/db/durable_format.h"

#include "engine/geodesy.h"
#include "engine/live_index.h"
#include "engine/polygon.h"
#include "kernels/geo.h"
#include "storage/file_system.h"
#include "storage/futex.h"
#include "storage/log.h"

namespace locus {

const char* CoordinateSystemName(CoordinateSystem c) {
  switch (c) {
    case CoordinateSystem::kGeographic: return "geographic";
    case CoordinateSystem::kPlanar2D: return "planar2d";
    case CoordinateSystem::kPlanar3D: return "planar3d";
  }
  return "unknown";
}

void Batch::Upsert(std::string ns, Object object) {
  ops_.push_back({true, std::move(ns), std::move(object)});
}
void Batch::Delete(std::string ns, std::string id) {
  Object o;
  o.id = std::move(id);
  ops_.push_back({false, std::move(ns), std::move(o)});
}

namespace {

// Debian's Abseil has its own string_view type: lookups by std::string_view go through it.
absl::string_view Av(std::string_view v) { return absl::string_view(v.data(), v.size()); }

class SystemClock final : public Clock {
 public:
  int64_t NowMillis() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

Status CheckName(std::string_view name, const char* field, size_t max) {
  if (name.empty()) return InvalidArgumentError(std::string(field) + ": empty");
  if (name.size() > max) {
    return InvalidArgumentError(std::string(field) + ": " + std::to_string(name.size()) +
                                " bytes, at most " + std::to_string(max));
  }
  return Status();
}

Status CheckPosition(CoordinateSystem cs, const Position& p, const std::string& field) {
  auto finite = [&](double v, const char* axis) -> Status {
    if (!std::isfinite(v)) {
      return InvalidArgumentError(field + "." + axis + " = " + FormatNumber(v) + ": not finite");
    }
    return Status();
  };
  if (cs == CoordinateSystem::kGeographic) {
    if (!(p.x >= -180 && p.x <= 180)) {
      return InvalidArgumentError(field + ".lon = " + FormatNumber(p.x) + ": outside [-180, 180]");
    }
    if (!(p.y >= -90 && p.y <= 90)) {
      return InvalidArgumentError(field + ".lat = " + FormatNumber(p.y) + ": outside [-90, 90]");
    }
    return finite(p.z, "alt");
  }
  LOCUS_RETURN_IF_ERROR(finite(p.x, "x"));
  LOCUS_RETURN_IF_ERROR(finite(p.y, "y"));
  return finite(p.z, "z");
}

std::array<double, 3> Unit(double lon, double lat) {
  // The batch kernel reads 16 elements past n: pad the single point (it writes only out[0]).
  const double lo[17] = {lon}, la[17] = {lat};
  double x, y, z;
  kernels::LonLatToUnit(lo, la, 1, &x, &y, &z);
  return {x, y, z};
}

// A reader-writer lock that lets a waiting writer in ahead of new readers. std::shared_mutex
// (glibc's default rwlock) prefers readers: under a steady query load a writer could wait
// indefinitely (measured: a batch writer against 3 looping readers took 16 s for 300
// batches). Non-recursive: a thread must not take it shared twice. Usable with
// std::unique_lock and std::shared_lock.
class RwLock {
 public:
  RwLock() {
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    LOCUS_CHECK(pthread_rwlock_init(&lock_, &attr) == 0);
    pthread_rwlockattr_destroy(&attr);
  }
  ~RwLock() { pthread_rwlock_destroy(&lock_); }
  RwLock(const RwLock&) = delete;
  RwLock& operator=(const RwLock&) = delete;
  void lock() { LOCUS_CHECK(pthread_rwlock_wrlock(&lock_) == 0); }
  void unlock() { pthread_rwlock_unlock(&lock_); }
  void lock_shared() { LOCUS_CHECK(pthread_rwlock_rdlock(&lock_) == 0); }
  void unlock_shared() { pthread_rwlock_unlock(&lock_); }

 private:
  pthread_rwlock_t lock_;
};

// The fields a write reads or writes come first (a move touches the first line or two).
struct Record {
  int64_t timestamp = 0;
  int64_t expires = engine::kNeverExpires;
  Position pos;
  std::string metadata;
  std::string id;  // empty: a free key
};

// An allocator that adds the bytes it hands out to *bytes and subtracts those it takes back,
// so NamespaceStats::memory_bytes reports the hash map's arrays (slots, control bytes,
// padding: a layout that is Abseil's to change) exactly rather than by a formula. *bytes is
// written only by writers (exclusive rw) and read by Stats (shared rw).
template <class T>
class CountingAllocator {
 public:
  using value_type = T;
  explicit CountingAllocator(size_t* bytes) : bytes_(bytes) {}
  template <class U>
  CountingAllocator(const CountingAllocator<U>& other) : bytes_(other.bytes_) {}  // NOLINT
  T* allocate(size_t n) {
    T* p = std::allocator<T>().allocate(n);
    AdviseHugePages(p, n * sizeof(T));  // locus/memory.h: large maps are read at random
    *bytes_ += n * sizeof(T);
    return p;
  }
  void deallocate(T* p, size_t n) {
    std::allocator<T>().deallocate(p, n);
    *bytes_ -= n * sizeof(T);
  }
  template <class U>
  bool operator==(const CountingAllocator<U>& other) const { return bytes_ == other.bytes_; }

 private:
  template <class U>
  friend class CountingAllocator;
  size_t* bytes_;
};

// Abseil's default hash and equality for string keys, named here because a map with its own
// allocator must spell them out. Transparent: lookups by string_view build no string.
struct IdHash {
  using is_transparent = void;
  size_t operator()(absl::string_view v) const { return absl::Hash<absl::string_view>{}(v); }
};
struct IdEq {
  using is_transparent = void;
  bool operator()(absl::string_view a, absl::string_view b) const { return a == b; }
};
using IdMap = absl::flat_hash_map<std::string, uint32_t, IdHash, IdEq,
                                  CountingAllocator<std::pair<const std::string, uint32_t>>>;

// Empties a freed key's record and frees its strings' buffers: assigning Record() would keep
// them (libstdc++ copies a short string into the existing buffer), leaving a deleted object's
// long metadata allocated until its key is reused.
// An upsert's absolute expiry (what the log records, so a replay decides the same).
int64_t ExpiresOf(const Object& o, int64_t now) {
  return o.expires_at ? *o.expires_at : o.ttl_ms ? now + *o.ttl_ms : engine::kNeverExpires;
}

void ClearRecord(Record* r) {
  Record old = std::move(*r);
  *r = Record();
}

// The heap bytes a std::string owns: none while its characters fit the buffer inside the
// object (the short-string optimisation), else capacity() + 1, which is what libstdc++
// allocates (room for the terminating NUL).
size_t HeapBytes(const std::string& s) {
  const auto* self = reinterpret_cast<const char*>(&s);
  const bool inline_buffer =
      std::less_equal<>()(self, s.data()) && std::less<>()(s.data(), self + sizeof(s));
  return inline_buffer ? 0 : s.capacity() + 1;
}

engine::TimeWindow WindowOf(const QueryOptions& o) {
  engine::TimeWindow w;
  if (o.updated_from) w.t_min = *o.updated_from;
  if (o.updated_to) w.t_max = *o.updated_to;
  return w;
}

Status CheckQuery(const QueryOptions& o) {
  if (o.limit == 0) return InvalidArgumentError("options.limit = 0: must be > 0");
  if (o.updated_from && o.updated_to && *o.updated_from > *o.updated_to) {
    return InvalidArgumentError("options.updated_from = " + std::to_string(*o.updated_from) +
                                " > updated_to = " + std::to_string(*o.updated_to));
  }
  return Status();
}

// The 3D box (on the unit sphere) holding every point of the lon/lat rectangle
// [w, e] x [s, n] (w <= e, degrees), padded for the rounding of the unit vectors.
void SphereBox(double w, double e, double s, double n, std::array<double, 3>* lo,
               std::array<double, 3>* hi) {
  constexpr double kDeg = 3.14159265358979323846 / 180;
  const double cos_s = std::cos(s * kDeg), cos_n = std::cos(n * kDeg);
  const double cmax = (s <= 0 && n >= 0) ? 1.0 : std::max(cos_s, cos_n);
  const double cmin = std::min(cos_s, cos_n);
  double clo = std::min(std::cos(w * kDeg), std::cos(e * kDeg));
  double chi = std::max(std::cos(w * kDeg), std::cos(e * kDeg));
  if (w <= 0 && e >= 0) chi = 1;
  if (w <= -180 || e >= 180) clo = -1;
  double slo = std::min(std::sin(w * kDeg), std::sin(e * kDeg));
  double shi = std::max(std::sin(w * kDeg), std::sin(e * kDeg));
  if (w <= 90 && e >= 90) shi = 1;
  if (w <= -90 && e >= -90) slo = -1;
  auto range = [&](double a, double b, double* out_lo, double* out_hi) {
    const double c[4] = {cmin * a, cmin * b, cmax * a, cmax * b};
    *out_lo = *std::min_element(c, c + 4);
    *out_hi = *std::max_element(c, c + 4);
  };
  range(clo, chi, &(*lo)[0], &(*hi)[0]);
  range(slo, shi, &(*lo)[1], &(*hi)[1]);
  (*lo)[2] = std::sin(s * kDeg);
  (*hi)[2] = std::sin(n * kDeg);
  constexpr double kPad = 1e-12;
  for (int a = 0; a < 3; ++a) {
    (*lo)[a] -= kPad;
    (*hi)[a] += kPad;
  }
}

}  // namespace

struct Db::Impl {
  struct Namespace {
    explicit Namespace(NamespaceOptions o, uint32_t block_rows)
        : options(o),
          live2({.block_rows = block_rows}),
          live3({.block_rows = block_rows,
                 .sphere = o.coordinates == CoordinateSystem::kGeographic}) {}
    NamespaceOptions options;
    std::mutex writer;
    mutable RwLock rw;
    size_t map_bytes = 0;  // held by key_of_id's arrays (its allocator counts them)
    // Open addressing with the id stored in the slot (short ids stay inside the string's
    // inline buffer): a lookup is usually one cache miss, where std::unordered_map's
    // bucket -> node -> string chain cost three (W4 moves: 23% of the time in find).
    IdMap key_of_id{0, IdHash(), IdEq(), IdMap::allocator_type(&map_bytes)};
    std::vector<Record, HugePageAllocator<Record>> records;
    std::vector<uint32_t> free_keys;
    engine::LiveIndex<2> live2;  // planar 2D
    engine::LiveIndex<3> live3;  // planar 3D, and unit vectors for geographic
    size_t swept = 0;
    bool defer_index = false;  // during a bulk load: see IndexRecords
    // Set (under `writer`) when the namespace is dropped: a writer that found it before the
    // drop finds the namespace again instead of writing (and logging) into the dropped one.
    bool dropped = false;
    // Reclustering (see Recluster): guarded by `writer`, except the queue flag.
    bool recluster_running = false;
    std::vector<uint32_t> dirty;
    std::atomic<size_t> reclusters{0};  // read by Stats without the writer lock
    ReclusterTimes last_recluster;       // guarded by rw
    std::atomic<bool> recluster_queued{false};
    std::function<void()> build_hook;  // DbOptions::recluster_build_hook_for_testing

    bool two_d() const { return options.coordinates == CoordinateSystem::kPlanar2D; }
    bool geographic() const { return options.coordinates == CoordinateSystem::kGeographic; }
    std::array<double, 3> Point3(const Position& p) const {
      return geographic() ? Unit(p.x, p.y) : std::array<double, 3>{p.x, p.y, p.z};
    }

    // REQUIRES: writer and exclusive rw held; o validated. `unit`: o's unit vector when
    // the caller computed it already (geographic namespaces; batches convert theirs at once).
    // force (log replay): apply without the conflict rule (the log holds applied writes).
    WriteOutcome UpsertLocked(const Object& o, int64_t now,
                              const std::array<double, 3>* unit = nullptr, bool force = false) {
      auto it = key_of_id.find(o.id);
      uint32_t key;
      if (it != key_of_id.end()) {
        key = it->second;
        const Record& r = records[key];
        if (!force && r.expires > now && o.timestamp < r.timestamp) return WriteOutcome::kStale;
      } else {
        if (!free_keys.empty()) {
          key = free_keys.back();
          free_keys.pop_back();
        } else {
          key = static_cast<uint32_t>(records.size());
          records.emplace_back();
        }
        key_of_id.emplace(o.id, key);
        records[key].id = o.id;
      }
      Touch(key);
      Record& r = records[key];
      r.pos = o.pos;
      r.timestamp = o.timestamp;
      if (!(r.metadata.empty() && o.metadata.empty())) r.metadata = o.metadata;
      r.expires = ExpiresOf(o, now);
      if (defer_index) return WriteOutcome::kApplied;  // IndexRecords builds it later
      if (two_d()) {
        live2.Upsert(key, {o.pos.x, o.pos.y}, o.timestamp, r.expires);
      } else {
        live3.Upsert(key, unit ? *unit : Point3(o.pos), o.timestamp, r.expires);
      }
      return WriteOutcome::kApplied;
    }

    // A bulk load into an empty namespace writes only the records and the id map
    // (defer_index), then builds the clustered index from the records in one pass and
    // renumbers the keys into its order: no per-row index inserts and no unclustered copy
    // to recluster. REQUIRES: writer and exclusive rw held; the index empty.
    void IndexRecords() {
      defer_index = false;
      std::vector<uint32_t> keys;
      keys.reserve(key_of_id.size());
      for (uint32_t key = 0; key < records.size(); ++key) {
        if (!records[key].id.empty()) keys.push_back(key);
      }
      const size_t n = keys.size();
      std::vector<uint32_t> renumber;
      auto fill_times = [&](auto& rows) {
        rows.keys = keys;
        rows.t.resize(n);
        rows.expires.resize(n);
        for (size_t i = 0; i < n; ++i) {
          rows.t[i] = records[keys[i]].timestamp;
          rows.expires[i] = records[keys[i]].expires;
        }
      };
      if (two_d()) {
        engine::LiveIndex<2>::RowSet rows;
        fill_times(rows);
        rows.pos[0].resize(n);
        rows.pos[1].resize(n);
        for (size_t i = 0; i < n; ++i) {
          rows.pos[0][i] = records[keys[i]].pos.x;
          rows.pos[1][i] = records[keys[i]].pos.y;
        }
        live2 = engine::LiveIndex<2>::Build(live2.options(), rows, &renumber);
      } else {
        engine::LiveIndex<3>::RowSet rows;
        fill_times(rows);
        for (auto& column : rows.pos) column.resize(n);
        if (geographic()) {  // unit vectors by the batch kernel (padded columns)
          kernels::Column<double> lon(n), lat(n), x(n), y(n), z(n);
          for (size_t i = 0; i < n; ++i) {
            lon[i] = records[keys[i]].pos.x;
            lat[i] = records[keys[i]].pos.y;
          }
          kernels::LonLatToUnit(lon.data(), lat.data(), n, x.data(), y.data(), z.data());
          std::copy(x.data(), x.data() + n, rows.pos[0].begin());
          std::copy(y.data(), y.data() + n, rows.pos[1].begin());
          std::copy(z.data(), z.data() + n, rows.pos[2].begin());
        } else {
          for (size_t i = 0; i < n; ++i) {
            const Position& p = records[keys[i]].pos;
            rows.pos[0][i] = p.x;
            rows.pos[1][i] = p.y;
            rows.pos[2][i] = p.z;
          }
        }
        live3 = engine::LiveIndex<3>::Build(live3.options(), rows, &renumber);
      }
      decltype(records) moved(n);
      for (uint32_t key : keys) moved[renumber[key]] = std::move(records[key]);
      records = std::move(moved);
      for (auto& [id, key] : key_of_id) key = renumber[key];
      free_keys.clear();
    }

    // REQUIRES: writer and exclusive rw held. Returns whether a visible object was removed.
    // Removes `id` if stored (visible or expired).
    enum class Removed { kNone, kExpired, kVisible };
    Removed DeleteLocked(std::string_view id, int64_t now) {
      auto it = key_of_id.find(Av(id));
      if (it == key_of_id.end()) return Removed::kNone;
      const uint32_t key = it->second;
      const bool visible = records[key].expires > now;
      RemoveKey(key);
      return visible ? Removed::kVisible : Removed::kExpired;
    }
    void RemoveKey(uint32_t key) {
      Touch(key);
      key_of_id.erase(records[key].id);
      ClearRecord(&records[key]);
      free_keys.push_back(key);
      if (two_d()) live2.Remove(key);
      else live3.Remove(key);
    }

    // ---- reclustering (off the writers' path) ----
    // Every write checks NeedsRecluster (O(1)); when it says yes the database runs
    // Recluster on its maintenance thread (or inline, DbOptions::background_recluster off).
    bool NeedsRecluster() const {  // REQUIRES: writer held
      return !recluster_running &&
             (two_d() ? live2.NeedsRecluster() : live3.NeedsRecluster());
    }
    // Records a key written while a recluster is building (REQUIRES: writer held).
    void Touch(uint32_t key) {
      if (recluster_running) dirty.push_back(key);
    }

    // Rebuilds the index into tight Hilbert-ordered blocks. Three phases:
    //   1. writer lock (queries run): copy the index's rows (a sequential copy);
    //   2. no lock (writers and queries run): sort and build the new index from the copy;
    //      writers record the keys they change (Touch);
    //   3. writer lock (queries run): replay the changed keys into the new index; then an
    //      exclusive lock only to swap it in (the old one is freed after the unlock).
    // Keys are kept: the records and the id map are untouched. (Renumbering keys into the
    // new order, as the bulk load does, would also move the records next to their rows, but
    // copying the records and the id map under the writer lock measured 2.9 s of writer
    // pause at 1M objects on the 2-vCPU VM, against tens of milliseconds without.)
    // REQUIRES: the caller holds neither lock.
    void Recluster() {
      if (two_d()) ReclusterIndex(live2);
      else ReclusterIndex(live3);
    }
    template <class Index>
    void ReclusterIndex(Index& live) {
      using Clock = std::chrono::steady_clock;
      auto ms = [](Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); };
      typename Index::RowSet snapshot;
      const Clock::time_point t0 = Clock::now();
      Clock::duration copy_pause;
      {
        std::lock_guard w(writer);
        if (!NeedsRecluster()) return;
        const Clock::time_point locked = Clock::now();
        snapshot = live.Rows();
        recluster_running = true;
        dirty.clear();
        copy_pause = Clock::now() - locked;
      }
      Index fresh = Index::Build(live.options(), snapshot);
      snapshot = {};
      if (build_hook) build_hook();
      std::lock_guard w(writer);
      const Clock::time_point catch_up = Clock::now();
      recluster_running = false;
      // Catch up: the current row of every key written since the copy (removed keys, and
      // keys reused by new objects, included).
      std::sort(dirty.begin(), dirty.end());
      dirty.erase(std::unique(dirty.begin(), dirty.end()), dirty.end());
      for (uint32_t key : dirty) {
        if (const auto row = live.Get(key)) fresh.Upsert(key, row->pos, row->t, row->expires);
        else fresh.Remove(key);
      }
      std::vector<uint32_t>().swap(dirty);
      LOCUS_CHECK(fresh.size() == live.size());
      {
        std::unique_lock x(rw);
        const Clock::time_point swap = Clock::now();
        std::swap(live, fresh);
        const Clock::time_point end = Clock::now();
        last_recluster.reader_pause_ms = ms(end - swap);
        last_recluster.total_ms = ms(end - t0);
        last_recluster.writer_pause_ms = ms(copy_pause + (end - catch_up));
      }
      ++reclusters;
    }  // `fresh`, now the old index, is freed here: after the exclusive lock

    Hit MakeHit(uint32_t key, double distance, bool with_metadata) const {
      const Record& r = records[key];
      Hit h;
      h.id = r.id;
      h.pos = r.pos;
      h.timestamp = r.timestamp;
      h.distance = distance;
      if (with_metadata) h.metadata = r.metadata;
      return h;
    }
    // A query radius (metres or planar units) as a squared distance in the indexed space:
    // the chord on the unit sphere for geographic namespaces.
    double IndexRadiusSq(double radius) const {
      const double r = geographic() ? kernels::MetresToChord(radius) : radius;
      return r * r;
    }
    double Distance(double dist_sq) const {
      const double d = std::sqrt(dist_sq);
      return geographic() ? kernels::ChordToMetres(d) : d;
    }
  };

  DbOptions options;
  std::shared_ptr<const Clock> clock;
  mutable std::shared_mutex ns_mu;
  std::map<std::string, std::shared_ptr<Namespace>, std::less<>> namespaces;
  // The sweeper.
  std::mutex sweep_mu;
  std::condition_variable sweep_cv;
  bool stopping = false;
  std::thread sweeper;
  // The maintenance thread that reclusters namespaces (RequestRecluster).
  std::mutex recluster_mu;
  std::condition_variable recluster_cv;
  std::deque<std::shared_ptr<Namespace>> recluster_queue;
  bool recluster_stopping = false;
  std::thread reclusterer;

  // ---- durability (Db::Open; in memory `log` is null) ----
  std::shared_ptr<storage::FileSystem> fs;
  std::string dir;
  std::unique_ptr<storage::FileLock> dir_lock;
  std::unique_ptr<storage::Log> log;
  RecoveryReport recovery;
  std::atomic<bool> closed{false};
  bool recovering = false;  // during Open's replay: no reclusters until it ends
  // Serialises namespace creations and drops with a checkpoint's roll of the log, so the
  // namespaces a checkpoint lists are exactly those that exist at its segment's start.
  std::mutex ns_change_mu;
  // One checkpoint at a time; guards the checkpoint stats below.
  std::mutex checkpoint_mu;
  uint64_t checkpoints = 0;
  uint64_t checkpoint_bytes = 0;
  double last_checkpoint_ms = 0;
  double last_checkpoint_pause_ms = 0;
  // The log's LSN at the last checkpoint's roll, and the automatic trigger's threshold.
  std::atomic<int64_t> checkpoint_lsn{0};  // negative: the log replayed at open counts
  std::atomic<uint64_t> checkpoint_trigger_bytes{UINT64_MAX};
  // The thread that takes automatic checkpoints.
  std::mutex ckpt_thread_mu;
  std::condition_variable ckpt_cv;
  bool ckpt_requested = false;
  bool ckpt_stopping = false;
  std::thread checkpointer;

  // ---- write groups: single writes that wait for their sync (RunGrouped) ----
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
  // Marks `w` done and wakes it. After the store `w` may be gone: only the wake, which
  // tolerates that, still names it.
  static void WakeDone(GroupedWrite* w) {
    w->state.store(GroupedWrite::kDone, std::memory_order_release);
    storage::FutexWakeAll(&w->state);
  }
  std::mutex group_mu;
  std::vector<GroupedWrite*> group_queue;  // guarded by group_mu
  bool group_leader = false;               // guarded by group_mu
  Status RunGrouped(GroupedWrite& self);

  int64_t Now() const { return clock->NowMillis(); }

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
  // Acknowledges a write at `lsn` as WriteOptions and the policy say; may start a checkpoint.
  Status Commit(uint64_t lsn, const WriteOptions& w) {
    if (!log || lsn == 0) return Status();
    Status s = log->Commit(lsn, Waits(w));
    if (static_cast<int64_t>(lsn) - checkpoint_lsn.load(std::memory_order_relaxed) >
        static_cast<int64_t>(std::min<uint64_t>(
            checkpoint_trigger_bytes.load(std::memory_order_relaxed), INT64_MAX))) {
      RequestCheckpoint();
    }
    return s;
  }
  // Whether a write acknowledges only once synced (a durable database, and `w.sync` or the
  // policy says so): such single writes run in write groups (RunGrouped).
  bool Waits(const WriteOptions& w) const {
    return log && w.sync.value_or(options.durability.sync == SyncPolicy::kAlways);
  }
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
  void RequestCheckpoint() {
    {
      std::lock_guard lock(ckpt_thread_mu);
      if (ckpt_requested || !checkpointer.joinable()) return;
      ckpt_requested = true;
    }
    ckpt_cv.notify_one();
  }
  void CheckpointLoop();
  Status Checkpoint();
  Status Recover();
  Status LoadCheckpoint(const std::string& name, uint64_t* segment);
  // Applies one decoded record's operations (recovery): no logging, no conflict rule.
  Status ApplyLogged(const std::vector<db_internal::LoggedOp>& ops);
  void UpdateCheckpointTrigger(uint64_t checkpoint_size) {
    const DurabilityOptions& d = options.durability;
    if (d.checkpoint_min_log_bytes == 0) return;
    const double by_ratio = d.checkpoint_log_ratio * static_cast<double>(checkpoint_size);
    checkpoint_trigger_bytes = std::max<uint64_t>(
        d.checkpoint_min_log_bytes,
        by_ratio >= 1.8e19 ? UINT64_MAX : static_cast<uint64_t>(by_ratio));
  }

  std::shared_ptr<Namespace> NewNamespace(const NamespaceOptions& o) const {
    auto ns = std::make_shared<Namespace>(o, options.block_rows);
    ns->build_hook = options.recluster_build_hook_for_testing;
    return ns;
  }
  std::shared_ptr<Namespace> Find(std::string_view name) const {
    std::shared_lock lock(ns_mu);
    auto it = namespaces.find(name);
    return it == namespaces.end() ? nullptr : it->second;
  }
  // A write's namespace, created with default options when missing (and the creation
  // logged; a failure of the log shows in the write's own append).
  std::shared_ptr<Namespace> FindOrCreate(std::string_view name) {
    if (auto ns = Find(name)) return ns;
    std::lock_guard change(ns_change_mu);
    std::unique_lock lock(ns_mu);
    auto it = namespaces.find(name);
    if (it != namespaces.end()) return it->second;
    auto ns = NewNamespace(NamespaceOptions{});
    if (log) {
      LogRecord(db_internal::kCreateNamespace, [&](std::vector<uint8_t>* out) {
        db_internal::EncodeNamespace(name, ns->options.coordinates, out);
      }).status().IgnoreError();
    }
    namespaces.emplace(std::string(name), ns);
    return ns;
  }
  Result<std::shared_ptr<Namespace>> Require(std::string_view name) const {
    LOCUS_RETURN_IF_ERROR(CheckName(name, "namespace", options.max_namespace_bytes));
    auto ns = Find(name);
    if (!ns) return NotFoundError("namespace '" + std::string(name) + "' does not exist");
    return ns;
  }

  // Validates a radius query's arguments and finds its namespace (defined below, beside
  // CheckRadius).
  Result<std::shared_ptr<Namespace>> RadiusTarget(std::string_view ns_name,
                                                  const Position& center, double radius,
                                                  const QueryOptions& options) const;

  // Query bodies shared by the queries around a point and those around an object, which
  // read the object and query under one hold of the shared lock (the lock is not recursive,
  // and a write in between could move the object). REQUIRES: ns->rw held shared; arguments
  // validated.
  QueryResult RadiusLocked(const Namespace* ns, const Position& center, double radius,
                           const QueryOptions& options, int64_t now) const;
  QueryResult NearestLocked(const Namespace* ns, const Position& center, size_t k,
                            const QueryOptions& options, int64_t now) const;
  // The objects within horizontal distance `radius` of center's x/y (lon/lat) with z in
  // [z_min, z_max], except the key `skip`, in index order; dist_sq is the horizontal distance
  // squared in index space (Namespace::Distance converts it). REQUIRES: not planar 2D.
  std::vector<engine::LiveIndex<3>::Hit> CylinderLocked(const Namespace* ns,
                                                        const Position& center, double radius,
                                                        double z_min, double z_max,
                                                        const QueryOptions& options,
                                                        int64_t now, uint32_t skip) const;
  // The key of the visible object `id`; NotFound when absent or expired.
  Result<uint32_t> AnchorLocked(const Namespace* ns, std::string_view ns_name,
                                std::string_view id, int64_t now) const;

  // The common case without building any message: true when CheckPosition would pass.
  static bool PositionOk(CoordinateSystem cs, const Position& p) {
    return cs == CoordinateSystem::kGeographic
               ? (p.x >= -180 && p.x <= 180 && p.y >= -90 && p.y <= 90 && std::isfinite(p.z))
               : (std::isfinite(p.x) && std::isfinite(p.y) && std::isfinite(p.z));
  }
  // The common case without building any message: true when CheckObject would pass.
  bool ObjectOk(CoordinateSystem cs, const Object& o) const {
    return PositionOk(cs, o.pos) && !o.id.empty() && o.id.size() <= options.max_id_bytes &&
           o.metadata.size() <= options.max_metadata_bytes && !(o.expires_at && o.ttl_ms) &&
           (!o.ttl_ms || (*o.ttl_ms > 0 && *o.ttl_ms <= engine::kNeverExpires / 4));
  }

  // Validates an upsert against the coordinate system it will be written with.
  Status CheckObject(CoordinateSystem cs, const Object& o, const std::string& field) const {
    LOCUS_RETURN_IF_ERROR(CheckName(o.id, (field + ".id").c_str(), options.max_id_bytes));
    LOCUS_RETURN_IF_ERROR(CheckPosition(cs, o.pos, field + ".pos"));
    if (o.metadata.size() > options.max_metadata_bytes) {
      return InvalidArgumentError(field + ".metadata: " + std::to_string(o.metadata.size()) +
                                  " bytes, at most " + std::to_string(options.max_metadata_bytes));
    }
    if (o.expires_at && o.ttl_ms) {
      return InvalidArgumentError(field + ": both expires_at and ttl_ms are set; choose one");
    }
    if (o.ttl_ms && *o.ttl_ms <= 0) {
      return InvalidArgumentError(field + ".ttl_ms = " + std::to_string(*o.ttl_ms) +
                                  ": must be > 0");
    }
    if (o.ttl_ms && *o.ttl_ms > engine::kNeverExpires / 4) {
      return InvalidArgumentError(field + ".ttl_ms = " + std::to_string(*o.ttl_ms) +
                                  ": too large");
    }
    return Status();
  }

  // Runs ns->Recluster on the maintenance thread (queued at most once per namespace), or
  // inline when DbOptions::background_recluster is off. REQUIRES: no lock of ns held.
  void RequestRecluster(const std::shared_ptr<Namespace>& ns) {
    if (recovering) return;  // Recover reclusters once at the end
    if (!options.background_recluster) {
      ns->Recluster();
      return;
    }
    if (ns->recluster_queued.exchange(true)) return;
    {
      std::lock_guard lock(recluster_mu);
      recluster_queue.push_back(ns);
    }
    recluster_cv.notify_one();
  }
  void ReclusterLoop() {
    std::unique_lock lock(recluster_mu);
    for (;;) {
      recluster_cv.wait(lock, [&] { return recluster_stopping || !recluster_queue.empty(); });
      if (recluster_stopping) break;
      std::shared_ptr<Namespace> ns = std::move(recluster_queue.front());
      recluster_queue.pop_front();
      lock.unlock();
      ns->recluster_queued = false;
      ns->Recluster();
      ns.reset();  // a dropped namespace is freed here
      lock.lock();
    }
  }

  void SweeperLoop() {
    std::unique_lock lock(sweep_mu);
    while (!stopping) {
      sweep_cv.wait_for(lock, std::chrono::milliseconds(options.sweep_interval_ms));
      if (stopping) break;
      lock.unlock();
      Sweep(options.sweep_batch);
      lock.lock();
    }
  }

  size_t Sweep(size_t max_per_namespace) {
    std::vector<std::pair<std::string, std::shared_ptr<Namespace>>> all;
    {
      std::shared_lock lock(ns_mu);
      for (auto& [name, ns] : namespaces) all.emplace_back(name, ns);
    }
    size_t total = 0;
    const int64_t now = Now();
    std::vector<uint32_t> removed;
    std::vector<std::string_view> ids;
    for (auto& [name, ns] : all) {
      std::lock_guard w(ns->writer);
      if (ns->dropped || (log && log->failed()) || closed) continue;
      std::unique_lock x(ns->rw);
      removed.clear();
      if (ns->two_d()) {
        ns->live2.SweepExpired(now, max_per_namespace, &removed);
      } else {
        ns->live3.SweepExpired(now, max_per_namespace, &removed);
      }
      if (log && !removed.empty()) {  // logged before the records are cleared
        ids.clear();
        for (uint32_t key : removed) ids.push_back(ns->records[key].id);
        const std::string& ns_name = name;  // clang < 16 cannot capture a structured binding
        LogRecord(db_internal::kExpire, [&](std::vector<uint8_t>* out) {
          db_internal::EncodeExpire(ns_name, ids, out);
        }).status().IgnoreError();
      }
      for (uint32_t key : removed) {  // the index already dropped the rows
        ns->Touch(key);
        ns->key_of_id.erase(ns->records[key].id);
        ClearRecord(&ns->records[key]);
        ns->free_keys.push_back(key);
      }
      ns->swept += removed.size();
      total += removed.size();
    }
    return total;
  }
};

// ---- durability: recovery, replay, checkpoints (docs/LOG_FORMAT.md) ----

namespace {
double Seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}
}  // namespace

Status Db::Impl::ApplyLogged(const std::vector<db_internal::LoggedOp>& ops) {
  using db_internal::LoggedOp;
  const int64_t now = Now();
  // Check every upsert first, so a record applies all or nothing. Only what the index
  // needs is checked: the limits on sizes may have changed since the write.
  for (size_t i = 0; i < ops.size(); ++i) {
    const LoggedOp& op = ops[i];
    if (op.kind != db_internal::kUpsert) continue;
    auto ns = Find(op.ns);
    if (!ns) {
      return CorruptionError("operation " + std::to_string(i) + ": upsert into namespace '" +
                             std::string(op.ns) + "', which does not exist");
    }
    if (!PositionOk(ns->options.coordinates, op.pos)) {
      Status s = CheckPosition(ns->options.coordinates, op.pos,
                               "operation " + std::to_string(i) + ".pos");
      return CorruptionError(s.message());
    }
  }
  for (const LoggedOp& op : ops) {
    switch (op.kind) {
      case db_internal::kCreateNamespace: {
        std::unique_lock lock(ns_mu);
        auto it = namespaces.find(op.ns);
        if (it == namespaces.end()) {
          namespaces.emplace(std::string(op.ns), NewNamespace({op.coordinates}));
        } else if (it->second->options.coordinates != op.coordinates) {
          return CorruptionError("namespace '" + std::string(op.ns) + "' is created with " +
                                 CoordinateSystemName(op.coordinates) + " coordinates but exists with " +
                                 CoordinateSystemName(it->second->options.coordinates));
        }
        break;
      }
      case db_internal::kDropNamespace: {
        std::unique_lock lock(ns_mu);
        auto it = namespaces.find(op.ns);
        if (it != namespaces.end()) {
          // Its own reference, so the namespace (and its mutex) outlives the guard: the
          // erase drops the map's, which during recovery is usually the last one.
          const std::shared_ptr<Namespace> ns = it->second;
          std::lock_guard w(ns->writer);
          ns->dropped = true;
          namespaces.erase(it);
        }
        break;
      }
      case db_internal::kUpsert: {
        auto ns = Find(op.ns);
        Object o;
        o.id = op.id;
        o.pos = op.pos;
        o.timestamp = op.timestamp;
        o.metadata = op.metadata;
        if (op.expires != engine::kNeverExpires) o.expires_at = op.expires;
        bool recluster;
        {
          std::lock_guard w(ns->writer);
          {
            std::unique_lock x(ns->rw);
            ns->UpsertLocked(o, now, nullptr, /*force=*/true);
          }
          recluster = ns->NeedsRecluster();
        }
        if (recluster) RequestRecluster(ns);
        break;
      }
      default: {  // kDelete (and each object of kExpire)
        auto ns = Find(op.ns);
        if (!ns) break;
        std::lock_guard w(ns->writer);
        std::unique_lock x(ns->rw);
        ns->DeleteLocked(op.id, now);
        break;
      }
    }
  }
  return Status();
}

Status Db::Impl::LoadCheckpoint(const std::string& name, uint64_t* segment) {
  const std::string path = dir + "/" + name;
  LOCUS_ASSIGN_OR_RETURN(auto bytes, fs->ReadFile(path));
  auto reader = db_internal::CheckpointReader::Open(bytes);
  if (!reader.ok()) {
    return CorruptionError("checkpoint " + path + ": " + std::string(reader.status().message()));
  }
  const auto& names = reader->namespaces();
  *segment = reader->segment();
  std::vector<std::shared_ptr<Namespace>> created;
  for (const auto& n : names) {
    if (n.name.empty() || namespaces.count(n.name)) {
      return CorruptionError("checkpoint " + path + ": namespace '" + n.name +
                             "' is empty or listed twice");
    }
    created.push_back(NewNamespace({n.coordinates}));
    namespaces.emplace(n.name, created.back());
    // The bulk path: records and the id map only, then one index build (IndexRecords).
    created.back()->defer_index = true;
  }
  if (created.size() == 1) {
    created[0]->key_of_id.reserve(reader->objects());
    created[0]->records.reserve(reader->objects());
  }
  const int64_t now = Now();
  Object o;
  Status s = reader->ForEach([&](const db_internal::CheckpointObject& co) -> Status {
    const CoordinateSystem cs = names[co.ns].coordinates;
    if (!PositionOk(cs, co.pos)) {  // the message only on failure
      Status bad = CheckPosition(cs, co.pos, "object '" + std::string(co.id) + "'.pos");
      return CorruptionError(bad.message());
    }
    o.id = co.id;
    o.pos = co.pos;
    o.timestamp = co.timestamp;
    o.metadata = co.metadata;
    o.expires_at.reset();
    if (co.expires != engine::kNeverExpires) o.expires_at = co.expires;
    created[co.ns]->UpsertLocked(o, now, nullptr, /*force=*/true);  // no other thread yet
    return Status();
  });
  if (!s.ok()) return CorruptionError("checkpoint " + path + ": " + std::string(s.message()));
  for (auto& ns : created) {
    std::lock_guard w(ns->writer);
    std::unique_lock x(ns->rw);
    ns->IndexRecords();
  }
  recovery.checkpoint = path;
  recovery.checkpoint_objects = reader->objects();
  UpdateCheckpointTrigger(bytes.size());
  checkpoint_bytes = bytes.size();
  return Status();
}

Status Db::Impl::Recover() {
  using SteadyClock = std::chrono::steady_clock;
  LOCUS_ASSIGN_OR_RETURN(auto names, fs->ListDir(dir));
  std::vector<uint64_t> segments, checkpoints;
  bool dir_changed = false;
  for (const std::string& n : names) {
    uint64_t seq;
    if (storage::ParseSegmentFileName(n, &seq)) {
      if (seq == 0 || seq >= (1ull << 48)) {
        return CorruptionError(dir + "/" + n + ": not a segment number this database writes");
      }
      segments.push_back(seq);
    } else if (db_internal::ParseCheckpointFileName(n, &seq)) {
      checkpoints.push_back(seq);
    } else if (n.size() > 4 && n.compare(n.size() - 4, 4, ".tmp") == 0) {
      LOCUS_RETURN_IF_ERROR(fs->Remove(dir + "/" + n));  // a checkpoint cut short
      dir_changed = true;
    }
  }
  std::sort(segments.begin(), segments.end());
  std::sort(checkpoints.begin(), checkpoints.end());
  uint64_t first = 1;  // the first segment to replay
  if (!checkpoints.empty()) {
    const auto t0 = SteadyClock::now();
    const std::string name = db_internal::CheckpointFileName(checkpoints.back());
    uint64_t segment = 0;
    LOCUS_RETURN_IF_ERROR(LoadCheckpoint(name, &segment));
    if (segment != checkpoints.back()) {
      return CorruptionError("checkpoint " + dir + "/" + name + " says it precedes segment " +
                             std::to_string(segment));
    }
    first = segment;
    recovery.checkpoint_seconds = Seconds(SteadyClock::now() - t0);
  }
  // What the last checkpoint replaced (it stopped before removing them).
  for (uint64_t seq : segments) {
    if (seq >= first) continue;
    LOCUS_RETURN_IF_ERROR(fs->Remove(dir + "/" + storage::SegmentFileName(seq)));
    dir_changed = true;
  }
  for (uint64_t seq : checkpoints) {
    if (seq >= first) continue;
    LOCUS_RETURN_IF_ERROR(fs->Remove(dir + "/" + db_internal::CheckpointFileName(seq)));
    dir_changed = true;
  }
  segments.erase(std::remove_if(segments.begin(), segments.end(),
                                [&](uint64_t s) { return s < first; }),
                 segments.end());
  for (size_t i = 0; i < segments.size(); ++i) {
    if (segments[i] != first + i) {
      return CorruptionError(dir + "/" + storage::SegmentFileName(first + i) +
                             " is missing (the log continues with " +
                             storage::SegmentFileName(segments[i]) + ")");
    }
  }
  // Replay.
  const auto t0 = SteadyClock::now();
  recovering = true;
  std::vector<db_internal::LoggedOp> ops;
  uint64_t tail_valid = 0;
  uint64_t kept_bytes = 0;
  for (size_t i = 0; i < segments.size(); ++i) {
    const std::string path = dir + "/" + storage::SegmentFileName(segments[i]);
    LOCUS_ASSIGN_OR_RETURN(auto bytes, fs->ReadFile(path));
    recovery.log_bytes += bytes.size();
    ++recovery.segments;
    const storage::ScanResult r = storage::ScanSegment(
        bytes, segments[i], [&](uint8_t type, std::span<const uint8_t> payload, uint64_t) {
          ops.clear();
          LOCUS_RETURN_IF_ERROR(db_internal::DecodeRecord(type, payload, &ops));
          LOCUS_RETURN_IF_ERROR(ApplyLogged(ops));
          recovery.operations += ops.size();
          return Status();
        });
    recovery.records += r.records;
    tail_valid = r.valid_bytes;
    kept_bytes += r.valid_bytes;
    if (r.end == storage::ScanEnd::kClean) continue;
    const bool last = i + 1 == segments.size();
    if (r.end == storage::ScanEnd::kTorn && last) {
      recovery.torn_tail = true;
      recovery.torn_file = path;
      recovery.torn_offset = r.valid_bytes;
      recovery.torn_bytes = bytes.size() - r.valid_bytes;
      LOCUS_RETURN_IF_ERROR(fs->Truncate(path, r.valid_bytes));
      break;
    }
    if (!options.durability.repair) {
      return CorruptionError(path + ": " + r.error +
                             (r.end == storage::ScanEnd::kTorn ? " (in a segment that is not the last)" : "") +
                             "; the log is damaged before its end (open with "
                             "DurabilityOptions::repair to cut it there, losing what follows)");
    }
    recovery.repaired = true;
    recovery.repaired_file = path;
    recovery.repaired_offset = r.valid_bytes;
    recovery.dropped_bytes = bytes.size() - r.valid_bytes;
    recovery.dropped_records = storage::CountRecordsAfter(bytes, r.valid_bytes);
    for (size_t j = i + 1; j < segments.size(); ++j) {
      const std::string later = dir + "/" + storage::SegmentFileName(segments[j]);
      LOCUS_ASSIGN_OR_RETURN(auto more, fs->ReadFile(later));
      recovery.dropped_bytes += more.size();
      recovery.dropped_records += storage::CountRecordsAfter(more, storage::kSegmentHeaderBytes);
      ++recovery.dropped_segments;
    }
    for (size_t j = segments.size(); j-- > i + 1;) {
      LOCUS_RETURN_IF_ERROR(fs->Remove(dir + "/" + storage::SegmentFileName(segments[j])));
      dir_changed = true;
    }
    // The later segments go, durably, before the cut: a crash in between must not leave the
    // cut segment followed by segments that continue after the records it dropped.
    if (dir_changed) {
      LOCUS_RETURN_IF_ERROR(fs->SyncDir(dir));
      dir_changed = false;
    }
    LOCUS_RETURN_IF_ERROR(fs->Truncate(path, r.valid_bytes));
    segments.resize(i + 1);
    break;
  }
  recovering = false;
  for (auto& [name, ns] : namespaces) {
    bool needs;
    {
      std::lock_guard w(ns->writer);
      needs = ns->NeedsRecluster();
    }
    if (needs) RequestRecluster(ns);
  }
  recovery.replay_seconds = Seconds(SteadyClock::now() - t0);
  recovery.records_per_second =
      recovery.replay_seconds > 0 ? recovery.records / recovery.replay_seconds : 0;
  if (dir_changed) LOCUS_RETURN_IF_ERROR(fs->SyncDir(dir));
  storage::LogOptions lo;
  const DurabilityOptions& d = options.durability;
  lo.policy = d.sync == SyncPolicy::kAlways        ? storage::LogOptions::Policy::kAlways
              : d.sync == SyncPolicy::kEverySecond ? storage::LogOptions::Policy::kInterval
                                                   : storage::LogOptions::Policy::kNever;
  lo.sync_kind = d.sync_mode == SyncMode::kFsync ? storage::SyncKind::kFull : storage::SyncKind::kData;
  lo.interval_ms = d.sync_interval_ms;
  lo.batch_size = d.sync_batch_size;
  const uint64_t seq = segments.empty() ? first : segments.back();
  LOCUS_ASSIGN_OR_RETURN(log, storage::Log::Open(fs, dir, seq, segments.empty() ? 0 : tail_valid, lo));
  checkpoint_lsn = -static_cast<int64_t>(kept_bytes);
  if (checkpoints.empty()) UpdateCheckpointTrigger(0);
  return Status();
}

Status Db::Impl::Checkpoint() {
  if (!log) return Status();
  LOCUS_RETURN_IF_ERROR(WritableCheck());
  using SteadyClock = std::chrono::steady_clock;
  std::lock_guard one(checkpoint_mu);
  const auto t0 = SteadyClock::now();
  auto step = [&](const char* name) -> Status {
    const auto& hook = options.durability.checkpoint_step_hook_for_testing;
    if (hook && !hook(name)) {
      return FailedPreconditionError(std::string("checkpoint stopped after step '") + name +
                                     "' by the test hook");
    }
    return Status();
  };
  // Sync first, so the roll (which syncs the segment it ends) holds the namespace lock briefly.
  LOCUS_RETURN_IF_ERROR(log->Sync());
  uint64_t segment;
  int64_t roll_lsn;
  std::vector<std::pair<std::string, std::shared_ptr<Namespace>>> list;
  {
    std::lock_guard change(ns_change_mu);
    LOCUS_ASSIGN_OR_RETURN(segment, log->Roll());
    roll_lsn = static_cast<int64_t>(log->lsn());
    std::shared_lock lock(ns_mu);
    for (auto& [name, ns] : namespaces) list.emplace_back(name, ns);
  }
  LOCUS_RETURN_IF_ERROR(step("rolled"));
  // Copy each namespace's objects, a few thousand keys per hold of its writer lock (queries
  // go on; writes wait at most one chunk). The copy is fuzzy: an object written after the
  // roll may be copied before or after that write (or twice, or not at all if its key moved),
  // but every such write is in segment K too, and replaying segment K over the copy gives
  // the state the log describes, because each logged operation sets or removes a whole
  // object (and namespace changes are ordered with the roll).
  db_internal::CheckpointBuilder builder;
  double pause_ms = 0;
  const int64_t now = Now();
  constexpr size_t kChunk = 4096;
  for (size_t i = 0; i < list.size(); ++i) {
    Namespace& ns = *list[i].second;
    builder.AddNamespace(list[i].first, ns.options.coordinates);
    for (size_t key = 0;;) {
      const auto locked = SteadyClock::now();
      std::lock_guard w(ns.writer);
      if (key == 0) builder.Reserve(ns.key_of_id.size());
      const size_t end = std::min(ns.records.size(), key + kChunk);
      for (; key < end; ++key) {
        const Record& r = ns.records[key];
        if (r.id.empty() || r.expires <= now) continue;
        builder.AddObject(static_cast<uint32_t>(i), r.id, r.pos, r.timestamp, r.expires,
                          r.metadata);
      }
      pause_ms = std::max(pause_ms, Seconds(SteadyClock::now() - locked) * 1e3);
      if (key >= ns.records.size()) break;
    }
  }
  list.clear();
  // The copy holds writes made after the roll, each namespace as of its own copy (a batch
  // over two namespaces may be in one copy and not the other): only replaying segment K
  // over it gives a consistent state. So every record appended so far (all that the copy
  // holds) must be durable before the checkpoint can be found; under kEverySecond and
  // kNever they may still be in the log's buffer.
  LOCUS_RETURN_IF_ERROR(log->Sync());
  LOCUS_RETURN_IF_ERROR(step("copied"));
  std::vector<uint8_t> bytes;
  LOCUS_RETURN_IF_ERROR(builder.Finish(segment, &bytes));
  builder = {};
  const std::string name = db_internal::CheckpointFileName(segment);
  const std::string path = dir + "/" + name;
  const std::string tmp = path + ".tmp";
  {
    LOCUS_ASSIGN_OR_RETURN(auto file, fs->OpenForAppend(tmp, /*truncate=*/true));
    LOCUS_RETURN_IF_ERROR(file->Append(bytes));
    LOCUS_RETURN_IF_ERROR(file->Sync(storage::SyncKind::kFull));
    LOCUS_RETURN_IF_ERROR(file->Close());
  }
  LOCUS_RETURN_IF_ERROR(step("written"));
  LOCUS_RETURN_IF_ERROR(fs->Rename(tmp, path));
  LOCUS_RETURN_IF_ERROR(fs->SyncDir(dir));
  LOCUS_RETURN_IF_ERROR(step("renamed"));
  // The checkpoint is durable: the segments and checkpoints before it are not needed.
  LOCUS_ASSIGN_OR_RETURN(auto names, fs->ListDir(dir));
  for (const std::string& n : names) {
    uint64_t seq;
    if ((storage::ParseSegmentFileName(n, &seq) || db_internal::ParseCheckpointFileName(n, &seq)) &&
        seq < segment) {
      LOCUS_RETURN_IF_ERROR(fs->Remove(dir + "/" + n));
    }
  }
  LOCUS_RETURN_IF_ERROR(fs->SyncDir(dir));
  LOCUS_RETURN_IF_ERROR(step("removed"));
  ++checkpoints;
  checkpoint_bytes = bytes.size();
  last_checkpoint_ms = Seconds(SteadyClock::now() - t0) * 1e3;
  last_checkpoint_pause_ms = pause_ms;
  checkpoint_lsn = roll_lsn;
  UpdateCheckpointTrigger(bytes.size());
  return Status();
}

void Db::Impl::CheckpointLoop() {
  std::unique_lock lock(ckpt_thread_mu);
  for (;;) {
    ckpt_cv.wait(lock, [&] { return ckpt_stopping || ckpt_requested; });
    if (ckpt_stopping) break;
    lock.unlock();
    // A failure leaves the previous checkpoint and the log as they were; the next trigger
    // tries again (a failure of the log itself stops writes, and so triggers).
    const bool ok = Checkpoint().ok();
    lock.lock();
    if (!ok) ckpt_cv.wait_for(lock, std::chrono::seconds(1), [&] { return ckpt_stopping; });
    ckpt_requested = false;
  }
}

Db::Db(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Db::~Db() { Close().IgnoreError(); }

Status Db::Close() {
  Impl& d = *impl_;
  if (d.closed.exchange(true)) return d.log ? d.log->failure() : Status();
  if (d.checkpointer.joinable()) {  // a checkpoint in progress finishes first
    {
      std::lock_guard lock(d.ckpt_thread_mu);
      d.ckpt_stopping = true;
    }
    d.ckpt_cv.notify_all();
    d.checkpointer.join();
  }
  if (d.sweeper.joinable()) {
    {
      std::lock_guard lock(d.sweep_mu);
      d.stopping = true;
    }
    d.sweep_cv.notify_all();
    d.sweeper.join();
  }
  if (d.reclusterer.joinable()) {  // a recluster in progress finishes first
    {
      std::lock_guard lock(d.recluster_mu);
      d.recluster_stopping = true;
    }
    d.recluster_cv.notify_all();
    d.reclusterer.join();
  }
  Status s;
  if (d.log) s = d.log->Close();
  d.dir_lock.reset();
  return s;
}

namespace {
Status CheckOptions(const DbOptions& options) {
  if (options.block_rows < 16 || options.block_rows > 65536 || options.block_rows % 16 != 0) {
    return InvalidArgumentError("options.block_rows = " + std::to_string(options.block_rows) +
                                ": must be a multiple of 16 in [16, 65536]");
  }
  if (options.sweep_interval_ms < 0) {
    return InvalidArgumentError("options.sweep_interval_ms = " +
                                std::to_string(options.sweep_interval_ms) + ": must be >= 0");
  }
  const DurabilityOptions& d = options.durability;
  if (static_cast<unsigned>(d.sync) > 2) {
    return InvalidArgumentError("options.durability.sync = " +
                                std::to_string(static_cast<int>(d.sync)) + ": not a SyncPolicy");
  }
  if (static_cast<unsigned>(d.sync_mode) > 1) {
    return InvalidArgumentError("options.durability.sync_mode = " +
                                std::to_string(static_cast<int>(d.sync_mode)) +
                                ": not a SyncMode");
  }
  if (d.sync_interval_ms < 1) {
    return InvalidArgumentError("options.durability.sync_interval_ms = " +
                                std::to_string(d.sync_interval_ms) + ": must be >= 1");
  }
  if (d.sync_batch_size < 1) {
    return InvalidArgumentError("options.durability.sync_batch_size = 0: must be >= 1");
  }
  if (!(d.checkpoint_log_ratio > 0) || !std::isfinite(d.checkpoint_log_ratio)) {
    return InvalidArgumentError("options.durability.checkpoint_log_ratio = " +
                                FormatNumber(d.checkpoint_log_ratio) +
                                ": must be finite and > 0");
  }
  return Status();
}
}  // namespace

Result<std::unique_ptr<Db>> Db::OpenInMemory(DbOptions options) {
  LOCUS_RETURN_IF_ERROR(CheckOptions(options));
  auto impl = std::make_unique<Impl>();
  impl->clock = options.clock ? options.clock : std::make_shared<SystemClock>();
  impl->options = std::move(options);
  std::unique_ptr<Db> db(new Db(std::move(impl)));
  if (db->impl_->options.background_recluster) {
    db->impl_->reclusterer = std::thread([d = db->impl_.get()] { d->ReclusterLoop(); });
  }
  if (db->impl_->options.sweep_interval_ms > 0) {
    db->impl_->sweeper = std::thread([d = db->impl_.get()] { d->SweeperLoop(); });
  }
  return db;
}

Result<std::unique_ptr<Db>> Db::Open(const std::string& directory, DbOptions options) {
  LOCUS_RETURN_IF_ERROR(CheckOptions(options));
  if (directory.empty()) return InvalidArgumentError("directory: empty path");
  auto impl = std::make_unique<Impl>();
  impl->clock = options.clock ? options.clock : std::make_shared<SystemClock>();
  impl->fs = options.durability.file_system ? options.durability.file_system
                                            : storage::DefaultFileSystem();
  impl->options = std::move(options);
  impl->dir = directory;
  while (impl->dir.size() > 1 && impl->dir.back() == '/') impl->dir.pop_back();
  LOCUS_RETURN_IF_ERROR(impl->fs->CreateDirs(impl->dir));
  LOCUS_ASSIGN_OR_RETURN(impl->dir_lock, impl->fs->LockFile(impl->dir + "/LOCK"));
  std::unique_ptr<Db> db(new Db(std::move(impl)));
  Impl& d = *db->impl_;
  if (d.options.background_recluster) {
    d.reclusterer = std::thread([p = &d] { p->ReclusterLoop(); });
  }
  LOCUS_RETURN_IF_ERROR(d.Recover());
  if (d.options.sweep_interval_ms > 0) {
    d.sweeper = std::thread([p = &d] { p->SweeperLoop(); });
  }
  if (d.options.durability.checkpoint_min_log_bytes > 0) {
    d.checkpointer = std::thread([p = &d] { p->CheckpointLoop(); });
  }
  return db;
}

Status Db::Sync() {
  if (!impl_->log) return Status();
  return impl_->log->Sync();
}

Status Db::Checkpoint() { return impl_->Checkpoint(); }

const RecoveryReport& Db::recovery() const { return impl_->recovery; }

DurabilityStats Db::durability_stats() const {
  DurabilityStats s;
  const Impl& d = *impl_;
  if (!d.log) return s;
  s.log_bytes = d.log->bytes_since_roll();
  s.records = d.log->records();
  s.syncs = d.log->syncs();
  {
    std::lock_guard lock(const_cast<Impl&>(d).checkpoint_mu);
    s.checkpoints = d.checkpoints;
    s.checkpoint_bytes = d.checkpoint_bytes;
    s.last_checkpoint_ms = d.last_checkpoint_ms;
    s.last_checkpoint_writer_pause_ms = d.last_checkpoint_pause_ms;
  }
  Status f = d.log->failure();
  if (!f.ok()) s.failure = std::string(f.message());
  return s;
}

std::string RecoveryReport::ToString() const {
  auto fixed = [](double v, int digits) {
    char b[64];
    std::snprintf(b, sizeof b, "%.*f", digits, v);
    return std::string(b);
  };
  std::string s = "recovered";
  if (!checkpoint.empty()) {
    s += " checkpoint " + checkpoint + " (" + std::to_string(checkpoint_objects) + " objects, " +
         fixed(checkpoint_seconds * 1e3, 1) + " ms) +";
  }
  s += " " + std::to_string(records) + " log records (" + std::to_string(operations) +
       " operations, " + std::to_string(log_bytes) + " bytes) from " + std::to_string(segments) +
       " segments in " + fixed(replay_seconds * 1e3, 1) + " ms (" +
       fixed(records_per_second, 0) + " records/s)";
  if (torn_tail) {
    s += "; torn tail cut off: " + std::to_string(torn_bytes) + " bytes at offset " +
         std::to_string(torn_offset) + " of " + torn_file;
  }
  if (repaired) {
    s += "; REPAIRED: dropped " + std::to_string(dropped_bytes) + " bytes (" +
         std::to_string(dropped_records) + " intact records, " +
         std::to_string(dropped_segments) + " later segments) from offset " +
         std::to_string(repaired_offset) + " of " + repaired_file;
  }
  return s;
}

Status Db::CreateNamespace(std::string_view name, const NamespaceOptions& options) {
  LOCUS_RETURN_IF_ERROR(CheckName(name, "namespace", impl_->options.max_namespace_bytes));
  if (static_cast<unsigned>(options.coordinates) > 2) {
    return InvalidArgumentError("options.coordinates = " +
                                std::to_string(static_cast<int>(options.coordinates)) +
                                ": not a CoordinateSystem");
  }
  LOCUS_RETURN_IF_ERROR(impl_->WritableCheck());
  uint64_t lsn = 0;
  {
    std::lock_guard change(impl_->ns_change_mu);
    std::unique_lock lock(impl_->ns_mu);
    auto it = impl_->namespaces.find(name);
    if (it != impl_->namespaces.end()) {
      if (it->second->options.coordinates == options.coordinates) return Status();
      return AlreadyExistsError("namespace '" + std::string(name) +
                                "' exists with coordinates " +
                                CoordinateSystemName(it->second->options.coordinates) + ", not " +
                                CoordinateSystemName(options.coordinates));
    }
    if (impl_->log) {
      LOCUS_ASSIGN_OR_RETURN(
          lsn, impl_->LogRecord(db_internal::kCreateNamespace, [&](std::vector<uint8_t>* out) {
            db_internal::EncodeNamespace(name, options.coordinates, out);
          }));
    }
    impl_->namespaces.emplace(std::string(name), impl_->NewNamespace(options));
  }
  return impl_->Commit(lsn, {});
}

std::vector<std::string> Db::ListNamespaces() const {
  std::shared_lock lock(impl_->ns_mu);
  std::vector<std::string> out;
  for (const auto& [name, ns] : impl_->namespaces) out.push_back(name);
  return out;
}

Status Db::DropNamespace(std::string_view name) {
  LOCUS_RETURN_IF_ERROR(CheckName(name, "namespace", impl_->options.max_namespace_bytes));
  LOCUS_RETURN_IF_ERROR(impl_->WritableCheck());
  uint64_t lsn = 0;
  {
    std::lock_guard change(impl_->ns_change_mu);
    std::unique_lock lock(impl_->ns_mu);
    auto it = impl_->namespaces.find(name);
    if (it == impl_->namespaces.end()) {
      return NotFoundError("namespace '" + std::string(name) + "' does not exist");
    }
    // Under the namespace's writer lock, so every write logged into it comes before the
    // drop in the log and none after (writers that find it dropped look it up again). `ns`
    // keeps the namespace (and so the mutex) alive until the guard has unlocked: the erase
    // below drops the map's reference, which may be the last one.
    const std::shared_ptr<Impl::Namespace> ns = it->second;
    std::lock_guard w(ns->writer);
    if (impl_->log) {
      LOCUS_ASSIGN_OR_RETURN(
          lsn, impl_->LogRecord(db_internal::kDropNamespace, [&](std::vector<uint8_t>* out) {
            db_internal::EncodeName(name, out);
          }));
    }
    ns->dropped = true;
    impl_->namespaces.erase(it);  // queries holding it finish on their own reference
  }
  return impl_->Commit(lsn, {});
}

// Single writes that wait for their sync run in write groups. Each writer queues its write;
// the first finds no leader and leads: it applies and logs every queued write in turn (its
// own among them), hands the lead to the first writer queued meanwhile (who applies the next
// group while this one syncs), syncs up to its group's last record, and wakes the group's
// writers (as a binary tree, see below). A writer thus sleeps once per write, until its write is applied and synced, where
// taking the namespace's writer lock itself put it to sleep a second time whenever many
// writers came at once (as every sync releases them together): on the 2-vCPU VM those lock
// handoffs were a fifth of the CPU time of 50 writers under kAlways.
Status Db::Impl::RunGrouped(GroupedWrite& self) {
  std::unique_lock lock(group_mu);
  group_queue.push_back(&self);
  if (group_leader) {
    lock.unlock();
    uint32_t state;
    while ((state = self.state.load(std::memory_order_acquire)) == GroupedWrite::kWaiting) {
      storage::FutexWait(&self.state, GroupedWrite::kWaiting);
    }
    if (state == GroupedWrite::kDone) {
      for (GroupedWrite* w : self.wakes) {
        if (w) WakeDone(w);
      }
      return self.status;
    }
    lock.lock();  // handed the lead: the queue holds this write and those after it
  }
  group_leader = true;
  thread_local std::vector<GroupedWrite*> group;
  group.clear();
  group.swap(group_queue);
  lock.unlock();
  uint64_t last = 0;
  for (GroupedWrite* w : group) {
    w->run(w->ctx);
    last = std::max(last, w->lsn);
  }
  GroupedWrite* next = nullptr;
  lock.lock();
  if (group_queue.empty()) group_leader = false;
  else next = group_queue.front();
  lock.unlock();
  if (next) {
    next->state.store(GroupedWrite::kLead, std::memory_order_release);
    storage::FutexWakeAll(&next->state);
  }
  // The log's gathering still applies: a sync this leader starts waits (briefly) for the
  // next group's records too. Without it (measured) two half-sized groups alternated, one
  // sync each, for 15% fewer writes per second.
  const Status synced = Commit(last, WriteOptions{.sync = true});
  // A write that logged nothing (stale, or a failed check) needed no sync.
  for (GroupedWrite* w : group) {
    if (w->status.ok() && w->lsn != 0) w->status = synced;
  }
  // The writers are woken as a binary tree: this thread wakes two, and each woken writer
  // wakes two more before it returns, so the wake-ups (a futex call and a context switch
  // each) run on every CPU instead of one after another here.
  std::erase(group, &self);
  const size_t n = group.size();
  for (size_t i = 0; i < n; ++i) {
    group[i]->wakes[0] = 2 * i + 2 < n ? group[2 * i + 2] : nullptr;
    group[i]->wakes[1] = 2 * i + 3 < n ? group[2 * i + 3] : nullptr;
  }
  const Status own = self.status;
  GroupedWrite* first[2] = {n > 0 ? group[0] : nullptr, n > 1 ? group[1] : nullptr};
  group.clear();
  for (GroupedWrite* w : first) {
    if (w) WakeDone(w);
  }
  return own;
}

Result<WriteOutcome> Db::Upsert(std::string_view ns_name, const Object& object,
                                const WriteOptions& write) {
  // The single-object path: no batch, and messages are built only on error.
  LOCUS_RETURN_IF_ERROR(CheckName(ns_name, "namespace", impl_->options.max_namespace_bytes));
  LOCUS_RETURN_IF_ERROR(impl_->WritableCheck());
  auto ns = impl_->Find(ns_name);
  const CoordinateSystem cs = ns ? ns->options.coordinates : NamespaceOptions{}.coordinates;
  if (!impl_->ObjectOk(cs, object)) return impl_->CheckObject(cs, object, "object");
  WriteOutcome out = WriteOutcome::kApplied;
  uint64_t lsn = 0;
  auto apply = [&]() -> Status {
    bool recluster;
    for (;;) {
      if (!ns) {
        ns = impl_->FindOrCreate(ns_name);
        // Created by another thread in between with other coordinates: validate against
        // those.
        if (ns->options.coordinates != cs && !impl_->ObjectOk(ns->options.coordinates, object)) {
          return impl_->CheckObject(ns->options.coordinates, object, "object");
        }
      }
      std::unique_lock w(ns->writer);
      if (ns->dropped) {  // dropped since we found it: find it again
        w.unlock();
        ns = nullptr;
        continue;
      }
      const int64_t now = impl_->Now();
      {
        std::unique_lock x(ns->rw);
        out = ns->UpsertLocked(object, now);
      }
      if (out == WriteOutcome::kApplied && impl_->log) {
        LOCUS_ASSIGN_OR_RETURN(
            lsn, impl_->LogRecord(db_internal::kUpsert, [&](std::vector<uint8_t>* buf) {
              db_internal::EncodeUpsert(ns_name, object, ExpiresOf(object, now), buf);
            }));
      }
      recluster = ns->NeedsRecluster();
      break;
    }
    if (recluster) impl_->RequestRecluster(ns);
    return Status();
  };
  if (impl_->Waits(write)) {
    LOCUS_RETURN_IF_ERROR(impl_->Grouped(apply, &lsn));
    return out;
  }
  LOCUS_RETURN_IF_ERROR(apply());
  LOCUS_RETURN_IF_ERROR(impl_->Commit(lsn, write));
  return out;
}

Status Db::Delete(std::string_view ns_name, std::string_view id, const WriteOptions& write) {
  LOCUS_RETURN_IF_ERROR(CheckName(id, "id", impl_->options.max_id_bytes));
  LOCUS_RETURN_IF_ERROR(impl_->WritableCheck());
  uint64_t lsn = 0;
  Impl::Namespace::Removed removed = Impl::Namespace::Removed::kNone;
  auto apply = [&]() -> Status {
    for (;;) {
      LOCUS_ASSIGN_OR_RETURN(auto ns, impl_->Require(ns_name));
      std::lock_guard w(ns->writer);
      if (ns->dropped) continue;
      std::unique_lock x(ns->rw);
      removed = ns->DeleteLocked(id, impl_->Now());
      if (removed != Impl::Namespace::Removed::kNone && impl_->log) {
        LOCUS_ASSIGN_OR_RETURN(
            lsn, impl_->LogRecord(db_internal::kDelete, [&](std::vector<uint8_t>* buf) {
              db_internal::EncodeDelete(ns_name, id, buf);
            }));
      }
      return Status();
    }
  };
  if (impl_->Waits(write)) {
    LOCUS_RETURN_IF_ERROR(impl_->Grouped(apply, &lsn));
  } else {
    LOCUS_RETURN_IF_ERROR(apply());
    LOCUS_RETURN_IF_ERROR(impl_->Commit(lsn, write));
  }
  if (removed != Impl::Namespace::Removed::kVisible) {
    return NotFoundError("namespace '" + std::string(ns_name) + "': no object '" +
                         std::string(id) + "'");
  }
  return Status();
}

Result<std::vector<WriteOutcome>> Db::Apply(const Batch& batch, const WriteOptions& write) {
  LOCUS_RETURN_IF_ERROR(impl_->WritableCheck());
  const std::vector<Batch::Op>& ops = batch.ops_;
  // 1. Validate everything against the coordinate system each op will be written with.
  //    Batches usually write one namespace: look it up once per run of equal names.
  std::string_view last_ns;
  CoordinateSystem last_cs = NamespaceOptions{}.coordinates;
  for (size_t i = 0; i < ops.size(); ++i) {
    const Batch::Op& op = ops[i];
    auto field = [i] { return "batch[" + std::to_string(i) + "]"; };
    if (op.ns.empty() || op.ns.size() > impl_->options.max_namespace_bytes) {
      return CheckName(op.ns, (field() + ".namespace").c_str(), impl_->options.max_namespace_bytes);
    }
    if (op.upsert) {
      if (i == 0 || op.ns != last_ns) {
        auto ns = impl_->Find(op.ns);
        last_ns = op.ns;
        last_cs = ns ? ns->options.coordinates : NamespaceOptions{}.coordinates;
      }
      if (!impl_->ObjectOk(last_cs, op.object)) return impl_->CheckObject(last_cs, op.object, field());
    } else {
      LOCUS_RETURN_IF_ERROR(
          CheckName(op.object.id, (field() + ".id").c_str(), impl_->options.max_id_bytes));
    }
  }
  if (impl_->options.batch_before_lock_hook_for_testing) {
    impl_->options.batch_before_lock_hook_for_testing();
  }
  // 2. Lock every namespace touched, in name order (writers first, then readers out). A
  //    namespace dropped between the lookup and the lock is looked up again.
  std::map<std::string_view, std::shared_ptr<Impl::Namespace>> touched;
  std::vector<Impl::Namespace*> target(ops.size());  // null: a delete in no namespace
  std::vector<std::unique_lock<std::mutex>> writers;
  for (;;) {
  touched.clear();
  for (size_t i = 0; i < ops.size(); ++i) {
    if (i > 0 && ops[i].ns == ops[i - 1].ns) {
      target[i] = target[i - 1];
      if (target[i] || !ops[i].upsert) continue;
    }
    auto it = touched.find(ops[i].ns);
    if (it == touched.end()) {
      auto ns = ops[i].upsert ? impl_->FindOrCreate(ops[i].ns) : impl_->Find(ops[i].ns);
      if (!ns) continue;
      it = touched.emplace(ops[i].ns, std::move(ns)).first;
    }
    target[i] = it->second.get();
  }
  for (auto& [name, ns] : touched) writers.emplace_back(ns->writer);
  bool dropped = false;
  for (auto& [name, ns] : touched) dropped |= ns->dropped;
  if (!dropped) break;
  writers.clear();
  }
  // The unit vectors of the geographic upserts, by one batch kernel call (before any lock):
  // converting them one at a time cost ~9% of a batched move (a dispatch and a padded
  // single-point pass each). Entries of other operations are unused.
  std::vector<std::array<double, 3>> units;
  if (ops.size() >= 16) {
    kernels::Column<double> lon(ops.size()), lat(ops.size()), ux(ops.size()), uy(ops.size()),
        uz(ops.size());
    size_t geo = 0;
    for (size_t i = 0; i < ops.size(); ++i) {
      const bool g = ops[i].upsert && target[i] && target[i]->geographic();
      lon[i] = g ? ops[i].object.pos.x : 0;
      lat[i] = g ? ops[i].object.pos.y : 0;
      geo += g;
    }
    if (geo > 0) {
      kernels::LonLatToUnit(lon.data(), lat.data(), ops.size(), ux.data(), uy.data(), uz.data());
      units.resize(ops.size());
      for (size_t i = 0; i < ops.size(); ++i) units[i] = {ux[i], uy[i], uz[i]};
    }
  }
  std::vector<std::unique_lock<RwLock>> exclusive;
  for (auto& [name, ns] : touched) exclusive.emplace_back(ns->rw);
  // Step 1 validated against the coordinates each namespace had then; another thread may
  // have dropped one and created it again with other coordinates before step 2 found it.
  // Check again against the namespaces now locked (a few compares per operation); nothing
  // is applied yet.
  for (size_t i = 0; i < ops.size(); ++i) {
    if (ops[i].upsert && !impl_->ObjectOk(target[i]->options.coordinates, ops[i].object)) {
      return impl_->CheckObject(target[i]->options.coordinates, ops[i].object,
                                "batch[" + std::to_string(i) + "]");
    }
  }
  Impl::Namespace* bulk = nullptr;
  if (touched.size() == 1 && ops.size() > 1024) {  // a bulk load: grow once
    auto& ns = touched.begin()->second;
    ns->key_of_id.reserve(ns->key_of_id.size() + ops.size());
    ns->records.reserve(ns->records.size() + ops.size());
    if (ns->key_of_id.empty() && !ns->recluster_running &&
        (ns->two_d() ? ns->live2.size() : ns->live3.size()) == 0) {
      bulk = ns.get();  // into an empty namespace: build the index once at the end
      bulk->defer_index = true;
    }
  }
  // 3. Apply, with a prefetch pipeline over groups of kGroup operations: a write makes ~4
  //    dependent cache misses (the id map's control bytes, its slot, the record and the key
  //    -> slot entry, the row's columns). While group g applies, group g + 1's rows, group
  //    g + 2's records and key -> slot entries (after looking up their keys: a tight loop of
  //    independent finds, whose misses overlap) and group g + 3's map probes are loading.
  //    (One operation at a time was slower: Abseil's prefetch fetches the probe group's first
  //    slot, not the matching one, so each lookahead find still stalled on its slot.) The
  //    hints never change state: an op ahead that an earlier op invalidates (a delete, a new
  //    id taking a freed key) only wastes its prefetch.
  const int64_t now = impl_->Now();
  std::vector<WriteOutcome> out;
  out.reserve(ops.size());
  // The log record: the operations that changed something, in order (one record, so a
  // replay applies all of them or none).
  thread_local std::vector<uint8_t> record;
  uint32_t logged = 0;
  if (impl_->log) {
    record.clear();
    db_internal::BeginBatch(&record);
  }
  constexpr size_t kGroup = 8;
  uint32_t ahead_key[4 * kGroup];  // the keys of groups g + 1 and g + 2 (ring of 4 groups)
  const size_t n = ops.size();
  auto probe = [&](size_t g) {
    for (size_t j = g * kGroup; j < std::min(n, (g + 1) * kGroup); ++j) {
      if (target[j]) target[j]->key_of_id.prefetch(Av(ops[j].object.id));
    }
  };
  auto find_keys = [&](size_t g) {
    for (size_t j = g * kGroup; j < std::min(n, (g + 1) * kGroup); ++j) {
      uint32_t& key = ahead_key[j % (4 * kGroup)];
      key = engine::kNoKey;
      if (!target[j]) continue;
      const Impl::Namespace& ns = *target[j];
      auto it = ns.key_of_id.find(Av(ops[j].object.id));
      if (it == ns.key_of_id.end()) continue;
      key = it->second;
      const char* record = reinterpret_cast<const char*>(&ns.records[key]);
      __builtin_prefetch(record, 1);
      __builtin_prefetch(record + 63, 1);  // a record may straddle two lines
      if (ns.two_d()) ns.live2.PrefetchKey(key);
      else ns.live3.PrefetchKey(key);
    }
  };
  auto prefetch_rows = [&](size_t g) {
    for (size_t j = g * kGroup; j < std::min(n, (g + 1) * kGroup); ++j) {
      const uint32_t key = ahead_key[j % (4 * kGroup)];
      if (!target[j] || key == engine::kNoKey) continue;
      if (target[j]->two_d()) target[j]->live2.PrefetchRow(key);
      else target[j]->live3.PrefetchRow(key);
    }
  };
  const bool pipeline = n >= 64;
  const size_t groups = (n + kGroup - 1) / kGroup;
  if (pipeline) {
    for (size_t g = 0; g < 3; ++g) probe(g);
    find_keys(0);
    find_keys(1);
    prefetch_rows(0);
  }
  for (size_t g = 0; g < groups; ++g) {
    if (pipeline) {
      if (g + 3 < groups) probe(g + 3);
      if (g + 2 < groups) find_keys(g + 2);
      if (g + 1 < groups) prefetch_rows(g + 1);
    }
    for (size_t i = g * kGroup; i < std::min(n, (g + 1) * kGroup); ++i) {
      const Batch::Op& op = ops[i];
      if (op.upsert) {
        out.push_back(
            target[i]->UpsertLocked(op.object, now, units.empty() ? nullptr : &units[i]));
        if (impl_->log && out.back() == WriteOutcome::kApplied) {
          db_internal::BatchUpsert(op.ns, op.object, ExpiresOf(op.object, now), &record);
          ++logged;
        }
      } else {
        if (target[i] && target[i]->DeleteLocked(op.object.id, now) !=
                             Impl::Namespace::Removed::kNone &&
            impl_->log) {
          db_internal::BatchDelete(op.ns, op.object.id, &record);
          ++logged;
        }
        out.push_back(WriteOutcome::kApplied);
      }
    }
  }
  if (bulk) bulk->IndexRecords();
  exclusive.clear();
  uint64_t lsn = 0;
  Status log_status;
  if (logged > 0) {
    db_internal::EndBatch(logged, &record);
    auto appended = impl_->log->Append(db_internal::kBatch, record);
    if (appended.ok()) lsn = *appended;
    else log_status = appended.status();
    if (record.capacity() > (size_t{16} << 20)) std::vector<uint8_t>().swap(record);
  }
  std::vector<std::shared_ptr<Impl::Namespace>> recluster;
  for (auto& [name, ns] : touched) {
    if (ns->NeedsRecluster()) recluster.push_back(ns);
  }
  writers.clear();
  for (auto& ns : recluster) impl_->RequestRecluster(ns);
  LOCUS_RETURN_IF_ERROR(log_status);
  LOCUS_RETURN_IF_ERROR(impl_->Commit(lsn, write));
  return out;
}

Result<Object> Db::Get(std::string_view ns_name, std::string_view id) const {
  LOCUS_RETURN_IF_ERROR(CheckName(id, "id", impl_->options.max_id_bytes));
  LOCUS_ASSIGN_OR_RETURN(auto ns, impl_->Require(ns_name));
  std::shared_lock r(ns->rw);
  auto it = ns->key_of_id.find(Av(id));
  if (it == ns->key_of_id.end() || ns->records[it->second].expires <= impl_->Now()) {
    return NotFoundError("namespace '" + std::string(ns_name) + "': no object '" +
                         std::string(id) + "'");
  }
  const Record& rec = ns->records[it->second];
  Object o;
  o.id = rec.id;
  o.pos = rec.pos;
  o.timestamp = rec.timestamp;
  o.metadata = rec.metadata;
  if (rec.expires != engine::kNeverExpires) o.expires_at = rec.expires;
  return o;
}

namespace {
Status CheckRadius(double radius) {
  if (!(std::isfinite(radius) && radius >= 0)) {
    return InvalidArgumentError("radius = " + FormatNumber(radius) + ": must be finite and >= 0");
  }
  return Status();
}
}  // namespace

Result<std::shared_ptr<Db::Impl::Namespace>> Db::Impl::RadiusTarget(
    std::string_view ns_name, const Position& center, double radius,
    const QueryOptions& options) const {
  LOCUS_RETURN_IF_ERROR(CheckQuery(options));
  LOCUS_RETURN_IF_ERROR(CheckRadius(radius));
  LOCUS_ASSIGN_OR_RETURN(auto ns, Require(ns_name));
  LOCUS_RETURN_IF_ERROR(CheckPosition(ns->options.coordinates, center, "center"));
  return ns;
}

Result<QueryResult> Db::WithinRadius(std::string_view ns_name, const Position& center,
                                     double radius, const QueryOptions& options) const {
  LOCUS_ASSIGN_OR_RETURN(auto ns, impl_->RadiusTarget(ns_name, center, radius, options));
  std::shared_lock r(ns->rw);
  return impl_->RadiusLocked(ns.get(), center, radius, options, impl_->Now());
}

QueryResult Db::Impl::RadiusLocked(const Namespace* ns, const Position& center, double radius,
                                   const QueryOptions& options, int64_t now) const {
  const double radius_sq = ns->IndexRadiusSq(radius);
  QueryResult out;
  if (ns->two_d()) {
    std::vector<engine::LiveIndex<2>::Hit> hits;
    ns->live2.Radius({center.x, center.y}, radius_sq, WindowOf(options), now, options.limit,
                     &hits, &out.truncated);
    for (const auto& h : hits) {
      out.hits.push_back(ns->MakeHit(h.key, ns->Distance(h.dist_sq), options.with_metadata));
    }
  } else {
    std::vector<engine::LiveIndex<3>::Hit> hits;
    ns->live3.Radius(ns->Point3(center), radius_sq, WindowOf(options), now, options.limit,
                     &hits, &out.truncated);
    for (const auto& h : hits) {
      out.hits.push_back(ns->MakeHit(h.key, ns->Distance(h.dist_sq), options.with_metadata));
    }
  }
  return out;
}

Result<size_t> Db::CountWithinRadius(std::string_view ns_name, const Position& center,
                                     double radius, const QueryOptions& options) const {
  LOCUS_ASSIGN_OR_RETURN(auto ns, impl_->RadiusTarget(ns_name, center, radius, options));
  std::shared_lock r(ns->rw);
  const int64_t now = impl_->Now();
  const double radius_sq = ns->IndexRadiusSq(radius);
  if (ns->two_d()) {
    return ns->live2.CountRadius({center.x, center.y}, radius_sq, WindowOf(options), now);
  }
  return ns->live3.CountRadius(ns->Point3(center), radius_sq, WindowOf(options), now);
}

namespace {
Status CheckBox(CoordinateSystem cs, const Position& min, const Position& max) {
  LOCUS_RETURN_IF_ERROR(CheckPosition(cs, min, "min"));
  LOCUS_RETURN_IF_ERROR(CheckPosition(cs, max, "max"));
  const bool geo = cs == CoordinateSystem::kGeographic;
  const char* names[3] = {geo ? "lon" : "x", geo ? "lat" : "y", "z"};
  const double lo[3] = {min.x, min.y, min.z}, hi[3] = {max.x, max.y, max.z};
  const int axes = cs == CoordinateSystem::kPlanar3D ? 3 : 2;
  for (int a = geo ? 1 : 0; a < axes; ++a) {  // geographic: west > east crosses the antimeridian
    if (lo[a] > hi[a]) {
      return InvalidArgumentError(std::string("min.") + names[a] + " = " + FormatNumber(lo[a]) +
                                  " > max." + names[a] + " = " + FormatNumber(hi[a]) + ": box is crossed");
    }
  }
  return Status();
}
}  // namespace

Result<QueryResult> Db::InBox(std::string_view ns_name, const Position& min, const Position& max,
                              const QueryOptions& options) const {
  LOCUS_RETURN_IF_ERROR(CheckQuery(options));
  LOCUS_ASSIGN_OR_RETURN(auto ns, impl_->Require(ns_name));
  LOCUS_RETURN_IF_ERROR(CheckBox(ns->options.coordinates, min, max));
  std::shared_lock r(ns->rw);
  const int64_t now = impl_->Now();
  const engine::TimeWindow w = WindowOf(options);
  QueryResult out;
  std::vector<uint32_t> keys;
  if (ns->two_d()) {
    ns->live2.InBox({min.x, min.y}, {max.x, max.y}, w, now, options.limit, &keys, &out.truncated);
  } else if (!ns->geographic()) {
    ns->live3.InBox({min.x, min.y, min.z}, {max.x, max.y, max.z}, w, now, options.limit, &keys,
                    &out.truncated);
  } else {
    // Each lon range (two across the antimeridian) as a 3D box around its piece of sphere,
    // then the exact lon/lat test on the stored positions.
    const double s = min.y, n = max.y;
    std::vector<std::pair<double, double>> lons;
    if (min.x <= max.x) lons.emplace_back(min.x, max.x);
    else lons = {{min.x, 180.0}, {-180.0, max.x}};
    std::vector<uint32_t> candidates;
    bool unused;
    for (const auto& [west, east] : lons) {
      std::array<double, 3> lo, hi;
      SphereBox(west, east, s, n, &lo, &hi);
      ns->live3.InBox(lo, hi, w, now, SIZE_MAX, &candidates, &unused);
      for (uint32_t key : candidates) {
        const Position& p = ns->records[key].pos;
        if (p.y >= s && p.y <= n && p.x >= west && p.x <= east) {
          if (keys.size() >= options.limit) {
            out.truncated = true;
            break;
          }
          keys.push_back(key);
        }
      }
      if (out.truncated) break;
    }
  }
  for (uint32_t key : keys) out.hits.push_back(ns->MakeHit(key, 0, options.with_metadata));
  return out;
}

Result<size_t> Db::CountInBox(std::string_view ns_name, const Position& min, const Position& max,
                              const QueryOptions& options) const {
  LOCUS_ASSIGN_OR_RETURN(auto ns, impl_->Require(ns_name));
  if (ns->geographic()) {  // needs the exact refinement: count the hits
    QueryOptions all = options;
    all.limit = SIZE_MAX;
    all.with_metadata = false;
    LOCUS_ASSIGN_OR_RETURN(QueryResult r, InBox(ns_name, min, max, all));
    return r.hits.size();
  }
  LOCUS_RETURN_IF_ERROR(CheckQuery(options));
  LOCUS_RETURN_IF_ERROR(CheckBox(ns->options.coordinates, min, max));
  std::shared_lock r(ns->rw);
  const int64_t now = impl_->Now();
  if (ns->two_d()) {
    return ns->live2.CountBox({min.x, min.y}, {max.x, max.y}, WindowOf(options), now);
  }
  return ns->live3.CountBox({min.x, min.y, min.z}, {max.x, max.y, max.z}, WindowOf(options), now);
}

Result<QueryResult> Db::Nearest(std::string_view ns_name, const Position& center, size_t k,
                                const QueryOptions& options) const {
  LOCUS_RETURN_IF_ERROR(CheckQuery(options));
  if (k == 0) return InvalidArgumentError("k = 0: must be > 0");
  LOCUS_ASSIGN_OR_RETURN(auto ns, impl_->Require(ns_name));
  LOCUS_RETURN_IF_ERROR(CheckPosition(ns->options.coordinates, center, "center"));
  std::shared_lock r(ns->rw);
  return impl_->NearestLocked(ns.get(), center, k, options, impl_->Now());
}

QueryResult Db::Impl::NearestLocked(const Namespace* ns, const Position& center, size_t k,
                                    const QueryOptions& options, int64_t now) const {
  const size_t want = std::min(k, options.limit);
  QueryResult out;
  constexpr double kInf = std::numeric_limits<double>::infinity();
  if (ns->two_d()) {
    std::vector<engine::LiveIndex<2>::Hit> hits;
    ns->live2.Nearest({center.x, center.y}, want, kInf, WindowOf(options), now, &hits);
    for (const auto& h : hits) {
      out.hits.push_back(ns->MakeHit(h.key, std::sqrt(h.dist_sq), options.with_metadata));
    }
  } else {
    std::vector<engine::LiveIndex<3>::Hit> hits;
    ns->live3.Nearest(ns->Point3(center), want, kInf, WindowOf(options), now, &hits);
    for (const auto& h : hits) {
      out.hits.push_back(ns->MakeHit(h.key, ns->Distance(h.dist_sq), options.with_metadata));
    }
  }
  out.truncated = want < k && out.hits.size() == want;
  return out;
}

Result<QueryResult> Db::WithinPolygon(std::string_view ns_name,
                                      const std::vector<std::vector<Position>>& rings,
                                      const QueryOptions& options) const {
  LOCUS_RETURN_IF_ERROR(CheckQuery(options));
  LOCUS_ASSIGN_OR_RETURN(auto ns, impl_->Require(ns_name));
  std::vector<std::vector<Point2>> r2(rings.size());
  for (size_t i = 0; i < rings.size(); ++i) {
    for (size_t j = 0; j < rings[i].size(); ++j) {
      const Position& p = rings[i][j];
      LOCUS_RETURN_IF_ERROR(CheckPosition(ns->options.coordinates, p,
                                          "rings[" + std::to_string(i) + "][" +
                                              std::to_string(j) + "]"));
      r2[i].push_back({p.x, p.y});
    }
  }
  LOCUS_ASSIGN_OR_RETURN(engine::Polygon polygon, engine::Polygon::Make(std::move(r2)));
  // The polygon's bounding box, then the exact test on the stored positions.
  const Box2& b = polygon.bounds();
  Position lo{b.min.x, b.min.y, -std::numeric_limits<double>::max()};
  Position hi{b.max.x, b.max.y, std::numeric_limits<double>::max()};
  if (ns->geographic()) lo.z = hi.z = 0;
  QueryOptions all = options;
  all.limit = SIZE_MAX;
  LOCUS_ASSIGN_OR_RETURN(QueryResult candidates, InBox(ns_name, lo, hi, all));
  QueryResult out;
  for (Hit& h : candidates.hits) {
    if (!polygon.Contains({h.pos.x, h.pos.y})) continue;
    if (out.hits.size() >= options.limit) {
      out.truncated = true;
      break;
    }
    out.hits.push_back(std::move(h));
  }
  return out;
}

Result<size_t> Db::CountWithinPolygon(std::string_view ns_name,
                                      const std::vector<std::vector<Position>>& rings,
                                      const QueryOptions& options) const {
  LOCUS_RETURN_IF_ERROR(CheckQuery(options));
  QueryOptions all = options;  // the exact test needs the stored positions: count the hits
  all.limit = SIZE_MAX;
  all.with_metadata = false;
  LOCUS_ASSIGN_OR_RETURN(QueryResult r, WithinPolygon(ns_name, rings, all));
  return r.hits.size();
}

// ---- Cylinders and queries around an object ----

namespace {
Status CheckBand(double lo, double hi, const char* lo_name, const char* hi_name) {
  if (!std::isfinite(lo)) {
    return InvalidArgumentError(std::string(lo_name) + " = " + FormatNumber(lo) + ": not finite");
  }
  if (!std::isfinite(hi)) {
    return InvalidArgumentError(std::string(hi_name) + " = " + FormatNumber(hi) + ": not finite");
  }
  if (lo > hi) {
    return InvalidArgumentError(std::string(lo_name) + " = " + FormatNumber(lo) + " > " +
                                hi_name + " = " + FormatNumber(hi) + ": the band is empty");
  }
  return Status();
}

// Cylinders band the z axis: planar 2D namespaces have none.
Status CheckHasZ(std::string_view ns_name, CoordinateSystem cs) {
  if (cs != CoordinateSystem::kPlanar2D) return Status();
  return InvalidArgumentError("namespace '" + std::string(ns_name) + "' is " +
                              CoordinateSystemName(cs) +
                              ": a cylinder needs a z axis (planar3d or geographic)");
}

// The hits of a cylinder scan (index order) as a query result: the first `limit`.
template <class NsPtr>
QueryResult CylinderResult(const NsPtr& ns, const std::vector<engine::LiveIndex<3>::Hit>& hits,
                           const QueryOptions& options) {
  QueryResult out;
  for (const auto& h : hits) {
    if (out.hits.size() >= options.limit) {
      out.truncated = true;
      break;
    }
    out.hits.push_back(ns->MakeHit(h.key, ns->Distance(h.dist_sq), options.with_metadata));
  }
  return out;
}

// Runs a cylinder query after validating it: around `center` with the band [lo, hi], or,
// when `id` is given, around that object's position with the band relative to its z (the
// object read under the same shared hold, and left out unless include_self). `finish(ns,
// hits)` runs under the hold too, so hits can be turned into results.
template <class R, class ImplT, class F>
Result<R> CylinderQuery(const ImplT& impl, std::string_view ns_name, const Position* center,
                        std::string_view id, double radius, double lo, double hi,
                        const QueryOptions& options, F&& finish) {
  LOCUS_RETURN_IF_ERROR(CheckQuery(options));
  LOCUS_RETURN_IF_ERROR(CheckRadius(radius));
  LOCUS_RETURN_IF_ERROR(center ? CheckBand(lo, hi, "z_min", "z_max")
                               : CheckBand(lo, hi, "dz_min", "dz_max"));
  if (!center) LOCUS_RETURN_IF_ERROR(CheckName(id, "id", impl.options.max_id_bytes));
  LOCUS_ASSIGN_OR_RETURN(auto ns, impl.Require(ns_name));
  LOCUS_RETURN_IF_ERROR(CheckHasZ(ns_name, ns->options.coordinates));
  if (center) LOCUS_RETURN_IF_ERROR(CheckPosition(ns->options.coordinates, *center, "center"));
  std::shared_lock r(ns->rw);
  const int64_t now = impl.Now();
  if (center) {
    return finish(ns, impl.CylinderLocked(ns.get(), *center, radius, lo, hi, options, now,
                                          engine::kNoKey));
  }
  LOCUS_ASSIGN_OR_RETURN(const uint32_t key, impl.AnchorLocked(ns.get(), ns_name, id, now));
  const Position c = ns->records[key].pos;
  return finish(ns, impl.CylinderLocked(ns.get(), c, radius, c.z + lo, c.z + hi, options, now,
                                        options.include_self ? engine::kNoKey : key));
}

size_t PlusOne(size_t n) { return n == SIZE_MAX ? n : n + 1; }

// A query around object `id` that excluded nothing and asked for limit + 1 hits (so that the
// object itself, which it may have found, takes no place): drops the object, then applies
// `limit`. `truncated` stays right: more than limit + 1 matches leave more than `limit` others.
void DropSelf(QueryResult* r, std::string_view id, size_t limit) {
  auto self = std::find_if(r->hits.begin(), r->hits.end(),
                           [&](const Hit& h) { return h.id == id; });
  if (self != r->hits.end()) r->hits.erase(self);
  if (r->hits.size() > limit) {
    r->hits.resize(limit);
    r->truncated = true;
  }
}
}  // namespace

std::vector<engine::LiveIndex<3>::Hit> Db::Impl::CylinderLocked(
    const Namespace* ns, const Position& center, double radius, double z_min, double z_max,
    const QueryOptions& options, int64_t now, uint32_t skip) const {
  std::vector<engine::LiveIndex<3>::Hit> hits;
  bool unused;
  if (ns->geographic()) {
    // The index holds unit vectors, not altitudes: the great-circle radius scan, then the
    // band on the stored altitudes.
    ns->live3.Radius(ns->Point3(center), ns->IndexRadiusSq(radius), WindowOf(options), now,
                     SIZE_MAX, &hits, &unused);
    std::erase_if(hits, [&](const engine::LiveIndex<3>::Hit& h) {
      const double z = ns->records[h.key].pos.z;
      return h.key == skip || !(z >= z_min && z <= z_max);
    });
    return hits;
  }
  // Planar 3D: the index's box around the cylinder (the band exact on z), then the exact x/y
  // distance. The box is padded past center +- radius by more than the rounding of those
  // sums and of the distance test (a few ulps, and sqrt(DBL_MIN) for squares that underflow),
  // so that it never drops a point the test would accept.
  constexpr double kEps = std::numeric_limits<double>::epsilon();
  const double reach = radius +
                       8 * kEps * (std::max(std::abs(center.x), std::abs(center.y)) + radius) +
                       2 * std::sqrt(std::numeric_limits<double>::min());
  std::vector<uint32_t> keys;
  ns->live3.InBox({center.x - reach, center.y - reach, z_min},
                  {center.x + reach, center.y + reach, z_max}, WindowOf(options), now, SIZE_MAX,
                  &keys, &unused);
  const double radius_sq = radius * radius;
  for (uint32_t key : keys) {
    if (key == skip) continue;
    const Position& p = ns->records[key].pos;
    const double dx = p.x - center.x, dy = p.y - center.y;
    const double dist_sq = dx * dx + dy * dy;
    if (dist_sq <= radius_sq) hits.push_back({key, dist_sq});
  }
  return hits;
}

Result<uint32_t> Db::Impl::AnchorLocked(const Namespace* ns, std::string_view ns_name,
                                        std::string_view id, int64_t now) const {
  auto it = ns->key_of_id.find(Av(id));
  if (it == ns->key_of_id.end() || ns->records[it->second].expires <= now) {
    return NotFoundError("namespace '" + std::string(ns_name) + "': no object '" +
                         std::string(id) + "'");
  }
  return it->second;
}

namespace {
// Runs a query around object `id` (after the caller's own argument checks): finds the
// namespace, takes the shared hold, reads the object (NotFound when absent or expired) and
// calls finish(ns, key, now) under the same hold.
template <class R, class ImplT, class F>
Result<R> AroundObject(const ImplT& impl, std::string_view ns_name, std::string_view id,
                       F&& finish) {
  LOCUS_RETURN_IF_ERROR(CheckName(id, "id", impl.options.max_id_bytes));
  LOCUS_ASSIGN_OR_RETURN(auto ns, impl.Require(ns_name));
  std::shared_lock r(ns->rw);
  const int64_t now = impl.Now();
  LOCUS_ASSIGN_OR_RETURN(const uint32_t key, impl.AnchorLocked(ns.get(), ns_name, id, now));
  return finish(*ns, key, now);
}
}  // namespace

Result<QueryResult> Db::WithinRadiusOf(std::string_view ns_name, std::string_view id,
                                       double radius, const QueryOptions& options) const {
  LOCUS_RETURN_IF_ERROR(CheckQuery(options));
  LOCUS_RETURN_IF_ERROR(CheckRadius(radius));
  return AroundObject<QueryResult>(*impl_, ns_name, id, [&](const auto& ns, uint32_t key,
                                                            int64_t now) {
    const Position center = ns.records[key].pos;
    if (options.include_self) return impl_->RadiusLocked(&ns, center, radius, options, now);
    QueryOptions more = options;
    more.limit = PlusOne(options.limit);
    QueryResult out = impl_->RadiusLocked(&ns, center, radius, more, now);
    DropSelf(&out, id, options.limit);
    return out;
  });
}

Result<size_t> Db::CountWithinRadiusOf(std::string_view ns_name, std::string_view id,
                                       double radius, const QueryOptions& options) const {
  LOCUS_RETURN_IF_ERROR(CheckQuery(options));
  LOCUS_RETURN_IF_ERROR(CheckRadius(radius));
  return AroundObject<size_t>(*impl_, ns_name, id, [&](const auto& ns, uint32_t key,
                                                       int64_t now) {
    const Record& anchor = ns.records[key];
    const Position& c = anchor.pos;
    const double radius_sq = ns.IndexRadiusSq(radius);
    const engine::TimeWindow w = WindowOf(options);
    size_t n = ns.two_d() ? ns.live2.CountRadius({c.x, c.y}, radius_sq, w, now)
                          : ns.live3.CountRadius(ns.Point3(c), radius_sq, w, now);
    // The object is at distance 0 from its own (identically indexed) position: it was
    // counted exactly when the time filter passes it.
    const bool self_counted = anchor.timestamp >= w.t_min && anchor.timestamp <= w.t_max;
    if (!options.include_self && self_counted && n > 0) --n;
    return n;
  });
}

Result<QueryResult> Db::NearestTo(std::string_view ns_name, std::string_view id, size_t k,
                                  const QueryOptions& options) const {
  LOCUS_RETURN_IF_ERROR(CheckQuery(options));
  if (k == 0) return InvalidArgumentError("k = 0: must be > 0");
  return AroundObject<QueryResult>(*impl_, ns_name, id, [&](const auto& ns, uint32_t key,
                                                            int64_t now) {
    const Position center = ns.records[key].pos;
    if (options.include_self) return impl_->NearestLocked(&ns, center, k, options, now);
    // One more neighbour, then drop the object itself if it is among them (it may not be
    // when the time filter excludes it, or other objects share its position), else the
    // farthest.
    QueryOptions more = options;
    more.limit = PlusOne(options.limit);
    QueryResult out = impl_->NearestLocked(&ns, center, PlusOne(k), more, now);
    auto self = std::find_if(out.hits.begin(), out.hits.end(),
                             [&](const Hit& h) { return h.id == id; });
    if (self != out.hits.end()) out.hits.erase(self);
    const size_t want = std::min(k, options.limit);
    if (out.hits.size() > want) out.hits.resize(want);
    out.truncated = want < k && out.hits.size() == want;  // as Nearest
    return out;
  });
}



Result<QueryResult> Db::WithinCylinder(std::string_view ns_name, const Position& center,
                                       double radius, double z_min, double z_max,
                                       const QueryOptions& options) const {
  return CylinderQuery<QueryResult>(*impl_, ns_name, &center, {}, radius, z_min, z_max, options,
                                    [&](const auto& ns, const auto& hits) {
                                      return CylinderResult(ns, hits, options);
                                    });
}

Result<size_t> Db::CountWithinCylinder(std::string_view ns_name, const Position& center,
                                       double radius, double z_min, double z_max,
                                       const QueryOptions& options) const {
  return CylinderQuery<size_t>(*impl_, ns_name, &center, {}, radius, z_min, z_max, options,
                               [](const auto&, const auto& hits) { return hits.size(); });
}

Result<QueryResult> Db::WithinCylinderOf(std::string_view ns_name, std::string_view id,
                                         double radius, double dz_min, double dz_max,
                                         const QueryOptions& options) const {
  return CylinderQuery<QueryResult>(*impl_, ns_name, nullptr, id, radius, dz_min, dz_max,
                                    options, [&](const auto& ns, const auto& hits) {
                                      return CylinderResult(ns, hits, options);
                                    });
}

Result<size_t> Db::CountWithinCylinderOf(std::string_view ns_name, std::string_view id,
                                         double radius, double dz_min, double dz_max,
                                         const QueryOptions& options) const {
  return CylinderQuery<size_t>(*impl_, ns_name, nullptr, id, radius, dz_min, dz_max, options,
                               [](const auto&, const auto& hits) { return hits.size(); });
}

namespace {
engine::DistanceMethod EngineMethod(DistanceMethod m) {
  switch (m) {
    case DistanceMethod::kHaversine: return engine::DistanceMethod::kHaversine;
    case DistanceMethod::kVincenty: return engine::DistanceMethod::kVincenty;
    case DistanceMethod::kGeodesic: return engine::DistanceMethod::kGeodesic;
    case DistanceMethod::kRhumb: return engine::DistanceMethod::kRhumb;
    case DistanceMethod::kPlanar: break;
  }
  return engine::DistanceMethod::kPlanar;
}
}  // namespace

Result<double> Db::DistanceTo(std::string_view ns_name, std::string_view id, const Position& point,
                              DistanceMethod method) const {
  LOCUS_ASSIGN_OR_RETURN(auto ns, impl_->Require(ns_name));
  LOCUS_RETURN_IF_ERROR(CheckPosition(ns->options.coordinates, point, "point"));
  if (!ns->geographic() && method != DistanceMethod::kPlanar) {
    return InvalidArgumentError(std::string("method ") +
                                std::string(engine::DistanceMethodName(EngineMethod(method))) +
                                ": namespace '" + std::string(ns_name) + "' is " +
                                CoordinateSystemName(ns->options.coordinates) +
                                "; planar namespaces measure with kPlanar");
  }
  LOCUS_ASSIGN_OR_RETURN(Object o, Get(ns_name, id));
  const bool three = ns->options.coordinates != CoordinateSystem::kPlanar2D;
  if (three) {
    return engine::Distance(EngineMethod(method), Point3{o.pos.x, o.pos.y, o.pos.z},
                            Point3{point.x, point.y, point.z});
  }
  return engine::Distance(EngineMethod(method), Point2{o.pos.x, o.pos.y},
                          Point2{point.x, point.y});
}

Result<double> Db::Distance(std::string_view ns_name, std::string_view id_a,
                            std::string_view id_b, DistanceMethod method) const {
  LOCUS_ASSIGN_OR_RETURN(Object b, Get(ns_name, id_b));
  return DistanceTo(ns_name, id_a, b.pos, method);
}

namespace {
// Visible objects' x/y positions, under the namespace's shared lock.
template <class NsPtr>
std::vector<Point2> VisiblePoints(const NsPtr& ns, const QueryOptions& options, int64_t now) {
  std::vector<Point2> pts;
  std::shared_lock r(ns->rw);
  auto add = [&](uint32_t key, const auto&) {
    pts.push_back({ns->records[key].pos.x, ns->records[key].pos.y});
  };
  if (ns->two_d()) {
    ns->live2.ForEachAlive(WindowOf(options), now, add);
  } else {
    ns->live3.ForEachAlive(WindowOf(options), now, add);
  }
  return pts;
}
}  // namespace

Result<std::vector<Position>> Db::ConvexHull(std::string_view ns_name,
                                             const QueryOptions& options) const {
  LOCUS_RETURN_IF_ERROR(CheckQuery(options));
  LOCUS_ASSIGN_OR_RETURN(auto ns, impl_->Require(ns_name));
  const std::vector<Point2> pts = VisiblePoints(ns, options, impl_->Now());
  LOCUS_ASSIGN_OR_RETURN(std::vector<Point2> hull, engine::ConvexHull(pts));
  std::vector<Position> out;
  for (const Point2& p : hull) out.push_back({p.x, p.y, 0});
  return out;
}

Result<std::pair<Position, Position>> Db::Bounds(std::string_view ns_name,
                                                 const QueryOptions& options) const {
  LOCUS_RETURN_IF_ERROR(CheckQuery(options));
  LOCUS_ASSIGN_OR_RETURN(auto ns, impl_->Require(ns_name));
  std::shared_lock r(ns->rw);
  const int64_t now = impl_->Now();
  constexpr double kInf = std::numeric_limits<double>::infinity();
  Position lo{kInf, kInf, kInf}, hi{-kInf, -kInf, -kInf};
  size_t n = 0;
  auto add = [&](uint32_t key, const auto&) {
    const Position& p = ns->records[key].pos;
    lo = {std::min(lo.x, p.x), std::min(lo.y, p.y), std::min(lo.z, p.z)};
    hi = {std::max(hi.x, p.x), std::max(hi.y, p.y), std::max(hi.z, p.z)};
    ++n;
  };
  if (ns->two_d()) {
    ns->live2.ForEachAlive(WindowOf(options), now, add);
  } else {
    ns->live3.ForEachAlive(WindowOf(options), now, add);
  }
  if (n == 0) {
    return NotFoundError("namespace '" + std::string(ns_name) + "' has no visible object");
  }
  return std::make_pair(lo, hi);
}

Result<NamespaceStats> Db::Stats(std::string_view ns_name) const {
  LOCUS_ASSIGN_OR_RETURN(auto ns, impl_->Require(ns_name));
  std::shared_lock r(ns->rw);
  const int64_t now = impl_->Now();
  NamespaceStats s;
  s.coordinates = ns->options.coordinates;
  const size_t present = ns->two_d() ? ns->live2.size() : ns->live3.size();
  s.expired = ns->two_d() ? ns->live2.CountExpired(now) : ns->live3.CountExpired(now);
  s.objects = present - s.expired;
  s.swept = ns->swept;
  s.reclusters = ns->reclusters.load();
  s.last_recluster = ns->last_recluster;
  // What the namespace's containers allocated (db.h, NamespaceStats::memory_bytes): vectors
  // allocate exactly capacity() elements, the map's allocator counted its arrays, and each
  // string owns HeapBytes; plus the index's own account (engine/live_index.h; it counts its
  // columns by capacity, not the padding and alignment kernels::Column adds).
  size_t bytes = ns->two_d() ? ns->live2.MemoryBytes() : ns->live3.MemoryBytes();
  bytes += ns->map_bytes;
  bytes += ns->records.capacity() * sizeof(Record) + ns->free_keys.capacity() * sizeof(uint32_t);
  for (const Record& rec : ns->records) bytes += HeapBytes(rec.id) + HeapBytes(rec.metadata);
  for (const auto& [id, key] : ns->key_of_id) bytes += HeapBytes(id);
  s.memory_bytes = bytes;
  return s;
}

size_t Db::SweepExpired(size_t max_per_namespace) { return impl_->Sweep(max_per_namespace); }

}  // namespace locus
