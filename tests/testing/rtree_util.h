// Helpers shared by the R-tree test suites: the tree type's parameters, and the box an f32
// tree stores for an item (rounded outward), computed independently of the library (with
// std::nextafter) so the oracles do not share code with what they check.
#ifndef LOCUS_TESTS_TESTING_RTREE_UTIL_H_
#define LOCUS_TESTS_TESTING_RTREE_UTIL_H_

#include <cmath>
#include <limits>
#include <type_traits>

#include "engine/packed_rtree.h"
#include "locus/geometry.h"

namespace locus::testing {

template <typename Tree>
struct TreeTraits;
template <int D, typename T>
struct TreeTraits<engine::PackedRTree<D, T>> {
  static constexpr int kDims = D;
  using Scalar = T;
};

// Rounds a box outward to T and back to f64: what a tree with T storage holds for it.
template <typename T, typename Box>
Box Stored(const Box& b) {
  auto down = [](double v) {
    T t = static_cast<T>(v);
    if (static_cast<double>(t) > v) t = std::nextafter(t, -std::numeric_limits<T>::infinity());
    return static_cast<double>(t);
  };
  auto up = [](double v) {
    T t = static_cast<T>(v);
    if (static_cast<double>(t) < v) t = std::nextafter(t, std::numeric_limits<T>::infinity());
    return static_cast<double>(t);
  };
  Box s = b;
  s.min.x = down(b.min.x), s.min.y = down(b.min.y), s.max.x = up(b.max.x), s.max.y = up(b.max.y);
  if constexpr (std::is_same_v<Box, Box3>) s.min.z = down(b.min.z), s.max.z = up(b.max.z);
  return s;
}

}  // namespace locus::testing

#endif  // LOCUS_TESTS_TESTING_RTREE_UTIL_H_
