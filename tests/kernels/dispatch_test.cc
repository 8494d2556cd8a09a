// Tests target introspection and the read-loop baseline on every compiled target.
#include "kernels/dispatch.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>

#include "tests/testing/harness.h"

namespace locus::kernels {
namespace {

TEST(DispatchTest, CompiledTargetsIncludeTheScalarFallback) {
  const std::vector<int64_t> targets = CompiledTargets();
  ASSERT_FALSE(targets.empty());
  // The portable fallback is EMU128, or SCALAR where Highway marks EMU128 broken for the
  // compiler (GCC < 12.3). One of them must be there so every kernel has a portable path.
  bool has_portable = false;
  for (int64_t t : targets) {
    const std::string name = TargetName(t);
    has_portable |= name == "EMU128" || name == "SCALAR";
  }
  EXPECT_TRUE(has_portable);
  EXPECT_GE(targets.size(), 2u) << "at least one SIMD target besides the fallback";
}

TEST(DispatchTest, DefaultDispatchIsTheBestTarget) {
  SetTargetForTest(0);
  EXPECT_STREQ(DispatchedTargetName(), TargetName(CompiledTargets().front()));
}

class ReadLoopTest : public ::locus::testing::PerTargetTest {};
LOCUS_INSTANTIATE_PER_TARGET(ReadLoopTest);

TEST_P(ReadLoopTest, FoldsEveryElementAndNoPadding) {
  std::mt19937 rng(::locus::testing::TestSeed());
  for (size_t n : ::locus::testing::TestSizes(LanesF32())) {
    SCOPED_TRACE(::testing::Message() << "n=" << n);
    // Padding holds values that would change the fold if they were read into it.
    ::locus::testing::PaddedArray<float> a(n, 1, 1000.0f), b(n, 0, -7.0f);
    uint64_t want32 = 0;
    for (size_t i = 0; i < n; ++i) {
      a[i] = static_cast<float>(rng() % 1000) * 0.25f;
      b[i] = -static_cast<float>(rng() % 1000);
      uint32_t ba, bb;
      std::memcpy(&ba, &a[i], 4);
      std::memcpy(&bb, &b[i], 4);
      want32 ^= ba ^ bb;
    }
    const float* cols[] = {a.data(), b.data()};
    EXPECT_EQ(ReadLoopF32(cols, 2, n), want32);
    ::locus::testing::PaddedArray<double> c(n, 3, 1000.0);
    uint64_t want64 = 0;
    for (size_t i = 0; i < n; ++i) {
      c[i] = static_cast<double>(rng()) * 1e-3;
      uint64_t bits;
      std::memcpy(&bits, &c[i], 8);
      want64 ^= bits;
    }
    const double* dcols[] = {c.data()};
    EXPECT_EQ(ReadLoopF64(dcols, 1, n), want64);
  }
}

}  // namespace
}  // namespace locus::kernels
