// Tests Status, Result and the propagation macros.
#include "locus/status.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace locus {
namespace {

TEST(StatusTest, OkIsOkAndEmpty) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kOk);
  EXPECT_EQ(s.message(), "");
  EXPECT_EQ(s.ToString(), "OK");
}

TEST(StatusTest, ErrorCarriesCodeAndMessage) {
  Status s = InvalidArgumentError("query.min.x = nan");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.ToString(), "INVALID_ARGUMENT: query.min.x = nan");
  Status copy = s;
  EXPECT_EQ(copy, s);
  EXPECT_EQ(s.WithContext("Search").message(), "Search: query.min.x = nan");
}

// The integer values are ABI: the C header mirrors them. Changing one is a breaking change.
TEST(StatusTest, CodesAreStable) {
  EXPECT_EQ(static_cast<int>(StatusCode::kOk), 0);
  EXPECT_EQ(static_cast<int>(StatusCode::kInvalidArgument), 1);
  EXPECT_EQ(static_cast<int>(StatusCode::kNotFound), 2);
  EXPECT_EQ(static_cast<int>(StatusCode::kAlreadyExists), 3);
  EXPECT_EQ(static_cast<int>(StatusCode::kOutOfRange), 4);
  EXPECT_EQ(static_cast<int>(StatusCode::kFailedPrecondition), 5);
  EXPECT_EQ(static_cast<int>(StatusCode::kResourceExhausted), 6);
  EXPECT_EQ(static_cast<int>(StatusCode::kCorruption), 7);
  EXPECT_EQ(static_cast<int>(StatusCode::kIoError), 8);
  EXPECT_EQ(static_cast<int>(StatusCode::kUnavailable), 9);
  EXPECT_EQ(static_cast<int>(StatusCode::kInternal), 10);
  for (int c = 0; c <= 10; ++c) {
    EXPECT_STRNE(StatusCodeName(static_cast<StatusCode>(c)), "UNKNOWN") << c;
  }
}

Result<int> Half(int v) {
  if (v % 2) return InvalidArgumentError("v = " + std::to_string(v) + ": odd");
  return v / 2;
}

Status Quarter(int v, int* out) {
  LOCUS_ASSIGN_OR_RETURN(int h, Half(v));
  LOCUS_ASSIGN_OR_RETURN(*out, Half(h));
  return Status();
}

Status FailsThrough() {
  LOCUS_RETURN_IF_ERROR(NotFoundError("ns"));
  return InternalError("not reached");
}

TEST(StatusTest, MacrosPropagate) {
  int out = 0;
  EXPECT_TRUE(Quarter(8, &out).ok());
  EXPECT_EQ(out, 2);
  Status s = Quarter(6, &out);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "v = 3: odd");
  EXPECT_EQ(FailsThrough().code(), StatusCode::kNotFound);
}

TEST(ResultTest, HoldsMoveOnlyValues) {
  Result<std::unique_ptr<int>> r = std::make_unique<int>(5);
  ASSERT_TRUE(r.ok());
  std::unique_ptr<int> p = std::move(r).value();
  EXPECT_EQ(*p, 5);
  Result<int> e = OutOfRangeError("past the end");
  EXPECT_EQ(e.value_or(-1), -1);
  EXPECT_EQ(e.status().code(), StatusCode::kOutOfRange);
}

TEST(ResultDeathTest, ValueOnErrorAborts) {
  Result<int> e = CorruptionError("bad crc");
  EXPECT_DEATH((void)e.value(), "CORRUPTION: bad crc");
}

TEST(ResultDeathTest, OkStatusWithoutValueAborts) {
  EXPECT_DEATH({ Result<int> r{Status()}; (void)r; }, "without a value");
}

}  // namespace
}  // namespace locus
