// Namespace: one namespace of the database, its objects and their index. Each object's
// record (id, position, timestamp, metadata, expiry) sits in a vector indexed by a dense key;
// an id -> key hash map finds it; a LiveIndex over the indexed coordinates answers queries:
// (x, y[, z]) for planar namespaces, unit-sphere vectors for geographic ones (engine/sphere.h).
//
// Ownership: the database's map of namespaces holds each Namespace by shared_ptr; a query or
// write that found one keeps its own reference, so a drop never frees a namespace under it.
//
// Locks (the callers take them; methods say what they need):
//   - `writer` serialises writers (and the recluster's copy and catch-up phases);
//   - `rw` is shared by queries and taken exclusively only while a write mutates.
// Reclustering (recluster.cc) holds the writer lock only to copy the rows and to catch up,
// and `rw` only to swap the new index in. A bulk load into an empty namespace builds its
// index in one pass and renumbers the keys into the index's order, so the records of
// neighbouring objects are neighbours too (IndexRecords, namespace.cc).
#ifndef LOCUS_API_DB_NAMESPACE_H_
#define LOCUS_API_DB_NAMESPACE_H_

#include <array>
#include <atomic>
#include <cmath>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "api/db/rw_lock.h"
#include "engine/history.h"
#include "engine/live_index.h"
#include "engine/sphere.h"
#include "kernels/memory.h"
#include "locus/db.h"

namespace locus::db_internal {

// Debian's Abseil has its own string_view type: lookups by std::string_view go through it.
inline absl::string_view Av(std::string_view v) { return absl::string_view(v.data(), v.size()); }

// An object's metadata as stored: nothing at all when it is empty (most objects carry none),
// else one heap string. 8 bytes in the record instead of a std::string's 32.
class StoredText {
 public:
  StoredText() = default;
  StoredText(StoredText&&) noexcept = default;
  StoredText& operator=(StoredText&&) noexcept = default;
  std::string_view view() const { return text_ ? std::string_view(*text_) : std::string_view(); }
  bool empty() const { return !text_; }
  void assign(std::string_view v) {
    if (v.empty()) {
      text_.reset();
    } else if (text_) {
      text_->assign(v);
    } else {
      text_ = std::make_unique<std::string>(v);
    }
  }
  const std::string* text() const { return text_.get(); }  // null when empty

 private:
  std::unique_ptr<std::string> text_;
};

// An object's id as stored: up to 15 bytes inside the 16-byte object (W4's "vehicle-N" ids
// all fit), longer ones in one exact heap block. Half a std::string's 32 bytes. Empty: a free
// key.
class StoredId {
 public:
  StoredId() { bytes_[kTag] = 0; }
  StoredId(StoredId&& other) noexcept {
    std::memcpy(bytes_, other.bytes_, sizeof(bytes_));
    other.bytes_[kTag] = 0;
  }
  StoredId& operator=(StoredId&& other) noexcept {
    if (this != &other) {
      Free();
      std::memcpy(bytes_, other.bytes_, sizeof(bytes_));
      other.bytes_[kTag] = 0;
    }
    return *this;
  }
  ~StoredId() { Free(); }

  std::string_view view() const {
    if (!on_heap()) return {bytes_, static_cast<size_t>(bytes_[kTag])};
    return {heap(), heap_size()};
  }
  bool empty() const { return bytes_[kTag] == 0; }
  void assign(std::string_view v) {
    Free();
    if (v.size() <= kInline) {
      std::memcpy(bytes_, v.data(), v.size());
      bytes_[kTag] = static_cast<char>(v.size());
      return;
    }
    char* p = new char[v.size()];
    std::memcpy(p, v.data(), v.size());
    const uint64_t size = v.size();
    std::memcpy(bytes_, &p, sizeof(p));
    std::memcpy(bytes_ + sizeof(p), &size, 7);  // ids are far shorter than 2^56 bytes
    bytes_[kTag] = kHeapTag;
  }
  // The bytes held on the heap (0 for an inline id), exactly as allocated.
  size_t HeapBytes() const { return on_heap() ? heap_size() : 0; }

 private:
  static constexpr size_t kInline = 15, kTag = 15;
  static constexpr char kHeapTag = 16;
  bool on_heap() const { return bytes_[kTag] == kHeapTag; }
  const char* heap() const {
    const char* p;
    std::memcpy(&p, bytes_, sizeof(p));
    return p;
  }
  size_t heap_size() const {
    uint64_t size = 0;
    std::memcpy(&size, bytes_ + sizeof(char*), 7);
    return size;
  }
  void Free() {
    if (on_heap()) delete[] heap();
    bytes_[kTag] = 0;
  }
  char bytes_[16];
};

// One object as stored: 48 bytes. Its timestamp and expiry live only in its index row (the
// queries filter on them there), or in Namespace::deferred_times during a bulk load.
struct Record {
  Position pos;
  StoredText metadata;
  StoredId id;  // empty: a free key
};

// The one conversion of a stored or logged object into the API's Object (Get, log replay,
// checkpoint loading): `expires` is absolute, kNeverExpires for none.
Object MakeObject(std::string_view id, const Position& pos, int64_t timestamp,
                  std::string_view metadata, int64_t expires);
// The same into `*o`, reusing its strings' buffers (a checkpoint load converts millions).
void AssignObject(std::string_view id, const Position& pos, int64_t timestamp,
                  std::string_view metadata, int64_t expires, Object* o);

// An upsert's absolute expiry (what the log records, so a replay decides the same).
inline int64_t ExpiresOf(const Object& o, int64_t now) {
  return o.expires_at ? *o.expires_at : o.ttl_ms ? now + *o.ttl_ms : engine::kNeverExpires;
}

// QueryOptions' time filter as the index's window.
inline engine::TimeWindow WindowOf(const QueryOptions& o) {
  engine::TimeWindow w;
  if (o.updated_from) w.t_min = *o.updated_from;
  if (o.updated_to) w.t_max = *o.updated_to;
  return w;
}

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
    kernels::AdviseHugePages(p, n * sizeof(T));  // large maps are read at random
    *bytes_ += n * sizeof(T);
    return p;
  }
  void deallocate(T* p, size_t n) {
    std::allocator<T>().deallocate(p, n);
    *bytes_ -= n * sizeof(T);
  }
  template <class U>
  bool operator==(const CountingAllocator<U>& other) const {
    return bytes_ == other.bytes_;
  }

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

using Records = std::vector<Record, kernels::HugePageAllocator<Record>>;

// A namespace's id -> key index: an open-addressing set of keys, hashed and compared by the
// id their record holds, so each id is stored once, in its Record. A slot is 4 bytes where a
// map from std::string held 40 (at 1M objects the map's arrays were 86 of 216 bytes per
// object). A lookup reads the record of each key whose control byte matches: the record a
// write or Get reads next anyway.
//
// REQUIRES (the namespace's locks, as for the records): mutations exclusive; a key's record
// holds its id from before Insert until after Erase.
class IdIndex {
 public:
  IdIndex(const Records* records, size_t* bytes)
      : set_(0, Hash{records}, Eq{records}, Alloc(bytes)) {}
  // The key of `id`, or engine::kNoKey.
  uint32_t Find(std::string_view id) const {
    auto it = set_.find(Av(id));
    return it == set_.end() ? engine::kNoKey : it->key;
  }
  // Starts loading the slots a Find(id) will probe.
  void Prefetch(std::string_view id) const { set_.prefetch(Av(id)); }
  void Insert(uint32_t key) { set_.insert(Slot{key}); }
  void Erase(uint32_t key) { set_.erase(Slot{key}); }
  void Reserve(size_t n) { set_.reserve(n); }
  size_t size() const { return set_.size(); }
  bool empty() const { return set_.empty(); }
  // After the records moved (key k's record is now at renumber[k]): renumbers every key in
  // place. A slot's hash depends on its id only, so no slot moves.
  void Renumber(const std::vector<uint32_t>& renumber) {
    for (const Slot& s : set_) s.key = renumber[s.key];
  }

 private:
  struct Slot {
    mutable uint32_t key;  // mutable for Renumber only
  };
  struct Hash {
    using is_transparent = void;
    const Records* records;
    size_t operator()(absl::string_view id) const { return IdHash{}(id); }
    size_t operator()(const Slot& s) const { return IdHash{}(Av((*records)[s.key].id.view())); }
  };
  struct Eq {
    using is_transparent = void;
    const Records* records;
    bool operator()(const Slot& a, const Slot& b) const { return a.key == b.key; }
    bool operator()(const Slot& a, absl::string_view id) const {
      return Av((*records)[a.key].id.view()) == id;
    }
    bool operator()(absl::string_view id, const Slot& a) const { return (*this)(a, id); }
  };
  using Alloc = CountingAllocator<Slot>;
  absl::flat_hash_set<Slot, Hash, Eq, Alloc> set_;
};

// The motion space of a coordinate system (engine/motion.h).
inline engine::Space SpaceOf(CoordinateSystem cs) {
  return cs == CoordinateSystem::kGeographic ? engine::Space::kSphere
         : cs == CoordinateSystem::kPlanar3D ? engine::Space::kPlanar3D
                                             : engine::Space::kPlanar2D;
}

// A history namespace's samples (history.cc): the engine's store, and the object ids it
// knows by dense number (never reused: a deleted object keeps its history).
struct HistoryState {
  explicit HistoryState(const engine::HistoryConfig& config) : store(config) {}
  engine::History store;
  absl::flat_hash_map<std::string, uint32_t, IdHash, IdEq> number_of;
  std::vector<std::string> names;
  // The number of `id`, assigned on first use.
  uint32_t Number(std::string_view id);
  // The number of `id`, or -1 when it has no history.
  int64_t Find(std::string_view id) const {
    auto it = number_of.find(Av(id));
    return it == number_of.end() ? int64_t{-1} : int64_t{it->second};
  }
  size_t MemoryBytes() const;
  // Durable databases: the file of each chunk written by a checkpoint (history_files.h), by
  // chunk sequence, with the erased count it holds (a chunk erased since is written again).
  // Guarded by the namespace's writer lock.
  struct ChunkFile {
    uint64_t number = 0;
    size_t erased = 0;
  };
  absl::flat_hash_map<uint32_t, ChunkFile> files;
};

// An object's timestamp and absolute expiry (kNeverExpires for none).
struct Times {
  int64_t t = 0;
  int64_t expires = engine::kNeverExpires;
};

struct Namespace {
  Namespace(NamespaceOptions o, uint32_t block_rows)
      : options(o),
        live2({.block_rows = block_rows}),
        live3(
            {.block_rows = block_rows, .sphere = o.coordinates == CoordinateSystem::kGeographic}) {}

  NamespaceOptions options;
  std::mutex writer;
  mutable RwLock rw;
  size_t map_bytes = 0;  // held by key_of_id's arrays (its allocator counts them)
  Records records;
  // Open addressing (Abseil's Swiss table): a lookup is usually one miss for the control
  // bytes and slot and one for the record, where std::unordered_map's bucket -> node ->
  // string chain cost three (W4 moves: 23% of the time in find).
  IdIndex key_of_id{&records, &map_bytes};
  std::vector<uint32_t> free_keys;
  engine::LiveIndex<2> live2;  // planar 2D
  engine::LiveIndex<3> live3;  // planar 3D, and unit vectors for geographic
  size_t swept = 0;
  bool defer_index = false;  // during a bulk load: see IndexRecords
  std::vector<Times> deferred_times;  // by key, while defer_index (no index rows yet)
  // Set (under `writer`) when the namespace is dropped: a writer that found it before the
  // drop finds the namespace again instead of writing (and logging) into the dropped one.
  bool dropped = false;
  // Reclustering (recluster.cc): guarded by `writer`, except the atomics.
  bool recluster_running = false;
  std::vector<uint32_t> dirty;
  std::atomic<size_t> reclusters{0};  // read by Stats without the writer lock
  ReclusterTimes last_recluster;      // guarded by rw
  std::atomic<bool> recluster_queued{false};
  std::function<void()> build_hook;  // test seam: runs while a recluster builds
  // History namespaces (NamespaceOptions::history): written under writer and exclusive rw,
  // read under shared rw, like the records.
  std::unique_ptr<HistoryState> history;
  // Adds one sample to the history (history.cc). REQUIRES: history; writer and exclusive rw.
  void RecordSample(std::string_view id, int64_t t, const Position& pos,
                    std::string_view metadata);

  bool two_d() const { return options.coordinates == CoordinateSystem::kPlanar2D; }
  bool geographic() const { return options.coordinates == CoordinateSystem::kGeographic; }
  // The indexed 3D point of a position (REQUIRES: not planar 2D).
  std::array<double, 3> Point3(const Position& p) const {
    return geographic() ? engine::UnitVector(p.x, p.y) : std::array<double, 3>{p.x, p.y, p.z};
  }
  // Calls f(index) with whichever live index this namespace uses, for the operations that do
  // not depend on its dimension.
  template <class F>
  decltype(auto) WithIndex(F&& f) {
    return two_d() ? f(live2) : f(live3);
  }
  template <class F>
  decltype(auto) WithIndex(F&& f) const {
    return two_d() ? f(live2) : f(live3);
  }

  // REQUIRES: writer and exclusive rw held; o validated. `unit`: o's unit vector when the
  // caller computed it already (geographic namespaces; batches convert theirs at once).
  // force (log replay): apply without the conflict rule (the log holds applied writes).
  // Inline: the write path's innermost call.
  WriteOutcome UpsertLocked(const Object& o, int64_t now,
                            const std::array<double, 3>* unit = nullptr, bool force = false) {
    if (history) RecordSample(o.id, o.timestamp, o.pos, o.metadata);
    uint32_t key = key_of_id.Find(o.id);
    if (key != engine::kNoKey) {
      const Times old = TimesOf(key);
      if (!force && old.expires > now && o.timestamp < old.t) return WriteOutcome::kStale;
    } else {
      if (!free_keys.empty()) {
        key = free_keys.back();
        free_keys.pop_back();
      } else {
        key = static_cast<uint32_t>(records.size());
        records.emplace_back();
      }
      records[key].id.assign(o.id);
      key_of_id.Insert(key);
    }
    Touch(key);
    Record& r = records[key];
    r.pos = o.pos;
    if (!(r.metadata.empty() && o.metadata.empty())) r.metadata.assign(o.metadata);
    const int64_t expires = ExpiresOf(o, now);
    if (defer_index) {  // IndexRecords builds the index later
      if (key >= deferred_times.size()) deferred_times.resize(uint64_t{key} + 1);
      deferred_times[key] = {o.timestamp, expires};
      return WriteOutcome::kApplied;
    }
    if (two_d()) {
      live2.Upsert(key, {o.pos.x, o.pos.y}, o.timestamp, expires);
    } else {
      live3.Upsert(key, unit ? *unit : Point3(o.pos), o.timestamp, expires);
    }
    return WriteOutcome::kApplied;
  }

  // A bulk load into an empty namespace writes only the records and the id map
  // (defer_index), then builds the clustered index from the records in one pass and
  // renumbers the keys into its order: no per-row index inserts and no unclustered copy to
  // recluster. REQUIRES: writer and exclusive rw held; the index empty.
  void IndexRecords();

  // Removes `id` if stored (visible or expired) and says which it was.
  // REQUIRES: writer and exclusive rw held.
  enum class Removed { kNone, kExpired, kVisible };
  Removed DeleteLocked(std::string_view id, int64_t now) {
    const uint32_t key = key_of_id.Find(id);
    if (key == engine::kNoKey) return Removed::kNone;
    const bool visible = TimesOf(key).expires > now;
    FreeKey(key);
    WithIndex([key](auto& live) { live.Remove(key); });
    return visible ? Removed::kVisible : Removed::kExpired;
  }
  // Forgets the object at `key` (its record and id) and makes the key reusable; the index's
  // row is the caller's (a sweep's index already dropped it). REQUIRES: as DeleteLocked.
  void FreeKey(uint32_t key);

  // ---- reclustering (recluster.cc), off the writers' path ----
  // Every write checks NeedsRecluster (O(1)); when it says yes the database runs Recluster on
  // its maintenance thread (or inline, DbOptions::background_recluster off).
  bool NeedsRecluster() const {  // REQUIRES: writer held
    return !recluster_running && WithIndex([](const auto& live) { return live.NeedsRecluster(); });
  }
  // Records a key written while a recluster is building (REQUIRES: writer held).
  void Touch(uint32_t key) {
    if (recluster_running) dirty.push_back(key);
  }
  // Rebuilds the index into tight Hilbert-ordered blocks (recluster.cc). REQUIRES: the caller
  // holds neither lock.
  void Recluster();

  // ---- reading (REQUIRES: rw held, shared or exclusive) ----
  // The timestamp and expiry of a stored object. REQUIRES: key holds an object.
  Times TimesOf(uint32_t key) const {
    if (defer_index) return deferred_times[key];
    return WithIndex(
        [key](const auto& live) { return Times{live.TimeOf(key), live.ExpiryOf(key)}; });
  }
  // Starts loading the records of an index query's hits (anything with a `key`) before
  // MakeHit reads them one by one, so their cache misses overlap.
  template <class Hits>
  void PrefetchRecords(const Hits& hits) const {
    for (const auto& h : hits) __builtin_prefetch(&records[h.key]);
  }
  // The object at `key` as a query's visitor sees it; `t` its timestamp (queries read it
  // from the index row beside the coordinates).
  HitView View(uint32_t key, double distance, bool with_metadata, int64_t t) const {
    const Record& r = records[key];
    return {.id = r.id.view(), .pos = r.pos, .timestamp = t, .distance = distance,
            .metadata = with_metadata ? r.metadata.view() : std::string_view()};
  }
  Hit MakeHit(uint32_t key, double distance, bool with_metadata) const {
    return MakeHit(key, distance, with_metadata, TimesOf(key).t);
  }
  Hit MakeHit(uint32_t key, double distance, bool with_metadata, int64_t t) const {
    return ToHit(View(key, distance, with_metadata, t));
  }
  static Hit ToHit(const HitView& v) {
    Hit h;
    h.id = v.id;
    h.pos = v.pos;
    h.timestamp = v.timestamp;
    h.distance = v.distance;
    h.metadata = v.metadata;
    return h;
  }
  // A query radius (metres or planar units) as a squared distance in the indexed space: the
  // chord on the unit sphere for geographic namespaces.
  double IndexRadiusSq(double radius) const {
    return geographic() ? engine::SquaredChordOfMetres(radius) : radius * radius;
  }
  // The inverse, for the distances a scan reports.
  double Distance(double dist_sq) const {
    return geographic() ? engine::MetresOfSquaredChord(dist_sq) : std::sqrt(dist_sq);
  }
  // NamespaceStats::memory_bytes (db.h): every heap block the namespace holds, exactly.
  size_t MemoryBytes() const;
};

using NsPtr = std::shared_ptr<Namespace>;

}  // namespace locus::db_internal

#endif  // LOCUS_API_DB_NAMESPACE_H_
