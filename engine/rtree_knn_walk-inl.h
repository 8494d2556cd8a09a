// Per-target kNN walk (best-first, NearestWalkT) and radius walk (WithinQueryT: FilterWalk
// of rtree_walk-inl.h with squared-gap predicates). Included once per Highway target by
// rtree_knn_walk.cc. What follows describes the kNN walk.
//
// Shape: a dive to a leaf node; then every leaf node within a bound guessed from the density
// there, prefetched together and offered to the TopK (exact when k items fall within the
// bound); failing that, a binary min-heap of
// nodes keyed by the squared gap distance from the query to the node box. Popping a node
// whose key exceeds the TopK's pruning bound ends the walk (every remaining node is at least
// as far). For a popped node, one inlined FilterBits pass
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

#if defined(LOCUS_ENGINE_RTREE_KNN_WALK_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef LOCUS_ENGINE_RTREE_KNN_WALK_INL_H_
#undef LOCUS_ENGINE_RTREE_KNN_WALK_INL_H_
#else
#define LOCUS_ENGINE_RTREE_KNN_WALK_INL_H_
#endif

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <vector>

#include "engine/rtree_knn_walk.h"
#include "engine/rtree_layout.h"
#include "engine/rtree_walk-inl.h"  // LoadAsF64, LeafRuns, Emitter, prefetches
#include "hwy/highway.h"
#include "kernels/box_mask-inl.h"
#include "kernels/knn.h"  // Neighbor

HWY_BEFORE_NAMESPACE();
namespace locus::engine {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;
namespace hk = locus::kernels::HWY_NAMESPACE;

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

using Candidate = kernels::Neighbor<double>;  // (dist_sq, id), ordered by (dist_sq, id)

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
  const KnnEntry& top() const { return v_[0]; }  // REQUIRES: !empty()
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

// Computes the children of node (level, pos) within `bound` (squared gap distance) into
// d2s; returns their mask.
template <uint32_t kNs, int kDims, typename T>
HWY_INLINE uint64_t ChildrenWithin(const RTreeLayout<kDims, T>& l, const internal::KnnQuery& q,
                                   uint32_t level, uint64_t pos, double bound, double* d2s) {
  const hn::ScalableTag<double> d;
  const uint64_t ns = kNs != 0 ? kNs : l.node_size;
  uint64_t bits = 0;
  const uint64_t slot = l.level_begin[level - 1] + pos * ns;
  if (level == 1 && l.points) {
    hk::FilterBits(d, ns, ChildGapSq<kDims, T, true>{&l, slot, &q, bound}, &bits, d2s);
  } else {
    hk::FilterBits(d, ns, ChildGapSq<kDims, T>{&l, slot, &q, bound}, &bits, d2s);
  }
  return bits;
}

// FilterBits predicate: valid children whose farthest point is within `bound` of the query
// (per axis f = max(hi - q.lo, q.hi - lo), d2 = sum of f * f): every item below such a child
// is within the bound (each operation is monotone, so an item's computed gap distance cannot
// exceed the child's computed far distance), so its leaves can be swept without tests.
template <int kDims, typename T>
struct ChildFarSq {
  const RTreeLayout<kDims, T>* l;
  uint64_t slot;
  const internal::KnnQuery* q;
  double bound;
  template <class D>
  HWY_INLINE hn::Mask<D> operator()(D d, size_t i, hn::Vec<D>* /*values*/) const {
    hn::Vec<D> d2;
    hn::Mask<D> valid;
    for (int a = 0; a < kDims; ++a) {
      const auto lo = LoadAsF64(d, l->min[a] + slot + i);
      const auto hi = LoadAsF64(d, l->max[a] + slot + i);
      if (a == 0) valid = hn::Le(lo, hi);
      const auto f = hn::Max(hn::Sub(hi, hn::Set(d, q->lo[a])), hn::Sub(hn::Set(d, q->hi[a]), lo));
      d2 = a == 0 ? hn::Mul(f, f) : hn::Add(d2, hn::Mul(f, f));
    }
    return hn::And(valid, hn::Le(d2, hn::Set(d, bound)));
  }
};

// Radius query predicates for FilterWalk (rtree_walk-inl.h): items within `bound` (squared
// gap distance <= bound, the distance of Nearest). A node is pruned when its own distance
// exceeds the bound, which is sound because a node's computed distance never exceeds that of
// anything inside it; a node whose far distance is within the bound is swept.
template <uint32_t kNs, int kDims, typename T>
struct WithinPreds {
  const RTreeLayout<kDims, T>& l;
  const internal::KnnQuery& q;
  double bound;
  HWY_INLINE uint64_t Overlap(uint32_t child_level, uint64_t slot) const {
    const hn::ScalableTag<double> d;
    const size_t ns = kNs != 0 ? kNs : l.node_size;
    uint64_t bits = 0;
    if (child_level == 0 && l.points) {
      hk::FilterBits(d, ns, ChildGapSq<kDims, T, true>{&l, slot, &q, bound}, &bits,
                     static_cast<double*>(nullptr));
    } else {
      hk::FilterBits(d, ns, ChildGapSq<kDims, T>{&l, slot, &q, bound}, &bits,
                     static_cast<double*>(nullptr));
    }
    return bits;
  }
  HWY_INLINE uint64_t Inside(uint32_t /*child_level*/, uint64_t slot) const {
    uint64_t bits = 0;
    hk::FilterBits(hn::ScalableTag<double>(), kNs != 0 ? kNs : l.node_size,
                   ChildFarSq<kDims, T>{&l, slot, &q, bound}, &bits, static_cast<double*>(nullptr));
    return bits;
  }
};

template <int kDims, typename T>
HWY_INLINE internal::RangeResult WithinQueryT(const RTreeLayout<kDims, T>& l,
                                              const internal::KnnQuery& q, double bound,
                                              internal::RangeMode mode, IdBatchSink* sink) {
  if (l.num_levels == 0 || l.num_items == 0) return {};
  return WithNodeSize(l.node_size, [&](auto ns) HWY_ATTR {
    constexpr uint32_t kNs = decltype(ns)::value;
    return FilterWalk<kNs>(l, WithinPreds<kNs, kDims, T>{l, q, bound}, mode, sink);
  });
}

// The k best (dist_sq, id) pairs so far, for small k: a sorted array with insertion from the
// back, inlined into the walk (a binary heap behind a call cost a quarter of a query at
// k = 10). threshold() is the inclusive pruning bound: max_dist_sq until k pairs are kept,
// then the k-th dist_sq (a tie may still enter with a smaller id).
class SmallTopK {
 public:
  static constexpr size_t kMaxK = 32;
  SmallTopK(size_t k, double max_dist_sq) { Reset(k, max_dist_sq); }
  void Reset(size_t k, double max_dist_sq) {
    k_ = k;
    size_ = 0;
    bound_ = max_dist_sq;
  }
  double threshold() const { return bound_; }
  bool full() const { return size_ == k_; }
  HWY_INLINE void Push(double d2, uint32_t id) {
    if (!(d2 <= bound_)) return;  // also rejects NaN
    const Candidate c{d2, id};
    size_t i = size_;
    if (size_ == k_) {
      if (!(c < v_[k_ - 1])) return;
      i = k_ - 1;
    } else {
      ++size_;
    }
    for (; i > 0 && c < v_[i - 1]; --i) v_[i] = v_[i - 1];
    v_[i] = c;
    if (size_ == k_) bound_ = v_[k_ - 1].dist_sq;
  }
  const Candidate* begin() const { return v_; }
  const Candidate* end() const { return v_ + size_; }

 private:
  size_t k_;
  size_t size_ = 0;
  double bound_;
  Candidate v_[kMaxK];
};

// The squared radius around q expected to hold kGuessFactor * k items, from the density of
// items under the node (level, pos) (their count over the volume of its box, in as many
// dimensions as the box has extent), reaching from q's gap to the dive's leaf node
// (leaf_gap_sq). 0 when the box gives no density (a single point, or an empty node).
inline constexpr double kKnnGuessFactor = 2;
template <int kDims, typename T>
HWY_INLINE double GuessBoundSq(const RTreeLayout<kDims, T>& l, uint32_t level, uint64_t pos,
                               size_t k, double leaf_gap_sq) {
  const uint64_t slot = l.level_begin[level] + pos;
  uint64_t span = 1;
  for (uint32_t i = 0; i < level; ++i) span *= l.node_size;
  const uint64_t first = pos * span;
  if (first >= l.num_items) return 0;
  const double count = static_cast<double>(std::min(span, l.num_items - first));
  double volume = 1;
  int dims = 0;
  for (int a = 0; a < kDims; ++a) {
    const double e = static_cast<double>(l.max[a][slot]) - static_cast<double>(l.min[a][slot]);
    if (!(e >= 0)) return 0;  // the empty box
    if (e > 0) volume *= e, ++dims;
  }
  // The volume of the unit ball in 1, 2 and 3 dimensions.
  constexpr double kUnitBall[4] = {0, 2, 3.14159265358979323846, 4.18879020478639098462};
  if (dims == 0) return 0;
  const double want = kKnnGuessFactor * static_cast<double>(k) * volume / (kUnitBall[dims] * count);
  const double r = dims == 1 ? want : dims == 2 ? std::sqrt(want) : std::cbrt(want);
  const double reach = std::sqrt(leaf_gap_sq) + r;
  const double b = reach * reach;
  return b > 0 && b < std::numeric_limits<double>::infinity() ? b : 0;
}

// Walk in three steps. 1. Dive: from the root, follow the nearest child down to one leaf
// node, keeping each path node's child distances. 2. A bound guessed from the density of
// items around the leaf (GuessBoundSq): about kKnnGuessFactor * k items lie within it, so
// the walk below offers a few dozen items and pushes only the nodes that reach into it,
// where the bound the leaf's own items give is ~9x the answer's (measured). 3. Best-first
// over a heap seeded with the dive path's other children (their distances were computed on
// the way down) within the bound, after offering the dive leaf's items: every node off the
// path lies under exactly one of them, so nothing within the bound is missed and no node on
// the path is evaluated twice. The answer is exact when the top-k fills within the bound
// (every item left out is farther than the bound, so farther than the k-th); when it does
// not, step 3 runs again with a bound 4x the guess, then with none (max_dist_sq). Top is
// SmallTopK (k <= 32) or kernels::TopK (any k).
template <uint32_t kNs, int kDims, typename T, class ExactBox, class Top>
HWY_INLINE void NearestWalkNs(const RTreeLayout<kDims, T>& l, const internal::KnnQuery& q,
                              const ExactBox* exact, size_t k, double max_dist_sq, Top& top) {
  const uint64_t ns = kNs != 0 ? kNs : l.node_size;
  HWY_ALIGN double d2s[kMaxNodeSize];
  auto offer_items = [&](uint64_t first, uint64_t bits) HWY_ATTR {
    for (; bits != 0; bits &= bits - 1) {
      const size_t j = hwy::Num0BitsBelowLS1Bit_Nonzero64(bits);
      const uint32_t id = l.ids[first + j];
      top.Push(exact != nullptr ? ExactGapSq<kDims>(exact[id], q) : d2s[j], id);
    }
  };

  // 1. Dive, keeping each path node's child distances and mask.
  struct PathNode {
    uint64_t pos;   // the path node's position in its level
    uint64_t bits;  // its children within max_dist_sq
    uint64_t best;  // the child the dive followed
  };
  PathNode path[kMaxLevels + 1];
  HWY_ALIGN double path_d2[kMaxLevels + 1][kMaxNodeSize];
  uint64_t pos = 0;
  uint32_t level = l.num_levels;
  for (; level > 1; --level) {
    double* dist = path_d2[level];
    const uint64_t bits = ChildrenWithin<kNs>(l, q, level, pos, max_dist_sq, dist);
    if (bits == 0) break;  // nothing within max distance below this node
    uint64_t best = hwy::Num0BitsBelowLS1Bit_Nonzero64(bits);
    for (uint64_t b = bits & (bits - 1); b != 0; b &= b - 1) {
      const size_t j = hwy::Num0BitsBelowLS1Bit_Nonzero64(b);
      if (dist[j] < dist[best]) best = j;
    }
    path[level] = {pos, bits, best};
    pos = pos * ns + best;
  }
  const uint32_t stop = level;  // path[l] is valid for l in (stop, num_levels]

  // 2. The guessed bound: from the density under the leaf's parent (node_size^2 items).
  double guess = 0;
  if (level == 1 && l.num_levels >= 2) {
    const uint32_t top_level = l.num_levels;
    guess = GuessBoundSq(l, 2, path[2].pos, k, path_d2[top_level][path[top_level].best]);
  }

  // 3. Best-first, seeded with the dive leaf's items and the path's other children.
  thread_local std::vector<KnnEntry> storage;  // the walk calls nothing that re-enters it
  // Prefetches what popping `e` will read: its child slots and, for a leaf node, its ids.
  // Issued for the next heap top while the current node is processed, so the walk's
  // dependent cache misses overlap one node deep.
  auto prefetch = [&](const KnnEntry& e) HWY_ATTR {
    const uint64_t first = uint64_t{e.pos} * ns;
    PrefetchChildren(l, ns, l.level_begin[e.level - 1] + first, e.level == 1 && l.points);
    if (e.level == 1) PrefetchIds(l, ns, first);
  };
  // With a guess: every leaf node within the bound, found level by level (the path's
  // children within it, then the children of the other nodes found), all prefetched before
  // any is read, so their cache misses overlap instead of following one another as the
  // heap's pops do.
  thread_local std::vector<uint64_t> frontier, found;
  auto within_guess = [&](double bound) HWY_ATTR {
    top.Reset(k, bound);
    frontier.clear();  // nodes of level lv other than the path's
    for (uint32_t lv = l.num_levels; lv >= 2; --lv) {
      found.clear();
      const PathNode& p = path[lv];
      for (uint64_t b = p.bits; b != 0; b &= b - 1) {
        const size_t j = hwy::Num0BitsBelowLS1Bit_Nonzero64(b);
        if (path_d2[lv][j] <= bound) found.push_back(p.pos * ns + j);
      }
      const bool to_leaves = lv - 1 == 1;
      for (const uint64_t f : frontier) {
        PrefetchChildren(l, ns, l.level_begin[lv - 1] + f * ns, false);
      }
      for (const uint64_t f : frontier) {
        for (uint64_t b = ChildrenWithin<kNs>(l, q, lv, f, bound, d2s); b != 0; b &= b - 1) {
          found.push_back(f * ns + hwy::Num0BitsBelowLS1Bit_Nonzero64(b));
        }
      }
      if (to_leaves) break;
      const uint64_t on_path = path[lv - 1].pos;
      frontier.clear();
      for (const uint64_t f : found) {
        if (f != on_path) frontier.push_back(f);
      }
    }
    for (const uint64_t f : found) {  // leaf nodes: their items and ids
      PrefetchChildren(l, ns, l.level_begin[0] + f * ns, l.points);
      PrefetchIds(l, ns, f * ns);
    }
    for (const uint64_t f : found) {
      offer_items(f * ns, ChildrenWithin<kNs>(l, q, 1, f, top.threshold(), d2s));
    }
  };
  for (int attempt = 0; attempt < 2 && guess > 0 && guess < max_dist_sq; ++attempt, guess *= 4) {
    within_guess(guess);
    if (top.full()) return;
  }
  {
    top.Reset(k, max_dist_sq);
    if (level == 1) {
      offer_items(pos * ns, ChildrenWithin<kNs>(l, q, 1, pos, top.threshold(), d2s));
    }
    KnnHeap heap(&storage);
    {
      const double bound = top.threshold();
      for (uint32_t lv = stop + 1; lv <= l.num_levels; ++lv) {
        const PathNode& p = path[lv];
        const uint64_t first = p.pos * ns;
        for (uint64_t b = p.bits & ~(uint64_t{1} << p.best); b != 0; b &= b - 1) {
          const size_t j = hwy::Num0BitsBelowLS1Bit_Nonzero64(b);
          if (path_d2[lv][j] <= bound) {
            heap.Push({path_d2[lv][j], lv - 1, static_cast<uint32_t>(first + j)});
          }
        }
      }
    }
    while (!heap.empty()) {
      const KnnEntry e = heap.Pop();
      const double bound = top.threshold();
      if (e.d2 > bound) break;  // ties (==) may still enter with a smaller id
      if (!heap.empty() && heap.top().d2 <= bound) prefetch(heap.top());
      const uint64_t bits = ChildrenWithin<kNs>(l, q, e.level, e.pos, bound, d2s);
      const uint64_t first = uint64_t{e.pos} * ns;
      if (e.level == 1) {
        offer_items(first, bits);
        continue;
      }
      for (uint64_t b = bits; b != 0; b &= b - 1) {
        const size_t j = hwy::Num0BitsBelowLS1Bit_Nonzero64(b);
        heap.Push({d2s[j], e.level - 1, static_cast<uint32_t>(first + j)});
      }
    }
  }
}

template <int kDims, typename T, class ExactBox>
HWY_INLINE void NearestWalkT(const RTreeLayout<kDims, T>& l, const internal::KnnQuery& q,
                             const ExactBox* exact, size_t k, double max_dist_sq,
                             std::vector<Candidate>* out) {
  out->clear();
  if (l.num_levels == 0 || l.num_items == 0 || k == 0) return;
  WithNodeSize(l.node_size, [&](auto ns) HWY_ATTR {
    constexpr uint32_t kNs = decltype(ns)::value;
    if (k <= SmallTopK::kMaxK) {
      SmallTopK top(k, max_dist_sq);
      NearestWalkNs<kNs>(l, q, exact, k, max_dist_sq, top);
      out->assign(top.begin(), top.end());  // already sorted
    } else {
      thread_local kernels::TopK<double> top;
      NearestWalkNs<kNs>(l, q, exact, k, max_dist_sq, top);
      out->assign(top.unsorted().begin(), top.unsorted().end());
      std::sort(out->begin(), out->end());
    }
  });
}

}  // namespace HWY_NAMESPACE
}  // namespace locus::engine
HWY_AFTER_NAMESPACE();

#endif  // include guard
