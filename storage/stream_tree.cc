// StreamTree (stream_tree.h): range search and payload retrieval by byte ranges.
//
// Everything read is untrusted. The directory parsing is shared with the whole-file loaders
// (index_format.h); the per-node checks here are the streaming counterpart of the loaders'
// array validation, applied to each node as it arrives.
#include "storage/stream_tree.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "storage/crc32c.h"
#include "storage/index_format.h"

namespace locus::storage {
namespace {

using internal::Add;

uint64_t SatAdd(uint64_t a, uint64_t b) {
  uint64_t r;
  return Add(a, b, &r) ? r : std::numeric_limits<uint64_t>::max();
}

// Collects the ranges of one batch, merges those closer than `gap`, checks the query's
// limits, reads them with one ReadMany and hands out each requested range's bytes.
class Fetcher {
 public:
  Fetcher(RangeReader& reader, const QueryLimits& limits, uint64_t gap, ReadStats* total)
      : reader_(reader), limits_(limits), gap_(gap), total_(total) {}

  // Adds a range; returns its handle for Data(). Zero-length ranges read nothing.
  size_t Add(uint64_t offset, uint64_t length) {
    wanted_.push_back({offset, length});
    return wanted_.size() - 1;
  }
  size_t pending() const { return wanted_.size(); }

  // Reads every added range. Fails with ResourceExhausted (before reading anything) when
  // the batch would pass the limits, or with the reader's error.
  Status Fetch() {
    const size_t k = wanted_.size();
    order_.resize(k);
    for (size_t i = 0; i < k; ++i) order_[i] = static_cast<uint32_t>(i);
    std::stable_sort(order_.begin(), order_.end(), [this](uint32_t a, uint32_t b) {
      return wanted_[a].offset < wanted_[b].offset;
    });
    merged_.clear();
    where_.assign(k, {0, 0});
    for (uint32_t i : order_) {
      const Range& w = wanted_[i];
      if (w.length == 0) continue;
      const uint64_t end = w.offset + w.length;  // inside the file: no overflow
      if (!merged_.empty() && w.offset <= SatAdd(merged_.back().offset + merged_.back().length,
                                                 gap_)) {
        Range& m = merged_.back();
        m.length = std::max(m.offset + m.length, end) - m.offset;
      } else {
        merged_.push_back({w.offset, w.length});
      }
      where_[i] = {merged_.size() - 1, w.offset - merged_.back().offset};
    }
    uint64_t bytes = 0;
    for (const Range& m : merged_) bytes += m.length;
    if (SatAdd(total_->reads, merged_.size()) > limits_.max_reads) {
      return ResourceExhaustedError(
          "query limit: the next level needs " + std::to_string(merged_.size()) +
          " more range reads after " + std::to_string(total_->reads) +
          ", max_reads = " + std::to_string(limits_.max_reads));
    }
    if (SatAdd(total_->bytes, bytes) > limits_.max_bytes) {
      return ResourceExhaustedError("query limit: the next level needs " +
                                    std::to_string(bytes) + " more bytes after " +
                                    std::to_string(total_->bytes) +
                                    ", max_bytes = " + std::to_string(limits_.max_bytes));
    }
    buffer_.resize(bytes);
    starts_.resize(merged_.size());
    requests_.resize(merged_.size());
    uint64_t at = 0;
    for (size_t m = 0; m < merged_.size(); ++m) {
      starts_[m] = at;
      requests_[m] = {merged_[m].offset, std::span<uint8_t>(buffer_.data() + at, merged_[m].length)};
      at += merged_[m].length;
    }
    if (!merged_.empty()) {
      LOCUS_RETURN_IF_ERROR(reader_.ReadMany(requests_));
      total_->reads += merged_.size();
      total_->bytes += bytes;
      total_->batches += 1;
    }
    return Status();
  }

  // The bytes of range `handle` (valid until the next Reset).
  const uint8_t* Data(size_t handle) const {
    const auto [m, delta] = where_[handle];
    return wanted_[handle].length == 0 ? nullptr : buffer_.data() + starts_[m] + delta;
  }

  void Reset() { wanted_.clear(); }

 private:
  struct Range {
    uint64_t offset, length;
  };
  RangeReader& reader_;
  const QueryLimits& limits_;
  const uint64_t gap_;
  ReadStats* total_;
  std::vector<Range> wanted_, merged_;
  std::vector<uint32_t> order_;
  std::vector<std::pair<size_t, uint64_t>> where_;  // merged range, offset inside it
  std::vector<uint64_t> starts_;
  std::vector<ReadRequest> requests_;
  std::vector<uint8_t> buffer_;
};

// Outward rounding of a query coordinate to T, as the in-memory tree does (a query box
// rounded outward finds every item the exact query finds).
template <typename T>
T Down(double v) {
  const T t = static_cast<T>(v);
  return static_cast<double>(t) > v ? std::nextafter(t, -std::numeric_limits<T>::infinity()) : t;
}
template <typename T>
T Up(double v) {
  const T t = static_cast<T>(v);
  return static_cast<double>(t) < v ? std::nextafter(t, std::numeric_limits<T>::infinity()) : t;
}

double Lo(const Box2& b, int a) { return a == 0 ? b.min.x : b.min.y; }
double Hi(const Box2& b, int a) { return a == 0 ? b.max.x : b.max.y; }
double Lo(const Box3& b, int a) { return a == 0 ? b.min.x : a == 1 ? b.min.y : b.min.z; }
double Hi(const Box3& b, int a) { return a == 0 ? b.max.x : a == 1 ? b.max.y : b.max.z; }

template <typename T>
bool IsEmpty(T lo, T hi) {
  return lo == std::numeric_limits<T>::infinity() && hi == -std::numeric_limits<T>::infinity();
}

// One node's children (a group of node_size slots), decoded.
template <int kDims, typename T>
struct Group {
  T min[kDims][engine::kMaxNodeSize];
  T max[kDims][engine::kMaxNodeSize];
  uint32_t ids[engine::kMaxNodeSize];
};

// A parent's box, for the containment check of its children.
template <int kDims, typename T>
struct ParentBox {
  T min[kDims], max[kDims];
};

// Checks one group of `level` (validated slots `real` of `ns`): real boxes finite,
// uncrossed and inside `parent` (when given), padding the empty box; at level 0 real ids
// below n and padding ids kNoId.
template <int kDims, typename T>
Status CheckGroup(const Group<kDims, T>& g, uint32_t level, uint64_t group, uint32_t ns,
                  uint32_t real, uint64_t n, const ParentBox<kDims, T>* parent) {
  auto where = [&](uint32_t i) {
    return "tree chunk (streamed): level " + std::to_string(level) + " slot " +
           std::to_string(group * ns + i);
  };
  for (uint32_t i = 0; i < ns; ++i) {
    for (int a = 0; a < kDims; ++a) {
      const T lo = g.min[a][i], hi = g.max[a][i];
      if (i < real) {
        if (!(std::isfinite(lo) && std::isfinite(hi) && lo <= hi)) {
          return CorruptionError(where(i) + " on axis " + std::to_string(a) + ": [" +
                                 std::to_string(lo) + ", " + std::to_string(hi) +
                                 "] is not a finite, uncrossed box");
        }
        if (parent != nullptr && (lo < parent->min[a] || hi > parent->max[a])) {
          return CorruptionError(where(i) + " is not inside its parent on axis " +
                                 std::to_string(a));
        }
      } else if (!IsEmpty(lo, hi)) {
        return CorruptionError(where(i) + " (padding) is not the empty box");
      }
    }
    if (level == 0) {
      const uint32_t id = g.ids[i];
      if (i < real ? id >= n : id != engine::kNoId) {
        return CorruptionError(where(i) + ": id " + std::to_string(id) +
                               (i < real ? " is not below the item count " + std::to_string(n)
                                         : " in a padding slot (expected 0xffffffff)"));
      }
    }
  }
  return Status();
}

}  // namespace

template <int kDims, typename T>
Result<StreamTree<kDims, T>> StreamTree<kDims, T>::Open(RangeReader& reader,
                                                        const StreamOptions& options) {
  StreamTree t;
  t.options_ = options;
  ReadStats& st = t.open_stats_;
  const std::optional<uint64_t> known_size = reader.size();

  // 1. The prefix: superblock, and usually the directory and the tree chunk's fields.
  uint64_t want = std::max<uint64_t>(options.header_bytes, internal::kSuperblockSize);
  if (known_size) {
    if (*known_size < internal::kSuperblockSize) {
      return CorruptionError(reader.name() + ": " + std::to_string(*known_size) +
                             " bytes: shorter than the 64-byte superblock (truncated?)");
    }
    want = std::min(want, *known_size);
  }
  std::vector<uint8_t> prefix(want);
  Status s = reader.ReadAt(0, prefix);
  ++st.reads;
  ++st.batches;
  st.bytes += want;
  if (!s.ok() && !known_size && want > internal::kSuperblockSize) {
    // Unknown size and a small file: the reader may have learnt the size; else read the
    // superblock alone.
    want = internal::kSuperblockSize;
    if (auto size = reader.size(); size && *size >= want) want = std::min(prefix.size(), *size);
    prefix.resize(want);
    s = reader.ReadAt(0, prefix);
    ++st.reads;
    ++st.batches;
    st.bytes += want;
  }
  LOCUS_RETURN_IF_ERROR(s);
  // Bytes [offset, offset + length) of the file: from the prefix, or one more read.
  auto bytes_at = [&](uint64_t offset, uint64_t length,
                      std::vector<uint8_t>* out) -> Status {
    uint64_t end;
    if (Add(offset, length, &end) && end <= prefix.size()) {
      out->assign(prefix.begin() + offset, prefix.begin() + end);
      return Status();
    }
    out->resize(length);
    ++st.reads;
    ++st.batches;
    st.bytes += length;
    return reader.ReadAt(offset, *out);
  };

  internal::Superblock sb;
  LOCUS_RETURN_IF_ERROR(internal::ParseSuperblock(prefix, &sb));
  // A remote reader learns the size from its first response: from here on every range the
  // file claims is checked against what the reader really holds.
  if (const std::optional<uint64_t> size = reader.size(); size && *size < sb.file_length) {
    return CorruptionError(reader.name() + " is truncated: superblock says " +
                           std::to_string(sb.file_length) + " bytes, the reader has " +
                           std::to_string(*size));
  }
  LOCUS_RETURN_IF_ERROR(internal::CheckDirectoryRange(sb));
  std::vector<uint8_t> dir;
  LOCUS_RETURN_IF_ERROR(bytes_at(sb.directory_offset, sb.DirectoryLength(), &dir));
  std::vector<internal::Chunk> chunks;
  LOCUS_RETURN_IF_ERROR(internal::ParseDirectory(dir, sb, &chunks));
  internal::KnownChunks known;
  LOCUS_RETURN_IF_ERROR(internal::ClassifyChunks(chunks, &known));

  // 2. The tree chunk's fields.
  const internal::Chunk& tc = *known.tree;
  std::vector<uint8_t> fields;
  LOCUS_RETURN_IF_ERROR(
      bytes_at(tc.offset, std::min<uint64_t>(tc.length, internal::kMaxTreeFieldsSize), &fields));
  internal::TreeShape shape;
  uint64_t fields_end;
  LOCUS_RETURN_IF_ERROR(
      internal::ParseTreeFields(fields, tc.length, kDims, sizeof(T), &shape, &fields_end));
  t.num_items_ = shape.num_items;
  t.node_size_ = shape.node_size;
  t.interleaved_ = shape.layout == internal::kLayoutNodeInterleaved;
  t.level_begin_ = shape.level_begin;
  t.real_per_level_ = shape.real_per_level;
  for (const auto& a : shape.arrays) t.array_offset_.push_back(tc.offset + a.offset);
  if (t.interleaved_) {
    t.level_offset_.resize(shape.num_levels());
    t.record_size_.resize(shape.num_levels());
    for (uint32_t l = 0; l < shape.num_levels(); ++l) {
      t.level_offset_[l] = tc.offset + shape.LevelArray(l).offset;
      t.record_size_[l] = shape.RecordSize(l);
    }
  }

  // 3. Metadata (read whole and checksummed) and the payload header.
  if (known.metadata != nullptr) {
    if (known.metadata->length > options.max_metadata_bytes) {
      return ResourceExhaustedError("metadata chunk: " + std::to_string(known.metadata->length) +
                                    " bytes, more than StreamOptions::max_metadata_bytes = " +
                                    std::to_string(options.max_metadata_bytes));
    }
    std::vector<uint8_t> meta;
    LOCUS_RETURN_IF_ERROR(bytes_at(known.metadata->offset, known.metadata->length, &meta));
    if (const uint32_t crc = Crc32c(meta); crc != known.metadata->crc) {
      return CorruptionError("metadata chunk: checksum mismatch (stored " +
                             internal::Hex32(known.metadata->crc) + ", computed " +
                             internal::Hex32(crc) + ")");
    }
    LOCUS_RETURN_IF_ERROR(internal::ParseMetadata(meta, &t.metadata_));
  }
  if (known.payload != nullptr) {
    const internal::Chunk& pc = *known.payload;
    std::vector<uint8_t> header;
    LOCUS_RETURN_IF_ERROR(bytes_at(
        pc.offset, std::min<uint64_t>(pc.length, internal::kPayloadHeaderSize), &header));
    internal::PayloadHeader ph;
    LOCUS_RETURN_IF_ERROR(internal::ParsePayloadHeader(header, pc.length, t.num_items_, &ph));
    t.payload_kind_ = ph.kind == internal::kPayloadFixed ? 2 : 1;
    t.payload_width_ = ph.width;
    t.payload_offsets_at_ = pc.offset + ph.offsets_at;
    t.payload_data_at_ = pc.offset + ph.data_at;
    t.payload_data_length_ = ph.data_length;
  }

  // 4. The upper levels, top down, within the cache budget (the top level always).
  const uint32_t levels = shape.num_levels();
  t.first_cached_ = levels;
  if (levels == 0) return t;
  const uint64_t ns = shape.node_size;
  const uint64_t slot_bytes = 2 * kDims * sizeof(T);
  uint64_t budget_used = 0;
  while (t.first_cached_ > 0) {
    const uint32_t l = t.first_cached_ - 1;
    const uint64_t slots = shape.level_begin[l + 1] - shape.level_begin[l];
    const uint64_t cost = slots * (slot_bytes + (l == 0 ? 4 : 0));
    if (l + 1 < levels && SatAdd(budget_used, cost) > options.cache_bytes) break;
    budget_used += cost;
    t.first_cached_ = l;
  }
  const uint64_t base = shape.level_begin[t.first_cached_];
  const uint64_t cached_slots = shape.num_slots - base;
  for (int a = 0; a < kDims; ++a) {
    t.cache_min_[a].resize(cached_slots);
    t.cache_max_[a].resize(cached_slots);
  }
  if (t.first_cached_ == 0) t.cache_ids_.resize(shape.num_leaf_slots);
  t.cached_bytes_ = budget_used;

  // One batch: the cached levels' records, or the tails of the coordinate arrays.
  QueryLimits unlimited;
  Fetcher f(reader, unlimited, options.coalesce_gap, &st);
  std::vector<size_t> handles;
  if (t.interleaved_) {
    for (uint32_t l = t.first_cached_; l < levels; ++l) {
      handles.push_back(f.Add(t.level_offset_[l], shape.LevelArray(l).length));
    }
  } else {
    for (int a = 0; a < 2 * kDims; ++a) {
      handles.push_back(f.Add(t.array_offset_[a] + base * sizeof(T), cached_slots * sizeof(T)));
    }
    if (t.first_cached_ == 0) {
      handles.push_back(f.Add(t.array_offset_[2 * kDims], shape.num_leaf_slots * 4));
    }
  }
  LOCUS_RETURN_IF_ERROR(f.Fetch());
  if (t.interleaved_) {
    for (uint32_t l = t.first_cached_; l < levels; ++l) {
      const uint8_t* src = f.Data(handles[l - t.first_cached_]);
      const uint64_t groups = (shape.level_begin[l + 1] - shape.level_begin[l]) / ns;
      for (uint64_t g = 0; g < groups; ++g) {
        const uint8_t* p = src + g * t.record_size_[l];
        const uint64_t s0 = shape.level_begin[l] - base + g * ns;
        for (int a = 0; a < kDims; ++a, p += ns * sizeof(T)) {
          std::memcpy(t.cache_min_[a].data() + s0, p, ns * sizeof(T));
        }
        for (int a = 0; a < kDims; ++a, p += ns * sizeof(T)) {
          std::memcpy(t.cache_max_[a].data() + s0, p, ns * sizeof(T));
        }
        if (l == 0) std::memcpy(t.cache_ids_.data() + g * ns, p, ns * 4);
      }
    }
  } else {
    for (int a = 0; a < kDims; ++a) {
      std::memcpy(t.cache_min_[a].data(), f.Data(handles[a]), cached_slots * sizeof(T));
      std::memcpy(t.cache_max_[a].data(), f.Data(handles[kDims + a]), cached_slots * sizeof(T));
    }
    if (t.first_cached_ == 0) {
      std::memcpy(t.cache_ids_.data(), f.Data(handles[2 * kDims]), shape.num_leaf_slots * 4);
    }
  }
  // Validate the cached levels node by node, each against its parent.
  Group<kDims, T> g;
  for (uint32_t l = levels; l-- > t.first_cached_;) {
    const uint64_t groups = (shape.level_begin[l + 1] - shape.level_begin[l]) / ns;
    for (uint64_t k = 0; k < groups; ++k) {
      const uint64_t s0 = shape.level_begin[l] - base + k * ns;
      for (int a = 0; a < kDims; ++a) {
        std::memcpy(g.min[a], t.cache_min_[a].data() + s0, ns * sizeof(T));
        std::memcpy(g.max[a], t.cache_max_[a].data() + s0, ns * sizeof(T));
      }
      if (l == 0) std::memcpy(g.ids, t.cache_ids_.data() + k * ns, ns * 4);
      ParentBox<kDims, T> parent;
      if (l + 1 < levels) {
        const uint64_t ps = shape.level_begin[l + 1] - base + k;
        for (int a = 0; a < kDims; ++a) {
          parent.min[a] = t.cache_min_[a][ps];
          parent.max[a] = t.cache_max_[a][ps];
        }
      }
      const uint64_t real = std::min<uint64_t>(ns, shape.real_per_level[l] - k * ns);
      Status checked = CheckGroup<kDims, T>(g, l, k, shape.node_size, static_cast<uint32_t>(real),
                                            t.num_items_, l + 1 < levels ? &parent : nullptr);
      LOCUS_RETURN_IF_ERROR(checked);
    }
  }
  return t;
}

template <int kDims, typename T>
Status StreamTree<kDims, T>::Search(RangeReader& reader, const Box& query,
                                    const QueryLimits& limits, StreamHits* out,
                                    ReadStats* stats) const {
  out->clear();
  ReadStats local;
  ReadStats& total = stats != nullptr ? *stats : local;
  total = ReadStats();
  LOCUS_RETURN_IF_ERROR(ValidateBox(query, "query"));
  const uint32_t levels = num_levels();
  if (levels == 0 || num_items_ == 0) return Status();
  T qlo[kDims], qhi[kDims];
  for (int a = 0; a < kDims; ++a) {
    qlo[a] = Down<T>(Lo(query, a));
    qhi[a] = Up<T>(Hi(query, a));
  }
  const uint32_t ns = node_size_;
  const uint64_t cache_base = level_begin_[first_cached_];

  // The frontier: groups of the current level to examine, with their parents' boxes.
  std::vector<uint64_t> groups{0}, next;
  std::vector<ParentBox<kDims, T>> parents(1), next_parents;
  Fetcher f(reader, limits, options_.coalesce_gap, &total);
  std::vector<size_t> handles;
  Group<kDims, T> g;
  for (uint32_t l = levels; l-- > 0;) {
    const bool cached = l >= first_cached_;
    const uint64_t lb = level_begin_[l];
    if (!cached) {
      // One batch for the whole level.
      f.Reset();
      handles.clear();
      for (uint64_t k : groups) {
        if (interleaved_) {
          handles.push_back(f.Add(level_offset_[l] + k * record_size_[l], record_size_[l]));
        } else {
          for (int a = 0; a < 2 * kDims; ++a) {
            handles.push_back(f.Add(array_offset_[a] + (lb + k * ns) * sizeof(T), ns * sizeof(T)));
          }
          if (l == 0) handles.push_back(f.Add(array_offset_[2 * kDims] + k * ns * 4, ns * 4));
        }
      }
      LOCUS_RETURN_IF_ERROR(f.Fetch());
    }
    next.clear();
    next_parents.clear();
    const size_t per_group = interleaved_ ? 1 : 2 * kDims + (l == 0 ? 1 : 0);
    for (size_t gi = 0; gi < groups.size(); ++gi) {
      const uint64_t k = groups[gi];
      const uint64_t real = std::min<uint64_t>(ns, real_per_level_[l] - k * ns);
      if (cached) {
        const uint64_t s0 = lb - cache_base + k * ns;
        for (int a = 0; a < kDims; ++a) {
          std::memcpy(g.min[a], cache_min_[a].data() + s0, ns * sizeof(T));
          std::memcpy(g.max[a], cache_max_[a].data() + s0, ns * sizeof(T));
        }
        if (l == 0) std::memcpy(g.ids, cache_ids_.data() + k * ns, ns * 4);
      } else {
        if (interleaved_) {
          const uint8_t* p = f.Data(handles[gi]);
          for (int a = 0; a < kDims; ++a, p += ns * sizeof(T)) std::memcpy(g.min[a], p, ns * sizeof(T));
          for (int a = 0; a < kDims; ++a, p += ns * sizeof(T)) std::memcpy(g.max[a], p, ns * sizeof(T));
          if (l == 0) std::memcpy(g.ids, p, ns * 4);
        } else {
          const size_t h = gi * per_group;
          for (int a = 0; a < kDims; ++a) {
            std::memcpy(g.min[a], f.Data(handles[h + a]), ns * sizeof(T));
            std::memcpy(g.max[a], f.Data(handles[h + kDims + a]), ns * sizeof(T));
          }
          if (l == 0) std::memcpy(g.ids, f.Data(handles[h + 2 * kDims]), ns * 4);
        }
        Status checked = CheckGroup<kDims, T>(g, l, k, ns, static_cast<uint32_t>(real),
                                              num_items_, &parents[gi]);
        LOCUS_RETURN_IF_ERROR(checked);
      }
      for (uint32_t i = 0; i < real; ++i) {
        bool hit = true;
        for (int a = 0; a < kDims; ++a) hit &= g.min[a][i] <= qhi[a] && g.max[a][i] >= qlo[a];
        if (!hit) continue;
        const uint64_t child = k * ns + i;
        if (l > 0) {
          next.push_back(child);
          ParentBox<kDims, T>& pb = next_parents.emplace_back();
          for (int a = 0; a < kDims; ++a) {
            pb.min[a] = g.min[a][i];
            pb.max[a] = g.max[a][i];
          }
        } else {
          if (out->ids.size() >= limits.max_items) {
            return ResourceExhaustedError("query limit: more than max_items = " +
                                          std::to_string(limits.max_items) + " hits");
          }
          out->ids.push_back(g.ids[i]);
          out->positions.push_back(child);
        }
      }
    }
    if (next.empty() && l > 0) break;
    std::swap(groups, next);
    std::swap(parents, next_parents);
  }
  return Status();
}

template <int kDims, typename T>
Status StreamTree<kDims, T>::ReadPayloads(RangeReader& reader, const QueryLimits& limits,
                                          StreamHits* out, ReadStats* stats) const {
  ReadStats local;
  ReadStats& total = stats != nullptr ? *stats : local;
  total = ReadStats();
  return ReadPayloadsInto(reader, limits, out, &total);
}

template <int kDims, typename T>
Status StreamTree<kDims, T>::ReadPayloadsInto(RangeReader& reader, const QueryLimits& limits,
                                              StreamHits* out, ReadStats* total_out) const {
  ReadStats& total = *total_out;
  const size_t k = out->positions.size();
  out->payload_data.clear();
  out->payload_offsets.assign(k + 1, 0);
  for (uint64_t p : out->positions) {
    if (p >= num_items_) {
      return InvalidArgumentError("positions: " + std::to_string(p) +
                                  " is not a leaf position below size() = " +
                                  std::to_string(num_items_));
    }
  }
  if (payload_kind_ == 0 || k == 0) return Status();
  Fetcher f(reader, limits, options_.coalesce_gap, &total);
  std::vector<uint64_t> begin(k), end(k);
  if (payload_kind_ == 2) {
    for (size_t i = 0; i < k; ++i) {
      begin[i] = out->positions[i] * payload_width_;
      end[i] = begin[i] + payload_width_;
    }
  } else {
    // The offsets first: offsets[p] and offsets[p + 1] of each hit.
    std::vector<size_t> h(k);
    for (size_t i = 0; i < k; ++i) h[i] = f.Add(payload_offsets_at_ + 8 * out->positions[i], 16);
    LOCUS_RETURN_IF_ERROR(f.Fetch());
    for (size_t i = 0; i < k; ++i) {
      const uint8_t* p = f.Data(h[i]);
      begin[i] = internal::LoadLe<uint64_t>(p);
      end[i] = internal::LoadLe<uint64_t>(p + 8);
      if (begin[i] > end[i] || end[i] > payload_data_length_) {
        return CorruptionError("payload chunk (streamed): offsets of position " +
                               std::to_string(out->positions[i]) + " are [" +
                               std::to_string(begin[i]) + ", " + std::to_string(end[i]) +
                               "): not an ascending range inside data_length " +
                               std::to_string(payload_data_length_));
      }
    }
    f.Reset();
  }
  uint64_t sum = 0;
  for (size_t i = 0; i < k; ++i) sum += end[i] - begin[i];
  std::vector<size_t> h(k);
  for (size_t i = 0; i < k; ++i) h[i] = f.Add(payload_data_at_ + begin[i], end[i] - begin[i]);
  LOCUS_RETURN_IF_ERROR(f.Fetch());
  out->payload_data.resize(sum);
  uint64_t at = 0;
  for (size_t i = 0; i < k; ++i) {
    const uint64_t len = end[i] - begin[i];
    if (len > 0) std::memcpy(out->payload_data.data() + at, f.Data(h[i]), len);
    at += len;
    out->payload_offsets[i + 1] = at;
  }
  return Status();
}

template <int kDims, typename T>
Status StreamTree<kDims, T>::SearchWithPayloads(RangeReader& reader, const Box& query,
                                                const QueryLimits& limits, StreamHits* out,
                                                ReadStats* stats) const {
  ReadStats local;
  ReadStats& total = stats != nullptr ? *stats : local;
  LOCUS_RETURN_IF_ERROR(Search(reader, query, limits, out, &total));
  return ReadPayloadsInto(reader, limits, out, &total);
}

template class StreamTree<2, double>;
template class StreamTree<3, double>;
template class StreamTree<2, float>;
template class StreamTree<3, float>;

}  // namespace locus::storage
