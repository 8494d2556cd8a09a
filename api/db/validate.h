// Validation of everything a caller hands the database: names, ids, positions, objects,
// query options, radii, boxes, z bands and the database options. Every error is an
// InvalidArgument (or NotFound for a missing namespace, checked elsewhere) whose message names
// the field and the value, e.g. "object.pos.lat = 91: outside [-90, 90]". The Ok forms
// (PositionOk, ObjectOk) are the message-free fast paths of the write path: a write builds a
// message only once it knows the input is bad.
//
// The lon/lat range rule itself is the base vocabulary's (locus/geometry.h: IsLonLat,
// ValidateLongitude, ValidateLatitude), shared with GeoJSON import and the engine.
//
// Thread safety: pure functions.
#ifndef LOCUS_API_DB_VALIDATE_H_
#define LOCUS_API_DB_VALIDATE_H_

#include <cmath>
#include <string>
#include <string_view>

#include <optional>

#include "engine/live_index.h"
#include "engine/motion.h"
#include "engine/polygon.h"
#include "locus/db.h"
#include "locus/geometry.h"

namespace locus::db_internal {

// A namespace name or object id: not empty, at most `max` bytes.
Status CheckName(std::string_view name, const char* field, size_t max);

// A position in coordinate system `cs`: lon/lat in range and a finite altitude (geographic),
// finite x, y, z (planar). Fields are named field.lon/.lat/.alt or field.x/.y/.z.
Status CheckPosition(CoordinateSystem cs, const Position& p, const std::string& field);
// True exactly when CheckPosition would pass.
inline bool PositionOk(CoordinateSystem cs, const Position& p) {
  return cs == CoordinateSystem::kGeographic
             ? (IsLonLat(p.x, p.y) && std::isfinite(p.z))
             : (std::isfinite(p.x) && std::isfinite(p.y) && std::isfinite(p.z));
}

// An upsert of `o` into a namespace of coordinate system `cs`, under the size limits of
// `options`. True exactly when CheckObject would pass.
inline bool ObjectOk(const DbOptions& options, CoordinateSystem cs, const Object& o) {
  return PositionOk(cs, o.pos) && !o.id.empty() && o.id.size() <= options.max_id_bytes &&
         o.metadata.size() <= options.max_metadata_bytes && !(o.expires_at && o.ttl_ms) &&
         (!o.ttl_ms || (*o.ttl_ms > 0 && *o.ttl_ms <= engine::kNeverExpires / 4));
}
Status CheckObject(const DbOptions& options, CoordinateSystem cs, const Object& o,
                   const std::string& field);

// QueryOptions: limit > 0, updated_from <= updated_to.
Status CheckQuery(const QueryOptions& o);
// A query radius: finite and >= 0.
Status CheckRadius(double radius);
// A box query's corners (geographic: west > east is a box across the antimeridian).
Status CheckBox(CoordinateSystem cs, const Position& min, const Position& max);
// A cylinder's z band [lo, hi]: finite, lo <= hi.
Status CheckBand(double lo, double hi, const char* lo_name, const char* hi_name);
// Cylinders band the z axis: planar 2D namespaces have none.
Status CheckHasZ(std::string_view ns_name, CoordinateSystem cs);
// k of a kNN query: > 0.
Status CheckK(size_t k);

// A time window [t0, t1]: t0 <= t1.
Status CheckWindow(int64_t t0, int64_t t1);
// A sample time a history keeps (|t| <= kMaxHistoryTime); the message only on failure.
inline bool HistoryTimeOk(int64_t t) { return t >= -kMaxHistoryTime && t <= kMaxHistoryTime; }
Status CheckHistoryTime(int64_t t, const std::string& field);
// A finite number >= 0 named `field` (distances, tolerances).
Status CheckNonNegative(double v, const char* field);
// A history query's region, converted for the engine: *polygon holds a polygon region's
// validated polygon (the region points at it).
Status CheckRegion(CoordinateSystem cs, const Region& region, engine::MotionRegion* out,
                   std::optional<engine::Polygon>* polygon);

// DbOptions as Db::Open and Db::OpenInMemory accept them.
Status CheckOptions(const DbOptions& options);
// NamespaceOptions as CreateNamespace accepts them.
Status CheckNamespaceOptions(const NamespaceOptions& options);

}  // namespace locus::db_internal

#endif  // LOCUS_API_DB_VALIDATE_H_
