// Points, boxes and rays in 2D and 3D: the geometric vocabulary of the public API.
//
// Coordinates are f64 in the API (compact f32 storage is an index option, never a type
// the caller sees). Boxes are closed: a point on the boundary is inside. These are plain
// aggregates; validation is explicit so that hot paths do not pay for it twice. The
// Validate* helpers reject NaN, infinities and crossed boxes with an InvalidArgument
// status whose message names the field and the offending value, e.g.
//   "query.min.x = nan: coordinate is not a finite number"
//   "item[17]: min.y (4) > max.y (2): box is crossed"
//
// Thread safety: plain values; the functions are pure.
#ifndef LOCUS_GEOMETRY_H_
#define LOCUS_GEOMETRY_H_

#include <limits>
#include <string>
#include <string_view>

#include "locus/status.h"

namespace locus {

struct Point2 {
  double x = 0, y = 0;
  friend bool operator==(const Point2&, const Point2&) = default;
};
struct Point3 {
  double x = 0, y = 0, z = 0;
  friend bool operator==(const Point3&, const Point3&) = default;
};

// A closed axis-aligned box. Valid when every coordinate is finite and min <= max per axis;
// min == max (zero size) is valid and is how points are stored in box indexes.
struct Box2 {
  Point2 min, max;
  friend bool operator==(const Box2&, const Box2&) = default;
};
struct Box3 {
  Point3 min, max;
  friend bool operator==(const Box3&, const Box3&) = default;
};

// A ray origin + t * direction for t in [0, t_max]. The direction need not be unit
// length (t is measured in multiples of it) but must be finite and not all zero;
// individual components may be zero (axis-parallel rays are exact). t_max may be +inf.
struct Ray2 {
  Point2 origin;
  Point2 direction;
  double t_max = std::numeric_limits<double>::infinity();
};
struct Ray3 {
  Point3 origin;
  Point3 direction;
  double t_max = std::numeric_limits<double>::infinity();
};

// Returns a zero-size box at `p`.
inline Box2 BoxAround(const Point2& p) { return {p, p}; }
inline Box3 BoxAround(const Point3& p) { return {p, p}; }

// Returns true iff `p` lies in the closed box `b`. NaN coordinates are never inside.
inline bool Contains(const Box2& b, const Point2& p) {
  return b.min.x <= p.x && p.x <= b.max.x && b.min.y <= p.y && p.y <= b.max.y;
}
inline bool Contains(const Box3& b, const Point3& p) {
  return b.min.x <= p.x && p.x <= b.max.x && b.min.y <= p.y && p.y <= b.max.y &&
         b.min.z <= p.z && p.z <= b.max.z;
}
// Returns true iff the closed boxes share at least one point (touching counts).
inline bool Intersects(const Box2& a, const Box2& b) {
  return a.min.x <= b.max.x && b.min.x <= a.max.x && a.min.y <= b.max.y && b.min.y <= a.max.y;
}
inline bool Intersects(const Box3& a, const Box3& b) {
  return a.min.x <= b.max.x && b.min.x <= a.max.x && a.min.y <= b.max.y &&
         b.min.y <= a.max.y && a.min.z <= b.max.z && b.min.z <= a.max.z;
}

// Formats a double for error messages in its shortest form that reads back to the same
// value ("91", "0.1", "nan", "-inf"), so a message shows exactly the value that was rejected.
std::string FormatNumber(double v);

// Validation. `field` names the argument in the error message ("query", "item[17]").
Status ValidateCoordinate(double value, std::string_view field);
Status ValidatePoint(const Point2& p, std::string_view field);
Status ValidatePoint(const Point3& p, std::string_view field);
Status ValidateBox(const Box2& b, std::string_view field);
Status ValidateBox(const Box3& b, std::string_view field);
Status ValidateRay(const Ray2& r, std::string_view field);
Status ValidateRay(const Ray3& r, std::string_view field);
// Radius/distance arguments: finite and >= 0.
Status ValidateDistance(double value, std::string_view field);

// Geographic coordinates in degrees: longitude in [-180, 180], latitude in [-90, 90], both
// closed. The one range rule of every layer (database writes and queries, GeoJSON import,
// geodesy, the tree's haversine kNN). IsLonLat is the message-free test for hot paths
// (false for NaN); the Validate forms say "<field> = 181: outside [-180, 180]" or
// "<field> = nan: not a finite number".
inline bool IsLonLat(double lon, double lat) {
  return lon >= -180 && lon <= 180 && lat >= -90 && lat <= 90;
}
Status ValidateLongitude(double lon, std::string_view field);
Status ValidateLatitude(double lat, std::string_view field);

}  // namespace locus

#endif  // LOCUS_GEOMETRY_H_
