// Helpers shared by the two rooms of locus::db_json (locus/db_json.h): db_json.cc (metadata,
// objects and query results) defines them; history_json.cc (trajectories) uses them too. They
// are what makes both speak the same dialect: the same error paths and value quoting, the same
// metadata mapping, the same coordinate checks, the same parsing limits. Internal: not
// installed, not part of the public API.
//
// Every function here may throw nlohmann's exceptions or std::bad_alloc where it builds or
// dumps JSON; the public entry points catch them (CaughtJsonError). Thread safety: plain
// functions of their arguments.
#ifndef LOCUS_API_DB_JSON_INTERNAL_H_
#define LOCUS_API_DB_JSON_INTERNAL_H_

#include <cstddef>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "locus/db_json.h"
#include "locus/status.h"

namespace locus::json_internal {

// Documents are read and built with object keys in document order (db_json.cc says why).
using OJson = nlohmann::ordered_json;

// ---- Text and paths ----

// Whether `s` is strict UTF-8 (RFC 3629): what JSON strings can hold.
bool Utf8Valid(std::string_view s);
// `s` as a JSON string for a message (invalid UTF-8 shown as U+FFFD), cut when long.
std::string Quote(std::string_view s);
// A value for a message: numbers as FormatNumber writes them, anything else as compact JSON,
// cut when long. REQUIRES: v's nesting was checked (ParseDocument does).
std::string Describe(const OJson& v);
// `path` extended by an array index ("features[3]"), an object member (".name", or
// ["odd name"] when not an identifier), or a member known to be an identifier.
std::string Index(std::string_view path, size_t i);
std::string Member(std::string_view path, std::string_view key);
std::string Join(const std::string& path, const char* member);
// The member `name` of object `obj`, or nullptr.
const OJson* Find(const OJson& obj, const char* name);

// ---- Metadata (db_json.h: "metadata", "metadata_text", "metadata_base64") ----

// The metadata as a JSON value when it goes under "metadata": its bytes are compact JSON text
// (dump() gives them back) nested at most kGeoJsonMaxEmbeddedDepth deep. nullopt otherwise
// (empty metadata included).
std::optional<OJson> EmbeddableMetadata(const std::string& bytes);
// RFC 4648 base64, standard alphabet, padded; Base64Decode accepts only that canonical form.
std::string Base64Encode(std::string_view in);
bool Base64Decode(std::string_view in, std::string* out);
// The metadata bytes of an imported "metadata" value: compact JSON text in document key
// order. InvalidArgument naming `path` (or the part inside it) for what JSON text cannot hold.
Result<std::string> JsonText(const OJson& v, std::string path);

// ---- Export ----

// InvalidArgument "<field>.id = ...: not valid UTF-8" ("id = ..." when `field` is empty) when
// the id cannot be a JSON string.
Status CheckExportableId(std::string_view id, const std::string& field);
// InvalidArgument "<field>.pos.x = nan: not finite ..." for a coordinate JSON cannot hold.
Status CheckExportablePosition(const Position& p, const std::string& field);
// [x, y] or [x, y, z].
OJson Coordinates(const Position& p, bool with_z);
// Whether a Point export writes z for this position (db_json.h: not +0, or always_altitude).
bool WantsAltitude(const Position& p, const GeoJsonExportOptions& options);
std::string Dump(const OJson& doc, const GeoJsonExportOptions& options);

// ---- Import ----

// Checks the size and nesting limits of `options`, then parses; InvalidArgument naming the
// limit, the syntax error's line, column and byte, or the path of a number outside the double
// range.
Result<OJson> ParseDocument(std::string_view text, const GeoJsonImportOptions& options);
// The features of a FeatureCollection, or the document itself when it is one Feature, with the
// path of each ("features[i]", or "" for a lone Feature). InvalidArgument for anything else.
struct FeatureRef {
  const OJson* feature;
  std::string path;
};
Result<std::vector<FeatureRef>> Features(const OJson& doc);
// Checks that `f` is an object with "type": "Feature".
Status CheckFeature(const OJson& f, const std::string& path);
// The feature's "id": a non-empty string or an integer (its decimal text), at most
// max_id_bytes.
Status ReadId(const OJson& f, const std::string& path, size_t max_id_bytes, std::string* id);
// One GeoJSON position at `path`: 2 or 3 finite numbers, lon/lat ranges for geographic targets.
Status ReadCoordinates(const OJson& c, const std::string& path, CoordinateSystem coordinates,
                       Position* pos);
// An integer (milliseconds) within int64.
Status ReadInteger(const OJson& v, const std::string& path, int64_t* out);

// A JSON library error that escaped a check: Internal, naming the entry point.
Status CaughtJsonError(const char* where, const std::exception& e);

}  // namespace locus::json_internal

#endif  // LOCUS_API_DB_JSON_INTERNAL_H_
