// Tests kernels/segment.h (path segments vs a box or a circle during a time window) on every
// compiled target against the scalar reference, bit for bit: sample counts around the lane
// count and every bit-word boundary (0, 1, 2, 63, 64, 65, ...), misaligned starts, padding
// poisoned with samples inside the query, red zones, seeded paths (uniform, random walk,
// half-unit grid with stationary and axis-parallel moves, special values: NaN, +-inf, huge,
// tiny, subnormal, -0, and int64 times whose differences reach 2^64), boxes (on the grid so
// segments touch edges and corners exactly, zero width, a point, infinite, invalid), circles
// (tangent to grid segments, boundary through a sample, r_sq = 0, huge, invalid) and windows
// (all time, empty, before, after, inside, at one sample's time, cutting segments).
// The reference itself is checked against an independent oracle: dense sampling of each
// segment in time (exact endpoints included) finds no point inside the region that the
// interval misses, the interval's ends lie in the region, points just outside the interval
// do not, and a sample exactly on the region's boundary is always found.
#include "kernels/segment.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
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

class SegmentTest : public ::locus::testing::PerTargetTest {};
LOCUS_INSTANTIATE_PER_TARGET(SegmentTest);

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kMax = std::numeric_limits<double>::max();
constexpr int64_t kTMin = std::numeric_limits<int64_t>::min();
constexpr int64_t kTMax = std::numeric_limits<int64_t>::max();
constexpr SegmentWindow kAllTime{kTMin, kTMax};

// A box or a circle, and a window.
struct Query {
  bool circle = false;
  SegmentBox box{};
  double cx = 0, cy = 0, r_sq = 0;
  SegmentWindow w = kAllTime;
};

std::ostream& operator<<(std::ostream& os, const Query& q) {
  if (q.circle) {
    os << "circle c=(" << q.cx << "," << q.cy << ") r_sq=" << q.r_sq;
  } else {
    os << "box [" << q.box.min_x << "," << q.box.max_x << "]x[" << q.box.min_y << "," << q.box.max_y
       << "]";
  }
  return os << " window [" << q.w.t_lo << "," << q.w.t_hi << "]";
}

// Columns t, x, y of n samples, padded and misaligned as the harness does.
struct Path {
  PaddedArray<int64_t> t;
  PaddedArray<double> x, y;
  size_t n;
  Path(size_t n_in, size_t misalign)
      : t(n_in, misalign, 0), x(n_in, misalign, 0.0), y(n_in, misalign, 0.0), n(n_in) {}

  // Fills the padding with increasing times just after the last sample at (px, py), so
  // that the segment from the last sample into the padding (and those inside it) would be
  // inside a query around (px, py) if a kernel forgot to mask its tail.
  void Poison(double px, double py) {
    const int64_t last = n > 0 ? t[n - 1] : 0;
    for (size_t k = 0; k < kColumnPaddingElements; ++k) {
      const int64_t step = static_cast<int64_t>(k) + 1;
      t.data()[n + k] = last <= kTMax - 32 ? last + step : kTMax;
      x.data()[n + k] = px;
      y.data()[n + k] = py;
    }
  }
};

enum class Layout { kUniform, kWalk, kGrid, kSpecial };

// Strictly increasing times from `start`: steps drawn by `step`, or, with `huge`, steps up
// to the int64 range left (so that for small n differences reach 2^63 and beyond).
void FillTimes(Path& p, std::mt19937_64& rng, int64_t start, bool huge) {
  std::uniform_int_distribution<int> pick(0, 7);
  std::uniform_int_distribution<int64_t> small(1, 1000);
  int64_t t = start;
  for (size_t i = 0; i < p.n; ++i) {
    if (i > 0) {
      int64_t step = small(rng);
      if (huge) {
        const uint64_t room = static_cast<uint64_t>(kTMax) - static_cast<uint64_t>(t) - 64;
        const uint64_t most = room / (p.n - i) + 1;
        const int kind = pick(rng);
        uint64_t u = kind == 0 ? 1 : std::uniform_int_distribution<uint64_t>(1, most)(rng);
        if (kind == 1) u = most;  // the largest, often beyond 2^53 (rounded conversions)
        step = static_cast<int64_t>(u);
      }
      t = static_cast<int64_t>(static_cast<uint64_t>(t) + static_cast<uint64_t>(step));
    }
    p.t[i] = t;
  }
}

double SpecialValue(std::mt19937_64& rng) {
  static const double kValues[] = {kNaN,   kInf,   -kInf,   1e300,    -1e300, kMax,    -kMax,
                                   1e200,  1e-300, -1e-300, 4.9e-324, -0.0,   0.0,     1e154,
                                   -1e154, 5e153,  1e-160,  -2e-170,  1e16,   1e16 + 2};
  return kValues[std::uniform_int_distribution<size_t>(0, std::size(kValues) - 1)(rng)];
}

Path MakePath(size_t n, size_t misalign, Layout layout, std::mt19937_64& rng) {
  Path p(n, misalign);
  std::uniform_real_distribution<double> u(-10, 110), step(-2, 2);
  std::uniform_int_distribution<int> grid(0, 40), move(0, 7), special(0, 3);
  std::uniform_int_distribution<int64_t> start(-1000000, 1000000);
  FillTimes(p, rng, layout == Layout::kSpecial ? kTMin + 7 : start(rng),
            layout == Layout::kSpecial);
  double x = 50, y = 50;
  for (size_t i = 0; i < n; ++i) {
    const int m = move(rng);
    switch (layout) {
      case Layout::kUniform:
        x = u(rng), y = u(rng);
        break;
      case Layout::kWalk:  // small steps; some stationary, some along one axis
        if (m >= 2) x += step(rng);
        if (m != 1 && m != 2) y += step(rng);
        break;
      case Layout::kGrid:  // half-unit grid: exact contacts with grid boxes and circles
        if (m >= 2 || i == 0) x = grid(rng) * 0.5;
        if (m == 1 || m >= 5 || i == 0) y = grid(rng) * 0.5;
        if (x == 0 && m == 4) x = -0.0;
        break;
      case Layout::kSpecial:
        x = special(rng) == 0 ? SpecialValue(rng) : u(rng);
        y = special(rng) == 0 ? SpecialValue(rng) : u(rng);
        break;
    }
    p.x[i] = x;
    p.y[i] = y;
  }
  return p;
}

// Windows relative to the path's times.
std::vector<SegmentWindow> Windows(const Path& p, std::mt19937_64& rng) {
  std::vector<SegmentWindow> w = {kAllTime, {5, 4}, {0, 0}};
  if (p.n == 0) return w;
  auto sub = [](int64_t a, int64_t b) { return a >= kTMin + b ? a - b : kTMin; };
  auto add = [](int64_t a, int64_t b) { return a <= kTMax - b ? a + b : kTMax; };
  const int64_t first = p.t[0], last = p.t[p.n - 1];
  std::uniform_int_distribution<size_t> k_pick(0, p.n - 1);
  const size_t k = k_pick(rng), k2 = k_pick(rng);
  const size_t a = std::min(k, k2), b = std::max(k, k2);
  w.push_back({sub(first, 100), sub(first, 1)});  // before
  w.push_back({add(last, 1), add(last, 100)});    // after
  w.push_back({sub(first, 100), first});          // ends at the first sample
  w.push_back({p.t[k], p.t[k]});                  // one sample's instant
  w.push_back({p.t[a], p.t[b]});                  // sample to sample
  // (Differences in uint64: kSpecial's times span the whole int64 range.)
  auto gap = [&](size_t i) {
    return static_cast<uint64_t>(p.t[i + 1]) - static_cast<uint64_t>(p.t[i]);
  };
  if (k + 1 < p.n) {  // inside one segment
    const int64_t third = static_cast<int64_t>(gap(k) / 3);
    w.push_back({add(p.t[k], third), sub(p.t[k + 1], third)});
    w.push_back({add(p.t[k], 1), add(p.t[k], 1)});
  }
  // Cutting two segments.
  const int64_t half_a = a > 0 ? static_cast<int64_t>(gap(a - 1) / 2) : 1;
  const int64_t third_b = b + 1 < p.n ? static_cast<int64_t>(gap(b) / 3) : 1;
  w.push_back({sub(p.t[a], half_a), add(p.t[b], third_b)});
  return w;
}

// Boxes and circles relative to the path's layout and samples.
std::vector<Query> Regions(const Path& p, Layout layout, std::mt19937_64& rng) {
  std::vector<Query> q;
  std::uniform_real_distribution<double> u(-10, 110), side(0, 40), r(0, 30);
  std::uniform_int_distribution<int> grid(0, 40), ext(0, 8);
  auto box = [&](double x0, double y0, double x1, double y1) {
    Query b;
    b.box = {x0, y0, x1, y1};
    q.push_back(b);
  };
  auto circle = [&](double cx, double cy, double r_sq) {
    Query c;
    c.circle = true, c.cx = cx, c.cy = cy, c.r_sq = r_sq;
    q.push_back(c);
  };
  const double bx = u(rng), by = u(rng);
  box(bx, by, bx + side(rng), by + side(rng));
  const double gx = grid(rng) * 0.5, gy = grid(rng) * 0.5;
  box(gx, gy, gx + ext(rng) * 0.5, gy + ext(rng) * 0.5);  // may have zero width
  box(gx, 0, gx, 20);                                     // zero width in x
  box(-kInf, -kInf, kInf, kInf);
  box(-kInf, 20, 50, kInf);
  box(-1e300, -1e300, 1e300, 1e300);
  box(5, 4, 4, 10);  // crossed: matches nothing
  box(kNaN, 0, 10, 10);
  circle(u(rng), u(rng), r(rng) * r(rng));
  const double cgx = grid(rng) * 0.5, cgy = grid(rng) * 0.5, cr = ext(rng) * 0.5;
  circle(cgx, cgy, cr * cr);  // tangent to grid-aligned segments at distance cr
  circle(cgx, cgy, 0);
  circle(cgx, cgy, 1e300);
  circle(cgx, cgy, kMax);
  circle(cgx, cgy, -1);
  circle(cgx, cgy, kNaN);
  circle(cgx, cgy, kInf);
  circle(kNaN, cgy, 4);
  circle(cgx, kInf, 4);
  if (p.n > 0) {  // regions whose boundary passes exactly through a sample
    std::uniform_int_distribution<size_t> k_pick(0, p.n - 1);
    const size_t k = k_pick(rng);
    const double sx = p.x[k], sy = p.y[k];
    if (std::isfinite(sx) && std::isfinite(sy)) {
      box(sx, sy, sx, sy);  // a point
      box(sx, sy - 3, sx + 2, sy);
      const double ccx = u(rng), ccy = u(rng);
      const double ex = sx - ccx, ey = sy - ccy;
      circle(ccx, ccy, ex * ex + ey * ey);
      circle(sx, sy, 0);
    }
  }
  if (layout == Layout::kSpecial) {
    box(1e299, -kMax, kInf, kMax);
    circle(1e153, -1e153, 1e306);
  }
  return q;
}

size_t RunKernel(bool ref, const Path& p, const Query& q, uint64_t* bits) {
  const int64_t* t = p.t.data();
  const double* x = p.x.data();
  const double* y = p.y.data();
  if (q.circle) {
    return ref ? reference::SegmentsInCircle(t, x, y, p.n, q.cx, q.cy, q.r_sq, q.w, bits)
               : SegmentsInCircle(t, x, y, p.n, q.cx, q.cy, q.r_sq, q.w, bits);
  }
  return ref ? reference::SegmentsInBox(t, x, y, p.n, q.box, q.w, bits)
             : SegmentsInBox(t, x, y, p.n, q.box, q.w, bits);
}

// Runs the kernel and the reference on (p, q) and compares them bit for bit, with red zones
// around the output and the padding poisoned around the query. Returns the count.
size_t Check(Path& p, const Query& q) {
  SCOPED_TRACE(::testing::Message() << q << " n=" << p.n);
  if (q.circle) {
    p.Poison(q.cx, q.cy);
  } else {
    p.Poison(std::clamp(0.0, q.box.min_x, std::max(q.box.min_x, q.box.max_x)),
             std::clamp(0.0, q.box.min_y, std::max(q.box.min_y, q.box.max_y)));
  }
  const size_t segments = p.n < 2 ? 0 : p.n - 1;
  const size_t words = (segments + 63) / 64;
  RedZoneBuffer<uint64_t> got(words), want(words);
  const size_t w = RunKernel(true, p, q, want.data());
  const size_t g = RunKernel(false, p, q, got.data());
  EXPECT_EQ(g, w);
  EXPECT_EQ(got.Prefix(words), want.Prefix(words));
  EXPECT_TRUE(got.RedZonesIntact());
  EXPECT_TRUE(want.RedZonesIntact());
  size_t pop = 0;
  for (size_t k = 0; k < words; ++k) pop += static_cast<size_t>(std::popcount(got.data()[k]));
  EXPECT_EQ(pop, g);
  if (segments % 64 != 0) {
    EXPECT_EQ(got.data()[words - 1] >> (segments % 64), 0u) << "bits past the last segment";
  }
  return w;
}

std::vector<size_t> SampleCounts(size_t lanes) {
  return {0,  1,  2,  3,   lanes, lanes + 1,          lanes + 2, 3 * lanes + 2, 63,
          64, 65, 66, 127, 129,   2 * lanes * 16 + 3, 1000,      10007};
}

TEST_P(SegmentTest, MatchesReference) {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE(SeedTrace(seed));
  std::mt19937_64 rng(seed);
  size_t hits = 0, cases = 0;
  for (size_t n : SampleCounts(LanesF64())) {
    for (size_t misalign : kMisalignments) {
      for (Layout layout : {Layout::kUniform, Layout::kWalk, Layout::kGrid, Layout::kSpecial}) {
        SCOPED_TRACE(::testing::Message() << "n=" << n << " misalign=" << misalign
                                          << " layout=" << static_cast<int>(layout));
        Path p = MakePath(n, misalign, layout, rng);
        const std::vector<SegmentWindow> windows = Windows(p, rng);
        for (Query q : Regions(p, layout, rng)) {
          for (const SegmentWindow& w : windows) {
            q.w = w;
            hits += Check(p, q) > 0;
            ++cases;
            if (HasFailure()) return;
          }
        }
      }
    }
  }
  // The inputs exercise both outcomes often (a test that never hits proves little).
  EXPECT_GT(hits, cases / 10);
  EXPECT_LT(hits, cases * 9 / 10);
}

// Times that are not increasing never hit, on every target (the REQUIRES is not UB).
TEST_P(SegmentTest, NonIncreasingTimesNeverHit) {
  const uint64_t seed = TestSeed() + 1;
  SCOPED_TRACE(SeedTrace(seed));
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int64_t> time(0, 20);
  for (size_t n : SampleCounts(LanesF64())) {
    Path p = MakePath(n, 1, Layout::kGrid, rng);
    for (size_t i = 0; i < n; ++i) p.t[i] = time(rng);  // repeats and decreases
    Query box;
    box.box = {-kInf, -kInf, kInf, kInf};
    Query circle;
    circle.circle = true, circle.cx = 10, circle.cy = 10, circle.r_sq = 1e6;
    Check(p, box);
    Check(p, circle);
    std::vector<uint64_t> bits((n + 63) / 64 + 1);
    for (const Query& q : {box, circle}) {
      RunKernel(false, p, q, bits.data());
      for (size_t i = 0; i + 1 < n; ++i) {
        const bool set = (bits[i / 64] >> (i % 64)) & 1;
        EXPECT_EQ(set, p.t[i] < p.t[i + 1]) << "segment " << i;
      }
    }
  }
}

// ---- named cases ---------------------------------------------------------------------------

// One segment through the kernel (n = 2) and the reference; returns the kernel's answer and
// checks the inline interval function agrees.
struct One {
  int64_t t0 = 0;
  double x0, y0;
  int64_t t1 = 10;
  double x1, y1;
};
bool BoxHit(const One& s, const SegmentBox& box, const SegmentWindow& w = kAllTime) {
  Path p(2, 1);
  p.t[0] = s.t0, p.x[0] = s.x0, p.y[0] = s.y0, p.t[1] = s.t1, p.x[1] = s.x1, p.y[1] = s.y1;
  Query q;
  q.box = box, q.w = w;
  const size_t count = Check(p, q);
  double s_in, s_out;
  EXPECT_EQ(count, SegmentBoxInterval(s.t0, s.x0, s.y0, s.t1, s.x1, s.y1, box, w, &s_in, &s_out)
                       ? 1u
                       : 0u);
  return count == 1;
}
bool CircleHit(const One& s, double cx, double cy, double r_sq, const SegmentWindow& w = kAllTime) {
  Path p(2, 1);
  p.t[0] = s.t0, p.x[0] = s.x0, p.y[0] = s.y0, p.t[1] = s.t1, p.x[1] = s.x1, p.y[1] = s.y1;
  Query q;
  q.circle = true, q.cx = cx, q.cy = cy, q.r_sq = r_sq, q.w = w;
  const size_t count = Check(p, q);
  double s_in, s_out;
  EXPECT_EQ(count, SegmentCircleInterval(s.t0, s.x0, s.y0, s.t1, s.x1, s.y1, cx, cy, r_sq, w, &s_in,
                                         &s_out)
                       ? 1u
                       : 0u);
  return count == 1;
}

struct Interval {
  bool hit;
  double s_in, s_out;
};
Interval BoxInterval(const One& s, const SegmentBox& box, const SegmentWindow& w = kAllTime) {
  Interval r{false, -1, -1};
  r.hit = SegmentBoxInterval(s.t0, s.x0, s.y0, s.t1, s.x1, s.y1, box, w, &r.s_in, &r.s_out);
  EXPECT_EQ(r.hit, BoxHit(s, box, w));
  return r;
}
Interval CircleInterval(const One& s, double cx, double cy, double r_sq,
                        const SegmentWindow& w = kAllTime) {
  Interval r{false, -1, -1};
  r.hit =
      SegmentCircleInterval(s.t0, s.x0, s.y0, s.t1, s.x1, s.y1, cx, cy, r_sq, w, &r.s_in, &r.s_out);
  EXPECT_EQ(r.hit, CircleHit(s, cx, cy, r_sq, w));
  return r;
}

const SegmentBox kBox{0, 0, 10, 10};

TEST_P(SegmentTest, BoxTouchingEdgesAndCornersCounts) {
  // Ends exactly on an edge: entering at s = 1, leaving at s = 0.
  Interval r = BoxInterval({0, -5, 5, 10, 0, 5}, kBox);
  EXPECT_TRUE(r.hit);
  EXPECT_EQ(r.s_in, 1.0);
  EXPECT_EQ(r.s_out, 1.0);
  r = BoxInterval({0, 10, 5, 10, 15, 5}, kBox);
  EXPECT_TRUE(r.hit);
  EXPECT_EQ(r.s_in, 0.0);
  EXPECT_FALSE(std::signbit(r.s_in));
  EXPECT_EQ(r.s_out, 0.0);
  // Grazing the corner (10, 0) diagonally: entry == exit at s = 0.5.
  r = BoxInterval({0, 5, -5, 10, 15, 5}, kBox);
  EXPECT_TRUE(r.hit);
  EXPECT_EQ(r.s_in, 0.5);
  EXPECT_EQ(r.s_out, 0.5);
  // Missing that corner by one ulp: miss.
  EXPECT_FALSE(BoxHit({0, 5, std::nextafter(-5.0, -6.0), 10, 15, 5}, kBox));
  // Sliding along the top edge (axis-parallel motion on the boundary): whole segment.
  r = BoxInterval({0, -10, 10, 10, 30, 10}, kBox);
  EXPECT_TRUE(r.hit);
  EXPECT_EQ(r.s_in, 0.25);
  EXPECT_EQ(r.s_out, 0.5);
  // One ulp above the top edge: miss.
  EXPECT_FALSE(BoxHit({0, -10, std::nextafter(10.0, 11.0), 10, 20, 10}, kBox));
  // A box of zero width crossed by a segment, and one of zero area (a point) on it.
  r = BoxInterval({0, 0, 0, 10, 8, 8}, {4, 0, 4, 10});
  EXPECT_TRUE(r.hit);
  EXPECT_EQ(r.s_in, 0.5);
  EXPECT_EQ(r.s_out, 0.5);
  EXPECT_TRUE(BoxHit({0, 0, 0, 10, 8, 8}, {2, 2, 2, 2}));
  EXPECT_FALSE(BoxHit({0, 0, 0, 10, 8, 8}, {2, 2.5, 2, 2.5}));
}

TEST_P(SegmentTest, BoxStationaryAndAxisParallel) {
  // Stationary inside / on the boundary / outside.
  Interval r = BoxInterval({0, 3, 3, 10, 3, 3}, kBox, {2, 7});
  EXPECT_TRUE(r.hit);
  EXPECT_EQ(r.s_in, 0.2);
  EXPECT_EQ(r.s_out, 0.7);
  EXPECT_TRUE(BoxHit({0, 10, 0, 10, 10, 0}, kBox));
  EXPECT_FALSE(BoxHit({0, 11, 3, 10, 11, 3}, kBox));
  // -0 displacement is as stationary as +0.
  EXPECT_TRUE(BoxHit({0, -0.0, 5, 10, 0.0, 5}, kBox));
  // Moving along y only, x inside / outside the slab.
  r = BoxInterval({0, 5, -10, 10, 5, 30}, kBox);
  EXPECT_TRUE(r.hit);
  EXPECT_EQ(r.s_in, 0.25);
  EXPECT_EQ(r.s_out, 0.5);
  EXPECT_FALSE(BoxHit({0, -0.5, -10, 10, -0.5, 30}, kBox));
  // A subnormal displacement is motion (division by it overflows to +-inf, no NaN).
  const double tiny = std::numeric_limits<double>::denorm_min();
  EXPECT_TRUE(BoxHit({0, 10, 0, 10, 10, tiny}, kBox));
  EXPECT_TRUE(BoxHit({0, 0, 5, 10, tiny, 5}, kBox));
  EXPECT_FALSE(BoxHit({0, -tiny, 5, 10, -tiny - tiny, 5}, kBox));
}

TEST_P(SegmentTest, WindowsAreClosedAndExact) {
  const One s{100, -10, 5, 200, 10, 5};  // crosses x = 0 at t = 150
  // Window ending exactly at the entry instant: hit at s = 0.5; one ms before: miss.
  Interval r = BoxInterval(s, kBox, {0, 150});
  EXPECT_TRUE(r.hit);
  EXPECT_EQ(r.s_in, 0.5);
  EXPECT_EQ(r.s_out, 0.5);
  EXPECT_FALSE(BoxHit(s, kBox, {0, 149}));
  // Window inside the segment, after the entry.
  r = BoxInterval(s, kBox, {160, 170});
  EXPECT_TRUE(r.hit);
  EXPECT_EQ(r.s_in, 0.6);
  EXPECT_EQ(r.s_out, 0.7);
  // Windows before, after, at the end sample (inside: hit at s = 1), empty.
  EXPECT_FALSE(BoxHit(s, kBox, {0, 99}));
  EXPECT_FALSE(BoxHit(s, kBox, {201, 300}));
  r = BoxInterval(s, kBox, {200, 200});
  EXPECT_TRUE(r.hit);
  EXPECT_EQ(r.s_in, 1.0);
  EXPECT_FALSE(BoxHit(s, kBox, {100, 100}));  // (-10, 5) is outside
  EXPECT_FALSE(BoxHit(s, kBox, {170, 160}));
  // Times at the ends of int64: differences up to 2^64 - 1, computed exactly in uint64.
  const One wide{kTMin, -10, 5, kTMax, 10, 5};
  r = BoxInterval(wide, kBox, {0, 0});  // s = 2^63 / (2^64 - 1) -> 0.5
  EXPECT_TRUE(r.hit);
  EXPECT_EQ(r.s_in, 0.5);
  EXPECT_FALSE(BoxHit(wide, kBox, {kTMin, -1024 * 1024 * 1024}));
  r = BoxInterval(wide, kBox, kAllTime);
  EXPECT_TRUE(r.hit);
  EXPECT_EQ(r.s_in, 0.5);
  EXPECT_EQ(r.s_out, 1.0);
  // Equal or decreasing times: never inside.
  EXPECT_FALSE(BoxHit({5, 1, 1, 5, 2, 2}, kBox));
  EXPECT_FALSE(BoxHit({6, 1, 1, 5, 2, 2}, kBox));
}

TEST_P(SegmentTest, NonFiniteNeverHits) {
  const SegmentBox everything{-kInf, -kInf, kInf, kInf};
  for (double bad : {kNaN, kInf, -kInf}) {
    EXPECT_FALSE(BoxHit({0, bad, 1, 10, 2, 2}, everything));
    EXPECT_FALSE(BoxHit({0, 1, bad, 10, 2, 2}, everything));
    EXPECT_FALSE(BoxHit({0, 1, 1, 10, bad, 2}, everything));
    EXPECT_FALSE(BoxHit({0, 1, 1, 10, 2, bad}, everything));
    EXPECT_FALSE(CircleHit({0, bad, 1, 10, 2, 2}, 0, 0, 1e300));
    EXPECT_FALSE(CircleHit({0, 1, 1, 10, 2, bad}, 0, 0, 1e300));
    EXPECT_FALSE(CircleHit({0, 1, 1, 10, 2, 2}, bad, 0, 100));
    EXPECT_FALSE(CircleHit({0, 1, 1, 10, 2, 2}, 0, bad, 100));
    EXPECT_FALSE(CircleHit({0, 1, 1, 10, 2, 2}, 0, 0, bad));
  }
  // Boxes with a NaN bound, or crossed (also by infinities), match nothing; infinite
  // bounds otherwise are fine.
  EXPECT_FALSE(BoxHit({0, 1, 1, 10, 2, 2}, {kNaN, 0, 10, 10}));
  EXPECT_FALSE(BoxHit({0, 1, 1, 10, 2, 2}, {0, 0, 10, kNaN}));
  EXPECT_FALSE(BoxHit({0, 1, 1, 10, 2, 2}, {kInf, 0, 10, 10}));
  EXPECT_FALSE(BoxHit({0, 1, 1, 10, 2, 2}, {0, 0, 10, -kInf}));
  EXPECT_FALSE(BoxHit({0, 1, 1, 10, 2, 2}, {kInf, 0, kInf, 10}));  // nothing finite at +inf
  EXPECT_TRUE(BoxHit({0, 1, 1, 10, 2, 2}, {-kInf, 0, 10, kInf}));
  EXPECT_FALSE(CircleHit({0, 1, 1, 10, 2, 2}, 0, 0, -1));
  EXPECT_FALSE(BoxHit({0, 1, 1, 10, 2, 2}, {3, 0, 2, 10}));  // crossed
  // Both ends finite, displacement overflows: never inside, even for the infinite box.
  EXPECT_FALSE(BoxHit({0, -kMax, 1, 10, kMax, 1}, everything));
  EXPECT_FALSE(CircleHit({0, -kMax, 1, 10, kMax, 1}, 0, 0, kMax));
  // Huge but finite displacement: fine.
  EXPECT_TRUE(BoxHit({0, -kMax / 2, 1, 10, kMax / 2, 1}, {0, 0, 1, 1}));
  EXPECT_TRUE(BoxHit({0, kMax, 1, 10, kMax, 1}, {-kInf, 0, kInf, 1}));
}

// A segment entirely on one side of the region is never reported, however the slab or the
// quadratic rounds. From x = -1e20 to 0, the box [1, 2] is at s = 1 + 1e-20 ... 1 + 2e-20,
// which both divisions round to exactly 1; the circle around 1.5 of radius 0.5 gives a
// discriminant of 4e80 - 4e80 = 0 at s = 1. The bounding-box step rules both out exactly.
TEST_P(SegmentTest, RoundingNeverReportsASegmentEntirelyOutside) {
  const One s{0, -1e20, 0, 10, 0, 0};
  EXPECT_FALSE(BoxHit(s, {1, -1, 2, 1}));
  EXPECT_FALSE(CircleHit(s, 1.5, 0, 0.25));
  // Touching the region at the end is found.
  EXPECT_TRUE(BoxHit(s, {0, -1, 2, 1}));
  EXPECT_TRUE(CircleHit(s, 0.5, 0, 0.25));
}

TEST_P(SegmentTest, CircleTangentAndEndpoints) {
  // Tangent: the line y = 2 touches the disc of radius 2 around the origin at x = 0.
  Interval r = CircleInterval({0, -4, 2, 10, 4, 2}, 0, 0, 4);
  EXPECT_TRUE(r.hit);
  EXPECT_EQ(r.s_in, 0.5);
  EXPECT_EQ(r.s_out, 0.5);
  // One ulp above: miss. (The quadratic alone would call it tangent: c = 16 + 2 ulp(4) rounds
  // to 16. The bounding-box step, gy * gy = 4 + 2 ulp(4) > 4, decides it exactly.)
  EXPECT_FALSE(
      CircleHit({0, -4, std::nextafter(2.0, 3.0), 10, 4, std::nextafter(2.0, 3.0)}, 0, 0, 4));
  // A segment from one ulp above to exactly tangent: the quadratic's rounding may go either
  // way (the same way on every target); 1e-9 above is a clear miss.
  CircleHit({0, -4, std::nextafter(2.0, 3.0), 10, 4, 2}, 0, 0, 4);
  EXPECT_FALSE(CircleHit({0, -4, 2 + 1e-9, 10, 4, 2 + 1e-9}, 0, 0, 4));
  // Through the centre: enters at s = 0.25, leaves at 0.75.
  r = CircleInterval({0, -4, 0, 10, 4, 0}, 0, 0, 4);
  EXPECT_TRUE(r.hit);
  EXPECT_EQ(r.s_in, 0.25);
  EXPECT_EQ(r.s_out, 0.75);
  // r_sq = 0: only through the centre itself.
  EXPECT_TRUE(CircleHit({0, -4, -4, 10, 4, 4}, 0, 0, 0));
  EXPECT_FALSE(CircleHit({0, -4, -4, 10, 4, 4.5}, 0, 0, 0));
  // Stationary inside / on / outside (a == 0).
  r = CircleInterval({0, 1, 1, 10, 1, 1}, 0, 0, 2, {3, 4});
  EXPECT_TRUE(r.hit);
  EXPECT_EQ(r.s_in, 0.3);
  EXPECT_EQ(r.s_out, 0.4);
  EXPECT_TRUE(CircleHit({0, 3, 4, 10, 3, 4}, 0, 0, 25));
  EXPECT_FALSE(CircleHit({0, 3, 4, 10, 3, 4}, 0, 0, std::nextafter(25.0, 0.0)));
  // Ends on the boundary, generic values: the end's own point test decides, so the window
  // at that sample's time finds it, with s = 1 exactly.
  std::mt19937_64 rng(TestSeed() + 7);
  std::uniform_real_distribution<double> u(-100, 100);
  for (int k = 0; k < 2000; ++k) {
    const One s{0, u(rng), u(rng), 1000, u(rng), u(rng)};
    const double cx = u(rng), cy = u(rng);
    const double ex = s.x1 - cx, ey = s.y1 - cy, r_sq = ex * ex + ey * ey;
    r = CircleInterval(s, cx, cy, r_sq, {1000, 1000});
    ASSERT_TRUE(r.hit) << k;
    EXPECT_EQ(r.s_in, 1.0);
    EXPECT_EQ(r.s_out, 1.0);
    const double fx = s.x0 - cx, fy = s.y0 - cy, r0_sq = fx * fx + fy * fy;
    r = CircleInterval(s, cx, cy, r0_sq, {0, 0});
    ASSERT_TRUE(r.hit) << k;
    EXPECT_EQ(r.s_in, 0.0);
  }
}

// ---- the reference against an independent oracle -------------------------------------------

// Whether (x, y) is in the region, exactly as the point predicates define it (for samples).
bool PointIn(const Query& q, double x, double y) {
  if (q.circle) {
    const double dx = x - q.cx, dy = y - q.cy;
    return dx * dx + dy * dy <= q.r_sq;
  }
  return q.box.min_x <= x && x <= q.box.max_x && q.box.min_y <= y && y <= q.box.max_y;
}

// Whether (x, y), computed in long double, is in the region shrunk (margin > 0) or grown
// (margin < 0) by |margin|.
bool PointInWithMargin(const Query& q, long double x, long double y, long double margin) {
  if (q.circle) {
    const long double dx = x - q.cx, dy = y - q.cy;
    const long double r = std::sqrt(static_cast<long double>(q.r_sq)) - margin;
    return r >= 0 && std::sqrt(dx * dx + dy * dy) <= r;
  }
  return q.box.min_x + margin <= x && x <= q.box.max_x - margin && q.box.min_y + margin <= y &&
         y <= q.box.max_y - margin;
}

bool IntervalOf(const Query& q, const One& s, double* s_in, double* s_out) {
  return q.circle ? SegmentCircleInterval(s.t0, s.x0, s.y0, s.t1, s.x1, s.y1, q.cx, q.cy, q.r_sq,
                                          q.w, s_in, s_out)
                  : SegmentBoxInterval(s.t0, s.x0, s.y0, s.t1, s.x1, s.y1, q.box, q.w, s_in, s_out);
}

// Dense sampling of random segments in time, against random boxes, circles and windows:
//  - an exact endpoint (t = t0 or t1, the sample itself) in the region by the point
//    predicate must be found, at s = 0 or s = 1 exactly;
//  - an interior sample inside the region by a margin (1e-9 relative) must lie in
//    [s_in, s_out] (so s_in is the earliest and s_out the latest instant inside);
//  - p(s_in) and p(s_out) lie in the region grown by the margin;
//  - points 1e-6 (in s) before s_in and after s_out, when still in the window and the
//    segment, are not inside the region shrunk by the margin.
void CheckAgainstSampling(bool circles) {
  const uint64_t seed = TestSeed() + (circles ? 11 : 10);
  SCOPED_TRACE(SeedTrace(seed));
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(-50, 150), side(0, 60), box_side(0, 120);
  std::uniform_int_distribution<int> kind(0, 9);
  std::uniform_int_distribution<int64_t> dt_pick(1, 5000), t_pick(-100, 5100);
  size_t hits = 0, inside_samples = 0, endpoint_hits = 0;
  const int kTrials = 40000;
  for (int trial = 0; trial < kTrials; ++trial) {
    One s{0, u(rng), u(rng), dt_pick(rng), u(rng), u(rng)};
    const int k = kind(rng);
    if (k == 0) s.x1 = s.x0;               // along y
    if (k == 1) s.y1 = s.y0;               // along x
    if (k == 2) s.x1 = s.x0, s.y1 = s.y0;  // stationary
    if (k == 3) s.t1 = 1;                  // the shortest time step
    Query q;
    q.circle = circles;
    const double bx = u(rng), by = u(rng);
    q.box = {bx, by, bx + box_side(rng), by + box_side(rng)};
    if (k == 4) q.box.max_x = q.box.min_x;  // zero width
    q.cx = u(rng), q.cy = u(rng);
    q.r_sq = side(rng) * side(rng);
    if (k == 5) q.r_sq = 0;
    if (k == 6) {  // an end exactly on the boundary
      const double ex = s.x1 - q.cx, ey = s.y1 - q.cy;
      q.r_sq = ex * ex + ey * ey;
      q.box = {s.x1, s.y1 - 5, s.x1 + 10, s.y1 + 5};
    }
    const int64_t a = t_pick(rng), b = t_pick(rng);
    q.w = kind(rng) < 3 ? kAllTime : SegmentWindow{std::min(a, b), std::max(a, b)};
    double s_in = -1, s_out = -1;
    const bool hit = IntervalOf(q, s, &s_in, &s_out);
    hits += hit;
    SCOPED_TRACE(::testing::Message()
                 << "trial " << trial << " " << q << " segment t=[" << s.t0 << "," << s.t1 << "] ("
                 << s.x0 << "," << s.y0 << ") -> (" << s.x1 << "," << s.y1 << ") hit=" << hit
                 << " s=[" << s_in << "," << s_out << "]");
    const long double scale = std::max(
        {1.0L, std::fabs((long double)s.x0), std::fabs((long double)s.x1),
         std::fabs((long double)s.y0), std::fabs((long double)s.y1), std::fabs((long double)q.cx),
         std::fabs((long double)q.cy), std::sqrt((long double)q.r_sq)});
    const long double margin = 1e-9L * scale;
    const long double dx = (long double)s.x1 - s.x0, dy = (long double)s.y1 - s.y0;
    auto at = [&](long double sv, long double* x, long double* y) {
      *x = s.x0 + sv * dx;
      *y = s.y0 + sv * dy;
    };
    const int64_t lo = std::max(q.w.t_lo, s.t0), hi = std::min(q.w.t_hi, s.t1);
    if (lo > hi) {
      ASSERT_FALSE(hit);
      continue;
    }
    const long double dt = static_cast<long double>(s.t1 - s.t0);
    // Sample times: every ms when few, else 257 evenly spaced; always lo and hi.
    std::vector<int64_t> times;
    if (hi - lo <= 512) {
      for (int64_t t = lo; t <= hi; ++t) times.push_back(t);
    } else {
      for (int j = 0; j <= 256; ++j) times.push_back(lo + (hi - lo) * j / 256);
    }
    for (int64_t t : times) {
      if (t == s.t0 || t == s.t1) {
        const bool end = t == s.t1;
        if (PointIn(q, end ? s.x1 : s.x0, end ? s.y1 : s.y0)) {
          ASSERT_TRUE(hit) << "sample at t=" << t << " is inside";
          if (end) {
            ASSERT_EQ(s_out, 1.0);
          } else {
            ASSERT_EQ(s_in, 0.0);
          }
          ++endpoint_hits;
        }
        continue;
      }
      const long double sv = (t - s.t0) / dt;
      long double x, y;
      at(sv, &x, &y);
      if (!PointInWithMargin(q, x, y, margin)) continue;
      ++inside_samples;
      ASSERT_TRUE(hit) << "t=" << t << " s=" << (double)sv << " is inside";
      ASSERT_LE(s_in, sv + 1e-9L) << "t=" << t;
      ASSERT_GE(s_out, sv - 1e-9L) << "t=" << t;
    }
    if (!hit) continue;
    const long double s_lo = (lo - s.t0) / dt, s_hi = (hi - s.t0) / dt;
    ASSERT_LE(s_lo - 1e-15L, s_in);
    ASSERT_LE(s_in, s_out);
    ASSERT_LE(s_out, s_hi + 1e-15L);
    long double x, y;
    at(s_in, &x, &y);
    ASSERT_TRUE(PointInWithMargin(q, x, y, -margin)) << "p(s_in) is outside";
    at(s_out, &x, &y);
    ASSERT_TRUE(PointInWithMargin(q, x, y, -margin)) << "p(s_out) is outside";
    const long double step = 1e-6L;
    if (s_in - step >= s_lo) {
      at(s_in - step, &x, &y);
      ASSERT_FALSE(PointInWithMargin(q, x, y, margin)) << "inside before s_in";
    }
    if (s_out + step <= s_hi) {
      at(s_out + step, &x, &y);
      ASSERT_FALSE(PointInWithMargin(q, x, y, margin)) << "inside after s_out";
    }
  }
  // Both outcomes, and the sampled checks, are exercised.
  EXPECT_GT(hits, kTrials / 10u);
  EXPECT_LT(hits, kTrials * 9u / 10u);
  EXPECT_GT(inside_samples, 100000u);
  EXPECT_GT(endpoint_hits, 1000u);
}

TEST(SegmentReferenceTest, BoxIntervalAgreesWithSampling) { CheckAgainstSampling(false); }
TEST(SegmentReferenceTest, CircleIntervalAgreesWithSampling) { CheckAgainstSampling(true); }

}  // namespace
}  // namespace locus::kernels
