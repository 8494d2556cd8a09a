// Tests kernels/ray.h (slab test of a ray against SoA boxes) on every compiled target against
// the scalar references, bit for bit: all sizes around the lane count and every bit-word
// boundary, misaligned starts, poisoned padding, red zones, seeded boxes (uniform, clustered,
// duplicates) with NaN, crossed, zero-size, infinite and sentinel boxes, rays with every
// combination of zero direction components (+0, -0, subnormal), rays starting inside boxes,
// hitting exactly at t_max, grazing faces, edges and corners, closest-hit ties, invalid rays.
// The reference itself is checked in f64 against exact interval arithmetic on dyadic inputs
// (where every floating-point step is exact) and by sampling points along the ray.
#include "kernels/ray.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
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

class RayTest : public ::locus::testing::PerTargetTest {};
LOCUS_INSTANTIATE_PER_TARGET(RayTest);

template <typename T>
constexpr T kInf = std::numeric_limits<T>::infinity();
template <typename T>
constexpr T kNaN = std::numeric_limits<T>::quiet_NaN();

template <typename T>
bool SameBits(T a, T b) {
  return std::memcmp(&a, &b, sizeof(T)) == 0;
}

enum class Layout { kUniform, kClustered, kDuplicates };

// SoA boxes lo[a], hi[a], a < 3. The padding is poisoned with the box [-1000, 1000]^3, which
// every ray used here hits.
template <typename T>
struct Boxes {
  std::vector<PaddedArray<T>> lo, hi;
  size_t n;
  Boxes(size_t n_in, size_t misalign) : n(n_in) {
    for (int a = 0; a < 3; ++a) {
      lo.emplace_back(n, misalign, T(-1000));
      hi.emplace_back(n, misalign, T(1000));
    }
  }
};

// Seeded boxes on a half-unit grid in [0, 20], with about one in nine special.
template <typename T>
Boxes<T> MakeBoxes(size_t n, size_t misalign, Layout layout, std::mt19937_64& rng) {
  Boxes<T> b(n, misalign);
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
    const int k = dup(rng);
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
        default:
          lo = dup_lo[k][a];
          hi = dup_hi[k][a];
      }
      b.lo[a][i] = lo;
      b.hi[a][i] = hi;
    }
    const int s = special(rng), a = axis(rng);
    if (s == 0) {
      for (int j = 0; j < 3; ++j) b.lo[j][i] = kInf<T>, b.hi[j][i] = -kInf<T>;
    } else if (s == 1) {
      b.lo[a][i] = kNaN<T>;
    } else if (s == 2) {
      b.hi[a][i] = kNaN<T>;
    } else if (s == 3) {
      b.lo[a][i] = b.hi[a][i] + T(1);
    } else if (s == 4) {
      b.lo[a][i] = -kInf<T>, b.hi[a][i] = kInf<T>;
    } else if (s == 5) {
      b.hi[a][i] = b.lo[a][i];
    } else if (s == 6) {
      b.lo[a][i] = kInf<T>, b.hi[a][i] = -kInf<T>;
    } else if (s == 7) {  // NaN on both ends
      b.lo[a][i] = kNaN<T>, b.hi[a][i] = kNaN<T>;
    }
  }
  return b;
}

// Rays: origins on and off the grid (inside boxes, on faces), directions with every pattern
// of zero components (+0, -0 and a subnormal whose reciprocal overflows), dyadic and generic
// directions, finite and infinite t ranges, t_min = -inf, and invalid rays.
template <typename T>
std::vector<Ray3T<T>> Rays(std::mt19937_64& rng) {
  std::vector<Ray3T<T>> rays;
  const T tiny = std::numeric_limits<T>::denorm_min();
  const T zeros[] = {T(0), -T(0), tiny};
  std::uniform_int_distribution<int> grid(-4, 44);
  std::uniform_real_distribution<double> dir(-1, 1);
  for (int pattern = 0; pattern < 8; ++pattern) {  // bit a: axis a has a zero component
    for (int rep = 0; rep < 3; ++rep) {
      Ray3T<T> r;
      r.ox = T(grid(rng)) * T(0.5), r.oy = T(grid(rng)) * T(0.5), r.oz = T(grid(rng)) * T(0.5);
      T* d[3] = {&r.dx, &r.dy, &r.dz};
      for (int a = 0; a < 3; ++a) {
        if (pattern & (1 << a)) {
          *d[a] = zeros[(rep + a) % 3];
        } else if (rep == 0) {
          *d[a] = T(1 << (a + 1)) * (a % 2 ? T(-0.25) : T(0.25));  // dyadic
        } else {
          *d[a] = static_cast<T>(dir(rng));
        }
      }
      r.t_min = 0;
      r.t_max = rep == 2 ? T(7.5) : kInf<T>;
      rays.push_back(r);
    }
  }
  // Along the diagonal through grid corners (grazes many edges and corners exactly).
  rays.push_back({T(0), T(0), T(0), T(1), T(1), T(1), T(0), kInf<T>});
  rays.push_back({T(20), T(0), T(10), T(-1), T(1), T(0), T(-kInf<T>), kInf<T>});
  rays.push_back({T(10), T(10), T(10), T(0.5), T(-0.5), T(0.25), T(-3), T(4)});
  rays.push_back({T(8.5), T(4), T(10), T(0), T(0), T(0), T(0), T(1)});  // a point
  rays.push_back({T(5), T(5), T(5), T(1), T(0), T(0), T(3), T(2)});      // t_min > t_max
  rays.push_back({kNaN<T>, T(5), T(5), T(1), T(0), T(0), T(0), T(2)});   // invalid
  rays.push_back({T(5), T(5), T(5), kInf<T>, T(0), T(0), T(0), T(2)});   // invalid
  rays.push_back({T(5), T(5), T(5), T(1), T(1), T(0), kNaN<T>, T(2)});   // invalid
  return rays;
}

template <typename T>
Ray2T<T> To2(const Ray3T<T>& r) {
  return {r.ox, r.oy, r.dx, r.dy, r.t_min, r.t_max};
}

template <typename T, int kDims>
struct Runner {
  const Boxes<T>& b;
  const T* l(int a) const { return b.lo[a].data(); }
  const T* h(int a) const { return b.hi[a].data(); }

  size_t Hits(bool ref, const Ray3T<T>& r, uint32_t base, uint32_t* ids, T* t) const {
    if constexpr (kDims == 2) {
      return ref ? reference::RayHits2(l(0), l(1), h(0), h(1), b.n, To2(r), base, ids, t)
                 : RayHits2(l(0), l(1), h(0), h(1), b.n, To2(r), base, ids, t);
    } else {
      return ref ? reference::RayHits3(l(0), l(1), l(2), h(0), h(1), h(2), b.n, r, base, ids, t)
                 : RayHits3(l(0), l(1), l(2), h(0), h(1), h(2), b.n, r, base, ids, t);
    }
  }
  void Mask(bool ref, const Ray3T<T>& r, uint64_t* bits, T* t) const {
    if constexpr (kDims == 2) {
      ref ? reference::RayHitMask2(l(0), l(1), h(0), h(1), b.n, To2(r), bits, t)
          : RayHitMask2(l(0), l(1), h(0), h(1), b.n, To2(r), bits, t);
    } else {
      ref ? reference::RayHitMask3(l(0), l(1), l(2), h(0), h(1), h(2), b.n, r, bits, t)
          : RayHitMask3(l(0), l(1), l(2), h(0), h(1), h(2), b.n, r, bits, t);
    }
  }
  bool Closest(bool ref, const Ray3T<T>& r, uint32_t base, uint32_t* id, T* t) const {
    if constexpr (kDims == 2) {
      return ref ? reference::RayClosest2(l(0), l(1), h(0), h(1), b.n, To2(r), base, id, t)
                 : RayClosest2(l(0), l(1), h(0), h(1), b.n, To2(r), base, id, t);
    } else {
      return ref ? reference::RayClosest3(l(0), l(1), l(2), h(0), h(1), h(2), b.n, r, base, id, t)
                 : RayClosest3(l(0), l(1), l(2), h(0), h(1), h(2), b.n, r, base, id, t);
    }
  }

  void Check(const Ray3T<T>& r) const {
    const size_t n = b.n;
    SCOPED_TRACE(::testing::Message() << "dims=" << kDims << " ray o=(" << r.ox << "," << r.oy
                                      << "," << r.oz << ") d=(" << r.dx << "," << r.dy << ","
                                      << r.dz << ") t=[" << r.t_min << "," << r.t_max << "]");
    const uint32_t base = 1000;
    // All hits, with and without entry t.
    RedZoneBuffer<uint32_t> got(n), want(n + 1);
    RedZoneBuffer<T> got_t(n), want_t(n + 1);
    const size_t w = Hits(true, r, base, want.data(), want_t.data());
    size_t g = Hits(false, r, base, got.data(), got_t.data());
    ASSERT_EQ(g, w);
    EXPECT_EQ(got.Prefix(g), want.Prefix(w));
    for (size_t k = 0; k < w; ++k) {
      ASSERT_TRUE(SameBits(got_t.data()[k], want_t.data()[k]))
          << "id " << want.data()[k] << ": " << got_t.data()[k] << " vs " << want_t.data()[k];
    }
    EXPECT_TRUE(got.RedZonesIntact());
    EXPECT_TRUE(got_t.RedZonesIntact());
    g = Hits(false, r, base, got.data(), nullptr);
    ASSERT_EQ(g, w);
    EXPECT_EQ(got.Prefix(g), want.Prefix(w));

    // Hit mask with entry t per box.
    const size_t words = (n + 63) / 64;
    RedZoneBuffer<uint64_t> got_bits(words), want_bits(words);
    RedZoneBuffer<T> got_entry(n), want_entry(n);
    Mask(true, r, want_bits.data(), want_entry.data());
    Mask(false, r, got_bits.data(), got_entry.data());
    EXPECT_EQ(got_bits.Prefix(words), want_bits.Prefix(words));
    EXPECT_TRUE(got_bits.RedZonesIntact());
    EXPECT_TRUE(got_entry.RedZonesIntact());
    size_t k = 0;
    for (size_t i = 0; i < n; ++i) {
      if (!((want_bits.data()[i / 64] >> (i % 64)) & 1)) continue;
      ASSERT_TRUE(SameBits(got_entry.data()[i], want_entry.data()[i])) << "row " << i;
      // Bits and ids agree, and so do the two entry-t outputs.
      ASSERT_LT(k, w);
      ASSERT_EQ(want.data()[k], base + i);
      ASSERT_TRUE(SameBits(want_t.data()[k], want_entry.data()[i]));
      ++k;
    }
    EXPECT_EQ(k, w);
    Mask(false, r, got_bits.data(), nullptr);
    EXPECT_EQ(got_bits.Prefix(words), want_bits.Prefix(words));

    // Closest hit, and the brute-force closest from the hit list.
    uint32_t got_id = 7, want_id = 7;
    T got_ct = T(-1), want_ct = T(-1);
    const bool want_found = Closest(true, r, base, &want_id, &want_ct);
    const bool got_found = Closest(false, r, base, &got_id, &got_ct);
    ASSERT_EQ(got_found, want_found);
    ASSERT_EQ(want_found, w > 0);
    EXPECT_EQ(got_id, want_id);
    EXPECT_TRUE(SameBits(got_ct, want_ct)) << got_ct << " vs " << want_ct;
    if (w > 0) {
      size_t best = 0;
      for (size_t j = 1; j < w; ++j) {
        if (want_t.data()[j] < want_t.data()[best]) best = j;
      }
      EXPECT_EQ(want_id, want.data()[best]);
      EXPECT_TRUE(SameBits(want_ct, want_t.data()[best]));
    }
  }
};

template <typename T>
void CheckAgainstReference(size_t lanes) {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE(SeedTrace(seed));
  std::mt19937_64 rng(seed);
  const std::vector<Ray3T<T>> rays = Rays<T>(rng);
  std::vector<size_t> sizes = TestSizes(lanes);
  for (size_t n : {size_t{16}, size_t{64}, size_t{65}, size_t{129}}) sizes.push_back(n);
  for (size_t n : sizes) {
    for (size_t misalign : kMisalignments) {
      for (Layout layout : {Layout::kUniform, Layout::kClustered, Layout::kDuplicates}) {
        SCOPED_TRACE(::testing::Message() << "n=" << n << " misalign=" << misalign
                                          << " layout=" << static_cast<int>(layout));
        const Boxes<T> b = MakeBoxes<T>(n, misalign, layout, rng);
        for (const Ray3T<T>& r : rays) {
          Runner<T, 2>{b}.Check(r);
          Runner<T, 3>{b}.Check(r);
          if (::testing::Test::HasFatalFailure()) return;
        }
      }
    }
  }
}

TEST_P(RayTest, MatchesReferenceF32) { CheckAgainstReference<float>(LanesF32()); }
TEST_P(RayTest, MatchesReferenceF64) { CheckAgainstReference<double>(LanesF64()); }

// ---- named cases (2D, f32, box [0, 10] x [0, 10] unless stated) ---------------------------

struct Hit {
  bool hit;
  float t;
};
Hit HitOne(float lx, float ly, float hx, float hy, const Ray2T<float>& r) {
  PaddedArray<float> a(1, 1, 0.0f), b(1, 1, 0.0f), c(1, 1, 0.0f), d(1, 1, 0.0f);
  a[0] = lx, b[0] = ly, c[0] = hx, d[0] = hy;
  uint64_t bits = 0;
  float t = -123.0f;
  RayHitMask2(a.data(), b.data(), c.data(), d.data(), 1, r, &bits, &t);
  float want_t = -123.0f;
  const bool want = reference::RayHitsBox2(lx, ly, hx, hy, r, &want_t);
  EXPECT_EQ(bits != 0, want);
  if (want) {
    EXPECT_TRUE(SameBits(t, want_t)) << t << " vs " << want_t;
  }
  return {bits != 0, t};
}

TEST_P(RayTest, AxisParallelRaysAreExact) {
  const float ulp_above_10 = std::nextafter(10.0f, 11.0f);
  // Along +x at y on the top face (grazing): hit, entering at x = 0 -> t = 5.
  Hit h = HitOne(0, 0, 10, 10, {-5, 10, 1, 0});
  EXPECT_TRUE(h.hit);
  EXPECT_EQ(h.t, 5.0f);
  // One ulp above the face: miss.
  EXPECT_FALSE(HitOne(0, 0, 10, 10, {-5, ulp_above_10, 1, 0}).hit);
  // Direction -0 in y behaves like +0.
  h = HitOne(0, 0, 10, 10, {15, 3, -2, -0.0f});
  EXPECT_TRUE(h.hit);
  EXPECT_EQ(h.t, 2.5f);
  // A subnormal y component whose reciprocal overflows is parallel too (no inf * 0).
  const float tiny = std::numeric_limits<float>::denorm_min();
  h = HitOne(0, 0, 10, 10, {-5, 0, 1, tiny});
  EXPECT_TRUE(h.hit);
  EXPECT_EQ(h.t, 5.0f);
  // Along -y, x inside the slab; and x outside it.
  EXPECT_TRUE(HitOne(0, 0, 10, 10, {0, 20, 0, -1}).hit);
  EXPECT_FALSE(HitOne(0, 0, 10, 10, {-0.5f, 20, 0, -1}).hit);
  // Origin on a face of a box of zero width, moving along it.
  h = HitOne(4, 0, 4, 10, {4, -3, 0, 1});
  EXPECT_TRUE(h.hit);
  EXPECT_EQ(h.t, 3.0f);
  // Zero direction: a point query.
  EXPECT_TRUE(HitOne(0, 0, 10, 10, {10, 0, 0, 0, 0, 1}).hit);
  EXPECT_FALSE(HitOne(0, 0, 10, 10, {10.5f, 0, 0, 0, 0, 1}).hit);
}

TEST_P(RayTest, InclusiveBoundsAndEntryT) {
  // Starting inside: entry t is t_min.
  Hit h = HitOne(0, 0, 10, 10, {5, 5, 1, 2, 0.25f, 100});
  EXPECT_TRUE(h.hit);
  EXPECT_EQ(h.t, 0.25f);
  // Starting on a face and leaving through it in the negative direction: t = +0, not -0.
  h = HitOne(0, 0, 10, 10, {0, 5, -1, 0.5f});
  EXPECT_TRUE(h.hit);
  EXPECT_TRUE(SameBits(h.t, 0.0f));
  // Reaching the box exactly at t_max: hit; one ulp short: miss.
  h = HitOne(0, 0, 10, 10, {-4, 5, 2, 0, 0, 2});
  EXPECT_TRUE(h.hit);
  EXPECT_EQ(h.t, 2.0f);
  EXPECT_FALSE(HitOne(0, 0, 10, 10, {-4, 5, 2, 0, 0, std::nextafter(2.0f, 0.0f)}).hit);
  // Box entirely behind the origin: miss; with t_min = -inf: hit at the far side's entry.
  EXPECT_FALSE(HitOne(0, 0, 10, 10, {20, 5, 1, 0}).hit);
  h = HitOne(0, 0, 10, 10, {20, 5, 1, 0, -std::numeric_limits<float>::infinity(), 0});
  EXPECT_TRUE(h.hit);
  EXPECT_EQ(h.t, -20.0f);
  // Grazing the corner (10, 0) along the diagonal: hit with entry == exit.
  h = HitOne(0, 0, 10, 10, {5, -5, 1, 1});
  EXPECT_TRUE(h.hit);
  EXPECT_EQ(h.t, 5.0f);
  // Missing that corner by a hair: miss.
  EXPECT_FALSE(HitOne(0, 0, 10, 10, {5.0f, std::nextafter(-5.0f, -6.0f), 1, 1}).hit);
  // A zero-size box on the ray.
  h = HitOne(3, 3, 3, 3, {0, 0, 1, 1});
  EXPECT_TRUE(h.hit);
  EXPECT_EQ(h.t, 3.0f);
}

TEST_P(RayTest, InvalidBoxesNeverHit) {
  const float inf = kInf<float>, nan = kNaN<float>;
  // Rays that pass through everything: along an axis and diagonal, infinite range both ways.
  const Ray2T<float> rays[] = {{0, 0, 1, 0, -inf, inf}, {0, 0, 1, 1, -inf, inf},
                               {0, 0, 0, 0, -inf, inf}};
  for (const auto& r : rays) {
    EXPECT_FALSE(HitOne(inf, inf, -inf, -inf, r).hit) << "sentinel";
    EXPECT_FALSE(HitOne(inf, -1, -inf, 1, r).hit) << "sentinel on x";
    EXPECT_FALSE(HitOne(nan, -1, 1, 1, r).hit) << "NaN";
    EXPECT_FALSE(HitOne(-1, -1, 1, nan, r).hit) << "NaN";
    EXPECT_FALSE(HitOne(1, -1, -1, 1, r).hit) << "crossed";
    EXPECT_FALSE(HitOne(-1, 1, 1, -1, r).hit) << "crossed";
    EXPECT_TRUE(HitOne(-inf, -inf, inf, inf, r).hit) << "everything";
  }
}

// Ties on entry t go to the smaller id, within a vector and across vectors.
TEST_P(RayTest, ClosestTiesGoToSmallerId) {
  for (size_t lanes : {LanesF32(), LanesF64()}) {
    const size_t n = 3 * lanes + 3;
    for (size_t misalign : kMisalignments) {
      Boxes<double> b(n, misalign);
      for (size_t i = 0; i < n; ++i) {  // all far away: entry t = 9
        b.lo[0][i] = 9, b.hi[0][i] = 10, b.lo[1][i] = -1, b.hi[1][i] = 1;
        b.lo[2][i] = -1, b.hi[2][i] = 1;
      }
      // Two nearer boxes with equal entry t = 2 at rows first < second, in different vectors.
      const size_t first = lanes + 1, second = 2 * lanes + 2;
      b.lo[0][second] = 2, b.lo[0][first] = 2;
      Runner<double, 3> run{b};
      const Ray3T<double> r{0, 0, 0, 1, 0, 0, 0, kInf<double>};
      uint32_t id = 0;
      double t = 0;
      ASSERT_TRUE(RayClosest3(run.l(0), run.l(1), run.l(2), run.h(0), run.h(1), run.h(2), n, r,
                              100, &id, &t));
      EXPECT_EQ(id, 100 + first);
      EXPECT_EQ(t, 2.0);
      // All identical: the first row wins.
      b.lo[0][first] = b.lo[0][second] = 9;
      ASSERT_TRUE(RayClosest3(run.l(0), run.l(1), run.l(2), run.h(0), run.h(1), run.h(2), n, r,
                              100, &id, &t));
      EXPECT_EQ(id, 100u);
      EXPECT_EQ(t, 9.0);
      // Starting inside several boxes: they all report t_min; the first wins over a later one.
      b.lo[0][3] = -1, b.lo[0][n - 1] = -1;
      ASSERT_TRUE(RayClosest3(run.l(0), run.l(1), run.l(2), run.h(0), run.h(1), run.h(2), n, r,
                              100, &id, &t));
      EXPECT_EQ(id, 103u);
      EXPECT_TRUE(SameBits(t, 0.0));
    }
  }
}

// ---- the reference against exact arithmetic ------------------------------------------------

// Exact slab intervals, computed differently: with dyadic inputs (small integers and halves,
// directions +-2^k) every quotient (bound - o) / d is exact in double, so the interval
// intersection below is exact and the reference must agree bit for bit. The parallel case is
// decided by the sign of d alone.
struct Exact {
  bool hit;
  double entry;
};
Exact ExactSlab3(const double lo[3], const double hi[3], const double o[3], const double d[3],
                 double t_min, double t_max) {
  double enter = t_min, leave = t_max;
  for (int a = 0; a < 3; ++a) {
    if (!(lo[a] <= hi[a])) return {false, 0};
    if (d[a] == 0) {
      if (o[a] < lo[a] || o[a] > hi[a]) return {false, 0};
      continue;
    }
    double ta = (lo[a] - o[a]) / d[a], tb = (hi[a] - o[a]) / d[a];
    if (ta > tb) std::swap(ta, tb);
    enter = std::max(enter, ta);
    leave = std::min(leave, tb);
  }
  return {enter <= leave, enter + 0.0};
}

TEST_P(RayTest, ReferenceMatchesExactSlabsOnDyadicInputs) {
  const uint64_t seed = TestSeed() + 2;
  SCOPED_TRACE(SeedTrace(seed));
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> coord(-16, 16), pick(0, 8), ext(0, 6), tpick(0, 3);
  const double dirs[] = {0, 0.5, -0.5, 1, -1, 2, -2, 0.25, -4};
  const size_t n = 257;
  Boxes<double> b(n, 1);
  for (int trial = 0; trial < 200; ++trial) {
    for (size_t i = 0; i < n; ++i) {
      for (int a = 0; a < 3; ++a) {
        b.lo[a][i] = coord(rng) * 0.5;
        b.hi[a][i] = b.lo[a][i] + ext(rng) * 0.5;
      }
    }
    const double o[3] = {coord(rng) * 0.5, coord(rng) * 0.5, coord(rng) * 0.5};
    const double d[3] = {dirs[pick(rng)], dirs[pick(rng)], dirs[pick(rng)]};
    const double t_mins[] = {0, -kInf<double>, 1.5, 0.5};
    const double t_maxs[] = {kInf<double>, 4, 2.5, 8};
    const Ray3T<double> r{o[0], o[1], o[2], d[0], d[1], d[2], t_mins[tpick(rng)],
                          t_maxs[tpick(rng)]};
    // Also run the kernel, so every target sees these exact-contact cases.
    Runner<double, 3>{b}.Check(r);
    for (size_t i = 0; i < n; ++i) {
      const double lo[3] = {b.lo[0][i], b.lo[1][i], b.lo[2][i]};
      const double hi[3] = {b.hi[0][i], b.hi[1][i], b.hi[2][i]};
      const Exact want = ExactSlab3(lo, hi, o, d, r.t_min, r.t_max);
      double t = -1;
      const bool got = reference::RayHitsBox3(lo[0], lo[1], lo[2], hi[0], hi[1], hi[2], r, &t);
      ASSERT_EQ(got, want.hit) << "trial " << trial << " box " << i;
      if (!got) continue;
      ASSERT_TRUE(SameBits(t, want.entry)) << t << " vs " << want.entry;
      // The entry point lies in the closed box (exact: all values are dyadic and small).
      if (std::isfinite(t)) {
        for (int a = 0; a < 3; ++a) {
          const double p = o[a] + t * d[a];
          ASSERT_LE(lo[a], p) << "axis " << a;
          ASSERT_LE(p, hi[a]) << "axis " << a;
        }
      }
    }
    if (HasFatalFailure()) return;
  }
}

// Generic (non-dyadic) directions: the reference must agree with a long-double evaluation of
// the slab intervals wherever the decision is not within rounding of a tie, and a miss must
// not contain any sampled point of the segment.
TEST_P(RayTest, ReferenceAgreesWithLongDoubleAndSampling) {
  const uint64_t seed = TestSeed() + 3;
  SCOPED_TRACE(SeedTrace(seed));
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(-10, 10), dir(-1, 1), ext(0, 4);
  int decided = 0;
  for (int trial = 0; trial < 20000; ++trial) {
    double lo[3], hi[3], o[3], d[3];
    for (int a = 0; a < 3; ++a) {
      lo[a] = u(rng), hi[a] = lo[a] + ext(rng), o[a] = u(rng), d[a] = dir(rng);
    }
    if (trial % 7 == 0) d[trial % 3] = 0;
    const Ray3T<double> r{o[0], o[1], o[2], d[0], d[1], d[2], 0, 30};
    long double enter = 0, leave = 30;
    bool parallel_miss = false;
    for (int a = 0; a < 3; ++a) {
      if (d[a] == 0) {
        parallel_miss |= o[a] < lo[a] || o[a] > hi[a];
        continue;
      }
      long double ta = ((long double)lo[a] - o[a]) / d[a], tb = ((long double)hi[a] - o[a]) / d[a];
      if (ta > tb) std::swap(ta, tb);
      enter = std::max(enter, ta);
      leave = std::min(leave, tb);
    }
    double t = 0;
    const bool got = reference::RayHitsBox3(lo[0], lo[1], lo[2], hi[0], hi[1], hi[2], r, &t);
    if (parallel_miss) {
      ASSERT_FALSE(got);
      ++decided;
      continue;
    }
    const long double margin = 1e-9L * (1 + std::fabs(enter) + std::fabs(leave));
    if (enter + margin < leave) {
      ASSERT_TRUE(got) << "trial " << trial;
      EXPECT_NEAR(t, static_cast<double>(enter), 1e-9 * (1 + std::fabs(t)));
      ++decided;
    } else if (enter > leave + margin) {
      ASSERT_FALSE(got) << "trial " << trial;
      ++decided;
      for (int s = 0; s <= 64; ++s) {  // no sampled point of the segment is in the box
        const double ts = 30.0 * s / 64;
        bool inside = true;
        for (int a = 0; a < 3; ++a) {
          const double p = o[a] + ts * d[a];
          inside &= lo[a] <= p && p <= hi[a];
        }
        ASSERT_FALSE(inside) << "trial " << trial << " sample t=" << ts;
      }
    }
  }
  EXPECT_GT(decided, 19900);  // the margin leaves almost every case decided
}

}  // namespace
}  // namespace locus::kernels
