// Dispatch table and entry points for kernels/segment.h.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/segment.cc"
#include "kernels/segment.h"

#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"
#include "kernels/segment-inl.h"

HWY_BEFORE_NAMESPACE();
namespace locus::kernels {
namespace HWY_NAMESPACE {

// HWY_EXPORT needs one plain function per entry point.
size_t SegmentsInBoxF64(const int64_t* t, const double* x, const double* y, size_t n,
                        const SegmentBox& box, const SegmentWindow& w, uint64_t* bits) {
  return SegmentsInBoxImpl(t, x, y, n, box, w, bits);
}
size_t SegmentsInCircleF64(const int64_t* t, const double* x, const double* y, size_t n, double cx,
                           double cy, double r_sq, const SegmentWindow& w, uint64_t* bits) {
  return SegmentsInCircleImpl(t, x, y, n, cx, cy, r_sq, w, bits);
}

}  // namespace HWY_NAMESPACE
}  // namespace locus::kernels
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace locus::kernels {

HWY_EXPORT(SegmentsInBoxF64);
HWY_EXPORT(SegmentsInCircleF64);

size_t SegmentsInBox(const int64_t* t, const double* x, const double* y, size_t n,
                     const SegmentBox& box, const SegmentWindow& w, uint64_t* out_bits) {
  return HWY_DYNAMIC_DISPATCH(SegmentsInBoxF64)(t, x, y, n, box, w, out_bits);
}
size_t SegmentsInCircle(const int64_t* t, const double* x, const double* y, size_t n, double cx,
                        double cy, double r_sq, const SegmentWindow& w, uint64_t* out_bits) {
  return HWY_DYNAMIC_DISPATCH(SegmentsInCircleF64)(t, x, y, n, cx, cy, r_sq, w, out_bits);
}

}  // namespace locus::kernels
#endif  // HWY_ONCE
