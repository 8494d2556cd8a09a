// The convex regions the R-tree's region queries take (RTreeView::SearchPolygon,
// SearchFrustum; rtree_region.cc): ConvexPolygon (a validated 2D convex polygon with its
// separating axes precomputed) and Frustum (six planes). The scalar predicates here
// (ConvexPolygon::Intersects/Contains, Frustum::Intersects/Contains; convex_region.cc) are
// *the* definitions the tree queries implement: the per-target walks evaluate the same
// operations in the same order (no fused multiply-add), so a tree query returns exactly the
// items whose box satisfies them (f64 trees) or a superset (f32 trees, whose stored boxes are
// rounded outward; refine with the predicate on the caller's f64 boxes). Eigen stays out of
// this header: engine/frustum.h builds a Frustum from an Eigen matrix.
//
// Thread safety: plain values; const methods are pure.
#ifndef LOCUS_ENGINE_CONVEX_REGION_H_
#define LOCUS_ENGINE_CONVEX_REGION_H_

#include <array>
#include <cstddef>
#include <span>
#include <string_view>
#include <vector>

#include "locus/geometry.h"
#include "locus/status.h"

namespace locus::engine {

// A closed convex polygon, either orientation. Built only through Make, which validates.
//
// Intersects(box) is the exact separating-axis test of the closed box against the closed
// polygon, with axes x, y and every edge normal n_j: for each edge, with the box's projection
// [lo_j, hi_j] = n_j.x * (x corner) + n_j.y * (y corner) (corners chosen by the signs of n_j,
// evaluated as written, in f64) and the polygon's [c_min_j, c_max_j] (min/max of n_j . v
// over all vertices), the box intersects iff it overlaps the polygon's bounding box and
// lo_j <= c_max_j && c_min_j <= hi_j for every j. Touching counts. Up to the rounding of
// those products (relative 1e-16) this is the geometric answer.
// Contains(box): the box lies inside: within the bounding box and c_min_j <= lo_j,
// hi_j <= c_max_j for every j; Contains implies Intersects for the box and every valid box
// inside it (the tree sweeps such nodes without testing their leaves).
class ConvexPolygon {
 public:
  // Validates and prepares `vertices` (in order, either orientation, not closed: the last
  // vertex connects back to the first). Fails with InvalidArgument, naming the field, on
  // fewer than 3 vertices, a non-finite coordinate, a repeated consecutive vertex, a
  // reversal (a 180-degree turn), zero area, a reflex vertex (non-convex) or a polygon that
  // winds more than once.
  static Result<ConvexPolygon> Make(std::span<const Point2> vertices,
                                    std::string_view field = "polygon");

  bool Intersects(const Box2& b) const;
  bool Contains(const Box2& b) const;

  size_t num_edges() const { return nx_.size(); }
  const Box2& bounds() const { return bounds_; }
  // Edge j's normal (outward) and the polygon's projection range on it.
  double nx(size_t j) const { return nx_[j]; }
  double ny(size_t j) const { return ny_[j]; }
  double c_min(size_t j) const { return c_min_[j]; }
  double c_max(size_t j) const { return c_max_[j]; }

 private:
  Box2 bounds_;
  std::vector<double> nx_, ny_, c_min_, c_max_;
};

// A plane n . x + d = 0; a point is inside (on the kept side) when n . x + d >= 0.
struct Plane {
  double nx = 0, ny = 0, nz = 0, d = 0;
};

// A view frustum as six inward-facing planes: left, right, bottom, top, near, far.
//
// Intersects(box) is the standard conservative box-vs-frustum test: the box is rejected iff
// it lies fully behind some plane, i.e. its p-vertex (the corner furthest along n) has
// ((n.x * p.x + n.y * p.y) + n.z * p.z) + d < 0. It never rejects a box that meets the
// frustum, but may accept a box near a frustum edge or corner that is behind no single plane
// yet misses the frustum. Contains(box): the n-vertex (nearest corner along n) is on the
// inside of every plane, so the whole box is inside the frustum (exact up to rounding).
struct Frustum {
  std::array<Plane, 6> planes;

  // Gribb-Hartmann plane extraction from a view-projection matrix M (clip = M * [x y z 1]^T)
  // given column-major (m[col * 4 + row], Eigen's default and OpenGL's), for the OpenGL clip
  // convention: a point is visible iff -w <= x, y, z <= w (depth in [-1, 1]). Planes are
  // normalised (|n| = 1) so d is a signed distance. For a D3D/Vulkan [0, 1] depth matrix the
  // near plane comes out as a looser plane (still conservative); use FromPlanes instead.
  static Frustum FromColumnMajor(const double m[16]);

  // Fails with InvalidArgument on a non-finite coefficient or a zero normal.
  Status Validate(std::string_view field = "frustum") const;
  bool Intersects(const Box3& b) const;
  bool Contains(const Box3& b) const;
};

}  // namespace locus::engine

#endif  // LOCUS_ENGINE_CONVEX_REGION_H_
