// Dispatch table and entry points for kernels/point_filter.h.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/point_filter.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include "hwy/highway.h"
#include "kernels/point_filter-inl.h"
#include "kernels/point_filter.h"

HWY_BEFORE_NAMESPACE();
namespace locus::kernels {
namespace HWY_NAMESPACE {

template <typename T>
size_t BoxFilter2T(const T* x, const T* y, size_t n, const Box2T<T>& box, const RowFilter& rows,
                   uint32_t id_base, uint32_t* out_ids) {
  return RunIds(hn::ScalableTag<T>(), n, BoxPred2<T>{x, y, box}, rows, id_base, out_ids,
                nullptr);
}
template <typename T>
size_t BoxFilter3T(const T* x, const T* y, const T* z, size_t n, const Box3T<T>& box,
                   const RowFilter& rows, uint32_t id_base, uint32_t* out_ids) {
  return RunIds(hn::ScalableTag<T>(), n, BoxPred3<T>{x, y, z, box}, rows, id_base, out_ids,
                nullptr);
}
template <typename T>
size_t BoxCount2T(const T* x, const T* y, size_t n, const Box2T<T>& box, const RowFilter& rows) {
  return RunCount(hn::ScalableTag<T>(), n, BoxPred2<T>{x, y, box}, rows);
}
template <typename T>
size_t BoxCount3T(const T* x, const T* y, const T* z, size_t n, const Box3T<T>& box,
                  const RowFilter& rows) {
  return RunCount(hn::ScalableTag<T>(), n, BoxPred3<T>{x, y, z, box}, rows);
}
template <typename T>
size_t RadiusFilter2T(const T* x, const T* y, size_t n, T qx, T qy, T r2, const RowFilter& rows,
                      uint32_t id_base, uint32_t* out_ids, T* out_d2) {
  return RunIds(hn::ScalableTag<T>(), n, RadiusPred2<T>{x, y, qx, qy, r2}, rows, id_base,
                out_ids, out_d2);
}
template <typename T>
size_t RadiusFilter3T(const T* x, const T* y, const T* z, size_t n, T qx, T qy, T qz, T r2,
                      const RowFilter& rows, uint32_t id_base, uint32_t* out_ids, T* out_d2) {
  return RunIds(hn::ScalableTag<T>(), n, RadiusPred3<T>{x, y, z, qx, qy, qz, r2}, rows, id_base,
                out_ids, out_d2);
}
template <typename T>
size_t RadiusCount2T(const T* x, const T* y, size_t n, T qx, T qy, T r2, const RowFilter& rows) {
  return RunCount(hn::ScalableTag<T>(), n, RadiusPred2<T>{x, y, qx, qy, r2}, rows);
}
template <typename T>
size_t RadiusCount3T(const T* x, const T* y, const T* z, size_t n, T qx, T qy, T qz, T r2,
                     const RowFilter& rows) {
  return RunCount(hn::ScalableTag<T>(), n, RadiusPred3<T>{x, y, z, qx, qy, qz, r2}, rows);
}

// HWY_EXPORT needs one plain function name per entry.
#define LOCUS_DEFINE(T, S)                                                                   \
  size_t BoxFilter2##S(const T* x, const T* y, size_t n, const Box2T<T>& b,                 \
                       const RowFilter& r, uint32_t base, uint32_t* out) {                  \
    return BoxFilter2T(x, y, n, b, r, base, out);                                           \
  }                                                                                          \
  size_t BoxFilter3##S(const T* x, const T* y, const T* z, size_t n, const Box3T<T>& b,     \
                       const RowFilter& r, uint32_t base, uint32_t* out) {                  \
    return BoxFilter3T(x, y, z, n, b, r, base, out);                                        \
  }                                                                                          \
  size_t BoxCount2##S(const T* x, const T* y, size_t n, const Box2T<T>& b,                  \
                      const RowFilter& r) {                                                  \
    return BoxCount2T(x, y, n, b, r);                                                        \
  }                                                                                          \
  size_t BoxCount3##S(const T* x, const T* y, const T* z, size_t n, const Box3T<T>& b,      \
                      const RowFilter& r) {                                                  \
    return BoxCount3T(x, y, z, n, b, r);                                                     \
  }                                                                                          \
  size_t RadiusFilter2##S(const T* x, const T* y, size_t n, T qx, T qy, T r2,               \
                          const RowFilter& r, uint32_t base, uint32_t* out, T* d2) {        \
    return RadiusFilter2T(x, y, n, qx, qy, r2, r, base, out, d2);                           \
  }                                                                                          \
  size_t RadiusFilter3##S(const T* x, const T* y, const T* z, size_t n, T qx, T qy, T qz,   \
                          T r2, const RowFilter& r, uint32_t base, uint32_t* out, T* d2) {  \
    return RadiusFilter3T(x, y, z, n, qx, qy, qz, r2, r, base, out, d2);                    \
  }                                                                                          \
  size_t RadiusCount2##S(const T* x, const T* y, size_t n, T qx, T qy, T r2,                \
                         const RowFilter& r) {                                               \
    return RadiusCount2T(x, y, n, qx, qy, r2, r);                                            \
  }                                                                                          \
  size_t RadiusCount3##S(const T* x, const T* y, const T* z, size_t n, T qx, T qy, T qz,    \
                         T r2, const RowFilter& r) {                                         \
    return RadiusCount3T(x, y, z, n, qx, qy, qz, r2, r);                                     \
  }
LOCUS_DEFINE(float, F32)
LOCUS_DEFINE(double, F64)
#undef LOCUS_DEFINE

// Row filters alone run over an int32 lane layout (two int64 rows per pair of lanes);
// the predicate is "always true", so only RowMask decides.
size_t RowFilterIdsImpl(const RowFilter& rows, size_t n, uint32_t id_base, uint32_t* out) {
  const hn::ScalableTag<float> d;
  return RunIds(d, n, AllPred(), rows, id_base, out, nullptr);
}
size_t RowFilterCountImpl(const RowFilter& rows, size_t n) {
  if (!rows.active()) return n;
  return RunCount(hn::ScalableTag<float>(), n, AllPred(), rows);
}

}  // namespace HWY_NAMESPACE
}  // namespace locus::kernels
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace locus::kernels {

#define LOCUS_EXPORT(S)          \
  HWY_EXPORT(BoxFilter2##S);     \
  HWY_EXPORT(BoxFilter3##S);     \
  HWY_EXPORT(BoxCount2##S);      \
  HWY_EXPORT(BoxCount3##S);      \
  HWY_EXPORT(RadiusFilter2##S);  \
  HWY_EXPORT(RadiusFilter3##S);  \
  HWY_EXPORT(RadiusCount2##S);   \
  HWY_EXPORT(RadiusCount3##S)
LOCUS_EXPORT(F32);
LOCUS_EXPORT(F64);
#undef LOCUS_EXPORT
HWY_EXPORT(RowFilterIdsImpl);
HWY_EXPORT(RowFilterCountImpl);

#define LOCUS_ENTRY(T, S)                                                                    \
  size_t BoxFilter2(const T* x, const T* y, size_t n, const Box2T<T>& b, const RowFilter& r, \
                    uint32_t base, uint32_t* out) {                                          \
    return HWY_DYNAMIC_DISPATCH(BoxFilter2##S)(x, y, n, b, r, base, out);                    \
  }                                                                                          \
  size_t BoxFilter3(const T* x, const T* y, const T* z, size_t n, const Box3T<T>& b,         \
                    const RowFilter& r, uint32_t base, uint32_t* out) {                      \
    return HWY_DYNAMIC_DISPATCH(BoxFilter3##S)(x, y, z, n, b, r, base, out);                 \
  }                                                                                          \
  size_t BoxCount2(const T* x, const T* y, size_t n, const Box2T<T>& b, const RowFilter& r) { \
    return HWY_DYNAMIC_DISPATCH(BoxCount2##S)(x, y, n, b, r);                                \
  }                                                                                          \
  size_t BoxCount3(const T* x, const T* y, const T* z, size_t n, const Box3T<T>& b,          \
                   const RowFilter& r) {                                                     \
    return HWY_DYNAMIC_DISPATCH(BoxCount3##S)(x, y, z, n, b, r);                             \
  }                                                                                          \
  size_t RadiusFilter2(const T* x, const T* y, size_t n, T qx, T qy, T r2,                   \
                       const RowFilter& r, uint32_t base, uint32_t* out, T* d2) {            \
    return HWY_DYNAMIC_DISPATCH(RadiusFilter2##S)(x, y, n, qx, qy, r2, r, base, out, d2);    \
  }                                                                                          \
  size_t RadiusFilter3(const T* x, const T* y, const T* z, size_t n, T qx, T qy, T qz, T r2, \
                       const RowFilter& r, uint32_t base, uint32_t* out, T* d2) {            \
    return HWY_DYNAMIC_DISPATCH(RadiusFilter3##S)(x, y, z, n, qx, qy, qz, r2, r, base, out,  \
                                                  d2);                                       \
  }                                                                                          \
  size_t RadiusCount2(const T* x, const T* y, size_t n, T qx, T qy, T r2,                    \
                      const RowFilter& r) {                                                  \
    return HWY_DYNAMIC_DISPATCH(RadiusCount2##S)(x, y, n, qx, qy, r2, r);                    \
  }                                                                                          \
  size_t RadiusCount3(const T* x, const T* y, const T* z, size_t n, T qx, T qy, T qz, T r2,  \
                      const RowFilter& r) {                                                  \
    return HWY_DYNAMIC_DISPATCH(RadiusCount3##S)(x, y, z, n, qx, qy, qz, r2, r);             \
  }
LOCUS_ENTRY(float, F32)
LOCUS_ENTRY(double, F64)
#undef LOCUS_ENTRY

size_t RowFilterIds(const RowFilter& rows, size_t n, uint32_t id_base, uint32_t* out_ids) {
  return HWY_DYNAMIC_DISPATCH(RowFilterIdsImpl)(rows, n, id_base, out_ids);
}
size_t RowFilterCount(const RowFilter& rows, size_t n) {
  return HWY_DYNAMIC_DISPATCH(RowFilterCountImpl)(rows, n);
}

}  // namespace locus::kernels
#endif  // HWY_ONCE
