// Dispatch table and entry points for kernels/knn.h (squared distances and top-k).
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/knn.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include "hwy/highway.h"
#include "kernels/knn-inl.h"
#include "kernels/knn.h"

HWY_BEFORE_NAMESPACE();
namespace locus::kernels {
namespace HWY_NAMESPACE {

// HWY_EXPORT needs one plain function name per entry.
#define LOCUS_DEFINE(T, S)                                                                    \
  void SquaredDistances2##S(const T* x, const T* y, size_t n, T qx, T qy, T* out) {          \
    DistancesLoop(hn::ScalableTag<T>(), n, SqDist2<T>{x, y, qx, qy}, out);                   \
  }                                                                                           \
  void SquaredDistances3##S(const T* x, const T* y, const T* z, size_t n, T qx, T qy, T qz,  \
                            T* out) {                                                         \
    DistancesLoop(hn::ScalableTag<T>(), n, SqDist3<T>{x, y, z, qx, qy, qz}, out);            \
  }                                                                                           \
  void TopK2##S(const T* x, const T* y, size_t n, T qx, T qy, const RowFilter& rows,         \
                uint32_t base, TopK<T>* top) {                                               \
    RunTopK(hn::ScalableTag<T>(), n, SqDist2<T>{x, y, qx, qy}, rows, base, top);             \
  }                                                                                           \
  void TopK3##S(const T* x, const T* y, const T* z, size_t n, T qx, T qy, T qz,              \
                const RowFilter& rows, uint32_t base, TopK<T>* top) {                        \
    RunTopK(hn::ScalableTag<T>(), n, SqDist3<T>{x, y, z, qx, qy, qz}, rows, base, top);      \
  }                                                                                           \
  void TopKFromDistances##S(const T* dist, size_t n, uint32_t base, TopK<T>* top) {          \
    RunTopK(hn::ScalableTag<T>(), n, LoadDist<T>{dist}, RowFilter{}, base, top);             \
  }
LOCUS_DEFINE(float, F32)
LOCUS_DEFINE(double, F64)
#undef LOCUS_DEFINE

}  // namespace HWY_NAMESPACE
}  // namespace locus::kernels
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace locus::kernels {

#define LOCUS_EXPORT(S)            \
  HWY_EXPORT(SquaredDistances2##S); \
  HWY_EXPORT(SquaredDistances3##S); \
  HWY_EXPORT(TopK2##S);             \
  HWY_EXPORT(TopK3##S);             \
  HWY_EXPORT(TopKFromDistances##S)
LOCUS_EXPORT(F32);
LOCUS_EXPORT(F64);
#undef LOCUS_EXPORT

#define LOCUS_ENTRY(T, S)                                                                     \
  void SquaredDistances2(const T* x, const T* y, size_t n, T qx, T qy, T* out) {             \
    HWY_DYNAMIC_DISPATCH(SquaredDistances2##S)(x, y, n, qx, qy, out);                        \
  }                                                                                           \
  void SquaredDistances3(const T* x, const T* y, const T* z, size_t n, T qx, T qy, T qz,     \
                         T* out) {                                                            \
    HWY_DYNAMIC_DISPATCH(SquaredDistances3##S)(x, y, z, n, qx, qy, qz, out);                 \
  }                                                                                           \
  void TopK2(const T* x, const T* y, size_t n, T qx, T qy, const RowFilter& rows,            \
             uint32_t base, TopK<T>* top) {                                                  \
    HWY_DYNAMIC_DISPATCH(TopK2##S)(x, y, n, qx, qy, rows, base, top);                        \
  }                                                                                           \
  void TopK3(const T* x, const T* y, const T* z, size_t n, T qx, T qy, T qz,                 \
             const RowFilter& rows, uint32_t base, TopK<T>* top) {                           \
    HWY_DYNAMIC_DISPATCH(TopK3##S)(x, y, z, n, qx, qy, qz, rows, base, top);                 \
  }                                                                                           \
  void TopKFromDistances(const T* dist, size_t n, uint32_t base, TopK<T>* top) {             \
    HWY_DYNAMIC_DISPATCH(TopKFromDistances##S)(dist, n, base, top);                          \
  }
LOCUS_ENTRY(float, F32)
LOCUS_ENTRY(double, F64)
#undef LOCUS_ENTRY

}  // namespace locus::kernels
#endif  // HWY_ONCE
