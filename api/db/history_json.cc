// locus/db_json.h, trajectories: an object's samples as one GeoJSON Feature (a LineString, a
// Point for one sample, null geometry for none, with the vertices' "times" and metadata beside
// them) and such features read back as samples for Db::InsertTrajectory. The dialect (paths in
// messages, metadata keys, coordinate checks, parsing limits) is db_json.cc's, through
// api/db/json_internal.h. nlohmann's exceptions are caught at the entry points at the end.
// Thread safety: plain functions of their arguments.
#include <algorithm>
#include <new>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "api/db/json_internal.h"
#include "locus/db_json.h"

namespace locus {
namespace {

using json_internal::Base64Decode;
using json_internal::Base64Encode;
using json_internal::CaughtJsonError;
using json_internal::CheckExportableId;
using json_internal::CheckExportablePosition;
using json_internal::CheckFeature;
using json_internal::Coordinates;
using json_internal::Describe;
using json_internal::Dump;
using json_internal::EmbeddableMetadata;
using json_internal::FeatureRef;
using json_internal::Features;
using json_internal::Find;
using json_internal::Index;
using json_internal::Join;
using json_internal::JsonText;
using json_internal::Member;
using json_internal::OJson;
using json_internal::ParseDocument;
using json_internal::Quote;
using json_internal::ReadCoordinates;
using json_internal::ReadId;
using json_internal::ReadInteger;
using json_internal::Utf8Valid;
using json_internal::WantsAltitude;

constexpr const char* kMetadataKeys[] = {"metadata", "metadata_text", "metadata_base64"};

std::string Count(size_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

// ---- Export ----

// Every sample's metadata under one key (db_json.h): JSON values when all of them can be,
// else strings (UTF-8 text, or base64), "" for a sample without metadata.
void PutSampleMetadata(const std::vector<Sample>& samples, OJson& props) {
  const bool any = std::any_of(samples.begin(), samples.end(),
                               [](const Sample& s) { return !s.metadata.empty(); });
  if (!any) return;
  OJson values = OJson::array();
  for (const Sample& s : samples) {
    std::optional<OJson> v = EmbeddableMetadata(s.metadata);
    if (!v) break;
    values.push_back(std::move(*v));
  }
  if (values.size() == samples.size()) {
    props["metadata"] = std::move(values);
    return;
  }
  const bool text = std::all_of(samples.begin(), samples.end(),
                                [](const Sample& s) { return Utf8Valid(s.metadata); });
  OJson strings = OJson::array();
  for (const Sample& s : samples) strings.push_back(text ? s.metadata : Base64Encode(s.metadata));
  props[text ? "metadata_text" : "metadata_base64"] = std::move(strings);
}

// The Feature of one trajectory; `field` names it in errors ("" or "trajectories[i]").
Result<OJson> TrajectoryFeature(std::string_view id, const std::vector<Sample>& samples,
                                bool truncated, const std::string& field,
                                const GeoJsonExportOptions& options) {
  LOCUS_RETURN_IF_ERROR(CheckExportableId(id, field));
  const std::string spath = Join(field, "samples");
  bool with_z = false;
  for (size_t i = 0; i < samples.size(); ++i) {
    LOCUS_RETURN_IF_ERROR(CheckExportablePosition(samples[i].pos, Index(spath, i)));
    with_z = with_z || WantsAltitude(samples[i].pos, options);
  }
  OJson geometry;  // null: no sample
  if (samples.size() == 1) {
    geometry = OJson{{"type", "Point"}, {"coordinates", Coordinates(samples[0].pos, with_z)}};
  } else if (samples.size() > 1) {
    OJson coords = OJson::array();
    for (const Sample& s : samples) coords.push_back(Coordinates(s.pos, with_z));
    geometry = OJson{{"type", "LineString"}, {"coordinates", std::move(coords)}};
  }
  OJson times = OJson::array();
  for (const Sample& s : samples) times.push_back(s.t);
  OJson props = OJson::object();
  props["times"] = std::move(times);
  PutSampleMetadata(samples, props);
  OJson f = OJson::object();
  f["type"] = "Feature";
  f["id"] = std::string(id);
  f["geometry"] = std::move(geometry);
  f["properties"] = std::move(props);
  if (truncated) f["truncated"] = true;
  return f;
}

// ---- Import ----

struct TrajectoryImporter {
  const GeoJsonImportOptions& options;

  // The positions of the feature's geometry: none (null), one (Point), two or more
  // (LineString); *kind says which, for messages.
  Status ReadPositions(const OJson& f, const std::string& path, std::vector<Position>* out,
                       std::string* kind) const {
    const std::string gpath = Join(path, "geometry");
    const OJson* g = Find(f, "geometry");
    if (g == nullptr) {
      return InvalidArgumentError(gpath + ": missing (a LineString, a Point, or null)");
    }
    if (g->is_null()) {
      *kind = "of the null geometry";
      return Status();
    }
    if (!g->is_object()) {
      return InvalidArgumentError(gpath + " = " + Describe(*g) + ": expected a geometry object");
    }
    const OJson* type = Find(*g, "type");
    if (type == nullptr) return InvalidArgumentError(gpath + ".type: missing");
    const bool point = *type == "Point", line = *type == "LineString";
    if (!point && !line) {
      return InvalidArgumentError(gpath + ".type = " + Describe(*type) +
                                  ": a trajectory is a LineString, a Point (one sample) or null "
                                  "(none)");
    }
    const std::string cpath = gpath + ".coordinates";
    const OJson* c = Find(*g, "coordinates");
    if (c == nullptr) return InvalidArgumentError(cpath + ": missing");
    if (point) {
      *kind = "of the Point";
      out->emplace_back();
      return ReadCoordinates(*c, cpath, options.coordinates, &out->back());
    }
    *kind = "of the LineString";
    if (!c->is_array()) {
      return InvalidArgumentError(cpath + " = " + Describe(*c) +
                                  ": expected an array of positions");
    }
    if (c->size() < 2) {
      return InvalidArgumentError(cpath + " = " + Describe(*c) +
                                  ": a LineString has at least 2 positions (RFC 7946); one "
                                  "sample is a Point");
    }
    out->resize(c->size());
    for (size_t i = 0; i < c->size(); ++i) {
      LOCUS_RETURN_IF_ERROR(
          ReadCoordinates((*c)[i], Index(cpath, i), options.coordinates, &(*out)[i]));
    }
    return Status();
  }

  // "times" and the metadata of the samples (already sized, one per position).
  Status ReadProperties(const OJson& f, const std::string& path, const std::string& kind,
                        std::vector<Sample>* samples) const {
    const std::string ppath = Join(path, "properties");
    const std::string tpath = ppath + ".times";
    const OJson* props = Find(f, "properties");
    if (props != nullptr && !props->is_null() && !props->is_object()) {
      return InvalidArgumentError(ppath + " = " + Describe(*props) +
                                  ": expected an object with \"times\"");
    }
    const OJson* times = props == nullptr || props->is_null() ? nullptr : Find(*props, "times");
    if (times == nullptr) {
      return InvalidArgumentError(tpath +
                                  ": missing (a trajectory has one time, in ms, per position)");
    }
    if (!times->is_array()) {
      return InvalidArgumentError(tpath + " = " + Describe(*times) +
                                  ": expected an array of integers (milliseconds)");
    }
    const size_t n = samples->size();
    if (times->size() != n) {
      return InvalidArgumentError(tpath + " = " + Describe(*times) + ": " +
                                  Count(times->size(), "time", "times") + " for " +
                                  Count(n, "position", "positions") + " " + kind);
    }
    std::unordered_map<int64_t, size_t> seen;
    seen.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      int64_t& t = (*samples)[i].t;
      LOCUS_RETURN_IF_ERROR(ReadInteger((*times)[i], Index(tpath, i), &t));
      const auto [it, fresh] = seen.emplace(t, i);
      if (!fresh) {
        return InvalidArgumentError(Index(tpath, i) + " = " + std::to_string(t) +
                                    ": duplicate of times[" + std::to_string(it->second) +
                                    "] (one sample per time)");
      }
    }

    const char* meta_key = nullptr;
    for (auto it = props->begin(); it != props->end(); ++it) {
      const std::string& k = it.key();
      if (k == "times") continue;
      const char* key = nullptr;
      for (const char* m : kMetadataKeys) {
        if (k == m) key = m;
      }
      if (key == nullptr) {
        return InvalidArgumentError(Member(ppath, k) +
                                    ": not a trajectory property (\"times\", \"metadata\", "
                                    "\"metadata_text\" or \"metadata_base64\"); it would be lost");
      }
      if (meta_key != nullptr) {
        return InvalidArgumentError(ppath + ": both \"" + meta_key + "\" and \"" + key +
                                    "\"; at most one metadata key");
      }
      meta_key = key;
    }
    if (meta_key == nullptr) return Status();
    const std::string mpath = ppath + "." + meta_key;
    const OJson& m = *Find(*props, meta_key);
    if (!m.is_array()) {
      return InvalidArgumentError(mpath + " = " + Describe(m) +
                                  ": expected an array, one value per vertex");
    }
    if (m.size() != n) {
      return InvalidArgumentError(mpath + " = " + Describe(m) + ": " +
                                  Count(m.size(), "value", "values") + " for " +
                                  Count(n, "time", "times"));
    }
    const std::string_view key(meta_key);
    for (size_t i = 0; i < n; ++i) {
      const OJson& e = m[i];
      const std::string epath = Index(mpath, i);
      std::string& bytes = (*samples)[i].metadata;
      if (key == "metadata") {
        LOCUS_ASSIGN_OR_RETURN(bytes, JsonText(e, epath));
        continue;
      }
      if (!e.is_string()) {
        return InvalidArgumentError(epath + " = " + Describe(e) + ": expected a string");
      }
      if (key == "metadata_text") {
        bytes = e.get<std::string>();
      } else if (!Base64Decode(e.get_ref<const std::string&>(), &bytes)) {
        return InvalidArgumentError(epath + " = " + Describe(e) +
                                    ": not canonical base64 (RFC 4648, padded)");
      }
    }
    return Status();
  }

  Status ReadFeature(const OJson& f, const std::string& path, ObjectTrajectory* out) const {
    LOCUS_RETURN_IF_ERROR(CheckFeature(f, path));
    LOCUS_RETURN_IF_ERROR(ReadId(f, path, options.max_id_bytes, &out->id));
    std::vector<Position> positions;
    std::string kind;
    LOCUS_RETURN_IF_ERROR(ReadPositions(f, path, &positions, &kind));
    out->samples.resize(positions.size());
    for (size_t i = 0; i < positions.size(); ++i) out->samples[i].pos = positions[i];
    return ReadProperties(f, path, kind, &out->samples);
  }

  Result<std::vector<ObjectTrajectory>> Run(std::string_view text) const {
    LOCUS_ASSIGN_OR_RETURN(const OJson doc, ParseDocument(text, options));
    LOCUS_ASSIGN_OR_RETURN(const std::vector<FeatureRef> features, Features(doc));
    // Never reallocated: `seen` points into the ids.
    std::vector<ObjectTrajectory> out(features.size());
    std::unordered_map<std::string_view, size_t> seen;
    seen.reserve(features.size());
    for (size_t i = 0; i < features.size(); ++i) {
      const std::string& path = features[i].path;
      LOCUS_RETURN_IF_ERROR(ReadFeature(*features[i].feature, path, &out[i]));
      const auto [it, fresh] = seen.emplace(out[i].id, i);
      if (!fresh) {
        return InvalidArgumentError(path + ".id = " + Quote(out[i].id) + ": duplicate of " +
                                    features[it->second].path + ".id");
      }
    }
    return out;
  }
};

}  // namespace

Result<std::string> ToGeoJson(const TrajectoryResult& trajectory, std::string_view id,
                              const GeoJsonExportOptions& options) {
  try {
    LOCUS_ASSIGN_OR_RETURN(
        OJson f, TrajectoryFeature(id, trajectory.samples, trajectory.truncated, "", options));
    return Dump(f, options);
  } catch (const nlohmann::json::exception& e) {
    return CaughtJsonError("ToGeoJson", e);
  } catch (const std::bad_alloc&) {
    return ResourceExhaustedError("ToGeoJson: out of memory");
  }
}

Result<std::string> ToGeoJson(std::span<const ObjectTrajectory> trajectories,
                              const GeoJsonExportOptions& options) {
  try {
    OJson features = OJson::array();
    for (size_t i = 0; i < trajectories.size(); ++i) {
      const ObjectTrajectory& t = trajectories[i];
      LOCUS_ASSIGN_OR_RETURN(OJson f, TrajectoryFeature(t.id, t.samples, /*truncated=*/false,
                                                        Index("trajectories", i), options));
      features.push_back(std::move(f));
    }
    OJson doc = OJson::object();
    doc["type"] = "FeatureCollection";
    doc["features"] = std::move(features);
    return Dump(doc, options);
  } catch (const nlohmann::json::exception& e) {
    return CaughtJsonError("ToGeoJson", e);
  } catch (const std::bad_alloc&) {
    return ResourceExhaustedError("ToGeoJson: out of memory");
  }
}

Result<std::vector<ObjectTrajectory>> TrajectoriesFromGeoJson(std::string_view text,
                                                              const GeoJsonImportOptions& options) {
  try {
    return TrajectoryImporter{options}.Run(text);
  } catch (const nlohmann::json::exception& e) {
    return CaughtJsonError("TrajectoriesFromGeoJson", e);
  } catch (const std::bad_alloc&) {
    return ResourceExhaustedError("TrajectoriesFromGeoJson: out of memory");
  }
}

}  // namespace locus
