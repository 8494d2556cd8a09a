// Tests locus/db_json.h: the metadata JSON helpers (valid values, values JSON text cannot
// hold, bad metadata named with the id and the parse position); GeoJSON export against exact
// expected text for small cases; export -> import round trips on seeded random objects (ids
// with Unicode and escapes, antimeridian and poles, negative altitudes, -0, subnormals, every
// kind of metadata), bit for bit; every bad input named with its JSON path; prefixes and
// byte mutations of a valid document never crash; and an end-to-end run through a real
// locus::Db (import, Apply, query, export, compare).
#include "locus/db_json.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "tests/api/geojson_test_data.h"
#include "tests/testing/harness.h"

#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace locus {
namespace {

using ::locus::geojson_testing::RandomId;
using ::locus::geojson_testing::RandomMetadata;
using ::locus::geojson_testing::RandomPosition;
using ::locus::geojson_testing::SameBits;
using ::locus::testing::SeedTrace;
using ::locus::testing::TestSeed;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using json = nlohmann::json;

::testing::AssertionResult SameObject(const Object& a, const Object& b) {
  auto fail = [&](const char* what) {
    return ::testing::AssertionFailure() << "objects differ in " << what << " (id \"" << a.id
                                         << "\" vs \"" << b.id << "\")";
  };
  if (a.id != b.id) return fail("id");
  if (!SameBits(a.pos.x, b.pos.x) || !SameBits(a.pos.y, b.pos.y) || !SameBits(a.pos.z, b.pos.z)) {
    return fail("pos") << ": (" << a.pos.x << ", " << a.pos.y << ", " << a.pos.z << ") vs ("
                       << b.pos.x << ", " << b.pos.y << ", " << b.pos.z << ")";
  }
  if (a.timestamp != b.timestamp) return fail("timestamp");
  if (a.metadata != b.metadata) return fail("metadata") << ": '" << a.metadata << "' vs '"
                                                        << b.metadata << "'";
  if (a.expires_at != b.expires_at) return fail("expires_at");
  if (a.ttl_ms != b.ttl_ms) return fail("ttl_ms");
  return ::testing::AssertionSuccess();
}

void ExpectSameObjects(const std::vector<Object>& a, const std::vector<Object>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(SameObject(a[i], b[i])) << "object " << i;
}

// ---- Metadata helpers ----

TEST(MetadataJsonTest, SetWritesCompactJsonAndReadsItBack) {
  Object o{.id = "truck-7"};
  const json value = {{"load_kg", 1200}, {"driver", "Ana"}, {"tags", {1, 2.5, "x", nullptr}}};
  ASSERT_TRUE(SetMetadataJson(o, value).ok());
  EXPECT_EQ(o.metadata, R"({"driver":"Ana","load_kg":1200,"tags":[1,2.5,"x",null]})");
  auto back = MetadataJson(o);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, value);

  const Hit hit{.id = "h", .metadata = o.metadata};
  auto from_hit = MetadataJson(hit);
  ASSERT_TRUE(from_hit.ok());
  EXPECT_EQ(*from_hit, value);
}

TEST(MetadataJsonTest, ScalarsAndNull) {
  Object o{.id = "a", .metadata = "old"};
  ASSERT_TRUE(SetMetadataJson(o, "text \"q\"").ok());
  EXPECT_EQ(o.metadata, R"("text \"q\"")");
  ASSERT_TRUE(SetMetadataJson(o, 0.1).ok());
  EXPECT_EQ(o.metadata, "0.1");
  ASSERT_TRUE(SetMetadataJson(o, nullptr).ok());  // null clears
  EXPECT_EQ(o.metadata, "");
  auto empty = MetadataJson(o);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->is_null());
  o.metadata = "null";
  EXPECT_TRUE(MetadataJson(o)->is_null());
}

TEST(MetadataJsonTest, RejectsWhatJsonTextCannotHoldNamingThePath) {
  Object o{.id = "truck-7", .metadata = "kept"};
  Status s = SetMetadataJson(o, {{"a", {1, std::nan("")}}});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            R"(object "truck-7": metadata.a[1] = nan: not finite (JSON has no NaN or infinity))");
  EXPECT_EQ(o.metadata, "kept");

  s = SetMetadataJson(o, {{"odd key", -INFINITY}});
  EXPECT_EQ(s.message(), R"(object "truck-7": metadata["odd key"] = -inf: not finite )"
                         R"((JSON has no NaN or infinity))");

  s = SetMetadataJson(o, {{"name", std::string("ab\xff")}});
  EXPECT_EQ(s.message(), "object \"truck-7\": metadata.name = \"ab\xEF\xBF\xBD\": not valid UTF-8");

  json bad_key = json::object();
  bad_key[std::string("k\xc3")] = 1;
  s = SetMetadataJson(o, bad_key);
  EXPECT_EQ(s.message(),
            "object \"truck-7\": metadata[\"k\xEF\xBF\xBD\"]: key is not valid UTF-8");

  s = SetMetadataJson(o, json::binary({1, 2, 3}));
  EXPECT_EQ(s.message(), R"(object "truck-7": metadata: a binary value has no JSON text)");
  EXPECT_EQ(o.metadata, "kept");
}

TEST(MetadataJsonTest, BadMetadataNamesTheIdAndThePosition) {
  const Object o{.id = "truck-7", .metadata = "{\"a\":1,\n \"b\": tru}"};
  auto r = MetadataJson(o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            "object \"truck-7\": metadata is not JSON: parse error at line 2, column 10: syntax "
            "error while parsing value - invalid literal; last read: '\"b\": tru}' (byte 18)");

  const Object big{.id = "x", .metadata = R"({"a":[1,1e400]})"};
  EXPECT_EQ(MetadataJson(big).status().message(),
            R"(object "x": metadata.a[1] = 1e400: not finite (outside the double range; byte 13))");

  const Hit h{.id = "h\"1", .metadata = "\xff"};
  auto rh = MetadataJson(h);
  ASSERT_FALSE(rh.ok());
  EXPECT_EQ(rh.status().message(),
            "hit \"h\\\"1\": metadata is not JSON: parse error at line 1, column 1: syntax error "
            "while parsing value - invalid literal; last read: '\xEF\xBF\xBD' (byte 1)");
}

// ---- GeoJSON export: exact text ----

TEST(GeoJsonExportTest, ExactTextForSmallCases) {
  std::vector<Object> objects = {
      {.id = "truck-7",
       .pos = {2.35, 48.85},
       .timestamp = 1700000000000,
       .metadata = R"({"driver":"Ana","load_kg":1200})"},
      {.id = "drone \"1\"",
       .pos = {-180, -90, -12.5},
       .timestamp = -5,
       .metadata = "hello",
       .expires_at = 1700000060000},
      {.id = "b", .pos = {0.1, 0}, .timestamp = 0, .metadata = std::string("\xff\0a", 3),
       .ttl_ms = 60000},
      {.id = "c", .pos = {1, 2}, .timestamp = 1, .metadata = R"({"b": 1})"},  // not compact
      {.id = "d", .pos = {1, 2}, .timestamp = 1, .metadata = R"({"b":1,"a":[]})"},  // key order
  };
  auto text = ToGeoJson(objects);
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  EXPECT_EQ(*text,
            R"({"type":"FeatureCollection","features":[)"
            R"({"type":"Feature","id":"truck-7","geometry":{"type":"Point","coordinates":[2.35,48.85]},)"
            R"("properties":{"timestamp":1700000000000,"metadata":{"driver":"Ana","load_kg":1200}}},)"
            R"({"type":"Feature","id":"drone \"1\"","geometry":{"type":"Point","coordinates":[-180.0,-90.0,-12.5]},)"
            R"("properties":{"timestamp":-5,"expires_at":1700000060000,"metadata_text":"hello"}},)"
            R"({"type":"Feature","id":"b","geometry":{"type":"Point","coordinates":[0.1,0.0]},)"
            R"("properties":{"timestamp":0,"ttl_ms":60000,"metadata_base64":"/wBh"}},)"
            R"({"type":"Feature","id":"c","geometry":{"type":"Point","coordinates":[1.0,2.0]},)"
            R"("properties":{"timestamp":1,"metadata_text":"{\"b\": 1}"}},)"
            R"({"type":"Feature","id":"d","geometry":{"type":"Point","coordinates":[1.0,2.0]},)"
            R"("properties":{"timestamp":1,"metadata":{"b":1,"a":[]}}}]})");
}

TEST(GeoJsonExportTest, QueryResultCarriesDistanceAndTruncation) {
  QueryResult r;
  r.hits.push_back({.id = "x", .pos = {1, 2}, .timestamp = 3, .distance = 1234.5});
  r.hits.push_back({.id = "y", .pos = {1, 2, 7}, .timestamp = 4, .distance = 0.1,
                    .metadata = "[1]"});
  r.truncated = true;
  auto text = ToGeoJson(r);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text,
            R"({"type":"FeatureCollection","features":[)"
            R"({"type":"Feature","id":"x","geometry":{"type":"Point","coordinates":[1.0,2.0]},)"
            R"("properties":{"timestamp":3,"distance":1234.5}},)"
            R"({"type":"Feature","id":"y","geometry":{"type":"Point","coordinates":[1.0,2.0,7.0]},)"
            R"("properties":{"timestamp":4,"distance":0.1,"metadata":[1]}}],"truncated":true})");
  r.truncated = false;
  r.hits.clear();
  EXPECT_EQ(*ToGeoJson(r), R"({"type":"FeatureCollection","features":[]})");
}

TEST(GeoJsonExportTest, AltitudeRule) {
  std::vector<Object> objects = {{.id = "a", .pos = {1, 2, 0}, .timestamp = 1},
                                 {.id = "b", .pos = {1, 2, -0.0}, .timestamp = 1}};
  auto text = ToGeoJson(objects);
  ASSERT_TRUE(text.ok());
  EXPECT_THAT(*text, HasSubstr(R"("id":"a","geometry":{"type":"Point","coordinates":[1.0,2.0]})"));
  EXPECT_THAT(*text,
              HasSubstr(R"("id":"b","geometry":{"type":"Point","coordinates":[1.0,2.0,-0.0]})"));
  auto always = ToGeoJson(objects, {.always_altitude = true});
  ASSERT_TRUE(always.ok());
  EXPECT_THAT(*always, HasSubstr(R"("id":"a","geometry":{"type":"Point","coordinates":[1.0,2.0,0.0]})"));
  for (const std::string* t : {&*text, &*always}) {
    auto back = FromGeoJson(*t);
    ASSERT_TRUE(back.ok());
    ExpectSameObjects(*back, objects);
  }
}

TEST(GeoJsonExportTest, PrettyPrintedReadsBackTheSame) {
  std::vector<Object> objects = {{.id = "a", .pos = {1, 2}, .timestamp = 1, .metadata = "{}"}};
  auto pretty = ToGeoJson(objects, {.indent = 2});
  ASSERT_TRUE(pretty.ok());
  EXPECT_THAT(*pretty, HasSubstr("\n  \"features\": [\n"));
  EXPECT_EQ(json::parse(*pretty), json::parse(*ToGeoJson(objects)));
}

TEST(GeoJsonExportTest, RejectsWhatGeoJsonCannotHold) {
  std::vector<Object> objects = {{.id = "ok", .pos = {1, 2}},
                                 {.id = "bad", .pos = {1, std::nan("")}}};
  auto r = ToGeoJson(objects);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            "objects[1].pos.y = nan: not finite (JSON has no NaN or infinity)");
  objects[1] = {.id = "id\xc3(", .pos = {1, 2}};
  EXPECT_EQ(ToGeoJson(objects).status().message(),
            "objects[1].id = \"id\xEF\xBF\xBD(\": not valid UTF-8 (GeoJSON ids are JSON strings)");
  QueryResult q;
  q.hits.push_back({.id = "h", .distance = INFINITY});
  EXPECT_EQ(ToGeoJson(q).status().message(), "hits[0].distance = inf: not finite");
}

// ---- Round trips on random objects ----

std::vector<Object> RandomObjects(std::mt19937_64& rng, CoordinateSystem cs, size_t n) {
  std::vector<Object> objects;
  std::set<std::string> ids;
  while (objects.size() < n) {
    Object o;
    o.id = RandomId(rng);
    if (!ids.insert(o.id).second) continue;
    o.pos = RandomPosition(rng, cs);
    o.timestamp = static_cast<int64_t>(rng()) >> (rng() % 64);
    o.metadata = RandomMetadata(rng, o.id);
    switch (rng() % 4) {
      case 0: o.expires_at = static_cast<int64_t>(rng()); break;
      case 1: o.ttl_ms = 1 + static_cast<int64_t>(rng() % 1000000); break;
      default: break;
    }
    objects.push_back(std::move(o));
  }
  return objects;
}

void RoundTrip(CoordinateSystem cs, uint64_t seed) {
  SCOPED_TRACE(std::string(CoordinateSystemName(cs)) + ", " + SeedTrace(seed));
  std::mt19937_64 rng(seed);
  const std::vector<Object> objects = RandomObjects(rng, cs, 3000);
  GeoJsonImportOptions in{.coordinates = cs};
  for (GeoJsonExportOptions out : {GeoJsonExportOptions{}, GeoJsonExportOptions{true, 1}}) {
    auto text = ToGeoJson(objects, out);
    ASSERT_TRUE(text.ok()) << text.status().ToString();
    auto back = FromGeoJson(*text, in);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    ExpectSameObjects(*back, objects);
    // And once more: the second export is the same text.
    EXPECT_EQ(*ToGeoJson(*back, out), *text);
  }
  // Every kind of metadata occurred.
  std::set<std::string> kinds;
  const json doc = json::parse(*ToGeoJson(objects));
  for (const json& f : doc["features"]) {
    for (const char* k : {"metadata", "metadata_text", "metadata_base64"}) {
      if (f["properties"].contains(k)) kinds.insert(k);
    }
  }
  EXPECT_EQ(kinds.size(), 3u);
}

TEST(GeoJsonRoundTripTest, Geographic) { RoundTrip(CoordinateSystem::kGeographic, TestSeed()); }
TEST(GeoJsonRoundTripTest, Planar2D) { RoundTrip(CoordinateSystem::kPlanar2D, TestSeed() + 1); }
TEST(GeoJsonRoundTripTest, Planar3D) { RoundTrip(CoordinateSystem::kPlanar3D, TestSeed() + 2); }

TEST(GeoJsonRoundTripTest, DeepMetadataIsExportedAsText) {
  std::string deep(200, '[');
  deep += std::string(200, ']');
  std::vector<Object> objects = {{.id = "deep", .pos = {1, 2}, .metadata = deep}};
  auto text = ToGeoJson(objects);
  ASSERT_TRUE(text.ok());
  EXPECT_THAT(*text, HasSubstr("\"metadata_text\":\"[[[["));
  auto back = FromGeoJson(*text);
  ASSERT_TRUE(back.ok());
  ExpectSameObjects(*back, objects);
  // Nested exactly kGeoJsonMaxEmbeddedDepth deep: embedded, and still within max_depth.
  const size_t d = kGeoJsonMaxEmbeddedDepth;
  objects[0].metadata = std::string(d, '[') + std::string(d, ']');
  text = ToGeoJson(objects);
  EXPECT_THAT(*text, HasSubstr("\"metadata\":[[[["));
  ExpectSameObjects(*FromGeoJson(*text), objects);
}

// ---- Import ----

TEST(GeoJsonImportTest, FeaturesFromElsewhere) {
  const char* text = R"({
    "type": "FeatureCollection", "bbox": [0, 0, 10, 10], "name": "foreign member",
    "features": [
      {"type": "Feature", "id": 42, "geometry": {"type": "Point", "coordinates": [1, 2]},
       "properties": {"timestamp": 5, "speed": 3.5, "name": "x", "distance": 9}},
      {"type": "Feature", "id": -7, "bbox": [1, 2, 1, 2],
       "geometry": {"type": "Point", "coordinates": [1.5, -2.25, -3]}, "properties": null},
      {"type": "Feature", "id": "s", "geometry": {"type": "Point", "coordinates": [0, 0]}},
      {"type": "Feature", "id": 18446744073709551615,
       "geometry": {"type": "Point", "coordinates": [0, 0]},
       "properties": {"metadata": {"z": [1, 2.50, "\u00e9"], "a": {}}, "expires_at": 99,
                      "ttl_ms": 7}}
    ]})";
  auto r = FromGeoJson(text, {.default_timestamp = 1000});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ExpectSameObjects(*r, {
      {.id = "42", .pos = {1, 2}, .timestamp = 5, .metadata = R"({"speed":3.5,"name":"x"})"},
      {.id = "-7", .pos = {1.5, -2.25, -3}, .timestamp = 1000},
      {.id = "s", .pos = {0, 0}, .timestamp = 1000},
      {.id = "18446744073709551615", .pos = {0, 0}, .timestamp = 1000,
       .metadata = "{\"z\":[1,2.5,\"\xC3\xA9\"],\"a\":{}}", .expires_at = 99, .ttl_ms = 7},
  });
}

TEST(GeoJsonImportTest, SingleFeatureAndMetadataKinds) {
  auto r = FromGeoJson(R"({"type":"Feature","id":"one","geometry":{"type":"Point",)"
                       R"("coordinates":[-180,90,0.5]},"properties":{"timestamp":1,)"
                       R"("metadata_base64":"AAEC/w=="}})");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ExpectSameObjects(*r, {{.id = "one", .pos = {-180, 90, 0.5}, .timestamp = 1,
                          .metadata = std::string("\0\1\2\xff", 4)}});
  r = FromGeoJson(R"({"type":"Feature","id":"t","geometry":{"type":"Point","coordinates":[1,2]},)"
                  R"("properties":{"timestamp":1,"metadata_text":"{ not json"}})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].metadata, "{ not json");
  r = FromGeoJson(R"({"type":"Feature","id":"t","geometry":{"type":"Point","coordinates":[1,2]},)"
                  R"("properties":{"timestamp":1,"metadata":"a string"}})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].metadata, "\"a string\"");
  // Latitude 95 is fine in a planar namespace.
  r = FromGeoJson(R"({"type":"Feature","id":"p","geometry":{"type":"Point","coordinates":[500,95]},)"
                  R"("properties":{"timestamp":1}})",
                  {.coordinates = CoordinateSystem::kPlanar2D});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)[0].pos, (Position{500, 95, 0}));
}

std::string Feature(const std::string& id, const std::string& geometry,
                    const std::string& properties = R"({"timestamp":1})") {
  return R"({"type":"Feature","id":)" + id + R"(,"geometry":)" + geometry +
         R"(,"properties":)" + properties + "}";
}
std::string PointAt(const std::string& coords) {
  return R"({"type":"Point","coordinates":)" + coords + "}";
}
std::string Collection(const std::vector<std::string>& features) {
  std::string out = R"({"type":"FeatureCollection","features":[)";
  for (size_t i = 0; i < features.size(); ++i) out += (i ? "," : "") + features[i];
  return out + "]}";
}
std::string One(const std::string& properties) {
  return Collection({Feature("\"a\"", PointAt("[1,2]"), properties)});
}

TEST(GeoJsonImportTest, BadInputIsNamedWithItsPath) {
  const std::string ok = Feature("\"ok\"", PointAt("[1,2]"));
  const std::string ok2 = Feature("\"ok2\"", PointAt("[1,2]"));
  const std::string ok3 = Feature("\"ok3\"", PointAt("[1,2]"));
  struct Case {
    std::string input;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"[]", "input = []: expected a GeoJSON FeatureCollection or Feature"},
      {"5", "input = 5: expected a GeoJSON FeatureCollection or Feature"},
      {R"({"features":[]})", "type: missing"},
      {R"({"type":"Point","coordinates":[1,2]})",
       R"(type = "Point": expected "FeatureCollection" or "Feature")"},
      {R"({"type":"FeatureCollection"})", "features: missing"},
      {R"({"type":"FeatureCollection","features":{}})", "features = {}: expected an array"},
      {Collection({ok, "5"}), "features[1] = 5: expected a Feature object"},
      {Collection({R"({"id":"a"})"}), "features[0].type: missing"},
      {Collection({R"({"type":"feature","id":"a"})"}),
       R"(features[0].type = "feature": expected "Feature")"},
      {Collection({R"({"type":"Feature","geometry":null})"}),
       "features[0].id: missing (every object needs an id)"},
      {Collection({Feature("1.5", PointAt("[1,2]"))}),
       "features[0].id = 1.5: expected a string or an integer"},
      {Collection({Feature("null", PointAt("[1,2]"))}),
       "features[0].id = null: expected a string or an integer"},
      {Collection({Feature("[\"a\"]", PointAt("[1,2]"))}),
       R"(features[0].id = ["a"]: expected a string or an integer)"},
      {Collection({Feature("\"\"", PointAt("[1,2]"))}), R"(features[0].id = "": empty)"},
      {Collection({Feature("\"" + std::string(300, 'i') + "\"", PointAt("[1,2]"))}),
       "features[0].id = \"" + std::string(80, 'i') + "\"...: 300 bytes, at most 256"},
      {Collection({R"({"type":"Feature","id":"a"})"}), "features[0].geometry: missing"},
      {Collection({Feature("\"a\"", "null")}),
       "features[0].geometry = null: an object needs a Point position"},
      {Collection({Feature("\"a\"", "[1,2]")}),
       "features[0].geometry = [1,2]: expected a geometry object"},
      {Collection({Feature("\"a\"", R"({"type":"LineString","coordinates":[[1,2],[3,4]]})")}),
       R"(features[0].geometry.type = "LineString": only Point geometries can be imported)"},
      {Collection({Feature("\"a\"", R"({"coordinates":[1,2]})")}),
       "features[0].geometry.type: missing"},
      {Collection({Feature("\"a\"", R"({"type":"Point"})")}),
       "features[0].geometry.coordinates: missing"},
      {Collection({Feature("\"a\"", PointAt("[1]"))}),
       "features[0].geometry.coordinates = [1]: expected 2 or 3 numbers ([lon, lat] or "
       "[lon, lat, alt])"},
      {Collection({Feature("\"a\"", PointAt("[1,2,3,4]"))}),
       "features[0].geometry.coordinates = [1,2,3,4]: expected 2 or 3 numbers ([lon, lat] or "
       "[lon, lat, alt])"},
      {Collection({Feature("\"a\"", PointAt("\"1,2\""))}),
       "features[0].geometry.coordinates = \"1,2\": expected 2 or 3 numbers ([lon, lat] or "
       "[lon, lat, alt])"},
      {Collection({Feature("\"a\"", PointAt("[1,\"2\"]"))}),
       R"(features[0].geometry.coordinates[1] = "2": expected a number)"},
      {Collection({Feature("\"a\"", PointAt("[1e400,0]"))}),
       "features[0].geometry.coordinates[0] = 1e400: not finite (outside the double range; "
       "byte 114)"},
      {Collection({Feature("\"a\"", PointAt("[0,0,-1e999]"))}),
       "features[0].geometry.coordinates[2] = -1e999: not finite (outside the double range; "
       "byte 119)"},
      {Collection({ok, ok2, ok3, Feature("\"d\"", PointAt("[10,95]"))}),
       "features[3].geometry.coordinates[1] = 95: outside [-90, 90]"},
      {Collection({Feature("\"a\"", PointAt("[-180.5,0]"))}),
       "features[0].geometry.coordinates[0] = -180.5: outside [-180, 180]"},
      {One("[]"), "features[0].properties = []: expected an object or null"},
      {One("{}"), "features[0].properties.timestamp: missing (and no default_timestamp was given)"},
      {One(R"({"timestamp":1.5})"),
       "features[0].properties.timestamp = 1.5: expected an integer (milliseconds)"},
      {One(R"({"timestamp":"2024-01-01"})"),
       R"(features[0].properties.timestamp = "2024-01-01": expected an integer (milliseconds))"},
      {One(R"({"timestamp":9223372036854775808})"),
       "features[0].properties.timestamp = 9223372036854775808: outside int64"},
      {One(R"({"timestamp":1,"expires_at":true})"),
       "features[0].properties.expires_at = true: expected an integer (milliseconds)"},
      {One(R"({"timestamp":1,"ttl_ms":null})"),
       "features[0].properties.ttl_ms = null: expected an integer (milliseconds)"},
      {One(R"({"timestamp":1,"metadata":{},"metadata_text":"x"})"),
       R"(features[0].properties: both "metadata" and "metadata_text"; at most one metadata key)"},
      {One(R"({"timestamp":1,"name":"x","metadata_base64":""})"),
       R"(features[0].properties.name: beside "metadata_base64" it would be lost; put it inside )"
       R"(the metadata)"},
      {One(R"({"timestamp":1,"metadata_text":5})"),
       "features[0].properties.metadata_text = 5: expected a string"},
      {One(R"({"timestamp":1,"metadata_base64":"abc"})"),
       R"(features[0].properties.metadata_base64 = "abc": not canonical base64 (RFC 4648, padded))"},
      {One(R"({"timestamp":1,"metadata_base64":"QR=="})"),
       R"(features[0].properties.metadata_base64 = "QR==": not canonical base64 (RFC 4648, padded))"},
      {One(R"({"timestamp":1,"metadata":{"a":[1e999]}})"),
       "features[0].properties.metadata.a[0] = 1e999: not finite (outside the double range; "
       "byte 165)"},
      {One(R"({"timestamp":1,"my key":-1e999})"),
       R"(features[0].properties["my key"] = -1e999: not finite (outside the double range; )"
       "byte 158)"},
      {Collection({Feature("\"a\"", PointAt("[1,2]")), ok, Feature("\"a\"", PointAt("[3,4]"))}),
       R"(features[2].id = "a": duplicate of features[0].id)"},
      {Collection({Feature("7", PointAt("[1,2]")), Feature("\"7\"", PointAt("[3,4]"))}),
       R"(features[1].id = "7": duplicate of features[0].id)"},
      {Feature("\"a\"", PointAt("[10,95]")),
       "geometry.coordinates[1] = 95: outside [-90, 90]"},
      {Feature("\"a\"", PointAt("[10,5]"), "{}"),
       "properties.timestamp: missing (and no default_timestamp was given)"},
      {std::string(100, '[') + std::string(100, ']'),
       "input: nested deeper than 64 at byte 65 (GeoJsonImportOptions::max_depth)"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.input);
    auto r = FromGeoJson(c.input);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(r.status().message(), c.message);
  }
}

TEST(GeoJsonImportTest, SyntaxErrorsGiveThePosition) {
  auto r = FromGeoJson("{\"type\": \"FeatureCollection\",\n \"features\": [,]}");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "input: not JSON: parse error at line 2, column 15: syntax error while parsing value "
            "- unexpected ','; expected '[', '{', or a literal (byte 45)");
  r = FromGeoJson(R"({"type":"FeatureCollection","features":[)");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()),
              StartsWith("input: not JSON: parse error at line 1, column 41: syntax error while "
                         "parsing value - unexpected end of input"));
  r = FromGeoJson("");
  EXPECT_THAT(std::string(r.status().message()), StartsWith("input: not JSON: parse error"));
  // The input's bytes quoted in a message are made valid UTF-8.
  r = FromGeoJson("\xff\xfe");
  EXPECT_EQ(r.status().message(),
            "input: not JSON: parse error at line 1, column 1: syntax error while parsing value - "
            "invalid literal; last read: '\xEF\xBF\xBD' (byte 1)");
}

TEST(GeoJsonImportTest, Limits) {
  const std::string text = One(R"({"timestamp":1})");
  auto r = FromGeoJson(text, {.max_input_bytes = 10});
  EXPECT_EQ(r.status().message(), "input: " + std::to_string(text.size()) +
                                      " bytes, at most 10 (GeoJsonImportOptions::max_input_bytes)");
  EXPECT_TRUE(FromGeoJson(text, {.max_input_bytes = text.size()}).ok());
  // A collection's coordinates sit at depth 5.
  EXPECT_TRUE(FromGeoJson(text, {.max_depth = 5}).ok());
  EXPECT_EQ(FromGeoJson(text, {.max_depth = 4}).status().message(),
            "input: nested deeper than 4 at byte " + std::to_string(text.find("[1,2]") + 1) +
                " (GeoJsonImportOptions::max_depth)");
  // Brackets inside strings do not count.
  EXPECT_TRUE(FromGeoJson(One(R"({"timestamp":1,"metadata_text":"[[[[{{{{\"[[["})"),
                          {.max_depth = 5})
                  .ok());
  EXPECT_EQ(FromGeoJson(Collection({Feature("\"abcdef\"", PointAt("[1,2]"))}),
                        {.max_id_bytes = 5})
                .status()
                .message(),
            R"(features[0].id = "abcdef": 6 bytes, at most 5)");
}

// Every prefix and many single-byte changes of a valid document: an error or objects, never
// a crash (ASan/UBSan builds check the "never").
TEST(GeoJsonImportTest, PrefixesAndMutationsNeverCrash) {
  std::mt19937_64 rng(TestSeed());
  SCOPED_TRACE(SeedTrace(TestSeed()));
  const std::string text = *ToGeoJson(RandomObjects(rng, CoordinateSystem::kGeographic, 6));
  size_t accepted = 0;
  for (size_t n = 0; n <= text.size(); ++n) accepted += FromGeoJson(text.substr(0, n)).ok();
  EXPECT_EQ(accepted, 1u);  // only the whole document
  for (int i = 0; i < 20000; ++i) {
    std::string m = text;
    m[rng() % m.size()] = "{}[]\",:0-.e\\ a\xff\x00"[rng() % 16];
    auto r = FromGeoJson(m);
    if (r.ok()) {  // whatever was accepted exports and reads back the same
      auto again = FromGeoJson(*ToGeoJson(*r));
      ASSERT_TRUE(again.ok()) << again.status().ToString();
      ExpectSameObjects(*again, *r);
    }
  }
}

// ---- End to end through a Db ----

TEST(GeoJsonDbTest, ImportApplyQueryExport) {
  auto clock = std::make_shared<ManualClock>(1'700'000'000'000);
  auto db = Db::OpenInMemory({.clock = clock, .sweep_interval_ms = 0}).value();
  ASSERT_TRUE(db->CreateNamespace("fleet").ok());
  const char* text = R"({"type":"FeatureCollection","features":[
    {"type":"Feature","id":"truck-7","geometry":{"type":"Point","coordinates":[2.35,48.85]},
     "properties":{"timestamp":1700000000000,"driver":"Ana","load_kg":1200}},
    {"type":"Feature","id":"van-2","geometry":{"type":"Point","coordinates":[2.29,48.86,35]},
     "properties":{"timestamp":1700000000001,"metadata":{"driver":"Bo"},
                   "expires_at":1700000100000}},
    {"type":"Feature","id":17,"geometry":{"type":"Point","coordinates":[2.36,48.84]},
     "properties":{"timestamp":1700000000002,"metadata_text":"plain"}},
    {"type":"Feature","id":"lyon","geometry":{"type":"Point","coordinates":[4.83,45.76]},
     "properties":{"timestamp":1700000000003}},
    {"type":"Feature","id":"fiji","geometry":{"type":"Point","coordinates":[180,-17]},
     "properties":{"timestamp":1700000000004}},
    {"type":"Feature","id":"pole","geometry":{"type":"Point","coordinates":[0,90]},
     "properties":{"timestamp":1700000000005,"ttl_ms":60000}}
  ]})";
  auto objects = FromGeoJson(text);
  ASSERT_TRUE(objects.ok()) << objects.status().ToString();
  Batch batch;
  for (const Object& o : *objects) batch.Upsert("fleet", o);
  ASSERT_TRUE(db->Apply(batch).ok());

  // Query near Paris with metadata, export the result, read it back.
  auto near = db->WithinRadius("fleet", {2.35, 48.85}, 10'000, {.with_metadata = true});
  ASSERT_TRUE(near.ok());
  auto exported = ToGeoJson(*near);
  ASSERT_TRUE(exported.ok()) << exported.status().ToString();
  auto back = FromGeoJson(*exported);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  std::map<std::string, Object> by_id;
  for (const Object& o : *back) by_id[o.id] = o;
  ASSERT_EQ(by_id.size(), 3u);
  for (const Object& o : *objects) {
    if (!by_id.count(o.id)) continue;
    Object expect = o;  // hits carry no expiry
    expect.expires_at.reset();
    expect.ttl_ms.reset();
    EXPECT_TRUE(SameObject(by_id[o.id], expect));
  }
  EXPECT_TRUE(by_id.count("truck-7") && by_id.count("van-2") && by_id.count("17"));
  // The distances in the file are the query's, exactly.
  const json doc = json::parse(*exported);
  for (size_t i = 0; i < near->hits.size(); ++i) {
    EXPECT_EQ(doc["features"][i]["properties"]["distance"].get<double>(), near->hits[i].distance);
  }
  for (const Hit& h : near->hits) {
    auto meta = MetadataJson(h);
    if (h.id == "truck-7") {
      ASSERT_TRUE(meta.ok());
      EXPECT_EQ(*meta, json({{"driver", "Ana"}, {"load_kg", 1200}}));
    } else if (h.id == "17") {
      EXPECT_EQ(meta.status().message(),
                "hit \"17\": metadata is not JSON: parse error at line 1, column 1: syntax error "
                "while parsing value - invalid literal; last read: 'p' (byte 1)");
    }
  }

  // Kept with their expiry: Get every object, export, import, compare with what was stored.
  std::vector<Object> stored;
  for (const Object& o : *objects) stored.push_back(db->Get("fleet", o.id).value());
  EXPECT_EQ(stored.back().expires_at, std::optional<int64_t>(1'700'000'060'000));  // from ttl_ms
  auto snapshot = FromGeoJson(*ToGeoJson(stored));
  ASSERT_TRUE(snapshot.ok());
  ExpectSameObjects(*snapshot, stored);

  // The snapshot restores into a fresh database: same answers.
  auto db2 = Db::OpenInMemory({.clock = clock, .sweep_interval_ms = 0}).value();
  Batch restore;
  for (const Object& o : *snapshot) restore.Upsert("fleet", o);
  ASSERT_TRUE(db2->Apply(restore).ok());
  auto box = db2->InBox("fleet", {179, -20}, {-179, -10});  // across the antimeridian
  ASSERT_TRUE(box.ok());
  ASSERT_EQ(box->hits.size(), 1u);
  EXPECT_EQ(box->hits[0].id, "fiji");
  clock->Advance(100'000);  // van-2 and pole expire in both
  EXPECT_EQ(*db2->CountWithinRadius("fleet", {2.35, 48.85}, 10'000), 2u);
  EXPECT_EQ(*db->CountWithinRadius("fleet", {2.35, 48.85}, 10'000), 2u);
  EXPECT_FALSE(db2->Get("fleet", "pole").ok());
}

// Random objects through a Db: import, apply, query everything, export, import: the same
// objects come back (metadata bytes included).
TEST(GeoJsonDbTest, RandomObjectsThroughTheDb) {
  const uint64_t seed = TestSeed() + 7;
  SCOPED_TRACE(SeedTrace(seed));
  std::mt19937_64 rng(seed);
  std::vector<Object> objects = RandomObjects(rng, CoordinateSystem::kGeographic, 500);
  for (Object& o : objects) {  // live objects only; ids the Db accepts
    o.expires_at.reset();
    o.ttl_ms.reset();
    o.timestamp = static_cast<int64_t>(rng() % 1'000'000);
  }
  auto db = Db::OpenInMemory({.sweep_interval_ms = 0}).value();
  auto imported = FromGeoJson(*ToGeoJson(objects));
  ASSERT_TRUE(imported.ok()) << imported.status().ToString();
  Batch batch;
  for (const Object& o : *imported) batch.Upsert("n", o);
  ASSERT_TRUE(db->Apply(batch).ok());
  auto all = db->InBox("n", {-180, -90}, {180, 90}, {.limit = 10000, .with_metadata = true});
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->hits.size(), objects.size());
  auto back = FromGeoJson(*ToGeoJson(*all));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  std::map<std::string, Object> by_id;
  for (const Object& o : *back) by_id[o.id] = o;
  for (const Object& o : objects) {
    ASSERT_TRUE(by_id.count(o.id));
    EXPECT_TRUE(SameObject(by_id[o.id], o));
  }
}

}  // namespace
}  // namespace locus
