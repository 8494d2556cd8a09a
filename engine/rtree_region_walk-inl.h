// Per-target region walks over a packed R-tree (convex polygon in 2D, frustum in 3D).
// Included once per Highway target by rtree_region_walk.cc.
//
// Depth-first like the range walk: the node_size children of one node per step go through
// the kernels' bit-mask driver (box_mask-inl.h's FilterBits) with the region's Intersects
// predicate evaluated in f64 (f32 columns are promoted on load, so f32 trees answer the f64
// predicate on their stored boxes), and inner nodes get a second "contains" pass whose hits
// are swept (their leaves are one contiguous run of ids). The per-box operations are those of
// the scalar predicates in convex_region.h, in the same order, so results agree bit for bit.

#if defined(LOCUS_ENGINE_RTREE_REGION_WALK_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef LOCUS_ENGINE_RTREE_REGION_WALK_INL_H_
#undef LOCUS_ENGINE_RTREE_REGION_WALK_INL_H_
#else
#define LOCUS_ENGINE_RTREE_REGION_WALK_INL_H_
#endif

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "engine/convex_region.h"
#include "engine/rtree_layout.h"
#include "engine/rtree_region_walk.h"
#include "engine/rtree_walk-inl.h"  // LoadAsF64, LeafRuns
#include "hwy/highway.h"
#include "kernels/box_mask-inl.h"

HWY_BEFORE_NAMESPACE();
namespace locus::engine {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;
namespace hk = locus::kernels::HWY_NAMESPACE;

// ConvexPolygon::Intersects (kContains = false) or ::Contains over 2D tree columns.
template <typename T, bool kContains>
struct PolygonPred {
  const T* lo[2];
  const T* hi[2];
  uint64_t base;
  const ConvexPolygon* poly;
  template <class D>
  HWY_INLINE hn::Mask<D> operator()(D d, size_t i, hn::Vec<D>* value) const {
    const size_t k = base + i;
    const auto lx = LoadAsF64(d, lo[0] + k), ly = LoadAsF64(d, lo[1] + k);
    const auto hx = LoadAsF64(d, hi[0] + k), hy = LoadAsF64(d, hi[1] + k);
    const Box2& bb = poly->bounds();
    const auto bx0 = hn::Set(d, bb.min.x), bx1 = hn::Set(d, bb.max.x);
    const auto by0 = hn::Set(d, bb.min.y), by1 = hn::Set(d, bb.max.y);
    auto ok = hn::And(hn::Le(lx, hx), hn::Le(ly, hy));  // valid (not padding)
    if constexpr (kContains) {
      ok = hn::And(ok, hn::And(hn::And(hn::Le(bx0, lx), hn::Le(hx, bx1)),
                               hn::And(hn::Le(by0, ly), hn::Le(hy, by1))));
    } else {
      ok = hn::And(ok, hn::And(hn::And(hn::Le(lx, bx1), hn::Le(bx0, hx)),
                               hn::And(hn::Le(ly, by1), hn::Le(by0, hy))));
    }
    *value = hn::Zero(d);
    for (size_t j = 0, m = poly->num_edges(); j < m; ++j) {
      if (hn::AllFalse(d, ok)) break;
      const double nxs = poly->nx(j), nys = poly->ny(j);
      const auto nx = hn::Set(d, nxs), ny = hn::Set(d, nys);
      const auto x_lo = nxs >= 0 ? lx : hx, x_hi = nxs >= 0 ? hx : lx;
      const auto y_lo = nys >= 0 ? ly : hy, y_hi = nys >= 0 ? hy : ly;
      const auto p_lo = hn::Add(hn::Mul(nx, x_lo), hn::Mul(ny, y_lo));
      const auto p_hi = hn::Add(hn::Mul(nx, x_hi), hn::Mul(ny, y_hi));
      const auto c_min = hn::Set(d, poly->c_min(j)), c_max = hn::Set(d, poly->c_max(j));
      if constexpr (kContains) {
        ok = hn::And(ok, hn::And(hn::Le(c_min, p_lo), hn::Le(p_hi, c_max)));
      } else {
        ok = hn::And(ok, hn::And(hn::Le(p_lo, c_max), hn::Le(c_min, p_hi)));
      }
    }
    return ok;
  }
};

// Frustum::Intersects (p-vertex) or ::Contains (n-vertex) over 3D tree columns.
template <typename T, bool kContains>
struct FrustumPred {
  const T* lo[3];
  const T* hi[3];
  uint64_t base;
  const Frustum* f;
  template <class D>
  HWY_INLINE hn::Mask<D> operator()(D d, size_t i, hn::Vec<D>* value) const {
    const size_t k = base + i;
    const auto lx = LoadAsF64(d, lo[0] + k), ly = LoadAsF64(d, lo[1] + k),
               lz = LoadAsF64(d, lo[2] + k);
    const auto hx = LoadAsF64(d, hi[0] + k), hy = LoadAsF64(d, hi[1] + k),
               hz = LoadAsF64(d, hi[2] + k);
    auto ok = hn::And(hn::And(hn::Le(lx, hx), hn::Le(ly, hy)), hn::Le(lz, hz));
    const auto zero = hn::Zero(d);
    *value = zero;
    for (const Plane& p : f->planes) {
      // Intersects: the corner furthest along n; Contains: the nearest.
      const bool px = (p.nx >= 0) != kContains, py = (p.ny >= 0) != kContains,
                 pz = (p.nz >= 0) != kContains;
      const auto v = hn::Add(hn::Add(hn::Add(hn::Mul(hn::Set(d, p.nx), px ? hx : lx),
                                             hn::Mul(hn::Set(d, p.ny), py ? hy : ly)),
                                     hn::Mul(hn::Set(d, p.nz), pz ? hz : lz)),
                             hn::Set(d, p.d));
      ok = hn::And(ok, hn::Le(zero, v));
    }
    return ok;
  }
};

// Depth-first region walk: `make(kContains tag)` builds the predicate; children passing the
// contains predicate are swept.
template <int kDims, typename T, class Hit, class In>
HWY_INLINE void RegionWalk(const RTreeLayout<kDims, T>& l, Hit hit, In in,
                           std::vector<uint32_t>* out) {
  if (l.num_levels == 0 || l.num_items == 0) return;
  const uint64_t ns = l.node_size;
  uint64_t leaves[kMaxLevels + 1];
  LeafRuns(l, leaves);
  struct Frame {
    uint32_t level, pos;
  };
  Frame stack[kMaxLevels * kMaxNodeSize];
  size_t top = 0;
  stack[top++] = {l.num_levels, 0};
  const hn::ScalableTag<double> d;
  while (top > 0) {
    const Frame f = stack[--top];
    const uint32_t child_level = f.level - 1;
    const uint64_t first = uint64_t{f.pos} * ns;
    const uint64_t slot = l.level_begin[child_level] + first;
    hit.base = slot;
    uint64_t bits = 0;
    hk::FilterBits(d, l.node_size, hit, &bits, static_cast<double*>(nullptr));
    if (bits == 0) continue;
    if (child_level == 0) {
      for (; bits != 0; bits &= bits - 1) {
        out->push_back(l.ids[first + hwy::Num0BitsBelowLS1Bit_Nonzero64(bits)]);
      }
      continue;
    }
    in.base = slot;
    uint64_t inside = 0;
    hk::FilterBits(d, l.node_size, in, &inside, static_cast<double*>(nullptr));
    inside &= bits;
    for (uint64_t b = inside; b != 0; b &= b - 1) {
      const uint64_t c = first + hwy::Num0BitsBelowLS1Bit_Nonzero64(b);
      const uint64_t begin = c * leaves[child_level];
      const uint64_t end = std::min<uint64_t>(begin + leaves[child_level], l.num_items);
      out->insert(out->end(), l.ids + begin, l.ids + end);
    }
    uint64_t descend = bits & ~inside;
    while (descend != 0) {
      const uint64_t j = 63 - hwy::Num0BitsAboveMS1Bit_Nonzero64(descend);
      descend &= ~(uint64_t{1} << j);
      stack[top++] = {child_level, static_cast<uint32_t>(first + j)};
    }
  }
}

// The per-target entry points (rtree_region_walk.cc): 2D trees take a convex polygon, 3D
// trees a frustum.
template <typename T>
HWY_INLINE void RegionSearchT(const RTreeLayout<2, T>& l, const ConvexPolygon& poly,
                              std::vector<uint32_t>* out) {
  PolygonPred<T, false> hit{{l.min[0], l.min[1]}, {l.max[0], l.max[1]}, 0, &poly};
  PolygonPred<T, true> in{{l.min[0], l.min[1]}, {l.max[0], l.max[1]}, 0, &poly};
  RegionWalk(l, hit, in, out);
}

template <typename T>
HWY_INLINE void RegionSearchT(const RTreeLayout<3, T>& l, const Frustum& f,
                              std::vector<uint32_t>* out) {
  FrustumPred<T, false> hit{{l.min[0], l.min[1], l.min[2]}, {l.max[0], l.max[1], l.max[2]}, 0, &f};
  FrustumPred<T, true> in{{l.min[0], l.min[1], l.min[2]}, {l.max[0], l.max[1], l.max[2]}, 0, &f};
  RegionWalk(l, hit, in, out);
}

}  // namespace HWY_NAMESPACE
}  // namespace locus::engine
HWY_AFTER_NAMESPACE();

#endif  // include guard
