// Tests target introspection and the read-loop baseline on every compiled target.
#include "kernels/dispatch.h"

#include <gtest/gtest.h>

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

TEST_P(ReadLoopTest, SumsEveryElementAndNoPadding) {
  for (size_t n : ::locus::testing::TestSizes(LanesF32())) {
    ::locus::testing::PaddedArray<float> a(n, 1, 1000.0f), b(n, 0, 1000.0f);
    for (size_t i = 0; i < n; ++i) a[i] = 1.0f, b[i] = 2.0f;
    const float* cols[] = {a.data(), b.data()};
    EXPECT_EQ(ReadLoopF32(cols, 2, n), 3.0f * static_cast<float>(n)) << "n=" << n;
    ::locus::testing::PaddedArray<double> c(n, 3, 1000.0);
    for (size_t i = 0; i < n; ++i) c[i] = 0.5;
    const double* dcols[] = {c.data()};
    EXPECT_EQ(ReadLoopF64(dcols, 1, n), 0.5 * static_cast<double>(n)) << "n=" << n;
  }
}

}  // namespace
}  // namespace locus::kernels
