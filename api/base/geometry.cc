// Validation of public geometry: every rejection names the field and the value.
#include "locus/geometry.h"

#include <cmath>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace locus {

std::string FormatNumber(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[32];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);  // shortest round trip
  return ec == std::errc() ? std::string(buf, end) : std::to_string(v);
}

namespace {


std::string Join(std::string_view field, std::string_view member) {
  std::string out(field);
  out += '.';
  out += member;
  return out;
}

Status CheckAxis(double lo, double hi, std::string_view field, char axis) {
  if (lo <= hi) return Status();
  std::string msg(field);
  msg += ": min.";
  msg += axis;
  msg += " (" + FormatNumber(lo) + ") > max.";
  msg += axis;
  msg += " (" + FormatNumber(hi) + "): box is crossed";
  return InvalidArgumentError(msg);
}

}  // namespace

Status ValidateCoordinate(double value, std::string_view field) {
  if (std::isfinite(value)) return Status();
  return InvalidArgumentError(std::string(field) + " = " + FormatNumber(value) +
                              ": coordinate is not a finite number");
}

Status ValidatePoint(const Point2& p, std::string_view field) {
  LOCUS_RETURN_IF_ERROR(ValidateCoordinate(p.x, Join(field, "x")));
  return ValidateCoordinate(p.y, Join(field, "y"));
}

Status ValidatePoint(const Point3& p, std::string_view field) {
  LOCUS_RETURN_IF_ERROR(ValidateCoordinate(p.x, Join(field, "x")));
  LOCUS_RETURN_IF_ERROR(ValidateCoordinate(p.y, Join(field, "y")));
  return ValidateCoordinate(p.z, Join(field, "z"));
}

Status ValidateBox(const Box2& b, std::string_view field) {
  LOCUS_RETURN_IF_ERROR(ValidatePoint(b.min, Join(field, "min")));
  LOCUS_RETURN_IF_ERROR(ValidatePoint(b.max, Join(field, "max")));
  LOCUS_RETURN_IF_ERROR(CheckAxis(b.min.x, b.max.x, field, 'x'));
  return CheckAxis(b.min.y, b.max.y, field, 'y');
}

Status ValidateBox(const Box3& b, std::string_view field) {
  LOCUS_RETURN_IF_ERROR(ValidatePoint(b.min, Join(field, "min")));
  LOCUS_RETURN_IF_ERROR(ValidatePoint(b.max, Join(field, "max")));
  LOCUS_RETURN_IF_ERROR(CheckAxis(b.min.x, b.max.x, field, 'x'));
  LOCUS_RETURN_IF_ERROR(CheckAxis(b.min.y, b.max.y, field, 'y'));
  return CheckAxis(b.min.z, b.max.z, field, 'z');
}

namespace {
Status CheckTMax(double t_max, std::string_view field) {
  if (t_max >= 0) return Status();  // +inf allowed; NaN fails the comparison
  return InvalidArgumentError(Join(field, "t_max") + " = " + FormatNumber(t_max) +
                              ": must be >= 0 (inf allowed)");
}
Status ZeroDirection(std::string_view field) {
  return InvalidArgumentError(Join(field, "direction") + " is all zero: a ray needs a direction");
}
}  // namespace

Status ValidateRay(const Ray2& r, std::string_view field) {
  LOCUS_RETURN_IF_ERROR(ValidatePoint(r.origin, Join(field, "origin")));
  LOCUS_RETURN_IF_ERROR(ValidatePoint(r.direction, Join(field, "direction")));
  if (r.direction.x == 0 && r.direction.y == 0) return ZeroDirection(field);
  return CheckTMax(r.t_max, field);
}

Status ValidateRay(const Ray3& r, std::string_view field) {
  LOCUS_RETURN_IF_ERROR(ValidatePoint(r.origin, Join(field, "origin")));
  LOCUS_RETURN_IF_ERROR(ValidatePoint(r.direction, Join(field, "direction")));
  if (r.direction.x == 0 && r.direction.y == 0 && r.direction.z == 0) return ZeroDirection(field);
  return CheckTMax(r.t_max, field);
}

Status ValidateDistance(double value, std::string_view field) {
  if (std::isfinite(value) && value >= 0) return Status();
  return InvalidArgumentError(std::string(field) + " = " + FormatNumber(value) +
                              ": must be a finite number >= 0");
}

namespace {
Status ValidateDegrees(double v, double limit, std::string_view field) {
  if (!std::isfinite(v)) {
    return InvalidArgumentError(std::string(field) + " = " + FormatNumber(v) +
                                ": not a finite number");
  }
  if (v < -limit || v > limit) {
    return InvalidArgumentError(std::string(field) + " = " + FormatNumber(v) + ": outside [" +
                                FormatNumber(-limit) + ", " + FormatNumber(limit) + "]");
  }
  return Status();
}
}  // namespace

Status ValidateLongitude(double lon, std::string_view field) {
  return ValidateDegrees(lon, 180, field);
}

Status ValidateLatitude(double lat, std::string_view field) {
  return ValidateDegrees(lat, 90, field);
}

}  // namespace locus
