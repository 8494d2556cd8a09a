// Box-vs-boxes masks over SoA child boxes (kernel family 4): which of n child boxes overlap a
// query box (the R-tree's inner loop), and which lie entirely inside it (the "node fully
// inside the query: sweep its leaves without tests" step).
//
// Common contract for every function here:
// - Lanes: T is float or double. The child boxes are SoA columns of n values of T each:
//   min_x, min_y[, min_z], max_x, max_y[, max_z]. Ids are uint32 (REQUIRES: id_base + n <= 2^32).
// - Padding: every input column must be readable kColumnPaddingElements (16) elements past
//   n (kernels/column.h); padding values are never part of a result. No alignment is
//   required. n == 0 is allowed.
// - Outputs: out_ids must have room for n elements; entries past the returned count are
//   unspecified. out_bits must have room for ceil(n / 64) words: bit (i % 64) of word i / 64
//   is set iff child i matches, and the bits past n in the last word are zero. Nothing is
//   written outside those ranges. Outputs must not alias inputs.
// - Results: ids are id_base + i, ascending (left-packed in row order).
// - Bounds: boxes are closed. Overlap: child i overlaps q iff on every axis
//   child.min <= q.max and q.min <= child.max (touching faces, edges and corners overlap).
//   Contains: child i is inside q iff on every axis q.min <= child.min and child.max <= q.max
//   (a child equal to q, or touching q's faces from inside, is inside).
// - Invalid children: a child with a NaN coordinate, or with min > max on any axis, never
//   overlaps and is never inside. This includes the R-tree's padding sentinel
//   (min = +inf, max = -inf), even against an infinite query.
// - Invalid queries: a query with a NaN coordinate or min > max on any axis matches nothing.
//   Infinite query bounds are fine ({-inf, +inf} on every axis overlaps every valid child).
// - Exactness: only comparisons are involved, so every target returns exactly what the scalar
//   reference in namespace `reference` returns.
//
// Thread safety: pure functions; safe to call concurrently.
#ifndef LOCUS_KERNELS_BOX_MASK_H_
#define LOCUS_KERNELS_BOX_MASK_H_

#include <cstddef>
#include <cstdint>

#include "kernels/types.h"

namespace locus::kernels {

// ---- overlap: child box intersects the closed query box ------------------------------

// Writes the ids of children overlapping `q` to out_ids; returns how many.
size_t BoxOverlapIds2(const float* min_x, const float* min_y, const float* max_x,
                      const float* max_y, size_t n, const Box2T<float>& q, uint32_t id_base,
                      uint32_t* out_ids);
size_t BoxOverlapIds2(const double* min_x, const double* min_y, const double* max_x,
                      const double* max_y, size_t n, const Box2T<double>& q, uint32_t id_base,
                      uint32_t* out_ids);
size_t BoxOverlapIds3(const float* min_x, const float* min_y, const float* min_z,
                      const float* max_x, const float* max_y, const float* max_z, size_t n,
                      const Box3T<float>& q, uint32_t id_base, uint32_t* out_ids);
size_t BoxOverlapIds3(const double* min_x, const double* min_y, const double* min_z,
                      const double* max_x, const double* max_y, const double* max_z, size_t n,
                      const Box3T<double>& q, uint32_t id_base, uint32_t* out_ids);

// Writes the overlap bit mask of the n children to out_bits (ceil(n / 64) words).
void BoxOverlapBits2(const float* min_x, const float* min_y, const float* max_x,
                     const float* max_y, size_t n, const Box2T<float>& q, uint64_t* out_bits);
void BoxOverlapBits2(const double* min_x, const double* min_y, const double* max_x,
                     const double* max_y, size_t n, const Box2T<double>& q, uint64_t* out_bits);
void BoxOverlapBits3(const float* min_x, const float* min_y, const float* min_z,
                     const float* max_x, const float* max_y, const float* max_z, size_t n,
                     const Box3T<float>& q, uint64_t* out_bits);
void BoxOverlapBits3(const double* min_x, const double* min_y, const double* min_z,
                     const double* max_x, const double* max_y, const double* max_z, size_t n,
                     const Box3T<double>& q, uint64_t* out_bits);

// Returns how many children overlap `q`.
size_t BoxOverlapCount2(const float* min_x, const float* min_y, const float* max_x,
                        const float* max_y, size_t n, const Box2T<float>& q);
size_t BoxOverlapCount2(const double* min_x, const double* min_y, const double* max_x,
                        const double* max_y, size_t n, const Box2T<double>& q);
size_t BoxOverlapCount3(const float* min_x, const float* min_y, const float* min_z,
                        const float* max_x, const float* max_y, const float* max_z, size_t n,
                        const Box3T<float>& q);
size_t BoxOverlapCount3(const double* min_x, const double* min_y, const double* min_z,
                        const double* max_x, const double* max_y, const double* max_z, size_t n,
                        const Box3T<double>& q);

// ---- contains: the closed query box contains the whole child box ---------------------

// Writes the ids of children inside `q` to out_ids; returns how many.
size_t BoxContainsIds2(const float* min_x, const float* min_y, const float* max_x,
                       const float* max_y, size_t n, const Box2T<float>& q, uint32_t id_base,
                       uint32_t* out_ids);
size_t BoxContainsIds2(const double* min_x, const double* min_y, const double* max_x,
                       const double* max_y, size_t n, const Box2T<double>& q, uint32_t id_base,
                       uint32_t* out_ids);
size_t BoxContainsIds3(const float* min_x, const float* min_y, const float* min_z,
                       const float* max_x, const float* max_y, const float* max_z, size_t n,
                       const Box3T<float>& q, uint32_t id_base, uint32_t* out_ids);
size_t BoxContainsIds3(const double* min_x, const double* min_y, const double* min_z,
                       const double* max_x, const double* max_y, const double* max_z, size_t n,
                       const Box3T<double>& q, uint32_t id_base, uint32_t* out_ids);

// Writes the contains bit mask of the n children to out_bits (ceil(n / 64) words).
void BoxContainsBits2(const float* min_x, const float* min_y, const float* max_x,
                      const float* max_y, size_t n, const Box2T<float>& q, uint64_t* out_bits);
void BoxContainsBits2(const double* min_x, const double* min_y, const double* max_x,
                      const double* max_y, size_t n, const Box2T<double>& q, uint64_t* out_bits);
void BoxContainsBits3(const float* min_x, const float* min_y, const float* min_z,
                      const float* max_x, const float* max_y, const float* max_z, size_t n,
                      const Box3T<float>& q, uint64_t* out_bits);
void BoxContainsBits3(const double* min_x, const double* min_y, const double* min_z,
                      const double* max_x, const double* max_y, const double* max_z, size_t n,
                      const Box3T<double>& q, uint64_t* out_bits);

// Returns how many children lie inside `q`.
size_t BoxContainsCount2(const float* min_x, const float* min_y, const float* max_x,
                         const float* max_y, size_t n, const Box2T<float>& q);
size_t BoxContainsCount2(const double* min_x, const double* min_y, const double* max_x,
                         const double* max_y, size_t n, const Box2T<double>& q);
size_t BoxContainsCount3(const float* min_x, const float* min_y, const float* min_z,
                         const float* max_x, const float* max_y, const float* max_z, size_t n,
                         const Box3T<float>& q);
size_t BoxContainsCount3(const double* min_x, const double* min_y, const double* min_z,
                         const double* max_x, const double* max_y, const double* max_z,
                         size_t n, const Box3T<double>& q);

// Scalar references with the same contracts: the test oracles. Ids and bits only (a count
// is the popcount of the bits).
namespace reference {
// Returns whether the child box overlaps / lies inside `q` under the contract above.
template <typename T>
bool BoxOverlaps2(T min_x, T min_y, T max_x, T max_y, const Box2T<T>& q);
template <typename T>
bool BoxOverlaps3(T min_x, T min_y, T min_z, T max_x, T max_y, T max_z, const Box3T<T>& q);
template <typename T>
bool BoxInside2(T min_x, T min_y, T max_x, T max_y, const Box2T<T>& q);
template <typename T>
bool BoxInside3(T min_x, T min_y, T min_z, T max_x, T max_y, T max_z, const Box3T<T>& q);

template <typename T>
size_t BoxOverlapIds2(const T* min_x, const T* min_y, const T* max_x, const T* max_y, size_t n,
                      const Box2T<T>& q, uint32_t id_base, uint32_t* out_ids);
template <typename T>
size_t BoxOverlapIds3(const T* min_x, const T* min_y, const T* min_z, const T* max_x,
                      const T* max_y, const T* max_z, size_t n, const Box3T<T>& q,
                      uint32_t id_base, uint32_t* out_ids);
template <typename T>
void BoxOverlapBits2(const T* min_x, const T* min_y, const T* max_x, const T* max_y, size_t n,
                     const Box2T<T>& q, uint64_t* out_bits);
template <typename T>
void BoxOverlapBits3(const T* min_x, const T* min_y, const T* min_z, const T* max_x,
                     const T* max_y, const T* max_z, size_t n, const Box3T<T>& q,
                     uint64_t* out_bits);
template <typename T>
size_t BoxContainsIds2(const T* min_x, const T* min_y, const T* max_x, const T* max_y,
                       size_t n, const Box2T<T>& q, uint32_t id_base, uint32_t* out_ids);
template <typename T>
size_t BoxContainsIds3(const T* min_x, const T* min_y, const T* min_z, const T* max_x,
                       const T* max_y, const T* max_z, size_t n, const Box3T<T>& q,
                       uint32_t id_base, uint32_t* out_ids);
template <typename T>
void BoxContainsBits2(const T* min_x, const T* min_y, const T* max_x, const T* max_y, size_t n,
                      const Box2T<T>& q, uint64_t* out_bits);
template <typename T>
void BoxContainsBits3(const T* min_x, const T* min_y, const T* min_z, const T* max_x,
                      const T* max_y, const T* max_z, size_t n, const Box3T<T>& q,
                      uint64_t* out_bits);
}  // namespace reference

}  // namespace locus::kernels

#endif  // LOCUS_KERNELS_BOX_MASK_H_
