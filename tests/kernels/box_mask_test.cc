// Tests kernels/box_mask.h (box overlap / contains masks) on every compiled target against the
// scalar references: all sizes around the lane count and every bit-word boundary, misaligned
// starts, poisoned padding, red zones around outputs, seeded boxes (uniform, clustered,
// duplicates) sprinkled with NaN, crossed, zero-size, infinite and +inf/-inf sentinel boxes,
// and named boundary cases. The reference itself is checked against an independent
// "intersection is non-empty" / "union equals the query" formulation.
#include "kernels/box_mask.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "tests/testing/harness.h"

namespace locus::kernels {
namespace {

using ::locus::testing::kMisalignments;
using ::locus::testing::PaddedArray;
using ::locus::testing::RedZoneBuffer;
using ::locus::testing::SeedTrace;
using ::locus::testing::TestSeed;
using ::locus::testing::TestSizes;

class BoxMaskTest : public ::locus::testing::PerTargetTest {};
LOCUS_INSTANTIATE_PER_TARGET(BoxMaskTest);

template <typename T>
constexpr T kInf = std::numeric_limits<T>::infinity();
template <typename T>
constexpr T kNaN = std::numeric_limits<T>::quiet_NaN();

enum class Layout { kUniform, kClustered, kDuplicates };

// SoA boxes: lo[a], hi[a] for a < 3 (2D tests use the first two axes). Padding is poisoned
// with the zero-size box at `poison`, which lies inside (and overlaps) every query used.
template <typename T>
struct Boxes {
  std::vector<PaddedArray<T>> lo, hi;
  Boxes(size_t n, size_t misalign, T poison) {
    for (int a = 0; a < 3; ++a) {
      lo.emplace_back(n, misalign, poison);
      hi.emplace_back(n, misalign, poison);
    }
  }
};

// Seeded boxes on a half-unit grid in [0, 20] (so many touch the query faces exactly), with
// about one in eight replaced by a special: sentinel, NaN, crossed, infinite, zero-size.
template <typename T>
Boxes<T> MakeBoxes(size_t n, size_t misalign, Layout layout, std::mt19937_64& rng, T poison) {
  Boxes<T> b(n, misalign, poison);
  std::uniform_int_distribution<int> grid(0, 40), extent(0, 8), special(0, 63), axis(0, 2);
  std::uniform_int_distribution<int> cluster(0, 3), jitter(-2, 2), dup(0, 7);
  T dup_lo[8][3], dup_hi[8][3];
  for (int k = 0; k < 8; ++k) {
    for (int a = 0; a < 3; ++a) {
      dup_lo[k][a] = T(grid(rng)) * T(0.5);
      dup_hi[k][a] = dup_lo[k][a] + T(extent(rng)) * T(0.5);
    }
  }
  const T centers[4] = {T(4), T(8.5), T(10), T(15)};
  for (size_t i = 0; i < n; ++i) {
    for (int a = 0; a < 3; ++a) {
      T lo, hi;
      switch (layout) {
        case Layout::kUniform:
          lo = T(grid(rng)) * T(0.5);
          hi = lo + T(extent(rng)) * T(0.5);
          break;
        case Layout::kClustered:
          lo = centers[cluster(rng)] + T(jitter(rng)) * T(0.5);
          hi = lo + T(extent(rng)) * T(0.25);
          break;
        default: {
          const int k = dup(rng);
          lo = dup_lo[k][a];
          hi = dup_hi[k][a];
        }
      }
      b.lo[a][i] = lo;
      b.hi[a][i] = hi;
    }
    const int s = special(rng), a = axis(rng);
    if (s == 0) {  // the R-tree padding sentinel on every axis
      for (int k = 0; k < 3; ++k) b.lo[k][i] = kInf<T>, b.hi[k][i] = -kInf<T>;
    } else if (s == 1) {
      b.lo[a][i] = kNaN<T>;
    } else if (s == 2) {
      b.hi[a][i] = kNaN<T>;
    } else if (s == 3) {  // crossed on one axis
      b.lo[a][i] = b.hi[a][i] + T(1);
    } else if (s == 4) {  // infinite slab: valid
      b.lo[a][i] = -kInf<T>, b.hi[a][i] = kInf<T>;
    } else if (s == 5) {  // zero-size
      b.hi[a][i] = b.lo[a][i];
    } else if (s == 6) {  // sentinel on one axis only
      b.lo[a][i] = kInf<T>, b.hi[a][i] = -kInf<T>;
    }
  }
  return b;
}

// Queries: ordinary (faces on the grid), zero-size, everything, one equal to a typical box,
// and invalid ones (crossed, NaN) that must match nothing.
template <typename T>
std::vector<Box3T<T>> Queries() {
  return {
      {T(5), T(4), T(2), T(12.5), T(15), T(9)},
      {T(8), T(8), T(8), T(8), T(8), T(8)},
      {-kInf<T>, -kInf<T>, -kInf<T>, kInf<T>, kInf<T>, kInf<T>},
      {T(0), T(0), T(0), T(20), T(20), T(20)},
      {T(9.5), T(3), T(3), T(11), T(3.5), T(17)},
      {T(12), T(4), T(2), T(5), T(15), T(9)},            // crossed in x
      {T(5), kNaN<T>, T(2), T(12.5), T(15), T(9)},       // NaN
      {T(5), T(4), T(2), T(12.5), T(15), -kInf<T>},      // crossed in z
  };
}
template <typename T>
Box2T<T> To2(const Box3T<T>& q) {
  return {q.min_x, q.min_y, q.max_x, q.max_y};
}

// An independent formulation: a valid child overlaps iff the intersection with q is non-empty
// and lies inside iff the union with q is q.
template <typename T>
bool OracleAxis(T lo, T hi, T q_lo, T q_hi, bool inside) {
  if (std::isnan(lo) || std::isnan(hi) || std::isnan(q_lo) || std::isnan(q_hi)) return false;
  if (lo > hi || q_lo > q_hi) return false;
  if (inside) return std::min(lo, q_lo) == q_lo && std::max(hi, q_hi) == q_hi;
  return std::max(lo, q_lo) <= std::min(hi, q_hi);
}

template <typename T, int kDims>
struct Runner {
  const Boxes<T>& b;
  size_t n;

  size_t RefIds(bool inside, const Box3T<T>& q, uint32_t base, uint32_t* out) const {
    if constexpr (kDims == 2) {
      return inside ? reference::BoxContainsIds2(b.lo[0].data(), b.lo[1].data(), b.hi[0].data(),
                                                 b.hi[1].data(), n, To2(q), base, out)
                    : reference::BoxOverlapIds2(b.lo[0].data(), b.lo[1].data(), b.hi[0].data(),
                                                b.hi[1].data(), n, To2(q), base, out);
    } else {
      return inside ? reference::BoxContainsIds3(b.lo[0].data(), b.lo[1].data(), b.lo[2].data(),
                                                 b.hi[0].data(), b.hi[1].data(), b.hi[2].data(),
                                                 n, q, base, out)
                    : reference::BoxOverlapIds3(b.lo[0].data(), b.lo[1].data(), b.lo[2].data(),
                                                b.hi[0].data(), b.hi[1].data(), b.hi[2].data(),
                                                n, q, base, out);
    }
  }
  void RefBits(bool inside, const Box3T<T>& q, uint64_t* out) const {
    if constexpr (kDims == 2) {
      inside ? reference::BoxContainsBits2(b.lo[0].data(), b.lo[1].data(), b.hi[0].data(),
                                           b.hi[1].data(), n, To2(q), out)
             : reference::BoxOverlapBits2(b.lo[0].data(), b.lo[1].data(), b.hi[0].data(),
                                          b.hi[1].data(), n, To2(q), out);
    } else {
      inside ? reference::BoxContainsBits3(b.lo[0].data(), b.lo[1].data(), b.lo[2].data(),
                                           b.hi[0].data(), b.hi[1].data(), b.hi[2].data(), n, q,
                                           out)
             : reference::BoxOverlapBits3(b.lo[0].data(), b.lo[1].data(), b.lo[2].data(),
                                          b.hi[0].data(), b.hi[1].data(), b.hi[2].data(), n, q,
                                          out);
    }
  }
  size_t Ids(bool inside, const Box3T<T>& q, uint32_t base, uint32_t* out) const {
    if constexpr (kDims == 2) {
      return inside ? BoxContainsIds2(b.lo[0].data(), b.lo[1].data(), b.hi[0].data(),
                                      b.hi[1].data(), n, To2(q), base, out)
                    : BoxOverlapIds2(b.lo[0].data(), b.lo[1].data(), b.hi[0].data(),
                                     b.hi[1].data(), n, To2(q), base, out);
    } else {
      return inside ? BoxContainsIds3(b.lo[0].data(), b.lo[1].data(), b.lo[2].data(),
                                      b.hi[0].data(), b.hi[1].data(), b.hi[2].data(), n, q, base,
                                      out)
                    : BoxOverlapIds3(b.lo[0].data(), b.lo[1].data(), b.lo[2].data(),
                                     b.hi[0].data(), b.hi[1].data(), b.hi[2].data(), n, q, base,
                                     out);
    }
  }
  void Bits(bool inside, const Box3T<T>& q, uint64_t* out) const {
    if constexpr (kDims == 2) {
      inside ? BoxContainsBits2(b.lo[0].data(), b.lo[1].data(), b.hi[0].data(), b.hi[1].data(), n,
                                To2(q), out)
             : BoxOverlapBits2(b.lo[0].data(), b.lo[1].data(), b.hi[0].data(), b.hi[1].data(), n,
                               To2(q), out);
    } else {
      inside ? BoxContainsBits3(b.lo[0].data(), b.lo[1].data(), b.lo[2].data(), b.hi[0].data(),
                                b.hi[1].data(), b.hi[2].data(), n, q, out)
             : BoxOverlapBits3(b.lo[0].data(), b.lo[1].data(), b.lo[2].data(), b.hi[0].data(),
                               b.hi[1].data(), b.hi[2].data(), n, q, out);
    }
  }
  size_t Count(bool inside, const Box3T<T>& q) const {
    if constexpr (kDims == 2) {
      return inside ? BoxContainsCount2(b.lo[0].data(), b.lo[1].data(), b.hi[0].data(),
                                        b.hi[1].data(), n, To2(q))
                    : BoxOverlapCount2(b.lo[0].data(), b.lo[1].data(), b.hi[0].data(),
                                       b.hi[1].data(), n, To2(q));
    } else {
      return inside ? BoxContainsCount3(b.lo[0].data(), b.lo[1].data(), b.lo[2].data(),
                                        b.hi[0].data(), b.hi[1].data(), b.hi[2].data(), n, q)
                    : BoxOverlapCount3(b.lo[0].data(), b.lo[1].data(), b.lo[2].data(),
                                       b.hi[0].data(), b.hi[1].data(), b.hi[2].data(), n, q);
    }
  }
  bool Oracle(bool inside, const Box3T<T>& q, size_t i) const {
    bool ok = OracleAxis(b.lo[0][i], b.hi[0][i], q.min_x, q.max_x, inside) &&
              OracleAxis(b.lo[1][i], b.hi[1][i], q.min_y, q.max_y, inside);
    if (kDims == 3) ok = ok && OracleAxis(b.lo[2][i], b.hi[2][i], q.min_z, q.max_z, inside);
    // An invalid query matches nothing, whatever its other axes say.
    const bool q_valid = q.min_x <= q.max_x && q.min_y <= q.max_y &&
                         (kDims == 2 || q.min_z <= q.max_z);
    return ok && q_valid;
  }

  // Compares ids, bits and count with the reference (and the reference with the oracle).
  void Check(const Box3T<T>& q) const {
    for (bool inside : {false, true}) {
      SCOPED_TRACE(::testing::Message() << (inside ? "contains" : "overlap") << " dims=" << kDims
                                        << " q=(" << q.min_x << "," << q.min_y << "," << q.min_z
                                        << ")-(" << q.max_x << "," << q.max_y << "," << q.max_z
                                        << ")");
      const uint32_t base = 1000;
      RedZoneBuffer<uint32_t> got(n), want(n + 1);
      const size_t w = RefIds(inside, q, base, want.data());
      const size_t g = Ids(inside, q, base, got.data());
      ASSERT_EQ(g, w);
      EXPECT_EQ(got.Prefix(g), want.Prefix(w));
      EXPECT_TRUE(got.RedZonesIntact());
      EXPECT_EQ(Count(inside, q), w);

      const size_t words = (n + 63) / 64;
      RedZoneBuffer<uint64_t> got_bits(words), want_bits(words);
      RefBits(inside, q, want_bits.data());
      Bits(inside, q, got_bits.data());
      EXPECT_EQ(got_bits.Prefix(words), want_bits.Prefix(words));
      EXPECT_TRUE(got_bits.RedZonesIntact());

      // The reference against the independent oracle, and ids against bits.
      size_t k = 0;
      for (size_t i = 0; i < n; ++i) {
        const bool bit = (want_bits.data()[i / 64] >> (i % 64)) & 1;
        ASSERT_EQ(bit, Oracle(inside, q, i)) << "row " << i;
        if (bit) {
          ASSERT_LT(k, w);
          ASSERT_EQ(want.data()[k++], base + i);
        }
      }
      EXPECT_EQ(k, w);
    }
  }
};

template <typename T>
void CheckAgainstReference(size_t lanes) {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE(SeedTrace(seed));
  std::mt19937_64 rng(seed);
  std::vector<size_t> sizes = TestSizes(lanes);
  for (size_t n : {size_t{16}, size_t{63}, size_t{64}, size_t{65}, size_t{128}, size_t{129}}) {
    sizes.push_back(n);
  }
  for (size_t n : sizes) {
    for (size_t misalign : kMisalignments) {
      for (Layout layout : {Layout::kUniform, Layout::kClustered, Layout::kDuplicates}) {
        SCOPED_TRACE(::testing::Message() << "n=" << n << " misalign=" << misalign
                                          << " layout=" << static_cast<int>(layout));
        const Boxes<T> b = MakeBoxes<T>(n, misalign, layout, rng, T(8));
        for (const Box3T<T>& q : Queries<T>()) {
          Runner<T, 2>{b, n}.Check(q);
          Runner<T, 3>{b, n}.Check(q);
          if (::testing::Test::HasFatalFailure()) return;
        }
      }
    }
  }
}

TEST_P(BoxMaskTest, MatchesReferenceF32) { CheckAgainstReference<float>(LanesF32()); }
TEST_P(BoxMaskTest, MatchesReferenceF64) { CheckAgainstReference<double>(LanesF64()); }

// The R-tree's case: many small nodes; every n in [0, 130] with fresh random boxes.
TEST_P(BoxMaskTest, EverySmallSizeMatchesReference) {
  const uint64_t seed = TestSeed() + 1;
  SCOPED_TRACE(SeedTrace(seed));
  std::mt19937_64 rng(seed);
  for (size_t n = 0; n <= 130; ++n) {
    SCOPED_TRACE(::testing::Message() << "n=" << n);
    const Boxes<float> bf = MakeBoxes<float>(n, n % 4, Layout::kUniform, rng, 8.0f);
    const Boxes<double> bd = MakeBoxes<double>(n, n % 3, Layout::kClustered, rng, 8.0);
    Runner<float, 2>{bf, n}.Check(Queries<float>()[0]);
    Runner<float, 3>{bf, n}.Check(Queries<float>()[3]);
    Runner<double, 2>{bd, n}.Check(Queries<double>()[0]);
    Runner<double, 3>{bd, n}.Check(Queries<double>()[4]);
    if (HasFatalFailure()) return;
  }
}

// Named 2D cases against the query [0, 10] x [0, 10]: one box per row.
struct Case {
  float lo_x, lo_y, hi_x, hi_y;
  bool overlaps, inside;
  const char* what;
};

TEST_P(BoxMaskTest, BoundaryCases2F32) {
  const float inf = kInf<float>, nan = kNaN<float>;
  const float below0 = std::nextafter(0.0f, -1.0f), above10 = std::nextafter(10.0f, 11.0f);
  const Case cases[] = {
      {10, 2, 12, 4, true, false, "touches the right face"},
      {-3, -3, 0, 0, true, false, "touches the lower-left corner"},
      {10, 10, 10, 10, true, true, "zero-size on the upper-right corner"},
      {0, 5, 0, 5, true, true, "zero-size on the left face"},
      {0, 0, 10, 10, true, true, "equal to the query"},
      {0, 0, above10, 10, true, false, "one ulp wider than the query"},
      {below0, 2, below0, 3, false, false, "one ulp left of the query"},
      {11, 2, 12, 3, false, false, "disjoint"},
      {-5, -5, 15, 15, true, false, "covers the query"},
      {inf, inf, -inf, -inf, false, false, "R-tree sentinel"},
      {inf, 2, -inf, 3, false, false, "sentinel on x only"},
      {nan, 2, 3, 3, false, false, "NaN min_x"},
      {2, 2, 3, nan, false, false, "NaN max_y"},
      {6, 2, 4, 3, false, false, "crossed in x"},
      {-inf, 2, inf, 3, true, false, "infinite in x"},
      {2, 2, 3, 3, true, true, "strictly inside"},
  };
  const size_t n = sizeof(cases) / sizeof(cases[0]);
  for (size_t misalign : kMisalignments) {
    PaddedArray<float> lx(n, misalign, 5.0f), ly(n, misalign, 5.0f), hx(n, misalign, 5.0f),
        hy(n, misalign, 5.0f);
    for (size_t i = 0; i < n; ++i) {
      lx[i] = cases[i].lo_x, ly[i] = cases[i].lo_y, hx[i] = cases[i].hi_x, hy[i] = cases[i].hi_y;
    }
    for (const Box2T<float>& q : {Box2T<float>{0, 0, 10, 10}}) {
      uint64_t overlap_bits = 0, inside_bits = 0;
      BoxOverlapBits2(lx.data(), ly.data(), hx.data(), hy.data(), n, q, &overlap_bits);
      BoxContainsBits2(lx.data(), ly.data(), hx.data(), hy.data(), n, q, &inside_bits);
      for (size_t i = 0; i < n; ++i) {
        SCOPED_TRACE(cases[i].what);
        EXPECT_EQ((overlap_bits >> i) & 1, cases[i].overlaps ? 1u : 0u);
        EXPECT_EQ((inside_bits >> i) & 1, cases[i].inside ? 1u : 0u);
      }
    }
  }
}

// The sentinel never matches, not even the infinite query (where the plain compares would say
// yes); an infinite valid box overlaps every valid query but lies only inside the infinite one.
TEST_P(BoxMaskTest, SentinelNeverMatchesInfiniteQuery) {
  const double inf = kInf<double>;
  const size_t n = 3 * LanesF64() + 1;
  PaddedArray<double> l[3] = {{n, 1, 0.0}, {n, 1, 0.0}, {n, 1, 0.0}};
  PaddedArray<double> h[3] = {{n, 1, 0.0}, {n, 1, 0.0}, {n, 1, 0.0}};
  for (size_t i = 0; i < n; ++i) {
    for (int a = 0; a < 3; ++a) {
      l[a][i] = i % 2 ? inf : -inf;
      h[a][i] = i % 2 ? -inf : inf;
    }
  }
  const Box3T<double> all{-inf, -inf, -inf, inf, inf, inf};
  const Box3T<double> unit{0, 0, 0, 1, 1, 1};
  const size_t valid = (n + 1) / 2;  // even rows are the infinite box
  EXPECT_EQ(BoxOverlapCount3(l[0].data(), l[1].data(), l[2].data(), h[0].data(), h[1].data(),
                             h[2].data(), n, all),
            valid);
  EXPECT_EQ(BoxContainsCount3(l[0].data(), l[1].data(), l[2].data(), h[0].data(), h[1].data(),
                              h[2].data(), n, all),
            valid);
  EXPECT_EQ(BoxOverlapCount3(l[0].data(), l[1].data(), l[2].data(), h[0].data(), h[1].data(),
                             h[2].data(), n, unit),
            valid);
  EXPECT_EQ(BoxContainsCount3(l[0].data(), l[1].data(), l[2].data(), h[0].data(), h[1].data(),
                              h[2].data(), n, unit),
            0u);
}

// A large count exercises the per-lane accumulators and their widening sum.
TEST_P(BoxMaskTest, LargeCountIsExact) {
  const size_t n = (size_t{1} << 20) + 5;
  PaddedArray<float> lx(n, 0, 0.0f), ly(n, 0, 0.0f), hx(n, 0, 0.0f), hy(n, 0, 0.0f);
  for (size_t i = 0; i < n; ++i) {
    lx[i] = static_cast<float>(i % 3), hx[i] = lx[i] + 0.5f, ly[i] = 0.0f, hy[i] = 1.0f;
  }
  const Box2T<float> q{-1.0f, 0.5f, 1.0f, 2.0f};  // x-ranges [0,.5], [1,1.5] overlap; [2,2.5] not
  const size_t want = (n / 3) * 2 + std::min<size_t>(n % 3, 2);
  EXPECT_EQ(BoxOverlapCount2(lx.data(), ly.data(), hx.data(), hy.data(), n, q), want);
}

}  // namespace
}  // namespace locus::kernels
