// Per-target raycast and region walks over a packed R-tree. Included once per Highway target
// by rtree_ray_walk.cc.
//
// Every walk tests the node_size children of one node per step with the kernels' bit-mask
// driver (box_mask-inl.h's FilterBits) and a predicate evaluated in f64 (f32 columns are
// promoted on load, so f32 trees answer the f64 predicate on their stored boxes):
// - rays: the kernels' slab test (ray-inl.h's SlabAxis / SetUpRay; the ray's reciprocal
//   direction and parallel axes are set up once per query and the predicate is specialised
//   on them). All hits: depth-first. Closest: best-first by entry t (a min-heap of nodes),
//   with the running best as the ray's t_max, so later nodes and leaves farther than it fail
//   the slab test itself; the walk ends when the nearest open node starts beyond the best.
// - polygon / frustum: depth-first like the range query, with a second "contains" pass on
//   inner nodes whose hits are swept (their leaves are one contiguous run of ids).
// The per-box operations are those of the scalar predicates in ray_region.h and
// kernels/ray.h's reference, in the same order, so results agree bit for bit.

#if defined(LOCUS_ENGINE_RTREE_RAY_WALK_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef LOCUS_ENGINE_RTREE_RAY_WALK_INL_H_
#undef LOCUS_ENGINE_RTREE_RAY_WALK_INL_H_
#else
#define LOCUS_ENGINE_RTREE_RAY_WALK_INL_H_
#endif

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <vector>

#include "engine/ray_region.h"
#include "engine/rtree_layout.h"
#include "engine/rtree_walk-inl.h"  // LoadAsF64, LeafRuns
#include "hwy/highway.h"
#include "kernels/box_mask-inl.h"
#include "kernels/ray-inl.h"
#include "kernels/ray.h"

HWY_BEFORE_NAMESPACE();
namespace locus::engine {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;
namespace hk = locus::kernels::HWY_NAMESPACE;

// ---- rays ------------------------------------------------------------------------------

// The kernels' slab test (hk::RayPred) over the tree's columns from `base`, in f64.
template <typename T, int kDims, unsigned kParallel>
struct TreeRayPred {
  const T* lo[3];
  const T* hi[3];
  uint64_t base;
  hk::RayConsts<double> c;
  template <class D>
  HWY_INLINE hn::Mask<D> operator()(D d, size_t i, hn::Vec<D>* entry_t) const {
    const size_t k = base + i;
    auto t_near = hn::Set(d, c.t_min);
    auto t_far = hn::Set(d, c.t_max);
    auto ok = hn::FirstN(d, hn::Lanes(d));
    hk::SlabAxis<(kParallel & 1) != 0>(d, LoadAsF64(d, lo[0] + k), LoadAsF64(d, hi[0] + k),
                                       hn::Set(d, c.o[0]), hn::Set(d, c.inv[0]), t_near, t_far, ok);
    hk::SlabAxis<(kParallel & 2) != 0>(d, LoadAsF64(d, lo[1] + k), LoadAsF64(d, hi[1] + k),
                                       hn::Set(d, c.o[1]), hn::Set(d, c.inv[1]), t_near, t_far, ok);
    if constexpr (kDims == 3) {
      hk::SlabAxis<(kParallel & 4) != 0>(d, LoadAsF64(d, lo[2] + k), LoadAsF64(d, hi[2] + k),
                                         hn::Set(d, c.o[2]), hn::Set(d, c.inv[2]), t_near, t_far,
                                         ok);
    }
    *entry_t = hn::Add(t_near, hn::Zero(d));  // -0 -> +0
    return hn::And(ok, hn::Le(t_near, t_far));
  }
};

// Calls fn(pred) with the TreeRayPred specialised for the ray's parallel axes.
template <int kDims, typename T, class Ray, class Fn>
HWY_INLINE void WithTreeRayPred(const RTreeLayout<kDims, T>& l, const Ray& ray, const Fn& fn) {
  hk::RayConsts<double> c;
  unsigned parallel;
  if (!hk::SetUpRay(ray, &c, &parallel)) return;
  hk::WithParallelAxes<kDims>(parallel, [&](auto k) {
    constexpr unsigned kPar = decltype(k)::value;
    TreeRayPred<T, kDims, kPar> pred{{l.min[0], l.min[1], kDims == 3 ? l.min[kDims - 1] : nullptr},
                                     {l.max[0], l.max[1], kDims == 3 ? l.max[kDims - 1] : nullptr},
                                     0,
                                     c};
    fn(pred);
  });
}

// Runs pred over the node_size children at `slot`: returns the hit mask, entry t to t_out.
template <class Pred>
HWY_INLINE uint64_t RayChildren(Pred& pred, uint64_t slot, uint32_t node_size, double* t_out) {
  pred.base = slot;
  uint64_t bits = 0;
  hk::FilterBits(hn::ScalableTag<double>(), node_size, pred, &bits, t_out);
  return bits;
}

template <int kDims, typename T, class Ray>
HWY_INLINE void RayAllT(const RTreeLayout<kDims, T>& l, const Ray& ray, std::vector<RayHit>* out) {
  if (l.num_levels == 0 || l.num_items == 0) return;
  WithTreeRayPred(l, ray, [&](auto pred) {
    const uint64_t ns = l.node_size;
    struct Frame {
      uint32_t level, pos;
    };
    Frame stack[kMaxLevels * kMaxNodeSize];
    size_t top = 0;
    stack[top++] = {l.num_levels, 0};
    HWY_ALIGN double t[kMaxNodeSize];
    while (top > 0) {
      const Frame f = stack[--top];
      const uint32_t child_level = f.level - 1;
      const uint64_t first = uint64_t{f.pos} * ns;
      uint64_t bits = RayChildren(pred, l.level_begin[child_level] + first, l.node_size,
                                  child_level == 0 ? t : nullptr);
      if (child_level == 0) {
        for (; bits != 0; bits &= bits - 1) {
          const uint64_t j = hwy::Num0BitsBelowLS1Bit_Nonzero64(bits);
          out->push_back({l.ids[first + j], t[j]});
        }
        continue;
      }
      while (bits != 0) {  // pushed in reverse so they pop in ascending order
        const uint64_t j = 63 - hwy::Num0BitsAboveMS1Bit_Nonzero64(bits);
        bits &= ~(uint64_t{1} << j);
        stack[top++] = {child_level, static_cast<uint32_t>(first + j)};
      }
    }
  });
}

inline bool ExactHit(const Box2& b, const kernels::Ray2T<double>& r, double* t) {
  return kernels::reference::RayHitsBox2<double>(b.min.x, b.min.y, b.max.x, b.max.y, r, t);
}
inline bool ExactHit(const Box3& b, const kernels::Ray3T<double>& r, double* t) {
  return kernels::reference::RayHitsBox3<double>(b.min.x, b.min.y, b.min.z, b.max.x, b.max.y,
                                                 b.max.z, r, t);
}

template <int kDims, typename T, class Ray, class ItemBox>
HWY_INLINE bool RayFirstT(const RTreeLayout<kDims, T>& l, const Ray& ray,
                          const ItemBox* exact_items, RayHit* result) {
  if (l.num_levels == 0 || l.num_items == 0) return false;
  bool found = false;
  RayHit best;
  WithTreeRayPred(l, ray, [&](auto pred) {
    const uint64_t ns = l.node_size;
    struct Open {
      double t;  // lower bound of the entry t of every item below
      uint32_t level, pos;
    };
    // Min-heap on t (std heaps are max-heaps: invert the comparison).
    auto later = [](const Open& a, const Open& b) { return a.t > b.t; };
    std::vector<Open> heap;
    heap.reserve(64);
    heap.push_back({ray.t_min, l.num_levels, 0});
    HWY_ALIGN double t[kMaxNodeSize];
    while (!heap.empty()) {
      std::pop_heap(heap.begin(), heap.end(), later);
      const Open f = heap.back();
      heap.pop_back();
      if (found && f.t > best.t) break;  // every open node starts beyond the best
      const uint32_t child_level = f.level - 1;
      const uint64_t first = uint64_t{f.pos} * ns;
      uint64_t bits = RayChildren(pred, l.level_begin[child_level] + first, l.node_size, t);
      if (child_level == 0) {
        for (; bits != 0; bits &= bits - 1) {
          const uint64_t j = hwy::Num0BitsBelowLS1Bit_Nonzero64(bits);
          const uint32_t id = l.ids[first + j];
          double tj = t[j];
          if (exact_items != nullptr && !ExactHit(exact_items[id], ray, &tj)) continue;
          if (!found || tj < best.t || (tj == best.t && id < best.id)) {
            found = true;
            best = {id, tj};
            // Inclusive bound: a tie at best.t with a smaller id still passes.
            pred.c.t_max = std::min(pred.c.t_max, tj);
          }
        }
        continue;
      }
      for (; bits != 0; bits &= bits - 1) {
        const uint64_t j = hwy::Num0BitsBelowLS1Bit_Nonzero64(bits);
        heap.push_back({t[j], child_level, static_cast<uint32_t>(first + j)});
        std::push_heap(heap.begin(), heap.end(), later);
      }
    }
  });
  if (found) *result = best;
  return found;
}

// ---- regions ---------------------------------------------------------------------------

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

template <typename T>
HWY_INLINE void PolygonSearchT(const RTreeLayout<2, T>& l, const ConvexPolygon& poly,
                               std::vector<uint32_t>* out) {
  PolygonPred<T, false> hit{{l.min[0], l.min[1]}, {l.max[0], l.max[1]}, 0, &poly};
  PolygonPred<T, true> in{{l.min[0], l.min[1]}, {l.max[0], l.max[1]}, 0, &poly};
  RegionWalk(l, hit, in, out);
}

template <typename T>
HWY_INLINE void FrustumSearchT(const RTreeLayout<3, T>& l, const Frustum& f,
                               std::vector<uint32_t>* out) {
  FrustumPred<T, false> hit{{l.min[0], l.min[1], l.min[2]}, {l.max[0], l.max[1], l.max[2]}, 0, &f};
  FrustumPred<T, true> in{{l.min[0], l.min[1], l.min[2]}, {l.max[0], l.max[1], l.max[2]}, 0, &f};
  RegionWalk(l, hit, in, out);
}

}  // namespace HWY_NAMESPACE
}  // namespace locus::engine
HWY_AFTER_NAMESPACE();

#endif  // include guard
