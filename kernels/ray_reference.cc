// Scalar reference implementations of kernels/ray.h: the slab test one box at a time, in
// exactly the operation order the header specifies, compiled with -ffp-contract=off like the
// SIMD kernels.
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "kernels/ray.h"

namespace locus::kernels::reference {
namespace {

// min / max with the x86 operand convention; for the non-NaN values they see on a hit, every
// convention agrees except on the sign of a zero, which the final "+ 0" erases.
template <typename T>
T Min(T a, T b) {
  return a < b ? a : b;
}
template <typename T>
T Max(T a, T b) {
  return a > b ? a : b;
}

// One axis of the slab test. `inv` is 1 / d for this axis; +-inf marks a parallel axis.
// Returns false when the axis alone rules the box out.
template <typename T>
bool Axis(T lo, T hi, T o, T inv, T* t_near, T* t_far) {
  if (std::isinf(inv)) return lo <= o && o <= hi;  // parallel: position only
  if (!(lo <= hi)) return false;                    // NaN or crossed
  const T t1 = (lo - o) * inv;
  const T t2 = (hi - o) * inv;
  *t_near = Max(*t_near, Min(t1, t2));
  *t_far = Min(*t_far, Max(t1, t2));
  return true;
}

template <typename T>
bool WellFormed(const Ray2T<T>& r) {
  return std::isfinite(r.ox) && std::isfinite(r.oy) && std::isfinite(r.dx) &&
         std::isfinite(r.dy) && !std::isnan(r.t_min) && !std::isnan(r.t_max);
}
template <typename T>
bool WellFormed(const Ray3T<T>& r) {
  return std::isfinite(r.ox) && std::isfinite(r.oy) && std::isfinite(r.oz) &&
         std::isfinite(r.dx) && std::isfinite(r.dy) && std::isfinite(r.dz) &&
         !std::isnan(r.t_min) && !std::isnan(r.t_max);
}

void ClearBits(uint64_t* bits, size_t n) {
  for (size_t w = 0; w < (n + 63) / 64; ++w) bits[w] = 0;
}

}  // namespace

template <typename T>
bool RayHitsBox2(T min_x, T min_y, T max_x, T max_y, const Ray2T<T>& ray, T* entry_t) {
  if (!WellFormed(ray)) return false;
  T t_near = ray.t_min, t_far = ray.t_max;
  if (!Axis(min_x, max_x, ray.ox, T(1) / ray.dx, &t_near, &t_far)) return false;
  if (!Axis(min_y, max_y, ray.oy, T(1) / ray.dy, &t_near, &t_far)) return false;
  if (!(t_near <= t_far)) return false;
  *entry_t = t_near + T(0);  // -0 -> +0
  return true;
}

template <typename T>
bool RayHitsBox3(T min_x, T min_y, T min_z, T max_x, T max_y, T max_z, const Ray3T<T>& ray,
                 T* entry_t) {
  if (!WellFormed(ray)) return false;
  T t_near = ray.t_min, t_far = ray.t_max;
  if (!Axis(min_x, max_x, ray.ox, T(1) / ray.dx, &t_near, &t_far)) return false;
  if (!Axis(min_y, max_y, ray.oy, T(1) / ray.dy, &t_near, &t_far)) return false;
  if (!Axis(min_z, max_z, ray.oz, T(1) / ray.dz, &t_near, &t_far)) return false;
  if (!(t_near <= t_far)) return false;
  *entry_t = t_near + T(0);
  return true;
}

template <typename T>
size_t RayHits2(const T* min_x, const T* min_y, const T* max_x, const T* max_y, size_t n,
                const Ray2T<T>& ray, uint32_t id_base, uint32_t* out_ids, T* out_t) {
  size_t count = 0;
  for (size_t i = 0; i < n; ++i) {
    T t;
    if (RayHitsBox2(min_x[i], min_y[i], max_x[i], max_y[i], ray, &t)) {
      if (out_t) out_t[count] = t;
      out_ids[count++] = id_base + static_cast<uint32_t>(i);
    }
  }
  return count;
}

template <typename T>
size_t RayHits3(const T* min_x, const T* min_y, const T* min_z, const T* max_x, const T* max_y,
                const T* max_z, size_t n, const Ray3T<T>& ray, uint32_t id_base,
                uint32_t* out_ids, T* out_t) {
  size_t count = 0;
  for (size_t i = 0; i < n; ++i) {
    T t;
    if (RayHitsBox3(min_x[i], min_y[i], min_z[i], max_x[i], max_y[i], max_z[i], ray, &t)) {
      if (out_t) out_t[count] = t;
      out_ids[count++] = id_base + static_cast<uint32_t>(i);
    }
  }
  return count;
}

template <typename T>
void RayHitMask2(const T* min_x, const T* min_y, const T* max_x, const T* max_y, size_t n,
                 const Ray2T<T>& ray, uint64_t* out_bits, T* out_entry_t) {
  ClearBits(out_bits, n);
  for (size_t i = 0; i < n; ++i) {
    T t;
    if (RayHitsBox2(min_x[i], min_y[i], max_x[i], max_y[i], ray, &t)) {
      out_bits[i / 64] |= uint64_t{1} << (i % 64);
      if (out_entry_t) out_entry_t[i] = t;
    }
  }
}

template <typename T>
void RayHitMask3(const T* min_x, const T* min_y, const T* min_z, const T* max_x,
                 const T* max_y, const T* max_z, size_t n, const Ray3T<T>& ray,
                 uint64_t* out_bits, T* out_entry_t) {
  ClearBits(out_bits, n);
  for (size_t i = 0; i < n; ++i) {
    T t;
    if (RayHitsBox3(min_x[i], min_y[i], min_z[i], max_x[i], max_y[i], max_z[i], ray, &t)) {
      out_bits[i / 64] |= uint64_t{1} << (i % 64);
      if (out_entry_t) out_entry_t[i] = t;
    }
  }
}

template <typename T>
bool RayClosest2(const T* min_x, const T* min_y, const T* max_x, const T* max_y, size_t n,
                 const Ray2T<T>& ray, uint32_t id_base, uint32_t* out_id, T* out_t) {
  bool found = false;
  size_t best_i = 0;
  T best_t = 0;
  for (size_t i = 0; i < n; ++i) {
    T t;
    if (RayHitsBox2(min_x[i], min_y[i], max_x[i], max_y[i], ray, &t) && (!found || t < best_t)) {
      found = true, best_i = i, best_t = t;
    }
  }
  if (found) {
    if (out_id) *out_id = id_base + static_cast<uint32_t>(best_i);
    if (out_t) *out_t = best_t;
  }
  return found;
}

template <typename T>
bool RayClosest3(const T* min_x, const T* min_y, const T* min_z, const T* max_x,
                 const T* max_y, const T* max_z, size_t n, const Ray3T<T>& ray,
                 uint32_t id_base, uint32_t* out_id, T* out_t) {
  bool found = false;
  size_t best_i = 0;
  T best_t = 0;
  for (size_t i = 0; i < n; ++i) {
    T t;
    if (RayHitsBox3(min_x[i], min_y[i], min_z[i], max_x[i], max_y[i], max_z[i], ray, &t) &&
        (!found || t < best_t)) {
      found = true, best_i = i, best_t = t;
    }
  }
  if (found) {
    if (out_id) *out_id = id_base + static_cast<uint32_t>(best_i);
    if (out_t) *out_t = best_t;
  }
  return found;
}

#define LOCUS_INSTANTIATE(T)                                                                   \
  template bool RayHitsBox2<T>(T, T, T, T, const Ray2T<T>&, T*);                               \
  template bool RayHitsBox3<T>(T, T, T, T, T, T, const Ray3T<T>&, T*);                         \
  template size_t RayHits2<T>(const T*, const T*, const T*, const T*, size_t, const Ray2T<T>&, \
                              uint32_t, uint32_t*, T*);                                        \
  template size_t RayHits3<T>(const T*, const T*, const T*, const T*, const T*, const T*,      \
                              size_t, const Ray3T<T>&, uint32_t, uint32_t*, T*);               \
  template void RayHitMask2<T>(const T*, const T*, const T*, const T*, size_t,                 \
                               const Ray2T<T>&, uint64_t*, T*);                                \
  template void RayHitMask3<T>(const T*, const T*, const T*, const T*, const T*, const T*,     \
                               size_t, const Ray3T<T>&, uint64_t*, T*);                        \
  template bool RayClosest2<T>(const T*, const T*, const T*, const T*, size_t,                 \
                               const Ray2T<T>&, uint32_t, uint32_t*, T*);                      \
  template bool RayClosest3<T>(const T*, const T*, const T*, const T*, const T*, const T*,     \
                               size_t, const Ray3T<T>&, uint32_t, uint32_t*, T*);
LOCUS_INSTANTIATE(float)
LOCUS_INSTANTIATE(double)
#undef LOCUS_INSTANTIATE

}  // namespace locus::kernels::reference
