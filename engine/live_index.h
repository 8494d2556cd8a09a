// LiveIndex: the current positions of moving objects (DESIGN.md, "Live index"), the engine
// half of a database namespace (issue 5). Objects are addressed by a dense `key` (uint32)
// that the database layer assigns to each string id; the index never sees the strings.
//
// Layout: one row per present object in SoA columns (kDims coordinates, timestamp t,
// absolute expiry), grouped into blocks of `block_rows` rows and, inside them, leaves of 16.
// Each block keeps the bounds of its rows, each leaf f32 bounds rounded outward. A query
// prunes blocks, then leaves, by their bounds and runs the SIMD kernels
// (kernels/point_filter.h, kernels/knn.h) over each run of surviving leaves, with the time
// window and the expiry masked inside the same pass (kernels::RowFilter): expired rows are
// invisible the moment `now` passes their expiry, and a deleted row is simply a row whose
// expiry is kDeletedExpiry (always in the past), so deletions cost the kernels nothing.
//
// Writes update a row in place and widen its leaf's and block's bounds (never narrow
// them). As objects move, bounds inflate and pruning weakens; NeedsRecluster() says when
// the summed block extents have grown past `recluster_growth` times their size at the last
// clustering. A fresh index with rows sorted by Hilbert key into tight blocks is then built
// from a copy of the rows (Rows, then Build): the database copies under its writer lock, builds with no lock
// held, replays the keys written meanwhile and swaps the copy in under a brief exclusive lock
// (api/db/recluster.cc). Reclustered() does the copy and build in one call, for callers with
// no concurrent writers (tests, single-threaded users).
//
// Coordinates: planar namespaces index (x, y[, z]) directly. Geographic namespaces index
// unit-sphere vectors (kDims = 3, kernels::LonLatToUnit), so radius and kNN are chord
// scans, exact across the antimeridian and at the poles (DESIGN.md); the database converts
// metres to chords and back.
//
// Thread safety: const methods may run concurrently with each other; a non-const method
// needs exclusive access (the database's namespace lock).
#ifndef LOCUS_ENGINE_LIVE_INDEX_H_
#define LOCUS_ENGINE_LIVE_INDEX_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <vector>

#include "kernels/column.h"
#include "kernels/knn.h"
#include "kernels/memory.h"

namespace locus::engine {

inline constexpr uint32_t kNoKey = 0xFFFFFFFFu;
// The expiry of a row that never expires, and of a deleted row (alive iff expires > now).
inline constexpr int64_t kNeverExpires = std::numeric_limits<int64_t>::max();
inline constexpr int64_t kDeletedExpiry = std::numeric_limits<int64_t>::min();

struct LiveOptions {
  // Rows per block: the unit of pruning. Must be a multiple of 16 in [16, 65536].
  uint32_t block_rows = 512;
  // NeedsRecluster() when the summed block extents exceed this multiple of their sum at the
  // last clustering. Must be > 1.
  double recluster_growth = 2.0;
  // kDims == 3 only: the rows are unit vectors (a geographic namespace). Reclustering then
  // orders them by a 2D Hilbert key of (atan2(y, x), z), i.e. (longitude, sin latitude), an
  // equal-area map of the sphere, instead of a 3D key over their bounding box, which the
  // points fill only as a thin curved shell (measured on W4: 1.5x slower kNN and radius
  // queries with the 3D key).
  bool sphere = false;
};

// Inclusive window on the row timestamp ("last updated within [t_min, t_max]").
struct TimeWindow {
  int64_t t_min = std::numeric_limits<int64_t>::min();
  int64_t t_max = std::numeric_limits<int64_t>::max();
};

template <int kDims>
class LiveIndex {
  static_assert(kDims == 2 || kDims == 3);

 public:
  using Point = std::array<double, kDims>;
  struct Row {
    Point pos;
    int64_t t = 0;
    int64_t expires = kNeverExpires;
  };
  struct Hit {
    uint32_t key;
    double dist_sq;  // squared Euclidean distance in the indexed space
    int64_t t;       // the row's timestamp (read beside its coordinates)
  };

  // REQUIRES: options valid (LOCUS_CHECK).
  explicit LiveIndex(const LiveOptions& options = {});
  LiveIndex(LiveIndex&&) noexcept = default;
  LiveIndex& operator=(LiveIndex&&) noexcept = default;

  // ---- writes (exclusive access) ----
  // Sets the row of `key` (inserting it if absent). REQUIRES: key != kNoKey, finite pos.
  void Upsert(uint32_t key, const Point& pos, int64_t t, int64_t expires);
  // Removes `key`'s row; false if absent.
  bool Remove(uint32_t key);
  // Removes up to `max_rows` rows with expires <= now (expired, not yet removed), appending
  // their keys to *removed; returns how many. Scans from where the previous call stopped, so
  // repeated bounded calls cover every row.
  size_t SweepExpired(int64_t now, size_t max_rows, std::vector<uint32_t>* removed);

  // Prefetch hints for a coming write of `key` (they change nothing): the key -> slot entry,
  // and (once that is loaded) the row's columns. Batched writers issue them a few writes
  // ahead so the cache misses of neighbouring writes overlap.
  void PrefetchKey(uint32_t key) const {
    if (key < slot_of_key_.size()) __builtin_prefetch(&slot_of_key_[key]);
  }
  void PrefetchRow(uint32_t key) const {
    if (key >= slot_of_key_.size()) return;
    const uint64_t s = slot_of_key_[key];
    if (s == kNoKey) return;
    for (int a = 0; a < kDims; ++a) {
      __builtin_prefetch(col_[a].data() + s, 1);
      __builtin_prefetch(lmin_[a].data() + s / kLeafRows, 1);
      __builtin_prefetch(lmax_[a].data() + s / kLeafRows, 1);
    }
    __builtin_prefetch(t_.data() + s, 1);
    __builtin_prefetch(expires_.data() + s, 1);
  }

  // ---- reads (shared access) ----
  // The row of `key` if present (expired rows too, until removed: visibility is the caller's).
  std::optional<Row> Get(uint32_t key) const;
  // The timestamp and expiry of key's row. REQUIRES: key present.
  int64_t TimeOf(uint32_t key) const { return t_[slot_of_key_[key]]; }
  int64_t ExpiryOf(uint32_t key) const { return expires_[slot_of_key_[key]]; }
  // Rows present (alive or expired but not yet swept).
  size_t size() const { return present_; }
  size_t num_blocks() const { return num_blocks_; }

  // Rows alive at `now` with t in `window` within squared distance radius_sq of c
  // (inclusive), in storage order; at most `limit` (then *truncated = true).
  void Radius(const Point& c, double radius_sq, const TimeWindow& window, int64_t now,
              size_t limit, std::vector<Hit>* out, bool* truncated) const;
  size_t CountRadius(const Point& c, double radius_sq, const TimeWindow& window,
                     int64_t now) const;
  // Rows alive at `now` with t in `window` inside the closed box [lo, hi].
  void InBox(const Point& lo, const Point& hi, const TimeWindow& window, int64_t now,
             size_t limit, std::vector<uint32_t>* keys, bool* truncated) const;
  size_t CountBox(const Point& lo, const Point& hi, const TimeWindow& window, int64_t now) const;
  // The k rows alive at `now` with t in `window` nearest to c within max_dist_sq (inclusive),
  // ascending by distance (ties in storage order).
  void Nearest(const Point& c, size_t k, double max_dist_sq, const TimeWindow& window,
               int64_t now, std::vector<Hit>* out) const;
  // Calls f(key, row) for every row alive at `now` with t in `window`, in storage order.
  template <class F>
  void ForEachAlive(const TimeWindow& window, int64_t now, F&& f) const {
    for (uint64_t s = 0; s < slots_; ++s) {
      if (expires_[s] > now && t_[s] >= window.t_min && t_[s] <= window.t_max) {
        f(key_of_slot_[s], RowAt(s));
      }
    }
  }
  // Rows present whose expiry is <= now (expired, not yet swept).
  size_t CountExpired(int64_t now) const;

  // Clustering. NeedsRecluster is O(1): the summed extents are kept current by every write.
  bool NeedsRecluster() const;
  // A copy holding the same rows, sorted by Hilbert key into tight blocks. With `renumber`,
  // the copy's rows get new keys equal to their slots (0 .. size() - 1, in Hilbert order) and
  // (*renumber)[old key] is the new key (kNoKey for keys not present): the caller re-keys what
  // it stores by key, so data it keeps per key ends up in the same spatial order as the rows
  // (the database keeps its records that way: a query's hits then read neighbouring records
  // instead of one cache miss each).
  LiveIndex Reclustered(std::vector<uint32_t>* renumber = nullptr) const;
  // Rows given column-wise (a bulk load), for Build.
  struct RowSet {
    std::vector<uint32_t> keys;  // distinct
    std::vector<double> pos[kDims];
    std::vector<int64_t> t, expires;
  };
  // A copy of the present rows (alive or expired), in storage order.
  RowSet Rows() const;
  const LiveOptions& options() const { return options_; }
  // A clustered index of `rows` in one pass (Hilbert keys, a sort, rows appended in that
  // order): what inserting them one by one and then reclustering gives, without the
  // unclustered copy. `renumber` as for Reclustered. REQUIRES: distinct keys, finite
  // positions, equal column lengths (LOCUS_CHECK).
  static LiveIndex Build(const LiveOptions& options, const RowSet& rows,
                         std::vector<uint32_t>* renumber = nullptr);
  // Bytes of heap memory the index holds (columns with their padding, key maps, bounds),
  // exactly as allocated (not counting the allocator's own per-block overhead).
  size_t MemoryBytes() const;

  // For tests: every block's bounds contain its present rows.
  bool CheckInvariants() const;

 private:
  Row RowAt(uint64_t slot) const {
    Row r;
    for (int a = 0; a < kDims; ++a) r.pos[a] = col_[a][slot];
    r.t = t_[slot];
    r.expires = expires_[slot];
    return r;
  }
  uint64_t NewSlot();
  // Widens the bounds of slot s's leaf, block and superblock to hold p.
  void Widen(uint64_t s, const Point& p);
  // Squared gaps from c to leaves [first, first + m) (+inf for an empty leaf).
  void LeafGapsSq(uint64_t first, uint64_t m, const Point& c, double* out) const;
  // Calls scan(first_slot, rows) for each run of consecutive leaves of `block` that
  // test(first_leaf, m, pass) marks in pass[0, m) (m <= 64 leaves at a time); stops and
  // returns false when scan does.
  template <class Test, class Scan>
  bool ForLeafRuns(uint64_t block, Test&& test, Scan&& scan) const;
  // Calls visit(block) for every block whose bounds pass pred(mn, mx, i), testing the
  // superblock bounds first.
  template <class Pred, class Visit>
  void ForBlocks(Pred&& pred, Visit&& visit) const;
  // Calls scan(first_slot, rows) for each run of leaves within squared distance radius_sq
  // of c, in storage order, testing superblocks, then a superblock's 32 blocks, then a
  // block's leaves by the vectorised gap loops; stops and returns false when scan does.
  template <class Scan>
  bool ForRunsNear(const Point& c, double radius_sq, Scan&& scan) const;
  double ExtentSum() const;
  // Nearest's first try: every row within a radius guessed from the density of the block
  // nearest to c (GuessRadiusSq), grown 4x in area up to kGuessAttempts times until it holds
  // k rows, goes into *top. False (and *top untouched) when no guess holds k rows.
  static constexpr double kGuessFactor = 2;  // rows expected within the guess, per k
  static constexpr int kGuessAttempts = 3;
  double GuessRadiusSq(uint64_t block, size_t k) const;  // 0: no guess
  bool NearestWithin(const Point& c, size_t k, double max_dist_sq, const TimeWindow& w,
                     int64_t now, const double* super_gaps, kernels::TopK<double>* top) const;
  template <class Emit>
  void ScanRadius(const Point& c, double radius_sq, const TimeWindow& w, int64_t now,
                  Emit&& emit) const;

  LiveOptions options_;
  uint64_t slots_ = 0;       // slots in use (present or free); blocks cover [0, slots_)
  uint64_t num_blocks_ = 0;  // ceil(slots_ / block_rows)
  uint64_t present_ = 0;
  kernels::Column<double> col_[kDims];
  kernels::Column<int64_t> t_, expires_;
  // Large and accessed at random by writes: huge pages where the kernel gives them.
  std::vector<uint32_t, kernels::HugePageAllocator<uint32_t>> key_of_slot_;  // kNoKey: a free slot
  std::vector<uint32_t, kernels::HugePageAllocator<uint32_t>> slot_of_key_;  // kNoKey: absent key
  std::vector<uint32_t> free_slots_;
  std::vector<double> bmin_[kDims], bmax_[kDims];  // per block; empty = (+inf, -inf)
  // Per leaf of kLeafRows consecutive rows: bounds rounded outward to f32, widened by every
  // write like the blocks'. A query scans only the leaves of a block that can hold an
  // answer (a kNN or a 500 m radius touches a few of a block's 32 leaves), and the leaf
  // bounds (6 floats per 16 rows) stay in cache where the rows do not.
  static constexpr uint64_t kLeafRows = 16;
  std::vector<float> lmin_[kDims], lmax_[kDims];
  // Per superblock of kSuperBlock consecutive blocks: the union of their bounds, widened
  // with them, so a query tests ~num_blocks / kSuperBlock boxes before any block's.
  static constexpr uint64_t kSuperBlock = 32;
  std::vector<double> smin_[kDims], smax_[kDims];
  double extent_sum_ = 0;        // ExtentSum(), kept current by Widen (O(1) per write)
  double clustered_extent_ = 0;  // extent_sum_ right after the last clustering
  uint64_t sweep_cursor_ = 0;
  // Nearest's running correction of its density guess (NearestWithin); read and written
  // through relaxed std::atomic_ref by concurrent queries.
  mutable double guess_scale_ = 1.0;
};

extern template class LiveIndex<2>;
extern template class LiveIndex<3>;

}  // namespace locus::engine

#endif  // LOCUS_ENGINE_LIVE_INDEX_H_
