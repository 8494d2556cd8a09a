// Queries over a namespace's current positions (db.h): Get; radius, box, kNN and polygon
// queries and their counts. Each validates its arguments, finds the namespace, takes its rw
// lock shared for the scan and builds hits under the same hold.
//
// Geography: a geographic namespace indexes unit vectors (engine/sphere.h), so a radius is a
// squared chord and kNN is a chord scan; a lon/lat box is searched as one or two boxes
// around its piece of the sphere, refined exactly on the stored lon/lat.
#include <algorithm>
#include <limits>
#include <vector>

#include "api/db/db_impl.h"
#include "engine/polygon.h"

namespace locus {

using db_internal::CheckPosition;
using db_internal::CheckQuery;
using db_internal::WindowOf;

Result<Object> Db::Get(std::string_view ns_name, std::string_view id) const {
  LOCUS_RETURN_IF_ERROR(impl_->CheckId(id));
  LOCUS_ASSIGN_OR_RETURN(auto ns, impl_->Require(ns_name));
  std::shared_lock r(ns->rw);
  const uint32_t key = ns->key_of_id.Find(id);
  if (key == engine::kNoKey || ns->TimesOf(key).expires <= impl_->Now()) {
    return NotFoundError("namespace '" + std::string(ns_name) + "': no object '" + std::string(id) +
                         "'");
  }
  const db_internal::Record& rec = ns->records[key];
  const db_internal::Times times = ns->TimesOf(key);
  return db_internal::MakeObject(rec.id.view(), rec.pos, times.t, rec.metadata.view(),
                                 times.expires);
}

// ---- radius ----

Result<Db::Impl::NsPtr> Db::Impl::RadiusTarget(std::string_view ns_name, const Position& center,
                                               double radius, const QueryOptions& options) const {
  LOCUS_RETURN_IF_ERROR(CheckQuery(options));
  LOCUS_RETURN_IF_ERROR(db_internal::CheckRadius(radius));
  LOCUS_ASSIGN_OR_RETURN(auto ns, Require(ns_name));
  LOCUS_RETURN_IF_ERROR(CheckPosition(ns->options.coordinates, center, "center"));
  return ns;
}

namespace {

// Hands index hits (key, dist_sq, t) to `visit` in order, their records prefetched first;
// `distance` converts dist_sq to the query's metric.
template <class Hits, class Distance>
VisitResult Deliver(const db_internal::Namespace& ns, const Hits& hits, bool truncated,
                    bool with_metadata, Distance&& distance, HitVisitor visit) {
  ns.PrefetchRecords(hits);
  VisitResult r;
  r.truncated = truncated;
  for (const auto& h : hits) {
    ++r.hits;
    if (!visit(ns.View(h.key, distance(h.dist_sq), with_metadata, h.t))) {
      r.stopped = true;
      break;
    }
  }
  return r;
}

// The same for keys without a distance (box and polygon hits), at most `limit` of them.
VisitResult DeliverKeys(const db_internal::Namespace& ns, const std::vector<uint32_t>& keys,
                        size_t limit, bool truncated, bool with_metadata, HitVisitor visit) {
  const size_t n = std::min(keys.size(), limit);
  for (size_t i = 0; i < n; ++i) __builtin_prefetch(&ns.records[keys[i]]);
  VisitResult r;
  r.truncated = truncated || keys.size() > limit;
  for (size_t i = 0; i < n; ++i) {
    ++r.hits;
    if (!visit(ns.View(keys[i], 0, with_metadata, ns.TimesOf(keys[i]).t))) {
      r.stopped = true;
      break;
    }
  }
  return r;
}

// A visitor form's result as its collecting form's: the hits copied into a QueryResult.
template <class Run>
Result<QueryResult> CollectResult(Run&& run) {
  QueryResult out;
  Result<VisitResult> r = run([&out](const HitView& v) {
    out.hits.push_back(db_internal::Namespace::ToHit(v));
    return true;
  });
  if (!r.ok()) return r.status();
  out.truncated = r->truncated;
  return out;
}

}  // namespace

VisitResult Db::Impl::RadiusVisit(const Namespace& ns, const Position& center, double radius,
                                  const QueryOptions& options, int64_t now,
                                  HitVisitor visit) const {
  const double radius_sq = ns.IndexRadiusSq(radius);
  auto distance = [&ns](double dist_sq) { return ns.Distance(dist_sq); };
  bool truncated = false;
  if (ns.two_d()) {
    thread_local std::vector<engine::LiveIndex<2>::Hit> hits;
    ns.live2.Radius({center.x, center.y}, radius_sq, WindowOf(options), now, options.limit, &hits,
                    &truncated);
    return Deliver(ns, hits, truncated, options.with_metadata, distance, visit);
  }
  thread_local std::vector<engine::LiveIndex<3>::Hit> hits;
  ns.live3.Radius(ns.Point3(center), radius_sq, WindowOf(options), now, options.limit, &hits,
                  &truncated);
  return Deliver(ns, hits, truncated, options.with_metadata, distance, visit);
}

QueryResult Db::Impl::RadiusLocked(const Namespace& ns, const Position& center, double radius,
                                   const QueryOptions& options, int64_t now) const {
  return Collect([&](HitVisitor visit) {
    return RadiusVisit(ns, center, radius, options, now, visit);
  });
}

Result<QueryResult> Db::WithinRadius(std::string_view ns_name, const Position& center,
                                     double radius, const QueryOptions& options) const {
  LOCUS_ASSIGN_OR_RETURN(auto ns, impl_->RadiusTarget(ns_name, center, radius, options));
  std::shared_lock r(ns->rw);
  return impl_->RadiusLocked(*ns, center, radius, options, impl_->Now());
}

Result<VisitResult> Db::WithinRadius(std::string_view ns_name, const Position& center,
                                     double radius, const QueryOptions& options,
                                     HitVisitor visit) const {
  LOCUS_ASSIGN_OR_RETURN(auto ns, impl_->RadiusTarget(ns_name, center, radius, options));
  std::shared_lock r(ns->rw);
  return impl_->RadiusVisit(*ns, center, radius, options, impl_->Now(), visit);
}

Result<size_t> Db::CountWithinRadius(std::string_view ns_name, const Position& center,
                                     double radius, const QueryOptions& options) const {
  LOCUS_ASSIGN_OR_RETURN(auto ns, impl_->RadiusTarget(ns_name, center, radius, options));
  std::shared_lock r(ns->rw);
  const int64_t now = impl_->Now();
  const double radius_sq = ns->IndexRadiusSq(radius);
  if (ns->two_d()) {
    return ns->live2.CountRadius({center.x, center.y}, radius_sq, WindowOf(options), now);
  }
  return ns->live3.CountRadius(ns->Point3(center), radius_sq, WindowOf(options), now);
}

// ---- boxes ----

std::vector<uint32_t> Db::Impl::BoxKeysLocked(const Namespace& ns, const Position& min,
                                              const Position& max, const QueryOptions& options,
                                              int64_t now, size_t limit, bool* truncated) const {
  const engine::TimeWindow w = WindowOf(options);
  std::vector<uint32_t> keys;
  if (ns.two_d()) {
    ns.live2.InBox({min.x, min.y}, {max.x, max.y}, w, now, limit, &keys, truncated);
    return keys;
  }
  if (!ns.geographic()) {
    ns.live3.InBox({min.x, min.y, min.z}, {max.x, max.y, max.z}, w, now, limit, &keys, truncated);
    return keys;
  }
  // Each piece of the lon/lat box (two across the antimeridian) as a 3D box around its piece
  // of sphere, then the exact lon/lat test on the stored positions.
  engine::SpherePiece pieces[2];
  const size_t n = engine::SphereBoxes(min.x, max.x, min.y, max.y, pieces);
  std::vector<uint32_t> candidates;
  bool unused;
  for (size_t i = 0; i < n; ++i) {
    const engine::SpherePiece& piece = pieces[i];
    ns.live3.InBox(piece.lo, piece.hi, w, now, SIZE_MAX, &candidates, &unused);
    for (uint32_t key : candidates) {
      const Position& p = ns.records[key].pos;
      if (!engine::InLonLatBox(p.x, p.y, piece.west, piece.east, min.y, max.y)) continue;
      if (keys.size() >= limit) {
        *truncated = true;
        return keys;
      }
      keys.push_back(key);
    }
  }
  return keys;
}

VisitResult Db::Impl::BoxVisit(const Namespace& ns, const Position& min, const Position& max,
                               const QueryOptions& options, int64_t now,
                               HitVisitor visit) const {
  bool truncated = false;
  const std::vector<uint32_t> keys =
      BoxKeysLocked(ns, min, max, options, now, options.limit, &truncated);
  return DeliverKeys(ns, keys, options.limit, truncated, options.with_metadata, visit);
}

Result<VisitResult> Db::InBox(std::string_view ns_name, const Position& min, const Position& max,
                              const QueryOptions& options, HitVisitor visit) const {
  LOCUS_RETURN_IF_ERROR(CheckQuery(options));
  LOCUS_ASSIGN_OR_RETURN(auto ns, impl_->Require(ns_name));
  LOCUS_RETURN_IF_ERROR(db_internal::CheckBox(ns->options.coordinates, min, max));
  std::shared_lock r(ns->rw);
  return impl_->BoxVisit(*ns, min, max, options, impl_->Now(), visit);
}

Result<QueryResult> Db::InBox(std::string_view ns_name, const Position& min, const Position& max,
                              const QueryOptions& options) const {
  return CollectResult(
      [&](HitVisitor visit) { return InBox(ns_name, min, max, options, visit); });
}

Result<size_t> Db::CountInBox(std::string_view ns_name, const Position& min, const Position& max,
                              const QueryOptions& options) const {
  LOCUS_ASSIGN_OR_RETURN(auto ns, impl_->Require(ns_name));
  LOCUS_RETURN_IF_ERROR(CheckQuery(options));
  LOCUS_RETURN_IF_ERROR(db_internal::CheckBox(ns->options.coordinates, min, max));
  std::shared_lock r(ns->rw);
  const int64_t now = impl_->Now();
  if (ns->geographic()) {  // needs the exact refinement: count the keys
    bool unused = false;
    return impl_->BoxKeysLocked(*ns, min, max, options, now, SIZE_MAX, &unused).size();
  }
  if (ns->two_d()) {
    return ns->live2.CountBox({min.x, min.y}, {max.x, max.y}, WindowOf(options), now);
  }
  return ns->live3.CountBox({min.x, min.y, min.z}, {max.x, max.y, max.z}, WindowOf(options), now);
}

// ---- kNN ----

VisitResult Db::Impl::NearestVisit(const Namespace& ns, const Position& center, size_t k,
                                   const QueryOptions& options, int64_t now,
                                   HitVisitor visit) const {
  const size_t want = std::min(k, options.limit);
  constexpr double kInf = std::numeric_limits<double>::infinity();
  VisitResult r;
  if (ns.two_d()) {
    thread_local std::vector<engine::LiveIndex<2>::Hit> hits;
    ns.live2.Nearest({center.x, center.y}, want, kInf, WindowOf(options), now, &hits);
    r = Deliver(ns, hits, false, options.with_metadata,
                [](double dist_sq) { return std::sqrt(dist_sq); }, visit);
    r.truncated = want < k && hits.size() == want;
  } else {
    thread_local std::vector<engine::LiveIndex<3>::Hit> hits;
    ns.live3.Nearest(ns.Point3(center), want, kInf, WindowOf(options), now, &hits);
    r = Deliver(ns, hits, false, options.with_metadata,
                [&ns](double dist_sq) { return ns.Distance(dist_sq); }, visit);
    r.truncated = want < k && hits.size() == want;
  }
  return r;
}

QueryResult Db::Impl::NearestLocked(const Namespace& ns, const Position& center, size_t k,
                                    const QueryOptions& options, int64_t now) const {
  return Collect(
      [&](HitVisitor visit) { return NearestVisit(ns, center, k, options, now, visit); });
}

Result<VisitResult> Db::Nearest(std::string_view ns_name, const Position& center, size_t k,
                                const QueryOptions& options, HitVisitor visit) const {
  LOCUS_RETURN_IF_ERROR(CheckQuery(options));
  LOCUS_RETURN_IF_ERROR(db_internal::CheckK(k));
  LOCUS_ASSIGN_OR_RETURN(auto ns, impl_->Require(ns_name));
  LOCUS_RETURN_IF_ERROR(CheckPosition(ns->options.coordinates, center, "center"));
  std::shared_lock r(ns->rw);
  return impl_->NearestVisit(*ns, center, k, options, impl_->Now(), visit);
}

Result<QueryResult> Db::Nearest(std::string_view ns_name, const Position& center, size_t k,
                                const QueryOptions& options) const {
  return CollectResult(
      [&](HitVisitor visit) { return Nearest(ns_name, center, k, options, visit); });
}

// ---- polygons ----

// Validates a polygon query, then, under the namespace's shared hold, finds the keys inside
// the polygon in index order (the box scan over its bounds, then the exact test,
// engine::KeepInside) and returns finish(ns, keys).
template <class R, class F>
Result<R> Db::Impl::PolygonQuery(std::string_view ns_name,
                                 const std::vector<std::vector<Position>>& rings,
                                 const QueryOptions& options, F&& finish) const {
  LOCUS_RETURN_IF_ERROR(CheckQuery(options));
  LOCUS_ASSIGN_OR_RETURN(auto ns, Require(ns_name));
  std::vector<std::vector<Point2>> r2(rings.size());
  for (size_t i = 0; i < rings.size(); ++i) {
    for (size_t j = 0; j < rings[i].size(); ++j) {
      const Position& p = rings[i][j];
      LOCUS_RETURN_IF_ERROR(
          CheckPosition(ns->options.coordinates, p,
                        "rings[" + std::to_string(i) + "][" + std::to_string(j) + "]"));
      r2[i].push_back({p.x, p.y});
    }
  }
  LOCUS_ASSIGN_OR_RETURN(engine::Polygon polygon, engine::Polygon::Make(std::move(r2)));
  const Box2& b = polygon.bounds();
  Position lo{b.min.x, b.min.y, -std::numeric_limits<double>::max()};
  Position hi{b.max.x, b.max.y, std::numeric_limits<double>::max()};
  std::shared_lock r(ns->rw);
  bool unused = false;
  std::vector<uint32_t> keys = BoxKeysLocked(*ns, lo, hi, options, Now(), SIZE_MAX, &unused);
  engine::KeepInside(polygon, &keys, [&](uint32_t key) {
    const Position& p = ns->records[key].pos;
    return Point2{p.x, p.y};
  });
  return finish(*ns, keys);
}

Result<VisitResult> Db::WithinPolygon(std::string_view ns_name,
                                      const std::vector<std::vector<Position>>& rings,
                                      const QueryOptions& options, HitVisitor visit) const {
  return impl_->PolygonQuery<VisitResult>(
      ns_name, rings, options, [&](const Impl::Namespace& ns, const std::vector<uint32_t>& keys) {
        return DeliverKeys(ns, keys, options.limit, false, options.with_metadata, visit);
      });
}

Result<QueryResult> Db::WithinPolygon(std::string_view ns_name,
                                      const std::vector<std::vector<Position>>& rings,
                                      const QueryOptions& options) const {
  return CollectResult(
      [&](HitVisitor visit) { return WithinPolygon(ns_name, rings, options, visit); });
}

Result<size_t> Db::CountWithinPolygon(std::string_view ns_name,
                                      const std::vector<std::vector<Position>>& rings,
                                      const QueryOptions& options) const {
  return impl_->PolygonQuery<size_t>(
      ns_name, rings, options,
      [](const Impl::Namespace&, const std::vector<uint32_t>& keys) { return keys.size(); });
}

}  // namespace locus
