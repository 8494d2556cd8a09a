// Dispatch table and entry points for kernels/ray.h.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/ray.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include "hwy/highway.h"
#include "kernels/ray-inl.h"
#include "kernels/ray.h"

HWY_BEFORE_NAMESPACE();
namespace locus::kernels {
namespace HWY_NAMESPACE {

// HWY_EXPORT needs one plain function name per entry: Ray{Hits,HitMask,Closest}{2,3}{F32,F64}.
// The 2D forms pass null z columns, which RayPred<T, 2, ...> never reads.
#define LOCUS_DEFINE(T, S)                                                                      \
  size_t RayHits2##S(const T* lx, const T* ly, const T* hx, const T* hy, size_t n,             \
                     const Ray2T<T>& r, uint32_t base, uint32_t* ids, T* t) {                  \
    const T* lo[3] = {lx, ly, nullptr};                                                         \
    const T* hi[3] = {hx, hy, nullptr};                                                         \
    return RayHitsImpl<2>(lo, hi, n, r, base, ids, t);                                          \
  }                                                                                             \
  size_t RayHits3##S(const T* lx, const T* ly, const T* lz, const T* hx, const T* hy,          \
                     const T* hz, size_t n, const Ray3T<T>& r, uint32_t base, uint32_t* ids,   \
                     T* t) {                                                                    \
    const T* lo[3] = {lx, ly, lz};                                                              \
    const T* hi[3] = {hx, hy, hz};                                                              \
    return RayHitsImpl<3>(lo, hi, n, r, base, ids, t);                                          \
  }                                                                                             \
  void RayHitMask2##S(const T* lx, const T* ly, const T* hx, const T* hy, size_t n,            \
                      const Ray2T<T>& r, uint64_t* bits, T* t) {                                \
    const T* lo[3] = {lx, ly, nullptr};                                                         \
    const T* hi[3] = {hx, hy, nullptr};                                                         \
    RayHitMaskImpl<2>(lo, hi, n, r, bits, t);                                                   \
  }                                                                                             \
  void RayHitMask3##S(const T* lx, const T* ly, const T* lz, const T* hx, const T* hy,         \
                      const T* hz, size_t n, const Ray3T<T>& r, uint64_t* bits, T* t) {        \
    const T* lo[3] = {lx, ly, lz};                                                              \
    const T* hi[3] = {hx, hy, hz};                                                              \
    RayHitMaskImpl<3>(lo, hi, n, r, bits, t);                                                   \
  }                                                                                             \
  bool RayClosest2##S(const T* lx, const T* ly, const T* hx, const T* hy, size_t n,            \
                      const Ray2T<T>& r, uint32_t base, uint32_t* id, T* t) {                   \
    const T* lo[3] = {lx, ly, nullptr};                                                         \
    const T* hi[3] = {hx, hy, nullptr};                                                         \
    return RayClosestImpl<2>(lo, hi, n, r, base, id, t);                                        \
  }                                                                                             \
  bool RayClosest3##S(const T* lx, const T* ly, const T* lz, const T* hx, const T* hy,         \
                      const T* hz, size_t n, const Ray3T<T>& r, uint32_t base, uint32_t* id,   \
                      T* t) {                                                                   \
    const T* lo[3] = {lx, ly, lz};                                                              \
    const T* hi[3] = {hx, hy, hz};                                                              \
    return RayClosestImpl<3>(lo, hi, n, r, base, id, t);                                        \
  }
LOCUS_DEFINE(float, F32)
LOCUS_DEFINE(double, F64)
#undef LOCUS_DEFINE

}  // namespace HWY_NAMESPACE
}  // namespace locus::kernels
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace locus::kernels {

#define LOCUS_EXPORT(S)         \
  HWY_EXPORT(RayHits2##S);      \
  HWY_EXPORT(RayHits3##S);      \
  HWY_EXPORT(RayHitMask2##S);   \
  HWY_EXPORT(RayHitMask3##S);   \
  HWY_EXPORT(RayClosest2##S);   \
  HWY_EXPORT(RayClosest3##S)
LOCUS_EXPORT(F32);
LOCUS_EXPORT(F64);
#undef LOCUS_EXPORT

#define LOCUS_ENTRY(T, S)                                                                       \
  size_t RayHits2(const T* lx, const T* ly, const T* hx, const T* hy, size_t n,                \
                  const Ray2T<T>& r, uint32_t base, uint32_t* ids, T* t) {                      \
    return HWY_DYNAMIC_DISPATCH(RayHits2##S)(lx, ly, hx, hy, n, r, base, ids, t);               \
  }                                                                                             \
  size_t RayHits3(const T* lx, const T* ly, const T* lz, const T* hx, const T* hy,             \
                  const T* hz, size_t n, const Ray3T<T>& r, uint32_t base, uint32_t* ids,      \
                  T* t) {                                                                       \
    return HWY_DYNAMIC_DISPATCH(RayHits3##S)(lx, ly, lz, hx, hy, hz, n, r, base, ids, t);       \
  }                                                                                             \
  void RayHitMask2(const T* lx, const T* ly, const T* hx, const T* hy, size_t n,               \
                   const Ray2T<T>& r, uint64_t* bits, T* t) {                                   \
    HWY_DYNAMIC_DISPATCH(RayHitMask2##S)(lx, ly, hx, hy, n, r, bits, t);                        \
  }                                                                                             \
  void RayHitMask3(const T* lx, const T* ly, const T* lz, const T* hx, const T* hy,            \
                   const T* hz, size_t n, const Ray3T<T>& r, uint64_t* bits, T* t) {           \
    HWY_DYNAMIC_DISPATCH(RayHitMask3##S)(lx, ly, lz, hx, hy, hz, n, r, bits, t);                \
  }                                                                                             \
  bool RayClosest2(const T* lx, const T* ly, const T* hx, const T* hy, size_t n,               \
                   const Ray2T<T>& r, uint32_t base, uint32_t* id, T* t) {                      \
    return HWY_DYNAMIC_DISPATCH(RayClosest2##S)(lx, ly, hx, hy, n, r, base, id, t);             \
  }                                                                                             \
  bool RayClosest3(const T* lx, const T* ly, const T* lz, const T* hx, const T* hy,            \
                   const T* hz, size_t n, const Ray3T<T>& r, uint32_t base, uint32_t* id,      \
                   T* t) {                                                                      \
    return HWY_DYNAMIC_DISPATCH(RayClosest3##S)(lx, ly, lz, hx, hy, hz, n, r, base, id, t);     \
  }
LOCUS_ENTRY(float, F32)
LOCUS_ENTRY(double, F64)
#undef LOCUS_ENTRY

}  // namespace locus::kernels
#endif  // HWY_ONCE
