// History: every sample of every object of one namespace, indexed in space and time so that
// "the path of X over [t0, t1]", "who passed through R during [t0, t1]" and "where was everyone
// at t" read a few index nodes and binary searches, never all history.
//
// Objects are dense ids the caller assigns (the database maps string ids to them). A sample
// is a Fix (t, x, y, z) with optional metadata bytes. An object's *timeline* is all its
// samples sorted by t (one per t: a second sample at the same t replaces the first); between
// consecutive samples it moves as engine/motion.h says.
//
// Layout:
//   - The open part: per object, a sorted vector of its newest samples (its tail), and the
//     (x, y, t) box that covers them and the segments to their neighbours in the timeline.
//   - Sealed chunks: when the open part holds chunk_samples samples, Seal() moves every tail
//     into one immutable chunk: SoA columns t, x, y (z only when some altitude/z is non-zero;
//     metadata offsets + bytes only when kept) sorted by (object, t), an object directory
//     (sorted ids + row offsets), and a packed 3D R-tree (engine/packed_rtree.h; f32 over
//     coordinates relative to the chunk's low corner, rounded outward) over (x, y, t) boxes
//     of runs of `run_samples` consecutive samples of one object. A chunk
//     spans whatever times its samples have (ingest may be in any order); its own time range
//     prunes it first. Erasing a sealed sample sets a bit in the chunk's erased bitmap; the
//     columns never change.
//   - Overlap bits: a chunk marks each object whose times there [first row, last row] may
//     hold samples of another source (another chunk, open samples; set when such a sample
//     arrives or such a chunk is sealed or imported, never cleared). An unmarked object's
//     rows in the chunk are a contiguous stretch of its timeline (less erased rows), so a
//     run's path is read in place (Stretch). In-order ingest marks nothing.
//
// Coverage invariant (what makes a box search complete): for every pair of consecutive samples
// (a, b) of a timeline, the container of a or of b (a chunk's run, a tail) has a box holding
// the segment a -> b (motion.h's SegmentBox: great-circle arcs widened to their true latitude
// range). A sample added between two others brings the boxes of its two new segments (its
// tail box, and at seal its run's); a removal (Erase, DropChunksBefore) leaves a *bridge*: the
// boxes of the segments it joined, held by the object's tail and sealed with it. Boxes of
// segments that no longer exist only cost false candidates, which the exact tests drop.
// Geographic boxes keep x unwrapped across the antimeridian (SegmentBox), so a search box is
// also tried shifted by +360.
//
// Thread safety: none inside. Writes (Add, Erase, Seal, DropChunksBefore) need exclusive
// access; reads (const methods) may run concurrently with each other (the database holds its
// namespace's reader-writer lock).
#ifndef LOCUS_ENGINE_HISTORY_H_
#define LOCUS_ENGINE_HISTORY_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/motion.h"
#include "engine/packed_rtree.h"
#include "locus/status.h"

namespace locus::engine {

struct HistoryConfig {
  Space space = Space::kPlanar2D;
  bool keep_metadata = false;
  size_t chunk_samples = size_t{1} << 16;  // the open part is sealed at this many samples
  uint32_t run_samples = 8;                // samples per index entry in a sealed chunk
};

struct HistoryCounts {
  size_t samples = 0;  // stored (sealed and open), erased ones excluded
  size_t open_samples = 0;
  size_t chunks = 0;
  size_t memory_bytes = 0;  // every heap block held, as allocated sizes (vectors' capacities)
};

// A sealed chunk as plain columns (History::ExportChunk / ImportChunk): what the database
// writes to a file once per chunk and reads back at recovery. Rows are sorted by (object, t);
// object i's rows are [begin[i], begin[i + 1]). `entries` are the chunk's index boxes (runs
// of samples and bridges), entry j belonging to entry_object[j].
struct HistoryChunkImage {
  std::vector<uint32_t> objects;  // strictly ascending
  std::vector<uint32_t> begin;    // objects.size() + 1 row offsets
  std::vector<int64_t> t;
  std::vector<double> x, y, z;     // z empty when every z is 0
  std::vector<uint32_t> meta_end;  // empty, or one end offset into `meta` per row
  std::string meta;
  std::vector<uint64_t> erased;  // empty, or a bitmap of (rows + 63) / 64 words
  std::vector<uint32_t> entry_object;
  // Empty, or per entry the first row of its run of samples (kNoRow: a bridge or unknown).
  std::vector<uint32_t> entry_row;
  std::vector<SpaceTimeBox> entries;
};

inline constexpr uint32_t kNoRow = UINT32_MAX;

// A candidate of a box search with the stretch of its path to decide: the path over [t0, t1]
// (with the samples just outside) holds every segment of the index entry that met the box.
// When the entry is a run of a sealed chunk, `seq` names the chunk (kNoRow otherwise), `slot`
// the object's place in it and [first_row, last_row] the run's rows: History::Stretch reads
// the path from those rows in place. A caller may widen the rows to more of the same
// object's rows in the chunk (merging nearby runs), keeping t0 >= t[first_row] and
// t1 <= t[last_row].
struct HistorySpan {
  uint32_t object = 0;
  int64_t t0 = 0, t1 = 0;
  uint32_t seq = kNoRow;
  uint32_t slot = 0;
  uint32_t first_row = 0, last_row = 0;
};

// The open part of one object (History::ExportOpen): its tail and its bridge.
struct HistoryOpenObject {
  uint32_t object = 0;
  std::vector<Fix> tail;  // ascending t
  std::vector<std::string> meta;  // empty, or one per tail sample
  bool has_bridge = false;
  SpaceTimeBox bridge{};
};

// A live chunk's identity: its sequence (stable for the History's lifetime) and how many of
// its rows are erased (a chunk changes only by erasures).
struct HistoryChunkInfo {
  uint32_t seq = 0;
  size_t erased = 0;
};

class History {
 public:
  explicit History(HistoryConfig config);
  ~History();
  History(const History&) = delete;
  History& operator=(const History&) = delete;

  const HistoryConfig& config() const { return config_; }

  // ---- writes (REQUIRES: exclusive access) ----
  // Adds a sample of `object`; one at the same t is replaced, unless it is identical (same
  // position and metadata: then nothing changes, so replaying a log over a restored history
  // costs no erasures). Seals when the open part is full.
  void Add(uint32_t object, const Fix& fix, std::string_view metadata = {});
  // Removes the object's samples with t in [t0, t1]; returns how many.
  size_t Erase(uint32_t object, int64_t t0, int64_t t1);
  // Drops every sealed chunk whose samples are all older than `cutoff` (t < cutoff); returns
  // the samples dropped.
  size_t DropChunksBefore(int64_t cutoff);
  // Seals the open part into a chunk (no-op when it is empty of samples and bridges).
  void Seal();

  // ---- images (the database's files; REQUIRES for Import*: exclusive access) ----
  std::vector<HistoryChunkInfo> LiveChunks() const;
  // REQUIRES: seq is live. Erased rows are left out of the image (its `erased` is empty).
  HistoryChunkImage ExportChunk(uint32_t seq) const;
  std::vector<HistoryOpenObject> ExportOpen() const;
  // Adds a sealed chunk (before any open sample is restored: ImportOpen comes last). Checks
  // every size, order and value first (objects < object_limit, finite coordinates, boxes
  // with min <= max): InvalidArgument naming what is wrong, and nothing changes. Returns the
  // chunk's sequence.
  Result<uint32_t> ImportChunk(HistoryChunkImage image, uint32_t object_limit);
  // Restores the open part: bridges as they were, tail samples through Add.
  Status ImportOpen(const std::vector<HistoryOpenObject>& open, uint32_t object_limit);

  // ---- reads ----
  // The object's samples with t in [t0, t1], ascending (appended to *out, with their metadata
  // to *meta when not null and metadata is kept). With `neighbours`, also the last sample
  // before t0 and the first after t1 when they exist (so a window's ends can be
  // interpolated).
  void Timeline(uint32_t object, int64_t t0, int64_t t1, bool neighbours, std::vector<Fix>* out,
                std::vector<std::string_view>* meta = nullptr) const;
  // Whether the object has any sample; its first and last times.
  bool Span(uint32_t object, int64_t* first, int64_t* last) const;
  // Appends to *out (sorted, unique) every object whose index boxes meet the x/y box
  // [box[0], box[2]] x [box[1], box[3]] during [t0, t1]: a superset of the objects whose
  // path is in the box at some instant of [t0, t1]. Geographic: x within [-180, 180].
  void Candidates(const std::array<double, 4>& box, int64_t t0, int64_t t1,
                  std::vector<uint32_t>* out) const;
  // Like Candidates, but one span per index entry that meets the box (unsorted, unmerged, not
  // clipped to [t0, t1]): a search decides only those stretches of each path instead of the
  // whole window. Bridges, and runs of images without row numbers, give [t0, t1].
  void CandidateSpans(const std::array<double, 4>& box, int64_t t0, int64_t t1,
                      std::vector<HistorySpan>* out) const;
  // The same as Timeline(span.object, span.t0, span.t1, true, out). A span of a sealed run
  // (CandidateSpans) is read from the chunk's rows in place, without searching the object's
  // chunks, when no other chunk and no open sample holds samples of the object among that
  // chunk's times and both neighbours are in the chunk; returns whether it was (else it
  // reads Timeline).
  bool Stretch(const HistorySpan& span, std::vector<Fix>* out) const;
  // Every index entry (object, box) whose time range meets [t0, t1]: the input of joins.
  void Entries(int64_t t0, int64_t t1, std::vector<std::pair<uint32_t, SpaceTimeBox>>* out) const;
  // Objects with at least one sample (ids < object_limit()).
  uint32_t object_limit() const;
  HistoryCounts Counts() const;

 private:
  struct Chunk;
  struct ObjectState;
  ObjectState& State(uint32_t object);
  // The samples of the object nearest to t on either side (excluding t itself), over chunks
  // and tail.
  void Neighbours(uint32_t object, int64_t t, const Fix** pred, const Fix** succ,
                  Fix* pred_buf, Fix* succ_buf) const;
  // After samples of `object` in [t0, t1] were removed: the bridge over what remains there.
  void Bridge(uint32_t object, int64_t t0, int64_t t1);
  void RefreshLast(uint32_t object);
  // Marks every sealed chunk of `object` whose times of the object meet [lo, hi] as
  // overlapped there; returns whether any did.
  bool MarkOverlaps(uint32_t object, int64_t lo, int64_t hi);
  void NoteTail(uint32_t object);

  HistoryConfig config_;
  std::vector<ObjectState> objects_;
  std::vector<std::unique_ptr<Chunk>> chunks_;  // by sequence; null once dropped
  std::vector<uint32_t> tail_objects_;          // objects with a tail or a bridge
  size_t open_samples_ = 0;
  size_t sealed_samples_ = 0;
  size_t live_chunks_ = 0;
};

}  // namespace locus::engine

#endif  // LOCUS_ENGINE_HISTORY_H_
