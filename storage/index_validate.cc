// The fast validity passes of storage/index_validate.h. Per-target code (Highway,
// HWY_DYNAMIC_DISPATCH) for the box sweep; the drivers, the oneTBB split and the id checks
// are compiled once.
//
// Why one comparison triple per child is the whole box check: with a finite parent box
// [plo, phi], a child with cmin >= plo, cmax <= phi and cmin <= cmax has
// plo <= cmin <= cmax <= phi, so it is finite and uncrossed; a NaN fails every comparison.
// Conversely a finite, uncrossed, contained child passes. So checking the top level's real
// slots for finiteness and then every (parent, real child) pair by the triple is exactly
// step 4's "real slots finite, min <= max; real nodes contain their real children", given
// that every real child has a real parent (checked: real[l] == ceil(real[l - 1] / ns)).
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "storage/index_validate.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include <algorithm>
#include <atomic>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "hwy/highway.h"
#include "storage/index_validate.h"

HWY_BEFORE_NAMESPACE();
namespace locus::storage::internal {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Checks `parents` consecutive parents, each with exactly `ns` children (all real): the
// children of parent p are cmin/cmax[p * ns, (p + 1) * ns). Returns bit 0 when some child
// fails the triple (cmin >= pmin, cmax <= pmax, cmin <= cmax), bit 1 when some child has
// cmin != cmax (not a point). One axis per call.
template <typename T>
uint32_t ChildrenCheck(const T* HWY_RESTRICT pmin, const T* HWY_RESTRICT pmax,
                       const T* HWY_RESTRICT cmin, const T* HWY_RESTRICT cmax, size_t parents,
                       size_t ns) {
  const hn::ScalableTag<T> d;
  using M = hn::Mask<decltype(d)>;
  const size_t N = hn::Lanes(d);
  M bad = hn::FirstN(d, 0);
  M nonpoint = hn::FirstN(d, 0);
  if (ns % N == 0) {
    for (size_t p = 0; p < parents; ++p) {
      const auto plo = hn::Set(d, pmin[p]);
      const auto phi = hn::Set(d, pmax[p]);
      const T* lo_p = cmin + p * ns;
      const T* hi_p = cmax + p * ns;
      for (size_t j = 0; j < ns; j += N) {
        const auto lo = hn::LoadU(d, lo_p + j);
        const auto hi = hn::LoadU(d, hi_p + j);
        const M ok = hn::And(hn::And(hn::Ge(lo, plo), hn::Le(hi, phi)), hn::Le(lo, hi));
        bad = hn::Or(bad, hn::Not(ok));
        nonpoint = hn::Or(nonpoint, hn::Ne(lo, hi));
      }
    }
  } else {
    for (size_t p = 0; p < parents; ++p) {
      const auto plo = hn::Set(d, pmin[p]);
      const auto phi = hn::Set(d, pmax[p]);
      const T* lo_p = cmin + p * ns;
      const T* hi_p = cmax + p * ns;
      for (size_t j = 0; j < ns; j += N) {
        const size_t count = std::min(N, ns - j);
        const M valid = hn::FirstN(d, count);
        // May read up to N - 1 values past the last child: inside the chunk (the arrays
        // are followed by kArrayTailPad readable bytes); those lanes are masked out.
        const auto lo = hn::LoadU(d, lo_p + j);
        const auto hi = hn::LoadU(d, hi_p + j);
        const M ok = hn::And(hn::And(hn::Ge(lo, plo), hn::Le(hi, phi)), hn::Le(lo, hi));
        bad = hn::Or(bad, hn::AndNot(ok, valid));
        nonpoint = hn::Or(nonpoint, hn::And(valid, hn::Ne(lo, hi)));
      }
    }
  }
  return (hn::AllFalse(d, bad) ? 0u : 1u) | (hn::AllFalse(d, nonpoint) ? 0u : 2u);
}

uint32_t ChildrenCheckF32(const float* pmin, const float* pmax, const float* cmin,
                          const float* cmax, size_t parents, size_t ns) {
  return ChildrenCheck(pmin, pmax, cmin, cmax, parents, ns);
}
uint32_t ChildrenCheckF64(const double* pmin, const double* pmax, const double* cmin,
                          const double* cmax, size_t parents, size_t ns) {
  return ChildrenCheck(pmin, pmax, cmin, cmax, parents, ns);
}

}  // namespace HWY_NAMESPACE
}  // namespace locus::storage::internal
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/parallel_invoke.h>

namespace locus::storage::internal {

HWY_EXPORT(ChildrenCheckF32);
HWY_EXPORT(ChildrenCheckF64);

namespace {

// Below this many children a level is checked on the calling thread: a task costs a few
// microseconds, a child a fraction of a nanosecond.
constexpr uint64_t kParallelChildren = uint64_t{1} << 17;
// Below this many ids the id check runs on the calling thread.
constexpr uint64_t kParallelIds = uint64_t{1} << 18;

uint32_t ChildrenCheck(const float* pmin, const float* pmax, const float* cmin,
                       const float* cmax, size_t parents, size_t ns) {
  return HWY_DYNAMIC_DISPATCH(ChildrenCheckF32)(pmin, pmax, cmin, cmax, parents, ns);
}
uint32_t ChildrenCheck(const double* pmin, const double* pmax, const double* cmin,
                       const double* cmax, size_t parents, size_t ns) {
  return HWY_DYNAMIC_DISPATCH(ChildrenCheckF64)(pmin, pmax, cmin, cmax, parents, ns);
}

template <typename T>
bool IsEmpty(T lo, T hi) {
  return lo == std::numeric_limits<T>::infinity() && hi == -std::numeric_limits<T>::infinity();
}

}  // namespace

template <int kDims, typename T>
bool BoxesValid(const engine::RTreeLayout<kDims, T>& l, const TreeShape& shape, bool* points) {
  const uint32_t levels = shape.num_levels();
  const uint64_t ns = shape.node_size;
  const auto& begin = shape.level_begin;
  const auto& real = shape.real_per_level;
  bool all_points = shape.num_items > 0;
  bool ok = true;
  // Padding: only after each level's real slots (in its last node).
  for (uint32_t level = 0; level < levels; ++level) {
    for (uint64_t s = begin[level] + real[level]; s < begin[level + 1]; ++s) {
      for (int a = 0; a < kDims; ++a) ok &= IsEmpty(l.min[a][s], l.max[a][s]);
    }
  }
  if (levels == 0) {
    *points = all_points;
    return ok;
  }
  // The top level's real slots: finite and uncrossed (the induction's base).
  const uint32_t top = levels - 1;
  for (uint64_t s = begin[top]; s < begin[top] + real[top]; ++s) {
    for (int a = 0; a < kDims; ++a) {
      const T lo = l.min[a][s], hi = l.max[a][s];
      ok &= std::isfinite(lo) && std::isfinite(hi) && lo <= hi;
      if (top == 0) all_points &= lo == hi;
    }
  }
  // Every (parent, real child) pair, level by level.
  for (uint32_t level = 1; level < levels; ++level) {
    const uint64_t children = real[level - 1];
    if (real[level] != (children + ns - 1) / ns) return false;  // the slow checks decide
    const uint64_t full = children / ns;
    const uint64_t pb = begin[level], cb = begin[level - 1];
    std::atomic<uint32_t> flags{0};
    auto check = [&](uint64_t p0, uint64_t p1) {
      uint32_t f = 0;
      for (int a = 0; a < kDims; ++a) {
        f |= ChildrenCheck(l.min[a] + pb + p0, l.max[a] + pb + p0, l.min[a] + cb + p0 * ns,
                           l.max[a] + cb + p0 * ns, p1 - p0, ns);
      }
      if (f != 0) flags.fetch_or(f, std::memory_order_relaxed);
    };
    if (children >= kParallelChildren) {
      const uint64_t grain = std::max<uint64_t>(kParallelChildren / 4 / ns, 1);
      tbb::parallel_for(tbb::blocked_range<uint64_t>(0, full, grain),
                        [&](const tbb::blocked_range<uint64_t>& r) { check(r.begin(), r.end()); });
    } else if (full > 0) {
      check(0, full);
    }
    // The last parent's real children when they do not fill it.
    const uint64_t p = full;
    for (uint64_t c = full * ns; c < children; ++c) {
      for (int a = 0; a < kDims; ++a) {
        const T plo = l.min[a][pb + p], phi = l.max[a][pb + p];
        const T lo = l.min[a][cb + c], hi = l.max[a][cb + c];
        ok &= lo >= plo && hi <= phi && lo <= hi;
        if (level == 1) all_points &= lo == hi;
      }
    }
    const uint32_t f = flags.load(std::memory_order_relaxed);
    ok &= (f & 1) == 0;
    if (level == 1) all_points &= (f & 2) == 0;
  }
  *points = all_points;
  return ok;
}

namespace {

// A zeroed buffer of `words` words, taken from a per-thread cache kept between calls up to
// 1 MiB (8M items): freeing and re-growing a heap block of this size on every load costs
// page faults that showed up as ~20% of a 1M-item view load. Re-entrant: a thread waiting
// inside a oneTBB call may run another load's task; that one finds the cache busy and
// allocates its own buffer.
class ScratchBits {
 public:
  explicit ScratchBits(uint64_t words) {
    constexpr uint64_t kKeepWords = (uint64_t{1} << 20) / 8;
    Cache& c = cache();
    if (!c.busy && words <= kKeepWords) {
      c.busy = true;
      owner_ = &c;
      if (c.bits.size() < words) c.bits.resize(words);
      data_ = c.bits.data();
      std::fill(data_, data_ + words, uint64_t{0});
    } else {
      own_.assign(words, 0);
      data_ = own_.data();
    }
  }
  ~ScratchBits() {
    if (owner_ != nullptr) owner_->busy = false;
  }
  ScratchBits(const ScratchBits&) = delete;
  ScratchBits& operator=(const ScratchBits&) = delete;
  uint64_t* data() { return data_; }

 private:
  struct Cache {
    std::vector<uint64_t> bits;
    bool busy = false;
  };
  static Cache& cache() {
    thread_local Cache c;
    return c;
  }
  Cache* owner_ = nullptr;
  std::vector<uint64_t> own_;
  uint64_t* data_ = nullptr;
};

// Marks every id of ids[0, count) (ids >= n clamped to n) in `seen`, which has room for bit n.
void MarkIds(const uint32_t* ids, uint64_t count, uint64_t n, uint64_t* seen) {
  for (uint64_t p = 0; p < count; ++p) {
    const uint64_t id = std::min<uint64_t>(ids[p], n);
    seen[id >> 6] |= uint64_t{1} << (id & 63);
  }
}

// Returns the number of bits set in [0, n) of a | b (b may be null).
uint64_t CountBelow(const uint64_t* a, const uint64_t* b, uint64_t n) {
  uint64_t total = 0;
  const uint64_t words = n / 64;
  for (uint64_t w = 0; w < words; ++w) total += std::popcount(a[w] | (b ? b[w] : 0));
  if (n % 64 != 0) {
    const uint64_t mask = (uint64_t{1} << (n % 64)) - 1;
    total += std::popcount((a[words] | (b ? b[words] : 0)) & mask);
  }
  return total;
}

}  // namespace

bool IdsValid(const uint32_t* ids, uint64_t n, uint64_t num_leaf_slots,
              std::vector<uint32_t>* position) {
  bool ok = true;
  for (uint64_t p = n; p < num_leaf_slots; ++p) ok &= ids[p] == engine::kNoId;
  // n ids, each clamped to at most n: they are a permutation of [0, n) exactly when they
  // cover all of [0, n), i.e. when every entry below n is written / every bit below n set.
  if (position != nullptr) {
    position->assign(n + 1, engine::kNoId);
    uint32_t* pos = position->data();
    for (uint64_t p = 0; p < n; ++p) pos[std::min<uint64_t>(ids[p], n)] = static_cast<uint32_t>(p);
    uint32_t missing = 0;
    for (uint64_t i = 0; i < n; ++i) missing |= pos[i] == engine::kNoId;
    position->resize(n);
    return ok && missing == 0;
  }
  const uint64_t words = n / 64 + 1;
  const bool parallel = n >= kParallelIds;
  ScratchBits scratch(parallel ? 2 * words : words);
  uint64_t* a = scratch.data();
  uint64_t* b = parallel ? a + words : nullptr;
  if (!parallel) {
    MarkIds(ids, n, n, a);
  } else {
    // Two halves, each into its own bitmap (in its own core's cache), then one union.
    const uint64_t half = n / 2;
    tbb::parallel_invoke([&] { MarkIds(ids, half, n, a); },
                         [&] { MarkIds(ids + half, n - half, n, b); });
  }
  return ok && CountBelow(a, b, n) == n;
}

template <int kDims, typename T>
ArrayChecks CheckArrays(const engine::RTreeLayout<kDims, T>& l, const TreeShape& shape,
                        std::vector<uint32_t>* position) {
  ArrayChecks r;
  auto boxes = [&] { r.boxes_ok = BoxesValid(l, shape, &r.points); };
  auto ids = [&] {
    r.ids_ok = IdsValid(l.ids, shape.num_items, shape.num_leaf_slots, position);
  };
  if (shape.num_items >= kParallelIds) {
    tbb::parallel_invoke(boxes, ids);
  } else {
    boxes();
    ids();
  }
  return r;
}

#define LOCUS_INSTANTIATE(D, T)                                                            \
  template bool BoxesValid(const engine::RTreeLayout<D, T>&, const TreeShape&, bool*);     \
  template ArrayChecks CheckArrays(const engine::RTreeLayout<D, T>&, const TreeShape&,     \
                                   std::vector<uint32_t>*);
LOCUS_INSTANTIATE(2, double)
LOCUS_INSTANTIATE(3, double)
LOCUS_INSTANTIATE(2, float)
LOCUS_INSTANTIATE(3, float)
#undef LOCUS_INSTANTIATE

}  // namespace locus::storage::internal
#endif  // HWY_ONCE
