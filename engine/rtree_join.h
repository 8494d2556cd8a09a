// Spatial joins over packed Hilbert R-trees (packed_rtree.h): every pair of items, one from
// each of two trees (or two distinct items of one tree), whose boxes intersect or lie within a
// given gap distance of each other.
//
// Algorithm: a synchronized depth-first walk over pairs of nodes whose boxes match (overlap,
// or gap <= distance). For a node pair, one SIMD pass (rtree_walk-inl.h's child masks) finds
// the children of the left node that match the right node's box, and one pass per such child
// finds the right node's children that match it; when the trees' heights differ, only the
// taller side descends. A self-join walks node pairs (i, j) with i <= j only, so each
// unordered item pair is met once. The root pair is expanded breadth-first into a list of
// independent node-pair tasks that oneTBB runs in parallel, each into its own buffer; buffers
// are concatenated in task order.
//
// Matching:
// - distance == 0 (Join, SelfJoin): the closed boxes intersect (touching counts).
// - distance > 0 (JoinWithin, SelfJoinWithin): the gap distance between the boxes, computed in
//   f64 as sqrt(gx*gx + gy*gy [+ gz*gz]) with per-axis gap g = max(lo_b - hi_a, lo_a - hi_b, 0)
//   (the kNN distance of packed_rtree.h), is <= distance (inclusive). For points this is the
//   Euclidean distance between them. Node pairs are pruned by the same formula, which is
//   monotone, so no matching pair is ever pruned.
// - f32 trees compare their STORED boxes (rounded outward), so their result is a superset of
//   the exact one; RefineJoin re-tests pairs against the caller's f64 boxes. f64 trees are exact.
//
// Output order: without options.sorted, pairs come in one fixed order determined by the trees
// (the depth-first walk over node pairs, in Hilbert order): the same for every thread count
// and every run. With options.sorted they are sorted by (a, b). Visit* batches carry no order.
//
// Errors: InvalidArgument for a distance that is NaN, infinite or negative
// ("distance = nan: must be a finite number >= 0") and for RefineJoin ids out of range.
// An empty tree on either side gives no pairs (not an error).
//
// Thread safety: the trees are only read, so any number of joins (and queries) may run on the
// same trees at once. A join uses up to options.max_threads threads of its own task arena.
#ifndef LOCUS_ENGINE_RTREE_JOIN_H_
#define LOCUS_ENGINE_RTREE_JOIN_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "locus/function_ref.h"
#include "engine/packed_rtree.h"
#include "locus/geometry.h"
#include "locus/status.h"

namespace locus::engine {

// One result of a join: item indices into the spans given to Build.
// Two-tree joins: a is in the left tree, b in the right. Self-joins: a < b.
struct IdPair {
  uint32_t a;
  uint32_t b;
  friend bool operator==(const IdPair&, const IdPair&) = default;
  friend auto operator<=>(const IdPair&, const IdPair&) = default;
};

struct JoinOptions {
  // Sort the output by (a, b) (parallel sort). Default false: the output is still
  // deterministic (see above), only in tree order; sorting 1M pairs costs a few ms.
  bool sorted = false;
  // Threads to use: 0 = oneTBB's default (all cores); 1 = serial on the calling thread.
  size_t max_threads = 0;
  // Joins whose trees hold fewer items than this in total run serially on the calling
  // thread: below it, task set-up costs more than the parallel walk saves. Results do not
  // depend on it.
  size_t parallel_threshold = size_t{1} << 14;
};

// Receives join results in batches, possibly from several worker threads AT ONCE: it must be
// thread-safe. Returning false stops the join (other threads finish their current batch
// first, so a few more batches may arrive). A batch is valid only during the call.
using PairBatchSink = FunctionRef<bool(std::span<const IdPair>)>;

// Replaces *out with the pairs (a, b): box a of `left` intersects box b of `right`.
template <int kDims, typename T>
Status Join(const RTreeView<kDims, T>& left, const RTreeView<kDims, T>& right,
            std::vector<IdPair>* out, const JoinOptions& options = {});

// Replaces *out with every unordered pair {i, j}, i != j, of items of `tree` whose boxes
// intersect, once each, as (a, b) with a < b.
template <int kDims, typename T>
Status SelfJoin(const RTreeView<kDims, T>& tree, std::vector<IdPair>* out,
                const JoinOptions& options = {});

// Replaces *out with the pairs (a, b) whose boxes are within gap distance `distance`
// (inclusive; distance 0 is Join). For points: pairs of points at distance <= `distance`.
template <int kDims, typename T>
Status JoinWithin(const RTreeView<kDims, T>& left, const RTreeView<kDims, T>& right,
                  double distance, std::vector<IdPair>* out, const JoinOptions& options = {});

// The self-join version of JoinWithin: each unordered pair once, a < b.
template <int kDims, typename T>
Status SelfJoinWithin(const RTreeView<kDims, T>& tree, double distance, std::vector<IdPair>* out,
                      const JoinOptions& options = {});

// Returns how many pairs JoinWithin / SelfJoinWithin would produce (distance 0: Join /
// SelfJoin), without materialising them.
template <int kDims, typename T>
Result<uint64_t> CountJoin(const RTreeView<kDims, T>& left, const RTreeView<kDims, T>& right,
                           double distance = 0, const JoinOptions& options = {});
template <int kDims, typename T>
Result<uint64_t> CountSelfJoin(const RTreeView<kDims, T>& tree, double distance = 0,
                               const JoinOptions& options = {});

// Streams the pairs of JoinWithin / SelfJoinWithin (distance 0: Join / SelfJoin) to `sink` in
// per-thread batches (see PairBatchSink: called concurrently; no order). options.sorted is
// ignored. Returns whether the join ran to the end (false when the sink stopped it).
template <int kDims, typename T>
Result<bool> VisitJoin(const RTreeView<kDims, T>& left, const RTreeView<kDims, T>& right,
                       double distance, PairBatchSink sink, const JoinOptions& options = {});
template <int kDims, typename T>
Result<bool> VisitSelfJoin(const RTreeView<kDims, T>& tree, double distance, PairBatchSink sink,
                           const JoinOptions& options = {});

// For f32 trees: keeps only the pairs whose EXACT boxes (the caller's f64 spans given to
// Build; pass the same span twice after a self-join) match by the rule above, in place,
// keeping their order. Fails with InvalidArgument on an id outside its span or a bad distance
// (then *pairs is unchanged). For f64 trees' output it removes nothing.
Status RefineJoin(std::span<const Box2> left_items, std::span<const Box2> right_items,
                  double distance, std::vector<IdPair>* pairs);
Status RefineJoin(std::span<const Box3> left_items, std::span<const Box3> right_items,
                  double distance, std::vector<IdPair>* pairs);

}  // namespace locus::engine

#endif  // LOCUS_ENGINE_RTREE_JOIN_H_
