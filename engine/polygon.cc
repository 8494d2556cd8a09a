// Polygon validation (exact segment predicates over a uniform grid), the exact
// point-in-polygon test over horizontal edge slabs, and the monotone-chain convex hull.
// See engine/polygon.h for the geometry model and the boundary rule.
//
// Thread safety: Polygon is immutable after Make; all functions here are pure.
#include "engine/polygon.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <optional>
#include <string>
#include <tuple>
#include <utility>

namespace locus::engine {
namespace {

// Returns "[i]" (built by appending: GCC 12 flags "[" + std::string with a false -Wrestrict).
std::string Idx(size_t i) {
  std::string out = "[";
  out += std::to_string(i);
  out += ']';
  return out;
}

int Sign(double v) { return (v > 0) - (v < 0); }

// Knuth's TwoSum and the fma TwoProduct: s + e == a + b and p + e == a * b exactly (barring
// overflow, and for the product, underflow).
inline void TwoSum(double a, double b, double* s, double* e) {
  *s = a + b;
  const double bv = *s - a;
  const double av = *s - bv;
  *e = (a - av) + (b - bv);
}
inline void TwoProduct(double a, double b, double* p, double* e) {
  *p = a * b;
  *e = std::fma(a, b, -*p);
}

// The exact sign of (a.x - c.x)(b.y - c.y) - (a.y - c.y)(b.x - c.x), expanded into six
// coordinate products (the c.x * c.y terms cancel), each split exactly into two doubles and
// summed exactly as a Shewchuk expansion (grow-expansion with zero elimination). The sign of
// a nonoverlapping expansion is the sign of its largest (last) component.
int ExactOrient(const Point2& a, const Point2& b, const Point2& c) {
  const double factors[6][2] = {{a.x, b.y},  {-a.x, c.y}, {-c.x, b.y},
                                {-a.y, b.x}, {a.y, c.x},  {c.y, b.x}};
  double expansion[13];
  int len = 0;
  auto grow = [&](double term) {
    double q = term;
    int out = 0;
    for (int i = 0; i < len; ++i) {
      double sum, err;
      TwoSum(q, expansion[i], &sum, &err);
      q = sum;
      if (err != 0) expansion[out++] = err;
    }
    if (q != 0) expansion[out++] = q;
    len = out;
  };
  for (const auto& f : factors) {
    double p, e;
    TwoProduct(f[0], f[1], &p, &e);
    grow(e);
    grow(p);
  }
  return len == 0 ? 0 : Sign(expansion[len - 1]);
}

// Shewchuk's orient2d error bound for the f64 filter: (3 + 16 eps) eps, eps = 2^-53.
constexpr double kEps = 0x1p-53;
constexpr double kCcwErrBoundA = (3.0 + 16.0 * kEps) * kEps;

// Segment-pair relation, worst last so that a larger value is the more informative name.
enum Relation { kDisjoint = 0, kTouch = 1, kCross = 2, kOverlap = 3 };
const char* RelationName(Relation r) {
  switch (r) {
    case kTouch:
      return "touch";
    case kCross:
      return "cross";
    case kOverlap:
      return "overlap";
    default:
      return "are disjoint";
  }
}

// Exact relation of closed segments ab and cd (each of nonzero length).
Relation Classify(const Point2& a, const Point2& b, const Point2& c, const Point2& d) {
  const int o1 = Orient2D(a, b, c), o2 = Orient2D(a, b, d);
  if (o1 == o2 && o1 != 0) return kDisjoint;
  const int o3 = Orient2D(c, d, a), o4 = Orient2D(c, d, b);
  if (o3 == o4 && o3 != 0) return kDisjoint;
  if (o1 == 0 && o2 == 0) {  // one line: compare the intervals along a non-constant axis
    const bool use_x = a.x != b.x;
    const double a0 = use_x ? a.x : a.y, a1 = use_x ? b.x : b.y;
    const double c0 = use_x ? c.x : c.y, c1 = use_x ? d.x : d.y;
    const double lo = std::max(std::min(a0, a1), std::min(c0, c1));
    const double hi = std::min(std::max(a0, a1), std::max(c0, c1));
    if (lo > hi) return kDisjoint;
    return lo == hi ? kTouch : kOverlap;
  }
  if (o1 != 0 && o2 != 0 && o3 != 0 && o4 != 0) return kCross;
  return kTouch;  // an end point lies on the other segment
}

// True iff the path u -> v -> w (u != v != w, consecutive) doubles back on itself, i.e. the
// neighbouring edges uv and vw share more than v.
bool Reverses(const Point2& u, const Point2& v, const Point2& w) {
  if (Orient2D(u, v, w) != 0) return false;
  return Sign(u.x - v.x) == Sign(w.x - v.x) && Sign(u.y - v.y) == Sign(w.y - v.y);
}

Box2 BoundsOf(std::span<const Point2> pts) {
  Box2 b{pts[0], pts[0]};
  for (const Point2& p : pts) {
    b.min = {std::min(b.min.x, p.x), std::min(b.min.y, p.y)};
    b.max = {std::max(b.max.x, p.x), std::max(b.max.y, p.y)};
  }
  return b;
}

Status CheckVertex(const Point2& p, const std::string& field) {
  LOCUS_RETURN_IF_ERROR(ValidatePoint(p, field));
  for (const auto& [v, axis] : {std::pair{p.x, ".x"}, std::pair{p.y, ".y"}}) {
    if (std::abs(v) > kMaxPolygonCoordinate) {
      return InvalidArgumentError(field + axis + " = " + FormatNumber(v) +
                                  ": magnitude above 1e150 (exact predicates would overflow)");
    }
  }
  return Status();
}

// One edge during validation: ring r, edge k (from vertex k to vertex k + 1 mod n).
struct EdgeRef {
  uint32_t ring, k;
};
struct Violation {
  EdgeRef e, f;  // e before f in (ring, k) order
  Relation relation;
};

// Clamped, monotone cell index of v in a grid of `cells` cells from `origin` at `inv`
// cells per unit.
inline int64_t Cell(double v, double origin, double inv, int64_t cells) {
  const double t = std::floor((v - origin) * inv);
  if (!(t > 0)) return 0;
  return t >= static_cast<double>(cells - 1) ? cells - 1 : static_cast<int64_t>(t);
}

}  // namespace

int Orient2D(const Point2& a, const Point2& b, const Point2& c) {
  const double detleft = (a.x - c.x) * (b.y - c.y);
  const double detright = (a.y - c.y) * (b.x - c.x);
  const double det = detleft - detright;
  double detsum;
  if (detleft > 0) {
    if (detright <= 0) return Sign(det);
    detsum = detleft + detright;
  } else if (detleft < 0) {
    if (detright >= 0) return Sign(det);
    detsum = -detleft - detright;
  } else {
    return Sign(det);  // det == -detright, whose sign is exact
  }
  const double bound = kCcwErrBoundA * detsum;
  if (det >= bound || -det >= bound) return Sign(det);
  return ExactOrient(a, b, c);
}

Result<Polygon> Polygon::Make(std::vector<std::vector<Point2>> rings) {
  if (rings.empty()) {
    return InvalidArgumentError("rings.size() = 0: a polygon needs an exterior ring (rings[0])");
  }
  Polygon poly;
  // orig[v] = the input index of validated vertex v within its ring (for messages).
  std::vector<size_t> orig;
  poly.ring_start_.push_back(0);
  for (size_t r = 0; r < rings.size(); ++r) {
    const std::string rf = "rings" + Idx(r);
    const std::vector<Point2>& in = rings[r];
    const size_t first = poly.vertices_.size();
    for (size_t i = 0; i < in.size(); ++i) {
      LOCUS_RETURN_IF_ERROR(CheckVertex(in[i], rf + Idx(i)));
      if (poly.vertices_.size() > first && poly.vertices_.back() == in[i]) continue;
      poly.vertices_.push_back(in[i]);
      orig.push_back(i);
    }
    // Drop the closing point (and any repeats of the first point at the end).
    while (poly.vertices_.size() > first + 1 && poly.vertices_.back() == poly.vertices_[first]) {
      poly.vertices_.pop_back();
      orig.pop_back();
    }
    const size_t n = poly.vertices_.size() - first;
    if (n < 3) {
      return InvalidArgumentError(rf + ": " + std::to_string(n) +
                                  " distinct points, need at least 3");
    }
    const Point2* v = poly.vertices_.data() + first;
    bool collinear = true;
    for (size_t i = 2; i < n && collinear; ++i) collinear = Orient2D(v[0], v[1], v[i]) == 0;
    if (collinear) {
      return InvalidArgumentError(rf + ": zero area: all " + std::to_string(n) +
                                  " distinct points are collinear");
    }
    poly.ring_start_.push_back(poly.vertices_.size());
  }
  const size_t num_rings = poly.ring_start_.size() - 1;

  std::vector<EdgeRef> refs;
  for (size_t r = 0; r < num_rings; ++r) {
    const size_t s = poly.ring_start_[r], n = poly.ring_start_[r + 1] - s;
    for (size_t k = 0; k < n; ++k) {
      const Point2& a = poly.vertices_[s + k];
      const Point2& b = poly.vertices_[s + (k + 1) % n];
      poly.edges_.push_back({a.x, a.y, b.x, b.y});
      refs.push_back({static_cast<uint32_t>(r), static_cast<uint32_t>(k)});
    }
  }
  const size_t num_edges = poly.edges_.size();
  // The slab index counts entries (at most 4 per edge plus one per slab) in uint32.
  if (num_edges > (size_t{1} << 28)) {
    return InvalidArgumentError("rings: " + std::to_string(num_edges) +
                                " edges in all: more than 2^28 are not supported");
  }
  auto vertex = [&](const EdgeRef& e, size_t j) -> size_t {  // index into vertices_
    const size_t s = poly.ring_start_[e.ring], n = poly.ring_start_[e.ring + 1] - s;
    return s + (e.k + j) % n;
  };
  auto edge_name = [&](const EdgeRef& e) {
    return Idx(orig[vertex(e, 0)]) + "-" + Idx(orig[vertex(e, 1)]);
  };

  // ---- Intersections: every pair of edges whose bounding boxes overlap, found through a
  // uniform grid; a pair is tested only in the cell holding the min corner of the overlap
  // of their boxes, so exactly once. The smallest violating pair is reported.
  const Box2 all = BoundsOf(poly.vertices_);
  const double w = all.max.x - all.min.x, h = all.max.y - all.min.y;
  auto edge_box = [&](size_t i) {
    const Edge& e = poly.edges_[i];
    return Box2{{std::min(e.ax, e.bx), std::min(e.ay, e.by)},
                {std::max(e.ax, e.bx), std::max(e.ay, e.by)}};
  };
  int64_t gx = std::clamp<int64_t>(
      std::llround(std::min(std::sqrt(static_cast<double>(num_edges) * (w / h)), 16384.0)), 1,
      1 << 14);
  int64_t gy = std::clamp<int64_t>(static_cast<int64_t>(num_edges) / gx, 1, 1 << 14);
  double inv_x = 0, inv_y = 0;
  std::vector<size_t> cell_start;
  for (;;) {
    inv_x = static_cast<double>(gx) / w;
    inv_y = static_cast<double>(gy) / h;
    if (!std::isfinite(inv_x)) inv_x = 0;
    if (!std::isfinite(inv_y)) inv_y = 0;
    cell_start.assign(static_cast<size_t>(gx * gy) + 1, 0);
    uint64_t total = 0;
    for (size_t i = 0; i < num_edges; ++i) {
      const Box2 b = edge_box(i);
      const int64_t x0 = Cell(b.min.x, all.min.x, inv_x, gx),
                    x1 = Cell(b.max.x, all.min.x, inv_x, gx);
      const int64_t y0 = Cell(b.min.y, all.min.y, inv_y, gy),
                    y1 = Cell(b.max.y, all.min.y, inv_y, gy);
      total += static_cast<uint64_t>((x1 - x0 + 1) * (y1 - y0 + 1));
    }
    // Long edges land in many cells; coarsen until the index stays linear in size.
    if (total <= 16 * num_edges + 1024 || (gx == 1 && gy == 1)) break;
    gx = std::max<int64_t>(1, gx / 2);
    gy = std::max<int64_t>(1, gy / 2);
  }
  std::vector<uint32_t> cell_edges;
  {
    std::vector<size_t>& start = cell_start;
    auto for_cells = [&](size_t i, auto&& fn) {
      const Box2 b = edge_box(i);
      const int64_t x0 = Cell(b.min.x, all.min.x, inv_x, gx),
                    x1 = Cell(b.max.x, all.min.x, inv_x, gx);
      const int64_t y0 = Cell(b.min.y, all.min.y, inv_y, gy),
                    y1 = Cell(b.max.y, all.min.y, inv_y, gy);
      for (int64_t cy = y0; cy <= y1; ++cy) {
        for (int64_t cx = x0; cx <= x1; ++cx) fn(static_cast<size_t>(cy * gx + cx));
      }
    };
    for (size_t i = 0; i < num_edges; ++i) for_cells(i, [&](size_t c) { ++start[c + 1]; });
    for (size_t c = 1; c < start.size(); ++c) start[c] += start[c - 1];
    cell_edges.resize(start.back());
    std::vector<size_t> fill(start.begin(), start.end() - 1);
    for (size_t i = 0; i < num_edges; ++i) {
      for_cells(i, [&](size_t c) { cell_edges[fill[c]++] = static_cast<uint32_t>(i); });
    }
  }
  std::optional<Violation> worst;  // the smallest pair in (ring, k) order
  auto record = [&](size_t i, size_t j, Relation rel) {
    if (i > j) std::swap(i, j);
    const Violation v{refs[i], refs[j], rel};
    auto key = [](const Violation& x) { return std::tuple(x.e.ring, x.e.k, x.f.ring, x.f.k); };
    if (!worst || key(v) < key(*worst)) worst = v;
  };
  for (size_t c = 0; c + 1 < cell_start.size(); ++c) {
    const int64_t cx = static_cast<int64_t>(c) % gx, cy = static_cast<int64_t>(c) / gx;
    for (size_t p = cell_start[c]; p < cell_start[c + 1]; ++p) {
      const size_t i = cell_edges[p];
      const Box2 bi = edge_box(i);
      for (size_t q = p + 1; q < cell_start[c + 1]; ++q) {
        const size_t j = cell_edges[q];
        const Box2 bj = edge_box(j);
        if (!Intersects(bi, bj)) continue;
        const double ox = std::max(bi.min.x, bj.min.x), oy = std::max(bi.min.y, bj.min.y);
        if (Cell(ox, all.min.x, inv_x, gx) != cx || Cell(oy, all.min.y, inv_y, gy) != cy) continue;
        const EdgeRef &ei = refs[i], &ej = refs[j];
        if (ei.ring == ej.ring) {
          const size_t n = poly.ring_start_[ei.ring + 1] - poly.ring_start_[ei.ring];
          const size_t lo = std::min(ei.k, ej.k), hi = std::max(ei.k, ej.k);
          if (hi == lo + 1 || (lo == 0 && hi == n - 1)) {
            // Neighbours: they share one vertex; they may only meet there.
            const EdgeRef& first = (hi == lo + 1) ? (ei.k == lo ? ei : ej) : (ei.k == hi ? ei : ej);
            const Point2& u = poly.vertices_[vertex(first, 0)];
            const Point2& m = poly.vertices_[vertex(first, 1)];
            const Point2& w2 = poly.vertices_[vertex(first, 2)];
            if (Reverses(u, m, w2)) record(i, j, kOverlap);
            continue;
          }
        }
        const Edge& a = poly.edges_[i];
        const Edge& b = poly.edges_[j];
        const Relation rel = Classify({a.ax, a.ay}, {a.bx, a.by}, {b.ax, b.ay}, {b.bx, b.by});
        if (rel != kDisjoint) record(i, j, rel);
      }
    }
  }
  if (worst) {
    const Violation& v = *worst;
    const std::string rel = RelationName(v.relation);
    if (v.e.ring == v.f.ring) {
      return InvalidArgumentError("rings" + Idx(v.e.ring) + ": edges " + edge_name(v.e) + " and " +
                                  edge_name(v.f) + " " + rel +
                                  ": a ring must not intersect itself");
    }
    // Name the hole first: "rings[1] edge ... and rings[0] edge ...".
    return InvalidArgumentError("rings" + Idx(v.f.ring) + " edge " + edge_name(v.f) + " and rings" +
                                Idx(v.e.ring) + " edge " + edge_name(v.e) + " " + rel +
                                ": rings must not touch or cross");
  }

  // ---- Nesting. Rings are now pairwise disjoint, so a ring is inside another iff any of
  // its vertices is (and no vertex lies on another ring).
  auto ring_edges = [&](size_t r) {
    return std::span<const Edge>(poly.edges_.data() + poly.ring_start_[r],
                                 poly.ring_start_[r + 1] - poly.ring_start_[r]);
  };
  auto inside_ring = [&](size_t r, const Point2& p) {
    int crossings = 0;
    for (const Edge& e : ring_edges(r)) crossings ^= (TestEdge(e, p.x, p.y) & 1);
    return crossings == 1;
  };
  std::vector<Box2> ring_box(num_rings);
  for (size_t r = 0; r < num_rings; ++r) ring_box[r] = BoundsOf(poly.ring(r));
  // Holes against the exterior through the slab index over the exterior's edges alone.
  poly.bounds_ = ring_box[0];
  poly.BuildSlabs(poly.ring_start_[1]);
  for (size_t r = 1; r < num_rings; ++r) {
    if (!poly.Contains(poly.ring(r)[0])) {
      return InvalidArgumentError("rings" + Idx(r) +
                                  ": hole lies outside the exterior ring rings[0]");
    }
  }
  // Hole r can be inside hole s only if s's box contains r's box: with the holes sorted by
  // min.x, only those whose min.x falls in [s.min.x, s.max.x] are candidates.
  std::vector<size_t> holes;
  for (size_t r = 1; r < num_rings; ++r) holes.push_back(r);
  std::sort(holes.begin(), holes.end(), [&](size_t a, size_t b) {
    return ring_box[a].min.x < ring_box[b].min.x ||
           (ring_box[a].min.x == ring_box[b].min.x && a < b);
  });
  for (size_t s : holes) {
    const Box2& outer = ring_box[s];
    auto it = std::lower_bound(holes.begin(), holes.end(), outer.min.x,
                               [&](size_t a, double x) { return ring_box[a].min.x < x; });
    for (; it != holes.end() && ring_box[*it].min.x <= outer.max.x; ++it) {
      const size_t r = *it;
      const Box2& inner = ring_box[r];
      if (r == s || !(locus::Contains(outer, inner.min) && locus::Contains(outer, inner.max)))
        continue;
      if (inside_ring(s, poly.ring(r)[0])) {
        return InvalidArgumentError("rings" + Idx(r) + ": hole lies inside hole rings" + Idx(s));
      }
    }
  }

  poly.BuildSlabs(poly.edges_.size());
  return poly;
}

void Polygon::BuildSlabs(size_t n) {
  const std::span<const Edge> edges(edges_.data(), n);
  const double h = bounds_.max.y - bounds_.min.y;
  int64_t slabs = std::max<int64_t>(1, static_cast<int64_t>(n / 2));
  for (;;) {
    slab_y0_ = bounds_.min.y;
    slab_inv_h_ = static_cast<double>(slabs) / h;
    if (!std::isfinite(slab_inv_h_)) slab_inv_h_ = 0;  // all edges in slab 0
    slab_start_.assign(static_cast<size_t>(slabs) + 1, 0);
    uint64_t total = 0;
    for (const Edge& e : edges) {
      const int64_t lo = Cell(std::min(e.ay, e.by), slab_y0_, slab_inv_h_, slabs);
      const int64_t hi = Cell(std::max(e.ay, e.by), slab_y0_, slab_inv_h_, slabs);
      total += static_cast<uint64_t>(hi - lo + 1);
      for (int64_t k = lo; k <= hi; ++k) ++slab_start_[static_cast<size_t>(k) + 1];
    }
    // Edges that span many slabs (tall teeth of a comb) would make the index quadratic.
    if (total <= 4 * n + static_cast<uint64_t>(slabs) || slabs == 1) break;
    slabs /= 2;
  }
  for (size_t k = 1; k < slab_start_.size(); ++k) slab_start_[k] += slab_start_[k - 1];
  slab_edges_.resize(slab_start_.back());
  std::vector<uint32_t> fill(slab_start_.begin(), slab_start_.end() - 1);
  const int64_t slabs_final = static_cast<int64_t>(slab_start_.size() - 1);
  for (const Edge& e : edges) {
    const int64_t lo = Cell(std::min(e.ay, e.by), slab_y0_, slab_inv_h_, slabs_final);
    const int64_t hi = Cell(std::max(e.ay, e.by), slab_y0_, slab_inv_h_, slabs_final);
    for (int64_t k = lo; k <= hi; ++k) slab_edges_[fill[static_cast<size_t>(k)]++] = e;
  }
}

int Polygon::TestEdge(const Edge& e, double px, double py) {
  const bool a_above = e.ay > py, b_above = e.by > py;
  if (a_above == b_above) {
    // The half-open rule sees no crossing; p can still be on the edge if it touches y = py.
    if (a_above || (e.ay < py && e.by < py)) return 0;
    if (e.ay == py && e.by == py) {  // horizontal at p's height
      return (std::min(e.ax, e.bx) <= px && px <= std::max(e.ax, e.bx)) ? 2 : 0;
    }
    return (e.ay == py ? e.ax : e.bx) == px ? 2 : 0;  // only one end point at py
  }
  if (px > std::max(e.ax, e.bx)) return 0;  // entirely left of p
  if (px < std::min(e.ax, e.bx)) return 1;  // entirely right, spans py: crosses the ray
  const int o = Orient2D({e.ax, e.ay}, {e.bx, e.by}, {px, py});
  if (o == 0) return 2;
  // The ray crosses an upward edge when p is left of it, a downward one when p is right.
  return (b_above ? o > 0 : o < 0) ? 1 : 0;
}

bool Polygon::ContainsInBounds(double px, double py) const {
  const int64_t slabs = static_cast<int64_t>(slab_start_.size() - 1);
  const size_t k = static_cast<size_t>(Cell(py, slab_y0_, slab_inv_h_, slabs));
  int crossings = 0;
  for (uint32_t i = slab_start_[k]; i < slab_start_[k + 1]; ++i) {
    const int t = TestEdge(slab_edges_[i], px, py);
    if (t == 2) return true;
    crossings ^= t;
  }
  return crossings != 0;
}

bool Polygon::Contains(const Point2& p) const {
  return locus::Contains(bounds_, p) && ContainsInBounds(p.x, p.y);
}

void Polygon::ContainsMany(const double* x, const double* y, size_t n, uint8_t* out) const {
  const Box2 b = bounds_;
  for (size_t i = 0; i < n; ++i) {
    const double px = x[i], py = y[i];
    const bool in_box = b.min.x <= px && px <= b.max.x && b.min.y <= py && py <= b.max.y;
    out[i] = in_box && ContainsInBounds(px, py) ? 1 : 0;
  }
}

Result<std::vector<Point2>> ConvexHull(std::span<const Point2> points) {
  for (size_t i = 0; i < points.size(); ++i) {
    LOCUS_RETURN_IF_ERROR(CheckVertex(points[i], "points" + Idx(i)));
  }
  std::vector<Point2> pts(points.begin(), points.end());
  auto less = [](const Point2& a, const Point2& b) {
    return a.x < b.x || (a.x == b.x && a.y < b.y);
  };
  std::sort(pts.begin(), pts.end(), less);
  pts.erase(std::unique(pts.begin(), pts.end()), pts.end());
  if (pts.size() < 3) return pts;
  // Lower hull left to right, then upper hull right to left; a non-left turn (including
  // collinear) pops, so the hull keeps no collinear points.
  std::vector<Point2> hull(2 * pts.size());
  size_t k = 0;
  for (size_t i = 0; i < pts.size(); ++i) {
    while (k >= 2 && Orient2D(hull[k - 2], hull[k - 1], pts[i]) <= 0) --k;
    hull[k++] = pts[i];
  }
  for (size_t i = pts.size() - 1, lower = k + 1; i-- > 0;) {
    while (k >= lower && Orient2D(hull[k - 2], hull[k - 1], pts[i]) <= 0) --k;
    hull[k++] = pts[i];
  }
  hull.resize(k - 1);  // the last point is the first again
  return hull;
}

}  // namespace locus::engine
