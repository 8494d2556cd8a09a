// The motion rule and the geometry of one moving segment (motion.h).
#include "engine/motion.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "engine/sphere.h"
#include "kernels/geo.h"

namespace locus::engine {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kDeg = kPi / 180;
constexpr double kPad = 1e-9;  // degrees: box padding for the rounding of trigonometry

using V3 = std::array<double, 3>;
double Dot(const V3& a, const V3& b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }
V3 Cross(const V3& a, const V3& b) {
  return {a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]};
}
double Norm(const V3& a) { return std::sqrt(Dot(a, a)); }
V3 Scale(const V3& a, double s) { return {a[0] * s, a[1] * s, a[2] * s}; }
V3 Add(const V3& a, const V3& b) { return {a[0] + b[0], a[1] + b[1], a[2] + b[2]}; }
V3 Sub(const V3& a, const V3& b) { return {a[0] - b[0], a[1] - b[1], a[2] - b[2]}; }
double ChordSq(const V3& a, const V3& b) {
  const V3 d = Sub(a, b);
  return Dot(d, d);
}

// lon/lat in degrees of a (not necessarily unit) vector; lon in [-180, 180].
void LonLat(const V3& v, double* lon, double* lat) {
  *lon = std::atan2(v[1], v[0]) / kDeg;
  *lat = std::atan2(v[2], std::hypot(v[0], v[1])) / kDeg;
}
double WrapLon(double lon) {
  while (lon > 180) lon -= 360;
  while (lon < -180) lon += 360;
  return lon;
}
// b's longitude minus a's, in (-180, 180].
double LonDelta(double lon_a, double lon_b) {
  double d = lon_b - lon_a;
  if (d > 180) d -= 360;
  if (d <= -180) d += 360;
  return d;
}

// The great circle from a towards b: p(phi) = a cos(phi) + u sin(phi), phi in [0, omega].
// `tiny`: a and b are (numerically) the same point, so positions are interpolated linearly
// in lon/lat instead (the arc is shorter than 1e-8 m).
struct Arc {
  V3 a, u;
  double omega = 0;
  bool tiny = false;
  V3 At(double phi) const { return Add(Scale(a, std::cos(phi)), Scale(u, std::sin(phi))); }
};
Arc MakeArc(const Fix& fa, const Fix& fb) {
  Arc arc;
  arc.a = UnitVector(fa.x, fa.y);
  const V3 b = UnitVector(fb.x, fb.y);
  const V3 n = Cross(arc.a, b);
  const double sin_o = Norm(n), cos_o = Dot(arc.a, b);
  arc.omega = std::atan2(sin_o, cos_o);
  if (sin_o > 1e-15) {
    arc.u = Scale(Cross(n, arc.a), 1 / sin_o);
    return arc;
  }
  if (cos_o > 0) {
    arc.tiny = true;
    arc.u = {0, 0, 0};
    return arc;
  }
  // Antipodal: the arc through the north direction at a (or +x at a pole).
  const double lat = fa.y * kDeg, lon = fa.x * kDeg;
  V3 north = {-std::sin(lat) * std::cos(lon), -std::sin(lat) * std::sin(lon), std::cos(lat)};
  if (Norm(north) < 0.5 || std::abs(fa.y) > 89.999999) north = {1, 0, 0};
  arc.u = Scale(north, 1 / Norm(north));
  arc.omega = kPi;
  return arc;
}

Fix LinearLonLat(const Fix& a, const Fix& b, double s) {
  Fix f;
  f.x = WrapLon(a.x + LonDelta(a.x, b.x) * s);
  f.y = a.y + (b.y - a.y) * s;
  f.z = a.z + (b.z - a.z) * s;
  return f;
}

// ---- interval sets over a parameter range ----
struct Span {
  double lo, hi;
};
using Spans = std::vector<Span>;  // disjoint, ascending

Spans Intersect(const Spans& x, const Spans& y) {
  Spans out;
  for (const Span& a : x) {
    for (const Span& b : y) {
      const double lo = std::max(a.lo, b.lo), hi = std::min(a.hi, b.hi);
      if (lo <= hi) out.push_back({lo, hi});
    }
  }
  std::sort(out.begin(), out.end(), [](const Span& p, const Span& q) { return p.lo < q.lo; });
  return out;
}

// {phi in [lo, hi] : A cos(phi) + B sin(phi) >= k}, for [lo, hi] within [0, pi].
Spans Constraint(double A, double B, double k, double lo, double hi) {
  const double r = std::hypot(A, B);
  if (r < 1e-300) return k <= 0 ? Spans{{lo, hi}} : Spans{};
  const double c = k / r;
  if (c <= -1) return {{lo, hi}};
  if (c > 1) return {};
  const double alpha = std::acos(c), psi = std::atan2(B, A);
  Spans out;
  for (int m = -1; m <= 1; ++m) {
    const double a = psi - alpha + 2 * kPi * m, b = psi + alpha + 2 * kPi * m;
    const double l = std::max(a, lo), h = std::min(b, hi);
    if (l <= h) out.push_back({l, h});
  }
  std::sort(out.begin(), out.end(), [](const Span& p, const Span& q) { return p.lo < q.lo; });
  return out;
}

// The constraint d . p >= k on the arc, over [lo, hi].
Spans OnArc(const Arc& arc, const V3& d, double k, double lo, double hi) {
  return Constraint(Dot(d, arc.a), Dot(d, arc.u), k, lo, hi);
}

// Longitude pieces [w, e] of width <= 180 covering a lon range (w <= e, width <= 360).
int LonPieces(double w, double e, std::pair<double, double> out[2]) {
  if (e - w <= 180) {
    out[0] = {w, e};
    return 1;
  }
  const double m = (w + e) / 2;
  out[0] = {w, m};
  out[1] = {m, e};
  return 2;
}

// First phi in [lo, hi] where the arc is in the lon/lat box piece [w, e] x [s, n] (w <= e).
std::optional<double> FirstInLonLatBox(const Arc& arc, double w, double e, double s, double n,
                                       double lo, double hi) {
  Spans base = OnArc(arc, {0, 0, 1}, std::sin(s * kDeg), lo, hi);
  base = Intersect(base, OnArc(arc, {0, 0, -1}, -std::sin(n * kDeg), lo, hi));
  if (base.empty()) return std::nullopt;
  std::optional<double> best;
  if (e - w >= 360) return base.front().lo;
  std::pair<double, double> pieces[2];
  const int np = LonPieces(w, e, pieces);
  for (int i = 0; i < np; ++i) {
    const double pw = pieces[i].first * kDeg, pe = (pieces[i].second - 180) * kDeg;
    // lon in [pw, pw + 180]: (-sin pw, cos pw, 0) . p >= 0; lon in [pe, pe + 180] likewise.
    Spans s2 = Intersect(base, OnArc(arc, {-std::sin(pw), std::cos(pw), 0}, 0, lo, hi));
    s2 = Intersect(s2, OnArc(arc, {-std::sin(pe), std::cos(pe), 0}, 0, lo, hi));
    if (!s2.empty() && (!best || s2.front().lo < *best)) best = s2.front().lo;
  }
  return best;
}

// ---- planar ----

// {s in [s_lo, s_hi] : |o + s v| <= d} as [lo, hi] (empty when lo > hi), where a = |v|^2 > 0
// and s_min = -(o . v) / a, the unclamped instant of the least distance. |o + s v|^2 is
// a (s - s_min)^2 + m2, with m2 the squared distance at s_min, computed from the position
// then. (Not as the discriminant b^2 - 4ac of the expanded quadratic: when the motion starts
// far away, |o| >> d, b^2 and 4ac agree in nearly every digit and their difference, which
// decides whether the distance is ever reached, is rounding noise: a pass at 1.0000001 from
// 1e5 away read as within 1, one at 0.9999999 as not.)
std::pair<double, double> QuadraticWithin(double ox, double oy, double oz, double vx, double vy,
                                          double vz, double a, double s_min, double d, double s_lo,
                                          double s_hi) {
  const double mx = ox + s_min * vx, my = oy + s_min * vy, mz = oz + s_min * vz;
  const double slack = d * d - (mx * mx + my * my + mz * mz);
  if (slack < 0) return {1, 0};
  const double half = std::sqrt(slack / a);
  return {std::max(s_lo, s_min - half), std::min(s_hi, s_min + half)};
}

// First s in [s_lo, s_hi] at which p0 + s d is in the closed box, slab test.
std::optional<double> FirstInPlanarBox(double x0, double y0, double dx, double dy, double min_x,
                                       double min_y, double max_x, double max_y, double s_lo,
                                       double s_hi) {
  double lo = s_lo, hi = s_hi;
  auto axis = [&](double o, double d, double mn, double mx) {
    if (d == 0) return o >= mn && o <= mx;
    double t1 = (mn - o) / d, t2 = (mx - o) / d;
    if (t1 > t2) std::swap(t1, t2);
    lo = std::max(lo, t1);
    hi = std::min(hi, t2);
    return lo <= hi;
  };
  if (!axis(x0, dx, min_x, max_x) || !axis(y0, dy, min_y, max_y)) return std::nullopt;
  return lo;
}

// First s in [s_lo, s_hi] with |p0 + s d - c|^2 <= r^2.
std::optional<double> FirstInPlanarCircle(double x0, double y0, double dx, double dy, double cx,
                                          double cy, double r, double s_lo, double s_hi) {
  const double ox = x0 - cx, oy = y0 - cy;
  const double a = dx * dx + dy * dy;
  const double s_min = a > 0 ? -(dx * ox + dy * oy) / a : 0;
  if (a == 0 || !std::isfinite(s_min)) {
    return ox * ox + oy * oy <= r * r ? std::optional<double>(s_lo) : std::nullopt;
  }
  const auto [lo, hi] = QuadraticWithin(ox, oy, 0, dx, dy, 0, a, s_min, r, s_lo, s_hi);
  if (lo > hi) return std::nullopt;
  return lo;
}

// First s in [s_lo, s_hi] at which p0 + s d is in the closed polygon (planar).
std::optional<double> FirstInPlanarPolygon(double x0, double y0, double dx, double dy,
                                           const Polygon& poly, double s_lo, double s_hi) {
  if (poly.Contains({x0 + s_lo * dx, y0 + s_lo * dy})) return s_lo;
  double best = std::numeric_limits<double>::infinity();
  const double dd = dx * dx + dy * dy;
  for (size_t r = 0; r < poly.num_rings(); ++r) {
    const auto ring = poly.ring(r);
    for (size_t i = 0; i < ring.size(); ++i) {
      const Point2& p = ring[i];
      const Point2& q = ring[(i + 1) % ring.size()];
      const double ex = q.x - p.x, ey = q.y - p.y;
      const double denom = dx * ey - dy * ex;
      const double wx = p.x - x0, wy = p.y - y0;
      if (denom == 0) {
        if (dd == 0 || wx * dy - wy * dx != 0) continue;  // parallel, not collinear
        double sp = (wx * dx + wy * dy) / dd;
        double sq = ((q.x - x0) * dx + (q.y - y0) * dy) / dd;
        if (sp > sq) std::swap(sp, sq);
        const double lo = std::max(sp, s_lo);
        if (lo <= std::min(sq, s_hi)) best = std::min(best, lo);
        continue;
      }
      const double s = (wx * ey - wy * ex) / denom;   // along the path
      const double u = (wx * dy - wy * dx) / denom;   // along the edge
      if (u >= 0 && u <= 1 && s >= s_lo && s <= s_hi) best = std::min(best, s);
    }
  }
  if (best <= s_hi) return best;
  if (poly.Contains({x0 + s_hi * dx, y0 + s_hi * dy})) return s_hi;
  return std::nullopt;
}

// The arc's positions in lon/lat as planar pieces (phi0, phi1, lon0, lat0, lon1, lat1) whose
// midpoints are within 1e-9 degrees of the arc; lon unwrapped within a piece, pieces split at
// the antimeridian so each lies within [-180, 180].
struct LonLatPiece {
  double phi0, phi1, x0, y0, x1, y1;
};
void Subdivide(const Arc& arc, double phi0, double phi1, int depth, std::vector<LonLatPiece>* out) {
  double x0, y0, x1, y1, xm, ym;
  LonLat(arc.At(phi0), &x0, &y0);
  LonLat(arc.At(phi1), &x1, &y1);
  LonLat(arc.At((phi0 + phi1) / 2), &xm, &ym);
  const double dx = LonDelta(x0, x1);
  const double lin_x = x0 + dx / 2, lin_y = (y0 + y1) / 2;
  const double dev = std::max(std::abs(LonDelta(lin_x, xm)), std::abs(ym - lin_y));
  if (dev > 1e-9 && depth < 40) {
    Subdivide(arc, phi0, (phi0 + phi1) / 2, depth + 1, out);
    Subdivide(arc, (phi0 + phi1) / 2, phi1, depth + 1, out);
    return;
  }
  const double ux1 = x0 + dx;  // unwrapped
  if (ux1 > 180 || ux1 < -180) {
    const double edge = ux1 > 180 ? 180 : -180;
    const double f = (edge - x0) / dx;
    const double yc = y0 + (y1 - y0) * f, pc = phi0 + (phi1 - phi0) * f;
    out->push_back({phi0, pc, x0, y0, edge, yc});
    out->push_back({pc, phi1, -edge, yc, x1, y1});
    return;
  }
  out->push_back({phi0, phi1, x0, y0, ux1, y1});
}

double Clamp01(double s) { return std::min(1.0, std::max(0.0, s)); }

// f(s) = squared chord between the two slerps at s in [0, 1].
struct SpherePair {
  Arc a, b;
  Fix fa0, fa1, fb0, fb1;
  V3 PosA(double s) const { return a.tiny ? UnitVector(fa0.x, fa0.y) : a.At(s * a.omega); }
  V3 PosB(double s) const { return b.tiny ? UnitVector(fb0.x, fb0.y) : b.At(s * b.omega); }
  double F(double s) const { return ChordSq(PosA(s), PosB(s)); }
};
double MinimiseSphere(const SpherePair& p, double* f_min) {
  constexpr int kScan = 16;
  int best = 0;
  double best_f = p.F(0);
  for (int i = 1; i <= kScan; ++i) {
    const double f = p.F(static_cast<double>(i) / kScan);
    if (f < best_f) best_f = f, best = i;
  }
  double lo = std::max(0, best - 1) / double{kScan}, hi = std::min(kScan, best + 1) / double{kScan};
  const double g = (std::sqrt(5.0) - 1) / 2;
  double x1 = hi - g * (hi - lo), x2 = lo + g * (hi - lo);
  double f1 = p.F(x1), f2 = p.F(x2);
  for (int it = 0; it < 80 && hi - lo > 1e-15; ++it) {
    if (f1 <= f2) {
      hi = x2, x2 = x1, f2 = f1, x1 = hi - g * (hi - lo), f1 = p.F(x1);
    } else {
      lo = x1, x1 = x2, f1 = f2, x2 = lo + g * (hi - lo), f2 = p.F(x2);
    }
  }
  double s = f1 <= f2 ? x1 : x2, f = std::min(f1, f2);
  if (best_f <= f) s = static_cast<double>(best) / kScan, f = best_f;
  *f_min = f;
  return s;
}

}  // namespace

void SpaceTimeBox::Extend(const SpaceTimeBox& o) {
  min_x = std::min(min_x, o.min_x);
  min_y = std::min(min_y, o.min_y);
  max_x = std::max(max_x, o.max_x);
  max_y = std::max(max_y, o.max_y);
  min_t = std::min(min_t, o.min_t);
  max_t = std::max(max_t, o.max_t);
}

Fix Interpolate(const Fix& a, const Fix& b, double t, Space space) {
  if (t <= static_cast<double>(a.t)) return a;
  if (t >= static_cast<double>(b.t)) return b;
  const double s = (t - static_cast<double>(a.t)) / static_cast<double>(b.t - a.t);
  Fix f;
  f.t = static_cast<int64_t>(std::floor(t));
  if (space != Space::kSphere) {
    f.x = a.x + (b.x - a.x) * s;
    f.y = a.y + (b.y - a.y) * s;
    f.z = a.z + (b.z - a.z) * s;
    return f;
  }
  const Arc arc = MakeArc(a, b);
  if (arc.tiny) {
    Fix l = LinearLonLat(a, b, s);
    l.t = f.t;
    return l;
  }
  LonLat(arc.At(s * arc.omega), &f.x, &f.y);
  f.z = a.z + (b.z - a.z) * s;
  return f;
}

double MotionDistance(const Fix& a, const Fix& b, Space space) {
  switch (space) {
    case Space::kPlanar2D:
      return std::hypot(a.x - b.x, a.y - b.y);
    case Space::kPlanar3D: {
      const double dx = a.x - b.x, dy = a.y - b.y, dz = a.z - b.z;
      return std::sqrt(dx * dx + dy * dy + dz * dz);
    }
    case Space::kSphere:
      break;
  }
  return MetresOfSquaredChord(ChordSq(UnitVector(a.x, a.y), UnitVector(b.x, b.y)));
}

SpaceTimeBox PointBox(const Fix& a) { return {a.x, a.y, a.x, a.y, a.t, a.t}; }

SpaceTimeBox SegmentBox(const Fix& a, const Fix& b, Space space) {
  SpaceTimeBox box{std::min(a.x, b.x), std::min(a.y, b.y), std::max(a.x, b.x),
                   std::max(a.y, b.y), std::min(a.t, b.t), std::max(a.t, b.t)};
  if (space != Space::kSphere) return box;
  const double d = LonDelta(a.x, b.x);
  double lo = d >= 0 ? a.x : a.x + d, hi = d >= 0 ? a.x + d : a.x;
  if (lo < -180) lo += 360, hi += 360;
  double lat_lo = std::min(a.y, b.y), lat_hi = std::max(a.y, b.y);
  // Short arcs (consecutive samples of anything that moves): a rigorous bound on the latitude
  // bulge without the arc's trigonometry (this path is most of an ingest's time otherwise).
  // On the arc z = sin(lat) = w1 z_a + w2 z_b with slerp weights w1, w2 >= 0 whose sum is at
  // most 1 / cos(omega / 2); so z <= max(z_a, z_b) / cos(omega / 2) when that max is >= 0
  // (and z <= the max when it is negative), and symmetrically for the minimum. The arc's angle
  // omega <= (pi / 2) hypot(dlat, dlon) (haversine, with sin x >= 2x / pi on [0, pi / 2]), and
  // 1 / cos(omega / 2) <= 1 / (1 - omega^2 / 8). asin grows over [x, x'] by at most
  // (x' - x) / sqrt(1 - x'^2). Longitudes: a short arc away from the poles is monotone in
  // longitude, as the general path assumes too.
  {
    const double dlat = (b.y - a.y) * kDeg, dlon = d * kDeg;
    const double omega_sq = kPi * kPi / 4 * (dlat * dlat + dlon * dlon);  // an upper bound
    if (omega_sq < 1e-4) {
      const double grow = 1 / (1 - omega_sq / 8);
      // Degrees to add beyond the extreme endpoint latitude `lat` on its side of the equator.
      auto bulge = [&](double lat) {
        const double x = std::sin(std::abs(lat) * kDeg);
        const double x2 = x * grow;
        return x2 >= 0.999 ? -1.0 : (x2 - x) / std::sqrt(1 - x2 * x2) / kDeg;
      };
      const double up = lat_hi >= 0 ? bulge(lat_hi) : 0;
      const double down = lat_lo <= 0 ? bulge(lat_lo) : 0;
      if (up >= 0 && down >= 0) {  // else within ~2.6 degrees of a pole: the general path
        box.min_y = std::max(-90.0, lat_lo - down - kPad);
        box.max_y = std::min(90.0, lat_hi + up + kPad);
        box.min_x = lo - kPad, box.max_x = hi + kPad;
        return box;
      }
    }
  }
  const Arc arc = MakeArc(a, b);
  if (!arc.tiny) {
    const V3 n = Cross(arc.a, arc.At(arc.omega));
    const double nn = Norm(n);
    if (arc.omega >= kPi - 1e-12 || nn == 0) {
      box.min_x = -180, box.max_x = 180, box.min_y = -90, box.max_y = 90;
      return box;
    }
    const V3 nh = Scale(n, 1 / nn);
    // The great circle's highest point: ez minus its component along the normal.
    V3 v = Sub(V3{0, 0, 1}, Scale(nh, nh[2]));
    const double vn = Norm(v);
    if (vn > 1e-300) {
      v = Scale(v, 1 / vn);
      for (int sign : {1, -1}) {
        const V3 w = Scale(v, sign);
        const double phi = std::atan2(Dot(w, arc.u), Dot(w, arc.a));
        if (phi >= 0 && phi <= arc.omega) {
          double lon, lat;
          LonLat(w, &lon, &lat);
          lat_lo = std::min(lat_lo, lat), lat_hi = std::max(lat_hi, lat);
        }
      }
    }
  }
  box.min_y = std::max(-90.0, lat_lo - kPad);
  box.max_y = std::min(90.0, lat_hi + kPad);
  if (box.max_y >= 90 - 1e-7 || box.min_y <= -90 + 1e-7) {
    box.min_x = -180, box.max_x = 180;  // near a pole longitudes sweep fast: take them all
  } else {
    box.min_x = lo - kPad, box.max_x = hi + kPad;
  }
  return box;
}

bool InRegion(const MotionRegion& r, const Fix& p, Space space) {
  switch (r.kind) {
    case MotionRegion::Kind::kBox:
      if (p.y < r.min_y || p.y > r.max_y) return false;
      if (space == Space::kSphere && r.min_x > r.max_x) return p.x >= r.min_x || p.x <= r.max_x;
      return p.x >= r.min_x && p.x <= r.max_x;
    case MotionRegion::Kind::kCircle: {
      if (space != Space::kSphere) {
        const double dx = p.x - r.cx, dy = p.y - r.cy;
        return dx * dx + dy * dy <= r.radius * r.radius;
      }
      return ChordSq(UnitVector(p.x, p.y), UnitVector(r.cx, r.cy)) <=
             SquaredChordOfMetres(r.radius);
    }
    case MotionRegion::Kind::kPolygon:
      return r.polygon->Contains({p.x, p.y});
  }
  return false;
}

int RegionBoxes(const MotionRegion& r, Space space, std::array<double, 4> out[2]) {
  if (r.kind == MotionRegion::Kind::kPolygon) {
    const Box2& b = r.polygon->bounds();
    out[0] = {b.min.x, b.min.y, b.max.x, b.max.y};
    return 1;
  }
  if (r.kind == MotionRegion::Kind::kBox) {
    if (space == Space::kSphere && r.min_x > r.max_x) {
      out[0] = {r.min_x, r.min_y, 180, r.max_y};
      out[1] = {-180, r.min_y, r.max_x, r.max_y};
      return 2;
    }
    out[0] = {r.min_x, r.min_y, r.max_x, r.max_y};
    return 1;
  }
  if (space != Space::kSphere) {
    out[0] = {r.cx - r.radius, r.cy - r.radius, r.cx + r.radius, r.cy + r.radius};
    return 1;
  }
  const double delta = r.radius / kernels::kEarthRadiusMetres;  // radians
  if (delta >= kPi) {
    out[0] = {-180, -90, 180, 90};
    return 1;
  }
  const double dlat = delta / kDeg + kPad;
  const double s = r.cy - dlat, n = r.cy + dlat;
  if (n >= 90 || s <= -90) {
    out[0] = {-180, std::max(-90.0, s), 180, std::min(90.0, n)};
    return 1;
  }
  const double ratio = std::sin(delta) / std::cos(r.cy * kDeg);
  if (ratio >= 1) {
    out[0] = {-180, s, 180, n};
    return 1;
  }
  const double dlon = std::asin(ratio) / kDeg + kPad;
  const double w = r.cx - dlon, e = r.cx + dlon;
  if (w < -180) {
    out[0] = {w + 360, s, 180, n};
    out[1] = {-180, s, e, n};
    return 2;
  }
  if (e > 180) {
    out[0] = {w, s, 180, n};
    out[1] = {-180, s, e - 360, n};
    return 2;
  }
  out[0] = {w, s, e, n};
  return 1;
}

std::optional<double> FirstInside(const Fix& a, const Fix& b, double t_lo, double t_hi,
                                  const MotionRegion& region, Space space) {
  const double lo = std::max(t_lo, static_cast<double>(a.t));
  const double hi = std::min(t_hi, static_cast<double>(b.t));
  if (lo > hi) return std::nullopt;
  if (lo == static_cast<double>(a.t) && InRegion(region, a, space)) return lo;
  const double dt = static_cast<double>(b.t - a.t);
  if (dt <= 0) return std::nullopt;
  const double s_lo = Clamp01((lo - static_cast<double>(a.t)) / dt);
  const double s_hi = Clamp01((hi - static_cast<double>(a.t)) / dt);
  auto time_of = [&](double s) { return std::max(lo, std::min(hi, a.t + s * dt)); };
  std::optional<double> s;
  if (space != Space::kSphere) {
    const double dx = b.x - a.x, dy = b.y - a.y;
    switch (region.kind) {
      case MotionRegion::Kind::kBox:
        s = FirstInPlanarBox(a.x, a.y, dx, dy, region.min_x, region.min_y, region.max_x,
                             region.max_y, s_lo, s_hi);
        break;
      case MotionRegion::Kind::kCircle:
        s = FirstInPlanarCircle(a.x, a.y, dx, dy, region.cx, region.cy, region.radius, s_lo,
                                s_hi);
        break;
      case MotionRegion::Kind::kPolygon:
        s = FirstInPlanarPolygon(a.x, a.y, dx, dy, *region.polygon, s_lo, s_hi);
        break;
    }
  } else {
    const Arc arc = MakeArc(a, b);
    if (arc.tiny) {  // shorter than 1e-8 m: as a point that jumps from a to b
      if (InRegion(region, a, space)) return lo;
      if (InRegion(region, b, space)) return hi;
      return std::nullopt;
    }
    const double phi_lo = s_lo * arc.omega, phi_hi = s_hi * arc.omega;
    std::optional<double> phi;
    switch (region.kind) {
      case MotionRegion::Kind::kBox:
        if (region.min_x > region.max_x) {
          auto p1 = FirstInLonLatBox(arc, region.min_x, 180, region.min_y, region.max_y,
                                     phi_lo, phi_hi);
          auto p2 = FirstInLonLatBox(arc, -180, region.max_x, region.min_y, region.max_y,
                                     phi_lo, phi_hi);
          phi = p1 && p2 ? std::min(*p1, *p2) : p1 ? p1 : p2;
        } else {
          phi = FirstInLonLatBox(arc, region.min_x, region.max_x, region.min_y, region.max_y,
                                 phi_lo, phi_hi);
        }
        break;
      case MotionRegion::Kind::kCircle: {
        const V3 c = UnitVector(region.cx, region.cy);
        const Spans sp =
            OnArc(arc, c, 1 - SquaredChordOfMetres(region.radius) / 2, phi_lo, phi_hi);
        if (!sp.empty()) phi = sp.front().lo;
        break;
      }
      case MotionRegion::Kind::kPolygon: {
        std::vector<LonLatPiece> pieces;
        Subdivide(arc, phi_lo, phi_hi, 0, &pieces);
        for (const LonLatPiece& p : pieces) {
          auto sp = FirstInPlanarPolygon(p.x0, p.y0, p.x1 - p.x0, p.y1 - p.y0, *region.polygon,
                                         0, 1);
          if (sp) {
            phi = p.phi0 + (p.phi1 - p.phi0) * *sp;
            break;
          }
        }
        break;
      }
    }
    if (phi) s = *phi / arc.omega;
  }
  if (s) return time_of(*s);
  if (hi == static_cast<double>(b.t) && InRegion(region, b, space)) return hi;
  return std::nullopt;
}

std::pair<double, double> ClosestInPiece(const ApproachPiece& p, Space space) {
  const double t0 = static_cast<double>(p.a0.t), t1 = static_cast<double>(p.a1.t);
  if (space != Space::kSphere) {
    const bool three = space == Space::kPlanar3D;
    const double rx = p.b0.x - p.a0.x, ry = p.b0.y - p.a0.y, rz = three ? p.b0.z - p.a0.z : 0;
    const double vx = (p.b1.x - p.a1.x) - rx, vy = (p.b1.y - p.a1.y) - ry,
                 vz = three ? (p.b1.z - p.a1.z) - rz : 0;
    const double vv = vx * vx + vy * vy + vz * vz;
    double s = vv > 0 ? Clamp01(-(rx * vx + ry * vy + rz * vz) / vv) : 0;
    if (t1 <= t0) s = 0;
    const double dx = rx + s * vx, dy = ry + s * vy, dz = rz + s * vz;
    return {t0 + s * (t1 - t0), std::sqrt(dx * dx + dy * dy + dz * dz)};
  }
  SpherePair sp{MakeArc(p.a0, p.a1), MakeArc(p.b0, p.b1), p.a0, p.a1, p.b0, p.b1};
  if (t1 <= t0) return {t0, MetresOfSquaredChord(sp.F(0))};
  double f;
  const double s = MinimiseSphere(sp, &f);
  return {t0 + s * (t1 - t0), MetresOfSquaredChord(f)};
}

std::optional<std::pair<double, double>> WithinInPiece(const ApproachPiece& p, double d,
                                                       Space space) {
  const double t0 = static_cast<double>(p.a0.t), t1 = static_cast<double>(p.a1.t);
  if (space != Space::kSphere) {
    const bool three = space == Space::kPlanar3D;
    const double rx = p.b0.x - p.a0.x, ry = p.b0.y - p.a0.y, rz = three ? p.b0.z - p.a0.z : 0;
    const double vx = (p.b1.x - p.a1.x) - rx, vy = (p.b1.y - p.a1.y) - ry,
                 vz = three ? (p.b1.z - p.a1.z) - rz : 0;
    const double a = vx * vx + vy * vy + vz * vz;
    const double s_min = a > 0 ? -(rx * vx + ry * vy + rz * vz) / a : 0;
    if (a == 0 || !std::isfinite(s_min) || t1 <= t0) {
      if (rx * rx + ry * ry + rz * rz > d * d) return std::nullopt;
      return std::make_pair(t0, t1);
    }
    const auto [lo, hi] = QuadraticWithin(rx, ry, rz, vx, vy, vz, a, s_min, d, 0, 1);
    if (lo > hi) return std::nullopt;
    return std::make_pair(t0 + lo * (t1 - t0), t0 + hi * (t1 - t0));
  }
  const double limit = SquaredChordOfMetres(d);
  SpherePair sp{MakeArc(p.a0, p.a1), MakeArc(p.b0, p.b1), p.a0, p.a1, p.b0, p.b1};
  if (t1 <= t0) {
    if (sp.F(0) > limit) return std::nullopt;
    return std::make_pair(t0, t0);
  }
  double f_min;
  const double s_min = MinimiseSphere(sp, &f_min);
  if (f_min > limit) return std::nullopt;
  auto boundary = [&](double inside, double outside) {  // F(inside) <= limit < F(outside)
    for (int it = 0; it < 64; ++it) {
      const double m = (inside + outside) / 2;
      (sp.F(m) <= limit ? inside : outside) = m;
    }
    return inside;
  };
  const double lo = sp.F(0) <= limit ? 0 : boundary(s_min, 0);
  const double hi = sp.F(1) <= limit ? 1 : boundary(s_min, 1);
  return std::make_pair(t0 + lo * (t1 - t0), t0 + hi * (t1 - t0));
}

double DistanceToSegment(const Fix& p, const Fix& a, const Fix& b, Space space) {
  if (space != Space::kSphere) {
    const bool three = space == Space::kPlanar3D;
    const double dx = b.x - a.x, dy = b.y - a.y, dz = three ? b.z - a.z : 0;
    const double wx = p.x - a.x, wy = p.y - a.y, wz = three ? p.z - a.z : 0;
    const double dd = dx * dx + dy * dy + dz * dz;
    const double s = dd > 0 ? Clamp01((wx * dx + wy * dy + wz * dz) / dd) : 0;
    const double ex = wx - s * dx, ey = wy - s * dy, ez = wz - s * dz;
    return std::sqrt(ex * ex + ey * ey + ez * ez);
  }
  const Arc arc = MakeArc(a, b);
  const V3 v = UnitVector(p.x, p.y);
  const double to_a = MotionDistance(p, a, space), to_b = MotionDistance(p, b, space);
  if (arc.tiny) return std::min(to_a, to_b);
  const V3 n = Cross(arc.a, arc.u);  // unit: a and u are orthonormal
  const V3 proj = Sub(v, Scale(n, Dot(n, v)));
  const double phi = std::atan2(Dot(proj, arc.u), Dot(proj, arc.a));
  if (phi >= 0 && phi <= arc.omega && Norm(proj) > 0) {
    return std::asin(std::min(1.0, std::abs(Dot(n, v)))) * kernels::kEarthRadiusMetres;
  }
  return std::min(to_a, to_b);
}

}  // namespace locus::engine
