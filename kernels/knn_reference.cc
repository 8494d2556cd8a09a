// Scalar references for kernels/knn.h: the test oracles. Plain loops in the same operation
// order as the SIMD kernels (built with -ffp-contract=off, so no fused multiply-add). The
// top-k references do not rely on TopK's heap: they gather every candidate, sort by
// (dist_sq, id) and keep the first k, then load the result back into the TopK.
//
// Thread safety: pure functions apart from the TopK they are handed.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels/knn.h"
#include "kernels/point_filter.h"  // reference::RowPasses

namespace locus::kernels::reference {
namespace {

template <typename T>
T SqDist2(T x, T y, T qx, T qy) {
  const T dx = x - qx;
  const T dy = y - qy;
  return dx * dx + dy * dy;
}

template <typename T>
T SqDist3(T x, T y, T z, T qx, T qy, T qz) {
  const T dx = x - qx;
  const T dy = y - qy;
  const T dz = z - qz;
  return dx * dx + dy * dy + dz * dz;
}

// Selects the k smallest by (dist_sq, id) among what `top` holds plus every i in [0, n) that
// passes `rows` and has dist(i) <= max_dist_sq (which also drops NaN), and stores them in top.
template <typename T, class Dist>
void SelectInto(size_t n, const Dist& dist, const RowFilter& rows, uint32_t id_base,
                TopK<T>* top) {
  std::vector<Neighbor<T>> all = top->Sorted();
  const T max_dist_sq = top->max_dist_sq();
  for (size_t i = 0; i < n; ++i) {
    const T d2 = dist(i);
    if (d2 <= max_dist_sq && RowPasses(rows, i)) {
      all.push_back({d2, id_base + static_cast<uint32_t>(i)});
    }
  }
  const size_t keep = std::min(top->k(), all.size());
  std::partial_sort(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(keep), all.end());
  top->Reset(top->k(), max_dist_sq);
  for (size_t j = 0; j < keep; ++j) top->Push(all[j].dist_sq, all[j].id);
}

}  // namespace

template <typename T>
void SquaredDistances2(const T* x, const T* y, size_t n, T qx, T qy, T* out) {
  for (size_t i = 0; i < n; ++i) out[i] = SqDist2(x[i], y[i], qx, qy);
}

template <typename T>
void SquaredDistances3(const T* x, const T* y, const T* z, size_t n, T qx, T qy, T qz, T* out) {
  for (size_t i = 0; i < n; ++i) out[i] = SqDist3(x[i], y[i], z[i], qx, qy, qz);
}

template <typename T>
void TopK2(const T* x, const T* y, size_t n, T qx, T qy, const RowFilter& rows, uint32_t id_base,
           TopK<T>* top) {
  SelectInto(n, [&](size_t i) { return SqDist2(x[i], y[i], qx, qy); }, rows, id_base, top);
}

template <typename T>
void TopK3(const T* x, const T* y, const T* z, size_t n, T qx, T qy, T qz, const RowFilter& rows,
           uint32_t id_base, TopK<T>* top) {
  SelectInto(n, [&](size_t i) { return SqDist3(x[i], y[i], z[i], qx, qy, qz); }, rows, id_base,
             top);
}

template <typename T>
void TopKFromDistances(const T* dist, size_t n, uint32_t id_base, TopK<T>* top) {
  SelectInto(n, [&](size_t i) { return dist[i]; }, RowFilter{}, id_base, top);
}

#define LOCUS_INSTANTIATE(T)                                                                 \
  template void SquaredDistances2<T>(const T*, const T*, size_t, T, T, T*);                  \
  template void SquaredDistances3<T>(const T*, const T*, const T*, size_t, T, T, T, T*);     \
  template void TopK2<T>(const T*, const T*, size_t, T, T, const RowFilter&, uint32_t,       \
                         TopK<T>*);                                                          \
  template void TopK3<T>(const T*, const T*, const T*, size_t, T, T, T, const RowFilter&,    \
                         uint32_t, TopK<T>*);                                                \
  template void TopKFromDistances<T>(const T*, size_t, uint32_t, TopK<T>*);
LOCUS_INSTANTIATE(float)
LOCUS_INSTANTIATE(double)
#undef LOCUS_INSTANTIATE

}  // namespace locus::kernels::reference
