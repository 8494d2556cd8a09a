// Scalar reference implementations of kernels/box_mask.h: one box at a time, written for
// clarity. Pure comparisons, so the SIMD kernels must match them exactly.
#include <cstddef>
#include <cstdint>

#include "kernels/box_mask.h"

namespace locus::kernels::reference {
namespace {

// A closed interval [lo, hi] is valid iff lo <= hi (false for NaN and for the +inf/-inf
// padding sentinel).
template <typename T>
bool Valid(T lo, T hi) {
  return lo <= hi;
}

template <typename T>
bool ValidQuery(const Box2T<T>& q) {
  return Valid(q.min_x, q.max_x) && Valid(q.min_y, q.max_y);
}
template <typename T>
bool ValidQuery(const Box3T<T>& q) {
  return Valid(q.min_x, q.max_x) && Valid(q.min_y, q.max_y) && Valid(q.min_z, q.max_z);
}

// Closed intervals [lo, hi] and [q_lo, q_hi] share a point (both valid).
template <typename T>
bool AxisOverlaps(T lo, T hi, T q_lo, T q_hi) {
  return Valid(lo, hi) && lo <= q_hi && q_lo <= hi;
}
// [lo, hi] is valid and inside [q_lo, q_hi].
template <typename T>
bool AxisInside(T lo, T hi, T q_lo, T q_hi) {
  return Valid(lo, hi) && q_lo <= lo && hi <= q_hi;
}

void SetBit(uint64_t* bits, size_t i) { bits[i / 64] |= uint64_t{1} << (i % 64); }
void ClearBits(uint64_t* bits, size_t n) {
  for (size_t w = 0; w < (n + 63) / 64; ++w) bits[w] = 0;
}

}  // namespace

template <typename T>
bool BoxOverlaps2(T min_x, T min_y, T max_x, T max_y, const Box2T<T>& q) {
  return ValidQuery(q) && AxisOverlaps(min_x, max_x, q.min_x, q.max_x) &&
         AxisOverlaps(min_y, max_y, q.min_y, q.max_y);
}
template <typename T>
bool BoxOverlaps3(T min_x, T min_y, T min_z, T max_x, T max_y, T max_z, const Box3T<T>& q) {
  return ValidQuery(q) && AxisOverlaps(min_x, max_x, q.min_x, q.max_x) &&
         AxisOverlaps(min_y, max_y, q.min_y, q.max_y) &&
         AxisOverlaps(min_z, max_z, q.min_z, q.max_z);
}
template <typename T>
bool BoxInside2(T min_x, T min_y, T max_x, T max_y, const Box2T<T>& q) {
  return ValidQuery(q) && AxisInside(min_x, max_x, q.min_x, q.max_x) &&
         AxisInside(min_y, max_y, q.min_y, q.max_y);
}
template <typename T>
bool BoxInside3(T min_x, T min_y, T min_z, T max_x, T max_y, T max_z, const Box3T<T>& q) {
  return ValidQuery(q) && AxisInside(min_x, max_x, q.min_x, q.max_x) &&
         AxisInside(min_y, max_y, q.min_y, q.max_y) && AxisInside(min_z, max_z, q.min_z, q.max_z);
}

template <typename T>
size_t BoxOverlapIds2(const T* min_x, const T* min_y, const T* max_x, const T* max_y, size_t n,
                      const Box2T<T>& q, uint32_t id_base, uint32_t* out_ids) {
  size_t count = 0;
  for (size_t i = 0; i < n; ++i) {
    if (BoxOverlaps2(min_x[i], min_y[i], max_x[i], max_y[i], q)) {
      out_ids[count++] = id_base + static_cast<uint32_t>(i);
    }
  }
  return count;
}
template <typename T>
size_t BoxOverlapIds3(const T* min_x, const T* min_y, const T* min_z, const T* max_x,
                      const T* max_y, const T* max_z, size_t n, const Box3T<T>& q,
                      uint32_t id_base, uint32_t* out_ids) {
  size_t count = 0;
  for (size_t i = 0; i < n; ++i) {
    if (BoxOverlaps3(min_x[i], min_y[i], min_z[i], max_x[i], max_y[i], max_z[i], q)) {
      out_ids[count++] = id_base + static_cast<uint32_t>(i);
    }
  }
  return count;
}
template <typename T>
void BoxOverlapBits2(const T* min_x, const T* min_y, const T* max_x, const T* max_y, size_t n,
                     const Box2T<T>& q, uint64_t* out_bits) {
  ClearBits(out_bits, n);
  for (size_t i = 0; i < n; ++i) {
    if (BoxOverlaps2(min_x[i], min_y[i], max_x[i], max_y[i], q)) SetBit(out_bits, i);
  }
}
template <typename T>
void BoxOverlapBits3(const T* min_x, const T* min_y, const T* min_z, const T* max_x,
                     const T* max_y, const T* max_z, size_t n, const Box3T<T>& q,
                     uint64_t* out_bits) {
  ClearBits(out_bits, n);
  for (size_t i = 0; i < n; ++i) {
    if (BoxOverlaps3(min_x[i], min_y[i], min_z[i], max_x[i], max_y[i], max_z[i], q)) {
      SetBit(out_bits, i);
    }
  }
}

template <typename T>
size_t BoxContainsIds2(const T* min_x, const T* min_y, const T* max_x, const T* max_y,
                       size_t n, const Box2T<T>& q, uint32_t id_base, uint32_t* out_ids) {
  size_t count = 0;
  for (size_t i = 0; i < n; ++i) {
    if (BoxInside2(min_x[i], min_y[i], max_x[i], max_y[i], q)) {
      out_ids[count++] = id_base + static_cast<uint32_t>(i);
    }
  }
  return count;
}
template <typename T>
size_t BoxContainsIds3(const T* min_x, const T* min_y, const T* min_z, const T* max_x,
                       const T* max_y, const T* max_z, size_t n, const Box3T<T>& q,
                       uint32_t id_base, uint32_t* out_ids) {
  size_t count = 0;
  for (size_t i = 0; i < n; ++i) {
    if (BoxInside3(min_x[i], min_y[i], min_z[i], max_x[i], max_y[i], max_z[i], q)) {
      out_ids[count++] = id_base + static_cast<uint32_t>(i);
    }
  }
  return count;
}
template <typename T>
void BoxContainsBits2(const T* min_x, const T* min_y, const T* max_x, const T* max_y, size_t n,
                      const Box2T<T>& q, uint64_t* out_bits) {
  ClearBits(out_bits, n);
  for (size_t i = 0; i < n; ++i) {
    if (BoxInside2(min_x[i], min_y[i], max_x[i], max_y[i], q)) SetBit(out_bits, i);
  }
}
template <typename T>
void BoxContainsBits3(const T* min_x, const T* min_y, const T* min_z, const T* max_x,
                      const T* max_y, const T* max_z, size_t n, const Box3T<T>& q,
                      uint64_t* out_bits) {
  ClearBits(out_bits, n);
  for (size_t i = 0; i < n; ++i) {
    if (BoxInside3(min_x[i], min_y[i], min_z[i], max_x[i], max_y[i], max_z[i], q)) {
      SetBit(out_bits, i);
    }
  }
}

#define LOCUS_INSTANTIATE(T)                                                                  \
  template bool BoxOverlaps2<T>(T, T, T, T, const Box2T<T>&);                                 \
  template bool BoxOverlaps3<T>(T, T, T, T, T, T, const Box3T<T>&);                           \
  template bool BoxInside2<T>(T, T, T, T, const Box2T<T>&);                                   \
  template bool BoxInside3<T>(T, T, T, T, T, T, const Box3T<T>&);                             \
  template size_t BoxOverlapIds2<T>(const T*, const T*, const T*, const T*, size_t,           \
                                    const Box2T<T>&, uint32_t, uint32_t*);                    \
  template size_t BoxOverlapIds3<T>(const T*, const T*, const T*, const T*, const T*,         \
                                    const T*, size_t, const Box3T<T>&, uint32_t, uint32_t*);  \
  template void BoxOverlapBits2<T>(const T*, const T*, const T*, const T*, size_t,            \
                                   const Box2T<T>&, uint64_t*);                               \
  template void BoxOverlapBits3<T>(const T*, const T*, const T*, const T*, const T*,          \
                                   const T*, size_t, const Box3T<T>&, uint64_t*);             \
  template size_t BoxContainsIds2<T>(const T*, const T*, const T*, const T*, size_t,          \
                                     const Box2T<T>&, uint32_t, uint32_t*);                   \
  template size_t BoxContainsIds3<T>(const T*, const T*, const T*, const T*, const T*,        \
                                     const T*, size_t, const Box3T<T>&, uint32_t, uint32_t*); \
  template void BoxContainsBits2<T>(const T*, const T*, const T*, const T*, size_t,           \
                                    const Box2T<T>&, uint64_t*);                              \
  template void BoxContainsBits3<T>(const T*, const T*, const T*, const T*, const T*,         \
                                    const T*, size_t, const Box3T<T>&, uint64_t*);
LOCUS_INSTANTIATE(float)
LOCUS_INSTANTIATE(double)
#undef LOCUS_INSTANTIATE

}  // namespace locus::kernels::reference
