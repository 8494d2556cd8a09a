// Polygon (GeoJSON-style rings with holes) with an exact point-in-polygon test, and the
// convex hull of a point set. These back the "within polygon" query and the "convex hull of a
// namespace" report; they know nothing of namespaces or indexes.
//
// Geometry model. Coordinates are x/y: lon/lat in degrees for geographic namespaces, planar
// x/y otherwise. Edges are straight segments in those coordinates (the planar
// interpretation, as RFC 7946 section 3.1.1 prescribes for GeoJSON): a long geographic edge
// is NOT a great-circle arc. A polygon that crosses the antimeridian must be given split in
// two along it (RFC 7946 section 3.1.9); a ring running from lon 170 to lon -170 means the
// 340-degree-wide polygon it literally describes.
//
// Boundary rule. Contains() is the CLOSED polygon: a point exactly on the exterior ring, or
// exactly on a hole's ring, is inside; a point strictly inside a hole is outside. The test is
// exact: comparisons of coordinates plus an orientation predicate with an exact fallback
// (error-bounded f64 filter, then an exact sum of fma-split products), so a point that lies
// exactly on an edge is always on the boundary, whatever the rounding of the edge's slope.
// Exactness holds while no product of two coordinates underflows, i.e. for coordinates that
// are 0 or of magnitude at least 1e-140 (far below any metre or degree precision); Make
// rejects vertex coordinates of magnitude above 1e150 so that no product overflows.
//
// Thread safety: a Polygon is immutable after Make; every const method is safe to call
// concurrently. ConvexHull and KeepInside are pure functions.
#ifndef LOCUS_ENGINE_POLYGON_H_
#define LOCUS_ENGINE_POLYGON_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "locus/geometry.h"
#include "locus/status.h"

namespace locus::engine {

// Vertex coordinates must not exceed this magnitude (exact predicates would overflow).
inline constexpr double kMaxPolygonCoordinate = 1e150;

// Returns the sign (+1, 0, -1) of the orientation of c relative to the directed line a->b:
// +1 when a, b, c turn counter-clockwise (c left of a->b), 0 when exactly collinear. Exact
// for coordinates of magnitude in [1e-140, 1e150] or 0 (see the file comment).
int Orient2D(const Point2& a, const Point2& b, const Point2& c);

// A validated polygon: one exterior ring and zero or more holes.
class Polygon {
 public:
  // Validates `rings` and builds the polygon. rings[0] is the exterior, rings[1..] are holes.
  // A ring may be closed (last point == first, as RFC 7946 requires) or open; either
  // orientation is accepted (RFC 7946 asks parsers not to reject clockwise exteriors).
  // Consecutive duplicate points and the closing point are dropped; error messages index
  // the points as given. Fails with InvalidArgument, naming the field and value, when:
  //   - there is no ring:
  //       "rings.size() = 0: a polygon needs an exterior ring (rings[0])"
  //   - a coordinate is not finite:
  //       "rings[0][4].x = nan: coordinate is not a finite number"
  //   - a coordinate exceeds 1e150 in magnitude:
  //       "rings[0][4].y = 1e+200: magnitude above 1e150 (exact predicates would overflow)"
  //   - a ring has fewer than 3 distinct points:
  //       "rings[1]: 2 distinct points, need at least 3"
  //   - a ring has zero area:
  //       "rings[0]: zero area: all 4 distinct points are collinear"
  //   - a ring intersects itself, other than neighbouring edges meeting at their shared
  //     vertex (edges are named by the input indices of their end points; the smallest
  //     offending pair is named):
  //       "rings[0]: edges [0]-[1] and [2]-[3] cross: a ring must not intersect itself"
  //     ("cross", "touch" or "overlap"; a ring that passes twice through a point touches)
  //   - two rings touch or cross (stricter than OGC, which lets rings touch at single points):
  //       "rings[1] edge [0]-[1] and rings[0] edge [2]-[3] cross: rings must not touch or cross"
  //   - a hole is not inside the exterior:
  //       "rings[1]: hole lies outside the exterior ring rings[0]"
  //   - a hole is inside another hole:
  //       "rings[2]: hole lies inside hole rings[1]"
  // Validation cost: O(n) plus the segment pairs whose boxes overlap in a cell of a uniform
  // grid over the polygon: near O(n) for ordinary rings (a 10k-vertex noisy circle: ~15-20
  // ms on a loaded 2-vCPU machine, -O2), but it degrades towards O(n^2) when many long
  // edges converge on one area (a 10k-spike star: ~0.2-0.3 s); no sweep line yet.
  static Result<Polygon> Make(std::vector<std::vector<Point2>> rings);

  // Returns true iff `p` is in the closed polygon (boundary rule in the file comment).
  // NaN coordinates are never inside. Cost: O(edges whose y-range contains p.y, within
  // one horizontal slab of the edge index), after a bounding-box reject.
  bool Contains(const Point2& p) const;

  // out[i] = Contains({x[i], y[i]}) ? 1 : 0 for i in [0, n). No padding is read or written.
  void ContainsMany(const double* x, const double* y, size_t n, uint8_t* out) const;

  // The bounding box of the exterior ring (hence of the polygon).
  const Box2& bounds() const { return bounds_; }
  size_t num_rings() const { return ring_start_.size() - 1; }
  // Ring i as validated: open (no closing point), consecutive duplicates removed, input
  // orientation kept.
  std::span<const Point2> ring(size_t i) const {
    return {vertices_.data() + ring_start_[i], ring_start_[i + 1] - ring_start_[i]};
  }
  size_t num_edges() const { return edges_.size(); }

 private:
  struct Edge {
    double ax, ay, bx, by;
  };
  // 0: p not on the edge and the edge does not cross the ray from p towards +x (half-open
  // rule on y); 1: it crosses; 2: p lies on the edge.
  static int TestEdge(const Edge& e, double px, double py);
  bool ContainsInBounds(double px, double py) const;
  // Indexes edges_[0, n) into slabs over bounds_.
  void BuildSlabs(size_t n);

  Box2 bounds_;
  std::vector<Point2> vertices_;    // all rings, back to back
  std::vector<size_t> ring_start_;  // ring i is vertices_[ring_start_[i], ring_start_[i+1])
  std::vector<Edge> edges_;         // every ring's edges, including the closing edge
  // Horizontal slabs: slab k covers y in [y0 + k/inv_h, y0 + (k+1)/inv_h) (computed as
  // floor((y - y0) * inv_h), clamped; monotone in y, so an edge listed under the slabs of
  // its min and max y is listed under every slab a point on it can map to).
  double slab_y0_ = 0, slab_inv_h_ = 0;
  std::vector<uint32_t> slab_start_;  // CSR offsets into slab_edges_, num_slabs + 1
  std::vector<Edge> slab_edges_;      // edges copied per slab, for locality
};

// Returns the convex hull of `points` as its vertices in counter-clockwise order, starting
// at the lowest-x (then lowest-y) point, with no collinear points on the hull boundary and
// no closing point (Andrew's monotone chain, exact orientation; O(n log n)). Duplicates are
// fine. Fewer than 3 distinct non-collinear points: returns what exists: [] for no points,
// [p] for one distinct point, [lowest, highest] (lexicographic by x, then y) when all
// distinct points are collinear. Fails with InvalidArgument naming "points[i].x" on a
// non-finite coordinate or one above 1e150 in magnitude.
Result<std::vector<Point2>> ConvexHull(std::span<const Point2> points);

// The exact step of a polygon query over an index: keeps, in their order, the keys whose
// point `point_of(key)` (a Point2) lies in the closed polygon. The caller's index scan over
// polygon.bounds() gives the candidates; they are tested in chunks of kChunk points by one
// ContainsMany call each, so the edge walks run back to back over a small gathered array.
template <class PointOf>
void KeepInside(const Polygon& polygon, std::vector<uint32_t>* keys, PointOf&& point_of) {
  constexpr size_t kChunk = 256;
  double x[kChunk], y[kChunk];
  uint8_t inside[kChunk];
  size_t kept = 0;
  for (size_t begin = 0; begin < keys->size(); begin += kChunk) {
    const size_t n = std::min(kChunk, keys->size() - begin);
    for (size_t i = 0; i < n; ++i) {
      const Point2 p = point_of((*keys)[begin + i]);
      x[i] = p.x;
      y[i] = p.y;
    }
    polygon.ContainsMany(x, y, n, inside);
    for (size_t i = 0; i < n; ++i) {
      if (inside[i]) (*keys)[kept++] = (*keys)[begin + i];
    }
  }
  keys->resize(kept);
}

}  // namespace locus::engine

#endif  // LOCUS_ENGINE_POLYGON_H_
