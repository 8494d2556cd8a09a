// Cylinders, and queries around an existing object (db.h): WithinRadiusOf, NearestTo and
// WithinCylinderOf read the object's position and query from it under one hold of the
// namespace's shared lock, so a concurrent write is seen wholly before or after.
#include <algorithm>
#include <limits>
#include <vector>

#include "api/db/db_impl.h"

namespace locus {

using db_internal::CheckQuery;
using db_internal::WindowOf;

namespace {

size_t PlusOne(size_t n) { return n == SIZE_MAX ? n : n + 1; }

// A query around object `id` that excluded nothing and asked for limit + 1 hits (so that the
// object itself, which it may have found, takes no place): drops the object, then applies
// `limit`. `truncated` stays right: more than limit + 1 matches leave more than `limit` others.
void DropSelf(QueryResult* r, std::string_view id, size_t limit) {
  auto self =
      std::find_if(r->hits.begin(), r->hits.end(), [&](const Hit& h) { return h.id == id; });
  if (self != r->hits.end()) r->hits.erase(self);
  if (r->hits.size() > limit) {
    r->hits.resize(limit);
    r->truncated = true;
  }
}

// The hits of a cylinder scan (index order) as a query result: the first `limit`.
QueryResult CylinderResult(const db_internal::Namespace& ns,
                           const std::vector<engine::LiveIndex<3>::Hit>& hits,
                           const QueryOptions& options) {
  QueryResult out;
  for (const auto& h : hits) {
    if (out.hits.size() >= options.limit) {
      out.truncated = true;
      break;
    }
    out.hits.push_back(ns.MakeHit(h.key, ns.Distance(h.dist_sq), options.with_metadata, h.t));
  }
  return out;
}

}  // namespace

std::vector<engine::LiveIndex<3>::Hit> Db::Impl::CylinderLocked(
    const Namespace& ns, const Position& center, double radius, double z_min, double z_max,
    const QueryOptions& options, int64_t now, uint32_t skip) const {
  std::vector<engine::LiveIndex<3>::Hit> hits;
  bool unused;
  if (ns.geographic()) {
    // The index holds unit vectors, not altitudes: the great-circle radius scan, then the
    // band on the stored altitudes.
    ns.live3.Radius(ns.Point3(center), ns.IndexRadiusSq(radius), WindowOf(options), now, SIZE_MAX,
                    &hits, &unused);
    std::erase_if(hits, [&](const engine::LiveIndex<3>::Hit& h) {
      const double z = ns.records[h.key].pos.z;
      return h.key == skip || !(z >= z_min && z <= z_max);
    });
    return hits;
  }
  // Planar 3D: the index's box around the cylinder (the band exact on z), then the exact x/y
  // distance. The box is padded past center +- radius by more than the rounding of those
  // sums and of the distance test (a few ulps, and sqrt(DBL_MIN) for squares that underflow),
  // so that it never drops a point the test would accept.
  constexpr double kEps = std::numeric_limits<double>::epsilon();
  const double reach = radius +
                       8 * kEps * (std::max(std::abs(center.x), std::abs(center.y)) + radius) +
                       2 * std::sqrt(std::numeric_limits<double>::min());
  std::vector<uint32_t> keys;
  ns.live3.InBox({center.x - reach, center.y - reach, z_min},
                 {center.x + reach, center.y + reach, z_max}, WindowOf(options), now, SIZE_MAX,
                 &keys, &unused);
  const double radius_sq = radius * radius;
  for (uint32_t key : keys) {
    if (key == skip) continue;
    const Position& p = ns.records[key].pos;
    const double dx = p.x - center.x, dy = p.y - center.y;
    const double dist_sq = dx * dx + dy * dy;
    if (dist_sq <= radius_sq) hits.push_back({key, dist_sq, ns.live3.TimeOf(key)});
  }
  return hits;
}

Result<uint32_t> Db::Impl::AnchorLocked(const Namespace& ns, std::string_view ns_name,
                                        std::string_view id, int64_t now) const {
  const uint32_t key = ns.key_of_id.Find(id);
  if (key == engine::kNoKey || ns.TimesOf(key).expires <= now) {
    return NotFoundError("namespace '" + std::string(ns_name) + "': no object '" + std::string(id) +
                         "'");
  }
  return key;
}

// Validates a cylinder query, then runs it under the shared hold: around `center` with the
// band [lo, hi], or, when center is null, around object `id`'s position with the band
// relative to its z (the object left out unless include_self); returns finish(ns, hits).
template <class R, class F>
Result<R> Db::Impl::CylinderQuery(std::string_view ns_name, const Position* center,
                                  std::string_view id, double radius, double lo, double hi,
                                  const QueryOptions& options, F&& finish) const {
  LOCUS_RETURN_IF_ERROR(CheckQuery(options));
  LOCUS_RETURN_IF_ERROR(db_internal::CheckRadius(radius));
  LOCUS_RETURN_IF_ERROR(center ? db_internal::CheckBand(lo, hi, "z_min", "z_max")
                               : db_internal::CheckBand(lo, hi, "dz_min", "dz_max"));
  if (!center) LOCUS_RETURN_IF_ERROR(CheckId(id));
  LOCUS_ASSIGN_OR_RETURN(auto ns, Require(ns_name));
  LOCUS_RETURN_IF_ERROR(db_internal::CheckHasZ(ns_name, ns->options.coordinates));
  if (center) {
    LOCUS_RETURN_IF_ERROR(db_internal::CheckPosition(ns->options.coordinates, *center, "center"));
  }
  std::shared_lock r(ns->rw);
  const int64_t now = Now();
  if (center) {
    return finish(*ns, CylinderLocked(*ns, *center, radius, lo, hi, options, now, engine::kNoKey));
  }
  LOCUS_ASSIGN_OR_RETURN(const uint32_t key, AnchorLocked(*ns, ns_name, id, now));
  const Position c = ns->records[key].pos;
  return finish(*ns, CylinderLocked(*ns, c, radius, c.z + lo, c.z + hi, options, now,
                                    options.include_self ? engine::kNoKey : key));
}

// Runs a query around object `id` (after the caller's own argument checks): finds the
// namespace, takes the shared hold, reads the object (NotFound when absent or expired) and
// returns finish(ns, key, now) under the same hold.
template <class R, class F>
Result<R> Db::Impl::AroundObject(std::string_view ns_name, std::string_view id, F&& finish) const {
  LOCUS_RETURN_IF_ERROR(CheckId(id));
  LOCUS_ASSIGN_OR_RETURN(auto ns, Require(ns_name));
  std::shared_lock r(ns->rw);
  const int64_t now = Now();
  LOCUS_ASSIGN_OR_RETURN(const uint32_t key, AnchorLocked(*ns, ns_name, id, now));
  return finish(*ns, key, now);
}

Result<QueryResult> Db::WithinRadiusOf(std::string_view ns_name, std::string_view id, double radius,
                                       const QueryOptions& options) const {
  LOCUS_RETURN_IF_ERROR(CheckQuery(options));
  LOCUS_RETURN_IF_ERROR(db_internal::CheckRadius(radius));
  return impl_->AroundObject<QueryResult>(
      ns_name, id, [&](const Impl::Namespace& ns, uint32_t key, int64_t now) {
        const Position center = ns.records[key].pos;
        if (options.include_self) return impl_->RadiusLocked(ns, center, radius, options, now);
        QueryOptions more = options;
        more.limit = PlusOne(options.limit);
        QueryResult out = impl_->RadiusLocked(ns, center, radius, more, now);
        DropSelf(&out, id, options.limit);
        return out;
      });
}

Result<size_t> Db::CountWithinRadiusOf(std::string_view ns_name, std::string_view id, double radius,
                                       const QueryOptions& options) const {
  LOCUS_RETURN_IF_ERROR(CheckQuery(options));
  LOCUS_RETURN_IF_ERROR(db_internal::CheckRadius(radius));
  return impl_->AroundObject<size_t>(
      ns_name, id, [&](const Impl::Namespace& ns, uint32_t key, int64_t now) {
        const Position& c = ns.records[key].pos;
        const int64_t anchor_t = ns.TimesOf(key).t;
        const double radius_sq = ns.IndexRadiusSq(radius);
        const engine::TimeWindow w = WindowOf(options);
        size_t n = ns.two_d() ? ns.live2.CountRadius({c.x, c.y}, radius_sq, w, now)
                              : ns.live3.CountRadius(ns.Point3(c), radius_sq, w, now);
        // The object is at distance 0 from its own (identically indexed) position: it was
        // counted exactly when the time filter passes it.
        const bool self_counted = anchor_t >= w.t_min && anchor_t <= w.t_max;
        if (!options.include_self && self_counted && n > 0) --n;
        return n;
      });
}

Result<QueryResult> Db::NearestTo(std::string_view ns_name, std::string_view id, size_t k,
                                  const QueryOptions& options) const {
  LOCUS_RETURN_IF_ERROR(CheckQuery(options));
  LOCUS_RETURN_IF_ERROR(db_internal::CheckK(k));
  return impl_->AroundObject<QueryResult>(
      ns_name, id, [&](const Impl::Namespace& ns, uint32_t key, int64_t now) {
        const Position center = ns.records[key].pos;
        if (options.include_self) return impl_->NearestLocked(ns, center, k, options, now);
        // One more neighbour, then drop the object itself if it is among them (it may not
        // be when the time filter excludes it, or other objects share its position), else
        // the farthest.
        QueryOptions more = options;
        more.limit = PlusOne(options.limit);
        QueryResult out = impl_->NearestLocked(ns, center, PlusOne(k), more, now);
        auto self = std::find_if(out.hits.begin(), out.hits.end(),
                                 [&](const Hit& h) { return h.id == id; });
        if (self != out.hits.end()) out.hits.erase(self);
        const size_t want = std::min(k, options.limit);
        if (out.hits.size() > want) out.hits.resize(want);
        out.truncated = want < k && out.hits.size() == want;  // as Nearest
        return out;
      });
}

namespace {
// The two finishes of a cylinder query: hits as a result, or their count.
auto CylinderHits(const QueryOptions& options) {
  return [&options](const db_internal::Namespace& ns, const auto& hits) {
    return CylinderResult(ns, hits, options);
  };
}
auto CylinderCount() {
  return [](const db_internal::Namespace&, const auto& hits) { return hits.size(); };
}
}  // namespace

Result<QueryResult> Db::WithinCylinder(std::string_view ns_name, const Position& center,
                                       double radius, double z_min, double z_max,
                                       const QueryOptions& options) const {
  return impl_->CylinderQuery<QueryResult>(ns_name, &center, {}, radius, z_min, z_max, options,
                                           CylinderHits(options));
}

Result<size_t> Db::CountWithinCylinder(std::string_view ns_name, const Position& center,
                                       double radius, double z_min, double z_max,
                                       const QueryOptions& options) const {
  return impl_->CylinderQuery<size_t>(ns_name, &center, {}, radius, z_min, z_max, options,
                                      CylinderCount());
}

Result<QueryResult> Db::WithinCylinderOf(std::string_view ns_name, std::string_view id,
                                         double radius, double dz_min, double dz_max,
                                         const QueryOptions& options) const {
  return impl_->CylinderQuery<QueryResult>(ns_name, nullptr, id, radius, dz_min, dz_max, options,
                                           CylinderHits(options));
}

Result<size_t> Db::CountWithinCylinderOf(std::string_view ns_name, std::string_view id,
                                         double radius, double dz_min, double dz_max,
                                         const QueryOptions& options) const {
  return impl_->CylinderQuery<size_t>(ns_name, nullptr, id, radius, dz_min, dz_max, options,
                                      CylinderCount());
}

}  // namespace locus
