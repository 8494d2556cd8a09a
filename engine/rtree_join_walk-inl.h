// Per-target dual-tree join walk. Included once per Highway target by rtree_join_walk.cc.
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

#if defined(LOCUS_ENGINE_RTREE_JOIN_WALK_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef LOCUS_ENGINE_RTREE_JOIN_WALK_INL_H_
#undef LOCUS_ENGINE_RTREE_JOIN_WALK_INL_H_
#else
#define LOCUS_ENGINE_RTREE_JOIN_WALK_INL_H_
#endif

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <vector>

#include "engine/rtree_join_walk.h"
#include "engine/rtree_layout.h"
#include "engine/rtree_walk-inl.h"  // ChildMask, LoadAsF64, PrefetchChildren
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

// Returns the mask of the node_size children at `slot` of `l` that match box q.
template <bool kWithin, int kDims, typename T>
HWY_INLINE uint64_t MatchMask(const RTreeLayout<kDims, T>& l, uint64_t slot,
                              const JoinBox<kDims, T>& q, double bound) {
  if constexpr (!kWithin) {
    if constexpr (kDims == 2) {
      return ChildMask<false>(l, l.node_size, slot,
                              kernels::Box2T<T>{q.lo[0], q.lo[1], q.hi[0], q.hi[1]});
    } else {
      return ChildMask<false>(
          l, l.node_size, slot,
          kernels::Box3T<T>{q.lo[0], q.lo[1], q.lo[2], q.hi[0], q.hi[1], q.hi[2]});
    }
  } else {
    internal::KnnQuery box;  // the squared gap distance of kNN (rtree_walk-inl.h)
    for (int a = 0; a < kDims; ++a) {
      box.lo[a] = static_cast<double>(q.lo[a]);
      box.hi[a] = static_cast<double>(q.hi[a]);
    }
    uint64_t bits = 0;
    hk::FilterBits(hn::ScalableTag<double>(), l.node_size,
                   ChildGapSq<kDims, T>{&l, slot, &box, bound}, &bits,
                   static_cast<double*>(nullptr));
    return bits;
  }
}

// Prefetches what walking node (level, pos) of `l` reads: its child slots and, for a node
// whose children are items, their ids. A walk over large trees is bound by cache misses on
// these; prefetching the nodes of every child pair as the pairs are pushed overlaps them.
template <int kDims, typename T>
HWY_INLINE void PrefetchNode(const RTreeLayout<kDims, T>& l, uint32_t level, uint64_t pos) {
  const uint64_t first = pos * l.node_size;
  PrefetchChildren(l, l.node_size, l.level_begin[level - 1] + first);
  if (level == 1) {
    for (uint64_t off = 0; off < l.node_size; off += 64 / sizeof(uint32_t)) {
      hwy::Prefetch(l.ids + first + off);
    }
  }
}

// Prefetches node (level, first + j) for each set bit j of `bits`; nothing at level 0 (items).
template <int kDims, typename T>
HWY_INLINE void PrefetchNodes(const RTreeLayout<kDims, T>& l, uint32_t level, uint64_t first,
                              uint64_t bits) {
  if (level == 0) return;
  for (; bits != 0; bits &= bits - 1) {
    PrefetchNode(l, level, first + hwy::Num0BitsBelowLS1Bit_Nonzero64(bits));
  }
}

HWY_INLINE uint32_t LowestBit(uint64_t bits) {
  return static_cast<uint32_t>(hwy::Num0BitsBelowLS1Bit_Nonzero64(bits));
}

// IdPair {a, b} is one little-endian u64 a | b << 32, so pairs are built and compacted in u64
// lanes.
static_assert(sizeof(IdPair) == 8 && offsetof(IdPair, a) == 0 && offsetof(IdPair, b) == 4);
static_assert(std::endian::native == std::endian::little);

// Slack after a staging area: CompressStore may write up to a whole vector past its count.
inline constexpr size_t kStageSlack = HWY_MAX_BYTES / sizeof(uint64_t);

// Writes the pairs (id_a, ids_b[j]) for the set bits j of `mask_b` (j < nb) to out, in
// ascending j; self: each as (min, max). Returns how many. Branch-free (a loop over the bits
// mispredicts its exit, and in a self-join the id order is random): one compress-store per
// vector of candidates. REQUIRES: out has room for the count plus kStageSlack; ids_b may be
// read up to a vector past nb (id arrays are padded columns).
HWY_INLINE size_t EmitPairs(uint32_t id_a, const uint32_t* HWY_RESTRICT ids_b, uint32_t nb,
                            uint64_t mask_b, bool self, IdPair* HWY_RESTRICT out) {
  const hn::ScalableTag<uint64_t> d64;
  const hn::Rebind<uint32_t, decltype(d64)> d32;
  const size_t n = hn::Lanes(d64);
  const auto va = hn::Set(d64, uint64_t{id_a});
  uint64_t* HWY_RESTRICT w = reinterpret_cast<uint64_t*>(out);
  size_t k = 0;
  for (size_t j = 0; j < nb; j += n) {
    const uint64_t bits = mask_b >> j;  // j < 64: nb <= kMaxNodeSize
    uint8_t mask_bytes[8];
    std::memcpy(mask_bytes, &bits, sizeof(bits));
    const auto m = hn::LoadMaskBits(d64, mask_bytes);
    const auto vb = hn::PromoteTo(d64, hn::LoadU(d32, ids_b + j));
    const auto lo = self ? hn::Min(va, vb) : va;
    const auto hi = self ? hn::Max(va, vb) : vb;
    k += hn::CompressStore(hn::Or(lo, hn::ShiftLeft<32>(hi)), m, d64, w + k);
  }
  return k;
}

// The walk over one JoinSpec; kWithin selects the mask (see the file comment).
template <bool kWithin, int kDims, typename T>
class JoinWalker {
 public:
  explicit JoinWalker(const internal::JoinSpec<kDims, T>& spec) : s_(spec) {}

  static bool IsLeafPair(const internal::NodePair& p) { return p.level_a == 1 && p.level_b == 1; }

  // Calls push(child) for every child pair of the non-leaf pair p, in walk order, and
  // prefetches the nodes of the pushed pairs.
  template <class Push>
  HWY_INLINE void Expand(const internal::NodePair& p, Push&& push) const {
    const RTreeLayout<kDims, T>& la = s_.left.layout;
    const RTreeLayout<kDims, T>& lb = s_.right.layout;
    if (p.level_a > p.level_b) {  // descend the left node only
      const uint64_t first = uint64_t{p.pos_a} * la.node_size;
      const uint64_t slot = la.level_begin[p.level_a - 1] + first;
      const uint64_t mask =
          MatchMask<kWithin>(la, slot, NodeBox(s_.right, p.level_b, p.pos_b), s_.bound_sq);
      for (uint64_t m = mask; m != 0; m &= m - 1) {
        push(internal::NodePair{p.level_a - 1, static_cast<uint32_t>(first + LowestBit(m)),
                                p.level_b, p.pos_b});
      }
      PrefetchNodes(la, p.level_a - 1, first, mask);
      return;
    }
    if (p.level_a < p.level_b) {  // descend the right node only
      const uint64_t first = uint64_t{p.pos_b} * lb.node_size;
      const uint64_t slot = lb.level_begin[p.level_b - 1] + first;
      const uint64_t mask =
          MatchMask<kWithin>(lb, slot, NodeBox(s_.left, p.level_a, p.pos_a), s_.bound_sq);
      for (uint64_t m = mask; m != 0; m &= m - 1) {
        push(internal::NodePair{p.level_a, p.pos_a, p.level_b - 1,
                                static_cast<uint32_t>(first + LowestBit(m))});
      }
      PrefetchNodes(lb, p.level_b - 1, first, mask);
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
    uint64_t used_a = 0, used_b = 0;  // children in some pushed pair
    for (; mask_a != 0; mask_a &= mask_a - 1) {
      const uint32_t i = LowestBit(mask_a);
      uint64_t mask_b = MatchMask<kWithin>(lb, slot_b, SlotBox(la, slot_a + i), s_.bound_sq);
      if (same) mask_b &= ~((uint64_t{1} << i) - 1);  // children c2 >= c1
      used_a |= mask_b != 0 ? uint64_t{1} << i : 0;
      used_b |= mask_b;
      for (; mask_b != 0; mask_b &= mask_b - 1) {
        push(internal::NodePair{child_level, static_cast<uint32_t>(first_a + i), child_level,
                                static_cast<uint32_t>(first_b + LowestBit(mask_b))});
      }
    }
    PrefetchNodes(la, child_level, first_a, used_a);
    if (!same) PrefetchNodes(lb, child_level, first_b, used_b);
  }

  // The most item pairs one leaf pair can produce.
  size_t MaxLeafPairs() const {
    return size_t{s_.left.layout.node_size} * s_.right.layout.node_size;
  }

  // Counts the item pairs of leaf pair p into out->count (count_only), or writes them to
  // staged[0, k) and returns k. REQUIRES: staged has room for MaxLeafPairs().
  HWY_INLINE size_t EmitLeafPair(const internal::NodePair& p, internal::PairOut* out,
                                 IdPair* HWY_RESTRICT staged) const {
    const RTreeLayout<kDims, T>& la = s_.left.layout;
    const RTreeLayout<kDims, T>& lb = s_.right.layout;
    const bool self = s_.self;  // locals: stores through `staged` cannot alias them
    const bool count_only = out->count_only;
    const bool same = self && p.pos_a == p.pos_b;
    const uint64_t first_a = uint64_t{p.pos_a} * la.node_size;  // level 0 begins at slot 0
    const uint64_t first_b = uint64_t{p.pos_b} * lb.node_size;
    const uint32_t* HWY_RESTRICT ids_a = la.ids + first_a;
    const uint32_t* HWY_RESTRICT ids_b = lb.ids + first_b;
    uint64_t count = 0;
    size_t k = 0;
    uint64_t mask_a = MatchMask<kWithin>(la, first_a, NodeBox(s_.right, 1, p.pos_b), s_.bound_sq);
    for (; mask_a != 0; mask_a &= mask_a - 1) {
      const uint32_t i = LowestBit(mask_a);
      uint64_t mask_b = MatchMask<kWithin>(lb, first_b, SlotBox(la, first_a + i), s_.bound_sq);
      if (same) mask_b &= ~((uint64_t{2} << i) - 1);  // items c2 > c1 (i = 63: no bits left)
      if (count_only) {
        count += static_cast<uint64_t>(hwy::PopCount(mask_b));
        continue;
      }
      k += EmitPairs(ids_a[i], ids_b, lb.node_size, mask_b, self, staged + k);
    }
    out->count += count;
    return k;
  }

 private:
  const internal::JoinSpec<kDims, T>& s_;
};

template <bool kWithin, int kDims, typename T>
void ExpandPairsFor(const internal::JoinSpec<kDims, T>& spec,
                    std::span<const internal::NodePair> in, std::vector<internal::NodePair>* out) {
  const JoinWalker<kWithin, kDims, T> walker(spec);
  for (const internal::NodePair& p : in) {
    if (walker.IsLeafPair(p)) {
      out->push_back(p);
    } else {
      walker.Expand(p, [out](const internal::NodePair& c) { out->push_back(c); });
    }
  }
}

// Pairs staged per walk before they are handed to PairOut: at least one leaf pair's worth at
// node size 64. 64 KiB, on the heap (one allocation per task; callers' stacks may be small).
constexpr size_t kStagedPairs = 8192;
static_assert(kStagedPairs >= size_t{kMaxNodeSize} * kMaxNodeSize);

template <bool kWithin, int kDims, typename T>
bool WalkPairsFor(const internal::JoinSpec<kDims, T>& spec,
                  std::span<const internal::NodePair> roots, internal::PairOut* out) {
  const JoinWalker<kWithin, kDims, T> walker(spec);
  const size_t max_leaf = walker.MaxLeafPairs();
  // With a sink, hand over batches of about out->batch pairs; else only when the stage is full.
  const size_t hand_over_at = out->sink != nullptr ? std::min(out->batch, kStagedPairs - max_leaf)
                                                   : kStagedPairs - max_leaf;
  std::unique_ptr<IdPair[]> stage;
  if (!out->count_only) {
    stage = std::make_unique_for_overwrite<IdPair[]>(kStagedPairs + kStageSlack);
  }
  IdPair* HWY_RESTRICT staged = stage.get();
  size_t used = 0;
  std::vector<internal::NodePair> stack;
  stack.reserve(256);
  for (const internal::NodePair& root : roots) {
    if (out->stop != nullptr && out->stop->load(std::memory_order_relaxed)) return false;
    stack.push_back(root);
    while (!stack.empty()) {
      const internal::NodePair p = stack.back();
      stack.pop_back();
      if (walker.IsLeafPair(p)) {
        used += walker.EmitLeafPair(p, out, staged + used);
        if (used > hand_over_at) {
          if (!out->Take(std::span<const IdPair>(staged, used))) return false;
          used = 0;
        }
        continue;
      }
      // Push in walk order, then reverse that run so the pairs pop in walk order.
      const size_t mark = stack.size();
      walker.Expand(p, [&stack](const internal::NodePair& c) { stack.push_back(c); });
      std::reverse(stack.begin() + static_cast<std::ptrdiff_t>(mark), stack.end());
    }
  }
  return out->count_only || out->Take(std::span<const IdPair>(staged, used));
}

// The per-target entry points (rtree_join_walk.cc): the predicate (overlap or within
// distance) is chosen once per task, not per node pair.
template <int kDims, typename T>
void ExpandPairsT(const internal::JoinSpec<kDims, T>& spec, std::span<const internal::NodePair> in,
                  std::vector<internal::NodePair>* out) {
  if (spec.within) {
    ExpandPairsFor<true>(spec, in, out);
  } else {
    ExpandPairsFor<false>(spec, in, out);
  }
}

template <int kDims, typename T>
bool WalkPairsT(const internal::JoinSpec<kDims, T>& spec, std::span<const internal::NodePair> roots,
                internal::PairOut* out) {
  return spec.within ? WalkPairsFor<true>(spec, roots, out) : WalkPairsFor<false>(spec, roots, out);
}

}  // namespace HWY_NAMESPACE
}  // namespace locus::engine
HWY_AFTER_NAMESPACE();

#endif  // include guard
