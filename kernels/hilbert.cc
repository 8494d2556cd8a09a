// Dispatch table and entry points for kernels/hilbert.h.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/hilbert.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include "hwy/highway.h"
#include "kernels/hilbert-inl.h"
#include "kernels/hilbert.h"

HWY_BEFORE_NAMESPACE();
namespace locus::kernels {
namespace HWY_NAMESPACE {

void HilbertKeys2FromIntsImpl(const uint32_t* xq, const uint32_t* yq, size_t n, uint32_t* out) {
  const hn::ScalableTag<uint32_t> du;
  const auto low16 = hn::Set(du, kHilbertMaxCoord);
  RunKeys2(du, n,
           [&](auto d, size_t i) {
             return HilbertKey2Vec(d, hn::And(hn::LoadU(d, xq + i), low16),
                                   hn::And(hn::LoadU(d, yq + i), low16));
           },
           out);
}

template <typename T>
void HilbertKeys2T(const T* cx, const T* cy, size_t n, const Box2T<T>& e, uint32_t* out) {
  const Axis<T> ax{cx, e.min_x, HilbertScale(e.min_x, e.max_x)};
  const Axis<T> ay{cy, e.min_y, HilbertScale(e.min_y, e.max_y)};
  RunKeys2(hn::ScalableTag<uint32_t>(), n,
           [&](auto d, size_t i) {
             return HilbertKey2Vec(d, Quantize(d, ax, i), Quantize(d, ay, i));
           },
           out);
}

void HilbertKeys3FromIntsImpl(const uint32_t* xq, const uint32_t* yq, const uint32_t* zq,
                              size_t n, uint64_t* out) {
  const hn::ScalableTag<uint32_t> du;
  const auto low16 = hn::Set(du, kHilbertMaxCoord);
  RunKeys3(du, n,
           [&](auto d, size_t i, auto* x, auto* y, auto* z) {
             *x = hn::And(hn::LoadU(d, xq + i), low16);
             *y = hn::And(hn::LoadU(d, yq + i), low16);
             *z = hn::And(hn::LoadU(d, zq + i), low16);
           },
           out);
}

template <typename T>
void HilbertKeys3T(const T* cx, const T* cy, const T* cz, size_t n, const Box3T<T>& e,
                   uint64_t* out) {
  const Axis<T> ax{cx, e.min_x, HilbertScale(e.min_x, e.max_x)};
  const Axis<T> ay{cy, e.min_y, HilbertScale(e.min_y, e.max_y)};
  const Axis<T> az{cz, e.min_z, HilbertScale(e.min_z, e.max_z)};
  RunKeys3(hn::ScalableTag<uint32_t>(), n,
           [&](auto d, size_t i, auto* x, auto* y, auto* z) {
             *x = Quantize(d, ax, i);
             *y = Quantize(d, ay, i);
             *z = Quantize(d, az, i);
           },
           out);
}

// HWY_EXPORT needs one plain function name per entry.
void HilbertKeys2F32(const float* cx, const float* cy, size_t n, const Box2T<float>& e,
                     uint32_t* out) {
  HilbertKeys2T(cx, cy, n, e, out);
}
void HilbertKeys2F64(const double* cx, const double* cy, size_t n, const Box2T<double>& e,
                     uint32_t* out) {
  HilbertKeys2T(cx, cy, n, e, out);
}
void HilbertKeys3F32(const float* cx, const float* cy, const float* cz, size_t n,
                     const Box3T<float>& e, uint64_t* out) {
  HilbertKeys3T(cx, cy, cz, n, e, out);
}
void HilbertKeys3F64(const double* cx, const double* cy, const double* cz, size_t n,
                     const Box3T<double>& e, uint64_t* out) {
  HilbertKeys3T(cx, cy, cz, n, e, out);
}

}  // namespace HWY_NAMESPACE
}  // namespace locus::kernels
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace locus::kernels {

HWY_EXPORT(HilbertKeys2FromIntsImpl);
HWY_EXPORT(HilbertKeys2F32);
HWY_EXPORT(HilbertKeys2F64);
HWY_EXPORT(HilbertKeys3FromIntsImpl);
HWY_EXPORT(HilbertKeys3F32);
HWY_EXPORT(HilbertKeys3F64);

void HilbertKeys2FromInts(const uint32_t* xq, const uint32_t* yq, size_t n, uint32_t* out) {
  HWY_DYNAMIC_DISPATCH(HilbertKeys2FromIntsImpl)(xq, yq, n, out);
}
void HilbertKeys2(const float* cx, const float* cy, size_t n, const Box2T<float>& extent,
                  uint32_t* out) {
  HWY_DYNAMIC_DISPATCH(HilbertKeys2F32)(cx, cy, n, extent, out);
}
void HilbertKeys2(const double* cx, const double* cy, size_t n, const Box2T<double>& extent,
                  uint32_t* out) {
  HWY_DYNAMIC_DISPATCH(HilbertKeys2F64)(cx, cy, n, extent, out);
}
void HilbertKeys3FromInts(const uint32_t* xq, const uint32_t* yq, const uint32_t* zq, size_t n,
                          uint64_t* out) {
  HWY_DYNAMIC_DISPATCH(HilbertKeys3FromIntsImpl)(xq, yq, zq, n, out);
}
void HilbertKeys3(const float* cx, const float* cy, const float* cz, size_t n,
                  const Box3T<float>& extent, uint64_t* out) {
  HWY_DYNAMIC_DISPATCH(HilbertKeys3F32)(cx, cy, cz, n, extent, out);
}
void HilbertKeys3(const double* cx, const double* cy, const double* cz, size_t n,
                  const Box3T<double>& extent, uint64_t* out) {
  HWY_DYNAMIC_DISPATCH(HilbertKeys3F64)(cx, cy, cz, n, extent, out);
}

}  // namespace locus::kernels
#endif  // HWY_ONCE
