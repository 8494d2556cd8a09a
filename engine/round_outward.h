// Outward rounding of f64 coordinates to a tree's storage type: f32 trees store every box
// rounded outward (min down, max up) and round every query box the same way, so a stored box
// contains the exact one and a query's answer is a superset of the exact answer. For f64 the
// functions are the identity. Used by the build (packed_rtree.cc) and the range methods
// (rtree_range.cc).
//
// Thread safety: pure functions.
#ifndef LOCUS_ENGINE_ROUND_OUTWARD_H_
#define LOCUS_ENGINE_ROUND_OUTWARD_H_

#include <bit>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "kernels/types.h"
#include "locus/geometry.h"

namespace locus::engine::internal {

// Returns the next representable T toward -inf (Down) or +inf (Up) of a non-NaN t, inline:
// std::nextafter is a libm call, and an f32 build rounds nearly every coordinate (4M calls
// for 1M boxes) — it made f32 builds slower than f64 ones.
template <typename T>
T StepDown(T t) {
  using U = std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>;
  if (t == T(0)) return -std::numeric_limits<T>::denorm_min();
  if (t == -std::numeric_limits<T>::infinity()) return t;
  const U bits = std::bit_cast<U>(t);
  return std::bit_cast<T>(t > T(0) ? bits - 1 : bits + 1);
}
template <typename T>
T StepUp(T t) {
  return -StepDown(-t);
}

// Rounds outward to T: the largest T <= v (RoundDown) and the smallest T >= v (RoundUp).
template <typename T>
T RoundDown(double v) {
  const T t = static_cast<T>(v);
  return static_cast<double>(t) > v ? StepDown(t) : t;
}
template <typename T>
T RoundUp(double v) {
  const T t = static_cast<T>(v);
  return static_cast<double>(t) < v ? StepUp(t) : t;
}

// Returns `b` as the kernels' box of T, rounded outward.
template <typename T>
kernels::Box2T<T> ToKernelBox(const Box2& b) {
  return {RoundDown<T>(b.min.x), RoundDown<T>(b.min.y), RoundUp<T>(b.max.x), RoundUp<T>(b.max.y)};
}
template <typename T>
kernels::Box3T<T> ToKernelBox(const Box3& b) {
  return {RoundDown<T>(b.min.x), RoundDown<T>(b.min.y), RoundDown<T>(b.min.z),
          RoundUp<T>(b.max.x),   RoundUp<T>(b.max.y),   RoundUp<T>(b.max.z)};
}

}  // namespace locus::engine::internal

#endif  // LOCUS_ENGINE_ROUND_OUTWARD_H_
