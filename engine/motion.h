// Motion between samples: the one rule every history query interpolates with, and the
// geometry of a moving point over one segment (two consecutive samples of one object).
//
// The rule (db.h, "History"): between two consecutive samples a and b (a.t < b.t) an object
// moves at constant speed along
//   - planar namespaces: the straight line from a to b (x, y and z linear in time);
//   - geographic namespaces (x = lon, y = lat in degrees, z = altitude in metres): the
//     shorter great-circle arc from a to b on the sphere at constant angular speed (a
//     spherical linear interpolation of the unit vectors), the altitude linear in time.
//     Antipodal samples have no shorter arc; the arc through the north side of a (the one
//     whose plane holds the north pole direction projected off a) is taken.
// At a sample's own time the position is the sample, exactly (no rounding through vectors).
//
// Regions (MotionRegion) are 2D: x/y (lon/lat); altitude and planar z are ignored. A box is
// closed; a geographic box with west > east crosses the antimeridian (as GeoJSON bounding
// boxes); a circle is the closed disc of `radius` units (planar) or great-circle metres
// (geographic); a polygon is an engine::Polygon (closed; geographic edges straight in degrees,
// polygon.h). FirstInside answers "when is the moving point first inside": exactly for boxes
// and circles (closed forms: slab test in the plane, R cos(phi - psi) >= k constraints on the
// sphere); for polygons by edge crossings in the plane, and on the sphere over the arc cut
// into pieces until each piece's midpoint is within 1e-9 degrees of its chord in lon/lat
// (about 0.1 mm), then tested as planar pieces.
//
// Distances between moving points (ClosestApproach, WithinIntervals) are Euclidean in x/y(/z
// for planar 3D) for planar namespaces and great-circle metres (altitude ignored) for
// geographic ones. Planar answers are closed forms; geographic ones minimise the chord
// numerically per piece (golden section after a 16-point scan; the distance over one piece
// of two short arcs is unimodal, which the scan makes robust for pieces of any length short
// of a quarter of the sphere).
//
// Thread safety: pure functions.
#ifndef LOCUS_ENGINE_MOTION_H_
#define LOCUS_ENGINE_MOTION_H_

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "engine/polygon.h"

namespace locus::engine {

// One sample of a path: time (ms) and position.
struct Fix {
  int64_t t = 0;
  double x = 0, y = 0, z = 0;
  friend bool operator==(const Fix&, const Fix&) = default;
};

// The kind of space a path moves in.
enum class Space { kPlanar2D, kPlanar3D, kSphere };

// The position at time t (a.t <= t <= b.t, a.t < b.t; t may be fractional) under the rule
// above. Returns a or b exactly at their times.
Fix Interpolate(const Fix& a, const Fix& b, double t, Space space);

// Distance between two positions: Euclidean (planar; z counts in 3D) or great-circle metres
// on the sphere of radius kernels::kEarthRadiusMetres (altitude ignored).
double MotionDistance(const Fix& a, const Fix& b, Space space);

// The (x, y, t) box holding every position of the segment a -> b (a.t <= b.t), for indexes.
// Geographic boxes are in degrees, widened to the arc's true latitude range (an arc bulges
// poleward of its ends) and padded by 1e-9 degrees for rounding; an arc across the
// antimeridian has max_x above 180 (x unwrapped from a's longitude: [min_x, max_x] is
// within [-180, 540)); an arc over a pole spans every longitude ([-180, 180]).
struct SpaceTimeBox {
  double min_x, min_y, max_x, max_y;
  int64_t min_t, max_t;
  void Extend(const SpaceTimeBox& o);
};
SpaceTimeBox SegmentBox(const Fix& a, const Fix& b, Space space);
SpaceTimeBox PointBox(const Fix& a);

// A 2D region of a history query.
struct MotionRegion {
  enum class Kind { kBox, kCircle, kPolygon };
  Kind kind = Kind::kBox;
  double min_x = 0, min_y = 0, max_x = 0, max_y = 0;  // kBox (geographic: west, south, east, north)
  double cx = 0, cy = 0, radius = 0;                  // kCircle
  const Polygon* polygon = nullptr;                   // kPolygon (the caller keeps it alive)
};

// Whether a position is inside the region (closed).
bool InRegion(const MotionRegion& region, const Fix& p, Space space);

// The x/y boxes (degrees for geographic; x within [-180, 180]) that hold the region, for
// pruning: one, or two for a geographic box across the antimeridian. A geographic circle
// holding a pole spans every longitude.
int RegionBoxes(const MotionRegion& region, Space space, std::array<double, 4> out[2]);

// The first instant of [t_lo, t_hi] at which the point moving from a to b (a.t < b.t) is
// inside the region, or nullopt. A segment that crosses the region between two outside
// samples is inside during the crossing.
std::optional<double> FirstInside(const Fix& a, const Fix& b, double t_lo, double t_hi,
                                  const MotionRegion& region, Space space);

// Two objects' paths over one common piece of time [t0, t1] (each moves without a sample in
// between: a0 -> a1 for one, b0 -> b1 for the other, positions at t0 and t1 given).
struct ApproachPiece {
  Fix a0, a1, b0, b1;  // a0.t == b0.t == t0, a1.t == b1.t == t1 (t0 <= t1)
};
// The instant of closest approach within the piece and the distance then (earliest on ties).
std::pair<double, double> ClosestInPiece(const ApproachPiece& piece, Space space);
// The sub-interval of the piece during which the distance is <= d, or nullopt.
std::optional<std::pair<double, double>> WithinInPiece(const ApproachPiece& piece, double d,
                                                       Space space);

// The distance from p to the segment a -> b (its geometry, time ignored): planar point to
// segment; geographic: to the great-circle arc (metres).
double DistanceToSegment(const Fix& p, const Fix& a, const Fix& b, Space space);

}  // namespace locus::engine

#endif  // LOCUS_ENGINE_MOTION_H_
