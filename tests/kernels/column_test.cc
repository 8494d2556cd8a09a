// Tests the padding contract of kernels::Column.
#include "kernels/column.h"

#include <gtest/gtest.h>

#include <cstdint>

namespace locus::kernels {
namespace {

template <typename T>
void CheckContract(const Column<T>& c) {
  ASSERT_EQ(reinterpret_cast<uintptr_t>(c.data()) % kColumnAlignment, 0u);
  for (size_t i = 0; i < kColumnPaddingElements; ++i) {
    EXPECT_EQ(c.data()[c.size() + i], T(0)) << "padding element " << i;
  }
}

TEST(ColumnTest, EmptyColumnHasReadableAlignedPadding) {
  Column<double> c;
  CheckContract(c);
  Column<int64_t> t;
  CheckContract(t);
}

TEST(ColumnTest, GrowthKeepsValuesAlignmentAndZeroPadding) {
  Column<float> c;
  for (int i = 0; i < 1000; ++i) {
    c.push_back(static_cast<float>(i) + 0.5f);
    CheckContract(c);
  }
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(c[i], static_cast<float>(i) + 0.5f);
}

TEST(ColumnTest, ShrinkReZeroesPadding) {
  Column<int64_t> c(100, -1);
  c.resize(37);
  CheckContract(c);
  c.resize(50, 7);
  CheckContract(c);
  EXPECT_EQ(c[36], -1);
  EXPECT_EQ(c[37], 7);
  EXPECT_EQ(c[49], 7);
}

TEST(ColumnTest, CloneAndMove) {
  Column<double> a{1.0, 2.0, 3.0};
  Column<double> b = a.Clone();
  Column<double> c = std::move(a);
  EXPECT_EQ(b.size(), 3u);
  EXPECT_EQ(c.size(), 3u);
  EXPECT_EQ(b[2], 3.0);
  EXPECT_EQ(c[0], 1.0);
  CheckContract(b);
  CheckContract(c);
}

#if LOCUS_DCHECK_IS_ON
// Writing past size() breaks the contract; debug builds must catch it on the next access.
TEST(ColumnDeathTest, WritePastSizeIsCaughtInDebugBuilds) {
  Column<float> c(10, 1.0f);
  c.data()[10] = 3.0f;  // into the padding
  EXPECT_DEATH(c.CheckPadding(), "padding was overwritten");
}
#endif

}  // namespace
}  // namespace locus::kernels
