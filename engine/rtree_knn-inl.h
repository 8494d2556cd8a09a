// Per-target R-tree kNN walk (best-first). Included once per Highway target by rtree_knn.cc.
//
// Shape: a dive to the nearest leaf node seeds the TopK's bound, then a binary min-heap of
// nodes keyed by the squared gap distance from the query to the node box. Popping a node whose key exceeds the TopK's pruning bound ends the walk (every
// remaining node is at least as far). For a popped node, one inlined FilterBits pass
// (box_mask-inl.h) over its node_size child slots computes every child's squared gap
// distance in f64 (f32 slots are promoted exactly) and the mask of valid children within the
// bound; inner children in the mask are pushed onto the heap, leaf children are offered to
// the TopK (knn.h: inclusive bound, ties by smaller id).
//
// Exactness: each operation (sub, max, mul, add) is monotone in its inputs, so a node's
// computed distance never exceeds the computed distance of anything inside it; hence no item
// that can enter the TopK is ever pruned, and the result equals brute force over the same
// formula, bit for bit (-ffp-contract=off, same operation order in every target and in the
// scalar item recomputation of the exact variant).

#if defined(LOCUS_ENGINE_RTREE_KNN_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef LOCUS_ENGINE_RTREE_KNN_INL_H_
#undef LOCUS_ENGINE_RTREE_KNN_INL_H_
#else
#define LOCUS_ENGINE_RTREE_KNN_INL_H_
#endif

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "engine/rtree_knn.h"
#include "engine/rtree_layout.h"
#include "engine/rtree_query-inl.h"  // LoadAsF64, LeafRuns
#include "hwy/highway.h"
#include "kernels/box_mask-inl.h"
#include "kernels/knn.h"

HWY_BEFORE_NAMESPACE();
namespace locus::engine {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;
namespace hk = locus::kernels::HWY_NAMESPACE;

// FilterBits predicate over the child slots at `slot`: values = squared gap distance to the
// query, mask = valid child (min.x <= max.x, which rejects the +inf/-inf padding) with
// distance <= bound.
template <int kDims, typename T>
struct ChildGapSq {
  const RTreeLayout<kDims, T>* l;
  uint64_t slot;
  const internal::KnnQuery* q;
  double bound;
  template <class D>
  HWY_INLINE hn::Mask<D> operator()(D d, size_t i, hn::Vec<D>* values) const {
    const auto lx = LoadAsF64(d, l->min[0] + slot + i);
    const auto hx = LoadAsF64(d, l->max[0] + slot + i);
    const auto valid = hn::Le(lx, hx);
    const auto zero = hn::Zero(d);
    auto g = hn::Max(hn::Max(hn::Sub(lx, hn::Set(d, q->hi[0])), hn::Sub(hn::Set(d, q->lo[0]), hx)),
                     zero);
    auto d2 = hn::Mul(g, g);
    for (int a = 1; a < kDims; ++a) {
      const auto lo = LoadAsF64(d, l->min[a] + slot + i);
      const auto hi = LoadAsF64(d, l->max[a] + slot + i);
      g = hn::Max(hn::Max(hn::Sub(lo, hn::Set(d, q->hi[a])), hn::Sub(hn::Set(d, q->lo[a]), hi)),
                  zero);
      d2 = hn::Add(d2, hn::Mul(g, g));
    }
    *values = d2;
    return hn::And(valid, hn::Le(d2, hn::Set(d, bound)));
  }
};

// The scalar twin of ChildGapSq for one exact f64 box (same operations, same order).
HWY_INLINE void BoxAxes(const Box2& b, double* lo, double* hi) {
  lo[0] = b.min.x, lo[1] = b.min.y, hi[0] = b.max.x, hi[1] = b.max.y;
}
HWY_INLINE void BoxAxes(const Box3& b, double* lo, double* hi) {
  lo[0] = b.min.x, lo[1] = b.min.y, lo[2] = b.min.z;
  hi[0] = b.max.x, hi[1] = b.max.y, hi[2] = b.max.z;
}
template <int kDims, class Box>
HWY_INLINE double ExactGapSq(const Box& b, const internal::KnnQuery& q) {
  double lo[3], hi[3];
  BoxAxes(b, lo, hi);
  double d2 = 0;
  for (int a = 0; a < kDims; ++a) {
    const double g = std::max(std::max(lo[a] - q.hi[a], q.lo[a] - hi[a]), 0.0);
    d2 = a == 0 ? g * g : d2 + g * g;
  }
  return d2;
}

struct KnnEntry {
  double d2;
  uint32_t level;  // the node's level (>= 1); its children are slots of level - 1
  uint32_t pos;    // its position in that level
};

// A binary min-heap on d2, written here (not std::push_heap) so the comparisons inline
// into the per-target loop.
class KnnHeap {
 public:
  explicit KnnHeap(std::vector<KnnEntry>* v) : v_(*v) { v_.clear(); }
  bool empty() const { return v_.empty(); }
  void Push(const KnnEntry& e) {
    size_t i = v_.size();
    v_.push_back(e);
    while (i > 0) {
      const size_t parent = (i - 1) / 2;
      if (!(e.d2 < v_[parent].d2)) break;
      v_[i] = v_[parent];
      i = parent;
    }
    v_[i] = e;
  }
  KnnEntry Pop() {  // REQUIRES: !empty()
    const KnnEntry top = v_[0];
    const KnnEntry last = v_.back();
    v_.pop_back();
    const size_t n = v_.size();
    if (n > 0) {
      size_t i = 0;
      for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && v_[c + 1].d2 < v_[c].d2) ++c;
        if (!(v_[c].d2 < last.d2)) break;
        v_[i] = v_[c];
        i = c;
      }
      v_[i] = last;
    }
    return top;
  }

 private:
  std::vector<KnnEntry>& v_;
};

// Walk in two phases. 1. Dive: from the root, follow the nearest child down to one leaf node
// and offer its items, which gives the TopK a finite bound (when the leaf holds >= k items)
// before any node is queued. 2. Best-first from the root under that bound, skipping the leaf
// node already offered. Without the dive, every child of every node on the way down would be
// queued under an infinite bound.
template <int kDims, typename T, class ExactBox>
HWY_INLINE void NearestWalkT(const RTreeLayout<kDims, T>& l, const internal::KnnQuery& q,
                             const ExactBox* exact, kernels::TopK<double>* top) {
  if (l.num_levels == 0 || l.num_items == 0 || top->k() == 0) return;
  const hn::ScalableTag<double> d;
  const uint64_t ns = l.node_size;
  HWY_ALIGN double d2s[kMaxNodeSize];

  // Computes the children of the node (level, pos) within `bound`; returns their mask.
  auto children = [&](uint32_t level, uint64_t pos, double bound) HWY_ATTR {
    uint64_t bits = 0;
    const uint64_t slot = l.level_begin[level - 1] + pos * ns;
    hk::FilterBits(d, ns, ChildGapSq<kDims, T>{&l, slot, &q, bound}, &bits, d2s);
    return bits;
  };
  auto offer_items = [&](uint64_t pos, uint64_t bits) HWY_ATTR {
    const uint64_t first = pos * ns;
    for (; bits != 0; bits &= bits - 1) {
      const size_t j = hwy::Num0BitsBelowLS1Bit_Nonzero64(bits);
      const uint32_t id = l.ids[first + j];
      top->Push(exact != nullptr ? ExactGapSq<kDims>(exact[id], q) : d2s[j], id);
    }
  };

  // 1. Dive.
  uint64_t pos = 0;
  uint32_t level = l.num_levels;
  for (; level > 1; --level) {
    uint64_t bits = children(level, pos, top->threshold());
    if (bits == 0) break;  // nothing within max distance below: the walk below finds it too
    size_t best = hwy::Num0BitsBelowLS1Bit_Nonzero64(bits);
    for (bits &= bits - 1; bits != 0; bits &= bits - 1) {
      const size_t j = hwy::Num0BitsBelowLS1Bit_Nonzero64(bits);
      if (d2s[j] < d2s[best]) best = j;
    }
    pos = pos * ns + best;
  }
  uint64_t dived = ~uint64_t{0};  // the level-1 node whose items were offered, if any
  if (level == 1) {
    dived = pos;
    offer_items(dived, children(1, dived, top->threshold()));
    if (l.num_levels == 1) return;  // the whole tree was that node
  }

  // 2. Best-first.
  thread_local std::vector<KnnEntry> storage;  // the walk calls nothing that re-enters it
  KnnHeap heap(&storage);
  heap.Push({0.0, l.num_levels, 0});
  while (!heap.empty()) {
    const KnnEntry e = heap.Pop();
    const double bound = top->threshold();
    if (e.d2 > bound) break;  // ties (==) may still enter with a smaller id
    if (e.level == 1 && e.pos == dived) continue;
    const uint64_t bits = children(e.level, e.pos, bound);
    if (e.level == 1) {
      offer_items(e.pos, bits);
      continue;
    }
    const uint64_t first = uint64_t{e.pos} * ns;
    for (uint64_t b = bits; b != 0; b &= b - 1) {
      const size_t j = hwy::Num0BitsBelowLS1Bit_Nonzero64(b);
      heap.Push({d2s[j], e.level - 1, static_cast<uint32_t>(first + j)});
    }
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace locus::engine
HWY_AFTER_NAMESPACE();

#endif  // include guard
