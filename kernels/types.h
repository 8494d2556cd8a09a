// Plain parameter types shared by the kernel entry points.
//
// Kernels are templated on the lane type T (float or double); the engine converts the
// public f64 geometry (locus/geometry.h) into these. They carry no invariants of their
// own: each kernel's contract says what it assumes.
#ifndef LOCUS_KERNELS_TYPES_H_
#define LOCUS_KERNELS_TYPES_H_

#include <cstdint>
#include <limits>

namespace locus::kernels {

// A closed box; a point p is inside iff min <= p <= max on every axis.
template <typename T>
struct Box2T {
  T min_x, min_y, max_x, max_y;
};
template <typename T>
struct Box3T {
  T min_x, min_y, min_z, max_x, max_y, max_z;
};

// Row filters over int64 columns, applied in the same pass as a geometric predicate so
// that rows outside the time window or already expired cost nothing extra to skip.
// A null column pointer disables that filter. Both bounds are inclusive for `t`;
// expiry is strict: a row is alive iff expires[i] > now.
struct RowFilter {
  const int64_t* t = nullptr;  // timestamps; keep rows with t_min <= t[i] <= t_max
  int64_t t_min = std::numeric_limits<int64_t>::min();
  int64_t t_max = std::numeric_limits<int64_t>::max();
  const int64_t* expires = nullptr;  // absolute expiry times; keep rows with expires[i] > now
  int64_t now = 0;

  bool active() const { return t != nullptr || expires != nullptr; }
};

}  // namespace locus::kernels

#endif  // LOCUS_KERNELS_TYPES_H_
