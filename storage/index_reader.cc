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

// A 64-byte aligned copy of some bytes, or a zeroed aligned buffer.
struct AlignedCopy : Backing {
  explicit AlignedCopy(std::span<const uint8_t> bytes) {
    Allocate(bytes.size());
    if (!bytes.empty()) std::memcpy(data, bytes.data(), bytes.size());
  }
  // n zero bytes.
  explicit AlignedCopy(size_t n_bytes) {
    const size_t n = Allocate(n_bytes);
    if (mapped_length == 0) std::memset(data, 0, n);  // anonymous maps are zero already
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

 private:
  // Sets data (aligned, with at least kAlign bytes of slack) and size; returns the length.
  size_t Allocate(size_t n_bytes) {
    const size_t n = (n_bytes + kAlign - 1) / kAlign * kAlign + kAlign;
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
    size = n_bytes;
    return n;
  }
};

struct Mapping : Backing {
  ~Mapping() override {
    if (addr != nullptr) ::munmap(addr, length);
  }
  void* addr = nullptr;
  size_t length = 0;
};

// Reads and checks the superblock and the chunk directory of a whole file in memory. On
// success *chunks holds the directory (ranges inside the file, ascending, not overlapping)
// and `bytes` is cut to the file length.
Status ReadDirectory(std::span<const uint8_t>& bytes, Superblock* sb, std::vector<Chunk>* chunks) {
  if (bytes.size() < kSuperblockSize) {
    return CorruptionError("file is " + std::to_string(bytes.size()) +
                           " bytes: shorter than the 64-byte superblock (truncated?)");
  }
  LOCUS_RETURN_IF_ERROR(ParseSuperblock(bytes.first(kSuperblockSize), sb));
  if (sb->file_length > bytes.size()) {
    return CorruptionError("file is truncated: superblock says " + std::to_string(sb->file_length) +
                           " bytes, have " + std::to_string(bytes.size()));
  }
  bytes = bytes.first(sb->file_length);
  LOCUS_RETURN_IF_ERROR(CheckDirectoryRange(*sb));
  return ParseDirectory(bytes.subspan(sb->directory_offset, sb->DirectoryLength()), *sb, chunks);
}

// Converts a node-interleaved tree chunk (`from`, whose header, array table and padding
// between arrays were checked against `shape1`) into the arrays of a boxes-then-ids chunk of
// shape `shape0` in `to` (zeroed, shape0.chunk_length bytes, 64-byte aligned). Fails when a
// record's padding bytes are not zero (the chunk must be canonical).
Status TranscodeInterleaved(std::span<const uint8_t> from, const TreeShape& shape1,
                            const TreeShape& shape0, uint8_t* to) {
  const uint64_t ns = shape1.node_size, cs = shape1.coord_size;
  const int dims = shape1.dims;
  for (uint32_t level = 0; level < shape1.num_levels(); ++level) {
    const uint64_t begin = shape1.level_begin[level];
    const uint64_t groups = (shape1.level_begin[level + 1] - begin) / ns;
    const uint64_t rec = shape1.RecordSize(level);
    const uint64_t used = 2 * dims * ns * cs + (level == 0 ? 4 * ns : 0);
    const uint8_t* src = from.data() + shape1.LevelArray(level).offset;
    for (uint64_t g = 0; g < groups; ++g, src += rec) {
      const uint64_t s0 = begin + g * ns;
      const uint8_t* p = src;
      for (int a = 0; a < 2 * dims; ++a, p += ns * cs) {
        std::memcpy(to + shape0.arrays[a].offset + s0 * cs, p, ns * cs);
      }
      if (level == 0) std::memcpy(to + shape0.arrays[2 * dims].offset + g * ns * 4, p, ns * 4);
      for (uint64_t b = used; b < rec; ++b) {
        if (src[b] != 0) {
          return CorruptionError("tree chunk: level " + std::to_string(level) + " node " +
                                 std::to_string(g) + ": record padding byte " +
                                 std::to_string(b) + " is not zero");
        }
      }
    }
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
  for (size_t i = 0; i < chunks.size() && options.verify_checksums; ++i) {
    const Chunk& c = chunks[i];
    if (const uint32_t crc = Crc32c(bytes.subspan(c.offset, c.length)); crc != c.crc) {
      return CorruptionError(internal::ChunkName(i, c.tag) + ": checksum mismatch (stored " +
                             internal::Hex32(c.crc) + ", computed " + internal::Hex32(crc) + ")");
    }
  }
  internal::KnownChunks known;
  LOCUS_RETURN_IF_ERROR(internal::ClassifyChunks(chunks, &known));
  const Chunk* tree_chunk = known.tree;
  const Chunk* payload_chunk = known.payload;
  const Chunk* meta_chunk = known.metadata;

  // ---- TREE ----
  auto tree = bytes.subspan(tree_chunk->offset, tree_chunk->length);
  internal::TreeShape shape;
  uint64_t fields_end = 0;
  LOCUS_RETURN_IF_ERROR(internal::ParseTreeFields(tree, tree_chunk->length, kDims, sizeof(T),
                                                  &shape, &fields_end));
  const uint8_t layout_kind = shape.layout;
  const uint64_t n = shape.num_items;
  const uint32_t node_size = shape.node_size;
  static const char* kArrayNames[] = {"min.x", "min.y", "min.z", "max.x", "max.y", "max.z"};
  // Every byte between the fields and the arrays, and after each array, must be zero: the
  // chunk is canonical, and the kernels' over-read slack is known to be there.
  {
    uint64_t gap_begin = fields_end;
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

  // A node-interleaved chunk is converted to the boxes-then-ids arrays the query loops read
  // (a copy; the view is then not zero-copy), and validated as one.
  if (layout_kind == internal::kLayoutNodeInterleaved) {
    LOCUS_ASSIGN_OR_RETURN(internal::TreeShape shape0,
                           internal::DeriveTreeShape(n, node_size, kDims, sizeof(T)));
    auto copy = std::make_unique<internal::AlignedCopy>(shape0.chunk_length);
    LOCUS_RETURN_IF_ERROR(internal::TranscodeInterleaved(tree, shape, shape0, copy->data));
    tree = std::span<const uint8_t>(copy->data, copy->size);
    shape = std::move(shape0);
    transcoded_ = std::move(copy);
    zero_copy_ = false;
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
    internal::PayloadHeader ph;
    LOCUS_RETURN_IF_ERROR(internal::ParsePayloadHeader(
        body.first(std::min<uint64_t>(body.size(), internal::kPayloadHeaderSize)), body.size(), n,
        &ph));
    width = ph.width;
    const uint64_t data_length = ph.data_length;
    data_ptr = body.data() + ph.data_at;
    if (ph.kind == internal::kPayloadFixed) {
      payload_kind = 2;
    } else {
      offsets_ptr = body.data() + ph.offsets_at;
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
    }
  }

  // ---- META ----
  std::map<std::string, std::string> metadata;
  if (meta_chunk != nullptr) {
    LOCUS_RETURN_IF_ERROR(internal::ParseMetadata(
        bytes.subspan(meta_chunk->offset, meta_chunk->length), &metadata));
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
Status LoadedTree<kDims, T>::InitFromCopy(std::span<const uint8_t> bytes,
                                          const LoadOptions& options) {
  auto copy = std::make_unique<internal::AlignedCopy>(bytes);
  const std::span<const uint8_t> mine(copy->data, copy->size);
  backing_ = std::move(copy);
  zero_copy_ = false;
  return Init(mine, options);
}

template <int kDims, typename T>
Result<OwnedTree<kDims, T>> OwnedTree<kDims, T>::FromBytes(std::span<const uint8_t> bytes,
                                                           const LoadOptions& options) {
  OwnedTree t;
  // Copy first, then validate the copy: later changes to the caller's bytes cannot reach us.
  LOCUS_RETURN_IF_ERROR(t.InitFromCopy(bytes, options));
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
  LOCUS_RETURN_IF_ERROR(t.InitFromCopy(bytes, options));
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
    info.interleaved = r.U8("layout") == internal::kLayoutNodeInterleaved;
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
