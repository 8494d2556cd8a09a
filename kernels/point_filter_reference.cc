// Scalar reference implementations of kernels/point_filter.h: the obvious loops, written
// for clarity, compiled with -ffp-contract=off like the SIMD versions.
#include <cstddef>
#include <cstdint>

#include "kernels/point_filter.h"

namespace locus::kernels::reference {

bool RowPasses(const RowFilter& rows, size_t i) {
  if (rows.t && !(rows.t_min <= rows.t[i] && rows.t[i] <= rows.t_max)) return false;
  if (rows.expires && !(rows.expires[i] > rows.now)) return false;
  return true;
}

template <typename T>
size_t BoxFilter2(const T* x, const T* y, size_t n, const Box2T<T>& b, const RowFilter& rows,
                  uint32_t id_base, uint32_t* out_ids) {
  size_t count = 0;
  for (size_t i = 0; i < n; ++i) {
    if (b.min_x <= x[i] && x[i] <= b.max_x && b.min_y <= y[i] && y[i] <= b.max_y &&
        RowPasses(rows, i)) {
      out_ids[count++] = id_base + static_cast<uint32_t>(i);
    }
  }
  return count;
}

template <typename T>
size_t BoxFilter3(const T* x, const T* y, const T* z, size_t n, const Box3T<T>& b,
                  const RowFilter& rows, uint32_t id_base, uint32_t* out_ids) {
  size_t count = 0;
  for (size_t i = 0; i < n; ++i) {
    if (b.min_x <= x[i] && x[i] <= b.max_x && b.min_y <= y[i] && y[i] <= b.max_y &&
        b.min_z <= z[i] && z[i] <= b.max_z && RowPasses(rows, i)) {
      out_ids[count++] = id_base + static_cast<uint32_t>(i);
    }
  }
  return count;
}

template <typename T>
size_t RadiusFilter2(const T* x, const T* y, size_t n, T qx, T qy, T radius_sq,
                     const RowFilter& rows, uint32_t id_base, uint32_t* out_ids,
                     T* out_dist_sq) {
  size_t count = 0;
  for (size_t i = 0; i < n; ++i) {
    const T dx = x[i] - qx;
    const T dy = y[i] - qy;
    const T d2 = dx * dx + dy * dy;
    if (d2 <= radius_sq && RowPasses(rows, i)) {
      if (out_dist_sq) out_dist_sq[count] = d2;
      out_ids[count++] = id_base + static_cast<uint32_t>(i);
    }
  }
  return count;
}

template <typename T>
size_t RadiusFilter3(const T* x, const T* y, const T* z, size_t n, T qx, T qy, T qz,
                     T radius_sq, const RowFilter& rows, uint32_t id_base, uint32_t* out_ids,
                     T* out_dist_sq) {
  size_t count = 0;
  for (size_t i = 0; i < n; ++i) {
    const T dx = x[i] - qx;
    const T dy = y[i] - qy;
    const T dz = z[i] - qz;
    const T d2 = dx * dx + dy * dy + dz * dz;
    if (d2 <= radius_sq && RowPasses(rows, i)) {
      if (out_dist_sq) out_dist_sq[count] = d2;
      out_ids[count++] = id_base + static_cast<uint32_t>(i);
    }
  }
  return count;
}

size_t RowFilterIds(const RowFilter& rows, size_t n, uint32_t id_base, uint32_t* out_ids) {
  size_t count = 0;
  for (size_t i = 0; i < n; ++i) {
    if (RowPasses(rows, i)) out_ids[count++] = id_base + static_cast<uint32_t>(i);
  }
  return count;
}

#define LOCUS_INSTANTIATE(T)                                                                 \
  template size_t BoxFilter2<T>(const T*, const T*, size_t, const Box2T<T>&,                 \
                                const RowFilter&, uint32_t, uint32_t*);                      \
  template size_t BoxFilter3<T>(const T*, const T*, const T*, size_t, const Box3T<T>&,       \
                                const RowFilter&, uint32_t, uint32_t*);                      \
  template size_t RadiusFilter2<T>(const T*, const T*, size_t, T, T, T, const RowFilter&,    \
                                   uint32_t, uint32_t*, T*);                                 \
  template size_t RadiusFilter3<T>(const T*, const T*, const T*, size_t, T, T, T, T,         \
                                   const RowFilter&, uint32_t, uint32_t*, T*);
LOCUS_INSTANTIATE(float)
LOCUS_INSTANTIATE(double)
#undef LOCUS_INSTANTIATE

}  // namespace locus::kernels::reference
