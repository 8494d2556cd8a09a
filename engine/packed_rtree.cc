// PackedRTree: the build (every query is a method of RTreeView, rtree_view.h). The build
// steps, each parallel above options.parallel_threshold and deterministic at any thread count:
//   1. validate every box (fast path first; the named error is only built on failure);
//   2. extent and box centres (f64);
//   3. Hilbert keys of the centres over the extent (kernels/hilbert.h);
//   4. stable radix sort of (key, item index): ties keep index order;
//   5. level 0 = item boxes in sorted order (rounded outward for f32), padded to whole nodes
//      with the empty box; each upper level = per-node unions of the level below, likewise
//      padded, until a level holds one node.
#include "engine/packed_rtree.h"

#include <tbb/parallel_for.h>
#include <tbb/parallel_reduce.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <string>
#include <type_traits>

#include "engine/radix_sort.h"
#include "engine/round_outward.h"
#include "kernels/hilbert.h"

namespace locus::engine {
namespace {

// Applies fn(begin, end) to [0, n), in parallel chunks when `parallel`.
template <typename Fn>
void ForRange(size_t n, bool parallel, Fn&& fn) {
  if (!parallel) {
    fn(size_t{0}, n);
    return;
  }
  tbb::parallel_for(tbb::blocked_range<size_t>(0, n, 4096),
                    [&](const tbb::blocked_range<size_t>& r) { fn(r.begin(), r.end()); });
}

// Axis access for the public f64 geometry.
inline double Lo(const Box2& b, int a) { return a == 0 ? b.min.x : b.min.y; }
inline double Hi(const Box2& b, int a) { return a == 0 ? b.max.x : b.max.y; }
inline double Lo(const Box3& b, int a) { return a == 0 ? b.min.x : a == 1 ? b.min.y : b.min.z; }
inline double Hi(const Box3& b, int a) { return a == 0 ? b.max.x : a == 1 ? b.max.y : b.max.z; }

template <int kDims, typename Box>
bool BoxIsValid(const Box& b) {
  for (int a = 0; a < kDims; ++a) {
    const double lo = Lo(b, a), hi = Hi(b, a);
    if (!(std::isfinite(lo) && std::isfinite(hi) && lo <= hi)) return false;
  }
  return true;
}

}  // namespace

template <int kDims, typename T>
Result<PackedRTree<kDims, T>> PackedRTree<kDims, T>::Build(std::span<const Box> boxes,
                                                           const RTreeOptions& options) {
  PackedRTree tree;
  LOCUS_RETURN_IF_ERROR(tree.Init(boxes, options));
  tree.SyncLayout();
  return tree;
}

template <int kDims, typename T>
Result<PackedRTree<kDims, T>> PackedRTree<kDims, T>::Build(std::span<const Point> points,
                                                           const RTreeOptions& options) {
  std::vector<Box> boxes(points.size());
  for (size_t i = 0; i < points.size(); ++i) boxes[i] = BoxAround(points[i]);
  return Build(std::span<const Box>(boxes), options);
}

template <int kDims, typename T>
Status PackedRTree<kDims, T>::Init(std::span<const Box> boxes, const RTreeOptions& options) {
  const size_t n = boxes.size();
  if (options.node_size < 2 || options.node_size > kMaxNodeSize) {
    return InvalidArgumentError("options.node_size = " + std::to_string(options.node_size) +
                                ": must be in [2, " + std::to_string(kMaxNodeSize) + "]");
  }
  if (n >= kNoId) {
    return InvalidArgumentError("boxes.size() = " + std::to_string(n) +
                                ": at most 4294967294 items per tree");
  }
  const bool parallel = n >= options.parallel_threshold;
  const uint64_t ns = options.node_size;
  this->layout_.node_size = options.node_size;
  this->layout_.num_items = n;

  // 1. Validate. The first invalid item (lowest index) is reported, whatever the threads.
  size_t first_bad = n;
  if (parallel) {
    first_bad = tbb::parallel_reduce(
        tbb::blocked_range<size_t>(0, n, 4096), n,
        [&](const tbb::blocked_range<size_t>& r, size_t best) {
          for (size_t i = r.begin(); i < r.end() && i < best; ++i) {
            if (!BoxIsValid<kDims>(boxes[i])) return i;
          }
          return best;
        },
        [](size_t a, size_t b) { return std::min(a, b); });
  } else {
    for (size_t i = 0; i < n && first_bad == n; ++i) {
      if (!BoxIsValid<kDims>(boxes[i])) first_bad = i;
    }
  }
  if (first_bad < n) {
    Status s = ValidateBox(boxes[first_bad], "item[" + std::to_string(first_bad) + "]");
    LOCUS_CHECK(!s.ok());
    return s;
  }

  // Level sizes: level 0 holds the items padded to whole nodes; each level above holds one
  // slot per node of the level below, padded likewise, until a level has a single node.
  auto padded = [ns](uint64_t count) { return std::max<uint64_t>(1, (count + ns - 1) / ns) * ns; };
  level_begin_.assign(1, 0);
  if (n > 0) {
    uint64_t real = n;
    for (;;) {
      level_begin_.push_back(level_begin_.back() + padded(real));
      if (real <= ns) break;
      real = (real + ns - 1) / ns;
    }
  }
  const uint64_t total = level_begin_.back();
  for (int a = 0; a < kDims; ++a) {
    min_[a].resize(total, std::numeric_limits<T>::infinity());
    max_[a].resize(total, -std::numeric_limits<T>::infinity());
  }
  ids_.resize(n == 0 ? 0 : level_begin_[1], kNoId);
  if (n == 0) return Status();

  // 2-3. Extent, centres, Hilbert keys.
  Box extent = boxes[0];
  for (const Box& b : boxes) {  // one cheap pass; the keys below dominate
    if constexpr (kDims == 2) {
      extent.min = {std::min(extent.min.x, b.min.x), std::min(extent.min.y, b.min.y)};
      extent.max = {std::max(extent.max.x, b.max.x), std::max(extent.max.y, b.max.y)};
    } else {
      extent.min = {std::min(extent.min.x, b.min.x), std::min(extent.min.y, b.min.y),
                    std::min(extent.min.z, b.min.z)};
      extent.max = {std::max(extent.max.x, b.max.x), std::max(extent.max.y, b.max.y),
                    std::max(extent.max.z, b.max.z)};
    }
  }
  std::vector<uint64_t> keys(n);
  std::vector<uint32_t> order(n);
  ForRange(n, parallel, [&](size_t begin, size_t end) {
    constexpr size_t kChunk = 1024;
    kernels::Column<double> c[kDims];
    for (int a = 0; a < kDims; ++a) c[a].resize(kChunk);
    uint32_t keys32[kChunk];
    uint64_t keys64[kChunk];
    for (size_t i0 = begin; i0 < end; i0 += kChunk) {
      const size_t m = std::min(kChunk, end - i0);
      for (size_t j = 0; j < m; ++j) {
        for (int a = 0; a < kDims; ++a) {
          c[a][j] = (Lo(boxes[i0 + j], a) + Hi(boxes[i0 + j], a)) / 2;
        }
        order[i0 + j] = static_cast<uint32_t>(i0 + j);
      }
      if constexpr (kDims == 2) {
        const kernels::Box2T<double> ext{extent.min.x, extent.min.y, extent.max.x, extent.max.y};
        kernels::HilbertKeys2(c[0].data(), c[1].data(), m, ext, keys32);
        for (size_t j = 0; j < m; ++j) keys[i0 + j] = keys32[j];
      } else {
        const kernels::Box3T<double> ext{extent.min.x, extent.min.y, extent.min.z,
                                         extent.max.x, extent.max.y, extent.max.z};
        kernels::HilbertKeys3(c[0].data(), c[1].data(), c[2].data(), m, ext, keys64);
        for (size_t j = 0; j < m; ++j) keys[i0 + j] = keys64[j];
      }
    }
  });

  // 4. Sort by key; stable, so equal keys stay in item order.
  RadixSortPairs(keys, order, kDims == 2 ? 32 : 48, parallel);

  // 5. Level 0, then the levels above.
  std::atomic<bool> all_points = true;
  ForRange(n, parallel, [&](size_t begin, size_t end) {
    bool points = true;
    for (size_t p = begin; p < end; ++p) {
      const Box& b = boxes[order[p]];
      ids_[p] = order[p];
      for (int a = 0; a < kDims; ++a) {
        min_[a][p] = internal::RoundDown<T>(Lo(b, a));
        max_[a][p] = internal::RoundUp<T>(Hi(b, a));
        points &= min_[a][p] == max_[a][p];
      }
    }
    if (!points) all_points.store(false, std::memory_order_relaxed);
  });
  this->layout_.points = all_points.load(std::memory_order_relaxed);
  for (size_t level = 1; level + 1 < level_begin_.size(); ++level) {
    const uint64_t child_begin = level_begin_[level - 1];
    const uint64_t begin = level_begin_[level];
    const uint64_t nodes = (level_begin_[level] - child_begin) / ns;
    ForRange(nodes, parallel && nodes >= 4096, [&](size_t first, size_t last) {
      for (size_t j = first; j < last; ++j) {
        const uint64_t c0 = child_begin + j * ns;
        for (int a = 0; a < kDims; ++a) {
          T lo = min_[a][c0], hi = max_[a][c0];
          for (uint64_t c = c0 + 1; c < c0 + ns; ++c) {
            lo = std::min(lo, min_[a][c]);
            hi = std::max(hi, max_[a][c]);
          }
          min_[a][begin + j] = lo;
          max_[a][begin + j] = hi;
        }
      }
    });
  }
  return Status();
}

template <int kDims, typename T>
void PackedRTree<kDims, T>::SyncLayout() {
  // The scalars (node size, item count, points) live only in layout_; this re-points it.
  RTreeLayout<kDims, T>& l = this->layout_;
  for (int a = 0; a < kDims; ++a) {
    l.min[a] = min_[a].data();
    l.max[a] = max_[a].data();
  }
  l.ids = ids_.data();
  l.level_begin = level_begin_.data();
  l.num_levels = static_cast<uint32_t>(level_begin_.size()) - 1;
}

template <int kDims, typename T>
PackedRTree<kDims, T>& PackedRTree<kDims, T>::operator=(PackedRTree&& other) noexcept {
  if (this == &other) return *this;
  this->layout_ = other.layout_;
  level_begin_ = std::move(other.level_begin_);
  for (int a = 0; a < kDims; ++a) {
    min_[a] = std::move(other.min_[a]);
    max_[a] = std::move(other.max_[a]);
  }
  ids_ = std::move(other.ids_);
  SyncLayout();
  // The source is left the empty tree.
  other.level_begin_.assign(1, 0);
  other.layout_ = RTreeLayout<kDims, T>();
  other.SyncLayout();
  return *this;
}

template class PackedRTree<2, double>;
template class PackedRTree<3, double>;
template class PackedRTree<2, float>;
template class PackedRTree<3, float>;

}  // namespace locus::engine
