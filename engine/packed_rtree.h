// PackedRTree: the static spatial index of locus, a packed Hilbert R-tree over 2D or 3D
// boxes (points are zero-size boxes), stored as f64 (exact) or f32 (compact).
//
// Build sorts items by the Hilbert key of their box centres (kernels/hilbert.h; a stable
// parallel radix sort, ties broken by item index) and packs nodes bottom-up, node_size
// children each (default 16). The resulting arrays (rtree_layout.h) are byte-identical
// whatever the thread count. Node boxes are SoA, so one kernel call tests all children of
// a node; a node entirely inside a range query is swept (its leaves are contiguous) without
// further tests.
//
// f32 storage rounds every box outward (min down, max up) and every query outward too, so a
// query's result is a superset of the exact answer; SearchExact refines it against the
// caller's f64 boxes. f64 storage is exact.
//
// Errors: Build rejects NaN, infinite and crossed boxes with an InvalidArgument naming the
// item ("item[17]: min.y (4) > max.y (2): box is crossed"); queries reject invalid query
// boxes the same way ("query.min.x = nan: ..."). Results are item indices into the span
// given to Build.
//
// Every query is a method of RTreeView (rtree_view.h), which a PackedRTree is: the tree owns
// its arrays and is a view of them, and index files (storage/) make views over loaded bytes.
// Functions that work on any tree (joins) take `const RTreeView&`.
//
// Thread safety: a built tree is immutable; every const method is safe to call from many
// threads at once. Moving a tree while it is being queried is not.
#ifndef LOCUS_ENGINE_PACKED_RTREE_H_
#define LOCUS_ENGINE_PACKED_RTREE_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

#include "engine/rtree_layout.h"
#include "engine/rtree_view.h"  // every query
#include "kernels/column.h"
#include "locus/geometry.h"
#include "locus/status.h"

namespace locus::engine {

struct RTreeOptions {
  // Children per node, in [2, 64]. 16 (default) is one AVX-512 f32 vector per axis and the
  // flatbush default; larger nodes mean fewer levels but more tests per visited node.
  uint32_t node_size = 16;
  // Builds with at least this many items use oneTBB (key computation, sort, packing). The
  // tree is the same either way.
  size_t parallel_threshold = size_t{1} << 15;
};


template <int kDims, typename T>
class PackedRTree : public RTreeView<kDims, T> {
 public:
  using Box = typename Geometry<kDims>::Box;
  using Point = typename Geometry<kDims>::Point;

  // Builds a tree over `boxes`; item i is boxes[i]. Fails with InvalidArgument on a NaN,
  // infinite or crossed box (naming the item), on a node size outside [2, 64], or with more
  // than 2^32 - 2 items.
  static Result<PackedRTree> Build(std::span<const Box> boxes, const RTreeOptions& options = {});
  // Builds a tree over points (zero-size boxes).
  static Result<PackedRTree> Build(std::span<const Point> points,
                                   const RTreeOptions& options = {});

  PackedRTree() { SyncLayout(); }  // the empty tree
  // Moving keeps the arrays (and so every pointer into them); the source becomes empty.
  PackedRTree(PackedRTree&& other) noexcept { *this = std::move(other); }
  PackedRTree& operator=(PackedRTree&& other) noexcept;

  // The view of this tree's arrays (valid while the tree lives and is not moved from).
  const RTreeView<kDims, T>& view() const { return *this; }

 private:
  Status Init(std::span<const Box> boxes, const RTreeOptions& options);
  void SyncLayout();  // points layout_ at the owned arrays (its scalars are set by Init)

  std::vector<uint64_t> level_begin_ = {0};  // slot offset of each level; back() = total slots
  kernels::Column<T> min_[kDims];
  kernels::Column<T> max_[kDims];
  kernels::Column<uint32_t> ids_;
};

using PackedRTree2D = PackedRTree<2, double>;
using PackedRTree3D = PackedRTree<3, double>;
using PackedRTree2F = PackedRTree<2, float>;
using PackedRTree3F = PackedRTree<3, float>;

extern template class PackedRTree<2, double>;
extern template class PackedRTree<3, double>;
extern template class PackedRTree<2, float>;
extern template class PackedRTree<3, float>;

}  // namespace locus::engine

#endif  // LOCUS_ENGINE_PACKED_RTREE_H_
