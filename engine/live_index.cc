// LiveIndex (live_index.h): block-pruned kernel scans over in-place-updated SoA rows; the
// kNN search is in live_index_knn.cc, the walks both use in live_index_walk.h.
#include "engine/live_index.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "engine/live_index_walk.h"
#include "engine/radix_sort.h"
#include "engine/round_outward.h"
#include "kernels/hilbert.h"
#include "kernels/point_filter.h"
#include "locus/check.h"

namespace locus::engine {

using live_internal::Filter;
using live_internal::GapsSq;
using live_internal::kInf;

template <int kDims>
LiveIndex<kDims>::LiveIndex(const LiveOptions& options) : options_(options) {
  LOCUS_CHECK_MSG(
      options.block_rows >= 16 && options.block_rows <= 65536 && options.block_rows % 16 == 0,
      "LiveOptions::block_rows must be a multiple of 16 in [16, 65536]");
  LOCUS_CHECK_MSG(options.recluster_growth > 1, "LiveOptions::recluster_growth must be > 1");
}

template <int kDims>
uint64_t LiveIndex<kDims>::NewSlot() {
  if (!free_slots_.empty()) {
    const uint64_t s = free_slots_.back();
    free_slots_.pop_back();
    return s;
  }
  const uint64_t s = slots_++;
  const uint64_t rows = options_.block_rows;
  if (s / rows >= num_blocks_) {  // a new block: grow every column by a whole block
    ++num_blocks_;
    const uint64_t cap = num_blocks_ * rows;
    for (int a = 0; a < kDims; ++a) {
      col_[a].resize(cap, 0.0);
      bmin_[a].push_back(kInf);
      bmax_[a].push_back(-kInf);
      lmin_[a].resize(cap / kLeafRows, std::numeric_limits<float>::infinity());
      lmax_[a].resize(cap / kLeafRows, -std::numeric_limits<float>::infinity());
      if ((num_blocks_ - 1) % kSuperBlock == 0) {
        smin_[a].push_back(kInf);
        smax_[a].push_back(-kInf);
      }
    }
    t_.resize(cap, 0);
    expires_.resize(cap, kDeletedExpiry);  // unused rows of a block are never alive
    key_of_slot_.resize(cap, kNoKey);
  }
  return s;
}

template <int kDims>
void LiveIndex<kDims>::Widen(uint64_t s, const Point& p) {
  const uint64_t block = s / options_.block_rows, leaf = s / kLeafRows;
  for (int a = 0; a < kDims; ++a) {
    lmin_[a][leaf] = std::min(lmin_[a][leaf], internal::RoundDown<float>(p[a]));
    lmax_[a][leaf] = std::max(lmax_[a][leaf], internal::RoundUp<float>(p[a]));
  }
  for (int a = 0; a < kDims; ++a) {
    const double lo = bmin_[a][block], hi = bmax_[a][block];
    const double old_extent = lo <= hi ? hi - lo : 0.0;
    const double nlo = std::min(lo, p[a]), nhi = std::max(hi, p[a]);
    bmin_[a][block] = nlo;
    bmax_[a][block] = nhi;
    extent_sum_ += (nhi - nlo) - old_extent;
    const uint64_t sb = block / kSuperBlock;
    smin_[a][sb] = std::min(smin_[a][sb], p[a]);
    smax_[a][sb] = std::max(smax_[a][sb], p[a]);
  }
}

template <int kDims>
void LiveIndex<kDims>::Upsert(uint32_t key, const Point& pos, int64_t t, int64_t expires) {
  LOCUS_CHECK(key != kNoKey);
  if (key >= slot_of_key_.size()) slot_of_key_.resize(uint64_t{key} + 1, kNoKey);
  uint64_t s = slot_of_key_[key];
  if (s == kNoKey) {
    s = NewSlot();
    slot_of_key_[key] = static_cast<uint32_t>(s);
    key_of_slot_[s] = key;
    ++present_;
  }
  for (int a = 0; a < kDims; ++a) col_[a][s] = pos[a];
  t_[s] = t;
  expires_[s] = expires;
  Widen(s, pos);
}

template <int kDims>
bool LiveIndex<kDims>::Remove(uint32_t key) {
  if (key >= slot_of_key_.size() || slot_of_key_[key] == kNoKey) return false;
  const uint64_t s = slot_of_key_[key];
  slot_of_key_[key] = kNoKey;
  key_of_slot_[s] = kNoKey;
  expires_[s] = kDeletedExpiry;
  free_slots_.push_back(static_cast<uint32_t>(s));
  --present_;
  return true;
}

template <int kDims>
size_t LiveIndex<kDims>::SweepExpired(int64_t now, size_t max_rows,
                                      std::vector<uint32_t>* removed) {
  size_t done = 0;
  for (uint64_t scanned = 0; scanned < slots_ && done < max_rows; ++scanned) {
    if (sweep_cursor_ >= slots_) sweep_cursor_ = 0;
    const uint64_t s = sweep_cursor_++;
    const uint32_t key = key_of_slot_[s];
    if (key != kNoKey && expires_[s] <= now) {
      Remove(key);
      removed->push_back(key);
      ++done;
    }
  }
  return done;
}

template <int kDims>
std::optional<typename LiveIndex<kDims>::Row> LiveIndex<kDims>::Get(uint32_t key) const {
  if (key >= slot_of_key_.size() || slot_of_key_[key] == kNoKey) return std::nullopt;
  return RowAt(slot_of_key_[key]);
}

template <int kDims>
template <class Emit>
void LiveIndex<kDims>::ScanRadius(const Point& c, double radius_sq, const TimeWindow& w,
                                  int64_t now, Emit&& emit) const {
  const uint64_t rows = options_.block_rows;
  std::vector<uint32_t> ids(rows);
  std::vector<double> dist(rows);
  ForRunsNear(c, radius_sq, [&](uint64_t first, uint64_t nrows) {
    const kernels::RowFilter f = Filter(t_.data() + first, expires_.data() + first, w, now);
    size_t n;
    if constexpr (kDims == 2) {
      n = kernels::RadiusFilter2(col_[0].data() + first, col_[1].data() + first, nrows, c[0], c[1],
                                 radius_sq, f, static_cast<uint32_t>(first), ids.data(),
                                 dist.data());
    } else {
      n = kernels::RadiusFilter3(col_[0].data() + first, col_[1].data() + first,
                                 col_[2].data() + first, nrows, c[0], c[1], c[2], radius_sq, f,
                                 static_cast<uint32_t>(first), ids.data(), dist.data());
    }
    for (size_t i = 0; i < n; ++i) {
      if (!emit(key_of_slot_[ids[i]], dist[i], t_[ids[i]])) return false;
    }
    return true;
  });
}

template <int kDims>
void LiveIndex<kDims>::Radius(const Point& c, double radius_sq, const TimeWindow& w, int64_t now,
                              size_t limit, std::vector<Hit>* out, bool* truncated) const {
  out->clear();
  *truncated = false;
  ScanRadius(c, radius_sq, w, now, [&](uint32_t key, double d, int64_t t) {
    if (out->size() >= limit) {
      *truncated = true;
      return false;
    }
    out->push_back({key, d, t});
    return true;
  });
}

template <int kDims>
size_t LiveIndex<kDims>::CountRadius(const Point& c, double radius_sq, const TimeWindow& w,
                                     int64_t now) const {
  size_t total = 0;
  ForRunsNear(c, radius_sq, [&](uint64_t first, uint64_t nrows) {
    const kernels::RowFilter f = Filter(t_.data() + first, expires_.data() + first, w, now);
    if constexpr (kDims == 2) {
      total += kernels::RadiusCount2(col_[0].data() + first, col_[1].data() + first, nrows, c[0],
                                     c[1], radius_sq, f);
    } else {
      total += kernels::RadiusCount3(col_[0].data() + first, col_[1].data() + first,
                                     col_[2].data() + first, nrows, c[0], c[1], c[2], radius_sq, f);
    }
    return true;
  });
  return total;
}

namespace {
template <int kDims>
bool BoxOverlaps(const std::vector<double>* bmin, const std::vector<double>* bmax, uint64_t b,
                 const std::array<double, kDims>& lo, const std::array<double, kDims>& hi) {
  for (int a = 0; a < kDims; ++a) {
    if (!(bmin[a][b] <= hi[a] && bmax[a][b] >= lo[a])) return false;
  }
  return true;
}
}  // namespace

// Marks the leaves [first, first + m) whose f32 bounds overlap the closed box [lo, hi].
template <int kDims>
void LeafOverlaps(const std::vector<float>* lmin, const std::vector<float>* lmax, uint64_t first,
                  uint64_t m, const std::array<double, kDims>& lo,
                  const std::array<double, kDims>& hi, bool* pass) {
  for (uint64_t i = 0; i < m; ++i) pass[i] = true;
  for (int a = 0; a < kDims; ++a) {
    const float* mn = lmin[a].data() + first;
    const float* mx = lmax[a].data() + first;
    for (uint64_t i = 0; i < m; ++i) {
      pass[i] = pass[i] && double{mn[i]} <= hi[a] && double{mx[i]} >= lo[a];
    }
  }
}

template <int kDims>
void LiveIndex<kDims>::InBox(const Point& lo, const Point& hi, const TimeWindow& w, int64_t now,
                             size_t limit, std::vector<uint32_t>* keys, bool* truncated) const {
  keys->clear();
  *truncated = false;
  const uint64_t rows = options_.block_rows;
  std::vector<uint32_t> ids(rows);
  auto overlaps = [&](const std::vector<double>* mn, const std::vector<double>* mx, uint64_t i) {
    return BoxOverlaps<kDims>(mn, mx, i, lo, hi);
  };
  auto leaf_overlaps = [&](uint64_t first, uint64_t m, bool* pass) {
    LeafOverlaps<kDims>(lmin_, lmax_, first, m, lo, hi, pass);
  };
  ForBlocks(overlaps, [&](uint64_t b) {
    return ForLeafRuns(b, leaf_overlaps, [&](uint64_t first, uint64_t nrows) {
      const kernels::RowFilter f = Filter(t_.data() + first, expires_.data() + first, w, now);
      size_t n;
      if constexpr (kDims == 2) {
        n = kernels::BoxFilter2(col_[0].data() + first, col_[1].data() + first, nrows,
                                kernels::Box2T<double>{lo[0], lo[1], hi[0], hi[1]}, f,
                                static_cast<uint32_t>(first), ids.data());
      } else {
        n = kernels::BoxFilter3(col_[0].data() + first, col_[1].data() + first,
                                col_[2].data() + first, nrows,
                                kernels::Box3T<double>{lo[0], lo[1], lo[2], hi[0], hi[1], hi[2]}, f,
                                static_cast<uint32_t>(first), ids.data());
      }
      for (size_t i = 0; i < n; ++i) {
        if (keys->size() >= limit) {
          *truncated = true;
          return false;
        }
        keys->push_back(key_of_slot_[ids[i]]);
      }
      return true;
    });
  });
}

template <int kDims>
size_t LiveIndex<kDims>::CountBox(const Point& lo, const Point& hi, const TimeWindow& w,
                                  int64_t now) const {
  size_t total = 0;
  auto overlaps = [&](const std::vector<double>* mn, const std::vector<double>* mx, uint64_t i) {
    return BoxOverlaps<kDims>(mn, mx, i, lo, hi);
  };
  auto leaf_overlaps = [&](uint64_t first, uint64_t m, bool* pass) {
    LeafOverlaps<kDims>(lmin_, lmax_, first, m, lo, hi, pass);
  };
  ForBlocks(overlaps, [&](uint64_t b) {
    return ForLeafRuns(b, leaf_overlaps, [&](uint64_t first, uint64_t nrows) {
      const kernels::RowFilter f = Filter(t_.data() + first, expires_.data() + first, w, now);
      if constexpr (kDims == 2) {
        total += kernels::BoxCount2(col_[0].data() + first, col_[1].data() + first, nrows,
                                    kernels::Box2T<double>{lo[0], lo[1], hi[0], hi[1]}, f);
      } else {
        total += kernels::BoxCount3(
            col_[0].data() + first, col_[1].data() + first, col_[2].data() + first, nrows,
            kernels::Box3T<double>{lo[0], lo[1], lo[2], hi[0], hi[1], hi[2]}, f);
      }
      return true;
    });
  });
  return total;
}

template <int kDims>
size_t LiveIndex<kDims>::CountExpired(int64_t now) const {
  size_t n = 0;
  for (uint64_t s = 0; s < slots_; ++s) n += key_of_slot_[s] != kNoKey && expires_[s] <= now;
  return n;
}

template <int kDims>
double LiveIndex<kDims>::ExtentSum() const {
  double sum = 0;
  for (uint64_t b = 0; b < num_blocks_; ++b) {
    for (int a = 0; a < kDims; ++a) {
      if (bmin_[a][b] <= bmax_[a][b]) sum += bmax_[a][b] - bmin_[a][b];
    }
  }
  return sum;
}

template <int kDims>
bool LiveIndex<kDims>::NeedsRecluster() const {
  if (present_ == 0) return false;
  const double now_extent = extent_sum_;
  if (clustered_extent_ == 0) return now_extent > 0;  // never clustered, or all points equal
  return now_extent > options_.recluster_growth * clustered_extent_;
}

template <int kDims>
typename LiveIndex<kDims>::RowSet LiveIndex<kDims>::Rows() const {
  RowSet rows;
  rows.keys.reserve(present_);
  for (int a = 0; a < kDims; ++a) rows.pos[a].reserve(present_);
  rows.t.reserve(present_);
  rows.expires.reserve(present_);
  for (uint64_t s = 0; s < slots_; ++s) {
    if (key_of_slot_[s] == kNoKey) continue;
    rows.keys.push_back(key_of_slot_[s]);
    for (int a = 0; a < kDims; ++a) rows.pos[a].push_back(col_[a][s]);
    rows.t.push_back(t_[s]);
    rows.expires.push_back(expires_[s]);
  }
  return rows;
}

template <int kDims>
LiveIndex<kDims> LiveIndex<kDims>::Reclustered(std::vector<uint32_t>* renumber) const {
  return Build(options_, Rows(), renumber);
}

template <int kDims>
LiveIndex<kDims> LiveIndex<kDims>::Build(const LiveOptions& options, const RowSet& rows,
                                         std::vector<uint32_t>* renumber) {
  const size_t n = rows.keys.size();
  LOCUS_CHECK(rows.t.size() == n && rows.expires.size() == n);
  for (int a = 0; a < kDims; ++a) LOCUS_CHECK(rows.pos[a].size() == n);
  LiveIndex out(options);
  // The rows' Hilbert keys, by the batch kernels over padded columns.
  std::vector<uint64_t> hkey(n);
  kernels::Column<double> g[kDims];
  for (int a = 0; a < kDims; ++a) {
    g[a].resize(n);
    std::copy(rows.pos[a].begin(), rows.pos[a].end(), g[a].data());
  }
  if (kDims == 3 && options.sphere) {
    // (longitude, sin latitude) of each unit vector, over their extent.
    kernels::Column<double> lon(n);
    kernels::Box2T<double> ext{kInf, kInf, -kInf, -kInf};
    for (size_t i = 0; i < n; ++i) {
      lon[i] = std::atan2(g[1][i], g[0][i]);
      ext.min_x = std::min(ext.min_x, lon[i]);
      ext.max_x = std::max(ext.max_x, lon[i]);
      ext.min_y = std::min(ext.min_y, g[kDims - 1][i]);
      ext.max_y = std::max(ext.max_y, g[kDims - 1][i]);
    }
    std::vector<uint32_t> k32(n);
    kernels::HilbertKeys2(lon.data(), g[kDims - 1].data(), n, ext, k32.data());
    std::copy(k32.begin(), k32.end(), hkey.begin());
  } else {
    Point lo, hi;
    lo.fill(kInf);
    hi.fill(-kInf);
    for (int a = 0; a < kDims; ++a) {
      for (size_t i = 0; i < n; ++i) {
        lo[a] = std::min(lo[a], g[a][i]);
        hi[a] = std::max(hi[a], g[a][i]);
      }
    }
    if constexpr (kDims == 2) {
      std::vector<uint32_t> k32(n);
      kernels::HilbertKeys2(g[0].data(), g[1].data(), n,
                            kernels::Box2T<double>{lo[0], lo[1], hi[0], hi[1]}, k32.data());
      std::copy(k32.begin(), k32.end(), hkey.begin());
    } else {
      kernels::HilbertKeys3(g[0].data(), g[1].data(), g[2].data(), n,
                            kernels::Box3T<double>{lo[0], lo[1], lo[2], hi[0], hi[1], hi[2]},
                            hkey.data());
    }
  }
  // Rows in key order, ties in input order: a stable radix sort (oneTBB on large inputs),
  // where std::stable_sort's comparisons read hkey at random (a tenth of a 1M bulk load).
  std::vector<uint32_t> order(n);
  std::iota(order.begin(), order.end(), 0u);
  const bool wide = kDims == 3 && !options.sphere;  // 3D Hilbert keys are 48 bits
  RadixSortPairs(hkey, order, wide ? 48 : 32, /*parallel=*/n >= (1u << 16));
  if (renumber) {
    uint32_t max_key = 0;
    for (uint32_t key : rows.keys) max_key = std::max(max_key, key);
    renumber->assign(n == 0 ? 0 : uint64_t{max_key} + 1, kNoKey);
  }
  // The rows in key order, written directly: each column gathered in one pass (independent
  // loads the CPU overlaps, where a row-by-row Upsert chained them: a quarter of a 1M bulk
  // load), then every bound computed over the filled columns.
  const uint64_t per_block = options.block_rows;
  const uint64_t blocks = (n + per_block - 1) / per_block;
  const uint64_t cap = blocks * per_block;
  out.slots_ = n;
  out.num_blocks_ = blocks;
  out.present_ = n;
  constexpr float kInfF = std::numeric_limits<float>::infinity();
  for (int a = 0; a < kDims; ++a) {
    out.col_[a].reserve(cap);  // exactly: resize alone would leave Column's growth slack
    out.col_[a].resize(cap, 0.0);
    double* col = out.col_[a].data();
    const double* in = rows.pos[a].data();
    for (uint64_t s = 0; s < n; ++s) col[s] = in[order[s]];
    out.bmin_[a].assign(blocks, kInf);
    out.bmax_[a].assign(blocks, -kInf);
    out.lmin_[a].assign(cap / kLeafRows, kInfF);
    out.lmax_[a].assign(cap / kLeafRows, -kInfF);
    const uint64_t supers = (blocks + kSuperBlock - 1) / kSuperBlock;
    out.smin_[a].assign(supers, kInf);
    out.smax_[a].assign(supers, -kInf);
  }
  out.t_.reserve(cap);
  out.t_.resize(cap, 0);
  out.expires_.reserve(cap);
  out.expires_.resize(cap, kDeletedExpiry);  // unused rows of a block are never alive
  out.key_of_slot_.resize(cap, kNoKey);
  for (uint64_t s = 0; s < n; ++s) {
    out.t_[s] = rows.t[order[s]];
    out.expires_[s] = rows.expires[order[s]];
  }
  if (renumber) {
    for (uint64_t s = 0; s < n; ++s) {
      const uint32_t key = rows.keys[order[s]];
      LOCUS_CHECK_MSG((*renumber)[key] == kNoKey, "LiveIndex::Build: duplicate key");
      (*renumber)[key] = static_cast<uint32_t>(s);
      out.key_of_slot_[s] = static_cast<uint32_t>(s);
    }
    out.slot_of_key_.resize(n);
    std::iota(out.slot_of_key_.begin(), out.slot_of_key_.end(), 0u);
  } else {
    uint32_t max_key = 0;
    for (uint32_t key : rows.keys) max_key = std::max(max_key, key);
    out.slot_of_key_.assign(n == 0 ? 0 : uint64_t{max_key} + 1, kNoKey);
    for (uint64_t s = 0; s < n; ++s) {
      const uint32_t key = rows.keys[order[s]];
      LOCUS_CHECK_MSG(key != kNoKey && out.slot_of_key_[key] == kNoKey,
                      "LiveIndex::Build: duplicate key");
      out.slot_of_key_[key] = static_cast<uint32_t>(s);
      out.key_of_slot_[s] = key;
    }
  }
  for (int a = 0; a < kDims; ++a) {
    const double* col = out.col_[a].data();
    for (uint64_t s = 0; s < n; ++s) {
      LOCUS_CHECK_MSG(std::isfinite(col[s]), "LiveIndex::Build: a coordinate is not finite");
      const uint64_t b = s / per_block, l = s / kLeafRows;
      out.bmin_[a][b] = std::min(out.bmin_[a][b], col[s]);
      out.bmax_[a][b] = std::max(out.bmax_[a][b], col[s]);
      out.lmin_[a][l] = std::min(out.lmin_[a][l], internal::RoundDown<float>(col[s]));
      out.lmax_[a][l] = std::max(out.lmax_[a][l], internal::RoundUp<float>(col[s]));
    }
    for (uint64_t b = 0; b < blocks; ++b) {
      const uint64_t sb = b / kSuperBlock;
      out.smin_[a][sb] = std::min(out.smin_[a][sb], out.bmin_[a][b]);
      out.smax_[a][sb] = std::max(out.smax_[a][sb], out.bmax_[a][b]);
    }
  }
  out.extent_sum_ = out.ExtentSum();  // exact, without the rounding of the running sum
  out.clustered_extent_ = out.extent_sum_;
  return out;
}

template <int kDims>
size_t LiveIndex<kDims>::MemoryBytes() const {
  // Heap blocks only (the index object itself is its owner's), at the size asked of the
  // allocator: columns with their padding, vectors by capacity.
  size_t bytes = 0;
  for (int a = 0; a < kDims; ++a) {
    bytes += col_[a].AllocatedBytes();
    bytes += (bmin_[a].capacity() + bmax_[a].capacity()) * sizeof(double);
    bytes += (lmin_[a].capacity() + lmax_[a].capacity()) * sizeof(float);
  }
  for (int a = 0; a < kDims; ++a) {
    bytes += (smin_[a].capacity() + smax_[a].capacity()) * sizeof(double);
  }
  bytes += t_.AllocatedBytes() + expires_.AllocatedBytes();
  bytes += (key_of_slot_.capacity() + slot_of_key_.capacity() + free_slots_.capacity()) *
           sizeof(uint32_t);
  return bytes;
}

template <int kDims>
bool LiveIndex<kDims>::CheckInvariants() const {
  uint64_t present = 0;
  for (uint64_t s = 0; s < slots_; ++s) {
    const uint32_t key = key_of_slot_[s];
    if (key == kNoKey) {
      if (expires_[s] != kDeletedExpiry) return false;
      continue;
    }
    ++present;
    if (key >= slot_of_key_.size() || slot_of_key_[key] != s) return false;
    const uint64_t b = s / options_.block_rows, l = s / kLeafRows;
    for (int a = 0; a < kDims; ++a) {
      if (!(bmin_[a][b] <= col_[a][s] && col_[a][s] <= bmax_[a][b])) return false;
      if (!(double{lmin_[a][l]} <= col_[a][s] && col_[a][s] <= double{lmax_[a][l]})) return false;
    }
  }
  for (uint64_t b = 0; b < num_blocks_; ++b) {
    for (int a = 0; a < kDims; ++a) {
      const uint64_t sb = b / kSuperBlock;
      if (bmin_[a][b] <= bmax_[a][b] &&
          !(smin_[a][sb] <= bmin_[a][b] && bmax_[a][b] <= smax_[a][sb])) {
        return false;
      }
    }
  }
  // The running extent sum matches a recomputation (up to rounding).
  const double exact = ExtentSum();
  if (std::abs(extent_sum_ - exact) > 1e-9 * std::max(1.0, exact)) return false;
  return present == present_;
}

template class LiveIndex<2>;
template class LiveIndex<3>;

}  // namespace locus::engine
