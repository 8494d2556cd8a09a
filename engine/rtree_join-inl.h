// Per-target dual-tree join walk. Included once per Highway target by rtree_join.cc.
//
// A node pair (A, B) of equal height is expanded with one child-mask pass over A's children
// against B's box (which children of A can meet anything in B), then one pass over B's
// children per surviving child a of A (which children of B meet a); the matches are the child
// pairs (a, b). When the heights differ only the taller node descends, with one pass of its
// children against the other node's box. At leaf pairs the same two passes produce item pairs.
//
// Masks: overlap joins (distance 0) use the closed-box compare of box_mask-inl.h in the trees'
// own type (f32 trees get twice the lanes); within-distance joins compute every child's squared
// gap to the query box in f64 (f32 slots promoted exactly) and compare it with the bound. The
// gap formula is monotone in the box coordinates, so a node's gap never exceeds that of an item
// below it: pruning is exact.
//
// Self-joins walk only pairs (i, j) with i <= j (positions at the same level; both sides are the
// same tree): for i == j only child pairs (c1, c2) with c1 <= c2, and at items c1 < c2.
//
// Order: the depth-first walk visits child pairs in the order they are generated (a ascending,
// then b ascending), so a pair's output is the concatenation of its child pairs' outputs.

#if defined(LOCUS_ENGINE_RTREE_JOIN_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef LOCUS_ENGINE_RTREE_JOIN_INL_H_
#undef LOCUS_ENGINE_RTREE_JOIN_INL_H_
#else
#define LOCUS_ENGINE_RTREE_JOIN_INL_H_
#endif

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "engine/rtree_join_walk.h"
#include "engine/rtree_layout.h"
#include "engine/rtree_query-inl.h"  // ChildMask, LoadAsF64, PrefetchChildren
#include "hwy/highway.h"
#include "kernels/box_mask-inl.h"
#include "kernels/types.h"

HWY_BEFORE_NAMESPACE();
namespace locus::engine {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;
namespace hk = locus::kernels::HWY_NAMESPACE;

// A node or item box of one side, in the tree's type.
template <int kDims, typename T>
struct JoinBox {
  T lo[kDims];
  T hi[kDims];
};

template <int kDims, typename T>
HWY_INLINE JoinBox<kDims, T> SlotBox(const RTreeLayout<kDims, T>& l, uint64_t slot) {
  JoinBox<kDims, T> b;
  for (int a = 0; a < kDims; ++a) {
    b.lo[a] = l.min[a][slot];
    b.hi[a] = l.max[a][slot];
  }
  return b;
}

// The box of node (level, pos) of `side`: stored in the level's slot, except for the root.
template <int kDims, typename T>
HWY_INLINE JoinBox<kDims, T> NodeBox(const internal::JoinSide<kDims, T>& side, uint32_t level,
                                     uint32_t pos) {
  if (level == side.layout.num_levels) {
    JoinBox<kDims, T> b;
    for (int a = 0; a < kDims; ++a) {
      b.lo[a] = side.root_lo[a];
      b.hi[a] = side.root_hi[a];
    }
    return b;
  }
  return SlotBox(side.layout, side.layout.level_begin[level] + pos);
}

// FilterBits predicate: the child at i is valid (not padding) and its squared gap to the query
// box, in f64, is <= bound. Same operation order as the scalar oracle (no FMA).
template <int kDims, typename T>
struct GapWithin {
  const RTreeLayout<kDims, T>* l;
  uint64_t slot;
  double lo[kDims];
  double hi[kDims];
  double bound;
  template <class D>
  HWY_INLINE hn::Mask<D> operator()(D d, size_t i, hn::Vec<D>* /*values*/) const {
    const auto zero = hn::Zero(d);
    hn::Vec<D> d2 = zero;
    hn::Mask<D> valid;
    for (int a = 0; a < kDims; ++a) {
      const auto cl = LoadAsF64(d, l->min[a] + slot + i);
      const auto ch = LoadAsF64(d, l->max[a] + slot + i);
      if (a == 0) valid = hn::Le(cl, ch);  // padding is min=+inf, max=-inf on every axis
      const auto g =
          hn::Max(hn::Max(hn::Sub(cl, hn::Set(d, hi[a])), hn::Sub(hn::Set(d, lo[a]), ch)), zero);
      d2 = a == 0 ? hn::Mul(g, g) : hn::Add(d2, hn::Mul(g, g));
    }
    return hn::And(valid, hn::Le(d2, hn::Set(d, bound)));
  }
};

// Returns the mask of the node_size children at `slot` of `l` that match box q.
template <bool kWithin, int kDims, typename T>
HWY_INLINE uint64_t MatchMask(const RTreeLayout<kDims, T>& l, uint64_t slot,
                              const JoinBox<kDims, T>& q, double bound) {
  if constexpr (!kWithin) {
    if constexpr (kDims == 2) {
      return ChildMask<false>(l, slot, kernels::Box2T<T>{q.lo[0], q.lo[1], q.hi[0], q.hi[1]});
    } else {
      return ChildMask<false>(
          l, slot, kernels::Box3T<T>{q.lo[0], q.lo[1], q.lo[2], q.hi[0], q.hi[1], q.hi[2]});
    }
  } else {
    GapWithin<kDims, T> pred{&l, slot, {}, {}, bound};
    for (int a = 0; a < kDims; ++a) {
      pred.lo[a] = static_cast<double>(q.lo[a]);
      pred.hi[a] = static_cast<double>(q.hi[a]);
    }
    uint64_t bits = 0;
    hk::FilterBits(hn::ScalableTag<double>(), l.node_size, pred, &bits,
                   static_cast<double*>(nullptr));
    return bits;
  }
}

HWY_INLINE uint32_t LowestBit(uint64_t bits) {
  return static_cast<uint32_t>(hwy::Num0BitsBelowLS1Bit_Nonzero64(bits));
}

// The walk over one JoinSpec; kWithin selects the mask (see the file comment).
template <bool kWithin, int kDims, typename T>
class JoinWalker {
 public:
  explicit JoinWalker(const internal::JoinSpec<kDims, T>& spec) : s_(spec) {}

  static bool IsLeafPair(const internal::NodePair& p) { return p.level_a == 1 && p.level_b == 1; }

  // Calls push(child) for every child pair of the non-leaf pair p, in walk order.
  template <class Push>
  HWY_INLINE void Expand(const internal::NodePair& p, Push&& push) const {
    const RTreeLayout<kDims, T>& la = s_.left.layout;
    const RTreeLayout<kDims, T>& lb = s_.right.layout;
    if (p.level_a > p.level_b) {  // descend the left node only
      const uint64_t first = uint64_t{p.pos_a} * la.node_size;
      const uint64_t slot = la.level_begin[p.level_a - 1] + first;
      for (uint64_t m =
               MatchMask<kWithin>(la, slot, NodeBox(s_.right, p.level_b, p.pos_b), s_.bound_sq);
           m != 0; m &= m - 1) {
        push(internal::NodePair{p.level_a - 1, static_cast<uint32_t>(first + LowestBit(m)),
                                p.level_b, p.pos_b});
      }
      return;
    }
    if (p.level_a < p.level_b) {  // descend the right node only
      const uint64_t first = uint64_t{p.pos_b} * lb.node_size;
      const uint64_t slot = lb.level_begin[p.level_b - 1] + first;
      for (uint64_t m =
               MatchMask<kWithin>(lb, slot, NodeBox(s_.left, p.level_a, p.pos_a), s_.bound_sq);
           m != 0; m &= m - 1) {
        push(internal::NodePair{p.level_a, p.pos_a, p.level_b - 1,
                                static_cast<uint32_t>(first + LowestBit(m))});
      }
      return;
    }
    const bool same = s_.self && p.pos_a == p.pos_b;
    const uint32_t child_level = p.level_a - 1;
    const uint64_t first_a = uint64_t{p.pos_a} * la.node_size;
    const uint64_t first_b = uint64_t{p.pos_b} * lb.node_size;
    const uint64_t slot_a = la.level_begin[child_level] + first_a;
    const uint64_t slot_b = lb.level_begin[child_level] + first_b;
    uint64_t mask_a =
        MatchMask<kWithin>(la, slot_a, NodeBox(s_.right, p.level_b, p.pos_b), s_.bound_sq);
    for (; mask_a != 0; mask_a &= mask_a - 1) {
      const uint32_t i = LowestBit(mask_a);
      uint64_t mask_b = MatchMask<kWithin>(lb, slot_b, SlotBox(la, slot_a + i), s_.bound_sq);
      if (same) mask_b &= ~((uint64_t{1} << i) - 1);  // children c2 >= c1
      for (; mask_b != 0; mask_b &= mask_b - 1) {
        push(internal::NodePair{child_level, static_cast<uint32_t>(first_a + i), child_level,
                                static_cast<uint32_t>(first_b + LowestBit(mask_b))});
      }
    }
  }

  // Emits the item pairs of leaf pair p into *out. Returns false if the join must stop.
  HWY_INLINE bool EmitLeafPair(const internal::NodePair& p, internal::PairOut* out) const {
    const RTreeLayout<kDims, T>& la = s_.left.layout;
    const RTreeLayout<kDims, T>& lb = s_.right.layout;
    const bool same = s_.self && p.pos_a == p.pos_b;
    const uint64_t first_a = uint64_t{p.pos_a} * la.node_size;  // level 0 begins at slot 0
    const uint64_t first_b = uint64_t{p.pos_b} * lb.node_size;
    uint64_t mask_a = MatchMask<kWithin>(la, first_a, NodeBox(s_.right, 1, p.pos_b), s_.bound_sq);
    for (; mask_a != 0; mask_a &= mask_a - 1) {
      const uint32_t i = LowestBit(mask_a);
      uint64_t mask_b = MatchMask<kWithin>(lb, first_b, SlotBox(la, first_a + i), s_.bound_sq);
      if (same) mask_b &= ~((uint64_t{2} << i) - 1);  // items c2 > c1 (i = 63: no bits left)
      if (out->count_only) {
        out->count += static_cast<uint64_t>(hwy::PopCount(mask_b));
        continue;
      }
      const uint32_t id_a = la.ids[first_a + i];
      std::vector<IdPair>& pairs = *out->pairs;
      for (; mask_b != 0; mask_b &= mask_b - 1) {
        const uint32_t id_b = lb.ids[first_b + LowestBit(mask_b)];
        if (s_.self) {
          pairs.push_back(id_a < id_b ? IdPair{id_a, id_b} : IdPair{id_b, id_a});
        } else {
          pairs.push_back(IdPair{id_a, id_b});
        }
      }
    }
    if (out->sink != nullptr && out->pairs->size() >= out->flush_at) return out->Flush();
    return true;
  }

 private:
  const internal::JoinSpec<kDims, T>& s_;
};

template <bool kWithin, int kDims, typename T>
void ExpandPairsT(const internal::JoinSpec<kDims, T>& spec, std::span<const internal::NodePair> in,
                  std::vector<internal::NodePair>* out) {
  const JoinWalker<kWithin, kDims, T> walker(spec);
  for (const internal::NodePair& p : in) {
    if (walker.IsLeafPair(p)) {
      out->push_back(p);
    } else {
      walker.Expand(p, [out](const internal::NodePair& c) { out->push_back(c); });
    }
  }
}

template <bool kWithin, int kDims, typename T>
bool WalkPairsT(const internal::JoinSpec<kDims, T>& spec, std::span<const internal::NodePair> roots,
                internal::PairOut* out) {
  const JoinWalker<kWithin, kDims, T> walker(spec);
  std::vector<internal::NodePair> stack;
  stack.reserve(256);
  for (const internal::NodePair& root : roots) {
    if (out->stop != nullptr && out->stop->load(std::memory_order_relaxed)) return false;
    stack.push_back(root);
    while (!stack.empty()) {
      const internal::NodePair p = stack.back();
      stack.pop_back();
      if (walker.IsLeafPair(p)) {
        if (!walker.EmitLeafPair(p, out)) return false;
        continue;
      }
      // Push in walk order, then reverse that run so the pairs pop in walk order.
      const size_t mark = stack.size();
      walker.Expand(p, [&stack](const internal::NodePair& c) { stack.push_back(c); });
      std::reverse(stack.begin() + static_cast<std::ptrdiff_t>(mark), stack.end());
    }
  }
  return true;
}

template <int kDims, typename T>
void ExpandPairsDispatch(const internal::JoinSpec<kDims, T>& spec,
                         std::span<const internal::NodePair> in,
                         std::vector<internal::NodePair>* out) {
  if (spec.within) {
    ExpandPairsT<true>(spec, in, out);
  } else {
    ExpandPairsT<false>(spec, in, out);
  }
}

template <int kDims, typename T>
bool WalkPairsDispatch(const internal::JoinSpec<kDims, T>& spec,
                       std::span<const internal::NodePair> roots, internal::PairOut* out) {
  return spec.within ? WalkPairsT<true>(spec, roots, out) : WalkPairsT<false>(spec, roots, out);
}

}  // namespace HWY_NAMESPACE
}  // namespace locus::engine
HWY_AFTER_NAMESPACE();

#endif  // include guard
