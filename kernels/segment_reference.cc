// Scalar reference implementations of kernels/segment.h: the header's inline interval
// functions one segment at a time, compiled with -ffp-contract=off like the SIMD kernels.
#include <cstddef>
#include <cstdint>

#include "kernels/segment.h"

namespace locus::kernels::reference {
namespace {

// Runs `inside(i)` over the n - 1 segments of n samples into out_bits; returns the count.
template <class Inside>
size_t Bits(size_t n, uint64_t* out_bits, const Inside& inside) {
  const size_t segments = n < 2 ? 0 : n - 1;
  for (size_t w = 0; w < (segments + 63) / 64; ++w) out_bits[w] = 0;
  size_t count = 0;
  for (size_t i = 0; i < segments; ++i) {
    if (inside(i)) {
      out_bits[i / 64] |= uint64_t{1} << (i % 64);
      ++count;
    }
  }
  return count;
}

}  // namespace

size_t SegmentsInBox(const int64_t* t, const double* x, const double* y, size_t n,
                     const SegmentBox& box, const SegmentWindow& w, uint64_t* out_bits) {
  return Bits(n, out_bits, [&](size_t i) {
    double s_in, s_out;
    return SegmentBoxInterval(t[i], x[i], y[i], t[i + 1], x[i + 1], y[i + 1], box, w, &s_in,
                              &s_out);
  });
}

size_t SegmentsInCircle(const int64_t* t, const double* x, const double* y, size_t n, double cx,
                        double cy, double r_sq, const SegmentWindow& w, uint64_t* out_bits) {
  return Bits(n, out_bits, [&](size_t i) {
    double s_in, s_out;
    return SegmentCircleInterval(t[i], x[i], y[i], t[i + 1], x[i + 1], y[i + 1], cx, cy, r_sq, w,
                                 &s_in, &s_out);
  });
}

}  // namespace locus::kernels::reference
