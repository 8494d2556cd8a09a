// RTreeView's kNN and radius methods (Nearest, NearestExact, SearchRadius, VisitRadius,
// CountRadius): validation, the squared max-distance bound, the TopK set-up and the result
// conversion around the per-target walks (rtree_knn_walk.h); the scalar best-first walk over
// a caller-defined metric (NearestBy), the great-circle metric built on it (NearestHaversine)
// and its scalar lon/lat helpers (declared in rtree_knn_walk.h).
//
// Thread safety: every method is const and safe to call from many threads at once; the
// Euclidean path keeps per-thread scratch (a TopK and the node heap), NearestBy keeps its
// state on the stack (its callbacks may themselves query trees).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numbers>
#include <string>
#include <vector>

#include "engine/rtree_knn_walk.h"
#include "engine/rtree_view.h"
#include "kernels/geo.h"
#include "kernels/knn.h"

namespace locus::engine {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kDeg = std::numbers::pi / 180.0;

Status ValidateMaxDistance(double m, const char* field) {
  if (m >= 0) return Status();  // +inf allowed: no limit
  char value[64];
  std::snprintf(value, sizeof(value), "%g", m);
  return InvalidArgumentError(std::string(field) + " = " + value +
                              ": must be >= 0 (+inf for no limit)");
}

// The largest squared distance s with sqrt(s) <= m (sqrt is correctly rounded and monotone),
// so that a TopK bound on d^2 keeps exactly the items whose reported distance is <= m.
double MaxDistSq(double m) {
  if (m == kInf) return kInf;
  double s = m * m;
  while (s > 0 && std::sqrt(s) > m) s = std::nextafter(s, 0.0);
  while (s < kInf && std::sqrt(std::nextafter(s, kInf)) <= m) s = std::nextafter(s, kInf);
  return s;
}

internal::KnnQuery ToKnnQuery(const Box2& b) {
  internal::KnnQuery q;
  q.lo[0] = b.min.x, q.lo[1] = b.min.y, q.hi[0] = b.max.x, q.hi[1] = b.max.y;
  return q;
}
internal::KnnQuery ToKnnQuery(const Box3& b) {
  internal::KnnQuery q;
  q.lo[0] = b.min.x, q.lo[1] = b.min.y, q.lo[2] = b.min.z;
  q.hi[0] = b.max.x, q.hi[1] = b.max.y, q.hi[2] = b.max.z;
  return q;
}

template <int kDims, typename T, class Box, class Neighbor>
Status RunEuclidean(const RTreeLayout<kDims, T>& layout, const Box& query, size_t k,
                    const Box* exact, std::vector<Neighbor>* out, double max_distance) {
  LOCUS_RETURN_IF_ERROR(ValidateMaxDistance(max_distance, "max_distance"));
  out->clear();
  if (k == 0 || layout.num_items == 0) return Status();
  thread_local std::vector<kernels::Neighbor<double>> nearest;  // no allocation per query
  internal::NearestWalk(layout, ToKnnQuery(query), exact, k, MaxDistSq(max_distance), &nearest);
  out->resize(nearest.size());
  for (size_t i = 0; i < nearest.size(); ++i) {
    (*out)[i] = {nearest[i].id, std::sqrt(nearest[i].dist_sq)};
  }
  return Status();
}

template <int kDims, typename T>
typename RTreeView<kDims, T>::Box StoredBox(const RTreeLayout<kDims, T>& l, uint64_t slot) {
  typename RTreeView<kDims, T>::Box b;
  if constexpr (kDims == 2) {
    b.min = {static_cast<double>(l.min[0][slot]), static_cast<double>(l.min[1][slot])};
    b.max = {static_cast<double>(l.max[0][slot]), static_cast<double>(l.max[1][slot])};
  } else {
    b.min = {static_cast<double>(l.min[0][slot]), static_cast<double>(l.min[1][slot]),
             static_cast<double>(l.min[2][slot])};
    b.max = {static_cast<double>(l.max[0][slot]), static_cast<double>(l.max[1][slot]),
             static_cast<double>(l.max[2][slot])};
  }
  return b;
}

}  // namespace

namespace internal {

double HaversineMetres(double lon0, double lat0, double lon1, double lat1) {
  const double dlon = std::remainder(lon1 - lon0, 360.0) * kDeg;
  const double p0 = lat0 * kDeg, p1 = lat1 * kDeg;
  const double s_lat = std::sin((p1 - p0) / 2), s_lon = std::sin(dlon / 2);
  double a = s_lat * s_lat + std::cos(p0) * std::cos(p1) * s_lon * s_lon;
  a = std::clamp(a, 0.0, 1.0);
  return 2 * kernels::kEarthRadiusMetres * std::asin(std::sqrt(a));
}

double LonLatBoxMetres(double lon0, double lat0, const Box2& b) {
  const double lat1 = std::clamp(b.min.y, -90.0, 90.0);
  const double lat2 = std::clamp(b.max.y, -90.0, 90.0);
  const double width = b.max.x - b.min.x;
  bool inside = width >= 360;
  if (!inside) {
    double t = std::fmod(lon0 - b.min.x, 360.0);
    if (t < 0) t += 360;
    inside = t <= width;
  }
  if (inside) {  // nearest point on the query's own meridian
    if (lat0 < lat1) return (lat1 - lat0) * kDeg * kernels::kEarthRadiusMetres;
    if (lat0 > lat2) return (lat0 - lat2) * kDeg * kernels::kEarthRadiusMetres;
    return 0;
  }
  // Along any parallel, the distance grows with |dlon| (in [0, 180]), so the nearest point is
  // on the meridian edge with the smaller wrapped |dlon|: at one of its ends or at the foot
  // of the perpendicular from the query (which lies on this half-meridian iff cos(dlon) > 0).
  const double dl1 = std::fabs(std::remainder(b.min.x - lon0, 360.0));
  const double dl2 = std::fabs(std::remainder(b.max.x - lon0, 360.0));
  const double dlon = std::min(dl1, dl2);
  double best =
      std::min(HaversineMetres(0, lat0, dlon, lat1), HaversineMetres(0, lat0, dlon, lat2));
  const double c = std::cos(dlon * kDeg);
  if (c > 0) {
    const double foot = std::atan(std::tan(lat0 * kDeg) / c) / kDeg;
    best = std::min(best, HaversineMetres(0, lat0, dlon, std::clamp(foot, lat1, lat2)));
  }
  return best;
}

}  // namespace internal

template <int kDims, typename T>
Result<bool> RTreeView<kDims, T>::VisitRadius(const Point& center, double radius,
                                              IdBatchSink sink) const {
  LOCUS_RETURN_IF_ERROR(ValidatePoint(center, "center"));
  LOCUS_RETURN_IF_ERROR(ValidateMaxDistance(radius, "radius"));
  return internal::WithinQuery(layout(), ToKnnQuery(BoxAround(center)), MaxDistSq(radius),
                               internal::RangeMode::kVisit, &sink)
      .completed;
}

template <int kDims, typename T>
Status RTreeView<kDims, T>::SearchRadius(const Point& center, double radius,
                                         std::vector<uint32_t>* out) const {
  out->clear();
  auto append = [out](std::span<const uint32_t> ids) {
    out->insert(out->end(), ids.begin(), ids.end());
    return true;
  };
  return VisitRadius(center, radius, append).status();
}

template <int kDims, typename T>
Result<size_t> RTreeView<kDims, T>::CountRadius(const Point& center, double radius) const {
  LOCUS_RETURN_IF_ERROR(ValidatePoint(center, "center"));
  LOCUS_RETURN_IF_ERROR(ValidateMaxDistance(radius, "radius"));
  return static_cast<size_t>(internal::WithinQuery(layout(), ToKnnQuery(BoxAround(center)),
                                                   MaxDistSq(radius), internal::RangeMode::kCount,
                                                   nullptr)
                                 .count);
}

template <int kDims, typename T>
Status RTreeView<kDims, T>::Nearest(const Point& p, size_t k, std::vector<Neighbor>* out,
                                    double max_distance) const {
  LOCUS_RETURN_IF_ERROR(ValidatePoint(p, "point"));
  const Box query = BoxAround(p);
  return RunEuclidean(layout(), query, k, static_cast<const Box*>(nullptr), out, max_distance);
}

template <int kDims, typename T>
Status RTreeView<kDims, T>::Nearest(const Box& query, size_t k, std::vector<Neighbor>* out,
                                    double max_distance) const {
  LOCUS_RETURN_IF_ERROR(ValidateBox(query, "query"));
  return RunEuclidean(layout(), query, k, static_cast<const Box*>(nullptr), out, max_distance);
}

template <int kDims, typename T>
Status RTreeView<kDims, T>::NearestExact(const Point& p, size_t k, std::span<const Box> items,
                                         std::vector<Neighbor>* out, double max_distance) const {
  LOCUS_RETURN_IF_ERROR(ValidatePoint(p, "point"));
  return NearestExact(BoxAround(p), k, items, out, max_distance);
}

template <int kDims, typename T>
Status RTreeView<kDims, T>::NearestExact(const Box& query, size_t k, std::span<const Box> items,
                                         std::vector<Neighbor>* out, double max_distance) const {
  if (items.size() != size()) {
    return InvalidArgumentError("items.size() = " + std::to_string(items.size()) +
                                ": must equal the tree's size " + std::to_string(size()));
  }
  LOCUS_RETURN_IF_ERROR(ValidateBox(query, "query"));
  // f64 trees store the exact boxes: the plain walk is already exact.
  const Box* exact = std::is_same_v<T, float> ? items.data() : nullptr;
  return RunEuclidean(layout(), query, k, exact, out, max_distance);
}

template <int kDims, typename T>
Status RTreeView<kDims, T>::NearestBy(const KnnMetric& metric, size_t k, std::vector<Neighbor>* out,
                                      double max_distance) const {
  LOCUS_RETURN_IF_ERROR(ValidateMaxDistance(max_distance, "max_distance"));
  out->clear();
  if (k == 0 || size() == 0) return Status();
  const RTreeLayout<kDims, T> l = layout();
  kernels::TopK<double> top(k, max_distance);  // keyed by the metric's distance
  struct Entry {
    double bound;
    uint32_t level, pos;
    bool operator<(const Entry& o) const { return bound > o.bound; }  // min-heap
  };
  std::vector<Entry> heap = {{0.0, l.num_levels, 0}};
  const uint64_t ns = l.node_size;
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end());
    const Entry e = heap.back();
    heap.pop_back();
    if (e.bound > top.threshold()) break;
    const uint32_t child_level = e.level - 1;
    const uint64_t first = uint64_t{e.pos} * ns;
    const uint64_t slot = l.level_begin[child_level] + first;
    for (uint64_t j = 0; j < ns; ++j) {
      if (!(l.min[0][slot + j] <= l.max[0][slot + j])) continue;  // padding
      const Box b = StoredBox(l, slot + j);
      if (child_level == 0) {
        const uint32_t id = l.ids[first + j];
        top.Push(metric.item_distance(id, b), id);
      } else {
        const double lb = metric.lower_bound(b);
        if (lb <= top.threshold()) {
          heap.push_back({lb, child_level, static_cast<uint32_t>(first + j)});
          std::push_heap(heap.begin(), heap.end());
        }
      }
    }
  }
  for (const auto& n : top.Sorted()) out->push_back({n.id, n.dist_sq});
  return Status();
}

template <int kDims, typename T>
Status RTreeView<kDims, T>::NearestHaversine(const Point& lon_lat, size_t k,
                                             std::vector<Neighbor>* out, double max_metres) const
    requires(kDims == 2) {
  LOCUS_RETURN_IF_ERROR(ValidatePoint(lon_lat, "lon_lat"));
  LOCUS_RETURN_IF_ERROR(ValidateLatitude(lon_lat.y, "lon_lat.y"));  // any longitude
  LOCUS_RETURN_IF_ERROR(ValidateMaxDistance(max_metres, "max_metres"));
  const double lon = lon_lat.x, lat = lon_lat.y;
  auto lower_bound = [lon, lat](const Box& b) {
    const double d = internal::LonLatBoxMetres(lon, lat, b);
    return std::max(0.0, d - (1e-3 + 1e-9 * d));  // absorbs rounding: stays admissible
  };
  auto item_distance = [lon, lat](uint32_t, const Box& b) {
    return internal::LonLatBoxMetres(lon, lat, b);
  };
  return NearestBy(KnnMetric{lower_bound, item_distance}, k, out, max_metres);
}

// Member-wise explicit instantiation: rtree_view.cc holds the class's one explicit
// instantiation definition (the header's extern template declarations point there).
#define LOCUS_INSTANTIATE_KNN(D, T)                                                              \
  template Status RTreeView<D, T>::Nearest(const Point&, size_t, std::vector<Neighbor>*, double) \
      const;                                                                                     \
  template Status RTreeView<D, T>::Nearest(const Box&, size_t, std::vector<Neighbor>*, double)   \
      const;                                                                                     \
  template Status RTreeView<D, T>::NearestExact(const Point&, size_t, std::span<const Box>,      \
                                                std::vector<Neighbor>*, double) const;           \
  template Status RTreeView<D, T>::NearestExact(const Box&, size_t, std::span<const Box>,        \
                                                std::vector<Neighbor>*, double) const;           \
  template Status RTreeView<D, T>::NearestBy(const KnnMetric&, size_t, std::vector<Neighbor>*,   \
                                             double) const;                                      \
  template Status RTreeView<D, T>::SearchRadius(const Point&, double, std::vector<uint32_t>*)    \
      const;                                                                                     \
  template Result<bool> RTreeView<D, T>::VisitRadius(const Point&, double, IdBatchSink) const;   \
  template Result<size_t> RTreeView<D, T>::CountRadius(const Point&, double) const;
LOCUS_INSTANTIATE_KNN(2, double)
LOCUS_INSTANTIATE_KNN(3, double)
LOCUS_INSTANTIATE_KNN(2, float)
LOCUS_INSTANTIATE_KNN(3, float)
#undef LOCUS_INSTANTIATE_KNN
template Status RTreeView<2, double>::NearestHaversine(const Point&, size_t, std::vector<Neighbor>*,
                                                       double) const;
template Status RTreeView<2, float>::NearestHaversine(const Point&, size_t, std::vector<Neighbor>*,
                                                      double) const;

}  // namespace locus::engine
