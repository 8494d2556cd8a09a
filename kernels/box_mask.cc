// Dispatch table and entry points for kernels/box_mask.h.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/box_mask.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include "hwy/highway.h"
#include "kernels/box_mask-inl.h"
#include "kernels/box_mask.h"

HWY_BEFORE_NAMESPACE();
namespace locus::kernels {
namespace HWY_NAMESPACE {

// HWY_EXPORT needs one plain function name per entry: Box{Overlap,Contains}{Ids,Bits,Count}
// {2,3}{F32,F64}. kInside selects the contains predicate.
#define LOCUS_DEFINE_OP(Op, kInside, T, S)                                                    \
  size_t Box##Op##Ids2##S(const T* lx, const T* ly, const T* hx, const T* hy, size_t n,      \
                          const Box2T<T>& q, uint32_t base, uint32_t* out) {                 \
    return BoxMaskIds(n, BoxBoxPred2<T, kInside>{lx, ly, hx, hy, q}, q, base, out);          \
  }                                                                                           \
  size_t Box##Op##Ids3##S(const T* lx, const T* ly, const T* lz, const T* hx, const T* hy,   \
                          const T* hz, size_t n, const Box3T<T>& q, uint32_t base,           \
                          uint32_t* out) {                                                    \
    return BoxMaskIds(n, BoxBoxPred3<T, kInside>{lx, ly, lz, hx, hy, hz, q}, q, base, out);  \
  }                                                                                           \
  void Box##Op##Bits2##S(const T* lx, const T* ly, const T* hx, const T* hy, size_t n,       \
                         const Box2T<T>& q, uint64_t* out) {                                  \
    BoxMaskBits(n, BoxBoxPred2<T, kInside>{lx, ly, hx, hy, q}, q, out);                      \
  }                                                                                           \
  void Box##Op##Bits3##S(const T* lx, const T* ly, const T* lz, const T* hx, const T* hy,    \
                         const T* hz, size_t n, const Box3T<T>& q, uint64_t* out) {          \
    BoxMaskBits(n, BoxBoxPred3<T, kInside>{lx, ly, lz, hx, hy, hz, q}, q, out);              \
  }                                                                                           \
  size_t Box##Op##Count2##S(const T* lx, const T* ly, const T* hx, const T* hy, size_t n,    \
                            const Box2T<T>& q) {                                              \
    return BoxMaskCount(n, BoxBoxPred2<T, kInside>{lx, ly, hx, hy, q}, q);                   \
  }                                                                                           \
  size_t Box##Op##Count3##S(const T* lx, const T* ly, const T* lz, const T* hx, const T* hy, \
                            const T* hz, size_t n, const Box3T<T>& q) {                      \
    return BoxMaskCount(n, BoxBoxPred3<T, kInside>{lx, ly, lz, hx, hy, hz, q}, q);           \
  }
LOCUS_DEFINE_OP(Overlap, false, float, F32)
LOCUS_DEFINE_OP(Overlap, false, double, F64)
LOCUS_DEFINE_OP(Contains, true, float, F32)
LOCUS_DEFINE_OP(Contains, true, double, F64)
#undef LOCUS_DEFINE_OP

}  // namespace HWY_NAMESPACE
}  // namespace locus::kernels
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace locus::kernels {

#define LOCUS_EXPORT_OP(Op, S)    \
  HWY_EXPORT(Box##Op##Ids2##S);   \
  HWY_EXPORT(Box##Op##Ids3##S);   \
  HWY_EXPORT(Box##Op##Bits2##S);  \
  HWY_EXPORT(Box##Op##Bits3##S);  \
  HWY_EXPORT(Box##Op##Count2##S); \
  HWY_EXPORT(Box##Op##Count3##S)
LOCUS_EXPORT_OP(Overlap, F32);
LOCUS_EXPORT_OP(Overlap, F64);
LOCUS_EXPORT_OP(Contains, F32);
LOCUS_EXPORT_OP(Contains, F64);
#undef LOCUS_EXPORT_OP

#define LOCUS_ENTRY_OP(Op, T, S)                                                              \
  size_t Box##Op##Ids2(const T* lx, const T* ly, const T* hx, const T* hy, size_t n,         \
                       const Box2T<T>& q, uint32_t base, uint32_t* out) {                    \
    return HWY_DYNAMIC_DISPATCH(Box##Op##Ids2##S)(lx, ly, hx, hy, n, q, base, out);          \
  }                                                                                           \
  size_t Box##Op##Ids3(const T* lx, const T* ly, const T* lz, const T* hx, const T* hy,      \
                       const T* hz, size_t n, const Box3T<T>& q, uint32_t base,              \
                       uint32_t* out) {                                                       \
    return HWY_DYNAMIC_DISPATCH(Box##Op##Ids3##S)(lx, ly, lz, hx, hy, hz, n, q, base, out);  \
  }                                                                                           \
  void Box##Op##Bits2(const T* lx, const T* ly, const T* hx, const T* hy, size_t n,          \
                      const Box2T<T>& q, uint64_t* out) {                                     \
    HWY_DYNAMIC_DISPATCH(Box##Op##Bits2##S)(lx, ly, hx, hy, n, q, out);                      \
  }                                                                                           \
  void Box##Op##Bits3(const T* lx, const T* ly, const T* lz, const T* hx, const T* hy,       \
                      const T* hz, size_t n, const Box3T<T>& q, uint64_t* out) {             \
    HWY_DYNAMIC_DISPATCH(Box##Op##Bits3##S)(lx, ly, lz, hx, hy, hz, n, q, out);              \
  }                                                                                           \
  size_t Box##Op##Count2(const T* lx, const T* ly, const T* hx, const T* hy, size_t n,       \
                         const Box2T<T>& q) {                                                 \
    return HWY_DYNAMIC_DISPATCH(Box##Op##Count2##S)(lx, ly, hx, hy, n, q);                   \
  }                                                                                           \
  size_t Box##Op##Count3(const T* lx, const T* ly, const T* lz, const T* hx, const T* hy,    \
                         const T* hz, size_t n, const Box3T<T>& q) {                         \
    return HWY_DYNAMIC_DISPATCH(Box##Op##Count3##S)(lx, ly, lz, hx, hy, hz, n, q);           \
  }
LOCUS_ENTRY_OP(Overlap, float, F32)
LOCUS_ENTRY_OP(Overlap, double, F64)
LOCUS_ENTRY_OP(Contains, float, F32)
LOCUS_ENTRY_OP(Contains, double, F64)
#undef LOCUS_ENTRY_OP

}  // namespace locus::kernels
#endif  // HWY_ONCE
