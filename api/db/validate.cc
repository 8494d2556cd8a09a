// Validation of the database's inputs (validate.h).
#include "api/db/validate.h"

#include <string>

namespace locus::db_internal {

Status CheckName(std::string_view name, const char* field, size_t max) {
  if (name.empty()) return InvalidArgumentError(std::string(field) + ": empty");
  if (name.size() > max) {
    return InvalidArgumentError(std::string(field) + ": " + std::to_string(name.size()) +
                                " bytes, at most " + std::to_string(max));
  }
  return Status();
}

Status CheckPosition(CoordinateSystem cs, const Position& p, const std::string& field) {
  auto finite = [&](double v, const char* axis) -> Status {
    if (!std::isfinite(v)) {
      return InvalidArgumentError(field + "." + axis + " = " + FormatNumber(v) + ": not finite");
    }
    return Status();
  };
  if (cs == CoordinateSystem::kGeographic) {
    LOCUS_RETURN_IF_ERROR(ValidateLongitude(p.x, field + ".lon"));
    LOCUS_RETURN_IF_ERROR(ValidateLatitude(p.y, field + ".lat"));
    return finite(p.z, "alt");
  }
  LOCUS_RETURN_IF_ERROR(finite(p.x, "x"));
  LOCUS_RETURN_IF_ERROR(finite(p.y, "y"));
  return finite(p.z, "z");
}

Status CheckObject(const DbOptions& options, CoordinateSystem cs, const Object& o,
                   const std::string& field) {
  LOCUS_RETURN_IF_ERROR(CheckName(o.id, (field + ".id").c_str(), options.max_id_bytes));
  LOCUS_RETURN_IF_ERROR(CheckPosition(cs, o.pos, field + ".pos"));
  if (o.metadata.size() > options.max_metadata_bytes) {
    return InvalidArgumentError(field + ".metadata: " + std::to_string(o.metadata.size()) +
                                " bytes, at most " + std::to_string(options.max_metadata_bytes));
  }
  if (o.expires_at && o.ttl_ms) {
    return InvalidArgumentError(field + ": both expires_at and ttl_ms are set; choose one");
  }
  if (o.ttl_ms && *o.ttl_ms <= 0) {
    return InvalidArgumentError(field + ".ttl_ms = " + std::to_string(*o.ttl_ms) + ": must be > 0");
  }
  if (o.ttl_ms && *o.ttl_ms > engine::kNeverExpires / 4) {
    return InvalidArgumentError(field + ".ttl_ms = " + std::to_string(*o.ttl_ms) + ": too large");
  }
  return Status();
}

Status CheckQuery(const QueryOptions& o) {
  if (o.limit == 0) return InvalidArgumentError("options.limit = 0: must be > 0");
  if (o.updated_from && o.updated_to && *o.updated_from > *o.updated_to) {
    return InvalidArgumentError("options.updated_from = " + std::to_string(*o.updated_from) +
                                " > updated_to = " + std::to_string(*o.updated_to));
  }
  return Status();
}

Status CheckRadius(double radius) {
  if (!(std::isfinite(radius) && radius >= 0)) {
    return InvalidArgumentError("radius = " + FormatNumber(radius) + ": must be finite and >= 0");
  }
  return Status();
}

Status CheckBox(CoordinateSystem cs, const Position& min, const Position& max) {
  LOCUS_RETURN_IF_ERROR(CheckPosition(cs, min, "min"));
  LOCUS_RETURN_IF_ERROR(CheckPosition(cs, max, "max"));
  const bool geo = cs == CoordinateSystem::kGeographic;
  const char* names[3] = {geo ? "lon" : "x", geo ? "lat" : "y", "z"};
  const double lo[3] = {min.x, min.y, min.z}, hi[3] = {max.x, max.y, max.z};
  const int axes = cs == CoordinateSystem::kPlanar3D ? 3 : 2;
  for (int a = geo ? 1 : 0; a < axes; ++a) {  // geographic: west > east crosses the antimeridian
    if (lo[a] > hi[a]) {
      return InvalidArgumentError(std::string("min.") + names[a] + " = " + FormatNumber(lo[a]) +
                                  " > max." + names[a] + " = " + FormatNumber(hi[a]) +
                                  ": box is crossed");
    }
  }
  return Status();
}

Status CheckBand(double lo, double hi, const char* lo_name, const char* hi_name) {
  if (!std::isfinite(lo)) {
    return InvalidArgumentError(std::string(lo_name) + " = " + FormatNumber(lo) + ": not finite");
  }
  if (!std::isfinite(hi)) {
    return InvalidArgumentError(std::string(hi_name) + " = " + FormatNumber(hi) + ": not finite");
  }
  if (lo > hi) {
    return InvalidArgumentError(std::string(lo_name) + " = " + FormatNumber(lo) + " > " + hi_name +
                                " = " + FormatNumber(hi) + ": the band is empty");
  }
  return Status();
}

Status CheckHasZ(std::string_view ns_name, CoordinateSystem cs) {
  if (cs != CoordinateSystem::kPlanar2D) return Status();
  return InvalidArgumentError("namespace '" + std::string(ns_name) + "' is " +
                              CoordinateSystemName(cs) +
                              ": a cylinder needs a z axis (planar3d or geographic)");
}

Status CheckHistoryTime(int64_t t, const std::string& field) {
  if (HistoryTimeOk(t)) return Status();
  return InvalidArgumentError(field + " = " + std::to_string(t) +
                              ": outside [-2^53 + 1, 2^53 - 1] ms, the times a history keeps "
                              "(kMaxHistoryTime)");
}

Status CheckWindow(int64_t t0, int64_t t1) {
  if (t1 < t0) {
    return InvalidArgumentError("t1 = " + std::to_string(t1) + ": before t0 = " +
                                std::to_string(t0));
  }
  return Status();
}

Status CheckNonNegative(double v, const char* field) {
  if (!std::isfinite(v) || v < 0) {
    return InvalidArgumentError(std::string(field) + " = " + FormatNumber(v) +
                                ": must be a finite number >= 0");
  }
  return Status();
}

Status CheckRegion(CoordinateSystem cs, const Region& region, engine::MotionRegion* out,
                   std::optional<engine::Polygon>* polygon) {
  switch (region.kind) {
    case Region::Kind::kEverywhere:
      return Status();
    case Region::Kind::kBox:
      LOCUS_RETURN_IF_ERROR(CheckBox(cs, region.min, region.max));
      out->kind = engine::MotionRegion::Kind::kBox;
      out->min_x = region.min.x, out->min_y = region.min.y;
      out->max_x = region.max.x, out->max_y = region.max.y;
      return Status();
    case Region::Kind::kCircle:
      LOCUS_RETURN_IF_ERROR(CheckPosition(cs, region.center, "region.center"));
      LOCUS_RETURN_IF_ERROR(CheckNonNegative(region.radius, "region.radius"));
      out->kind = engine::MotionRegion::Kind::kCircle;
      out->cx = region.center.x, out->cy = region.center.y, out->radius = region.radius;
      return Status();
    case Region::Kind::kPolygon: {
      std::vector<std::vector<Point2>> rings;
      for (const auto& ring : region.rings) {
        rings.emplace_back();
        for (const Position& p : ring) rings.back().push_back({p.x, p.y});
      }
      auto made = engine::Polygon::Make(std::move(rings));
      if (!made.ok()) {
        return InvalidArgumentError("region." + std::string(made.status().message()));
      }
      polygon->emplace(std::move(made).value());
      out->kind = engine::MotionRegion::Kind::kPolygon;
      out->polygon = &**polygon;
      return Status();
    }
  }
  return InvalidArgumentError("region.kind = " + std::to_string(static_cast<int>(region.kind)) +
                              ": not a Region::Kind");
}

Status CheckK(size_t k) {
  if (k == 0) return InvalidArgumentError("k = 0: must be > 0");
  return Status();
}

Status CheckOptions(const DbOptions& options) {
  if (options.block_rows < 16 || options.block_rows > 65536 || options.block_rows % 16 != 0) {
    return InvalidArgumentError("options.block_rows = " + std::to_string(options.block_rows) +
                                ": must be a multiple of 16 in [16, 65536]");
  }
  if (options.sweep_interval_ms < 0) {
    return InvalidArgumentError("options.sweep_interval_ms = " +
                                std::to_string(options.sweep_interval_ms) + ": must be >= 0");
  }
  const DurabilityOptions& d = options.durability;
  if (static_cast<unsigned>(d.sync) > 2) {
    return InvalidArgumentError("options.durability.sync = " +
                                std::to_string(static_cast<int>(d.sync)) + ": not a SyncPolicy");
  }
  if (static_cast<unsigned>(d.sync_mode) > 1) {
    return InvalidArgumentError("options.durability.sync_mode = " +
                                std::to_string(static_cast<int>(d.sync_mode)) + ": not a SyncMode");
  }
  if (d.sync_interval_ms < 1) {
    return InvalidArgumentError("options.durability.sync_interval_ms = " +
                                std::to_string(d.sync_interval_ms) + ": must be >= 1");
  }
  if (d.sync_batch_size < 1) {
    return InvalidArgumentError("options.durability.sync_batch_size = 0: must be >= 1");
  }
  if (!(d.checkpoint_log_ratio > 0) || !std::isfinite(d.checkpoint_log_ratio)) {
    return InvalidArgumentError("options.durability.checkpoint_log_ratio = " +
                                FormatNumber(d.checkpoint_log_ratio) + ": must be finite and > 0");
  }
  return Status();
}

Status CheckNamespaceOptions(const NamespaceOptions& options) {
  if (static_cast<unsigned>(options.coordinates) > 2) {
    return InvalidArgumentError(
        "options.coordinates = " + std::to_string(static_cast<int>(options.coordinates)) +
        ": not a CoordinateSystem");
  }
  const HistoryOptions& h = options.history;
  if (h.retention_ms < 0) {
    return InvalidArgumentError("options.history.retention_ms = " +
                                std::to_string(h.retention_ms) + ": must be >= 0 (0 keeps all)");
  }
  if (h.enabled && (h.chunk_samples < 16 || h.chunk_samples > (size_t{1} << 28))) {
    return InvalidArgumentError("options.history.chunk_samples = " +
                                std::to_string(h.chunk_samples) + ": must be in [16, 2^28]");
  }
  return Status();
}

}  // namespace locus::db_internal
