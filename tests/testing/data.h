// Seeded data generators for engine tests: uniform, clustered, duplicate-heavy and
// degenerate boxes and points, plus brute-force oracles over them.
#ifndef LOCUS_TESTS_TESTING_DATA_H_
#define LOCUS_TESTS_TESTING_DATA_H_

#include <algorithm>
#include <cmath>
#include <type_traits>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "locus/geometry.h"

namespace locus::testing {

// kPoints: uniform points (zero-size boxes on every axis), the "points layout" of a tree.
enum class Distribution { kUniform, kClustered, kDuplicates, kZeroArea, kIdentical, kPoints };

inline const char* Name(Distribution d) {
  switch (d) {
    case Distribution::kUniform: return "uniform";
    case Distribution::kClustered: return "clustered";
    case Distribution::kDuplicates: return "duplicates";
    case Distribution::kZeroArea: return "zero_area";
    case Distribution::kIdentical: return "identical";
    case Distribution::kPoints: return "points";
  }
  return "?";
}

inline constexpr Distribution kAllDistributions[] = {
    Distribution::kUniform, Distribution::kClustered, Distribution::kDuplicates,
    Distribution::kZeroArea, Distribution::kIdentical, Distribution::kPoints};

// Returns n boxes in roughly [0, 1000]^D (D = 2 or 3 via Box2/Box3).
template <typename Box>
std::vector<Box> MakeBoxes(size_t n, Distribution dist, uint64_t seed) {
  constexpr bool k3 = std::is_same_v<Box, Box3>;
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0, 1000), size(0, 8), unit(0, 1);
  std::normal_distribution<double> around(0, 15);
  std::vector<double> centres;
  for (int c = 0; c < 12 * (k3 ? 3 : 2); ++c) centres.push_back(u(rng));
  auto coordinate = [&](int axis) {
    switch (dist) {
      case Distribution::kClustered: {
        const size_t c = rng() % 12;
        return std::clamp(centres[c * (k3 ? 3 : 2) + axis] + around(rng), 0.0, 1000.0);
      }
      case Distribution::kDuplicates: return std::floor(unit(rng) * 6) * 150.0;  // 6 values
      default: return u(rng);
    }
  };
  std::vector<Box> out(n);
  for (size_t i = 0; i < n; ++i) {
    Box b;
    if (dist == Distribution::kIdentical) {
      if constexpr (k3) b = Box3{{10, 20, 30}, {12, 22, 31}};
      else b = Box2{{10, 20}, {12, 22}};
      out[i] = b;
      continue;
    }
    const bool zero = dist == Distribution::kZeroArea || dist == Distribution::kDuplicates ||
                      dist == Distribution::kPoints;
    b.min.x = coordinate(0);
    b.min.y = coordinate(1);
    b.max.x = b.min.x + (zero ? 0 : size(rng));
    b.max.y = b.min.y + (zero ? 0 : size(rng));
    if constexpr (k3) {
      b.min.z = coordinate(2);
      b.max.z = b.min.z + (zero ? 0 : size(rng));
    }
    // Zero-area boxes: a degenerate axis (segments and points).
    if (dist == Distribution::kZeroArea && (i % 3 == 1)) b.max.x = b.min.x + size(rng);
    out[i] = b;
  }
  return out;
}

// Returns a seeded query box of roughly `extent` size inside [-50, 1050]^D.
template <typename Box>
Box MakeQuery(std::mt19937_64& rng, double extent) {
  std::uniform_real_distribution<double> u(-50, 1050), e(0, extent);
  Box q;
  q.min.x = u(rng);
  q.min.y = u(rng);
  q.max.x = q.min.x + e(rng);
  q.max.y = q.min.y + e(rng);
  if constexpr (std::is_same_v<Box, Box3>) {
    q.min.z = u(rng);
    q.max.z = q.min.z + e(rng);
  }
  return q;
}

// Brute force: sorted ids of the boxes intersecting q.
template <typename Box>
std::vector<uint32_t> BruteForceIntersects(const std::vector<Box>& boxes, const Box& q) {
  std::vector<uint32_t> out;
  for (size_t i = 0; i < boxes.size(); ++i) {
    if (Intersects(boxes[i], q)) out.push_back(static_cast<uint32_t>(i));
  }
  return out;
}

inline std::vector<uint32_t> Sorted(std::vector<uint32_t> v) {
  std::sort(v.begin(), v.end());
  return v;
}

}  // namespace locus::testing

#endif  // LOCUS_TESTS_TESTING_DATA_H_
