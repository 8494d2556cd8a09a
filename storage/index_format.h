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
inline constexpr uint8_t kLayoutNodeInterleaved = 1;  // reserved: not written or read yet

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

// The canonical shape of a tree chunk, derived from its parameters alone.
struct TreeShape {
  uint64_t num_items = 0;
  uint32_t node_size = 0;
  int dims = 0;
  uint64_t coord_size = 0;               // 4 or 8
  std::vector<uint64_t> level_begin;     // num_levels + 1 entries
  std::vector<uint64_t> real_per_level;  // real (non-padding) slots of each level
  uint64_t num_slots = 0;                // level_begin.back()
  uint64_t num_leaf_slots = 0;           // level_begin[1], or 0 for an empty tree
  // Arrays in file order: min[0..dims), max[0..dims), ids. Offsets relative to the chunk.
  struct Array {
    uint64_t offset = 0;
    uint64_t length = 0;  // bytes
  };
  std::vector<Array> arrays;
  uint64_t chunk_length = 0;
  uint32_t num_levels() const { return static_cast<uint32_t>(level_begin.size()) - 1; }
};

// Derives the shape, checking every computation for overflow. Fails with Corruption naming the
// bad parameter (prefix "tree chunk: ").
Result<TreeShape> DeriveTreeShape(uint64_t num_items, uint32_t node_size, int dims,
                                  uint64_t coord_size);

}  // namespace locus::storage::internal

#endif  // LOCUS_STORAGE_INDEX_FORMAT_H_
