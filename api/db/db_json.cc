// locus/db_json.h: metadata as JSON and GeoJSON import/export of objects and query results,
// over nlohmann::json; also the helpers that history_json.cc (trajectories) shares, declared in
// api/db/json_internal.h and defined at the end of this file.
//
// nlohmann reports errors by exceptions; they stay inside locus::db_json (every entry point
// catches them and returns a Status). Documents are read and built as nlohmann::ordered_json so
// that object keys keep their document order: imported "metadata" is stored in the order it was
// written, and exported features read "type", "id", "geometry", "properties".
//
// Recursion: nlohmann parses and destroys values without recursion, but dump() and the
// walks here recurse. Inputs are checked for nesting depth (a scan of the text) before
// anything recurses over them, and metadata is embedded in an export only up to
// kGeoJsonMaxEmbeddedDepth levels.
#include "locus/db_json.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <new>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "api/db/json_internal.h"
#include "locus/geometry.h"

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

constexpr size_t kMaxQuoted = 80;  // bytes of a string or value shown in a message

// ---- Text helpers ----

// The length of the strict UTF-8 (RFC 3629) sequence at p, or 0 when it is not one: no
// overlong forms, no surrogates, nothing past U+10FFFF. Exactly what nlohmann accepts when it
// parses and when it dumps with the strict error handler.
size_t Utf8Length(const unsigned char* p, const unsigned char* end) {
  const unsigned c = *p;
  if (c < 0x80) return 1;
  size_t n;
  unsigned lo = 0x80, hi = 0xBF;  // the range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    n = 1;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 2;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;  // no UTF-16 surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 3;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;  // nothing past U+10FFFF
  } else {
    return 0;
  }
  if (static_cast<size_t>(end - p) <= n) return 0;
  if (p[1] < lo || p[1] > hi) return 0;
  for (size_t i = 2; i <= n; ++i) {
    if (p[i] < 0x80 || p[i] > 0xBF) return 0;
  }
  return n + 1;
}

// `s` with every byte that is not part of valid UTF-8 replaced by U+FFFD, so that messages
// are always text (nlohmann's parse errors quote the input's bytes as they are).
std::string Utf8Sanitize(std::string s) {
  if (Utf8Valid(s)) return s;
  std::string out;
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    const size_t n = Utf8Length(p, end);
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      ++p;
    } else {
      out.append(reinterpret_cast<const char*>(p), n);
      p += n;
    }
  }
  return out;
}

// Cuts `s` to at most `max` bytes at a UTF-8 character boundary, marking the cut with "...".
std::string Truncate(std::string s, size_t max = kMaxQuoted) {
  if (s.size() <= max) return s;
  size_t cut = max;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  s.resize(cut);
  s += "...";
  return s;
}

// A value for a message: numbers as FormatNumber writes them ("95", "inf"), anything else
// as compact JSON, cut when long. Only called on values whose depth was checked.
template <typename J>
std::string DescribeJson(const J& v) {
  if (v.is_number_float()) return FormatNumber(v.template get<double>());
  if (v.is_string()) return Quote(v.template get_ref<const std::string&>());
  if (v.is_binary()) return "<binary>";
  if (v.is_discarded()) return "<discarded>";
  return Truncate(v.dump(-1, ' ', false, J::error_handler_t::replace));
}

// The deepest nesting of arrays and objects in JSON text (strings skipped). When it exceeds
// `max`, *at is the position of the bracket that went past it (1-based) and the scan stops.
size_t NestingDepth(std::string_view text, size_t max, size_t* at) {
  size_t depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > deepest) {
        deepest = depth;
        if (deepest > max) {
          if (at != nullptr) *at = i + 1;  // 1-based, as nlohmann counts
          return deepest;
        }
      }
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

bool IsIdentifier(std::string_view key) {
  if (key.empty()) return false;
  for (size_t i = 0; i < key.size(); ++i) {
    const char c = key[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

// ---- Base64 (RFC 4648, standard alphabet, padded) ----

constexpr char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// ---- JSON values that JSON text can hold ----

// Checks that `v` dumps to JSON text that parses back to it: finite numbers, valid UTF-8
// strings and keys, no binary or discarded values. `path` names `v`; on failure it names the
// offending part. Recursion depth is the value's depth (checked by the callers).
template <typename J>
Status CheckTextable(const J& v, std::string& path) {
  switch (v.type()) {
    case nlohmann::json::value_t::number_float: {
      const double d = v.template get<double>();
      if (!std::isfinite(d)) {
        return InvalidArgumentError(path + " = " + FormatNumber(d) +
                                    ": not finite (JSON has no NaN or infinity)");
      }
      return Status();
    }
    case nlohmann::json::value_t::string:
      if (!Utf8Valid(v.template get_ref<const std::string&>())) {
        return InvalidArgumentError(path + " = " + DescribeJson(v) + ": not valid UTF-8");
      }
      return Status();
    case nlohmann::json::value_t::binary:
      return InvalidArgumentError(path + ": a binary value has no JSON text");
    case nlohmann::json::value_t::discarded:
      return InvalidArgumentError(path + ": a discarded value has no JSON text");
    case nlohmann::json::value_t::array: {
      const size_t len = path.size();
      for (size_t i = 0; i < v.size(); ++i) {
        path = Index(path, i);
        LOCUS_RETURN_IF_ERROR(CheckTextable(v[i], path));
        path.resize(len);
      }
      return Status();
    }
    case nlohmann::json::value_t::object: {
      const size_t len = path.size();
      for (auto it = v.begin(); it != v.end(); ++it) {
        path = Member(path, it.key());
        if (!Utf8Valid(it.key())) return InvalidArgumentError(path + ": key is not valid UTF-8");
        LOCUS_RETURN_IF_ERROR(CheckTextable(it.value(), path));
        path.resize(len);
      }
      return Status();
    }
    default:
      return Status();
  }
}

// Builds a JSON value from nlohmann's SAX events (as its own DOM parser does) so that a
// failed parse can say where: the path of the value being read and the byte offset. A number
// too large for a double (1e400) is such a failure in nlohmann, reported without a position
// by its DOM parser; here it names the path: "features[0].geometry.coordinates[1] = 1e400".
template <typename J>
class DomBuilder {
 public:
  using number_integer_t = typename J::number_integer_t;
  using number_unsigned_t = typename J::number_unsigned_t;
  using number_float_t = typename J::number_float_t;
  using string_t = typename J::string_t;
  using binary_t = typename J::binary_t;

  bool null() { return Put(J(nullptr)); }
  bool boolean(bool v) { return Put(J(v)); }
  bool number_integer(number_integer_t v) { return Put(J(v)); }
  bool number_unsigned(number_unsigned_t v) { return Put(J(v)); }
  bool number_float(number_float_t v, const string_t&) { return Put(J(v)); }
  bool string(string_t& v) { return Put(J(std::move(v))); }
  bool binary(binary_t& v) { return Put(J::binary(std::move(v))); }
  bool start_object(size_t) { return Open(J::object()); }
  bool start_array(size_t) { return Open(J::array()); }
  bool key(string_t& k) {
    stack_.back().key = std::move(k);
    return true;
  }
  bool end_object() { return Close(); }
  bool end_array() { return Close(); }
  bool parse_error(size_t position, const std::string& last_token,
                   const nlohmann::json::exception& e) {
    std::string what = e.what();  // "[json.exception.parse_error.101] parse error at ..."
    if (const size_t close = what.find("] "); close != std::string::npos && what[0] == '[') {
      what.erase(0, close + 2);
    }
    if (e.id == 406) {  // out_of_range.406: number overflow
      error_ = Path() + " = " + Truncate(Utf8Sanitize(last_token)) +
               ": not finite (outside the double range; byte " + std::to_string(position) + ")";
    } else {
      error_ = Truncate(Utf8Sanitize(std::move(what)), 240) + " (byte " +
               std::to_string(position) + ")";
      syntax_ = true;
    }
    return false;
  }

  // After a failed parse: the message, and whether it is a syntax error (else it names a path).
  const std::string& error() const { return error_; }
  bool syntax() const { return syntax_; }
  J& root() { return root_; }
  // Names the root in paths ("metadata"; "" for a document, whose paths start at a member).
  void set_root_name(std::string name) { root_name_ = std::move(name); }

 private:
  struct Level {
    J* container;
    string_t key;  // objects: the member being read
  };

  J* Slot() {
    if (stack_.empty()) return &root_;
    Level& top = stack_.back();
    if (top.container->is_array()) {
      top.container->push_back(J());
      return &top.container->back();
    }
    return &(*top.container)[top.key];
  }
  bool Put(J&& v) {
    *Slot() = std::move(v);
    return true;
  }
  // The parents of the open container do not grow while it is open, so pointers stay valid.
  bool Open(J&& v) {
    J* slot = Slot();
    *slot = std::move(v);
    stack_.push_back({slot, {}});
    return true;
  }
  bool Close() {
    stack_.pop_back();
    return true;
  }
  // The path of the value being read: each open level's member name or next index.
  std::string Path() const {
    std::string path = root_name_;
    for (size_t i = 0; i < stack_.size(); ++i) {
      const Level& level = stack_[i];
      if (level.container->is_array()) {
        // Below the top, the open child is already the array's last element.
        const size_t n = level.container->size();
        path = Index(path, i + 1 < stack_.size() ? n - 1 : n);
      } else {
        path = Member(path, level.key);
      }
    }
    return path.empty() ? "input" : path;
  }

  J root_;
  std::vector<Level> stack_;
  std::string root_name_;
  std::string error_;
  bool syntax_ = false;
};

Result<nlohmann::json> ParseMetadata(const std::string& id, const std::string& metadata,
                                     const char* kind) {
  if (metadata.empty()) return nlohmann::json();
  try {
    DomBuilder<nlohmann::json> dom;
    dom.set_root_name("metadata");
    if (nlohmann::json::sax_parse(metadata, &dom)) return std::move(dom.root());
    return InvalidArgumentError(std::string(kind) + " " + Quote(id) + ": " +
                                (dom.syntax() ? "metadata is not JSON: " : "") + dom.error());
  } catch (const nlohmann::json::exception& e) {
    return CaughtJsonError("MetadataJson", e);
  } catch (const std::bad_alloc&) {
    return ResourceExhaustedError("MetadataJson: out of memory");
  }
}

// ---- Export ----

// Adds the metadata under one of the three keys (see db_json.h).
void PutMetadata(const std::string& bytes, OJson& props) {
  if (bytes.empty()) return;
  if (std::optional<OJson> v = EmbeddableMetadata(bytes)) {
    props["metadata"] = std::move(*v);
  } else if (Utf8Valid(bytes)) {
    props["metadata_text"] = bytes;
  } else {
    props["metadata_base64"] = Base64Encode(bytes);
  }
}

Status CheckExportable(const std::string& id, const Position& p, const std::string& field) {
  LOCUS_RETURN_IF_ERROR(CheckExportableId(id, field));
  return CheckExportablePosition(p, field);
}

OJson Feature(const std::string& id, const Position& p, const GeoJsonExportOptions& options) {
  OJson f = OJson::object();
  f["type"] = "Feature";
  f["id"] = id;
  f["geometry"] =
      OJson{{"type", "Point"}, {"coordinates", Coordinates(p, WantsAltitude(p, options))}};
  return f;
}

// ---- Import ----

struct Importer {
  const GeoJsonImportOptions& options;

  Status ReadPosition(const OJson& f, const std::string& path, Position* pos) const {
    const std::string gpath = Join(path, "geometry");
    const OJson* g = Find(f, "geometry");
    if (g == nullptr) return InvalidArgumentError(gpath + ": missing");
    if (g->is_null()) {
      return InvalidArgumentError(gpath + " = null: an object needs a Point position");
    }
    if (!g->is_object()) {
      return InvalidArgumentError(gpath + " = " + Describe(*g) + ": expected a geometry object");
    }
    const OJson* type = Find(*g, "type");
    if (type == nullptr) return InvalidArgumentError(gpath + ".type: missing");
    if (!type->is_string() || *type != "Point") {
      return InvalidArgumentError(gpath + ".type = " + Describe(*type) +
                                  ": only Point geometries can be imported");
    }
    const std::string cpath = gpath + ".coordinates";
    const OJson* c = Find(*g, "coordinates");
    if (c == nullptr) return InvalidArgumentError(cpath + ": missing");
    return ReadCoordinates(*c, cpath, options.coordinates, pos);
  }

  Status ReadProperties(const OJson& f, const std::string& path, Object* o) const {
    const std::string ppath = Join(path, "properties");
    const OJson* props = Find(f, "properties");
    const OJson empty = OJson::object();
    if (props == nullptr || props->is_null()) {
      props = &empty;
    } else if (!props->is_object()) {
      return InvalidArgumentError(ppath + " = " + Describe(*props) +
                                  ": expected an object or null");
    }
    if (const OJson* t = Find(*props, "timestamp")) {
      LOCUS_RETURN_IF_ERROR(ReadInteger(*t, ppath + ".timestamp", &o->timestamp));
    } else if (options.default_timestamp) {
      o->timestamp = *options.default_timestamp;
    } else {
      return InvalidArgumentError(ppath +
                                  ".timestamp: missing (and no default_timestamp was given)");
    }
    int64_t value;
    if (const OJson* e = Find(*props, "expires_at")) {
      LOCUS_RETURN_IF_ERROR(ReadInteger(*e, ppath + ".expires_at", &value));
      o->expires_at = value;
    }
    if (const OJson* e = Find(*props, "ttl_ms")) {
      LOCUS_RETURN_IF_ERROR(ReadInteger(*e, ppath + ".ttl_ms", &value));
      o->ttl_ms = value;
    }

    static constexpr const char* kMetadataKeys[] = {"metadata", "metadata_text",
                                                    "metadata_base64"};
    const char* meta_key = nullptr;
    for (const char* key : kMetadataKeys) {
      if (Find(*props, key) == nullptr) continue;
      if (meta_key != nullptr) {
        return InvalidArgumentError(ppath + ": both \"" + meta_key + "\" and \"" + key +
                                    "\"; at most one metadata key");
      }
      meta_key = key;
    }
    OJson rest = OJson::object();
    for (auto it = props->begin(); it != props->end(); ++it) {
      const std::string& k = it.key();
      if (k == "timestamp" || k == "expires_at" || k == "ttl_ms" || k == "distance" ||
          k == "metadata" || k == "metadata_text" || k == "metadata_base64") {
        continue;
      }
      if (meta_key != nullptr) {
        return InvalidArgumentError(Member(ppath, k) + ": beside \"" + meta_key +
                                    "\" it would be lost; put it inside the metadata");
      }
      rest[k] = it.value();
    }
    if (meta_key == nullptr) {
      if (!rest.empty()) {
        LOCUS_ASSIGN_OR_RETURN(o->metadata, JsonText(rest, ppath));
      }
      return Status();
    }
    const OJson& m = *Find(*props, meta_key);
    const std::string mpath = ppath + "." + meta_key;
    if (std::strcmp(meta_key, "metadata") == 0) {
      LOCUS_ASSIGN_OR_RETURN(o->metadata, JsonText(m, mpath));
      return Status();
    }
    if (!m.is_string()) {
      return InvalidArgumentError(mpath + " = " + Describe(m) + ": expected a string");
    }
    if (std::strcmp(meta_key, "metadata_text") == 0) {
      o->metadata = m.get<std::string>();
      return Status();
    }
    if (!Base64Decode(m.get_ref<const std::string&>(), &o->metadata)) {
      return InvalidArgumentError(mpath + " = " + Describe(m) +
                                  ": not canonical base64 (RFC 4648, padded)");
    }
    return Status();
  }

  Status ReadFeature(const OJson& f, const std::string& path, Object* o) const {
    LOCUS_RETURN_IF_ERROR(CheckFeature(f, path));
    LOCUS_RETURN_IF_ERROR(ReadId(f, path, options.max_id_bytes, &o->id));
    LOCUS_RETURN_IF_ERROR(ReadPosition(f, path, &o->pos));
    return ReadProperties(f, path, o);
  }

  Result<std::vector<Object>> Run(std::string_view text) const {
    LOCUS_ASSIGN_OR_RETURN(const OJson doc, ParseDocument(text, options));
    LOCUS_ASSIGN_OR_RETURN(const std::vector<FeatureRef> features, Features(doc));
    std::vector<Object> objects(features.size());  // never reallocated: `seen` points into the ids
    std::unordered_map<std::string_view, size_t> seen;
    seen.reserve(features.size());
    for (size_t i = 0; i < features.size(); ++i) {
      const std::string& path = features[i].path;
      LOCUS_RETURN_IF_ERROR(ReadFeature(*features[i].feature, path, &objects[i]));
      const auto [it, fresh] = seen.emplace(objects[i].id, i);
      if (!fresh) {
        return InvalidArgumentError(path + ".id = " + Quote(objects[i].id) + ": duplicate of " +
                                    features[it->second].path + ".id");
      }
    }
    return objects;
  }
};

}  // namespace

// ---- Public entry points ----

Status SetMetadataJson(Object& object, const nlohmann::json& value) {
  try {
    if (value.is_null()) {
      object.metadata.clear();
      return Status();
    }
    std::string path = "metadata";
    Status s = CheckTextable(value, path);
    if (!s.ok()) return InvalidArgumentError("object " + Quote(object.id) + ": " +
                                             std::string(s.message()));
    object.metadata = value.dump();
    return Status();
  } catch (const nlohmann::json::exception& e) {
    return CaughtJsonError("SetMetadataJson", e);
  } catch (const std::bad_alloc&) {
    return ResourceExhaustedError("SetMetadataJson: out of memory");
  }
}

Result<nlohmann::json> MetadataJson(const Object& object) {
  return ParseMetadata(object.id, object.metadata, "object");
}

Result<nlohmann::json> MetadataJson(const Hit& hit) {
  return ParseMetadata(hit.id, hit.metadata, "hit");
}

namespace {
// A FeatureCollection of `n` features, feature(i, props) checking item i, filling its
// properties and returning its Feature; JSON library errors become Status.
template <class FeatureFn>
Result<std::string> Collection(size_t n, bool truncated, const GeoJsonExportOptions& options,
                               FeatureFn&& feature) {
  try {
    OJson features = OJson::array();
    for (size_t i = 0; i < n; ++i) {
      OJson props = OJson::object();
      LOCUS_ASSIGN_OR_RETURN(OJson f, feature(i, props));
      f["properties"] = std::move(props);
      features.push_back(std::move(f));
    }
    OJson doc = OJson::object();
    doc["type"] = "FeatureCollection";
    doc["features"] = std::move(features);
    if (truncated) doc["truncated"] = true;
    return Dump(doc, options);
  } catch (const nlohmann::json::exception& e) {
    return CaughtJsonError("ToGeoJson", e);
  } catch (const std::bad_alloc&) {
    return ResourceExhaustedError("ToGeoJson: out of memory");
  }
}
}  // namespace

Result<std::string> ToGeoJson(const QueryResult& result, const GeoJsonExportOptions& options) {
  return Collection(result.hits.size(), result.truncated, options,
                    [&](size_t i, OJson& props) -> Result<OJson> {
                      const Hit& h = result.hits[i];
                      const std::string field = Index("hits", i);
                      LOCUS_RETURN_IF_ERROR(CheckExportable(h.id, h.pos, field));
                      if (!std::isfinite(h.distance)) {
                        return InvalidArgumentError(field + ".distance = " +
                                                    FormatNumber(h.distance) + ": not finite");
                      }
                      props["timestamp"] = h.timestamp;
                      props["distance"] = h.distance;
                      PutMetadata(h.metadata, props);
                      return Feature(h.id, h.pos, options);
                    });
}

Result<std::string> ToGeoJson(std::span<const Object> objects,
                              const GeoJsonExportOptions& options) {
  return Collection(objects.size(), /*truncated=*/false, options,
                    [&](size_t i, OJson& props) -> Result<OJson> {
                      const Object& o = objects[i];
                      LOCUS_RETURN_IF_ERROR(CheckExportable(o.id, o.pos, Index("objects", i)));
                      props["timestamp"] = o.timestamp;
                      if (o.expires_at) props["expires_at"] = *o.expires_at;
                      if (o.ttl_ms) props["ttl_ms"] = *o.ttl_ms;
                      PutMetadata(o.metadata, props);
                      return Feature(o.id, o.pos, options);
                    });
}

Result<std::vector<Object>> FromGeoJson(std::string_view text,
                                        const GeoJsonImportOptions& options) {
  try {
    return Importer{options}.Run(text);
  } catch (const nlohmann::json::exception& e) {
    return CaughtJsonError("FromGeoJson", e);
  } catch (const std::bad_alloc&) {
    return ResourceExhaustedError("FromGeoJson: out of memory");
  }
}

// ---- Helpers shared with history_json.cc (api/db/json_internal.h) ----

namespace json_internal {

bool Utf8Valid(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    const size_t n = Utf8Length(p, end);
    if (n == 0) return false;
    p += n;
  }
  return true;
}

// `s` as a JSON string for a message (invalid UTF-8 shown as U+FFFD), cut when long.
std::string Quote(std::string_view s) {
  std::string head(s.substr(0, kMaxQuoted));
  std::string q = nlohmann::json(head).dump(-1, ' ', false,
                                            nlohmann::json::error_handler_t::replace);
  if (s.size() > kMaxQuoted) q += "...";
  return q;
}

// `path` extended by an object member: ".name", or ["odd name"] when not an identifier.
std::string Member(std::string_view path, std::string_view key) {
  std::string out(path);
  if (IsIdentifier(key)) {
    if (!out.empty()) out += '.';
    out += key;
  } else {
    out += '[';
    out += Quote(key);
    out += ']';
  }
  return out;
}

std::string Index(std::string_view path, size_t i) {
  return std::string(path) + "[" + std::to_string(i) + "]";
}

std::string Base64Encode(std::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    const uint32_t v = uint32_t{static_cast<unsigned char>(in[i])} << 16 |
                       uint32_t{static_cast<unsigned char>(in[i + 1])} << 8 |
                       static_cast<unsigned char>(in[i + 2]);
    out += kBase64[v >> 18];
    out += kBase64[(v >> 12) & 63];
    out += kBase64[(v >> 6) & 63];
    out += kBase64[v & 63];
  }
  if (i < in.size()) {
    uint32_t v = uint32_t{static_cast<unsigned char>(in[i])} << 16;
    if (i + 1 < in.size()) v |= uint32_t{static_cast<unsigned char>(in[i + 1])} << 8;
    out += kBase64[v >> 18];
    out += kBase64[(v >> 12) & 63];
    out += i + 1 < in.size() ? kBase64[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

// Decodes canonical padded base64 (what Base64Encode writes); false on anything else.
bool Base64Decode(std::string_view in, std::string* out) {
  if (in.size() % 4 != 0) return false;
  out->clear();
  out->reserve(in.size() / 4 * 3);
  for (size_t i = 0; i < in.size(); i += 4) {
    const bool last = i + 4 == in.size();
    const size_t pad = last ? (in[i + 3] == '=') + (in[i + 2] == '=' && in[i + 3] == '=') : 0;
    int v[4];
    for (size_t k = 0; k < 4 - pad; ++k) {
      v[k] = Base64Value(in[i + k]);
      if (v[k] < 0) return false;
    }
    for (size_t k = 4 - pad; k < 4; ++k) v[k] = 0;
    const uint32_t bits = uint32_t(v[0]) << 18 | uint32_t(v[1]) << 12 | uint32_t(v[2]) << 6 |
                          uint32_t(v[3]);
    out->push_back(static_cast<char>(bits >> 16));
    if (pad < 2) out->push_back(static_cast<char>((bits >> 8) & 0xFF));
    if (pad < 1) out->push_back(static_cast<char>(bits & 0xFF));
    // Canonical: the bits below the last full byte are zero.
    if ((pad == 1 && (bits & 0xFF) != 0) || (pad == 2 && (bits & 0xFFFF) != 0)) return false;
  }
  return true;
}

Status CaughtJsonError(const char* where, const std::exception& e) {
  return InternalError(std::string(where) + ": unexpected JSON library error: " + e.what());
}

std::string Describe(const OJson& v) { return DescribeJson(v); }

std::string Join(const std::string& path, const char* member) {
  return path.empty() ? std::string(member) : path + "." + member;
}

const OJson* Find(const OJson& obj, const char* name) {
  auto it = obj.find(name);
  return it == obj.end() ? nullptr : &*it;
}

std::optional<OJson> EmbeddableMetadata(const std::string& bytes) {
  if (bytes.empty() ||
      NestingDepth(bytes, kGeoJsonMaxEmbeddedDepth, nullptr) > kGeoJsonMaxEmbeddedDepth) {
    return std::nullopt;
  }
  // Not JSON (a number too large for a double included): discarded. Parsed strings are valid
  // UTF-8, so dump() does not throw.
  OJson v = OJson::parse(bytes, nullptr, /*allow_exceptions=*/false);
  if (v.is_discarded() || v.dump() != bytes) return std::nullopt;
  return v;
}

Result<std::string> JsonText(const OJson& v, std::string path) {
  LOCUS_RETURN_IF_ERROR(CheckTextable(v, path));
  return v.dump();
}

Status CheckExportableId(std::string_view id, const std::string& field) {
  if (!Utf8Valid(id)) {
    return InvalidArgumentError(Join(field, "id") + " = " + Quote(id) +
                                ": not valid UTF-8 (GeoJSON ids are JSON strings)");
  }
  return Status();
}

Status CheckExportablePosition(const Position& p, const std::string& field) {
  const double v[3] = {p.x, p.y, p.z};
  const char* axis[3] = {"x", "y", "z"};
  for (int a = 0; a < 3; ++a) {
    if (!std::isfinite(v[a])) {
      return InvalidArgumentError(field + ".pos." + axis[a] + " = " + FormatNumber(v[a]) +
                                  ": not finite (JSON has no NaN or infinity)");
    }
  }
  return Status();
}

OJson Coordinates(const Position& p, bool with_z) {
  OJson coords = OJson::array({p.x, p.y});
  if (with_z) coords.push_back(p.z);
  return coords;
}

bool WantsAltitude(const Position& p, const GeoJsonExportOptions& options) {
  return options.always_altitude || p.z != 0 || std::signbit(p.z);
}

std::string Dump(const OJson& doc, const GeoJsonExportOptions& options) {
  return doc.dump(options.indent < 0 ? -1 : options.indent);
}

Result<OJson> ParseDocument(std::string_view text, const GeoJsonImportOptions& options) {
  if (text.size() > options.max_input_bytes) {
    return InvalidArgumentError("input: " + std::to_string(text.size()) + " bytes, at most " +
                                std::to_string(options.max_input_bytes) +
                                " (GeoJsonImportOptions::max_input_bytes)");
  }
  size_t at = 0;
  if (NestingDepth(text, options.max_depth, &at) > options.max_depth) {
    return InvalidArgumentError("input: nested deeper than " + std::to_string(options.max_depth) +
                                " at byte " + std::to_string(at) +
                                " (GeoJsonImportOptions::max_depth)");
  }
  DomBuilder<OJson> dom;
  if (!OJson::sax_parse(text, &dom)) {
    return InvalidArgumentError((dom.syntax() ? "input: not JSON: " : "") + dom.error());
  }
  return std::move(dom.root());
}

Result<std::vector<FeatureRef>> Features(const OJson& doc) {
  if (!doc.is_object()) {
    return InvalidArgumentError("input = " + Describe(doc) +
                                ": expected a GeoJSON FeatureCollection or Feature");
  }
  const OJson* type = Find(doc, "type");
  if (type == nullptr) return InvalidArgumentError("type: missing");
  std::vector<FeatureRef> out;
  if (*type == "Feature") {
    out.push_back({&doc, ""});
    return out;
  }
  if (*type != "FeatureCollection") {
    return InvalidArgumentError("type = " + Describe(*type) +
                                ": expected \"FeatureCollection\" or \"Feature\"");
  }
  const OJson* features = Find(doc, "features");
  if (features == nullptr) return InvalidArgumentError("features: missing");
  if (!features->is_array()) {
    return InvalidArgumentError("features = " + Describe(*features) + ": expected an array");
  }
  out.reserve(features->size());
  for (size_t i = 0; i < features->size(); ++i) {
    out.push_back({&(*features)[i], Index("features", i)});
  }
  return out;
}

Status CheckFeature(const OJson& f, const std::string& path) {
  if (!f.is_object()) {
    return InvalidArgumentError((path.empty() ? std::string("input") : path) + " = " +
                                Describe(f) + ": expected a Feature object");
  }
  const OJson* type = Find(f, "type");
  if (type == nullptr) return InvalidArgumentError(Join(path, "type") + ": missing");
  if (!type->is_string() || *type != "Feature") {
    return InvalidArgumentError(Join(path, "type") + " = " + Describe(*type) +
                                ": expected \"Feature\"");
  }
  return Status();
}

Status ReadId(const OJson& f, const std::string& path, size_t max_id_bytes, std::string* id) {
  const OJson* v = Find(f, "id");
  const std::string field = Join(path, "id");
  if (v == nullptr) return InvalidArgumentError(field + ": missing (every object needs an id)");
  if (v->is_string()) {
    *id = v->get<std::string>();
  } else if (v->is_number_unsigned()) {
    *id = std::to_string(v->get<uint64_t>());
  } else if (v->is_number_integer()) {
    *id = std::to_string(v->get<int64_t>());
  } else {
    return InvalidArgumentError(field + " = " + Describe(*v) +
                                ": expected a string or an integer");
  }
  if (id->empty()) return InvalidArgumentError(field + " = \"\": empty");
  if (id->size() > max_id_bytes) {
    return InvalidArgumentError(field + " = " + Quote(*id) + ": " + std::to_string(id->size()) +
                                " bytes, at most " + std::to_string(max_id_bytes));
  }
  return Status();
}

Status ReadCoordinates(const OJson& c, const std::string& path, CoordinateSystem coordinates,
                       Position* pos) {
  if (!c.is_array() || c.size() < 2 || c.size() > 3) {
    return InvalidArgumentError(path + " = " + Describe(c) +
                                ": expected 2 or 3 numbers ([lon, lat] or [lon, lat, alt])");
  }
  double v[3] = {0, 0, 0};
  for (size_t i = 0; i < c.size(); ++i) {
    const OJson& e = c[i];
    if (!e.is_number()) {
      return InvalidArgumentError(Index(path, i) + " = " + Describe(e) + ": expected a number");
    }
    v[i] = e.get<double>();
    if (!std::isfinite(v[i])) {
      return InvalidArgumentError(Index(path, i) + " = " + FormatNumber(v[i]) + ": not finite");
    }
  }
  if (coordinates == CoordinateSystem::kGeographic) {
    LOCUS_RETURN_IF_ERROR(ValidateLongitude(v[0], Index(path, 0)));
    LOCUS_RETURN_IF_ERROR(ValidateLatitude(v[1], Index(path, 1)));
  }
  *pos = Position{v[0], v[1], v[2]};
  return Status();
}

// Reads an integer property (milliseconds) into *out.
Status ReadInteger(const OJson& v, const std::string& path, int64_t* out) {
  if (v.is_number_integer() && !v.is_number_unsigned()) {
    *out = v.get<int64_t>();
    return Status();
  }
  if (v.is_number_unsigned()) {
    const uint64_t u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return InvalidArgumentError(path + " = " + std::to_string(u) + ": outside int64");
    }
    *out = static_cast<int64_t>(u);
    return Status();
  }
  return InvalidArgumentError(path + " = " + Describe(v) + ": expected an integer (milliseconds)");
}

}  // namespace json_internal

}  // namespace locus
