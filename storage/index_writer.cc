// Writes index files (docs/FORMAT.md): WriteIndex into a caller's buffer, WriteIndexFile
// atomically to a path. The byte layout comes from internal::DeriveTreeShape, the same
// function the validator checks against.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <string>

#include "storage/crc32c.h"
#include "storage/index_file.h"
#include "storage/index_format.h"

namespace locus::storage {
namespace {

using internal::kAlign;

template <typename U>
void Put(std::vector<uint8_t>& b, uint64_t off, U v) {
  std::memcpy(b.data() + off, &v, sizeof(U));  // little-endian host (index_format.h)
}

uint64_t Up64(uint64_t v) { return (v + kAlign - 1) / kAlign * kAlign; }

struct ChunkPlan {
  uint32_t tag;
  uint32_t flags;
  uint64_t offset;
  uint64_t length;
};

Status PosixError(const std::string& call, const std::string& path, int err) {
  return IoError(call + "(" + path + "): " + std::strerror(err));
}

Status WriteAll(int fd, const std::string& path, const std::vector<uint8_t>& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t w = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (w < 0) {
      if (errno == EINTR) continue;
      return PosixError("write", path, errno);
    }
    done += static_cast<size_t>(w);
  }
  return Status();
}

}  // namespace

template <int kDims, typename T>
Status WriteIndex(const engine::RTreeView<kDims, T>& tree, const WriteOptions& options,
                  std::vector<uint8_t>* out) {
  const engine::RTreeLayout<kDims, T> l = tree.layout();
  const uint64_t n = l.num_items;

  // Payloads: validate the options, then size the chunk.
  const bool variable = !options.payloads.empty();
  const bool fixed = options.fixed_payload_width > 0;
  if (variable && fixed) {
    return InvalidArgumentError(
        "options: both payloads and fixed_payload_width are set; choose one");
  }
  if (variable && options.payloads.size() != n) {
    return InvalidArgumentError(
        "options.payloads.size() = " + std::to_string(options.payloads.size()) + ": expected " +
        std::to_string(n) + " (one per item)");
  }
  if (!fixed && !options.fixed_payloads.empty()) {
    return InvalidArgumentError("options.fixed_payloads is set but fixed_payload_width is 0");
  }
  uint64_t payload_data = 0;
  if (variable) {
    for (const auto& p : options.payloads) payload_data += p.size();
  } else if (fixed) {
    payload_data = n * options.fixed_payload_width;  // n < 2^32, width < 2^32
    if (options.fixed_payloads.size() != payload_data) {
      return InvalidArgumentError(
          "options.fixed_payloads.size() = " + std::to_string(options.fixed_payloads.size()) +
          ": expected " + std::to_string(payload_data) + " (" + std::to_string(n) + " items x " +
          std::to_string(options.fixed_payload_width) + " bytes)");
    }
  }
  const bool has_payloads = variable || fixed;
  const uint64_t payload_offsets_at = internal::kPayloadHeaderSize;
  const uint64_t payload_data_at =
      variable ? Up64(payload_offsets_at + 8 * (n + 1)) : internal::kPayloadHeaderSize;

  // Metadata: sorted by key (std::map), so the bytes are deterministic.
  std::vector<uint8_t> meta;
  if (!options.metadata.empty()) {
    auto put32 = [&meta](uint32_t v) {
      for (int i = 0; i < 4; ++i) meta.push_back(static_cast<uint8_t>(v >> (8 * i)));
    };
    put32(static_cast<uint32_t>(options.metadata.size()));
    for (const auto& [key, value] : options.metadata) {
      if (key.empty() || key.size() > UINT32_MAX || value.size() > UINT32_MAX) {
        return InvalidArgumentError("options.metadata: key '" + key +
                                    "': keys must be non-empty and keys and values < 4 GiB");
      }
      put32(static_cast<uint32_t>(key.size()));
      meta.insert(meta.end(), key.begin(), key.end());
      put32(static_cast<uint32_t>(value.size()));
      meta.insert(meta.end(), value.begin(), value.end());
    }
  }

  const uint8_t layout_kind = options.layout == TreeLayout::kNodeInterleaved
                                  ? internal::kLayoutNodeInterleaved
                                  : internal::kLayoutBoxesThenIds;
  auto shape_or = internal::DeriveTreeShape(n, l.node_size, kDims, sizeof(T), layout_kind);
  if (!shape_or.ok()) return InternalError(std::string(shape_or.status().message()));
  const internal::TreeShape& shape = *shape_or;

  std::vector<ChunkPlan> chunks;
  chunks.push_back({internal::kTagTree, internal::kChunkCritical, 0, shape.chunk_length});
  if (has_payloads) chunks.push_back({internal::kTagPayload, 0, 0, payload_data_at + payload_data});
  if (!meta.empty()) chunks.push_back({internal::kTagMetadata, 0, 0, meta.size()});
  const uint64_t dir_offset = internal::kSuperblockSize;
  uint64_t pos = Up64(dir_offset + internal::kDirEntrySize * chunks.size());
  for (ChunkPlan& c : chunks) {
    c.offset = pos;
    pos = Up64(pos + c.length);
  }
  const uint64_t file_length = chunks.back().offset + chunks.back().length;

  std::vector<uint8_t>& b = *out;
  b.clear();
  b.resize(file_length, 0);  // reuses capacity; every gap is zero

  // TREE chunk.
  {
    const uint64_t c = chunks[0].offset;
    b[c + 0] = kDims;
    b[c + 1] = sizeof(T) == 4 ? internal::kCoordF32 : internal::kCoordF64;
    b[c + 2] = layout_kind;
    Put<uint32_t>(b, c + 4, l.node_size);
    Put<uint64_t>(b, c + 8, n);
    Put<uint32_t>(b, c + 16, shape.num_levels());
    uint64_t at = c + internal::kTreeHeaderSize;
    for (const auto& a : shape.arrays) {
      Put<uint64_t>(b, at, a.offset);
      Put<uint64_t>(b, at + 8, a.length);
      at += 16;
    }
    for (uint64_t v : shape.level_begin) {
      Put<uint64_t>(b, at, v);
      at += 8;
    }
    if (layout_kind == internal::kLayoutBoxesThenIds) {
      for (int a = 0; a < kDims; ++a) {
        if (shape.num_slots == 0) break;
        std::memcpy(&b[c + shape.arrays[a].offset], l.min[a], shape.arrays[a].length);
        std::memcpy(&b[c + shape.arrays[kDims + a].offset], l.max[a],
                    shape.arrays[kDims + a].length);
      }
      if (shape.num_leaf_slots > 0) {
        std::memcpy(&b[c + shape.arrays[2 * kDims].offset], l.ids, shape.arrays[2 * kDims].length);
      }
    } else {
      // One record per node: min per axis, max per axis, (level 0) ids; see TreeShape.
      const uint64_t ns = l.node_size;
      for (uint32_t level = 0; level < shape.num_levels(); ++level) {
        const uint64_t begin = shape.level_begin[level];
        const uint64_t groups = (shape.level_begin[level + 1] - begin) / ns;
        const uint64_t rec = shape.RecordSize(level);
        uint8_t* dst = &b[c + shape.LevelArray(level).offset];
        for (uint64_t g = 0; g < groups; ++g, dst += rec) {
          const uint64_t s0 = begin + g * ns;
          uint8_t* d = dst;
          for (int a = 0; a < kDims; ++a, d += ns * sizeof(T)) {
            std::memcpy(d, l.min[a] + s0, ns * sizeof(T));
          }
          for (int a = 0; a < kDims; ++a, d += ns * sizeof(T)) {
            std::memcpy(d, l.max[a] + s0, ns * sizeof(T));
          }
          if (level == 0) std::memcpy(d, l.ids + g * ns, ns * 4);
        }
      }
    }
  }
  // PAYL chunk, in leaf order.
  if (has_payloads) {
    const uint64_t c = chunks[1].offset;
    Put<uint32_t>(b, c + 0, variable ? internal::kPayloadVariable : internal::kPayloadFixed);
    Put<uint32_t>(b, c + 4, options.fixed_payload_width);
    Put<uint64_t>(b, c + 8, n);
    Put<uint64_t>(b, c + 16, payload_data);
    Put<uint64_t>(b, c + 24, variable ? payload_offsets_at : 0);
    Put<uint64_t>(b, c + 32, payload_data_at);
    uint64_t data_pos = 0;
    for (uint64_t p = 0; p < n; ++p) {
      const uint32_t id = l.ids[p];
      std::span<const uint8_t> blob =
          variable ? options.payloads[id]
                   : options.fixed_payloads.subspan(uint64_t{id} * options.fixed_payload_width,
                                                    options.fixed_payload_width);
      if (variable) Put<uint64_t>(b, c + payload_offsets_at + 8 * p, data_pos);
      if (!blob.empty()) std::memcpy(&b[c + payload_data_at + data_pos], blob.data(), blob.size());
      data_pos += blob.size();
    }
    if (variable) Put<uint64_t>(b, c + payload_offsets_at + 8 * n, data_pos);
  }
  if (!meta.empty()) std::memcpy(&b[chunks.back().offset], meta.data(), meta.size());

  // Directory, then the superblock (its CRC covers the directory CRC).
  for (size_t i = 0; i < chunks.size(); ++i) {
    const uint64_t e = dir_offset + internal::kDirEntrySize * i;
    Put<uint32_t>(b, e + 0, chunks[i].tag);
    Put<uint32_t>(b, e + 4, chunks[i].flags);
    Put<uint64_t>(b, e + 8, chunks[i].offset);
    Put<uint64_t>(b, e + 16, chunks[i].length);
    Put<uint32_t>(b, e + 24,
                  Crc32c(std::span<const uint8_t>(b).subspan(chunks[i].offset, chunks[i].length)));
  }
  std::memcpy(b.data(), internal::kMagic, 8);
  Put<uint16_t>(b, 8, internal::kFormatMajor);
  Put<uint16_t>(b, 10, internal::kFormatMinor);
  Put<uint32_t>(b, 12, 0);  // flags
  Put<uint64_t>(b, 16, file_length);
  Put<uint64_t>(b, 24, dir_offset);
  Put<uint32_t>(b, 32, static_cast<uint32_t>(chunks.size()));
  Put<uint32_t>(b, 36,
                Crc32c(std::span<const uint8_t>(b).subspan(
                    dir_offset, internal::kDirEntrySize * chunks.size())));
  Put<uint32_t>(b, 60, Crc32c(std::span<const uint8_t>(b).first(60)));
  return Status();
}

template <int kDims, typename T>
Status WriteIndexFile(const std::string& path, const engine::RTreeView<kDims, T>& tree,
                      const WriteOptions& options) {
  std::vector<uint8_t> bytes;
  LOCUS_RETURN_IF_ERROR(WriteIndex(tree, options, &bytes));
  static std::atomic<uint64_t> counter{0};
  const std::string tmp =
      path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter.fetch_add(1));
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return PosixError("open", tmp, errno);
  Status s = WriteAll(fd, tmp, bytes);
  if (s.ok() && ::fsync(fd) != 0) s = PosixError("fsync", tmp, errno);
  if (::close(fd) != 0 && s.ok()) s = PosixError("close", tmp, errno);
  if (s.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) s = PosixError("rename", path, errno);
  if (!s.ok()) {
    ::unlink(tmp.c_str());
    return s;
  }
  // Make the rename durable: fsync the directory that holds the entry.
  const size_t slash = path.find_last_of('/');
  const std::string dir = slash == std::string::npos ? "."
                          : slash == 0               ? "/"
                                                     : path.substr(0, slash);
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return PosixError("open", dir, errno);
  if (::fsync(dfd) != 0) s = PosixError("fsync", dir, errno);
  ::close(dfd);
  return s;
}

#define LOCUS_STORAGE_WRITER(D, T)                                                   \
  template Status WriteIndex(const engine::RTreeView<D, T>&, const WriteOptions&,    \
                             std::vector<uint8_t>*);                                 \
  template Status WriteIndexFile(const std::string&, const engine::RTreeView<D, T>&, \
                                 const WriteOptions&);
LOCUS_STORAGE_WRITER(2, double)
LOCUS_STORAGE_WRITER(3, double)
LOCUS_STORAGE_WRITER(2, float)
LOCUS_STORAGE_WRITER(3, float)

}  // namespace locus::storage
