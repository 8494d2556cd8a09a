// Internal to storage/: the constants of the index file format (docs/FORMAT.md), the
// bounds-checked little-endian reader every loader reads through, overflow-checked
// arithmetic, and the canonical tree-chunk shape that both the writer and the validator
// derive from (num_items, node_size, dims, coordinate type).
//
// Thread safety: pure functions and value types.
#ifndef LOCUS_STORAGE_INDEX_FORMAT_H_
#define LOCUS_STORAGE_INDEX_FORMAT_H_

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "locus/status.h"

namespace locus::storage::internal {

static_assert(std::endian::native == std::endian::little,
              "index files are little-endian and views are zero-copy; a big-endian port needs "
              "byte-swapping loaders");

inline constexpr uint8_t kMagic[8] = {0x89, 'L', 'O', 'C', 'U', 'S', '\r', '\n'};
inline constexpr uint16_t kFormatMajor = 1;
inline constexpr uint16_t kFormatMinor = 0;
inline constexpr size_t kSuperblockSize = 64;
inline constexpr size_t kDirEntrySize = 32;
inline constexpr size_t kAlign = 64;          // chunk and array alignment in the file
inline constexpr size_t kArrayTailPad = 128;  // readable zero bytes after every tree array
inline constexpr uint32_t kMaxChunks = 1024;
inline constexpr uint32_t kChunkCritical = 1u;  // directory entry flag bit 0

constexpr uint32_t Tag(const char (&s)[5]) {
  return uint32_t(uint8_t(s[0])) | uint32_t(uint8_t(s[1])) << 8 | uint32_t(uint8_t(s[2])) << 16 |
         uint32_t(uint8_t(s[3])) << 24;
}
inline constexpr uint32_t kTagTree = Tag("TREE");
inline constexpr uint32_t kTagPayload = Tag("PAYL");
inline constexpr uint32_t kTagMetadata = Tag("META");

inline constexpr uint8_t kCoordF32 = 1;
inline constexpr uint8_t kCoordF64 = 2;
inline constexpr uint8_t kLayoutBoxesThenIds = 0;
inline constexpr uint8_t kLayoutNodeInterleaved = 1;  // one record per node, levels top-down

inline constexpr size_t kTreeHeaderSize = 24;
inline constexpr size_t kPayloadHeaderSize = 64;
inline constexpr uint32_t kPayloadVariable = 0;
inline constexpr uint32_t kPayloadFixed = 1;

// Overflow-checked arithmetic: false on overflow.
inline bool Add(uint64_t a, uint64_t b, uint64_t* out) {
  return !__builtin_add_overflow(a, b, out);
}
inline bool Mul(uint64_t a, uint64_t b, uint64_t* out) {
  return !__builtin_mul_overflow(a, b, out);
}
inline bool RoundUp(uint64_t a, uint64_t align, uint64_t* out) {
  uint64_t t;
  if (!Add(a, align - 1, &t)) return false;
  *out = t / align * align;
  return true;
}

inline std::string Hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", v);
  return buf;
}
// "TREE", or the tag's hex value when it is not printable ASCII.
inline std::string TagName(uint32_t tag) {
  std::string s;
  for (int i = 0; i < 4; ++i) {
    const char c = static_cast<char>((tag >> (8 * i)) & 0xFF);
    if (c < 0x20 || c > 0x7E) return Hex32(tag);
    s += c;
  }
  return "'" + s + "'";
}

// Reads little-endian fields from a byte span, never past its end. The first failure is
// sticky: later reads return 0 and status() names the first field that did not fit, as
// "<what>: <field> at offset <o> needs <n> bytes, <m> left".
class LeReader {
 public:
  LeReader(std::span<const uint8_t> bytes, std::string what)
      : bytes_(bytes), what_(std::move(what)) {}

  uint8_t U8(const char* field) { return Read<uint8_t>(field); }
  uint16_t U16(const char* field) { return Read<uint16_t>(field); }
  uint32_t U32(const char* field) { return Read<uint32_t>(field); }
  uint64_t U64(const char* field) { return Read<uint64_t>(field); }
  // Returns the next n bytes (empty on failure).
  std::span<const uint8_t> Bytes(uint64_t n, const char* field) {
    if (!Need(n, field)) return {};
    auto s = bytes_.subspan(pos_, n);
    pos_ += n;
    return s;
  }
  void Seek(uint64_t pos) {
    if (ok_ && pos > bytes_.size()) Fail("seek", pos);
    if (ok_) pos_ = pos;
  }
  uint64_t pos() const { return pos_; }
  uint64_t remaining() const { return bytes_.size() - pos_; }
  bool ok() const { return ok_; }
  Status status() const { return ok_ ? Status() : CorruptionError(error_); }

 private:
  template <typename U>
  U Read(const char* field) {
    if (!Need(sizeof(U), field)) return 0;
    U v;
    std::memcpy(&v, bytes_.data() + pos_, sizeof(U));  // little-endian host (asserted above)
    pos_ += sizeof(U);
    return v;
  }
  bool Need(uint64_t n, const char* field) {
    if (!ok_) return false;
    if (n > bytes_.size() - pos_) {
      Fail(field, n);
      return false;
    }
    return true;
  }
  void Fail(const char* field, uint64_t n) {
    ok_ = false;
    error_ = what_ + ": " + field + " at offset " + std::to_string(pos_) + " needs " +
             std::to_string(n) + " bytes, " + std::to_string(bytes_.size() - pos_) + " left";
  }

  std::span<const uint8_t> bytes_;
  std::string what_;
  uint64_t pos_ = 0;
  bool ok_ = true;
  std::string error_;
};

// Loads a little-endian value at p (any alignment).
template <typename U>
inline U LoadLe(const uint8_t* p) {
  U v;
  std::memcpy(&v, p, sizeof(U));
  return v;
}

// The superblock fields a reader uses (docs/FORMAT.md, "Superblock").
struct Superblock {
  uint16_t major = 0, minor = 0;
  uint64_t file_length = 0;
  uint64_t directory_offset = 0;
  uint32_t chunk_count = 0;
  uint32_t directory_crc = 0;
  uint64_t DirectoryLength() const { return uint64_t{chunk_count} * kDirEntrySize; }
};

// One chunk directory entry.
struct Chunk {
  uint32_t tag = 0;
  uint32_t flags = 0;
  uint64_t offset = 0;
  uint64_t length = 0;
  uint32_t crc = 0;
};

// "chunk 2 ('PAYL')", for messages.
std::string ChunkName(size_t i, uint32_t tag);

// Checks the 64 superblock bytes: magic, major version, checksum, flags; fills *sb.
Status ParseSuperblock(std::span<const uint8_t> first64, Superblock* sb);
// Checks the chunk count and that the directory is a 64-byte aligned range after the
// superblock inside file_length.
Status CheckDirectoryRange(const Superblock& sb);
// Checks the directory bytes (sb.DirectoryLength() of them): checksum, entry flags, every
// chunk range 64-byte aligned, after the previous one and inside file_length. Appends the
// entries to *chunks.
Status ParseDirectory(std::span<const uint8_t> dir, const Superblock& sb,
                      std::vector<Chunk>* chunks);

// The canonical shape of a tree chunk, derived from its parameters alone.
struct TreeShape {
  uint64_t num_items = 0;
  uint32_t node_size = 0;
  int dims = 0;
  uint64_t coord_size = 0;               // 4 or 8
  uint8_t layout = kLayoutBoxesThenIds;
  std::vector<uint64_t> level_begin;     // num_levels + 1 entries
  std::vector<uint64_t> real_per_level;  // real (non-padding) slots of each level
  uint64_t num_slots = 0;                // level_begin.back()
  uint64_t num_leaf_slots = 0;           // level_begin[1], or 0 for an empty tree
  // Arrays in file order, offsets relative to the chunk. Boxes-then-ids: min[0..dims),
  // max[0..dims), ids. Node-interleaved: one array per level, the top level first (so the
  // upper levels a streaming reader caches are one contiguous prefix), each a sequence of
  // node records (RecordSize).
  struct Array {
    uint64_t offset = 0;
    uint64_t length = 0;  // bytes
  };
  std::vector<Array> arrays;
  uint64_t chunk_length = 0;
  uint32_t num_levels() const { return static_cast<uint32_t>(level_begin.size()) - 1; }
  // Node-interleaved: the bytes of one node record of `level`: node_size min coordinates per
  // axis, then node_size max per axis, then (level 0 only) node_size u32 ids, zero-padded to
  // a multiple of 8. Records of level l are the groups of node_size slots of that level.
  uint64_t RecordSize(uint32_t level) const {
    const uint64_t bytes = 2 * static_cast<uint64_t>(dims) * node_size * coord_size +
                           (level == 0 ? 4 * uint64_t{node_size} : 0);
    return (bytes + 7) / 8 * 8;
  }
  // Node-interleaved: the array of `level`.
  const Array& LevelArray(uint32_t level) const { return arrays[num_levels() - 1 - level]; }
};

// Derives the shape, checking every computation for overflow. Fails with Corruption naming the
// bad parameter (prefix "tree chunk: ").
Result<TreeShape> DeriveTreeShape(uint64_t num_items, uint32_t node_size, int dims,
                                  uint64_t coord_size, uint8_t layout = kLayoutBoxesThenIds);
// The number of entries of the array table for a layout (2 * dims + 1, or num_levels).
inline uint64_t NumArrays(uint8_t layout, int dims, uint32_t num_levels) {
  return layout == kLayoutBoxesThenIds ? 2 * static_cast<uint64_t>(dims) + 1 : num_levels;
}

// The tree-chunk fields before the arrays never exceed this many bytes (header, array table
// of at most max(7, kMaxLevels) entries, level_begin of at most kMaxLevels + 1).
inline constexpr uint64_t kMaxTreeFieldsSize = kTreeHeaderSize + 16 * 40 + 8 * 41;

// Parses and checks the tree chunk's fields: the header, the array table and level_begin,
// read from `fields` (a prefix of the chunk holding at least them; at most
// kMaxTreeFieldsSize bytes are needed). Checks (docs/FORMAT.md, Validation 3): dims, coord and
// layout known and matching the reader's type (want_dims, want_coord_size: InvalidArgument
// otherwise), node_size, num_items, and num_levels, the array table, level_begin and
// chunk_length equal to the derived shape. On success *shape is that shape (with its
// layout) and *fields_end the chunk offset just after level_begin.
Status ParseTreeFields(std::span<const uint8_t> fields, uint64_t chunk_length, int want_dims,
                       uint64_t want_coord_size, TreeShape* shape, uint64_t* fields_end);

// The payload chunk's header (docs/FORMAT.md, "Payload chunk").
struct PayloadHeader {
  uint32_t kind = 0;  // kPayloadVariable or kPayloadFixed
  uint32_t width = 0;
  uint64_t data_length = 0;
  uint64_t offsets_at = 0;  // from the chunk start (variable only)
  uint64_t data_at = 0;     // from the chunk start
};
// Parses the 64-byte header (`header`: the first bytes of the chunk) and checks it against
// the chunk length and the item count: every range inside the chunk, fixed width x count ==
// data_length. The offsets themselves are the caller's to check.
Status ParsePayloadHeader(std::span<const uint8_t> header, uint64_t chunk_length,
                          uint64_t num_items, PayloadHeader* out);

// Parses and checks a whole metadata chunk (docs/FORMAT.md, "Metadata chunk").
Status ParseMetadata(std::span<const uint8_t> chunk, std::map<std::string, std::string>* out);

// Finds the known chunks in a directory: unknown optional chunks are skipped, an unknown
// critical chunk, a known tag twice or no TREE are Corruption. Pointers into `chunks`;
// payload and metadata may be null.
struct KnownChunks {
  const Chunk* tree = nullptr;
  const Chunk* payload = nullptr;
  const Chunk* metadata = nullptr;
};
Status ClassifyChunks(const std::vector<Chunk>& chunks, KnownChunks* out);

}  // namespace locus::storage::internal

#endif  // LOCUS_STORAGE_INDEX_FORMAT_H_
