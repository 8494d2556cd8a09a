// Point filters over SoA columns: box filter (kernel family 1), radius filter (family 2)
// and time/expiry row masks (family 8), fused into one pass.
//
// Common contract for every function here:
// - Lanes: T is float or double; x/y/z are separate columns of n values of T; ids are
//   uint32 (REQUIRES: id_base + n <= 2^32). RowFilter columns are int64.
// - Padding: every input column must be readable kColumnPaddingElements (16) elements past
//   n (kernels/column.h); the padding values are never part of a result. No alignment is
//   required. n == 0 is allowed.
// - Outputs: out_ids (and out_dist_sq) must have room for n elements. The kernel writes
//   only inside [0, n); entries past the returned count are unspecified. Outputs must not
//   alias inputs or each other.
// - Results: ids are id_base + row, ascending (left-packed in row order).
// - Exactness: the predicate is evaluated in T with IEEE operations in a fixed order and
//   no fused multiply-add, so every target returns exactly what the scalar reference in
//   namespace `reference` returns, bit for bit.
// - Bounds: boxes are closed (min <= p <= max on every axis); radius is inclusive
//   (dx*dx + dy*dy [+ dz*dz] <= radius_sq, summed in that order). A row with a NaN
//   coordinate never matches. Query parameters must not be NaN (a NaN query matches
//   nothing, but validating queries is the caller's job).
// - Row filter: see RowFilter in kernels/types.h; applied in the same pass.
//
// Thread safety: pure functions; safe to call concurrently.
#ifndef LOCUS_KERNELS_POINT_FILTER_H_
#define LOCUS_KERNELS_POINT_FILTER_H_

#include <cstddef>
#include <cstdint>

#include "kernels/types.h"

namespace locus::kernels {

// Writes the ids of rows inside `box` to out_ids; returns how many.
size_t BoxFilter2(const float* x, const float* y, size_t n, const Box2T<float>& box,
                  const RowFilter& rows, uint32_t id_base, uint32_t* out_ids);
size_t BoxFilter2(const double* x, const double* y, size_t n, const Box2T<double>& box,
                  const RowFilter& rows, uint32_t id_base, uint32_t* out_ids);
size_t BoxFilter3(const float* x, const float* y, const float* z, size_t n,
                  const Box3T<float>& box, const RowFilter& rows, uint32_t id_base,
                  uint32_t* out_ids);
size_t BoxFilter3(const double* x, const double* y, const double* z, size_t n,
                  const Box3T<double>& box, const RowFilter& rows, uint32_t id_base,
                  uint32_t* out_ids);

// Returns how many rows are inside `box`.
size_t BoxCount2(const float* x, const float* y, size_t n, const Box2T<float>& box,
                 const RowFilter& rows);
size_t BoxCount2(const double* x, const double* y, size_t n, const Box2T<double>& box,
                 const RowFilter& rows);
size_t BoxCount3(const float* x, const float* y, const float* z, size_t n,
                 const Box3T<float>& box, const RowFilter& rows);
size_t BoxCount3(const double* x, const double* y, const double* z, size_t n,
                 const Box3T<double>& box, const RowFilter& rows);

// Writes the ids of rows within squared distance radius_sq of (qx, qy[, qz]) to out_ids,
// and, when out_dist_sq is not null, their squared distances to out_dist_sq (same order).
// Returns how many.
size_t RadiusFilter2(const float* x, const float* y, size_t n, float qx, float qy,
                     float radius_sq, const RowFilter& rows, uint32_t id_base,
                     uint32_t* out_ids, float* out_dist_sq);
size_t RadiusFilter2(const double* x, const double* y, size_t n, double qx, double qy,
                     double radius_sq, const RowFilter& rows, uint32_t id_base,
                     uint32_t* out_ids, double* out_dist_sq);
size_t RadiusFilter3(const float* x, const float* y, const float* z, size_t n, float qx,
                     float qy, float qz, float radius_sq, const RowFilter& rows,
                     uint32_t id_base, uint32_t* out_ids, float* out_dist_sq);
size_t RadiusFilter3(const double* x, const double* y, const double* z, size_t n, double qx,
                     double qy, double qz, double radius_sq, const RowFilter& rows,
                     uint32_t id_base, uint32_t* out_ids, double* out_dist_sq);

// Returns how many rows are within squared distance radius_sq.
size_t RadiusCount2(const float* x, const float* y, size_t n, float qx, float qy,
                    float radius_sq, const RowFilter& rows);
size_t RadiusCount2(const double* x, const double* y, size_t n, double qx, double qy,
                    double radius_sq, const RowFilter& rows);
size_t RadiusCount3(const float* x, const float* y, const float* z, size_t n, float qx,
                    float qy, float qz, float radius_sq, const RowFilter& rows);
size_t RadiusCount3(const double* x, const double* y, const double* z, size_t n, double qx,
                    double qy, double qz, double radius_sq, const RowFilter& rows);

// Time masks alone: ids (or the count) of rows that pass `rows`. With no active filter
// every row passes.
size_t RowFilterIds(const RowFilter& rows, size_t n, uint32_t id_base, uint32_t* out_ids);
size_t RowFilterCount(const RowFilter& rows, size_t n);

// Scalar references with the same signatures and contracts: the test oracles.
namespace reference {
template <typename T>
size_t BoxFilter2(const T* x, const T* y, size_t n, const Box2T<T>& box, const RowFilter& rows,
                  uint32_t id_base, uint32_t* out_ids);
template <typename T>
size_t BoxFilter3(const T* x, const T* y, const T* z, size_t n, const Box3T<T>& box,
                  const RowFilter& rows, uint32_t id_base, uint32_t* out_ids);
template <typename T>
size_t RadiusFilter2(const T* x, const T* y, size_t n, T qx, T qy, T radius_sq,
                     const RowFilter& rows, uint32_t id_base, uint32_t* out_ids,
                     T* out_dist_sq);
template <typename T>
size_t RadiusFilter3(const T* x, const T* y, const T* z, size_t n, T qx, T qy, T qz,
                     T radius_sq, const RowFilter& rows, uint32_t id_base, uint32_t* out_ids,
                     T* out_dist_sq);
size_t RowFilterIds(const RowFilter& rows, size_t n, uint32_t id_base, uint32_t* out_ids);
// Returns whether row i passes `rows`.
bool RowPasses(const RowFilter& rows, size_t i);
}  // namespace reference

}  // namespace locus::kernels

#endif  // LOCUS_KERNELS_POINT_FILTER_H_
