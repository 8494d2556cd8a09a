// Index files: a PackedRTree written once as a stable, checksummed, little-endian file
// (docs/FORMAT.md) and read back many times, as
//   - OwnedTree::FromBytes: a copy, independent of the caller's bytes afterwards;
//   - TreeView::Open: a zero-copy view over the caller's bytes (which must outlive it and not
//     change); when the bytes are not aligned for T (4 bytes for f32, 8 for f64) it copies
//     them into an aligned buffer and says so (zero_copy() == false) instead of ever reading
//     a misaligned value;
//   - MappedTree::Open: a read-only memory map of a file (zero-copy; unmapped on destruction).
// All three validate everything before they return (docs/FORMAT.md, "Validation"): hostile
// bytes give a Corruption error naming what is wrong, never a crash or undefined behaviour.
// After that, layout() describes a tree that satisfies every invariant of
// engine/rtree_layout.h, which is what the engine's query loops rely on.
//
// Ids: payload(id) and the tree's ids are the item indices of the tree that was written
// (the span given to PackedRTree::Build). Payloads are stored in leaf (Hilbert) order, so
// a loaded index with payloads keeps an id -> leaf position map (4 bytes per item, built
// during validation); without payloads it keeps none.
//
// Thread safety: writing reads the tree only (safe beside queries). A loaded index is
// immutable: every const method may be called from many threads at once.
#ifndef LOCUS_STORAGE_INDEX_FILE_H_
#define LOCUS_STORAGE_INDEX_FILE_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "engine/packed_rtree.h"
#include "engine/rtree_layout.h"
#include "engine/rtree_view.h"
#include "locus/status.h"

namespace locus::storage {

// How the tree chunk lays out its arrays (docs/FORMAT.md, "Tree chunk").
enum class TreeLayout : uint8_t {
  // One array per coordinate (SoA over all slots) and one of ids: views and maps read it in
  // place, zero-copy. The default.
  kBoxesThenIds,
  // One record per node (its children's boxes, and at level 0 their ids), levels top-down:
  // a streaming reader fetches a node with one range request and the upper levels with one.
  // Views and maps convert it to the SoA arrays on load (zero_copy() == false).
  kNodeInterleaved,
};

// What to store beside the tree. Payloads are given in ITEM order (payload i belongs to
// item i) and stored in leaf order; either variable-width blobs or fixed-width records.
struct WriteOptions {
  // Variable width: one blob per item (size() == tree.size()), or empty for none.
  std::span<const std::span<const uint8_t>> payloads;
  // Fixed width: when fixed_payload_width > 0, fixed_payloads holds tree.size() records of
  // that many bytes, item i at [i * width, (i + 1) * width). Exclusive with `payloads`.
  uint32_t fixed_payload_width = 0;
  std::span<const uint8_t> fixed_payloads;
  // Free key/values, stored sorted by key. Well-known keys: "crs" (e.g. "EPSG:4326"),
  // "content_type" (e.g. "application/geo+json"), "attribution".
  std::map<std::string, std::string> metadata;
  TreeLayout layout = TreeLayout::kBoxesThenIds;
};

// Replaces *out with the file's bytes (reusing its capacity). The output depends only on
// the tree's arrays and the options: writing twice gives identical bytes. `tree` is a
// PackedRTree or any view (a loaded index's tree() can be written again). Fails with
// InvalidArgument on payloads of the wrong count or size.
template <int kDims, typename T>
Status WriteIndex(const engine::RTreeView<kDims, T>& tree, const WriteOptions& options,
                  std::vector<uint8_t>* out);

// Writes the file atomically: to a temporary name in the same directory, fsync, rename over
// `path`, fsync the directory. A pre-existing file at `path` is replaced only on success.
// IoError names the path and the failing call.
template <int kDims, typename T>
Status WriteIndexFile(const std::string& path, const engine::RTreeView<kDims, T>& tree,
                      const WriteOptions& options = {});

struct LoadOptions {
  // Verify the CRC32C of every chunk (the superblock and the chunk directory are always
  // verified: they are small). false skips a full read of the file for trusted local files;
  // structural validation still runs in full, so bad bytes still cannot cause undefined
  // behaviour, only wrong answers.
  bool verify_checksums = true;
};

// What a file holds, read from its superblock and tree chunk header alone (no validation of
// the arrays): lets a caller choose the template arguments.
struct IndexInfo {
  int dims = 0;      // 2 or 3
  bool f32 = false;  // coordinate type: f32 or f64
  uint32_t node_size = 0;
  uint64_t num_items = 0;
  uint16_t format_major = 0, format_minor = 0;
  bool interleaved = false;  // TreeLayout::kNodeInterleaved
};
Result<IndexInfo> ReadIndexInfo(std::span<const uint8_t> bytes);

namespace internal {
struct Backing;  // what keeps the bytes alive (an aligned copy, a map, or nothing)
}  // namespace internal

// A validated index; the base of the three loaders below.
template <int kDims, typename T>
class LoadedTree {
 public:
  LoadedTree(LoadedTree&&) noexcept;
  LoadedTree& operator=(LoadedTree&&) noexcept;
  ~LoadedTree();

  // The tree: every query of engine::RTreeView (range, radius, kNN, raycast, polygon,
  // frustum, joins) over the validated arrays. Valid as long as this object.
  const engine::RTreeView<kDims, T>& tree() const { return view_; }
  const engine::RTreeLayout<kDims, T>& layout() const { return view_.layout(); }
  size_t size() const { return view_.size(); }
  uint32_t node_size() const { return view_.node_size(); }
  // True when the arrays are read in place from the caller's bytes or the map (never for a
  // node-interleaved file, whose records are converted to arrays on load).
  bool zero_copy() const { return zero_copy_; }
  bool has_payloads() const { return payload_kind_ != 0; }
  // Returns item `id`'s payload (empty if the file has none). Fails with InvalidArgument for
  // id >= size(). The span lives as long as this object.
  Result<std::span<const uint8_t>> payload(uint32_t id) const;
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

 protected:
  LoadedTree();
  // Validates `bytes` (which `backing` keeps alive) and fills this object.
  Status Init(std::span<const uint8_t> bytes, const LoadOptions& options);
  // Copies `bytes` into an aligned buffer that backing_ keeps, then Init on the copy.
  Status InitFromCopy(std::span<const uint8_t> bytes, const LoadOptions& options);

  std::unique_ptr<internal::Backing> backing_;
  std::unique_ptr<internal::Backing> transcoded_;  // a node-interleaved tree, as SoA arrays
  bool zero_copy_ = false;

 private:
  engine::RTreeView<kDims, T> view_;  // over the backing bytes and level_begin_
  std::vector<uint64_t> level_begin_;
  uint8_t payload_kind_ = 0;  // 0 none, 1 variable, 2 fixed
  uint32_t payload_width_ = 0;
  const uint8_t* payload_offsets_ = nullptr;  // variable: num_items + 1 LE u64
  const uint8_t* payload_data_ = nullptr;
  std::vector<uint32_t> position_;  // id -> leaf position (only with payloads)
  std::map<std::string, std::string> metadata_;
};

// An index that owns a copy of the bytes it was loaded from.
template <int kDims, typename T>
class OwnedTree : public LoadedTree<kDims, T> {
 public:
  static Result<OwnedTree> FromBytes(std::span<const uint8_t> bytes,
                                     const LoadOptions& options = {});
};

// A view over the caller's bytes, which must stay alive and unchanged while the view is used.
// Zero-copy when bytes.data() is aligned for T (the file puts every array at a 64-byte
// aligned offset); otherwise it copies into an aligned buffer and zero_copy() is false.
template <int kDims, typename T>
class TreeView : public LoadedTree<kDims, T> {
 public:
  static Result<TreeView> Open(std::span<const uint8_t> bytes, const LoadOptions& options = {});
};

// A read-only memory map of an index file. The file must not be truncated or rewritten in
// place while mapped (WriteIndexFile replaces files by rename, which is safe); a truncation
// by another process would fault on access, which no validation can prevent.
template <int kDims, typename T>
class MappedTree : public LoadedTree<kDims, T> {
 public:
  static Result<MappedTree> Open(const std::string& path, const LoadOptions& options = {});
};

// Shorthand for OwnedTree<kDims, T>::FromBytes.
template <int kDims, typename T>
Result<OwnedTree<kDims, T>> FromBytes(std::span<const uint8_t> bytes,
                                      const LoadOptions& options = {}) {
  return OwnedTree<kDims, T>::FromBytes(bytes, options);
}

#define LOCUS_STORAGE_EXTERN(D, T)        \
  extern template class LoadedTree<D, T>; \
  extern template class OwnedTree<D, T>;  \
  extern template class TreeView<D, T>;   \
  extern template class MappedTree<D, T>;
LOCUS_STORAGE_EXTERN(2, double)
LOCUS_STORAGE_EXTERN(3, double)
LOCUS_STORAGE_EXTERN(2, float)
LOCUS_STORAGE_EXTERN(3, float)
#undef LOCUS_STORAGE_EXTERN

}  // namespace locus::storage

#endif  // LOCUS_STORAGE_INDEX_FILE_H_
