// Ray vs SoA boxes (kernel family 5): the slab test of one ray against n boxes in 2D or 3D,
// as all hits (ids and entry t), a hit bit mask with entry t per box (the R-tree's node step),
// and the closest hit.
//
// Common contract for every function here:
// - Lanes: T is float or double. Boxes are SoA columns of n values of T each: min_x, min_y
//   [, min_z], max_x, max_y[, max_z]. Ids are uint32 (REQUIRES: id_base + n <= 2^32).
// - Padding: every input column must be readable kColumnPaddingElements (16) elements past
//   n (kernels/column.h); padding values are never part of a result. No alignment is
//   required. n == 0 is allowed.
// - The ray is the segment o + t * d for t in [t_min, t_max] (Ray2T / Ray3T below).
// - The slab test, exactly as every target evaluates it, in T, no fused multiply-add:
//     inv_a = 1 / d_a, once per call, for each axis a in x, y[, z];
//     an axis is *parallel* iff inv_a is +-inf (d_a = +-0, and the subnormal d_a whose
//       reciprocal overflows; every other d_a, however small, takes the slab formula);
//     for each non-parallel axis, in order x, y, z:
//       t1 = (min_a - o_a) * inv_a;  t2 = (max_a - o_a) * inv_a;
//       t_near = max(t_near, min(t1, t2));  t_far = min(t_far, max(t1, t2));
//     starting from t_near = t_min, t_far = t_max;
//     hit iff the box is valid, min_a <= o_a <= max_a on every parallel axis, and
//       t_near <= t_far.
//   So bounds are inclusive: a hit exactly at t_max counts, as does grazing a face, an edge or
//   a corner. A parallel axis never produces inf * 0: it constrains only the position, not t.
//   A ray with every direction component zero is a point: it hits the boxes containing o
//   (when t_min <= t_max).
// - Entry t is t_near, with -0 reported as +0 (so the value does not depend on how a target
//   orders min/max of equal zeros). A ray starting inside a box reports t_min.
// - Invalid boxes: a box with a NaN coordinate or min > max on any axis (including the
//   +inf/-inf padding sentinel) is never hit. (Their t values may be NaN; the kernels mask
//   such boxes explicitly, so the target's NaN behaviour of min/max never shows.)
// - Invalid rays: a ray whose origin or direction has a non-finite component, or whose t_min
//   or t_max is NaN, hits nothing. t_min may be -inf and t_max +inf; t_min > t_max hits
//   nothing.
// - Exactness: every target returns bit for bit what the scalar reference in namespace
//   `reference` returns (same operations in the same order; compiled with
//   -ffp-contract=off).
// - Outputs must not alias inputs or each other.
//
// Thread safety: pure functions; safe to call concurrently.
#ifndef LOCUS_KERNELS_RAY_H_
#define LOCUS_KERNELS_RAY_H_

#include <cstddef>
#include <cstdint>
#include <limits>

namespace locus::kernels {

// The segment (ox, oy) + t * (dx, dy) for t in [t_min, t_max]. The direction need not be unit
// length (t is measured in multiples of it); components may be zero.
template <typename T>
struct Ray2T {
  T ox, oy;
  T dx, dy;
  T t_min = 0;
  T t_max = std::numeric_limits<T>::infinity();
};
template <typename T>
struct Ray3T {
  T ox, oy, oz;
  T dx, dy, dz;
  T t_min = 0;
  T t_max = std::numeric_limits<T>::infinity();
};

// Writes the ids of the boxes hit by `ray` to out_ids (ascending, left-packed) and, when
// out_t is not null, their entry t to out_t (same order); returns how many. Both outputs
// must have room for n elements; entries past the returned count are unspecified.
size_t RayHits2(const float* min_x, const float* min_y, const float* max_x, const float* max_y,
                size_t n, const Ray2T<float>& ray, uint32_t id_base, uint32_t* out_ids,
                float* out_t);
size_t RayHits2(const double* min_x, const double* min_y, const double* max_x,
                const double* max_y, size_t n, const Ray2T<double>& ray, uint32_t id_base,
                uint32_t* out_ids, double* out_t);
size_t RayHits3(const float* min_x, const float* min_y, const float* min_z, const float* max_x,
                const float* max_y, const float* max_z, size_t n, const Ray3T<float>& ray,
                uint32_t id_base, uint32_t* out_ids, float* out_t);
size_t RayHits3(const double* min_x, const double* min_y, const double* min_z,
                const double* max_x, const double* max_y, const double* max_z, size_t n,
                const Ray3T<double>& ray, uint32_t id_base, uint32_t* out_ids, double* out_t);

// Writes the hit mask to out_bits (ceil(n / 64) words; bit i % 64 of word i / 64 is set iff
// box i is hit; bits past n are zero) and, when out_entry_t is not null, entry t for every
// box to out_entry_t[0, n) (the value is unspecified where the box is not hit).
void RayHitMask2(const float* min_x, const float* min_y, const float* max_x, const float* max_y,
                 size_t n, const Ray2T<float>& ray, uint64_t* out_bits, float* out_entry_t);
void RayHitMask2(const double* min_x, const double* min_y, const double* max_x,
                 const double* max_y, size_t n, const Ray2T<double>& ray, uint64_t* out_bits,
                 double* out_entry_t);
void RayHitMask3(const float* min_x, const float* min_y, const float* min_z, const float* max_x,
                 const float* max_y, const float* max_z, size_t n, const Ray3T<float>& ray,
                 uint64_t* out_bits, float* out_entry_t);
void RayHitMask3(const double* min_x, const double* min_y, const double* min_z,
                 const double* max_x, const double* max_y, const double* max_z, size_t n,
                 const Ray3T<double>& ray, uint64_t* out_bits, double* out_entry_t);

// Finds the hit box with the smallest entry t, ties broken by the smaller id. Returns false
// (and writes nothing) when no box is hit; otherwise writes id_base + its row to *out_id and
// its entry t to *out_t (either may be null) and returns true.
bool RayClosest2(const float* min_x, const float* min_y, const float* max_x,
                 const float* max_y, size_t n, const Ray2T<float>& ray, uint32_t id_base,
                 uint32_t* out_id, float* out_t);
bool RayClosest2(const double* min_x, const double* min_y, const double* max_x,
                 const double* max_y, size_t n, const Ray2T<double>& ray, uint32_t id_base,
                 uint32_t* out_id, double* out_t);
bool RayClosest3(const float* min_x, const float* min_y, const float* min_z,
                 const float* max_x, const float* max_y, const float* max_z, size_t n,
                 const Ray3T<float>& ray, uint32_t id_base, uint32_t* out_id, float* out_t);
bool RayClosest3(const double* min_x, const double* min_y, const double* min_z,
                 const double* max_x, const double* max_y, const double* max_z, size_t n,
                 const Ray3T<double>& ray, uint32_t id_base, uint32_t* out_id,
                 double* out_t);

// Scalar references with the same contracts: the test oracles.
namespace reference {
// Returns whether `ray` hits the one box, writing its entry t to *entry_t when it does.
template <typename T>
bool RayHitsBox2(T min_x, T min_y, T max_x, T max_y, const Ray2T<T>& ray, T* entry_t);
template <typename T>
bool RayHitsBox3(T min_x, T min_y, T min_z, T max_x, T max_y, T max_z, const Ray3T<T>& ray,
                 T* entry_t);

template <typename T>
size_t RayHits2(const T* min_x, const T* min_y, const T* max_x, const T* max_y, size_t n,
                const Ray2T<T>& ray, uint32_t id_base, uint32_t* out_ids, T* out_t);
template <typename T>
size_t RayHits3(const T* min_x, const T* min_y, const T* min_z, const T* max_x, const T* max_y,
                const T* max_z, size_t n, const Ray3T<T>& ray, uint32_t id_base,
                uint32_t* out_ids, T* out_t);
// Writes entry t only for the boxes that are hit (the others are left untouched).
template <typename T>
void RayHitMask2(const T* min_x, const T* min_y, const T* max_x, const T* max_y, size_t n,
                 const Ray2T<T>& ray, uint64_t* out_bits, T* out_entry_t);
template <typename T>
void RayHitMask3(const T* min_x, const T* min_y, const T* min_z, const T* max_x,
                 const T* max_y, const T* max_z, size_t n, const Ray3T<T>& ray,
                 uint64_t* out_bits, T* out_entry_t);
template <typename T>
bool RayClosest2(const T* min_x, const T* min_y, const T* max_x, const T* max_y, size_t n,
                 const Ray2T<T>& ray, uint32_t id_base, uint32_t* out_id, T* out_t);
template <typename T>
bool RayClosest3(const T* min_x, const T* min_y, const T* min_z, const T* max_x,
                 const T* max_y, const T* max_z, size_t n, const Ray3T<T>& ray,
                 uint32_t id_base, uint32_t* out_id, T* out_t);
}  // namespace reference

}  // namespace locus::kernels

#endif  // LOCUS_KERNELS_RAY_H_
