// JSON on top of locus::Db (library locus::db_json): metadata helpers and GeoJSON (RFC 7946)
// import and export of objects and query results. JSON is nlohmann::json.
//
//   locus::Object o{.id = "truck-7", .pos = {2.35, 48.85}, .timestamp = t};
//   locus::SetMetadataJson(o, {{"driver", "Ana"}, {"load_kg", 1200}});  // compact JSON text
//   auto meta = locus::MetadataJson(hit);             // back to JSON (null when empty)
//   auto text = locus::ToGeoJson(db->WithinRadius("fleet", c, 5000, {.with_metadata = true})
//                                    .value());       // a FeatureCollection
//   auto objects = locus::FromGeoJson(text.value());  // std::vector<Object> for a Batch
//
// The GeoJSON mapping (export and import are symmetric: FromGeoJson(ToGeoJson(objects))
// reproduces the objects exactly, bit for bit, metadata bytes included):
//
//   {"type": "Feature", "id": "<object id>",
//    "geometry": {"type": "Point", "coordinates": [x, y] or [x, y, z]},
//    "properties": {"timestamp": <ms>, "expires_at": <ms>, "ttl_ms": <ms>,
//                   "distance": <query hits only>, "metadata": <see below>}}
//
// - Coordinates: [lon, lat] in degrees for geographic namespaces, with the altitude (metres)
//   as a third number when it is not +0 (or always, GeoJsonExportOptions::always_altitude).
//   Planar namespaces are written the same way with x, y, z as given: such a file is GeoJSON
//   in shape only, its coordinates are not RFC 7946's WGS84. Numbers are written in their
//   shortest form that reads back to the same double.
// - The id is always written as a JSON string. Ids that are not valid UTF-8 cannot be
//   written (JSON strings are Unicode): ToGeoJson fails naming the object.
// - locus's own fields sit under fixed property names; the object's metadata always sits under
//   one of the three metadata keys, never merged among them, so no name can clash:
//     "metadata":        the metadata as a JSON value, when its bytes are compact JSON text
//                        (exactly what SetMetadataJson writes: no spaces, any key order) nested
//                        at most kGeoJsonMaxEmbeddedDepth deep;
//     "metadata_text":   other metadata that is valid UTF-8, as a JSON string;
//     "metadata_base64": any other bytes, base64 (RFC 4648, padded).
//   Empty metadata writes none of them. "expires_at"/"ttl_ms" appear when set; "distance"
//   only for query hits (metres or planar units; 0 for box and polygon queries).
//   A truncated QueryResult adds the foreign member "truncated": true to the collection.
//
// Import (FromGeoJson) takes a FeatureCollection or a single Feature of Point features:
// - "id" is required: a non-empty string, or an integer (read as its decimal text: 42 -> "42").
// - "coordinates": 2 or 3 finite numbers; geographic targets also need lon in [-180, 180] and
//   lat in [-90, 90]. Null or non-Point geometries are errors naming the type.
// - "timestamp": an integer (ms); when absent GeoJsonImportOptions::default_timestamp is used,
//   and when that is unset too the feature is an error. "expires_at" and "ttl_ms": optional
//   integers. "distance" is output only and ignored.
// - Metadata: from "metadata" (any JSON value, stored as compact JSON text in document key
//   order), "metadata_text" (a string, stored as its bytes) or "metadata_base64" (decoded);
//   at most one of them. A feature with none of them but with other properties (GeoJSON from
//   elsewhere: {"name": "x", "speed": 3}) stores those properties, in document order, as a
//   compact JSON object. Other properties beside a metadata key are an error (they would be
//   lost). "properties" null or absent: no metadata.
// - Duplicate ids within one input are an error naming both features (a snapshot never holds
//   an id twice, and "last wins" would depend on timestamps: say which you mean).
// - Every error is an InvalidArgument naming the JSON path and the value, e.g.
//     features[3].geometry.coordinates[1] = 95: latitude outside [-90, 90]
//   JSON syntax errors give the line, column and byte (1-based); a number outside the double
//   range (1e400) names its path. Limits: max_input_bytes and max_depth (nesting of arrays
//   and objects) are checked before parsing.
//
// Trajectories (an object's history, db.h "History"; api/db/history_json.cc): one Feature per
// object, its samples as the vertices of a LineString with their times beside them:
//
//   auto path = db->Trajectory("fleet", "truck-7", t0, t1, {.with_metadata = true});
//   auto text = locus::ToGeoJson(path.value(), "truck-7");  // one Feature
//   auto back = locus::TrajectoriesFromGeoJson(text.value());  // std::vector<ObjectTrajectory>
//   db->InsertTrajectory("fleet", (*back)[0].id, (*back)[0].samples);
//
//   {"type": "Feature", "id": "<object id>",
//    "geometry": {"type": "LineString", "coordinates": [[x, y], [x, y], ...]},
//    "properties": {"times": [<ms>, <ms>, ...], "metadata": [<value>, <value>, ...]}}
//
// - Vertex i is sample i, at "times"[i] (integer milliseconds), in the order of the samples
//   (TrajectoryOptions::order: ascending unless asked otherwise). Positions follow the Point
//   rules above; every vertex carries z when any sample's z is not +0 (or always_altitude), so
//   the positions of one feature all have the same dimension.
// - One sample: "geometry" is a Point (a LineString has at least two positions, RFC 7946) and
//   "times" is [t]. No sample (an empty window): "geometry": null and "times": [].
// - Metadata, one value per vertex, under one key for the whole feature, chosen by the rule of
//   one object's metadata applied to every sample at once: "metadata" (an array of JSON
//   values) when every sample's metadata is compact JSON text that "metadata" would hold;
//   else "metadata_text" (an array of strings, "" for a sample without metadata) when every
//   sample's metadata is valid UTF-8; else "metadata_base64" (an array of base64 strings, ""
//   for none). No key when no sample has metadata (Trajectory without with_metadata).
// - A truncated TrajectoryResult adds the foreign member "truncated": true to the Feature.
//   Several objects' trajectories (std::span<const ObjectTrajectory>) make a FeatureCollection
//   of such features.
//
// Import (TrajectoriesFromGeoJson) takes a FeatureCollection or a single Feature of such
// features, and gives them back exactly (export then import reproduces the samples bit for
// bit, metadata bytes included):
// - "id" as for Points; one id twice in a collection is an error naming both features.
// - "geometry": a LineString of at least two positions, a Point, or null; each position
//   checked as a Point's coordinates (2 or 3 finite numbers; lon/lat ranges when geographic).
//   Other geometry types are errors naming the type.
// - "times" is required: an array of integers, as many as the positions (1 for a Point, 0
//   for a null geometry), no time twice (Db::InsertTrajectory would keep only one of them);
//   any order: the samples come back in document order.
// - Metadata: at most one of the three keys, an array as long as "times" ("metadata": JSON
//   values stored as compact JSON text; "metadata_text", "metadata_base64": strings, "" for
//   no metadata). Other properties are errors naming them: they have no place in a sample.
//   Foreign members of the Feature ("truncated", "bbox") are ignored.
// - GeoJsonImportOptions apply as for Points, except default_timestamp (every vertex has its
//   time). Errors name the path and the value, e.g.
//     features[2].properties.times = [0,1000]: 2 times for 3 positions of the LineString
//     features[0].properties.times[1] = 1.5: expected an integer (milliseconds)
//
// Nothing here throws: every failure is a Status. Thread safety: plain functions of their
// arguments.
#ifndef LOCUS_DB_JSON_H_
#define LOCUS_DB_JSON_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "locus/db.h"
#include "locus/status.h"

namespace locus {

// ---- Metadata as JSON ----

// Sets object.metadata to `value` as compact JSON text (nlohmann's dump(): no spaces, object
// keys sorted, doubles in shortest round-trip form). A null value clears the metadata (empty
// bytes). InvalidArgument, naming the object id and the path inside the value, for what JSON
// text cannot hold: non-finite numbers, strings that are not valid UTF-8, binary values;
// object.metadata is then unchanged.
Status SetMetadataJson(Object& object, const nlohmann::json& value);

// Parses the metadata as JSON; empty metadata is null. InvalidArgument naming the object (or
// hit) id and the parse error's line, column and byte when the bytes are not JSON (or the
// path and byte of a number outside the double range, such as 1e400).
Result<nlohmann::json> MetadataJson(const Object& object);
Result<nlohmann::json> MetadataJson(const Hit& hit);

// ---- GeoJSON ----

// Metadata nested deeper than this (arrays/objects inside each other) is exported as
// "metadata_text" rather than embedded, so an exported file always fits the default
// GeoJsonImportOptions::max_depth.
inline constexpr size_t kGeoJsonMaxEmbeddedDepth = 32;

struct GeoJsonExportOptions {
  // Write [x, y, z] for every object, also when z is 0 (default: only when z is not +0).
  bool always_altitude = false;
  // Pretty-print with this many spaces per level; < 0 writes compact JSON on one line.
  int indent = -1;
};

// A FeatureCollection of the hits (with "distance") or objects, in order. InvalidArgument
// naming objects[i] / hits[i] for a non-finite coordinate or an id that is not valid UTF-8.
Result<std::string> ToGeoJson(const QueryResult& result, const GeoJsonExportOptions& options = {});
Result<std::string> ToGeoJson(std::span<const Object> objects,
                              const GeoJsonExportOptions& options = {});

struct GeoJsonImportOptions {
  // The namespace the objects are for: geographic targets check lon/lat ranges.
  CoordinateSystem coordinates = CoordinateSystem::kGeographic;
  // The timestamp of Point features without a "timestamp" property; unset: the property is
  // required. Not used by TrajectoriesFromGeoJson (every vertex has its "times" entry).
  std::optional<int64_t> default_timestamp;
  // Inputs larger than this are rejected before parsing.
  size_t max_input_bytes = size_t{256} << 20;
  // Deepest nesting of arrays and objects. In a FeatureCollection a Point's coordinates sit at
  // depth 5 and its "metadata" value inside the properties at 4 plus its own depth; a
  // trajectory's positions at 6 and each vertex's "metadata" value at 5 plus its own depth.
  size_t max_depth = 64;
  // Longest id in bytes (DbOptions::max_id_bytes).
  size_t max_id_bytes = 256;
};

// The Point features of a FeatureCollection or of a single Feature, in document order, ready
// for Batch::Upsert. The rules are above; every error is an InvalidArgument naming the path.
Result<std::vector<Object>> FromGeoJson(std::string_view text,
                                        const GeoJsonImportOptions& options = {});

// ---- Trajectories as GeoJSON ----

// One object's samples: what Db::Trajectory gives (with the id), and what
// TrajectoriesFromGeoJson reads, ready for Db::InsertTrajectory.
struct ObjectTrajectory {
  std::string id;
  std::vector<Sample> samples;
  friend bool operator==(const ObjectTrajectory&, const ObjectTrajectory&) = default;
};

// One Feature: the object's trajectory (the mapping is above). InvalidArgument naming
// samples[i].pos for a non-finite coordinate, or the id when it is not valid UTF-8.
Result<std::string> ToGeoJson(const TrajectoryResult& trajectory, std::string_view id,
                              const GeoJsonExportOptions& options = {});
// A FeatureCollection of the trajectories, in order; errors name trajectories[i].
Result<std::string> ToGeoJson(std::span<const ObjectTrajectory> trajectories,
                              const GeoJsonExportOptions& options = {});

// The trajectories of a FeatureCollection or of a single Feature (LineString, Point or null
// geometry, with "times"), in document order, each sample in its vertex's order. The rules are
// above; every error is an InvalidArgument naming the path.
Result<std::vector<ObjectTrajectory>> TrajectoriesFromGeoJson(
    std::string_view text, const GeoJsonImportOptions& options = {});

}  // namespace locus

#endif  // LOCUS_DB_JSON_H_
