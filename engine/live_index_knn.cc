// LiveIndex (live_index.h): k nearest neighbours, first within a radius guessed from the
// local density, then by a walk of superblocks and blocks nearest first.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <numbers>
#include <vector>

#include "engine/live_index.h"
#include "engine/live_index_walk.h"
#include "kernels/knn.h"
#include "kernels/point_filter.h"

namespace locus::engine {

using live_internal::Filter;
using live_internal::GapsSq;
using live_internal::kInf;

namespace {
// Removes and returns the index of the smallest of gaps[0, n) (marking it NaN, which no
// comparison selects again, even with an infinite bound), or -1 when every one left is >
// bound. n is small (superblocks, or the 32 blocks of one).
int64_t PopNearest(double* gaps, uint64_t n, double bound) {
  int64_t best = -1;
  double best_gap = bound;
  for (uint64_t i = 0; i < n; ++i) {
    if (gaps[i] <= best_gap) {
      if (best < 0 || gaps[i] < best_gap) {
        best = static_cast<int64_t>(i);
        best_gap = gaps[i];
      }
    }
  }
  if (best >= 0) gaps[best] = std::numeric_limits<double>::quiet_NaN();
  return best;
}
}  // namespace

template <int kDims>
double LiveIndex<kDims>::GuessRadiusSq(uint64_t block, size_t k) const {
  // The rows alive in the block, estimated from the index's fill, spread evenly over its
  // bounds (an area for planar 2D and for the sphere, whose points lie on a surface: the
  // bounding box's face areas are the patch's projections, so their norm is its area; a
  // volume for planar 3D points that fill one).
  double e[kDims];
  for (int a = 0; a < kDims; ++a) {
    e[a] = bmax_[a][block] - bmin_[a][block];
    if (!(e[a] >= 0)) return 0;  // an empty block
  }
  const double rows = static_cast<double>(options_.block_rows) * static_cast<double>(present_) /
                      static_cast<double>(std::max<uint64_t>(slots_, 1));
  const double want = kGuessFactor * static_cast<double>(k);
  double r2;
  if constexpr (kDims == 2) {
    r2 = want * e[0] * e[1] / (std::numbers::pi * rows);
  } else {
    if (!options_.sphere && e[0] > 0 && e[1] > 0 && e[2] > 0) {
      const double r3 = want * e[0] * e[1] * e[2] / (4.0 / 3.0 * std::numbers::pi * rows);
      r2 = std::cbrt(r3 * r3);
    } else {
      const double area = std::sqrt(e[0] * e[0] * e[1] * e[1] + e[1] * e[1] * e[2] * e[2] +
                                    e[2] * e[2] * e[0] * e[0]);
      r2 = want * area / (std::numbers::pi * rows);
    }
  }
  return r2 > 0 && std::isfinite(r2) ? r2 : 0;
}

template <int kDims>
bool LiveIndex<kDims>::NearestWithin(const Point& c, size_t k, double max_dist_sq,
                                     const TimeWindow& w, int64_t now, const double* super_gaps,
                                     kernels::TopK<double>* top) const {
  // The block nearest to c: the density around the query. Superblocks may overlap, so
  // after the nearest one's blocks, every other that could hold a nearer block is looked
  // into (two passes over the superblock gaps: popping them in order cost a tenth of a W4
  // kNN query, as several hold c).
  const uint64_t supers = smin_[0].size();
  double block_gaps[kSuperBlock];
  uint64_t best = 0;
  double best_gap = kInf;
  auto blocks_of = [&](uint64_t sb) {
    const uint64_t fb = sb * kSuperBlock, nbs = std::min(num_blocks_ - fb, kSuperBlock);
    GapsSq<kDims, double>(bmin_, bmax_, fb, nbs, c, block_gaps);
    for (uint64_t i = 0; i < nbs; ++i) {
      if (block_gaps[i] < best_gap) {
        best_gap = block_gaps[i];
        best = fb + i;
      }
    }
  };
  uint64_t nearest = 0;
  for (uint64_t sb = 1; sb < supers; ++sb) {
    if (super_gaps[sb] < super_gaps[nearest]) nearest = sb;
  }
  if (supers > 0 && super_gaps[nearest] < kInf) blocks_of(nearest);
  for (uint64_t sb = 0; sb < supers; ++sb) {
    if (sb != nearest && super_gaps[sb] < best_gap) blocks_of(sb);
  }
  if (!(best_gap < kInf)) return false;
  // The density estimate is rough (a block's bounds are larger than the patch its rows
  // cover, more so on the sphere and after moves), so it is scaled by what earlier queries
  // found: a running correction toward kGuessFactor * k candidates. Concurrent queries
  // may lose each other's updates (relaxed loads and stores); results never depend on it.
  std::atomic_ref<double> scale_ref(guess_scale_);
  const double scale = scale_ref.load(std::memory_order_relaxed);
  const double guess = GuessRadiusSq(best, k) * scale;
  if (!(guess > 0 && std::isfinite(guess))) return false;
  // Start at the block's distance plus the guessed radius: a query outside the data finds
  // its neighbours from the edge, not from where it stands.
  const double reach = std::sqrt(best_gap) + std::sqrt(guess);
  double r2 = reach * reach;
  const double first_r2 = r2;
  const bool block_gaps_zero = best_gap == 0;
  thread_local std::vector<uint32_t> ids;
  thread_local std::vector<double> dist;
  for (int attempt = 0; attempt < kGuessAttempts; ++attempt, r2 *= 4) {
    const bool last = r2 >= max_dist_sq;
    if (last) r2 = max_dist_sq;
    size_t n = 0;
    ForRunsNear(c, r2, [&](uint64_t first, uint64_t nrows) {
      if (ids.size() < n + nrows) {
        ids.resize(n + nrows);
        dist.resize(n + nrows);
      }
      const kernels::RowFilter f = Filter(t_.data() + first, expires_.data() + first, w, now);
      if constexpr (kDims == 2) {
        n += kernels::RadiusFilter2(col_[0].data() + first, col_[1].data() + first, nrows, c[0],
                                    c[1], r2, f, static_cast<uint32_t>(first), ids.data() + n,
                                    dist.data() + n);
      } else {
        n += kernels::RadiusFilter3(col_[0].data() + first, col_[1].data() + first,
                                    col_[2].data() + first, nrows, c[0], c[1], c[2], r2, f,
                                    static_cast<uint32_t>(first), ids.data() + n, dist.data() + n);
      }
      return true;
    });
    // Every row within r2 is a candidate, so when k of them are (or r2 covers the whole
    // allowed distance) the k nearest are among them.
    if (n >= k || last) {
      for (size_t i = 0; i < n; ++i) top->Push(dist[i], ids[i]);
      if (!last && block_gaps_zero) {
        // Area, hence the count, grows with r2: the scale that would have found the target.
        const double want = kGuessFactor * static_cast<double>(k);
        const double f = std::clamp(want / static_cast<double>(n) * r2 / first_r2, 0.25, 4.0);
        scale_ref.store(std::clamp(scale * (1 + (f - 1) / 8), 1e-6, 1e6),
                        std::memory_order_relaxed);
      }
      return true;
    }
  }
  return false;
}

template <int kDims>
void LiveIndex<kDims>::Nearest(const Point& c, size_t k, double max_dist_sq, const TimeWindow& w,
                               int64_t now, std::vector<Hit>* out) const {
  out->clear();
  if (k == 0 || present_ == 0) return;
  // Superblocks nearest first, and within each its blocks nearest first, each taken only
  // while its bound is within the k-th best distance so far (which only shrinks, so a box
  // passed over can hold nothing better). Selection by linear minimum over small arrays of
  // gaps computed branch-free: measured faster than a best-first heap over both levels,
  // whose pushes and pops cost more than the few extra blocks this order may scan.
  const uint64_t supers = smin_[0].size();
  thread_local std::vector<double> super_gaps;
  super_gaps.resize(supers);
  GapsSq<kDims, double>(smin_, smax_, 0, supers, c, super_gaps.data());
  thread_local kernels::TopK<double> top;  // reused: no allocation per query
  top.Reset(k, max_dist_sq);
  // First the rows within a radius guessed from the density around the query (about
  // kGuessFactor * k of them): one filtering pass and a few dozen heap pushes, where
  // offering whole blocks to the heap pushes every row that beats the k-th best so far
  // (measured: half of a W4 kNN query). When the guess holds fewer than k rows it grows;
  // after kGuessAttempts the search below runs, which needs no guess.
  // The hits' keys and times, in other cache lines than the rows the scan read: all
  // requested before any is read.
  auto emit = [&] {
    thread_local std::vector<kernels::Neighbor<double>> sorted;
    sorted.assign(top.unsorted().begin(), top.unsorted().end());
    std::sort(sorted.begin(), sorted.end());
    for (const auto& n : sorted) {
      __builtin_prefetch(&key_of_slot_[n.id]);
      __builtin_prefetch(&t_[n.id]);
    }
    for (const auto& n : sorted) out->push_back({key_of_slot_[n.id], n.dist_sq, t_[n.id]});
  };
  if (NearestWithin(c, k, max_dist_sq, w, now, super_gaps.data(), &top)) {
    emit();
    return;
  }
  const uint64_t rows = options_.block_rows;
  double block_gaps[kSuperBlock];
  for (int64_t sb; (sb = PopNearest(super_gaps.data(), supers, top.threshold())) >= 0;) {
    const uint64_t first_block = static_cast<uint64_t>(sb) * kSuperBlock;
    const uint64_t nb = std::min(num_blocks_ - first_block, kSuperBlock);
    GapsSq<kDims, double>(bmin_, bmax_, first_block, nb, c, block_gaps);
    for (int64_t i; (i = PopNearest(block_gaps, nb, top.threshold())) >= 0;) {
      const uint64_t first = (first_block + static_cast<uint64_t>(i)) * rows;
      const kernels::RowFilter f = Filter(t_.data() + first, expires_.data() + first, w, now);
      if constexpr (kDims == 2) {
        kernels::TopK2(col_[0].data() + first, col_[1].data() + first, rows, c[0], c[1], f,
                       static_cast<uint32_t>(first), &top);
      } else {
        kernels::TopK3(col_[0].data() + first, col_[1].data() + first, col_[2].data() + first, rows,
                       c[0], c[1], c[2], f, static_cast<uint32_t>(first), &top);
      }
    }
  }
  emit();
}

// The members defined here, for the two instantiations (live_index.cc has the rest).
template double LiveIndex<2>::GuessRadiusSq(uint64_t, size_t) const;
template double LiveIndex<3>::GuessRadiusSq(uint64_t, size_t) const;
template bool LiveIndex<2>::NearestWithin(const Point&, size_t, double, const TimeWindow&, int64_t,
                                          const double*, kernels::TopK<double>*) const;
template bool LiveIndex<3>::NearestWithin(const Point&, size_t, double, const TimeWindow&, int64_t,
                                          const double*, kernels::TopK<double>*) const;
template void LiveIndex<2>::Nearest(const Point&, size_t, double, const TimeWindow&, int64_t,
                                    std::vector<Hit>*) const;
template void LiveIndex<3>::Nearest(const Point&, size_t, double, const TimeWindow&, int64_t,
                                    std::vector<Hit>*) const;

}  // namespace locus::engine
