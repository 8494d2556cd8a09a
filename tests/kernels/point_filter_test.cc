// Tests kernels/point_filter.h (box, radius and row filters) on every compiled target
// against the scalar references: all sizes around the lane count, misaligned starts,
// poisoned padding, red zones around outputs, boundary points, NaN rows, row filters.
#include "kernels/point_filter.h"

#include <gtest/gtest.h>

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

class PointFilterTest : public ::locus::testing::PerTargetTest {};
LOCUS_INSTANTIATE_PER_TARGET(PointFilterTest);

// Seeded points on a coarse grid (so many land exactly on query boundaries), with a few
// NaN coordinates sprinkled in, plus time and expiry columns.
template <typename T>
struct Data {
  PaddedArray<T> x, y, z;
  PaddedArray<int64_t> t, expires;
  Data(size_t n, size_t misalign, std::mt19937_64& rng, T poison)
      : x(n, misalign, poison), y(n, misalign, poison), z(n, misalign, poison),
        t(n, misalign, 50), expires(n, misalign, 1000) {
    std::uniform_int_distribution<int> grid(0, 40);
    std::uniform_int_distribution<int> nan_pick(0, 31);
    std::uniform_int_distribution<int64_t> time(0, 100);
    for (size_t i = 0; i < n; ++i) {
      x[i] = static_cast<T>(grid(rng)) * T(0.5);
      y[i] = static_cast<T>(grid(rng)) * T(0.5);
      z[i] = static_cast<T>(grid(rng)) * T(0.5);
      const int pick = nan_pick(rng);
      if (pick == 0) x[i] = std::numeric_limits<T>::quiet_NaN();
      if (pick == 1) y[i] = std::numeric_limits<T>::quiet_NaN();
      if (pick == 2) z[i] = std::numeric_limits<T>::quiet_NaN();
      t[i] = time(rng);
      expires[i] = time(rng);
    }
  }
};

// The row filters every case runs under: none, time only, expiry only, both.
std::vector<RowFilter> Filters(const int64_t* t, const int64_t* expires) {
  std::vector<RowFilter> out(4);
  out[1].t = t;
  out[1].t_min = 20;
  out[1].t_max = 70;  // inclusive bounds land on generated values
  out[2].expires = expires;
  out[2].now = 40;  // strict: expires == 40 is dead
  out[3] = out[1];
  out[3].expires = expires;
  out[3].now = 40;
  return out;
}

template <typename T>
void CheckBoxAndRadius(size_t lanes) {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE(SeedTrace(seed));
  std::mt19937_64 rng(seed);
  const Box2T<T> box2{T(5), T(4), T(12.5), T(15)};
  const Box3T<T> box3{T(5), T(4), T(2), T(12.5), T(15), T(9)};
  const T qx = 10, qy = 10, qz = 5, r2 = 25;  // 3-4-5 triangles sit exactly on the radius
  for (size_t n : TestSizes(lanes)) {
    for (size_t misalign : kMisalignments) {
      SCOPED_TRACE(::testing::Message() << "n=" << n << " misalign=" << misalign);
      Data<T> d(n, misalign, rng, T(10));  // poison: (10,10,10) is inside every query
      for (const RowFilter& rows : Filters(d.t.data(), d.expires.data())) {
        SCOPED_TRACE(::testing::Message() << "time=" << (rows.t != nullptr)
                                          << " expiry=" << (rows.expires != nullptr));
        const uint32_t base = 1000;
        RedZoneBuffer<uint32_t> got(n), want(n + 1);
        RedZoneBuffer<T> got_d2(n), want_d2(n + 1);

        size_t w = reference::BoxFilter2(d.x.data(), d.y.data(), n, box2, rows, base, want.data());
        size_t g = BoxFilter2(d.x.data(), d.y.data(), n, box2, rows, base, got.data());
        ASSERT_EQ(g, w);
        EXPECT_EQ(got.Prefix(g), want.Prefix(w));
        EXPECT_TRUE(got.RedZonesIntact());
        EXPECT_EQ(BoxCount2(d.x.data(), d.y.data(), n, box2, rows), w);

        w = reference::BoxFilter3(d.x.data(), d.y.data(), d.z.data(), n, box3, rows, base,
                                  want.data());
        g = BoxFilter3(d.x.data(), d.y.data(), d.z.data(), n, box3, rows, base, got.data());
        ASSERT_EQ(g, w);
        EXPECT_EQ(got.Prefix(g), want.Prefix(w));
        EXPECT_TRUE(got.RedZonesIntact());
        EXPECT_EQ(BoxCount3(d.x.data(), d.y.data(), d.z.data(), n, box3, rows), w);

        w = reference::RadiusFilter2(d.x.data(), d.y.data(), n, qx, qy, r2, rows, base,
                                     want.data(), want_d2.data());
        g = RadiusFilter2(d.x.data(), d.y.data(), n, qx, qy, r2, rows, base, got.data(),
                          got_d2.data());
        ASSERT_EQ(g, w);
        EXPECT_EQ(got.Prefix(g), want.Prefix(w));
        EXPECT_EQ(got_d2.Prefix(g), want_d2.Prefix(w));  // bit-exact distances
        EXPECT_TRUE(got.RedZonesIntact());
        EXPECT_TRUE(got_d2.RedZonesIntact());
        EXPECT_EQ(RadiusCount2(d.x.data(), d.y.data(), n, qx, qy, r2, rows), w);
        // Without the distance output.
        g = RadiusFilter2(d.x.data(), d.y.data(), n, qx, qy, r2, rows, base, got.data(),
                          static_cast<T*>(nullptr));
        ASSERT_EQ(g, w);
        EXPECT_EQ(got.Prefix(g), want.Prefix(w));

        w = reference::RadiusFilter3(d.x.data(), d.y.data(), d.z.data(), n, qx, qy, qz, r2,
                                     rows, base, want.data(), want_d2.data());
        g = RadiusFilter3(d.x.data(), d.y.data(), d.z.data(), n, qx, qy, qz, r2, rows, base,
                          got.data(), got_d2.data());
        ASSERT_EQ(g, w);
        EXPECT_EQ(got.Prefix(g), want.Prefix(w));
        EXPECT_EQ(got_d2.Prefix(g), want_d2.Prefix(w));
        EXPECT_TRUE(got.RedZonesIntact());
        EXPECT_TRUE(got_d2.RedZonesIntact());
        EXPECT_EQ(RadiusCount3(d.x.data(), d.y.data(), d.z.data(), n, qx, qy, qz, r2, rows), w);

        w = reference::RowFilterIds(rows, n, base, want.data());
        g = RowFilterIds(rows, n, base, got.data());
        ASSERT_EQ(g, w);
        EXPECT_EQ(got.Prefix(g), want.Prefix(w));
        EXPECT_TRUE(got.RedZonesIntact());
        EXPECT_EQ(RowFilterCount(rows, n), w);
      }
    }
  }
}

TEST_P(PointFilterTest, MatchesReferenceF32) { CheckBoxAndRadius<float>(LanesF32()); }
TEST_P(PointFilterTest, MatchesReferenceF64) { CheckBoxAndRadius<double>(LanesF64()); }

// Points exactly on every face, edge and corner of the box are inside; one ulp outside is not.
TEST_P(PointFilterTest, BoxBoundsAreInclusiveF32) {
  const Box2T<float> box{1.0f, 2.0f, 3.0f, 4.0f};
  const float out_lo_x = std::nextafter(1.0f, 0.0f), out_hi_y = std::nextafter(4.0f, 10.0f);
  PaddedArray<float> x(6, 0, 0.0f), y(6, 0, 0.0f);
  const float xs[] = {1.0f, 3.0f, 1.0f, 3.0f, out_lo_x, 2.0f};
  const float ys[] = {2.0f, 4.0f, 4.0f, 2.0f, 3.0f, out_hi_y};
  for (int i = 0; i < 6; ++i) x[i] = xs[i], y[i] = ys[i];
  RedZoneBuffer<uint32_t> ids(6);
  ASSERT_EQ(BoxFilter2(x.data(), y.data(), 6, box, {}, 0, ids.data()), 4u);
  EXPECT_EQ(ids.Prefix(4), (std::vector<uint32_t>{0, 1, 2, 3}));
}

// A point at exactly radius_sq is inside; the next float outward is not.
TEST_P(PointFilterTest, RadiusIsInclusiveF64) {
  PaddedArray<double> x(3, 0, 0.0), y(3, 0, 0.0);
  x[0] = 3, y[0] = 4;                                // d2 == 25 exactly
  x[1] = std::nextafter(3.0, 4.0), y[1] = 4;         // d2 > 25
  x[2] = 0, y[2] = -5;                               // d2 == 25 exactly
  RedZoneBuffer<uint32_t> ids(3);
  RedZoneBuffer<double> d2(3);
  ASSERT_EQ(RadiusFilter2(x.data(), y.data(), 3, 0.0, 0.0, 25.0, {}, 7, ids.data(), d2.data()),
            2u);
  EXPECT_EQ(ids.Prefix(2), (std::vector<uint32_t>{7, 9}));
  EXPECT_EQ(d2.Prefix(2), (std::vector<double>{25.0, 25.0}));
}

// NaN coordinates never match, even against an infinite box or radius.
TEST_P(PointFilterTest, NanRowsNeverMatch) {
  const size_t n = 3 * LanesF32() + 1;
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  PaddedArray<float> x(n, 1, 0.0f), y(n, 1, 0.0f);
  for (size_t i = 0; i < n; ++i) (i % 2 ? x[i] : y[i]) = nan;
  const Box2T<float> everything{-inf, -inf, inf, inf};
  EXPECT_EQ(BoxCount2(x.data(), y.data(), n, everything, {}), 0u);
  EXPECT_EQ(RadiusCount2(x.data(), y.data(), n, 0.0f, 0.0f, inf, {}), 0u);
  RedZoneBuffer<uint32_t> ids(n);
  EXPECT_EQ(BoxFilter2(x.data(), y.data(), n, everything, {}, 0, ids.data()), 0u);
  EXPECT_TRUE(ids.RedZonesIntact());
}

// A large count exercises the per-lane accumulators and their widening sum.
TEST_P(PointFilterTest, LargeCountIsExact) {
  const size_t n = (size_t{1} << 20) + 5;
  PaddedArray<float> x(n, 0, 0.0f), y(n, 0, 0.0f);
  for (size_t i = 0; i < n; ++i) x[i] = static_cast<float>(i % 3), y[i] = 1.0f;
  const Box2T<float> box{0.0f, 0.0f, 1.0f, 2.0f};  // x in {0, 1}: two of every three
  const size_t want = (n / 3) * 2 + std::min<size_t>(n % 3, 2);
  EXPECT_EQ(BoxCount2(x.data(), y.data(), n, box, {}), want);
}

}  // namespace
}  // namespace locus::kernels
