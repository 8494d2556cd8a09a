// RTreeView: the queries of a packed Hilbert R-tree over arrays it does not own. Every query
// of the index lives here; PackedRTree (packed_rtree.h) owns its arrays and is an RTreeView of
// them, and storage's index files (owned copies, zero-copy views over caller bytes, memory
// maps) construct views over validated bytes, so one implementation serves them all. Each
// query family's methods are defined beside its walk, in engine/rtree_<query>.cc (range, knn,
// ray, region); rtree_view.cc holds bounds() and the explicit instantiation.
//
// The arrays must satisfy the layout contract of rtree_layout.h. FromValidatedLayout does not
// check it: a PackedRTree's own arrays satisfy it by construction, and storage/ validates
// loaded bytes against it before making a view. A view is valid while its arrays are.
//
// Results are item indices into the span the tree was built from. f32 storage holds every
// box rounded outward (min down, max up), so its queries answer for the stored boxes: a
// superset of the exact answer, refined by the *Exact variants; f64 storage is exact.
//
// Thread safety: a view is immutable; every method is const and safe to call from many
// threads at once.
#ifndef LOCUS_ENGINE_RTREE_VIEW_H_
#define LOCUS_ENGINE_RTREE_VIEW_H_

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <type_traits>
#include <vector>

#include "engine/convex_region.h"  // region query types
#include "locus/function_ref.h"
#include "engine/rtree_layout.h"
#include "locus/geometry.h"
#include "locus/status.h"

namespace locus::engine {

template <int kDims>
struct Geometry;
template <>
struct Geometry<2> {
  using Box = Box2;
  using Point = Point2;
};
template <>
struct Geometry<3> {
  using Box = Box3;
  using Point = Point3;
};

// One ray hit: the item and its entry parameter t (origin + t * direction is where the ray
// enters the item's box; 0 when the origin is inside it).
struct RayHit {
  uint32_t id = 0;
  double t = 0;
  friend bool operator==(const RayHit&, const RayHit&) = default;
};

// The ray type of a dimension (RTreeView::Ray).
template <int kDims>
struct RayOf;
template <>
struct RayOf<2> {
  using type = Ray2;
};
template <>
struct RayOf<3> {
  using type = Ray3;
};

// Receives query results in batches; returns false to stop the query early. A batch may
// point into the tree's own arrays and is valid only during the call.
using IdBatchSink = FunctionRef<bool(std::span<const uint32_t>)>;

template <int kDims, typename T>
class RTreeView {
  static_assert(kDims == 2 || kDims == 3, "2D or 3D");
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, "f32 or f64 storage");

 public:
  using Box = typename Geometry<kDims>::Box;
  using Point = typename Geometry<kDims>::Point;

  RTreeView() = default;  // the empty tree
  // Wraps arrays that satisfy rtree_layout.h's contract. UNCHECKED (see above).
  static RTreeView FromValidatedLayout(const RTreeLayout<kDims, T>& layout) {
    RTreeView v;
    v.layout_ = layout;
    return v;
  }

  size_t size() const { return static_cast<size_t>(layout_.num_items); }
  bool empty() const { return layout_.num_items == 0; }
  uint32_t node_size() const { return layout_.node_size; }
  uint32_t num_levels() const { return layout_.num_levels; }
  // Returns the union of all item boxes (as stored: rounded outward for f32). REQUIRES: !empty().
  Box bounds() const;
  // Returns the flat arrays for per-target query loops, tests and serialisation.
  const RTreeLayout<kDims, T>& layout() const { return layout_; }

  // ---- range queries (engine/rtree_range.cc; closed boxes: touching counts) ----

  // Replaces *out with the items whose box intersects `query`, in tree (Hilbert) order.
  Status Search(const Box& query, std::vector<uint32_t>* out) const;
  // Calls sink with batches of matching items until it returns false. Returns whether the
  // query ran to the end (false when the sink stopped it).
  Result<bool> Visit(const Box& query, IdBatchSink sink) const;
  // Returns whether any item intersects `query` (stops at the first).
  Result<bool> Any(const Box& query) const;
  // Returns how many items intersect `query` (fully covered subtrees are counted, not visited).
  Result<size_t> Count(const Box& query) const;
  // For f32 trees: Search, then keeps only items whose exact box in `items` (the span given
  // to Build) intersects `query`. For f64 trees it equals Search. REQUIRES: items.size() == size().
  Status SearchExact(const Box& query, std::span<const Box> items,
                     std::vector<uint32_t>* out) const;

  // ---- kNN (engine/rtree_knn.cc) ----
  // Nearest-neighbour queries, best-first over the tree (a min-heap of nodes keyed by their
  // lower-bound distance; children's distances in one SIMD pass per node).
  //
  // Distance: the Euclidean gap between the query and an item's box, 0 when they touch or
  // overlap: per axis g = max(lo - q.max, q.min - hi, 0), d^2 = (gx*gx + gy*gy) [+ gz*gz],
  // distance = sqrt(d^2), all in f64 (a point query is the zero-size box). For f32 trees the
  // item box is the STORED one (rounded outward), so distances are lower bounds of the exact
  // ones (use NearestExact); for f64 trees they are exact.
  // Result: *out is replaced by the min(k, matches) nearest items, ascending by distance, ties
  // (equal d^2) broken by the smaller id: one deterministic answer, equal to sorting every item
  // by (d^2, id). Items with distance > max_distance are excluded (inclusive: distance ==
  // max_distance is kept). k == 0 or an empty tree gives an empty result (not an error).
  // Errors: InvalidArgument for a NaN/infinite query ("point.x = nan: ..."), a crossed query
  // box, or max_distance NaN or < 0 (+inf, the default, means no limit).
  // Cost: ties at the k-th distance (duplicate-heavy data) make every tied subtree a candidate.
  struct Neighbor {
    uint32_t id;      // index into the span given to Build
    double distance;  // Euclidean (not squared); metres for NearestHaversine
    friend bool operator==(const Neighbor&, const Neighbor&) = default;
  };
  static constexpr double kNoMaxDistance = std::numeric_limits<double>::infinity();

  Status Nearest(const Point& p, size_t k, std::vector<Neighbor>* out,
                 double max_distance = kNoMaxDistance) const;
  Status Nearest(const Box& query, size_t k, std::vector<Neighbor>* out,
                 double max_distance = kNoMaxDistance) const;
  // Like Nearest, but distances are computed from the caller's exact f64 boxes `items` (the
  // span given to Build); stored boxes are used only to prune, which is sound because they
  // contain the exact ones. For f64 trees it equals Nearest. REQUIRES: items.size() == size()
  // (else InvalidArgument).
  Status NearestExact(const Point& p, size_t k, std::span<const Box> items,
                      std::vector<Neighbor>* out, double max_distance = kNoMaxDistance) const;
  Status NearestExact(const Box& query, size_t k, std::span<const Box> items,
                      std::vector<Neighbor>* out, double max_distance = kNoMaxDistance) const;

  // ---- radius queries (engine/rtree_knn.cc) ----
  // The items within distance `radius` of `center`, by the distance of Nearest (the gap
  // between the point and the item's box, 0 inside it; between points, their Euclidean
  // distance), inclusive: exactly the items Nearest would report with distance <= radius.
  // In tree order. Subtrees entirely within the radius are swept, not tested. f32 trees test
  // their stored (outward-rounded) boxes: a superset of the exact answer. radius = +inf
  // matches everything. Errors: InvalidArgument for a NaN/infinite center ("center.x = nan:
  // ...") or a NaN or negative radius.
  Status SearchRadius(const Point& center, double radius, std::vector<uint32_t>* out) const;
  // Calls sink with batches of the items until it returns false; returns whether the query
  // ran to the end.
  Result<bool> VisitRadius(const Point& center, double radius, IdBatchSink sink) const;
  Result<size_t> CountRadius(const Point& center, double radius) const;

  // A caller-defined metric for NearestBy. Contract (admissibility): for every node box B the
  // tree holds (as stored) and every item i whose stored box lies inside B,
  //   lower_bound(B) <= item_distance(i, stored box of i).
  // Results are ascending by (item_distance, id); items with item_distance > max_distance or
  // NaN are excluded. A NaN lower bound prunes its subtree. Called on the querying thread only.
  struct KnnMetric {
    FunctionRef<double(const Box& node_box)> lower_bound;
    FunctionRef<double(uint32_t id, const Box& item_box)> item_distance;
  };
  Status NearestBy(const KnnMetric& metric, size_t k, std::vector<Neighbor>* out,
                   double max_distance = kNoMaxDistance) const;

  // For trees over lon/lat data (x = longitude, y = latitude, degrees; items with latitudes
  // in [-90, 90], longitudes of any finite value, boxes not crossing the antimeridian): the k
  // items nearest to `lon_lat` by great-circle distance on the sphere of radius
  // kernels::kEarthRadiusMetres, in metres (for a box item, the distance to its nearest
  // point). The query may lie anywhere, including near +-180 and the poles. Distances are
  // scalar <cmath> haversine (f64); the node bound is the exact point-to-box distance less a
  // 1 mm + 1e-9 relative margin. Errors: non-finite longitude, latitude outside [-90, 90],
  // bad max_metres.
  Status NearestHaversine(const Point& lon_lat, size_t k, std::vector<Neighbor>* out,
                          double max_metres = kNoMaxDistance) const requires(kDims == 2);

  // ---- raycast queries (engine/rtree_ray.cc) ----
  // Rays are f64 segments origin + t * direction, t in [0, ray.t_max] (locus/geometry.h;
  // ValidateRay: finite, direction not all zero; components may be zero). A box is hit by
  // the kernels' slab test (kernels/ray.h, evaluated in f64): closed, so grazing a face,
  // edge or corner counts, and so does a hit exactly at t_max; entry t is 0 when the
  // origin is inside the box. f64 trees are exact. f32 trees test their stored,
  // outward-rounded boxes: hits are a superset and t values lower bounds of the exact ones;
  // the *Exact variants re-test candidates against the caller's f64 boxes.
  using Ray = typename RayOf<kDims>::type;
  // Replaces *out with every hit, sorted by (t, id).
  Status Raycast(const Ray& ray, std::vector<RayHit>* out) const;
  // Returns the hit with the smallest entry t, ties to the smaller id; nullopt if none.
  // Best-first walk with the running best as a shrinking t_max.
  Result<std::optional<RayHit>> RaycastClosest(const Ray& ray) const;
  // As above, exact for f32 trees (equal to the plain ones for f64 trees).
  // REQUIRES: items is the span given to Build (items.size() == size() is checked).
  Status RaycastExact(const Ray& ray, std::span<const Box> items, std::vector<RayHit>* out) const;
  Result<std::optional<RayHit>> RaycastClosestExact(const Ray& ray,
                                                    std::span<const Box> items) const;

  // ---- region queries (engine/rtree_region.cc; the regions: engine/convex_region.h) ----
  // 2D: replaces *out with the items whose box meets the closed convex polygon (either
  // orientation), by ConvexPolygon::Intersects (an exact separating-axis test), in tree
  // order. Fails on an invalid polygon (see ConvexPolygon::Make). f32: a superset (refine
  // with ConvexPolygon::Intersects on the f64 boxes).
  Status SearchPolygon(std::span<const Point2> convex_polygon, std::vector<uint32_t>* out) const
      requires(kDims == 2);
  Status SearchPolygon(const ConvexPolygon& polygon, std::vector<uint32_t>* out) const
      requires(kDims == 2);
  // 3D: replaces *out with the items whose box passes Frustum::Intersects (the standard
  // conservative p-vertex test: may include boxes near frustum edges that miss it), in tree
  // order. Build frusta with engine/frustum.h (Eigen) or Frustum::FromColumnMajor.
  Status SearchFrustum(const Frustum& frustum, std::vector<uint32_t>* out) const
      requires(kDims == 3);

 protected:
  RTreeLayout<kDims, T> layout_;
};

using RTreeView2D = RTreeView<2, double>;
using RTreeView3D = RTreeView<3, double>;
using RTreeView2F = RTreeView<2, float>;
using RTreeView3F = RTreeView<3, float>;

extern template class RTreeView<2, double>;
extern template class RTreeView<3, double>;
extern template class RTreeView<2, float>;
extern template class RTreeView<3, float>;

}  // namespace locus::engine

#endif  // LOCUS_ENGINE_RTREE_VIEW_H_
