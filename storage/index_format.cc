// The canonical tree-chunk shape (index_format.h), shared by the writer and the validator so
// that what is written is exactly what is accepted.
#include "storage/index_format.h"

#include "engine/rtree_layout.h"
#include "storage/crc32c.h"

namespace locus::storage::internal {

std::string ChunkName(size_t i, uint32_t tag) {
  return "chunk " + std::to_string(i) + " (" + TagName(tag) + ")";
}

Status ParseSuperblock(std::span<const uint8_t> first64, Superblock* sb) {
  if (first64.size() < kSuperblockSize) {
    return CorruptionError("file is " + std::to_string(first64.size()) +
                           " bytes: shorter than the 64-byte superblock (truncated?)");
  }
  if (std::memcmp(first64.data(), kMagic, sizeof kMagic) != 0) {
    return CorruptionError("superblock: bad magic: not a locus index file");
  }
  LeReader r(first64.first(kSuperblockSize), "superblock");
  r.Seek(8);
  sb->major = r.U16("major version");
  sb->minor = r.U16("minor version");
  if (sb->major != kFormatMajor) {
    return CorruptionError("superblock: format version " + std::to_string(sb->major) + "." +
                           std::to_string(sb->minor) + " is not supported (this reader reads " +
                           std::to_string(kFormatMajor) + ".x)");
  }
  const uint32_t stored_crc = LoadLe<uint32_t>(first64.data() + 60);
  const uint32_t crc = Crc32c(first64.first(60));
  if (stored_crc != crc) {
    return CorruptionError("superblock: checksum mismatch (stored " + Hex32(stored_crc) +
                           ", computed " + Hex32(crc) + ")");
  }
  const uint32_t flags = r.U32("flags");
  sb->file_length = r.U64("file_length");
  sb->directory_offset = r.U64("directory_offset");
  sb->chunk_count = r.U32("chunk_count");
  sb->directory_crc = r.U32("directory_crc32c");
  LOCUS_RETURN_IF_ERROR(r.status());
  if (flags != 0) {
    return CorruptionError("superblock: unknown flags " + Hex32(flags) +
                           ": written by a newer locus, cannot be read safely");
  }
  return Status();
}

Status CheckDirectoryRange(const Superblock& sb) {
  if (sb.chunk_count == 0 || sb.chunk_count > kMaxChunks) {
    return CorruptionError("superblock: chunk_count = " + std::to_string(sb.chunk_count) +
                           ": must be in [1, " + std::to_string(kMaxChunks) + "]");
  }
  uint64_t dir_end;
  if (sb.directory_offset < kSuperblockSize || sb.directory_offset % kAlign != 0 ||
      !Add(sb.directory_offset, sb.DirectoryLength(), &dir_end) || dir_end > sb.file_length) {
    return CorruptionError("superblock: directory at offset " +
                           std::to_string(sb.directory_offset) + " with " +
                           std::to_string(sb.chunk_count) + " entries is not a 64-byte " +
                           "aligned range after the superblock inside the " +
                           std::to_string(sb.file_length) + "-byte file");
  }
  return Status();
}

Status ParseDirectory(std::span<const uint8_t> dir, const Superblock& sb,
                      std::vector<Chunk>* chunks) {
  if (dir.size() != sb.DirectoryLength()) {
    return CorruptionError("chunk directory: " + std::to_string(dir.size()) + " bytes, expected " +
                           std::to_string(sb.DirectoryLength()));
  }
  if (const uint32_t c = Crc32c(dir); c != sb.directory_crc) {
    return CorruptionError("chunk directory: checksum mismatch (stored " +
                           Hex32(sb.directory_crc) + ", computed " + Hex32(c) + ")");
  }
  LeReader d(dir, "chunk directory");
  uint64_t prev_end = sb.directory_offset + sb.DirectoryLength();
  for (uint32_t i = 0; i < sb.chunk_count; ++i) {
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
        end > sb.file_length) {
      return CorruptionError(name + ": range [" + std::to_string(c.offset) + ", +" +
                             std::to_string(c.length) + ") is not 64-byte aligned, after the " +
                             "previous chunk (" + std::to_string(prev_end) + ") and inside the " +
                             std::to_string(sb.file_length) + "-byte file");
    }
    prev_end = end;
    chunks->push_back(c);
  }
  return Status();
}

Result<TreeShape> DeriveTreeShape(uint64_t num_items, uint32_t node_size, int dims,
                                  uint64_t coord_size, uint8_t layout) {
  const std::string at =
      " for " + std::to_string(num_items) + " items at node size " + std::to_string(node_size);
  if (node_size < 2 || node_size > engine::kMaxNodeSize) {
    return CorruptionError("tree chunk: node_size = " + std::to_string(node_size) +
                           ": must be in [2, " + std::to_string(engine::kMaxNodeSize) + "]");
  }
  if (num_items >= engine::kNoId) {
    return CorruptionError("tree chunk: num_items = " + std::to_string(num_items) +
                           ": at most 4294967294 items per tree");
  }
  TreeShape s;
  s.num_items = num_items;
  s.node_size = node_size;
  s.dims = dims;
  s.coord_size = coord_size;
  s.layout = layout;
  const uint64_t ns = node_size;
  s.level_begin.push_back(0);
  if (num_items > 0) {
    uint64_t real = num_items;
    for (;;) {
      if (s.level_begin.size() > engine::kMaxLevels) {
        return CorruptionError("tree chunk: more than " + std::to_string(engine::kMaxLevels) +
                               " levels" + at);
      }
      uint64_t padded, end;
      // padded = max(1, ceil(real / ns)) * ns; real <= 2^32 so none of this can overflow,
      // but the checks cost nothing and keep the argument local.
      if (!Mul((real + ns - 1) / ns, ns, &padded) || !Add(s.level_begin.back(), padded, &end)) {
        return CorruptionError("tree chunk: level size overflows" + at);
      }
      s.real_per_level.push_back(real);
      s.level_begin.push_back(end);
      if (real <= ns) break;
      real = (real + ns - 1) / ns;
    }
  }
  s.num_slots = s.level_begin.back();
  s.num_leaf_slots = num_items == 0 ? 0 : s.level_begin[1];

  // Header, array table, level_begin; then each array at a 64-byte aligned offset followed
  // by at least kArrayTailPad zero bytes (the kernels' over-read allowance).
  const uint64_t num_arrays = NumArrays(layout, dims, s.num_levels());
  uint64_t pos = kTreeHeaderSize + 16 * num_arrays + 8 * s.level_begin.size();
  if (!RoundUp(pos, kAlign, &pos)) return CorruptionError("tree chunk: size overflows" + at);
  for (uint64_t i = 0; i < num_arrays; ++i) {
    TreeShape::Array a;
    a.offset = pos;
    bool ok;
    if (layout == kLayoutBoxesThenIds) {
      const bool ids = i + 1 == num_arrays;
      ok = Mul(ids ? s.num_leaf_slots : s.num_slots, ids ? 4 : coord_size, &a.length);
    } else {  // level num_levels - 1 - i, one record per node_size slots
      const uint32_t level = s.num_levels() - 1 - static_cast<uint32_t>(i);
      const uint64_t groups = (s.level_begin[level + 1] - s.level_begin[level]) / ns;
      ok = Mul(groups, s.RecordSize(level), &a.length);
    }
    if (!ok || !Add(pos, a.length, &pos) || !Add(pos, kArrayTailPad, &pos) ||
        !RoundUp(pos, kAlign, &pos)) {
      return CorruptionError("tree chunk: array size overflows" + at);
    }
    s.arrays.push_back(a);
  }
  s.chunk_length = pos;
  return s;
}

}  // namespace locus::storage::internal

namespace locus::storage::internal {

Status ParseTreeFields(std::span<const uint8_t> fields, uint64_t chunk_length, int want_dims,
                       uint64_t want_coord_size, TreeShape* shape, uint64_t* fields_end) {
  LeReader r(fields, "tree chunk");
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
  if (coord != kCoordF32 && coord != kCoordF64) {
    return CorruptionError("tree chunk: coordinate type = " + std::to_string(coord) +
                           ": must be 1 (f32) or 2 (f64)");
  }
  if (layout_kind != kLayoutBoxesThenIds && layout_kind != kLayoutNodeInterleaved) {
    return CorruptionError("tree chunk: layout = " + std::to_string(layout_kind) +
                           ": unknown layout (0 = boxes-then-ids, 1 = node-interleaved)");
  }
  const char* want_type = want_coord_size == 4 ? "f32" : "f64";
  const char* have_type = coord == kCoordF32 ? "f32" : "f64";
  if (dims != want_dims || (coord == kCoordF32) != (want_coord_size == 4)) {
    return InvalidArgumentError("tree chunk: the file holds a " + std::to_string(dims) + "D " +
                                have_type + " tree; this loader reads " +
                                std::to_string(want_dims) + "D " + want_type +
                                " trees (see ReadIndexInfo)");
  }
  LOCUS_ASSIGN_OR_RETURN(TreeShape s,
                         DeriveTreeShape(n, node_size, dims, want_coord_size, layout_kind));
  const std::string at =
      " for " + std::to_string(n) + " items at node size " + std::to_string(node_size);
  if (num_levels != s.num_levels()) {
    return CorruptionError("tree chunk: num_levels = " + std::to_string(num_levels) +
                           ", expected " + std::to_string(s.num_levels()) + at);
  }
  static const char* kArrayNames[] = {"min.x", "min.y", "min.z", "max.x", "max.y", "max.z"};
  for (size_t i = 0; i < s.arrays.size(); ++i) {
    const uint64_t off = r.U64("array offset"), len = r.U64("array length");
    LOCUS_RETURN_IF_ERROR(r.status());
    const std::string name =
        layout_kind == kLayoutNodeInterleaved ? "level " + std::to_string(s.num_levels() - 1 - i)
        : i + 1 == s.arrays.size()            ? std::string("ids")
                                              : kArrayNames[(i < dims ? 0 : 3) + i % dims];
    if (off != s.arrays[i].offset || len != s.arrays[i].length) {
      return CorruptionError("tree chunk: array " + name + " at offset " + std::to_string(off) +
                             " length " + std::to_string(len) + ", expected offset " +
                             std::to_string(s.arrays[i].offset) + " length " +
                             std::to_string(s.arrays[i].length) + at);
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
    const uint64_t want = s.level_begin[level + 1] - s.level_begin[level];
    if (next < prev || next - prev != want) {
      return CorruptionError("tree chunk: level " + std::to_string(level) + " length " +
                             (next < prev ? "negative" : std::to_string(next - prev)) +
                             ", expected " + std::to_string(want) + at);
    }
    prev = next;
  }
  if (chunk_length != s.chunk_length) {
    return CorruptionError("tree chunk: length " + std::to_string(chunk_length) + ", expected " +
                           std::to_string(s.chunk_length) + at);
  }
  *fields_end = r.pos();
  *shape = std::move(s);
  return Status();
}

Status ParsePayloadHeader(std::span<const uint8_t> header, uint64_t chunk_length,
                          uint64_t num_items, PayloadHeader* out) {
  LeReader pr(header, "payload chunk");
  out->kind = pr.U32("kind");
  out->width = pr.U32("fixed_width");
  const uint64_t count = pr.U64("count");
  out->data_length = pr.U64("data_length");
  out->offsets_at = pr.U64("offsets_offset");
  out->data_at = pr.U64("data_offset");
  LOCUS_RETURN_IF_ERROR(pr.status());
  const uint64_t n = num_items;
  if (count != n) {
    return CorruptionError("payload chunk: count = " + std::to_string(count) + ", expected " +
                           std::to_string(n) + " (the tree's item count)");
  }
  uint64_t data_end;
  if (!Add(out->data_at, out->data_length, &data_end) || out->data_at < kPayloadHeaderSize ||
      data_end > chunk_length) {
    return CorruptionError("payload chunk: data [" + std::to_string(out->data_at) + ", +" +
                           std::to_string(out->data_length) + ") is not inside the " +
                           std::to_string(chunk_length) + "-byte chunk");
  }
  if (out->kind == kPayloadFixed) {
    uint64_t total;
    if (out->width == 0 || !Mul(n, out->width, &total) || total != out->data_length) {
      return CorruptionError("payload chunk: fixed width " + std::to_string(out->width) + " x " +
                             std::to_string(n) + " items != data_length " +
                             std::to_string(out->data_length));
    }
  } else if (out->kind == kPayloadVariable) {
    uint64_t offsets_len, offsets_end;
    if (out->width != 0) {
      return CorruptionError("payload chunk: fixed_width = " + std::to_string(out->width) +
                             " in a variable-width chunk");
    }
    if (!Mul(n + 1, 8, &offsets_len) || !Add(out->offsets_at, offsets_len, &offsets_end) ||
        out->offsets_at < kPayloadHeaderSize || offsets_end > chunk_length) {
      return CorruptionError("payload chunk: offsets [" + std::to_string(out->offsets_at) +
                             ", +" + std::to_string(n + 1) + " x 8) are not inside the " +
                             std::to_string(chunk_length) + "-byte chunk");
    }
  } else {
    return CorruptionError("payload chunk: kind = " + std::to_string(out->kind) +
                           ": must be 0 (variable) or 1 (fixed)");
  }
  return Status();
}

Status ParseMetadata(std::span<const uint8_t> chunk, std::map<std::string, std::string>* out) {
  std::map<std::string, std::string>& metadata = *out;
  LeReader mr(chunk, "metadata chunk");
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
  return Status();
}

Status ClassifyChunks(const std::vector<Chunk>& chunks, KnownChunks* out) {
  for (size_t i = 0; i < chunks.size(); ++i) {
    const Chunk& c = chunks[i];
    const Chunk** slot = c.tag == kTagTree       ? &out->tree
                         : c.tag == kTagPayload  ? &out->payload
                         : c.tag == kTagMetadata ? &out->metadata
                                                 : nullptr;
    if (slot == nullptr) {
      if (c.flags & kChunkCritical) {
        return CorruptionError(ChunkName(i, c.tag) +
                               ": unknown critical chunk: written by a newer locus, "
                               "cannot be read safely");
      }
      continue;  // unknown optional chunk: skipped
    }
    if (*slot != nullptr) return CorruptionError(ChunkName(i, c.tag) + ": a second chunk of this kind");
    *slot = &c;
  }
  if (out->tree == nullptr) return CorruptionError("no tree chunk ('TREE') in the directory");
  return Status();
}

}  // namespace locus::storage::internal
