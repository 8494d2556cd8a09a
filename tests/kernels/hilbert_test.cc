// Tests kernels/hilbert.h. Three kinds of evidence:
// (a) the references are the right curves: the textbook rotate-and-flip loop equals a direct
//     transcription of flatbush's routine on full small grids and random 16-bit inputs;
// (b) curve properties no implementation detail can fake: on full 2^k grids (top bits and
//     low corner) keys are a bijection onto [0, 2^(dims k)) and consecutive keys are unit
//     neighbours, in 2D and 3D, through the SIMD kernels on every target;
// (c) SIMD == reference bit for bit on every target, all sizes around the lane count,
//     misaligned inputs, poisoned padding, red-zoned outputs, and quantisation edge cases
//     (zero-width extents, boundary points, NaN, infinities, points outside the extent).
#include "kernels/hilbert.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
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

// flatbush's hilbert(x, y) (mourner/flatbush index.js, itself a port of rawrunprotected's
// hilbert_curves), transcribed step by step with JavaScript's int32 semantics, which agree
// with uint32 here because every intermediate stays below 2^16 until the final interleave.
uint32_t FlatbushHilbert(uint32_t x, uint32_t y) {
  uint32_t a = x ^ y;
  uint32_t b = 0xFFFF ^ a;
  uint32_t c = 0xFFFF ^ (x | y);
  uint32_t d = x & (y ^ 0xFFFF);
  uint32_t A = a | (b >> 1);
  uint32_t B = (a >> 1) ^ a;
  uint32_t C = ((c >> 1) ^ (b & (d >> 1))) ^ c;
  uint32_t D = ((a & (c >> 1)) ^ (d >> 1)) ^ d;
  a = A, b = B, c = C, d = D;
  A = (a & (a >> 2)) ^ (b & (b >> 2));
  B = (a & (b >> 2)) ^ (b & ((a ^ b) >> 2));
  C ^= (a & (c >> 2)) ^ (b & (d >> 2));
  D ^= (b & (c >> 2)) ^ ((a ^ b) & (d >> 2));
  a = A, b = B, c = C, d = D;
  A = (a & (a >> 4)) ^ (b & (b >> 4));
  B = (a & (b >> 4)) ^ (b & ((a ^ b) >> 4));
  C ^= (a & (c >> 4)) ^ (b & (d >> 4));
  D ^= (b & (c >> 4)) ^ ((a ^ b) & (d >> 4));
  a = A, b = B, c = C, d = D;
  C ^= (a & (c >> 8)) ^ (b & (d >> 8));
  D ^= (b & (c >> 8)) ^ ((a ^ b) & (d >> 8));
  a = C ^ (C >> 1);
  b = D ^ (D >> 1);
  uint32_t i0 = x ^ y;
  uint32_t i1 = b | (0xFFFF ^ (i0 | a));
  for (uint32_t* v : {&i0, &i1}) {
    *v = (*v | (*v << 8)) & 0x00FF00FF;
    *v = (*v | (*v << 4)) & 0x0F0F0F0F;
    *v = (*v | (*v << 2)) & 0x33333333;
    *v = (*v | (*v << 1)) & 0x55555555;
  }
  return (i1 << 1) | i0;
}

// flatbush's quantisation of one axis (finish()): `(sx * (centre - min)) | 0` in double, with
// sx = 65535 / (width || 1). Valid for centres inside the extent (flatbush's only case).
uint32_t FlatbushQuantize(double centre, double min, double max) {
  double width = max - min;
  if (width == 0 || std::isnan(width)) width = 1;
  const double sx = 65535.0 / width;
  return static_cast<uint32_t>(static_cast<int32_t>(sx * (centre - min)));
}

// ---- (a) the references are the right curves ----------------------------------------------

TEST(HilbertReferenceTest, TextbookLoopEqualsFlatbushOnFullLowGrid) {
  for (uint32_t x = 0; x < 256; ++x) {
    for (uint32_t y = 0; y < 256; ++y) {
      ASSERT_EQ(reference::HilbertKey2(x, y), FlatbushHilbert(x, y)) << x << "," << y;
    }
  }
}

TEST(HilbertReferenceTest, TextbookLoopEqualsFlatbushOnTopBitGrids) {
  for (int k = 1; k <= 8; ++k) {
    const int shift = 16 - k;
    for (uint32_t i = 0; i < (1u << k); ++i) {
      for (uint32_t j = 0; j < (1u << k); ++j) {
        // The grid cell's corner, and a point inside the cell (low bits all ones).
        const uint32_t x = i << shift, y = j << shift, fill = (1u << shift) - 1;
        ASSERT_EQ(reference::HilbertKey2(x, y), FlatbushHilbert(x, y)) << "k=" << k;
        ASSERT_EQ(reference::HilbertKey2(x | fill, y | fill), FlatbushHilbert(x | fill, y | fill));
      }
    }
  }
}

TEST(HilbertReferenceTest, TextbookLoopEqualsFlatbushOnRandomInputs) {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE(SeedTrace(seed));
  std::mt19937_64 rng(seed);
  for (int i = 0; i < 1'000'000; ++i) {
    const uint32_t x = static_cast<uint32_t>(rng()) & 0xFFFF;
    const uint32_t y = static_cast<uint32_t>(rng()) & 0xFFFF;
    ASSERT_EQ(reference::HilbertKey2(x, y), FlatbushHilbert(x, y)) << x << "," << y;
  }
  // The four corners of the full grid.
  EXPECT_EQ(reference::HilbertKey2(0, 0), 0u);
  EXPECT_EQ(reference::HilbertKey2(0, 0x7FFF), 0x3FFFFFFFu);  // end of the first quarter
  EXPECT_EQ(reference::HilbertKey2(0xFFFF, 0), 0xFFFFFFFFu);  // the curve's end
}

// The orientation, spelled out. The top level visits the half-planes' quadrants
// (low x, low y) -> (low x, high y) -> (high x, high y) -> (high x, low y); orientation
// alternates per level, so at order 16 the first unit steps go along x instead.
TEST(HilbertReferenceTest, Orientation) {
  EXPECT_EQ(reference::HilbertKey2(0, 0), 0u);
  EXPECT_EQ(reference::HilbertKey2(0, 0x8000) >> 30, 1u);
  EXPECT_EQ(reference::HilbertKey2(0x8000, 0x8000) >> 30, 2u);
  EXPECT_EQ(reference::HilbertKey2(0x8000, 0) >> 30, 3u);
  EXPECT_EQ(reference::HilbertKey2(1, 0), 1u);
  EXPECT_EQ(reference::HilbertKey2(1, 1), 2u);
  EXPECT_EQ(reference::HilbertKey2(0, 1), 3u);
  EXPECT_EQ(reference::HilbertKey3(0, 0, 0), 0u);
}

TEST(HilbertReferenceTest, IgnoresBitsAbove16) {
  EXPECT_EQ(reference::HilbertKey2(0x12345u, 0xABCDEF01u),
            reference::HilbertKey2(0x2345u, 0xEF01u));
  EXPECT_EQ(reference::HilbertKey3(0x12345u, 0xFFFF0001u, 0x10000u),
            reference::HilbertKey3(0x2345u, 0x0001u, 0));
}

// ---- (b) curve properties, through the kernels on every target ------------------------------

class HilbertTest : public ::locus::testing::PerTargetTest {};
LOCUS_INSTANTIATE_PER_TARGET(HilbertTest);

// Checks that index[c] (the curve index of cell c, with `dims` coordinates of `bits` bits
// each packed as c = x | y << bits | z << 2 bits) is a bijection onto [0, cells) and that
// cells with consecutive indices differ by one in exactly one coordinate.
void ExpectHilbertWalk(const std::vector<uint64_t>& index, int dims, int bits) {
  const uint64_t cells = index.size();
  std::vector<int64_t> cell_at(cells, -1);
  for (uint64_t c = 0; c < cells; ++c) {
    ASSERT_LT(index[c], cells) << "cell " << c;
    ASSERT_EQ(cell_at[index[c]], -1) << "index " << index[c] << " hit twice";
    cell_at[index[c]] = static_cast<int64_t>(c);
  }
  const uint64_t mask = (uint64_t{1} << bits) - 1;
  for (uint64_t k = 1; k < cells; ++k) {
    const uint64_t a = static_cast<uint64_t>(cell_at[k - 1]), b = static_cast<uint64_t>(cell_at[k]);
    int64_t manhattan = 0;
    for (int axis = 0; axis < dims; ++axis) {
      manhattan += std::llabs(static_cast<int64_t>((a >> (axis * bits)) & mask) -
                              static_cast<int64_t>((b >> (axis * bits)) & mask));
    }
    ASSERT_EQ(manhattan, 1) << "indices " << k - 1 << " -> " << k;
  }
}

// All cells of the 2^k x 2^k grid, at coordinates (i << shift, j << shift).
void GridColumns2(int k, int shift, PaddedArray<uint32_t>* x, PaddedArray<uint32_t>* y) {
  const uint32_t side = 1u << k;
  for (uint32_t c = 0; c < side * side; ++c) {
    (*x)[c] = (c & (side - 1)) << shift;
    (*y)[c] = (c >> k) << shift;
  }
}

TEST_P(HilbertTest, Keys2WalkTheTopBitGrids) {
  for (int k = 1; k <= 8; ++k) {
    SCOPED_TRACE(::testing::Message() << "k=" << k);
    const size_t cells = size_t{1} << (2 * k);
    PaddedArray<uint32_t> x(cells, 0, 0), y(cells, 0, 0);
    GridColumns2(k, 16 - k, &x, &y);
    RedZoneBuffer<uint32_t> keys(cells);
    HilbertKeys2FromInts(x.data(), y.data(), cells, keys.data());
    std::vector<uint64_t> index(cells);
    for (size_t c = 0; c < cells; ++c) index[c] = keys.data()[c] >> (32 - 2 * k);
    ExpectHilbertWalk(index, 2, k);
  }
}

TEST_P(HilbertTest, Keys2WalkTheLowCornerGrid) {
  // The full 256 x 256 grid at 16-bit coordinates 0..255: the curve's first 65536 cells.
  const int k = 8;
  const size_t cells = size_t{1} << (2 * k);
  PaddedArray<uint32_t> x(cells, 0, 0), y(cells, 0, 0);
  GridColumns2(k, 0, &x, &y);
  RedZoneBuffer<uint32_t> keys(cells);
  HilbertKeys2FromInts(x.data(), y.data(), cells, keys.data());
  std::vector<uint64_t> index(keys.data(), keys.data() + cells);
  ExpectHilbertWalk(index, 2, k);
  for (size_t c = 0; c < cells; ++c) ASSERT_EQ(keys.data()[c], FlatbushHilbert(x[c], y[c]));
}

void GridColumns3(int k, int shift, PaddedArray<uint32_t>* x, PaddedArray<uint32_t>* y,
                  PaddedArray<uint32_t>* z) {
  const uint32_t side = 1u << k;
  for (uint32_t c = 0; c < side * side * side; ++c) {
    (*x)[c] = (c & (side - 1)) << shift;
    (*y)[c] = ((c >> k) & (side - 1)) << shift;
    (*z)[c] = (c >> (2 * k)) << shift;
  }
}

TEST_P(HilbertTest, Keys3WalkTheTopBitGrids) {
  for (int k = 1; k <= 5; ++k) {
    SCOPED_TRACE(::testing::Message() << "k=" << k);
    const size_t cells = size_t{1} << (3 * k);
    PaddedArray<uint32_t> x(cells, 0, 0), y(cells, 0, 0), z(cells, 0, 0);
    GridColumns3(k, 16 - k, &x, &y, &z);
    RedZoneBuffer<uint64_t> keys(cells);
    HilbertKeys3FromInts(x.data(), y.data(), z.data(), cells, keys.data());
    std::vector<uint64_t> index(cells);
    for (size_t c = 0; c < cells; ++c) {
      ASSERT_LT(keys.data()[c], uint64_t{1} << 48);
      index[c] = keys.data()[c] >> (48 - 3 * k);
    }
    ExpectHilbertWalk(index, 3, k);
  }
}

TEST_P(HilbertTest, Keys3WalkTheLowCornerGrids) {
  for (int k = 1; k <= 5; ++k) {  // k = 4 is the 4096-cell cube; k = 5 has 32768 cells
    SCOPED_TRACE(::testing::Message() << "k=" << k);
    const size_t cells = size_t{1} << (3 * k);
    PaddedArray<uint32_t> x(cells, 0, 0), y(cells, 0, 0), z(cells, 0, 0);
    GridColumns3(k, 0, &x, &y, &z);
    RedZoneBuffer<uint64_t> keys(cells);
    HilbertKeys3FromInts(x.data(), y.data(), z.data(), cells, keys.data());
    std::vector<uint64_t> index(keys.data(), keys.data() + cells);
    ExpectHilbertWalk(index, 3, k);
  }
}

// ---- (c) SIMD == reference -----------------------------------------------------------------

TEST_P(HilbertTest, FromIntsMatchReference) {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE(SeedTrace(seed));
  std::mt19937_64 rng(seed);
  const size_t lanes = LanesF32();
  for (size_t n : TestSizes(lanes)) {
    for (size_t misalign : kMisalignments) {
      SCOPED_TRACE(::testing::Message() << "n=" << n << " misalign=" << misalign);
      // Poison: padding full of high garbage bits (it must not reach any key).
      PaddedArray<uint32_t> x(n, misalign, 0xDEADBEEFu), y(n, misalign, 0xDEADBEEFu),
          z(n, misalign, 0xDEADBEEFu);
      for (size_t i = 0; i < n; ++i) {
        // Mostly 16-bit values; every eighth row has garbage above bit 15 (masked off).
        const uint32_t mask = (rng() % 8 == 0) ? 0xFFFFFFFFu : 0xFFFFu;
        x[i] = static_cast<uint32_t>(rng()) & mask;
        y[i] = static_cast<uint32_t>(rng()) & mask;
        z[i] = static_cast<uint32_t>(rng()) & mask;
      }
      RedZoneBuffer<uint32_t> got2(n), want2(n);
      reference::HilbertKeys2FromInts(x.data(), y.data(), n, want2.data());
      HilbertKeys2FromInts(x.data(), y.data(), n, got2.data());
      EXPECT_EQ(got2.Prefix(n), want2.Prefix(n));
      EXPECT_TRUE(got2.RedZonesIntact());

      RedZoneBuffer<uint64_t> got3(n), want3(n);
      reference::HilbertKeys3FromInts(x.data(), y.data(), z.data(), n, want3.data());
      HilbertKeys3FromInts(x.data(), y.data(), z.data(), n, got3.data());
      EXPECT_EQ(got3.Prefix(n), want3.Prefix(n));
      EXPECT_TRUE(got3.RedZonesIntact());
    }
  }
}

// Centres spread over and a little beyond the extent, with exact boundary values, NaN and
// infinities sprinkled in.
template <typename T>
void FillCentres(PaddedArray<T>* c, size_t n, T min, T max, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(-0.1, 1.1);
  std::uniform_int_distribution<int> pick(0, 15);
  for (size_t i = 0; i < n; ++i) {
    T v = static_cast<T>(static_cast<double>(min) + u(rng) * static_cast<double>(max - min));
    switch (pick(rng)) {
      case 0:
        v = min;
        break;
      case 1:
        v = max;
        break;
      case 2:
        v = std::numeric_limits<T>::quiet_NaN();
        break;
      case 3:
        v = (rng() & 1) ? std::numeric_limits<T>::infinity() : -std::numeric_limits<T>::infinity();
        break;
      default:
        break;
    }
    (*c)[i] = v;
  }
}

template <typename T>
void CheckQuantisedMatchReference(size_t lanes) {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE(SeedTrace(seed));
  std::mt19937_64 rng(seed);
  const Box3T<T> extents[] = {
      {T(-180), T(-90), T(-1), T(180), T(90), T(1)},     // lon/lat-like
      {T(0.1), T(1000), T(3), T(0.7), T(1000.5), T(3)},  // z has zero width
      {T(-1e6), T(-3.5), T(0), T(2e6), T(1e-3), T(1e-30)},
  };
  for (const Box3T<T>& e : extents) {
    const Box2T<T> e2{e.min_x, e.min_y, e.max_x, e.max_y};
    for (size_t n : TestSizes(lanes)) {
      for (size_t misalign : kMisalignments) {
        SCOPED_TRACE(::testing::Message()
                     << "n=" << n << " misalign=" << misalign << " extent.min_x=" << e.min_x);
        const T poison = std::numeric_limits<T>::quiet_NaN();
        PaddedArray<T> x(n, misalign, poison), y(n, misalign, poison), z(n, misalign, poison);
        FillCentres(&x, n, e.min_x, e.max_x, rng);
        FillCentres(&y, n, e.min_y, e.max_y, rng);
        FillCentres(&z, n, e.min_z, e.max_z, rng);

        RedZoneBuffer<uint32_t> got2(n), want2(n);
        reference::HilbertKeys2(x.data(), y.data(), n, e2, want2.data());
        HilbertKeys2(x.data(), y.data(), n, e2, got2.data());
        EXPECT_EQ(got2.Prefix(n), want2.Prefix(n));
        EXPECT_TRUE(got2.RedZonesIntact());

        RedZoneBuffer<uint64_t> got3(n), want3(n);
        reference::HilbertKeys3(x.data(), y.data(), z.data(), n, e, want3.data());
        HilbertKeys3(x.data(), y.data(), z.data(), n, e, got3.data());
        EXPECT_EQ(got3.Prefix(n), want3.Prefix(n));
        EXPECT_TRUE(got3.RedZonesIntact());
      }
    }
  }
}

TEST_P(HilbertTest, QuantisedF32MatchReference) { CheckQuantisedMatchReference<float>(LanesF32()); }
TEST_P(HilbertTest, QuantisedF64MatchReference) {
  CheckQuantisedMatchReference<double>(LanesF32());
}

// Quantisation edge cases with the expected quantised coordinates written out. Each case is
// keyed through the kernel in a batch long enough to cover a full vector and a tail.
template <typename T>
void CheckQuantisationEdges() {
  const T nan = std::numeric_limits<T>::quiet_NaN();
  const T inf = std::numeric_limits<T>::infinity();
  struct Case {
    T c;
    T min, max;
    uint32_t want;
  };
  const Case cases[] = {
      // scale 1: the centre is its own quantised coordinate, truncated.
      {T(0), T(0), T(65535), 0},
      {T(65535), T(0), T(65535), 65535},  // on the max boundary
      {T(100.75), T(0), T(65535), 100},
      {T(-0.5), T(0), T(65535), 0},       // below the extent
      {T(70000), T(0), T(65535), 65535},  // above the extent
      {nan, T(0), T(65535), 0},           // NaN -> 0
      {inf, T(0), T(65535), 65535},
      {-inf, T(0), T(65535), 0},
      // zero width: flatbush's `|| 1`, so scale 65535 around min.
      {T(5), T(5), T(5), 0},
      {T(5.5), T(5), T(5), 32767},
      {T(6), T(5), T(5), 65535},
      {T(4), T(5), T(5), 0},
      // the min boundary of an arbitrary extent is always 0; max is 65535 here.
      {T(-3), T(-3), T(5), 0},
      {T(5), T(-3), T(5), 65535},
      {T(1), T(-3), T(5), 32767},  // the middle: 0.5 * 65535 = 32767.5
  };
  const size_t n = 40;
  for (const Case& k : cases) {
    SCOPED_TRACE(::testing::Message()
                 << "c=" << k.c << " extent=[" << k.min << ", " << k.max << "]");
    const T scale = HilbertScale(k.min, k.max);
    EXPECT_EQ(reference::HilbertQuantize(k.c, k.min, scale), k.want);
    PaddedArray<T> x(n, 1, T(0)), y(n, 1, T(0)), z(n, 1, T(0));
    for (size_t i = 0; i < n; ++i) x[i] = y[i] = z[i] = k.c;
    const Box2T<T> e2{k.min, k.min, k.max, k.max};
    const Box3T<T> e3{k.min, k.min, k.min, k.max, k.max, k.max};
    RedZoneBuffer<uint32_t> keys2(n);
    RedZoneBuffer<uint64_t> keys3(n);
    HilbertKeys2(x.data(), y.data(), n, e2, keys2.data());
    HilbertKeys3(x.data(), y.data(), z.data(), n, e3, keys3.data());
    for (size_t i = 0; i < n; ++i) {
      ASSERT_EQ(keys2.data()[i], reference::HilbertKey2(k.want, k.want)) << "i=" << i;
      ASSERT_EQ(keys3.data()[i], reference::HilbertKey3(k.want, k.want, k.want)) << "i=" << i;
    }
  }
}

TEST_P(HilbertTest, QuantisationEdgeCasesF32) { CheckQuantisationEdges<float>(); }
TEST_P(HilbertTest, QuantisationEdgeCasesF64) { CheckQuantisationEdges<double>(); }

// With double centres and the data's own extent, the keys are flatbush's keys bit for bit:
// boxes (min, max) as flatbush receives them, centre (min + max) / 2 as flatbush computes it.
TEST_P(HilbertTest, F64KeysEqualFlatbushOnItsOwnExtent) {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE(SeedTrace(seed));
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(-1000.0, 1000.0), size(0.0, 5.0);
  const size_t n = 5003;
  PaddedArray<double> cx(n, 0, 0.0), cy(n, 0, 0.0);
  std::vector<double> min_x(n), min_y(n), max_x(n), max_y(n);
  Box2T<double> extent{
      std::numeric_limits<double>::infinity(), std::numeric_limits<double>::infinity(),
      -std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity()};
  for (size_t i = 0; i < n; ++i) {
    min_x[i] = u(rng), min_y[i] = u(rng) * 0.01;  // a wide, flat extent
    max_x[i] = min_x[i] + size(rng), max_y[i] = min_y[i] + size(rng) * 0.01;
    cx[i] = (min_x[i] + max_x[i]) / 2;
    cy[i] = (min_y[i] + max_y[i]) / 2;
    extent.min_x = std::min(extent.min_x, min_x[i]);
    extent.min_y = std::min(extent.min_y, min_y[i]);
    extent.max_x = std::max(extent.max_x, max_x[i]);
    extent.max_y = std::max(extent.max_y, max_y[i]);
  }
  RedZoneBuffer<uint32_t> keys(n);
  HilbertKeys2(cx.data(), cy.data(), n, extent, keys.data());
  for (size_t i = 0; i < n; ++i) {
    const uint32_t qx = FlatbushQuantize(cx[i], extent.min_x, extent.max_x);
    const uint32_t qy = FlatbushQuantize(cy[i], extent.min_y, extent.max_y);
    ASSERT_EQ(keys.data()[i], FlatbushHilbert(qx, qy)) << "i=" << i;
  }
}

}  // namespace
}  // namespace locus::kernels
