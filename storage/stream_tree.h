// StreamTree: queries an index file (docs/FORMAT.md) through a RangeReader, reading only the
// byte ranges a query needs: from a local file, or straight from remote object storage over
// HTTP range requests (storage/http_range_reader.h).
//
// Open reads the superblock, the chunk directory, the tree chunk's header and the metadata,
// then caches the tree's upper levels, top down, while they fit StreamOptions::cache_bytes.
// A range search then walks the remaining levels one at a time: it collects the nodes of the
// level the query reaches, turns them into byte ranges, merges ranges closer than
// coalesce_gap into one read, and hands the whole level to RangeReader::ReadMany (one batch
// per level, so a remote reader issues a level's requests concurrently). Payloads of the
// hits are fetched the same way, in leaf order.
//
// Both tree layouts stream. Boxes-then-ids needs one range per coordinate array (and one for
// the ids at the leaves) per node; node-interleaved files (WriteOptions::layout) keep a node's
// boxes and ids together, one range per node, and their upper levels form one prefix read.
//
// Trust: the superblock and the directory are verified by their checksums; the metadata
// chunk and the payload header by theirs (both are read whole). Tree and payload bytes read
// per query cannot be checked against a whole-chunk checksum, so every node read is validated
// structurally before use (real boxes finite and uncrossed and inside their parent, padding
// slots the empty box, leaf ids below the item count, padding ids 0xFFFFFFFF, payload offsets
// in range): bad bytes give a Corruption error, never a crash, a hang or undefined
// behaviour. (Duplicate ids across nodes, which only a whole read can see, are not detected.)
//
// Limits: every query runs under QueryLimits (reads, bytes, items); a query that would pass
// one fails with ResourceExhausted before issuing the read that would exceed it.
//
// Results equal the in-memory RTreeView::Search on the same file, in the same (tree) order.
// kNN, raycasts, polygons and joins need the whole tree: use TreeView or MappedTree.
//
// Thread safety: a StreamTree is immutable after Open. Queries may run concurrently; each
// takes the reader to use, so the cached directory can serve many requests, each with its
// own reader (or one shared thread-safe reader).
#ifndef LOCUS_STORAGE_STREAM_TREE_H_
#define LOCUS_STORAGE_STREAM_TREE_H_

#include <cstdint>
#include <limits>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "engine/rtree_view.h"
#include "locus/status.h"
#include "storage/range_reader.h"

namespace locus::storage {

// Per-query limits. The defaults are unlimited.
struct QueryLimits {
  uint64_t max_reads = std::numeric_limits<uint64_t>::max();  // range requests
  uint64_t max_bytes = std::numeric_limits<uint64_t>::max();  // bytes requested
  uint64_t max_items = std::numeric_limits<uint64_t>::max();  // hits returned
};

struct StreamOptions {
  // Upper levels are cached, top down, while their bytes fit this budget (the top level is
  // always cached, whatever its size: at most node_size boxes).
  uint64_t cache_bytes = 1 << 20;
  // Ranges of one batch separated by at most this many bytes are read as one range (reading
  // the gap): fewer requests for a few wasted bytes. 0 merges only adjacent ranges.
  uint64_t coalesce_gap = 4096;
  // Open's first read: this many bytes from the start of the file, which usually holds the
  // superblock, the directory and the tree chunk's header, so Open needs ~2 reads.
  uint64_t header_bytes = 16384;
  // Open reads the metadata chunk whole; a larger one fails with ResourceExhausted (a file,
  // or a server, could otherwise make Open allocate whatever it claims).
  uint64_t max_metadata_bytes = 16 << 20;
  // The limits a query runs under when it is given none.
  QueryLimits limits;
};

// What a call read: the range requests issued, their bytes, and the ReadMany batches.
struct ReadStats {
  uint64_t reads = 0;
  uint64_t bytes = 0;
  uint64_t batches = 0;
  void Add(const ReadStats& o) {
    reads += o.reads;
    bytes += o.bytes;
    batches += o.batches;
  }
};

// The hits of a streamed search, in tree order.
struct StreamHits {
  std::vector<uint32_t> ids;        // item ids (as given to PackedRTree::Build)
  std::vector<uint64_t> positions;  // each hit's leaf position (where its payload is stored)
  // Filled by SearchWithPayloads / ReadPayloads: hit i's payload is
  // payload_data[payload_offsets[i], payload_offsets[i + 1]).
  std::vector<uint8_t> payload_data;
  std::vector<uint64_t> payload_offsets;

  size_t size() const { return ids.size(); }
  std::span<const uint8_t> payload(size_t i) const {
    return std::span<const uint8_t>(payload_data).subspan(
        payload_offsets[i], payload_offsets[i + 1] - payload_offsets[i]);
  }
  void clear() {
    ids.clear();
    positions.clear();
    payload_data.clear();
    payload_offsets.clear();
  }
};

template <int kDims, typename T>
class StreamTree {
 public:
  using Box = typename engine::RTreeView<kDims, T>::Box;

  // Reads and validates the file's directory and caches its upper levels. `reader` is used
  // only during the call. Fails with InvalidArgument when the file holds another tree type
  // (see ReadIndexInfo), Corruption on bad bytes, or the reader's error.
  static Result<StreamTree> Open(RangeReader& reader, const StreamOptions& options = {});

  // Replaces *out with the items whose box intersects `query` (touching
  // counts), in tree order, with their leaf positions. `stats` (optional) receives what the
  // call read. Uses the limits of StreamOptions, or `limits`.
  Status Search(RangeReader& reader, const Box& query, StreamHits* out,
                ReadStats* stats = nullptr) const {
    return Search(reader, query, options_.limits, out, stats);
  }
  Status Search(RangeReader& reader, const Box& query, const QueryLimits& limits,
                StreamHits* out, ReadStats* stats = nullptr) const;

  // Search, then read every hit's payload; the limits cover the whole call.
  Status SearchWithPayloads(RangeReader& reader, const Box& query, const QueryLimits& limits,
                            StreamHits* out, ReadStats* stats = nullptr) const;

  // Reads the payloads of out->positions into out->payload_data / payload_offsets (empty
  // payloads if the file has none). Positions must be leaf positions (below size()), as a
  // search of this tree returns them; InvalidArgument otherwise.
  Status ReadPayloads(RangeReader& reader, const QueryLimits& limits, StreamHits* out,
                      ReadStats* stats = nullptr) const;

  size_t size() const { return num_items_; }
  uint32_t node_size() const { return node_size_; }
  bool interleaved() const { return interleaved_; }
  bool has_payloads() const { return payload_kind_ != 0; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  // The levels held in memory (the top ones) and their bytes.
  uint32_t num_levels() const { return static_cast<uint32_t>(level_begin_.size()) - 1; }
  uint32_t cached_levels() const { return num_levels() - first_cached_; }
  uint64_t cached_bytes() const { return cached_bytes_; }
  // What Open read.
  const ReadStats& open_stats() const { return open_stats_; }

 private:
  // ReadPayloads, adding what it reads to *total (the limits count from there).
  Status ReadPayloadsInto(RangeReader& reader, const QueryLimits& limits, StreamHits* out,
                          ReadStats* total) const;

  StreamOptions options_;
  uint64_t num_items_ = 0;
  uint32_t node_size_ = 0;
  bool interleaved_ = false;
  std::vector<uint64_t> level_begin_;     // slot offsets, as in the file
  std::vector<uint64_t> real_per_level_;  // real slots of each level
  // Byte positions (absolute file offsets). Boxes-then-ids: array_offset_[i] for min[0..D),
  // max[0..D), ids. Node-interleaved: level_offset_[l] and record_size_[l].
  std::vector<uint64_t> array_offset_;
  std::vector<uint64_t> level_offset_;
  std::vector<uint64_t> record_size_;
  // Cached levels [first_cached_, num_levels): SoA boxes over those levels' slots, indexed by
  // slot - level_begin_[first_cached_]; and the ids when level 0 is cached.
  uint32_t first_cached_ = 0;
  std::vector<T> cache_min_[kDims], cache_max_[kDims];
  std::vector<uint32_t> cache_ids_;
  uint64_t cached_bytes_ = 0;
  // Payloads: kind 0 none, 1 variable, 2 fixed; absolute offsets of the offsets and data.
  uint8_t payload_kind_ = 0;
  uint32_t payload_width_ = 0;
  uint64_t payload_offsets_at_ = 0, payload_data_at_ = 0, payload_data_length_ = 0;
  std::map<std::string, std::string> metadata_;
  ReadStats open_stats_;
};

#define LOCUS_STORAGE_STREAM_EXTERN(D, T) extern template class StreamTree<D, T>;
LOCUS_STORAGE_STREAM_EXTERN(2, double)
LOCUS_STORAGE_STREAM_EXTERN(3, double)
LOCUS_STORAGE_STREAM_EXTERN(2, float)
LOCUS_STORAGE_STREAM_EXTERN(3, float)
#undef LOCUS_STORAGE_STREAM_EXTERN

}  // namespace locus::storage

#endif  // LOCUS_STORAGE_STREAM_TREE_H_
