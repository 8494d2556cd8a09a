// Shared test machinery for kernel tests: per-target parameterisation, seeded randomness,
// padded (optionally misaligned) inputs and red-zoned outputs.
//
// Seeds: every randomised test takes its seed from TestSeed(): a fixed default, overridden
// by the environment variable LOCUS_TEST_SEED. Tests put the seed in a SCOPED_TRACE so
// every failure message prints it; rerun with LOCUS_TEST_SEED=<seed> to reproduce.
#ifndef LOCUS_TESTS_TESTING_HARNESS_H_
#define LOCUS_TESTS_TESTING_HARNESS_H_

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "kernels/column.h"
#include "kernels/dispatch.h"

namespace locus::testing {

// Returns the seed for randomised tests: $LOCUS_TEST_SEED if set, else a fixed default.
inline uint64_t TestSeed() {
  if (const char* env = std::getenv("LOCUS_TEST_SEED"); env && *env) {
    return std::strtoull(env, nullptr, 0);
  }
  return 0x10C05EEDull;
}

inline std::string SeedTrace(uint64_t seed) {
  return "seed=" + std::to_string(seed) + " (rerun with LOCUS_TEST_SEED=" +
         std::to_string(seed) + ")";
}

// Fixture base: runs each test once per compiled target, and proves dispatch really
// switched (a test that silently ran one target everywhere would prove nothing).
class PerTargetTest : public ::testing::TestWithParam<int64_t> {
 protected:
  void SetUp() override {
    kernels::SetTargetForTest(GetParam());
    ASSERT_STREQ(kernels::DispatchedTargetName(), kernels::TargetName(GetParam()));
  }
  void TearDown() override { kernels::SetTargetForTest(0); }
};

inline std::string TargetParamName(const ::testing::TestParamInfo<int64_t>& info) {
  return kernels::TargetName(info.param);
}

#define LOCUS_INSTANTIATE_PER_TARGET(fixture)                                 \
  INSTANTIATE_TEST_SUITE_P(Targets, fixture,                                  \
                           ::testing::ValuesIn(::locus::kernels::CompiledTargets()), \
                           ::locus::testing::TargetParamName)

// Sizes every kernel is tested at: {0, 1, lanes-1, lanes, lanes+1, 3*lanes+k, large}.
inline std::vector<size_t> TestSizes(size_t lanes, size_t large = 10007) {
  std::vector<size_t> sizes = {0, 1, lanes > 1 ? lanes - 1 : 1, lanes, lanes + 1,
                               3 * lanes + 1, 3 * lanes + lanes / 2 + 1, 2 * lanes * 16 + 3,
                               large};
  return sizes;
}

// Element offsets from a 64-byte boundary that every kernel is tested at.
inline constexpr size_t kMisalignments[] = {0, 1, 3};

// A padded input array whose first element sits `misalign` elements past a 64-byte
// boundary, followed by kColumnPaddingElements of padding. The padding is filled with
// `poison` (choose a value that WOULD match the query, to prove kernels mask their tails).
template <typename T>
class PaddedArray {
 public:
  PaddedArray(size_t n, size_t misalign, T poison) : n_(n), misalign_(misalign) {
    storage_.resize(misalign + n + kernels::kColumnPaddingElements);
    for (size_t i = 0; i < storage_.size(); ++i) storage_[i] = poison;
  }
  T* data() { return storage_.data() + misalign_; }
  const T* data() const { return storage_.data() + misalign_; }
  T& operator[](size_t i) { return data()[i]; }
  const T& operator[](size_t i) const { return data()[i]; }
  size_t size() const { return n_; }

 private:
  size_t n_, misalign_;
  kernels::Column<T> storage_;  // aligned; its own padding adds slack beyond ours
};

// An output buffer of n elements with red zones before and after, filled with a pattern;
// RedZonesIntact() tells whether the kernel wrote outside [0, n).
template <typename T>
class RedZoneBuffer {
 public:
  static constexpr size_t kRed = 64;
  explicit RedZoneBuffer(size_t n) : n_(n), bytes_((n + 2 * kRed) * sizeof(T)) {
    raw_.assign(bytes_, kPattern);
  }
  T* data() { return reinterpret_cast<T*>(raw_.data() + kRed * sizeof(T)); }
  const T* data() const { return reinterpret_cast<const T*>(raw_.data() + kRed * sizeof(T)); }
  bool RedZonesIntact() const {
    for (size_t i = 0; i < kRed * sizeof(T); ++i) {
      if (raw_[i] != kPattern || raw_[bytes_ - 1 - i] != kPattern) return false;
    }
    return true;
  }
  std::vector<T> Prefix(size_t count) const { return std::vector<T>(data(), data() + count); }

 private:
  static constexpr unsigned char kPattern = 0xA5;
  size_t n_, bytes_;
  std::vector<unsigned char> raw_;
};

}  // namespace locus::testing

#endif  // LOCUS_TESTS_TESTING_HARNESS_H_
