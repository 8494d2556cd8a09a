// The scalar predicates of convex_region.h: ConvexPolygon (validation in Make, the
// separating-axis Intersects/Contains) and Frustum (plane extraction, validation, p-/n-vertex
// Intersects/Contains). These define what the per-target region walks
// (rtree_region_walk-inl.h) compute.
//
// Thread safety: pure functions of their arguments.
#include "engine/convex_region.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

namespace locus::engine {

// ---- ConvexPolygon ------------------------------------------------------------------------

Result<ConvexPolygon> ConvexPolygon::Make(std::span<const Point2> v, std::string_view field) {
  const std::string f(field);
  const size_t n = v.size();
  if (n < 3) {
    return InvalidArgumentError(f + ".size() = " + std::to_string(n) +
                                ": a convex polygon needs at least 3 vertices");
  }
  for (size_t i = 0; i < n; ++i) {
    LOCUS_RETURN_IF_ERROR(ValidatePoint(v[i], f + "[" + std::to_string(i) + "]"));
  }
  // Orientation from the signed area; every turn must agree with it, and the turns must add
  // up to one full revolution (a pentagram turns consistently but twice).
  double area2 = 0;
  for (size_t i = 0; i < n; ++i) {
    const Point2& a = v[i];
    const Point2& b = v[(i + 1) % n];
    area2 += a.x * b.y - b.x * a.y;
  }
  double sweep = 0;
  for (size_t i = 0; i < n; ++i) {
    const Point2& a = v[i];
    const Point2& b = v[(i + 1) % n];
    const Point2& c = v[(i + 2) % n];
    const double ex = b.x - a.x, ey = b.y - a.y, fx = c.x - b.x, fy = c.y - b.y;
    if (ex == 0 && ey == 0) {
      return InvalidArgumentError(f + "[" + std::to_string(i) + "] == " + f + "[" +
                                  std::to_string((i + 1) % n) +
                                  ": repeated vertex (zero-length edge)");
    }
    const double cross = ex * fy - ey * fx, dot = ex * fx + ey * fy;
    if (cross == 0 && dot < 0) {
      return InvalidArgumentError(f + "[" + std::to_string((i + 1) % n) +
                                  "]: the boundary reverses there (degenerate polygon)");
    }
    if (cross != 0 && (cross > 0) != (area2 > 0)) {
      return InvalidArgumentError(f + "[" + std::to_string((i + 1) % n) +
                                  "]: reflex vertex: polygon is not convex");
    }
    sweep += std::atan2(cross, dot);
  }
  if (!(std::abs(area2) > 0) || !std::isfinite(area2)) {
    return InvalidArgumentError(f + ": area = " + FormatNumber(area2 / 2) +
                                ": degenerate polygon (collinear vertices)");
  }
  if (std::abs(std::abs(sweep) - 2 * M_PI) > 1e-6) {
    return InvalidArgumentError(f + ": winds " + FormatNumber(sweep / (2 * M_PI)) +
                                " times: not a simple convex polygon");
  }
  ConvexPolygon p;
  p.bounds_ = {v[0], v[0]};
  for (const Point2& q : v) {
    p.bounds_.min = {std::min(p.bounds_.min.x, q.x), std::min(p.bounds_.min.y, q.y)};
    p.bounds_.max = {std::max(p.bounds_.max.x, q.x), std::max(p.bounds_.max.y, q.y)};
  }
  const double s = area2 > 0 ? 1.0 : -1.0;  // counter-clockwise: outward normal (ey, -ex)
  for (size_t i = 0; i < n; ++i) {
    const Point2& a = v[i];
    const Point2& b = v[(i + 1) % n];
    const double nx = s * (b.y - a.y), ny = -s * (b.x - a.x);
    if (!std::isfinite(nx) || !std::isfinite(ny)) {
      return InvalidArgumentError(f + ": edge " + std::to_string(i) +
                                  " overflows: coordinates too large");
    }
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (const Point2& q : v) {
      const double pr = nx * q.x + ny * q.y;
      lo = std::min(lo, pr);
      hi = std::max(hi, pr);
    }
    p.nx_.push_back(nx);
    p.ny_.push_back(ny);
    p.c_min_.push_back(lo);
    p.c_max_.push_back(hi);
  }
  return p;
}

bool ConvexPolygon::Intersects(const Box2& b) const {
  if (!(b.min.x <= b.max.x && b.min.y <= b.max.y)) return false;
  if (!(b.min.x <= bounds_.max.x && bounds_.min.x <= b.max.x && b.min.y <= bounds_.max.y &&
        bounds_.min.y <= b.max.y)) {
    return false;
  }
  for (size_t j = 0; j < nx_.size(); ++j) {
    const double nx = nx_[j], ny = ny_[j];
    const double p_lo = nx * (nx >= 0 ? b.min.x : b.max.x) + ny * (ny >= 0 ? b.min.y : b.max.y);
    const double p_hi = nx * (nx >= 0 ? b.max.x : b.min.x) + ny * (ny >= 0 ? b.max.y : b.min.y);
    if (!(p_lo <= c_max_[j] && c_min_[j] <= p_hi)) return false;
  }
  return true;
}

bool ConvexPolygon::Contains(const Box2& b) const {
  if (!(b.min.x <= b.max.x && b.min.y <= b.max.y)) return false;
  if (!(bounds_.min.x <= b.min.x && b.max.x <= bounds_.max.x && bounds_.min.y <= b.min.y &&
        b.max.y <= bounds_.max.y)) {
    return false;
  }
  for (size_t j = 0; j < nx_.size(); ++j) {
    const double nx = nx_[j], ny = ny_[j];
    const double p_lo = nx * (nx >= 0 ? b.min.x : b.max.x) + ny * (ny >= 0 ? b.min.y : b.max.y);
    const double p_hi = nx * (nx >= 0 ? b.max.x : b.min.x) + ny * (ny >= 0 ? b.max.y : b.min.y);
    if (!(c_min_[j] <= p_lo && p_hi <= c_max_[j])) return false;
  }
  return true;
}

// ---- Frustum ------------------------------------------------------------------------------

Frustum Frustum::FromColumnMajor(const double m[16]) {
  auto row = [m](int r, int c) { return m[c * 4 + r]; };
  Frustum f;
  // Gribb-Hartmann: -w <= x  <=>  (row3 + row0) . v >= 0, x <= w  <=>  (row3 - row0) . v >= 0, ...
  const int axis[6] = {0, 0, 1, 1, 2, 2};
  const double sign[6] = {1, -1, 1, -1, 1, -1};
  for (int k = 0; k < 6; ++k) {
    double c[4];
    for (int col = 0; col < 4; ++col) c[col] = row(3, col) + sign[k] * row(axis[k], col);
    const double len = std::sqrt(c[0] * c[0] + c[1] * c[1] + c[2] * c[2]);
    const double s = len > 0 ? 1 / len : 1;
    f.planes[k] = {c[0] * s, c[1] * s, c[2] * s, c[3] * s};
  }
  return f;
}

Status Frustum::Validate(std::string_view field) const {
  for (size_t k = 0; k < planes.size(); ++k) {
    const Plane& p = planes[k];
    const std::string name = std::string(field) + ".planes[" + std::to_string(k) + "]";
    const double c[4] = {p.nx, p.ny, p.nz, p.d};
    const char* names[4] = {".nx", ".ny", ".nz", ".d"};
    for (int i = 0; i < 4; ++i) {
      if (!std::isfinite(c[i])) {
        return InvalidArgumentError(name + names[i] + " = " + FormatNumber(c[i]) +
                                    ": coefficient is not a finite number");
      }
    }
    if (p.nx == 0 && p.ny == 0 && p.nz == 0) {
      return InvalidArgumentError(name + ": normal is zero");
    }
  }
  return Status();
}

namespace {
template <bool kContains>
bool FrustumTest(const Frustum& f, const Box3& b) {
  if (!(b.min.x <= b.max.x && b.min.y <= b.max.y && b.min.z <= b.max.z)) return false;
  for (const Plane& p : f.planes) {
    const bool px = (p.nx >= 0) != kContains, py = (p.ny >= 0) != kContains,
               pz = (p.nz >= 0) != kContains;
    const double v = p.nx * (px ? b.max.x : b.min.x) + p.ny * (py ? b.max.y : b.min.y) +
                     p.nz * (pz ? b.max.z : b.min.z) + p.d;
    if (!(0 <= v)) return false;
  }
  return true;
}
}  // namespace

bool Frustum::Intersects(const Box3& b) const { return FrustumTest<false>(*this, b); }
bool Frustum::Contains(const Box3& b) const { return FrustumTest<true>(*this, b); }

}  // namespace locus::engine
