// Tests kernels/knn.h (squared distances and top-k selection) on every compiled target
// against the scalar references: all sizes around the lane count, misaligned starts,
// poisoned padding (the poison sits on the query, so it would be every top-1), red zones
// around distance outputs, uniform / clustered / duplicate-heavy data (many exact distance
// ties, so the (dist_sq, id) tie break is exercised), NaN rows, inclusive max distance,
// row filters, and one TopK fed chunk by chunk in any order with per-chunk id_base.
#include "kernels/knn.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <ostream>
#include <random>
#include <vector>

#include "tests/testing/harness.h"

namespace locus::kernels {

// Readable failure messages for EXPECT_EQ on vectors of neighbours.
template <typename T>
void PrintTo(const Neighbor<T>& nb, std::ostream* os) {
  *os << "{" << nb.dist_sq << ", " << nb.id << "}";
}

namespace {

using ::locus::testing::kMisalignments;
using ::locus::testing::PaddedArray;
using ::locus::testing::RedZoneBuffer;
using ::locus::testing::SeedTrace;
using ::locus::testing::TestSeed;
using ::locus::testing::TestSizes;

class KnnTest : public ::locus::testing::PerTargetTest {};
LOCUS_INSTANTIATE_PER_TARGET(KnnTest);

enum class Shape { kUniform, kClustered, kDuplicates };
const char* ShapeName(Shape s) {
  return s == Shape::kUniform ? "uniform" : s == Shape::kClustered ? "clustered" : "duplicates";
}

// The query is (4, 4, 4) in every test; data lies in about [0, 8]^3.
template <typename T>
constexpr T kQ = T(4);

// Seeded points of one shape with about 1 in 32 rows NaN in one coordinate, plus time and
// expiry columns. Padding holds `poison` in every coordinate column.
template <typename T>
struct Cloud {
  PaddedArray<T> x, y, z;
  PaddedArray<int64_t> t, expires;
  Cloud(size_t n, size_t misalign, Shape shape, std::mt19937_64& rng, T poison, bool nans = true)
      : x(n, misalign, poison), y(n, misalign, poison), z(n, misalign, poison),
        t(n, misalign, 50), expires(n, misalign, 1000) {
    std::uniform_real_distribution<double> uniform(0.0, 8.0);
    std::normal_distribution<double> normal(0.0, 0.3);
    std::uniform_int_distribution<int> grid(0, 16);  // x 0.5: exact ties at many distances
    std::uniform_int_distribution<int> centre_pick(0, 3);
    std::uniform_int_distribution<int> nan_pick(0, 31);
    std::uniform_int_distribution<int64_t> time(0, 100);
    const double centres[4][3] = {{1, 1, 1}, {6, 2, 5}, {4.2, 4.1, 3.9}, {7, 7, 7}};
    for (size_t i = 0; i < n; ++i) {
      T p[3];
      if (shape == Shape::kUniform) {
        for (T& v : p) v = static_cast<T>(uniform(rng));
      } else if (shape == Shape::kClustered) {
        const double* c = centres[centre_pick(rng)];
        for (int a = 0; a < 3; ++a) p[a] = static_cast<T>(c[a] + normal(rng));
      } else {
        for (T& v : p) v = static_cast<T>(grid(rng)) * T(0.5);
      }
      x[i] = p[0], y[i] = p[1], z[i] = p[2];
      if (nans) {
        const int pick = nan_pick(rng);
        if (pick == 0) x[i] = std::numeric_limits<T>::quiet_NaN();
        if (pick == 1) y[i] = std::numeric_limits<T>::quiet_NaN();
        if (pick == 2) z[i] = std::numeric_limits<T>::quiet_NaN();
      }
      t[i] = time(rng);
      expires[i] = time(rng);
    }
  }
};

// No filter, and time + expiry (inclusive time bounds and strict expiry land on data).
std::vector<RowFilter> Filters(const int64_t* t, const int64_t* expires) {
  std::vector<RowFilter> out(2);
  out[1].t = t;
  out[1].t_min = 20;
  out[1].t_max = 70;
  out[1].expires = expires;
  out[1].now = 40;
  return out;
}

template <typename T>
bool BitsEqual(const T* a, const T* b, size_t n) {
  return n == 0 || std::memcmp(a, b, n * sizeof(T)) == 0;
}

// ---- squared distances ----------------------------------------------------------------

template <typename T>
void CheckSquaredDistances(size_t lanes) {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE(SeedTrace(seed));
  std::mt19937_64 rng(seed);
  for (Shape shape : {Shape::kUniform, Shape::kDuplicates}) {
    for (size_t n : TestSizes(lanes)) {
      for (size_t misalign : kMisalignments) {
        SCOPED_TRACE(::testing::Message() << ShapeName(shape) << " n=" << n
                                          << " misalign=" << misalign);
        Cloud<T> c(n, misalign, shape, rng, T(1e30));
        RedZoneBuffer<T> got(n), want(n);
        reference::SquaredDistances2(c.x.data(), c.y.data(), n, kQ<T>, kQ<T>, want.data());
        SquaredDistances2(c.x.data(), c.y.data(), n, kQ<T>, kQ<T>, got.data());
        EXPECT_TRUE(BitsEqual(got.data(), want.data(), n));  // NaN rows compare as bits
        EXPECT_TRUE(got.RedZonesIntact());
        reference::SquaredDistances3(c.x.data(), c.y.data(), c.z.data(), n, kQ<T>, kQ<T>, kQ<T>,
                                     want.data());
        SquaredDistances3(c.x.data(), c.y.data(), c.z.data(), n, kQ<T>, kQ<T>, kQ<T>,
                          got.data());
        EXPECT_TRUE(BitsEqual(got.data(), want.data(), n));
        EXPECT_TRUE(got.RedZonesIntact());
      }
    }
  }
}

TEST_P(KnnTest, SquaredDistancesMatchReferenceF32) { CheckSquaredDistances<float>(LanesF32()); }
TEST_P(KnnTest, SquaredDistancesMatchReferenceF64) { CheckSquaredDistances<double>(LanesF64()); }

// Values straight from the formula, independent of the reference: 3-4-5 and a NaN row.
TEST_P(KnnTest, SquaredDistancesKnownValues) {
  PaddedArray<double> x(3, 1, 0.0), y(3, 1, 0.0), z(3, 1, 0.0);
  x[0] = 3, y[0] = 4, z[0] = 12;
  x[1] = -1, y[1] = 0, z[1] = 0;
  x[2] = std::numeric_limits<double>::quiet_NaN();
  RedZoneBuffer<double> out(3);
  SquaredDistances2(x.data(), y.data(), 3, 0.0, 0.0, out.data());
  EXPECT_EQ(out.data()[0], 25.0);
  EXPECT_EQ(out.data()[1], 1.0);
  EXPECT_TRUE(std::isnan(out.data()[2]));
  SquaredDistances3(x.data(), y.data(), z.data(), 3, 0.0, 0.0, 0.0, out.data());
  EXPECT_EQ(out.data()[0], 169.0);
  EXPECT_TRUE(out.RedZonesIntact());
}

// ---- TopK accumulator ------------------------------------------------------------------

// The heap against a sort: random pushes with many ties, k from 0 to past the count.
TEST(TopKTest, MatchesSortOracle) {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE(SeedTrace(seed));
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> value(0, 20);
  std::uniform_int_distribution<uint32_t> id(0, 1000);
  TopK<float> top;  // reused across rounds: Reset must forget everything
  for (size_t k : {0, 1, 2, 3, 10, 64, 500}) {
    for (float max_d2 : {std::numeric_limits<float>::infinity(), 10.0f}) {
      SCOPED_TRACE(::testing::Message() << "k=" << k << " max=" << max_d2);
      top.Reset(k, max_d2);
      std::vector<Neighbor<float>> all;
      for (int i = 0; i < 300; ++i) {
        const Neighbor<float> nb{static_cast<float>(value(rng)), id(rng)};
        const float before = top.threshold();
        const bool kept = top.Push(nb.dist_sq, nb.id);
        if (kept) {
          EXPECT_LE(nb.dist_sq, before);
        }
        if (nb.dist_sq <= max_d2) all.push_back(nb);
        EXPECT_LE(top.size(), k);
      }
      std::sort(all.begin(), all.end());
      all.resize(std::min(all.size(), k));
      EXPECT_EQ(top.Sorted(), all);
      EXPECT_EQ(top.size(), all.size());
      if (k == 0) {
        EXPECT_EQ(top.threshold(), -std::numeric_limits<float>::infinity());
      } else if (all.size() < k) {
        EXPECT_EQ(top.threshold(), max_d2);
      } else {
        EXPECT_EQ(top.threshold(), all.back().dist_sq);
        EXPECT_EQ(top.worst(), all.back());
      }
      std::vector<uint32_t> ids(all.size() + 1, 7777);
      std::vector<float> d2(all.size() + 1, -1.0f);
      ASSERT_EQ(top.CopySorted(ids.data(), d2.data()), all.size());
      for (size_t i = 0; i < all.size(); ++i) {
        EXPECT_EQ(ids[i], all[i].id);
        EXPECT_EQ(d2[i], all[i].dist_sq);
      }
      EXPECT_EQ(ids.back(), 7777u);  // nothing past size()
    }
  }
}

TEST(TopKTest, TiesGoToTheSmallerIdInAnyArrivalOrder) {
  TopK<double> top(2);
  for (uint32_t id : {9u, 4u, 7u, 1u, 8u}) top.Push(1.0, id);
  EXPECT_EQ(top.Sorted(), (std::vector<Neighbor<double>>{{1.0, 1}, {1.0, 4}}));
  EXPECT_FALSE(top.Push(1.0, 5));  // equal distance, larger id than the worst kept: out
  EXPECT_TRUE(top.Push(1.0, 2));
  EXPECT_TRUE(top.Push(0.5, 100));
  EXPECT_EQ(top.Sorted(), (std::vector<Neighbor<double>>{{0.5, 100}, {1.0, 1}}));
}

TEST(TopKTest, MaxDistanceIsInclusiveAndNanNeverEnters) {
  TopK<float> top(5, 25.0f);
  EXPECT_TRUE(top.Push(25.0f, 1));
  EXPECT_FALSE(top.Push(std::nextafter(25.0f, 30.0f), 2));
  EXPECT_FALSE(top.Push(std::numeric_limits<float>::quiet_NaN(), 3));
  TopK<float> unbounded(5);
  EXPECT_FALSE(unbounded.Push(std::numeric_limits<float>::quiet_NaN(), 3));
  EXPECT_TRUE(unbounded.Push(std::numeric_limits<float>::infinity(), 4));
  EXPECT_EQ(top.size(), 1u);
  EXPECT_EQ(unbounded.size(), 1u);
  TopK<float> none(0);
  EXPECT_FALSE(none.Push(0.0f, 0));
  EXPECT_TRUE(none.empty());
}

// ---- top-k kernels ---------------------------------------------------------------------

template <typename T>
void ExpectSame(const TopK<T>& got, const TopK<T>& want) {
  ASSERT_EQ(got.size(), want.size());
  EXPECT_EQ(got.Sorted(), want.Sorted());
  EXPECT_EQ(got.threshold(), want.threshold());
}

template <typename T>
void CheckTopK(size_t lanes) {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE(SeedTrace(seed));
  std::mt19937_64 rng(seed);
  const T inf = std::numeric_limits<T>::infinity();
  const T q = kQ<T>;
  for (Shape shape : {Shape::kUniform, Shape::kClustered, Shape::kDuplicates}) {
    for (size_t n : TestSizes(lanes)) {
      for (size_t misalign : kMisalignments) {
        // Poison on the query: distance 0, so a kernel reading padding would report it.
        Cloud<T> c(n, misalign, shape, rng, q);
        const uint32_t base = 1000;
        for (size_t k : {size_t{1}, size_t{2}, size_t{10}, lanes, n, n + 5}) {
          for (T max_d2 : {inf, T(4)}) {  // 4: many grid points sit exactly on it
            for (const RowFilter& rows : Filters(c.t.data(), c.expires.data())) {
              SCOPED_TRACE(::testing::Message()
                           << ShapeName(shape) << " n=" << n << " misalign=" << misalign
                           << " k=" << k << " max=" << max_d2 << " rows=" << rows.active());
              TopK<T> got(k, max_d2), want(k, max_d2);
              reference::TopK2(c.x.data(), c.y.data(), n, q, q, rows, base, &want);
              TopK2(c.x.data(), c.y.data(), n, q, q, rows, base, &got);
              ExpectSame(got, want);
              if (::testing::Test::HasFatalFailure()) return;

              got.Reset(k, max_d2);
              want.Reset(k, max_d2);
              reference::TopK3(c.x.data(), c.y.data(), c.z.data(), n, q, q, q, rows, base,
                               &want);
              TopK3(c.x.data(), c.y.data(), c.z.data(), n, q, q, q, rows, base, &got);
              ExpectSame(got, want);
              if (::testing::Test::HasFatalFailure()) return;
            }
          }
        }
      }
    }
  }
}

TEST_P(KnnTest, TopKMatchesReferenceF32) { CheckTopK<float>(LanesF32()); }
TEST_P(KnnTest, TopKMatchesReferenceF64) { CheckTopK<double>(LanesF64()); }

// The reference itself against an independent check: the selection is the k smallest
// (dist_sq, id) among the non-NaN rows within max distance.
TEST(KnnReferenceTest, SelectsSmallestPairs) {
  std::mt19937_64 rng(TestSeed());
  Cloud<float> c(500, 0, Shape::kDuplicates, rng, 0.0f);
  std::vector<Neighbor<float>> all;
  for (uint32_t i = 0; i < 500; ++i) {
    const float dx = c.x[i] - 4.0f, dy = c.y[i] - 4.0f;
    const float d2 = dx * dx + dy * dy;
    if (d2 <= 9.0f) all.push_back({d2, i + 3});
  }
  std::sort(all.begin(), all.end());
  all.resize(37);
  TopK<float> top(37, 9.0f);
  reference::TopK2(c.x.data(), c.y.data(), 500, 4.0f, 4.0f, {}, 3, &top);
  EXPECT_EQ(top.Sorted(), all);
}

// One TopK fed chunk by chunk, each chunk with its own id_base, in shuffled order (as the
// R-tree visits leaves), gives the result of one call over the whole array.
template <typename T>
void CheckChunked(size_t lanes) {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE(SeedTrace(seed));
  std::mt19937_64 rng(seed);
  const T q = kQ<T>;
  std::uniform_int_distribution<size_t> chunk_len(0, 3 * lanes + 3);
  for (Shape shape : {Shape::kUniform, Shape::kClustered, Shape::kDuplicates}) {
    for (size_t n : {size_t{1}, 5 * lanes + 2, size_t{3001}}) {
      Cloud<T> c(n, 1, shape, rng, q);
      std::vector<std::pair<size_t, size_t>> chunks;  // (offset, length)
      for (size_t off = 0; off < n;) {
        const size_t len = std::min(n - off, chunk_len(rng));
        chunks.push_back({off, len});
        off += len;
      }
      std::shuffle(chunks.begin(), chunks.end(), rng);
      for (size_t k : {size_t{1}, size_t{10}, lanes, n + 5}) {
        for (const RowFilter& rows : Filters(c.t.data(), c.expires.data())) {
          SCOPED_TRACE(::testing::Message() << ShapeName(shape) << " n=" << n << " k=" << k
                                            << " rows=" << rows.active());
          const T max_d2 = T(6.25);
          TopK<T> whole(k, max_d2), want(k, max_d2), fed(k, max_d2), fed_ref(k, max_d2);
          TopK2(c.x.data(), c.y.data(), n, q, q, rows, 0, &whole);
          reference::TopK2(c.x.data(), c.y.data(), n, q, q, rows, 0, &want);
          for (const auto& [off, len] : chunks) {
            RowFilter sub = rows;
            if (sub.t) sub.t += off;
            if (sub.expires) sub.expires += off;
            TopK2(c.x.data() + off, c.y.data() + off, len, q, q, sub,
                  static_cast<uint32_t>(off), &fed);
            reference::TopK2(c.x.data() + off, c.y.data() + off, len, q, q, sub,
                             static_cast<uint32_t>(off), &fed_ref);
          }
          ExpectSame(whole, want);
          ExpectSame(fed, want);
          ExpectSame(fed_ref, want);
          if (::testing::Test::HasFatalFailure()) return;
        }
      }
    }
  }
}

TEST_P(KnnTest, ChunkedFeedingMatchesOneCallF32) { CheckChunked<float>(LanesF32()); }
TEST_P(KnnTest, ChunkedFeedingMatchesOneCallF64) { CheckChunked<double>(LanesF64()); }

// Every point identical: all distances tie, so the result is the k smallest ids, whatever
// order the chunks arrive in.
TEST_P(KnnTest, AllTiesKeepSmallestIds) {
  const size_t n = 7 * LanesF32() + 3;
  PaddedArray<float> x(n, 3, 1.0f), y(n, 3, 1.0f);
  for (size_t i = 0; i < n; ++i) x[i] = 2.0f, y[i] = 3.0f;  // d2 == 1 + 4 == 5 everywhere
  TopK<float> top(5);
  // Feed the second half first (larger ids), then the first half.
  const size_t half = n / 2;
  TopK2(x.data() + half, y.data() + half, n - half, 1.0f, 1.0f, {}, 100 + half, &top);
  TopK2(x.data(), y.data(), half, 1.0f, 1.0f, {}, 100, &top);
  std::vector<Neighbor<float>> want;
  for (uint32_t i = 0; i < 5; ++i) want.push_back({5.0f, 100 + i});
  EXPECT_EQ(top.Sorted(), want);
}

// Max distance is inclusive: a point at exactly max_dist_sq enters, one ulp further does not.
TEST_P(KnnTest, MaxDistanceIsInclusive) {
  PaddedArray<double> x(4, 1, 0.0), y(4, 1, 0.0);
  x[0] = 3, y[0] = 4;                         // d2 == 25 exactly
  x[1] = std::nextafter(3.0, 4.0), y[1] = 4;  // d2 > 25
  x[2] = 0, y[2] = -5;                        // d2 == 25 exactly
  x[3] = 10, y[3] = 0;
  TopK<double> top(10, 25.0);
  TopK2(x.data(), y.data(), 4, 0.0, 0.0, {}, 7, &top);
  EXPECT_EQ(top.Sorted(), (std::vector<Neighbor<double>>{{25.0, 7}, {25.0, 9}}));
}

// NaN rows never enter, even with k past n and no max distance; k == 0 selects nothing.
TEST_P(KnnTest, NanRowsNeverEnter) {
  const size_t n = 3 * LanesF32() + 1;
  const float nan = std::numeric_limits<float>::quiet_NaN();
  PaddedArray<float> x(n, 1, 0.0f), y(n, 1, 0.0f), z(n, 1, 0.0f);
  for (size_t i = 0; i < n; ++i) {
    if (i % 3 == 0) x[i] = nan;
    if (i % 3 == 1) z[i] = nan;  // finite in 2D, NaN in 3D
  }
  TopK<float> top2(n + 5), top3(n + 5), none(0);
  TopK2(x.data(), y.data(), n, 0.0f, 0.0f, {}, 0, &top2);
  TopK3(x.data(), y.data(), z.data(), n, 0.0f, 0.0f, 0.0f, {}, 0, &top3);
  TopK2(x.data(), y.data(), n, 0.0f, 0.0f, {}, 0, &none);
  size_t finite2 = 0;
  for (const auto& nb : top2.Sorted()) {
    EXPECT_NE(nb.id % 3, 0u);
    ++finite2;
  }
  EXPECT_EQ(finite2, n - (n + 2) / 3);
  for (const auto& nb : top3.Sorted()) EXPECT_EQ(nb.id % 3, 2u);
  EXPECT_EQ(top3.size(), n / 3);
  EXPECT_TRUE(none.empty());
}

// Ids near the top of the uint32 range (id_base + n == 2^32) come out right.
TEST_P(KnnTest, IdsAtTheTopOfTheRange) {
  const size_t n = 4 * LanesF32() + 1;
  PaddedArray<float> x(n, 0, 0.0f), y(n, 0, 0.0f);
  for (size_t i = 0; i < n; ++i) x[i] = static_cast<float>(n - i), y[i] = 0.0f;
  const uint32_t base = static_cast<uint32_t>((uint64_t{1} << 32) - n);
  TopK<float> got(3), want(3);
  TopK2(x.data(), y.data(), n, 0.0f, 0.0f, {}, base, &got);
  reference::TopK2(x.data(), y.data(), n, 0.0f, 0.0f, {}, base, &want);
  ExpectSame(got, want);
  EXPECT_EQ(got.Sorted().front().id, 0xFFFFFFFFu);
}

// Precomputed distances (any metric), with NaN, infinite, negative and signed-zero entries.
template <typename T>
void CheckFromDistances(size_t lanes) {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE(SeedTrace(seed));
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> value(0, 50);
  std::uniform_int_distribution<int> special(0, 15);
  const T inf = std::numeric_limits<T>::infinity();
  for (size_t n : TestSizes(lanes)) {
    for (size_t misalign : kMisalignments) {
      PaddedArray<T> dist(n, misalign, T(-100));  // poison: it would be every top-1
      for (size_t i = 0; i < n; ++i) {
        const int s = special(rng);
        // Negative and signed-zero distances too: any metric may be fed.
        dist[i] = s == 0   ? std::numeric_limits<T>::quiet_NaN()
                  : s == 1 ? inf
                  : s == 2 ? T(-0.0)
                  : s == 3 ? T(0.0)
                           : static_cast<T>(value(rng) - 20) * T(0.25);
      }
      for (size_t k : {size_t{1}, size_t{10}, lanes, n + 5}) {
        for (T max_d2 : {inf, T(5), T(0), T(-1)}) {
          SCOPED_TRACE(::testing::Message()
                       << "n=" << n << " misalign=" << misalign << " k=" << k << " max=" << max_d2);
          TopK<T> got(k, max_d2), want(k, max_d2);
          TopKFromDistances(dist.data(), n, 42, &got);
          reference::TopKFromDistances(dist.data(), n, 42, &want);
          ExpectSame(got, want);
          if (::testing::Test::HasFatalFailure()) return;
        }
      }
    }
  }
}

TEST_P(KnnTest, FromDistancesMatchesReferenceF32) { CheckFromDistances<float>(LanesF32()); }
TEST_P(KnnTest, FromDistancesMatchesReferenceF64) { CheckFromDistances<double>(LanesF64()); }

}  // namespace
}  // namespace locus::kernels
