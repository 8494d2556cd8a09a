// Measures of a namespace (db.h): distances between objects and points by method
// (engine/geodesy.h), the convex hull and bounding box of the visible objects, and
// NamespaceStats (counts, recluster times, exact memory).
#include <algorithm>
#include <limits>
#include <vector>

#include "api/db/db_impl.h"
#include "engine/geodesy.h"
#include "engine/polygon.h"

namespace locus {

using db_internal::WindowOf;

namespace {

engine::DistanceMethod EngineMethod(DistanceMethod m) {
  switch (m) {
    case DistanceMethod::kHaversine:
      return engine::DistanceMethod::kHaversine;
    case DistanceMethod::kVincenty:
      return engine::DistanceMethod::kVincenty;
    case DistanceMethod::kGeodesic:
      return engine::DistanceMethod::kGeodesic;
    case DistanceMethod::kRhumb:
      return engine::DistanceMethod::kRhumb;
    case DistanceMethod::kPlanar:
      break;
  }
  return engine::DistanceMethod::kPlanar;
}

// Calls f(position) for each visible object passing the time filter, under ns's shared lock.
template <class F>
void ForEachVisible(const db_internal::Namespace& ns, const QueryOptions& options, int64_t now,
                    F&& f) {
  std::shared_lock r(ns.rw);
  ns.WithIndex([&](const auto& live) {
    live.ForEachAlive(WindowOf(options), now,
                      [&](uint32_t key, const auto&) { f(ns.records[key].pos); });
  });
}

}  // namespace

Result<double> Db::DistanceTo(std::string_view ns_name, std::string_view id, const Position& point,
                              DistanceMethod method) const {
  LOCUS_ASSIGN_OR_RETURN(auto ns, impl_->Require(ns_name));
  LOCUS_RETURN_IF_ERROR(db_internal::CheckPosition(ns->options.coordinates, point, "point"));
  if (!ns->geographic() && method != DistanceMethod::kPlanar) {
    return InvalidArgumentError(
        std::string("method ") + std::string(engine::DistanceMethodName(EngineMethod(method))) +
        ": namespace '" + std::string(ns_name) + "' is " +
        CoordinateSystemName(ns->options.coordinates) + "; planar namespaces measure with kPlanar");
  }
  LOCUS_ASSIGN_OR_RETURN(Object o, Get(ns_name, id));
  if (!ns->two_d()) {
    return engine::Distance(EngineMethod(method), Point3{o.pos.x, o.pos.y, o.pos.z},
                            Point3{point.x, point.y, point.z});
  }
  return engine::Distance(EngineMethod(method), Point2{o.pos.x, o.pos.y}, Point2{point.x, point.y});
}

Result<double> Db::Distance(std::string_view ns_name, std::string_view id_a, std::string_view id_b,
                            DistanceMethod method) const {
  LOCUS_ASSIGN_OR_RETURN(Object b, Get(ns_name, id_b));
  return DistanceTo(ns_name, id_a, b.pos, method);
}

Result<std::vector<Position>> Db::ConvexHull(std::string_view ns_name,
                                             const QueryOptions& options) const {
  LOCUS_RETURN_IF_ERROR(db_internal::CheckQuery(options));
  LOCUS_ASSIGN_OR_RETURN(auto ns, impl_->Require(ns_name));
  std::vector<Point2> pts;
  ForEachVisible(*ns, options, impl_->Now(), [&](const Position& p) { pts.push_back({p.x, p.y}); });
  LOCUS_ASSIGN_OR_RETURN(std::vector<Point2> hull, engine::ConvexHull(pts));
  std::vector<Position> out;
  for (const Point2& p : hull) out.push_back({p.x, p.y, 0});
  return out;
}

Result<std::pair<Position, Position>> Db::Bounds(std::string_view ns_name,
                                                 const QueryOptions& options) const {
  LOCUS_RETURN_IF_ERROR(db_internal::CheckQuery(options));
  LOCUS_ASSIGN_OR_RETURN(auto ns, impl_->Require(ns_name));
  constexpr double kInf = std::numeric_limits<double>::infinity();
  Position lo{kInf, kInf, kInf}, hi{-kInf, -kInf, -kInf};
  size_t n = 0;
  ForEachVisible(*ns, options, impl_->Now(), [&](const Position& p) {
    lo = {std::min(lo.x, p.x), std::min(lo.y, p.y), std::min(lo.z, p.z)};
    hi = {std::max(hi.x, p.x), std::max(hi.y, p.y), std::max(hi.z, p.z)};
    ++n;
  });
  if (n == 0) {
    return NotFoundError("namespace '" + std::string(ns_name) + "' has no visible object");
  }
  return std::make_pair(lo, hi);
}

Result<NamespaceStats> Db::Stats(std::string_view ns_name) const {
  LOCUS_ASSIGN_OR_RETURN(auto ns, impl_->Require(ns_name));
  std::shared_lock r(ns->rw);
  const int64_t now = impl_->Now();
  NamespaceStats s;
  s.coordinates = ns->options.coordinates;
  const size_t present = ns->WithIndex([](const auto& live) { return live.size(); });
  s.expired = ns->WithIndex([now](const auto& live) { return live.CountExpired(now); });
  s.objects = present - s.expired;
  s.swept = ns->swept;
  s.reclusters = ns->reclusters.load();
  s.last_recluster = ns->last_recluster;
  s.memory_bytes = ns->MemoryBytes();
  if (ns->history) {
    const engine::HistoryCounts c = ns->history->store.Counts();
    s.history_samples = c.samples;
    s.history_chunks = c.chunks;
    s.history_bytes = ns->history->MemoryBytes();
  }
  return s;
}

}  // namespace locus
