// Internal to engine/live_index*.cc: the filters, gap loops and walks over the live index's
// superblocks, blocks and leaves that its radius, box and kNN scans share. Not installed.
#ifndef LOCUS_ENGINE_LIVE_INDEX_WALK_H_
#define LOCUS_ENGINE_LIVE_INDEX_WALK_H_

#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>
#include <vector>

#include "engine/live_index.h"
#include "kernels/point_filter.h"

namespace locus::engine {
namespace live_internal {

inline constexpr double kInf = std::numeric_limits<double>::infinity();

inline kernels::RowFilter Filter(const int64_t* t, const int64_t* expires, const TimeWindow& w,
                                 int64_t now) {
  kernels::RowFilter f;
  f.expires = expires;  // always on: deleted rows carry kDeletedExpiry
  f.now = now;
  if (w.t_min != std::numeric_limits<int64_t>::min() ||
      w.t_max != std::numeric_limits<int64_t>::max()) {
    f.t = t;
    f.t_min = w.t_min;
    f.t_max = w.t_max;
  }
  return f;
}

// Squared gaps from c to boxes [0, n) of SoA bounds (kDims columns of lows and highs, f64
// or f32), written to out. Branch-free, axis loop inside, restrict output: the compiler
// vectorises it (the axis-outer form with out[i] += did not, measured: a fifth of a kNN
// query). An empty box (+inf, -inf) gets +inf.
template <int kDims, typename T>
void BoxGapsSq(const T* const* lo, const T* const* hi, uint64_t n,
               const std::array<double, kDims>& c, double* __restrict out) {
  for (uint64_t i = 0; i < n; ++i) {
    double sum = 0;
    for (int a = 0; a < kDims; ++a) {
      const double below = static_cast<double>(lo[a][i]) - c[a];
      const double above = c[a] - static_cast<double>(hi[a][i]);
      const double g = (below > 0 ? below : 0.0) + (above > 0 ? above : 0.0);
      sum += g * g;
    }
    out[i] = sum;
  }
}

// The same over the boxes [first, first + n) of per-axis vectors.
template <int kDims, typename T>
void GapsSq(const std::vector<T>* mn, const std::vector<T>* mx, uint64_t first, uint64_t n,
            const std::array<double, kDims>& c, double* out) {
  const T* lo[kDims];
  const T* hi[kDims];
  for (int a = 0; a < kDims; ++a) {
    lo[a] = mn[a].data() + first;
    hi[a] = mx[a].data() + first;
  }
  BoxGapsSq<kDims, T>(lo, hi, n, c, out);
}

}  // namespace live_internal

template <int kDims>
template <class Pred, class Visit>
void LiveIndex<kDims>::ForBlocks(Pred&& pred, Visit&& visit) const {
  const uint64_t supers = smin_[0].size();
  for (uint64_t sb = 0; sb < supers; ++sb) {
    if (!pred(smin_, smax_, sb)) continue;
    const uint64_t end = std::min(num_blocks_, (sb + 1) * kSuperBlock);
    for (uint64_t b = sb * kSuperBlock; b < end; ++b) {
      if (pred(bmin_, bmax_, b) && !visit(b)) return;
    }
  }
}

template <int kDims>
void LiveIndex<kDims>::LeafGapsSq(uint64_t first, uint64_t m, const Point& c, double* out) const {
  live_internal::GapsSq<kDims, float>(lmin_, lmax_, first, m, c, out);
}

template <int kDims>
template <class Test, class Scan>
bool LiveIndex<kDims>::ForLeafRuns(uint64_t block, Test&& test, Scan&& scan) const {
  const uint64_t leaves = options_.block_rows / kLeafRows;
  const uint64_t first_leaf = block * leaves;
  bool pass[64];
  for (uint64_t l0 = 0; l0 < leaves; l0 += 64) {
    const uint64_t m = std::min<uint64_t>(64, leaves - l0);
    test(first_leaf + l0, m, pass);
    for (uint64_t i = 0; i < m;) {
      if (!pass[i]) {
        ++i;
        continue;
      }
      uint64_t j = i + 1;
      while (j < m && pass[j]) ++j;
      if (!scan((first_leaf + l0 + i) * kLeafRows, (j - i) * kLeafRows)) return false;
      i = j;
    }
  }
  return true;
}

template <int kDims>
template <class Scan>
bool LiveIndex<kDims>::ForRunsNear(const Point& c, double radius_sq, Scan&& scan) const {
  const uint64_t supers = smin_[0].size();
  auto near_leaves = [&](uint64_t first, uint64_t m, bool* pass) {
    double gaps[64];
    LeafGapsSq(first, m, c, gaps);
    for (uint64_t i = 0; i < m; ++i) pass[i] = gaps[i] <= radius_sq;
  };
  double gaps[kSuperBlock];
  for (uint64_t sb0 = 0; sb0 < supers; sb0 += kSuperBlock) {
    const uint64_t ns = std::min(kSuperBlock, supers - sb0);
    double super_gaps[kSuperBlock];
    live_internal::GapsSq<kDims, double>(smin_, smax_, sb0, ns, c, super_gaps);
    for (uint64_t j = 0; j < ns; ++j) {
      if (!(super_gaps[j] <= radius_sq)) continue;
      const uint64_t fb = (sb0 + j) * kSuperBlock, nb = std::min(num_blocks_ - fb, kSuperBlock);
      live_internal::GapsSq<kDims, double>(bmin_, bmax_, fb, nb, c, gaps);
      for (uint64_t i = 0; i < nb; ++i) {
        if (gaps[i] <= radius_sq && !ForLeafRuns(fb + i, near_leaves, scan)) return false;
      }
    }
  }
  return true;
}

}  // namespace locus::engine

#endif  // LOCUS_ENGINE_LIVE_INDEX_WALK_H_
