// Loads and validates index files (docs/FORMAT.md, "Validation"). Everything read from the
// file goes through internal::LeReader (bounds-checked) or through arrays whose extent has
// been checked against the derived shape first; every size computation is overflow-checked.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "storage/crc32c.h"
#include "storage/index_file.h"
#include "storage/index_format.h"
#include "storage/index_validate.h"

namespace locus::storage {
namespace internal {

struct Backing {
  virtual ~Backing() = default;
};

namespace {

// Copies of at least this many bytes get their own anonymous map asking for transparent
// huge pages. glibc maps blocks this large afresh on every allocation (32 MiB is its largest
// dynamic mmap threshold), and first-touch page faults then dominate: on the W7 test VM a
// 38 MB copy took ~110 ms in 4 KiB faults and ~5 ms with MADV_HUGEPAGE.
constexpr size_t kHugeCopyBytes = size_t{32} << 20;

// A 64-byte aligned copy of some bytes.
struct AlignedCopy : Backing {
  explicit AlignedCopy(std::span<const uint8_t> bytes) {
    const size_t n = (bytes.size() + kAlign - 1) / kAlign * kAlign + kAlign;
    if (n >= kHugeCopyBytes) {
      void* addr = ::mmap(nullptr, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (addr != MAP_FAILED) {
        ::madvise(addr, n, MADV_HUGEPAGE);  // a hint: failure only costs speed
        data = static_cast<uint8_t*>(addr);  // page-aligned
        mapped_length = n;
      }
    }
    if (data == nullptr) data = static_cast<uint8_t*>(std::aligned_alloc(kAlign, n));
    LOCUS_CHECK(data != nullptr);
    if (!bytes.empty()) std::memcpy(data, bytes.data(), bytes.size());
    size = bytes.size();
  }
  ~AlignedCopy() override {
    if (mapped_length != 0) {
      ::munmap(data, mapped_length);
    } else {
      std::free(data);
    }
  }
  uint8_t* data = nullptr;
  size_t size = 0;
  size_t mapped_length = 0;  // non-zero: `data` is an anonymous map of this length
};

struct Mapping : Backing {
  ~Mapping() override {
    if (addr != nullptr) ::munmap(addr, length);
  }
  void* addr = nullptr;
  size_t length = 0;
};

struct Superblock {
  uint16_t major = 0, minor = 0;
  uint64_t file_length = 0;
};

struct Chunk {
  uint32_t tag = 0;
  uint32_t flags = 0;
  uint64_t offset = 0;
  uint64_t length = 0;
  uint32_t crc = 0;
};

std::string ChunkName(size_t i, uint32_t tag) {
  return "chunk " + std::to_string(i) + " (" + TagName(tag) + ")";
}

// Reads and checks the superblock and the chunk directory. On success *chunks holds the
// directory (ranges inside the file, ascending, not overlapping) and `bytes` is cut to the
// file length.
Status ReadDirectory(std::span<const uint8_t>& bytes, Superblock* sb, std::vector<Chunk>* chunks) {
  if (bytes.size() < kSuperblockSize) {
    return CorruptionError("file is " + std::to_string(bytes.size()) +
                           " bytes: shorter than the 64-byte superblock (truncated?)");
  }
  if (std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0) {
    return CorruptionError("superblock: bad magic: not a locus index file");
  }
  LeReader r(bytes.first(kSuperblockSize), "superblock");
  r.Seek(8);
  sb->major = r.U16("major version");
  sb->minor = r.U16("minor version");
  if (sb->major != kFormatMajor) {
    return CorruptionError("superblock: format version " + std::to_string(sb->major) + "." +
                           std::to_string(sb->minor) + " is not supported (this reader reads " +
                           std::to_string(kFormatMajor) + ".x)");
  }
  const uint32_t stored_crc = LoadLe<uint32_t>(bytes.data() + 60);
  const uint32_t crc = Crc32c(bytes.first(60));
  if (stored_crc != crc) {
    return CorruptionError("superblock: checksum mismatch (stored " + Hex32(stored_crc) +
                           ", computed " + Hex32(crc) + ")");
  }
  const uint32_t flags = r.U32("flags");
  sb->file_length = r.U64("file_length");
  const uint64_t dir_offset = r.U64("directory_offset");
  const uint32_t count = r.U32("chunk_count");
  const uint32_t dir_crc = r.U32("directory_crc32c");
  LOCUS_RETURN_IF_ERROR(r.status());
  if (flags != 0) {
    return CorruptionError("superblock: unknown flags " + Hex32(flags) +
                           ": written by a newer locus, cannot be read safely");
  }
  if (sb->file_length > bytes.size()) {
    return CorruptionError("file is truncated: superblock says " + std::to_string(sb->file_length) +
                           " bytes, have " + std::to_string(bytes.size()));
  }
  bytes = bytes.first(sb->file_length);
  if (count == 0 || count > kMaxChunks) {
    return CorruptionError("superblock: chunk_count = " + std::to_string(count) +
                           ": must be in [1, " + std::to_string(kMaxChunks) + "]");
  }
  uint64_t dir_end;
  if (dir_offset < kSuperblockSize || dir_offset % kAlign != 0 ||
      !Add(dir_offset, uint64_t{count} * kDirEntrySize, &dir_end) || dir_end > bytes.size()) {
    return CorruptionError("superblock: directory at offset " + std::to_string(dir_offset) +
                           " with " + std::to_string(count) + " entries is not a 64-byte " +
                           "aligned range after the superblock inside the " +
                           std::to_string(bytes.size()) + "-byte file");
  }
  const auto dir = bytes.subspan(dir_offset, dir_end - dir_offset);
  if (const uint32_t c = Crc32c(dir); c != dir_crc) {
    return CorruptionError("chunk directory: checksum mismatch (stored " + Hex32(dir_crc) +
                           ", computed " + Hex32(c) + ")");
  }
  LeReader d(dir, "chunk directory");
  uint64_t prev_end = dir_end;
  for (uint32_t i = 0; i < count; ++i) {
    Chunk c;
    c.tag = d.U32("tag");
    c.flags = d.U32("flags");
    c.offset = d.U64("offset");
    c.length = d.U64("length");
    c.crc = d.U32("crc32c");
    d.U32("reserved");
    LOCUS_RETURN_IF_ERROR(d.status());
    const std::string name = ChunkName(i, c.tag);
    if ((c.flags & ~kChunkCritical) != 0) {
      return CorruptionError(name + ": unknown flags " + Hex32(c.flags));
    }
    uint64_t end;
    if (c.offset % kAlign != 0 || c.offset < prev_end || !Add(c.offset, c.length, &end) ||
        end > bytes.size()) {
      return CorruptionError(name + ": range [" + std::to_string(c.offset) + ", +" +
                             std::to_string(c.length) + ") is not 64-byte aligned, after the " +
                             "previous chunk (" + std::to_string(prev_end) + ") and inside the " +
                             std::to_string(bytes.size()) + "-byte file");
    }
    prev_end = end;
    chunks->push_back(c);
  }
  return Status();
}

template <typename T>
bool IsEmptyBox(T lo, T hi) {
  return lo == std::numeric_limits<T>::infinity() && hi == -std::numeric_limits<T>::infinity();
}

}  // namespace
}  // namespace internal

using internal::Chunk;
using internal::LeReader;

template <int kDims, typename T>
LoadedTree<kDims, T>::LoadedTree() = default;
template <int kDims, typename T>
LoadedTree<kDims, T>::LoadedTree(LoadedTree&&) noexcept = default;
template <int kDims, typename T>
LoadedTree<kDims, T>& LoadedTree<kDims, T>::operator=(LoadedTree&&) noexcept = default;
template <int kDims, typename T>
LoadedTree<kDims, T>::~LoadedTree() = default;

template <int kDims, typename T>
Status LoadedTree<kDims, T>::Init(std::span<const uint8_t> bytes, const LoadOptions& options) {
  using internal::Add;
  internal::Superblock sb;
  std::vector<Chunk> chunks;
  LOCUS_RETURN_IF_ERROR(internal::ReadDirectory(bytes, &sb, &chunks));

  // Checksums, then the chunk kinds.
  const Chunk* tree_chunk = nullptr;
  const Chunk* payload_chunk = nullptr;
  const Chunk* meta_chunk = nullptr;
  for (size_t i = 0; i < chunks.size(); ++i) {
    const Chunk& c = chunks[i];
    const std::string name = internal::ChunkName(i, c.tag);
    const auto body = bytes.subspan(c.offset, c.length);
    if (options.verify_checksums) {
      if (const uint32_t crc = Crc32c(body); crc != c.crc) {
        return CorruptionError(name + ": checksum mismatch (stored " + internal::Hex32(c.crc) +
                               ", computed " + internal::Hex32(crc) + ")");
      }
    }
    const Chunk** slot = c.tag == internal::kTagTree       ? &tree_chunk
                         : c.tag == internal::kTagPayload  ? &payload_chunk
                         : c.tag == internal::kTagMetadata ? &meta_chunk
                                                           : nullptr;
    if (slot == nullptr) {
      if (c.flags & internal::kChunkCritical) {
        return CorruptionError(name +
                               ": unknown critical chunk: written by a newer locus, "
                               "cannot be read safely");
      }
      continue;  // unknown optional chunk: skipped
    }
    if (*slot != nullptr) return CorruptionError(name + ": a second chunk of this kind");
    *slot = &c;
  }
  if (tree_chunk == nullptr) return CorruptionError("no tree chunk ('TREE') in the directory");

  // ---- TREE ----
  const auto tree = bytes.subspan(tree_chunk->offset, tree_chunk->length);
  LeReader r(tree, "tree chunk");
  const uint8_t dims = r.U8("dims");
  const uint8_t coord = r.U8("coordinate type");
  const uint8_t layout_kind = r.U8("layout");
  const uint8_t reserved8 = r.U8("reserved");
  const uint32_t node_size = r.U32("node_size");
  const uint64_t n = r.U64("num_items");
  const uint32_t num_levels = r.U32("num_levels");
  const uint32_t reserved32 = r.U32("reserved");
  LOCUS_RETURN_IF_ERROR(r.status());
  if (reserved8 != 0 || reserved32 != 0) {
    return CorruptionError("tree chunk: reserved header bytes are not zero");
  }
  if (dims != 2 && dims != 3) {
    return CorruptionError("tree chunk: dims = " + std::to_string(dims) + ": must be 2 or 3");
  }
  if (coord != internal::kCoordF32 && coord != internal::kCoordF64) {
    return CorruptionError("tree chunk: coordinate type = " + std::to_string(coord) +
                           ": must be 1 (f32) or 2 (f64)");
  }
  if (layout_kind != internal::kLayoutBoxesThenIds) {
    return CorruptionError("tree chunk: layout = " + std::to_string(layout_kind) +
                           (layout_kind == internal::kLayoutNodeInterleaved
                                ? ": node-interleaved trees are not supported by this reader yet"
                                : ": unknown layout"));
  }
  const char* want_type = sizeof(T) == 4 ? "f32" : "f64";
  const char* have_type = coord == internal::kCoordF32 ? "f32" : "f64";
  if (dims != kDims || (coord == internal::kCoordF32) != (sizeof(T) == 4)) {
    return InvalidArgumentError("tree chunk: the file holds a " + std::to_string(dims) + "D " +
                                have_type + " tree; this loader reads " + std::to_string(kDims) +
                                "D " + want_type + " trees (see ReadIndexInfo)");
  }
  LOCUS_ASSIGN_OR_RETURN(const internal::TreeShape shape,
                         internal::DeriveTreeShape(n, node_size, kDims, sizeof(T)));
  const std::string at =
      " for " + std::to_string(n) + " items at node size " + std::to_string(node_size);
  if (num_levels != shape.num_levels()) {
    return CorruptionError("tree chunk: num_levels = " + std::to_string(num_levels) +
                           ", expected " + std::to_string(shape.num_levels()) + at);
  }
  static const char* kArrayNames[] = {"min.x", "min.y", "min.z", "max.x", "max.y", "max.z"};
  for (size_t i = 0; i < shape.arrays.size(); ++i) {
    const uint64_t off = r.U64("array offset"), len = r.U64("array length");
    LOCUS_RETURN_IF_ERROR(r.status());
    const std::string name = i + 1 == shape.arrays.size()
                                 ? std::string("ids")
                                 : kArrayNames[(i < kDims ? 0 : 3) + i % kDims];
    if (off != shape.arrays[i].offset || len != shape.arrays[i].length) {
      return CorruptionError("tree chunk: array " + name + " at offset " + std::to_string(off) +
                             " length " + std::to_string(len) + ", expected offset " +
                             std::to_string(shape.arrays[i].offset) + " length " +
                             std::to_string(shape.arrays[i].length) + at);
    }
  }
  uint64_t prev = r.U64("level_begin[0]");
  LOCUS_RETURN_IF_ERROR(r.status());
  if (prev != 0) {
    return CorruptionError("tree chunk: level_begin[0] = " + std::to_string(prev) + ", expected 0");
  }
  for (uint32_t level = 0; level < num_levels; ++level) {
    const uint64_t next = r.U64("level_begin");
    LOCUS_RETURN_IF_ERROR(r.status());
    const uint64_t want = shape.level_begin[level + 1] - shape.level_begin[level];
    if (next < prev || next - prev != want) {
      return CorruptionError("tree chunk: level " + std::to_string(level) + " length " +
                             (next < prev ? "negative" : std::to_string(next - prev)) +
                             ", expected " + std::to_string(want) + at);
    }
    prev = next;
  }
  if (tree_chunk->length != shape.chunk_length) {
    return CorruptionError("tree chunk: length " + std::to_string(tree_chunk->length) +
                           ", expected " + std::to_string(shape.chunk_length) + at);
  }
  // Every byte between the fields and the arrays, and after each array, must be zero: the
  // chunk is canonical, and the kernels' over-read slack is known to be there.
  {
    uint64_t gap_begin = r.pos();
    for (size_t i = 0; i <= shape.arrays.size(); ++i) {
      const uint64_t gap_end = i < shape.arrays.size() ? shape.arrays[i].offset : tree.size();
      for (uint64_t p = gap_begin; p < gap_end; ++p) {
        if (tree[p] != 0) {
          return CorruptionError("tree chunk: padding byte at offset " + std::to_string(p) +
                                 " is not zero");
        }
      }
      if (i < shape.arrays.size()) gap_begin = shape.arrays[i].offset + shape.arrays[i].length;
    }
  }

  // The arrays. REQUIRES (the loaders' job): the chunk base is aligned for T.
  const uint8_t* base = tree.data();
  LOCUS_CHECK(reinterpret_cast<uintptr_t>(base) % alignof(T) == 0 || shape.num_slots == 0);
  engine::RTreeLayout<kDims, T> l;
  for (int a = 0; a < kDims; ++a) {
    l.min[a] = reinterpret_cast<const T*>(base + shape.arrays[a].offset);
    l.max[a] = reinterpret_cast<const T*>(base + shape.arrays[kDims + a].offset);
  }
  l.ids = reinterpret_cast<const uint32_t*>(base + shape.arrays[2 * kDims].offset);
  l.num_levels = shape.num_levels();
  l.node_size = node_size;
  l.num_items = n;

  // Boxes: real slots finite and not crossed, padding slots exactly the empty box; every
  // real node contains its real children. points: every real leaf box is a point.
  // The fast passes (storage/index_validate.h, boxes and ids together) decide; the per-slot
  // checks below run only when one finds a problem, to name the first one.
  const uint64_t ns = node_size;
  const bool want_positions = payload_chunk != nullptr;
  std::vector<uint32_t> position;
  const internal::ArrayChecks fast =
      internal::CheckArrays(l, shape, want_positions ? &position : nullptr);
  const bool boxes_ok = fast.boxes_ok;
  bool points = boxes_ok ? fast.points : n > 0;
  for (uint32_t level = 0; !boxes_ok && level < shape.num_levels(); ++level) {
    const uint64_t begin = shape.level_begin[level], end = shape.level_begin[level + 1];
    const uint64_t real = shape.real_per_level[level];
    for (uint64_t p = 0; p < end - begin; ++p) {
      const uint64_t s = begin + p;
      for (int a = 0; a < kDims; ++a) {
        const T lo = l.min[a][s], hi = l.max[a][s];
        if (p < real) {
          if (!(std::isfinite(lo) && std::isfinite(hi) && lo <= hi)) {
            return CorruptionError("tree chunk: level " + std::to_string(level) + " slot " +
                                   std::to_string(p) + ": " + kArrayNames[a] + " = " +
                                   std::to_string(lo) + ", " + kArrayNames[3 + a] + " = " +
                                   std::to_string(hi) + ": not a finite, uncrossed box");
          }
          if (level == 0) {
            points &= lo == hi;
          } else {
            const uint64_t child = shape.level_begin[level - 1] + p * ns;
            const uint64_t child_real = shape.real_per_level[level - 1];
            for (uint64_t c = p * ns; c < (p + 1) * ns && c < child_real; ++c) {
              const uint64_t cs = child + (c - p * ns);
              if (l.min[a][cs] < lo || l.max[a][cs] > hi) {
                return CorruptionError("tree chunk: level " + std::to_string(level) + " slot " +
                                       std::to_string(p) + " does not contain its child " +
                                       std::to_string(c) + " on axis " + std::to_string(a));
              }
            }
          }
        } else if (!internal::IsEmptyBox(lo, hi)) {
          return CorruptionError("tree chunk: level " + std::to_string(level) + " padding slot " +
                                 std::to_string(p) +
                                 " is not the empty box (min = +inf, max = -inf)");
        }
      }
    }
  }
  l.points = points;

  // Ids: a permutation of [0, n) in the real leaf slots, kNoId in the padding. With payloads
  // the id -> position map doubles as the "used once" check; without, a bitmap does.
  // (The fast pass above already checked them; the loop below runs only to name a problem.)
  std::vector<uint64_t> seen;
  const bool ids_ok = fast.ids_ok;
  if (!ids_ok && want_positions) {
    position.assign(n, engine::kNoId);
  } else if (!ids_ok) {
    seen.assign((n + 63) / 64, 0);
  }
  for (uint64_t p = 0; !ids_ok && p < shape.num_leaf_slots; ++p) {
    const uint32_t id = l.ids[p];
    if (p >= n) {
      if (id != engine::kNoId) {
        return CorruptionError("tree chunk: padding leaf slot " + std::to_string(p) + " has id " +
                               std::to_string(id) + ", expected 0xffffffff");
      }
      continue;
    }
    bool dup;
    if (id >= n) {
      return CorruptionError("tree chunk: leaf " + std::to_string(p) + " has id " +
                             std::to_string(id) + ", not below the item count " +
                             std::to_string(n));
    }
    if (want_positions) {
      dup = position[id] != engine::kNoId;
      position[id] = static_cast<uint32_t>(p);
    } else {
      dup = (seen[id / 64] >> (id % 64)) & 1;
      seen[id / 64] |= uint64_t{1} << (id % 64);
    }
    if (dup) {
      return CorruptionError("tree chunk: id " + std::to_string(id) + " appears twice (leaf " +
                             std::to_string(p) + ")");
    }
  }

  // ---- PAYL ----
  uint8_t payload_kind = 0;
  uint32_t width = 0;
  const uint8_t* offsets_ptr = nullptr;
  const uint8_t* data_ptr = nullptr;
  if (payload_chunk != nullptr) {
    const auto body = bytes.subspan(payload_chunk->offset, payload_chunk->length);
    LeReader pr(body, "payload chunk");
    const uint32_t kind = pr.U32("kind");
    width = pr.U32("fixed_width");
    const uint64_t count = pr.U64("count");
    const uint64_t data_length = pr.U64("data_length");
    const uint64_t offsets_at = pr.U64("offsets_offset");
    const uint64_t data_at = pr.U64("data_offset");
    LOCUS_RETURN_IF_ERROR(pr.status());
    if (count != n) {
      return CorruptionError("payload chunk: count = " + std::to_string(count) + ", expected " +
                             std::to_string(n) + " (the tree's item count)");
    }
    uint64_t data_end;
    if (!Add(data_at, data_length, &data_end) || data_at < internal::kPayloadHeaderSize ||
        data_end > body.size()) {
      return CorruptionError("payload chunk: data [" + std::to_string(data_at) + ", +" +
                             std::to_string(data_length) + ") is not inside the " +
                             std::to_string(body.size()) + "-byte chunk");
    }
    data_ptr = body.data() + data_at;
    if (kind == internal::kPayloadFixed) {
      uint64_t total;
      if (width == 0 || !internal::Mul(n, width, &total) || total != data_length) {
        return CorruptionError("payload chunk: fixed width " + std::to_string(width) + " x " +
                               std::to_string(n) + " items != data_length " +
                               std::to_string(data_length));
      }
      payload_kind = 2;
    } else if (kind == internal::kPayloadVariable) {
      uint64_t offsets_len, offsets_end;
      if (width != 0) {
        return CorruptionError("payload chunk: fixed_width = " + std::to_string(width) +
                               " in a variable-width chunk");
      }
      if (!internal::Mul(n + 1, 8, &offsets_len) || !Add(offsets_at, offsets_len, &offsets_end) ||
          offsets_at < internal::kPayloadHeaderSize || offsets_end > body.size()) {
        return CorruptionError("payload chunk: offsets [" + std::to_string(offsets_at) + ", +" +
                               std::to_string(n + 1) + " x 8) are not inside the " +
                               std::to_string(body.size()) + "-byte chunk");
      }
      offsets_ptr = body.data() + offsets_at;
      uint64_t prev_off = 0;
      for (uint64_t p = 0; p <= n; ++p) {
        const uint64_t o = internal::LoadLe<uint64_t>(offsets_ptr + 8 * p);
        if ((p == 0 && o != 0) || o < prev_off || o > data_length || (p == n && o != data_length)) {
          return CorruptionError("payload chunk: offset[" + std::to_string(p) +
                                 "] = " + std::to_string(o) +
                                 ": offsets must start at 0, not decrease "
                                 "and end at data_length " +
                                 std::to_string(data_length));
        }
        prev_off = o;
      }
      payload_kind = 1;
    } else {
      return CorruptionError("payload chunk: kind = " + std::to_string(kind) +
                             ": must be 0 (variable) or 1 (fixed)");
    }
  }

  // ---- META ----
  std::map<std::string, std::string> metadata;
  if (meta_chunk != nullptr) {
    LeReader mr(bytes.subspan(meta_chunk->offset, meta_chunk->length), "metadata chunk");
    const uint32_t count = mr.U32("count");
    for (uint32_t i = 0; i < count && mr.ok(); ++i) {
      const auto key = mr.Bytes(mr.U32("key length"), "key");
      const auto value = mr.Bytes(mr.U32("value length"), "value");
      if (!mr.ok()) break;
      std::string k(key.begin(), key.end());
      if (k.empty() || (!metadata.empty() && k <= metadata.rbegin()->first)) {
        return CorruptionError("metadata chunk: entry " + std::to_string(i) +
                               ": keys must be non-empty, unique and ascending");
      }
      metadata.emplace_hint(metadata.end(), std::move(k), std::string(value.begin(), value.end()));
    }
    LOCUS_RETURN_IF_ERROR(mr.status());
    if (mr.remaining() != 0) {
      return CorruptionError("metadata chunk: " + std::to_string(mr.remaining()) +
                             " bytes after the last entry");
    }
  }

  level_begin_ = shape.level_begin;
  l.level_begin = level_begin_.data();
  view_ = engine::RTreeView<kDims, T>::FromValidatedLayout(l);
  payload_kind_ = payload_kind;
  payload_width_ = width;
  payload_offsets_ = offsets_ptr;
  payload_data_ = data_ptr;
  position_ = std::move(position);
  metadata_ = std::move(metadata);
  return Status();
}

template <int kDims, typename T>
Result<std::span<const uint8_t>> LoadedTree<kDims, T>::payload(uint32_t id) const {
  if (id >= size()) {
    return InvalidArgumentError("id = " + std::to_string(id) +
                                ": not below size() = " + std::to_string(size()));
  }
  if (payload_kind_ == 0) return std::span<const uint8_t>();
  const uint64_t p = position_[id];
  if (payload_kind_ == 2) {
    return std::span<const uint8_t>(payload_data_ + p * payload_width_, payload_width_);
  }
  const uint64_t b = internal::LoadLe<uint64_t>(payload_offsets_ + 8 * p);
  const uint64_t e = internal::LoadLe<uint64_t>(payload_offsets_ + 8 * (p + 1));
  return std::span<const uint8_t>(payload_data_ + b, e - b);
}

template <int kDims, typename T>
Result<OwnedTree<kDims, T>> OwnedTree<kDims, T>::FromBytes(std::span<const uint8_t> bytes,
                                                           const LoadOptions& options) {
  OwnedTree t;
  // Copy first, then validate the copy: later changes to the caller's bytes cannot reach us.
  auto copy = std::make_unique<internal::AlignedCopy>(bytes);
  const std::span<const uint8_t> mine(copy->data, copy->size);
  t.backing_ = std::move(copy);
  LOCUS_RETURN_IF_ERROR(t.Init(mine, options));
  return t;
}

template <int kDims, typename T>
Result<TreeView<kDims, T>> TreeView<kDims, T>::Open(std::span<const uint8_t> bytes,
                                                    const LoadOptions& options) {
  TreeView t;
  // Every array sits at a 64-byte aligned file offset, so a buffer aligned for T (4 bytes
  // for f32, 8 for f64; ids need 4) makes every typed read aligned. Otherwise: copy (never a
  // misaligned typed read). Other fields are read with memcpy and need no alignment.
  if (reinterpret_cast<uintptr_t>(bytes.data()) % alignof(T) == 0) {
    t.zero_copy_ = true;
    LOCUS_RETURN_IF_ERROR(t.Init(bytes, options));
    return t;
  }
  auto copy = std::make_unique<internal::AlignedCopy>(bytes);
  const std::span<const uint8_t> mine(copy->data, copy->size);
  t.backing_ = std::move(copy);
  LOCUS_RETURN_IF_ERROR(t.Init(mine, options));
  return t;
}

template <int kDims, typename T>
Result<MappedTree<kDims, T>> MappedTree<kDims, T>::Open(const std::string& path,
                                                        const LoadOptions& options) {
  MappedTree t;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT) return NotFoundError("open(" + path + "): " + std::strerror(err));
    return IoError("open(" + path + "): " + std::strerror(err));
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return IoError("fstat(" + path + "): " + std::strerror(err));
  }
  const size_t size = static_cast<size_t>(st.st_size);
  if (size < internal::kSuperblockSize) {
    ::close(fd);
    return CorruptionError(path + ": file is " + std::to_string(size) +
                           " bytes: shorter than the 64-byte superblock (truncated?)");
  }
  void* addr = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  const int err = errno;
  ::close(fd);  // the mapping keeps the file open
  if (addr == MAP_FAILED) return IoError("mmap(" + path + "): " + std::strerror(err));
#ifdef MADV_POPULATE_READ
  // Checksums read every byte anyway: map all pages in one call instead of one fault per
  // fault-around window (38 MB: ~0.85 -> ~0.6 ms on the W7 VM, page cache warm). Only a
  // hint: older kernels reject it, and then the faults happen as before.
  if (options.verify_checksums) ::madvise(addr, size, MADV_POPULATE_READ);
#endif
  auto mapping = std::make_unique<internal::Mapping>();
  mapping->addr = addr;
  mapping->length = size;
  t.backing_ = std::move(mapping);
  t.zero_copy_ = true;
  Status s = t.Init(std::span<const uint8_t>(static_cast<const uint8_t*>(addr), size), options);
  if (!s.ok()) return s.WithContext(path);
  return t;
}

Result<IndexInfo> ReadIndexInfo(std::span<const uint8_t> bytes) {
  internal::Superblock sb;
  std::vector<Chunk> chunks;
  LOCUS_RETURN_IF_ERROR(internal::ReadDirectory(bytes, &sb, &chunks));
  for (const Chunk& c : chunks) {
    if (c.tag != internal::kTagTree) continue;
    LeReader r(bytes.subspan(c.offset, c.length), "tree chunk");
    IndexInfo info;
    info.dims = r.U8("dims");
    info.f32 = r.U8("coordinate type") == internal::kCoordF32;
    r.U8("layout");
    r.U8("reserved");
    info.node_size = r.U32("node_size");
    info.num_items = r.U64("num_items");
    info.format_major = sb.major;
    info.format_minor = sb.minor;
    LOCUS_RETURN_IF_ERROR(r.status());
    return info;
  }
  return CorruptionError("no tree chunk ('TREE') in the directory");
}

#define LOCUS_STORAGE_INSTANTIATE(D, T) \
  template class LoadedTree<D, T>;      \
  template class OwnedTree<D, T>;       \
  template class TreeView<D, T>;        \
  template class MappedTree<D, T>;
LOCUS_STORAGE_INSTANTIATE(2, double)
LOCUS_STORAGE_INSTANTIATE(3, double)
LOCUS_STORAGE_INSTANTIATE(2, float)
LOCUS_STORAGE_INSTANTIATE(3, float)

}  // namespace locus::storage
