// Spatial joins (rtree_join.h), the public functions: validation, splitting the root node
// pair into tasks, running them in a oneTBB task arena (each task one call into the
// per-target walk, rtree_join_walk.h), and assembling the output in task order.
//
// Parallel plan: the root pair is expanded breadth-first (ExpandPairs) until there are at least
// kTasksPerThread tasks per thread; each task walks its pair depth-first into its own buffer
// (or count); buffers are concatenated in task order. Because a pair's output is the
// concatenation of its child pairs' outputs, the result does not depend on the split, hence
// not on the thread count.
#include "engine/rtree_join.h"

#include <tbb/blocked_range.h>
#include <tbb/info.h>
#include <tbb/parallel_for.h>
#include <tbb/parallel_sort.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <string>
#include <type_traits>

#include "engine/rtree_join_walk.h"

namespace locus::engine {

namespace {

using internal::JoinSide;
using internal::JoinSpec;
using internal::NodePair;
using internal::PairOut;

// Tasks per thread: enough that uneven subtrees (clustered data) still balance; each costs
// one small buffer and one dispatch.
constexpr size_t kTasksPerThread = 32;
// Expansion rounds are bounded: each round descends one level on at least one side.
constexpr int kMaxExpandRounds = 2 * static_cast<int>(kMaxLevels);
constexpr size_t kVisitBatch = 1024;

// The largest squared distance s with sqrt(s) <= m (sqrt is correctly rounded and monotone),
// so that "gap^2 <= s" is exactly "computed gap distance <= m". As in rtree_knn.cc.
double MaxDistSq(double m) {
  double s = m * m;
  while (s > 0 && std::sqrt(s) > m) s = std::nextafter(s, 0.0);
  while (std::sqrt(std::nextafter(s, std::numeric_limits<double>::infinity())) <= m) {
    s = std::nextafter(s, std::numeric_limits<double>::infinity());
  }
  return s;
}

template <int kDims, typename T>
JoinSide<kDims, T> MakeSide(const RTreeView<kDims, T>& tree) {
  JoinSide<kDims, T> side;
  side.layout = tree.layout();
  for (int a = 0; a < kDims; ++a) {
    side.root_lo[a] = std::numeric_limits<T>::infinity();
    side.root_hi[a] = -std::numeric_limits<T>::infinity();
  }
  if (tree.empty()) return side;
  const RTreeLayout<kDims, T>& l = side.layout;
  const uint64_t top = l.level_begin[l.num_levels - 1];
  for (uint64_t s = top; s < top + l.node_size; ++s) {  // padding (+inf, -inf) changes nothing
    for (int a = 0; a < kDims; ++a) {
      side.root_lo[a] = std::min(side.root_lo[a], l.min[a][s]);
      side.root_hi[a] = std::max(side.root_hi[a], l.max[a][s]);
    }
  }
  return side;
}

enum class Mode { kCollect, kCount, kVisit };

struct RunResult {
  uint64_t count = 0;
  bool completed = true;
};

size_t ThreadCount(const JoinOptions& options) {
  if (options.max_threads != 0) return options.max_threads;
  return static_cast<size_t>(std::max(1, tbb::info::default_concurrency()));
}

// Runs the join described by `spec`. kCollect: replaces *out; kCount: returns the count;
// kVisit: streams to *sink.
template <int kDims, typename T>
RunResult Run(const JoinSpec<kDims, T>& spec, const JoinOptions& options, Mode mode,
              std::vector<IdPair>* out, PairBatchSink* sink) {
  RunResult result;
  if (out != nullptr) out->clear();
  if (spec.left.layout.num_items == 0 || spec.right.layout.num_items == 0) return result;
  const NodePair root{spec.left.layout.num_levels, 0, spec.right.layout.num_levels, 0};
  const size_t threads = ThreadCount(options);
  const uint64_t items = spec.left.layout.num_items + (spec.self ? 0 : spec.right.layout.num_items);
  std::atomic<bool> stop{false};

  // kCollect appends to `pairs`; kCount and kVisit never touch it.
  auto make_out = [&](std::vector<IdPair>* pairs) {
    PairOut po;
    po.count_only = mode == Mode::kCount;
    po.pairs = mode == Mode::kCollect ? pairs : nullptr;
    if (mode == Mode::kVisit) {
      po.sink = sink;
      po.batch = kVisitBatch;
      po.stop = &stop;
    }
    return po;
  };

  if (threads <= 1 || items < options.parallel_threshold) {
    PairOut po = make_out(out);
    const bool completed = internal::WalkPairs(spec, std::span<const NodePair>(&root, 1), &po);
    if (mode == Mode::kCollect && options.sorted) std::sort(out->begin(), out->end());
    result.count = mode == Mode::kCount ? po.count : 0;
    result.completed = completed;
    return result;
  }

  // Split the root pair into at least kTasksPerThread * threads independent tasks.
  std::vector<NodePair> tasks = {root}, next;
  for (int round = 0; round < kMaxExpandRounds && tasks.size() < kTasksPerThread * threads;
       ++round) {
    next.clear();
    internal::ExpandPairs(spec, tasks, &next);
    if (next == tasks) break;  // only leaf pairs left
    tasks.swap(next);
  }

  tbb::task_arena arena(static_cast<int>(std::min<size_t>(threads, 1 << 16)));
  std::vector<std::vector<IdPair>> buffers(mode == Mode::kCollect ? tasks.size() : 0);
  std::vector<uint64_t> counts(mode == Mode::kCount ? tasks.size() : 0);
  arena.execute([&] {
    tbb::parallel_for(tbb::blocked_range<size_t>(0, tasks.size(), 1),
                      [&](const tbb::blocked_range<size_t>& r) {
                        for (size_t t = r.begin(); t < r.end(); ++t) {
                          PairOut po = make_out(mode == Mode::kCollect ? &buffers[t] : nullptr);
                          const std::span<const NodePair> task(&tasks[t], 1);
                          internal::WalkPairs(spec, task, &po);
                          if (mode == Mode::kCount) counts[t] = po.count;
                        }
                      });
  });
  result.completed = !stop.load();
  if (mode == Mode::kCount) {
    for (uint64_t c : counts) result.count += c;
    return result;
  }
  if (mode == Mode::kVisit) return result;

  // Concatenate in task order, in parallel.
  std::vector<size_t> offset(tasks.size() + 1, 0);
  for (size_t t = 0; t < tasks.size(); ++t) offset[t + 1] = offset[t] + buffers[t].size();
  out->resize(offset.back());
  arena.execute([&] {
    tbb::parallel_for(tbb::blocked_range<size_t>(0, tasks.size(), 1),
                      [&](const tbb::blocked_range<size_t>& r) {
                        for (size_t t = r.begin(); t < r.end(); ++t) {
                          std::copy(buffers[t].begin(), buffers[t].end(),
                                    out->begin() + static_cast<std::ptrdiff_t>(offset[t]));
                          std::vector<IdPair>().swap(buffers[t]);
                        }
                      });
    if (options.sorted) tbb::parallel_sort(out->begin(), out->end());
  });
  return result;
}

template <int kDims, typename T>
Result<JoinSpec<kDims, T>> MakeSpec(const RTreeView<kDims, T>& left,
                                    const RTreeView<kDims, T>* right, double distance) {
  LOCUS_RETURN_IF_ERROR(ValidateDistance(distance, "distance"));
  JoinSpec<kDims, T> spec;
  spec.left = MakeSide(left);
  spec.self = right == nullptr;
  spec.right = spec.self ? spec.left : MakeSide(*right);
  spec.within = distance > 0;
  spec.bound_sq = spec.within ? MaxDistSq(distance) : 0;
  return spec;
}

template <int kDims, typename T>
Result<JoinSpec<kDims, T>> MakeSelfSpec(const RTreeView<kDims, T>& tree, double distance) {
  return MakeSpec(tree, static_cast<const RTreeView<kDims, T>*>(nullptr), distance);
}

// The exact per-pair rule of rtree_join.h, in f64 (same operation order as the walk).
template <class Box>
bool PairMatches(const Box& a, const Box& b, bool within, double bound_sq) {
  if (!within) return Intersects(a, b);
  auto gap = [](double lo_a, double hi_a, double lo_b, double hi_b) {
    return std::max(std::max(lo_b - hi_a, lo_a - hi_b), 0.0);
  };
  const double gx = gap(a.min.x, a.max.x, b.min.x, b.max.x);
  const double gy = gap(a.min.y, a.max.y, b.min.y, b.max.y);
  double d2 = gx * gx + gy * gy;
  if constexpr (std::is_same_v<Box, Box3>) {
    const double gz = gap(a.min.z, a.max.z, b.min.z, b.max.z);
    d2 = d2 + gz * gz;
  }
  return d2 <= bound_sq;
}

template <class Box>
Status RefineJoinT(std::span<const Box> left_items, std::span<const Box> right_items,
                   double distance, std::vector<IdPair>* pairs) {
  LOCUS_RETURN_IF_ERROR(ValidateDistance(distance, "distance"));
  for (size_t k = 0; k < pairs->size(); ++k) {
    const IdPair& p = (*pairs)[k];
    if (p.a >= left_items.size() || p.b >= right_items.size()) {
      return InvalidArgumentError(
          "pairs[" + std::to_string(k) + "] = (" + std::to_string(p.a) + ", " +
          std::to_string(p.b) + "): id out of range (items: " + std::to_string(left_items.size()) +
          ", " + std::to_string(right_items.size()) + ")");
    }
  }
  const bool within = distance > 0;
  const double bound_sq = within ? MaxDistSq(distance) : 0;
  std::erase_if(*pairs, [&](const IdPair& p) {
    return !PairMatches(left_items[p.a], right_items[p.b], within, bound_sq);
  });
  return Status();
}

}  // namespace

template <int kDims, typename T>
Status Join(const RTreeView<kDims, T>& left, const RTreeView<kDims, T>& right,
            std::vector<IdPair>* out, const JoinOptions& options) {
  return JoinWithin(left, right, 0.0, out, options);
}

template <int kDims, typename T>
Status SelfJoin(const RTreeView<kDims, T>& tree, std::vector<IdPair>* out,
                const JoinOptions& options) {
  return SelfJoinWithin(tree, 0.0, out, options);
}

template <int kDims, typename T>
Status JoinWithin(const RTreeView<kDims, T>& left, const RTreeView<kDims, T>& right,
                  double distance, std::vector<IdPair>* out, const JoinOptions& options) {
  LOCUS_ASSIGN_OR_RETURN(const auto spec, MakeSpec(left, &right, distance));
  Run(spec, options, Mode::kCollect, out, nullptr);
  return Status();
}

template <int kDims, typename T>
Status SelfJoinWithin(const RTreeView<kDims, T>& tree, double distance, std::vector<IdPair>* out,
                      const JoinOptions& options) {
  LOCUS_ASSIGN_OR_RETURN(const auto spec, MakeSelfSpec(tree, distance));
  Run(spec, options, Mode::kCollect, out, nullptr);
  return Status();
}

template <int kDims, typename T>
Result<uint64_t> CountJoin(const RTreeView<kDims, T>& left, const RTreeView<kDims, T>& right,
                           double distance, const JoinOptions& options) {
  LOCUS_ASSIGN_OR_RETURN(const auto spec, MakeSpec(left, &right, distance));
  return Run(spec, options, Mode::kCount, nullptr, nullptr).count;
}

template <int kDims, typename T>
Result<uint64_t> CountSelfJoin(const RTreeView<kDims, T>& tree, double distance,
                               const JoinOptions& options) {
  LOCUS_ASSIGN_OR_RETURN(const auto spec, MakeSelfSpec(tree, distance));
  return Run(spec, options, Mode::kCount, nullptr, nullptr).count;
}

template <int kDims, typename T>
Result<bool> VisitJoin(const RTreeView<kDims, T>& left, const RTreeView<kDims, T>& right,
                       double distance, PairBatchSink sink, const JoinOptions& options) {
  LOCUS_ASSIGN_OR_RETURN(const auto spec, MakeSpec(left, &right, distance));
  return Run(spec, options, Mode::kVisit, nullptr, &sink).completed;
}

template <int kDims, typename T>
Result<bool> VisitSelfJoin(const RTreeView<kDims, T>& tree, double distance, PairBatchSink sink,
                           const JoinOptions& options) {
  LOCUS_ASSIGN_OR_RETURN(const auto spec, MakeSelfSpec(tree, distance));
  return Run(spec, options, Mode::kVisit, nullptr, &sink).completed;
}

Status RefineJoin(std::span<const Box2> left_items, std::span<const Box2> right_items,
                  double distance, std::vector<IdPair>* pairs) {
  return RefineJoinT(left_items, right_items, distance, pairs);
}
Status RefineJoin(std::span<const Box3> left_items, std::span<const Box3> right_items,
                  double distance, std::vector<IdPair>* pairs) {
  return RefineJoinT(left_items, right_items, distance, pairs);
}

#define LOCUS_INSTANTIATE_JOINS(D, T)                                                          \
  template Status Join(const RTreeView<D, T>&, const RTreeView<D, T>&, std::vector<IdPair>*,   \
                       const JoinOptions&);                                                    \
  template Status SelfJoin(const RTreeView<D, T>&, std::vector<IdPair>*, const JoinOptions&);  \
  template Status JoinWithin(const RTreeView<D, T>&, const RTreeView<D, T>&, double,           \
                             std::vector<IdPair>*, const JoinOptions&);                        \
  template Status SelfJoinWithin(const RTreeView<D, T>&, double, std::vector<IdPair>*,         \
                                 const JoinOptions&);                                          \
  template Result<uint64_t> CountJoin(const RTreeView<D, T>&, const RTreeView<D, T>&, double,  \
                                      const JoinOptions&);                                     \
  template Result<uint64_t> CountSelfJoin(const RTreeView<D, T>&, double, const JoinOptions&); \
  template Result<bool> VisitJoin(const RTreeView<D, T>&, const RTreeView<D, T>&, double,      \
                                  PairBatchSink, const JoinOptions&);                          \
  template Result<bool> VisitSelfJoin(const RTreeView<D, T>&, double, PairBatchSink,           \
                                      const JoinOptions&);

LOCUS_INSTANTIATE_JOINS(2, double)
LOCUS_INSTANTIATE_JOINS(3, double)
LOCUS_INSTANTIATE_JOINS(2, float)
LOCUS_INSTANTIATE_JOINS(3, float)
#undef LOCUS_INSTANTIATE_JOINS

}  // namespace locus::engine
