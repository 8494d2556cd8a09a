// Tests geometry predicates and the validation messages (they must name field and value).
#include "locus/geometry.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace locus {
namespace {

constexpr double kNan = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

TEST(GeometryTest, ClosedBoxesContainTheirBoundary) {
  const Box2 b{{0, 0}, {1, 2}};
  EXPECT_TRUE(Contains(b, {0, 0}));
  EXPECT_TRUE(Contains(b, {1, 2}));
  EXPECT_FALSE(Contains(b, {1.0000001, 1}));
  EXPECT_FALSE(Contains(b, {kNan, 1}));
  EXPECT_TRUE(Intersects(b, Box2{{1, 2}, {3, 3}}));  // touching corners intersect
  EXPECT_FALSE(Intersects(b, Box2{{1.5, 0}, {3, 3}}));
  EXPECT_TRUE(Contains(Box3{{0, 0, 0}, {1, 1, 1}}, Point3{1, 0, 0.5}));
}

TEST(GeometryTest, ValidBoxesPass) {
  EXPECT_TRUE(ValidateBox(Box2{{0, 0}, {0, 0}}, "q").ok());  // zero size is fine
  EXPECT_TRUE(ValidateBox(Box3{{-1, -2, -3}, {1, 2, 3}}, "q").ok());
}

TEST(GeometryTest, NanIsRejectedByName) {
  Status s = ValidateBox(Box2{{0, kNan}, {1, 1}}, "query");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "query.min.y = nan: coordinate is not a finite number");
}

TEST(GeometryTest, InfinityIsRejectedByName) {
  Status s = ValidatePoint(Point3{1, 2, -kInf}, "item[17]");
  EXPECT_EQ(s.message(), "item[17].z = -inf: coordinate is not a finite number");
}

TEST(GeometryTest, CrossedBoxIsRejectedWithBothValues) {
  Status s = ValidateBox(Box3{{0, 4, 0}, {1, 2, 1}}, "item[3]");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "item[3]: min.y (4) > max.y (2): box is crossed");
  EXPECT_EQ(ValidateBox(Box2{{0.1, 0}, {0.05, 1}}, "b").message(),
            "b: min.x (0.1) > max.x (0.05): box is crossed");
}

TEST(GeometryTest, Rays) {
  EXPECT_TRUE(ValidateRay(Ray2{{0, 0}, {1, 0}}, "ray").ok());  // zero components are fine
  EXPECT_EQ(ValidateRay(Ray3{{0, 0, 0}, {0, 0, 0}}, "ray").message(),
            "ray.direction is all zero: a ray needs a direction");
  EXPECT_EQ(ValidateRay(Ray2{{0, 0}, {1, 1}, -1.0}, "ray").message(),
            "ray.t_max = -1: must be >= 0 (inf allowed)");
  EXPECT_FALSE(ValidateRay(Ray2{{0, 0}, {1, 1}, kNan}, "ray").ok());
  EXPECT_TRUE(ValidateRay(Ray2{{0, 0}, {1, 1}, kInf}, "ray").ok());
  EXPECT_EQ(ValidateRay(Ray3{{0, kInf, 0}, {1, 0, 0}}, "r").message(),
            "r.origin.y = inf: coordinate is not a finite number");
}

TEST(GeometryTest, Distances) {
  EXPECT_TRUE(ValidateDistance(0, "radius").ok());
  EXPECT_EQ(ValidateDistance(-2.5, "radius").message(),
            "radius = -2.5: must be a finite number >= 0");
  EXPECT_FALSE(ValidateDistance(kInf, "radius").ok());
}

}  // namespace
}  // namespace locus
