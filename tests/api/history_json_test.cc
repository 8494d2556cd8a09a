// Tests the trajectory half of locus/db_json.h (api/db/history_json.cc): export against exact
// expected text for small cases (LineString, the one-sample Point, the empty window's null
// geometry, the altitude rule, each metadata key, truncation); export -> import round trips on
// seeded random trajectories (every geometry kind and metadata key, extreme times, edge
// positions), bit for bit; every bad input named with its JSON path and value; prefixes and
// byte mutations never crash; and trajectories imported into a real locus::Db history
// namespace with InsertTrajectory read back by Trajectory, then exported to the same text.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "locus/db.h"
#include "locus/db_json.h"
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
using json = nlohmann::json;

::testing::AssertionResult SameTrajectory(const ObjectTrajectory& a, const ObjectTrajectory& b) {
  if (a.id != b.id) return ::testing::AssertionFailure() << "ids differ";
  if (a.samples.size() != b.samples.size()) {
    return ::testing::AssertionFailure() << "\"" << a.id << "\": " << a.samples.size() << " vs "
                                         << b.samples.size() << " samples";
  }
  for (size_t i = 0; i < a.samples.size(); ++i) {
    const Sample& x = a.samples[i];
    const Sample& y = b.samples[i];
    if (x.t != y.t || !SameBits(x.pos.x, y.pos.x) || !SameBits(x.pos.y, y.pos.y) ||
        !SameBits(x.pos.z, y.pos.z) || x.metadata != y.metadata) {
      return ::testing::AssertionFailure()
             << "\"" << a.id << "\" differs at sample " << i << ": t " << x.t << " vs " << y.t
             << ", (" << x.pos.x << ", " << x.pos.y << ", " << x.pos.z << ") vs (" << y.pos.x
             << ", " << y.pos.y << ", " << y.pos.z << "), metadata '" << x.metadata << "' vs '"
             << y.metadata << "'";
    }
  }
  return ::testing::AssertionSuccess();
}

void ExpectSameTrajectories(const std::vector<ObjectTrajectory>& a,
                            const std::vector<ObjectTrajectory>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(SameTrajectory(a[i], b[i])) << "feature " << i;
}

TrajectoryResult Result3(std::vector<std::string> metadata = {"", "", ""}) {
  TrajectoryResult r;
  r.samples = {{.t = 1000, .pos = {2.35, 48.85}, .metadata = metadata[0]},
               {.t = 2000, .pos = {2.36, 48.86}, .metadata = metadata[1]},
               {.t = 3500, .pos = {2.37, 48.85}, .metadata = metadata[2]}};
  return r;
}

// ---- Export: exact text ----

TEST(TrajectoryGeoJsonExportTest, LineStringPointAndNull) {
  auto text = ToGeoJson(Result3(), "truck-7");
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  EXPECT_EQ(
      *text,
      R"({"type":"Feature","id":"truck-7","geometry":{"type":"LineString","coordinates":)"
      R"([[2.35,48.85],[2.36,48.86],[2.37,48.85]]},"properties":{"times":[1000,2000,3500]}})");

  TrajectoryResult one;
  one.samples = {{.t = -7, .pos = {1, 2}}};
  EXPECT_EQ(*ToGeoJson(one, "p"),
            R"({"type":"Feature","id":"p","geometry":{"type":"Point","coordinates":[1.0,2.0]},)"
            R"("properties":{"times":[-7]}})");

  EXPECT_EQ(*ToGeoJson(TrajectoryResult{}, "none"),
            R"({"type":"Feature","id":"none","geometry":null,"properties":{"times":[]}})");

  TrajectoryResult cut = Result3();
  cut.truncated = true;
  EXPECT_THAT(*ToGeoJson(cut, "t"), HasSubstr(R"("properties":{"times":[1000,2000,3500]},)"
                                              R"("truncated":true})"));
}

TEST(TrajectoryGeoJsonExportTest, AltitudeOnEveryVertexOrNone) {
  TrajectoryResult r;
  r.samples = {{.t = 1, .pos = {1, 2, 0}}, {.t = 2, .pos = {3, 4, 12.5}}};
  EXPECT_THAT(*ToGeoJson(r, "a"), HasSubstr(R"("coordinates":[[1.0,2.0,0.0],[3.0,4.0,12.5]])"));
  r.samples[1].pos.z = -0.0;  // -0 is kept, as for Points
  EXPECT_THAT(*ToGeoJson(r, "a"), HasSubstr(R"("coordinates":[[1.0,2.0,0.0],[3.0,4.0,-0.0]])"));
  r.samples[1].pos.z = 0;
  EXPECT_THAT(*ToGeoJson(r, "a"), HasSubstr(R"("coordinates":[[1.0,2.0],[3.0,4.0]])"));
  EXPECT_THAT(*ToGeoJson(r, "a", {.always_altitude = true}),
              HasSubstr(R"("coordinates":[[1.0,2.0,0.0],[3.0,4.0,0.0]])"));
}

TEST(TrajectoryGeoJsonExportTest, OneMetadataKeyPerFeature) {
  // Every sample compact JSON: values.
  EXPECT_THAT(*ToGeoJson(Result3({R"({"v":1})", "[2]", "null"}), "a"),
              HasSubstr(R"("times":[1000,2000,3500],"metadata":[{"v":1},[2],null]})"));
  // One sample without metadata: strings, "" for it.
  EXPECT_THAT(*ToGeoJson(Result3({R"({"v":1})", "", "text"}), "a"),
              HasSubstr(R"("metadata_text":["{\"v\":1}","","text"]})"));
  // JSON that is not compact is text, as for Points.
  EXPECT_THAT(*ToGeoJson(Result3({"[1, 2]", "[3]", "[4]"}), "a"),
              HasSubstr(R"("metadata_text":["[1, 2]","[3]","[4]"]})"));
  // Bytes that are not UTF-8: base64 for all.
  EXPECT_THAT(*ToGeoJson(Result3({"ok", std::string("\xff\0a", 3), ""}), "a"),
              HasSubstr(R"("metadata_base64":["b2s=","/wBh",""]})"));
}

TEST(TrajectoryGeoJsonExportTest, CollectionAndErrorsNameTheSample) {
  std::vector<ObjectTrajectory> ts = {{"a", Result3().samples}, {"b", {}}};
  auto text = ToGeoJson(ts, {.indent = 1});
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  const json doc = json::parse(*text);
  EXPECT_EQ(doc["type"], "FeatureCollection");
  ASSERT_EQ(doc["features"].size(), 2u);
  EXPECT_EQ(doc["features"][1]["geometry"], nullptr);

  ts[1].samples = {{.t = 1, .pos = {0, 0}}, {.t = 2, .pos = {std::nan(""), 0}}};
  EXPECT_EQ(ToGeoJson(ts).status().message(),
            "trajectories[1].samples[1].pos.x = nan: not finite (JSON has no NaN or infinity)");
  TrajectoryResult r = Result3();
  r.samples[2].pos.z = INFINITY;
  EXPECT_EQ(ToGeoJson(r, "a").status().message(),
            "samples[2].pos.z = inf: not finite (JSON has no NaN or infinity)");
  EXPECT_EQ(ToGeoJson(Result3(), "id\xc3(").status().message(),
            "id = \"id\xEF\xBF\xBD(\": not valid UTF-8 (GeoJSON ids are JSON strings)");
}

// ---- Round trips on random trajectories ----

std::vector<ObjectTrajectory> RandomTrajectories(std::mt19937_64& rng, CoordinateSystem cs,
                                                 size_t n) {
  std::vector<ObjectTrajectory> out;
  std::set<std::string> ids;
  while (out.size() < n) {
    ObjectTrajectory tr;
    tr.id = RandomId(rng);
    if (!ids.insert(tr.id).second) continue;
    const size_t len = rng() % 4 == 0 ? rng() % 2 : 2 + rng() % 30;  // 0 or 1 sample, or more
    const int metadata_mode = rng() % 3;  // none, SetMetadataJson's (all JSON), mixed
    std::set<int64_t> times;
    while (times.size() < len) {
      const int64_t extremes[] = {std::numeric_limits<int64_t>::min(),
                                  std::numeric_limits<int64_t>::max(), 0, -1};
      times.insert(rng() % 8 == 0 ? extremes[rng() % 4]
                                  : static_cast<int64_t>(rng()) >> (rng() % 64));
    }
    std::vector<int64_t> order(times.begin(), times.end());
    if (rng() % 4 == 0) std::shuffle(order.begin(), order.end(), rng);  // any order
    for (int64_t t : order) {
      Sample s{.t = t, .pos = RandomPosition(rng, cs)};
      if (metadata_mode == 1) {
        Object o{.id = tr.id};
        EXPECT_TRUE(SetMetadataJson(o, {{"k", static_cast<int64_t>(rng() % 100)}}).ok());
        s.metadata = o.metadata;
      } else if (metadata_mode == 2) {
        s.metadata = RandomMetadata(rng, tr.id);
      }
      tr.samples.push_back(std::move(s));
    }
    out.push_back(std::move(tr));
  }
  return out;
}

void RoundTrip(CoordinateSystem cs, uint64_t seed) {
  SCOPED_TRACE(std::string(CoordinateSystemName(cs)) + ", " + SeedTrace(seed));
  std::mt19937_64 rng(seed);
  const std::vector<ObjectTrajectory> ts = RandomTrajectories(rng, cs, 400);
  const GeoJsonImportOptions in{.coordinates = cs};
  for (GeoJsonExportOptions out : {GeoJsonExportOptions{}, GeoJsonExportOptions{true, 1}}) {
    auto text = ToGeoJson(ts, out);
    ASSERT_TRUE(text.ok()) << text.status().ToString();
    auto back = TrajectoriesFromGeoJson(*text, in);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    ExpectSameTrajectories(*back, ts);
    EXPECT_EQ(*ToGeoJson(*back, out), *text);  // and the second export is the same text
  }
  // One Feature at a time, too.
  for (const ObjectTrajectory& t : ts) {
    auto text = ToGeoJson(TrajectoryResult{.samples = t.samples}, t.id);
    ASSERT_TRUE(text.ok()) << text.status().ToString();
    auto back = TrajectoriesFromGeoJson(*text, in);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    ASSERT_EQ(back->size(), 1u);
    EXPECT_TRUE(SameTrajectory((*back)[0], t));
  }
  // Every geometry kind and every metadata key occurred.
  std::set<std::string> kinds;
  const json doc = json::parse(*ToGeoJson(ts));
  for (const json& f : doc["features"]) {
    kinds.insert(f["geometry"].is_null() ? "null" : f["geometry"]["type"].get<std::string>());
    for (const char* k : {"metadata", "metadata_text", "metadata_base64"}) {
      if (f["properties"].contains(k)) kinds.insert(k);
    }
  }
  EXPECT_EQ(kinds, (std::set<std::string>{"null", "Point", "LineString", "metadata",
                                          "metadata_text", "metadata_base64"}));
}

TEST(TrajectoryGeoJsonRoundTripTest, Geographic) {
  RoundTrip(CoordinateSystem::kGeographic, TestSeed() + 20);
}
TEST(TrajectoryGeoJsonRoundTripTest, Planar2D) {
  RoundTrip(CoordinateSystem::kPlanar2D, TestSeed() + 21);
}
TEST(TrajectoryGeoJsonRoundTripTest, Planar3D) {
  RoundTrip(CoordinateSystem::kPlanar3D, TestSeed() + 22);
}

// ---- Import ----

std::string Line(const std::string& id, const std::string& coords, const std::string& props) {
  return R"({"type":"Feature","id":)" + id + R"(,"geometry":{"type":"LineString","coordinates":)" +
         coords + R"(},"properties":)" + props + "}";
}
std::string Collection(const std::vector<std::string>& features) {
  std::string s = R"({"type":"FeatureCollection","features":[)";
  for (size_t i = 0; i < features.size(); ++i) s += (i ? "," : "") + features[i];
  return s + "]}";
}
// A collection of one LineString of three positions with these properties.
std::string Props(const std::string& props) {
  return Collection({Line("\"a\"", "[[1,2],[3,4],[5,6]]", props)});
}
// A collection of one LineString of these three positions.
std::string Coords(const std::string& coords) {
  return Collection({Line("\"a\"", coords, R"({"times":[1,2,3]})")});
}

TEST(TrajectoryGeoJsonImportTest, FeaturesFromElsewhere) {
  // Integer ids, foreign members, 2D and 3D positions mixed, times in any order, a Point.
  const std::string text = Collection({
      R"({"type":"Feature","id":42,"bbox":[0,0,9,9],"geometry":{"type":"LineString",)"
      R"("coordinates":[[1,2],[3,4,5.5]]},"properties":{"times":[20,10]},"truncated":true})",
      R"({"type":"Feature","id":"p","geometry":{"type":"Point","coordinates":[7,8]},)"
      R"("properties":{"times":[5],"metadata":[{"speed":3,"name":"x"}]}})",
      R"({"type":"Feature","id":"n","geometry":null,"properties":{"times":[]}})",
  });
  auto r = TrajectoriesFromGeoJson(text, {.coordinates = CoordinateSystem::kPlanar3D});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[0],
            (ObjectTrajectory{"42", {{.t = 20, .pos = {1, 2, 0}}, {.t = 10, .pos = {3, 4, 5.5}}}}));
  // "metadata" values are stored as compact JSON in document key order.
  EXPECT_EQ((*r)[1],
            (ObjectTrajectory{
                "p", {{.t = 5, .pos = {7, 8, 0}, .metadata = R"({"speed":3,"name":"x"})"}}}));
  EXPECT_EQ((*r)[2], (ObjectTrajectory{"n", {}}));
}

TEST(TrajectoryGeoJsonImportTest, BadInputIsNamedWithItsPath) {
  const std::string ok = Line("\"ok\"", "[[1,2],[3,4]]", R"({"times":[1,2]})");
  struct Case {
    std::string input;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"[]", "input = []: expected a GeoJSON FeatureCollection or Feature"},
      {Collection({ok, "5"}), "features[1] = 5: expected a Feature object"},
      // The id.
      {Collection({ok, R"({"type":"Feature","geometry":null,"properties":{"times":[]}})"}),
       "features[1].id: missing (every object needs an id)"},
      {Collection({Line("1.5", "[[1,2],[3,4]]", R"({"times":[1,2]})")}),
       "features[0].id = 1.5: expected a string or an integer"},
      {Collection({ok, Line("\"x\"", "[[1,2],[3,4]]", R"({"times":[1,2]})"), ok}),
       R"(features[2].id = "ok": duplicate of features[0].id)"},
      // The geometry.
      {Collection({R"({"type":"Feature","id":"a","properties":{"times":[]}})"}),
       "features[0].geometry: missing (a LineString, a Point, or null)"},
      {Collection({R"({"type":"Feature","id":"a","geometry":{"type":"Polygon",)"
                   R"("coordinates":[[[0,0],[1,0],[0,1],[0,0]]]},"properties":{"times":[]}})"}),
       R"(features[0].geometry.type = "Polygon": a trajectory is a LineString, a Point (one )"
       "sample) or null (none)"},
      {Collection({Line("\"a\"", "[[1,2]]", R"({"times":[1]})")}),
       "features[0].geometry.coordinates = [[1,2]]: a LineString has at least 2 positions (RFC "
       "7946); one sample is a Point"},
      {Collection({Line("\"a\"", "[1,2]", R"({"times":[1,2]})")}),
       "features[0].geometry.coordinates[0] = 1: expected 2 or 3 numbers ([lon, lat] or [lon, "
       "lat, alt])"},
      {Collection({Line("\"a\"", "{}", R"({"times":[1,2]})")}),
       "features[0].geometry.coordinates = {}: expected an array of positions"},
      {Coords("[[1,2],[3,4],[5,95]]"),
       "features[0].geometry.coordinates[2][1] = 95: outside [-90, 90]"},
      {Coords(R"([[1,2],[3,"4"],[5,6]])"),
       R"(features[0].geometry.coordinates[1][1] = "4": expected a number)"},
      {Coords("[[1,2],[3,4,5,6],[5,6]]"),
       "features[0].geometry.coordinates[1] = [3,4,5,6]: expected 2 or 3 numbers ([lon, lat] "
       "or [lon, lat, alt])"},
      {Coords("[[1e999,2],[3,4],[5,6]]"),
       "features[0].geometry.coordinates[0][0] = 1e999: not finite (outside the double range; "
       "byte 120)"},
      // The times.
      {Props("{}"),
       "features[0].properties.times: missing (a trajectory has one time, in ms, "
       "per position)"},
      {Props("null"),
       "features[0].properties.times: missing (a trajectory has one time, in "
       "ms, per position)"},
      {Props("[1,2,3]"), R"(features[0].properties = [1,2,3]: expected an object with "times")"},
      {Props(R"({"times":7})"),
       "features[0].properties.times = 7: expected an array of integers (milliseconds)"},
      {Props(R"({"times":[1,2]})"),
       "features[0].properties.times = [1,2]: 2 times for 3 positions of the LineString"},
      {Collection({R"({"type":"Feature","id":"a","geometry":{"type":"Point","coordinates":)"
                   R"([1,2]},"properties":{"times":[]}})"}),
       "features[0].properties.times = []: 0 times for 1 position of the Point"},
      {Collection({R"({"type":"Feature","id":"a","geometry":null,"properties":{"times":[3]}})"}),
       "features[0].properties.times = [3]: 1 time for 0 positions of the null geometry"},
      {Props(R"({"times":[1,1.5,3]})"),
       "features[0].properties.times[1] = 1.5: expected an integer (milliseconds)"},
      {Props(R"({"times":[1,"2",3]})"),
       R"(features[0].properties.times[1] = "2": expected an integer (milliseconds))"},
      {Props(R"({"times":[1,2,9223372036854775808]})"),
       "features[0].properties.times[2] = 9223372036854775808: outside int64"},
      {Props(R"({"times":[5,2,5]})"),
       "features[0].properties.times[2] = 5: duplicate of times[0] (one sample per time)"},
      // The metadata and other properties.
      {Props(R"({"times":[1,2,3],"metadata":[1,2]})"),
       "features[0].properties.metadata = [1,2]: 2 values for 3 times"},
      {Props(R"({"times":[1,2,3],"metadata":{"a":1}})"),
       R"(features[0].properties.metadata = {"a":1}: expected an array, one value per vertex)"},
      {Props(R"({"times":[1,2,3],"metadata_text":["a",2,"c"]})"),
       "features[0].properties.metadata_text[1] = 2: expected a string"},
      {Props(R"({"times":[1,2,3],"metadata_base64":["","QQ","QQ=="]})"),
       R"(features[0].properties.metadata_base64[1] = "QQ": not canonical base64 (RFC 4648, )"
       "padded)"},
      {Props(R"({"times":[1,2,3],"metadata":[1,2,3],"metadata_text":["","",""]})"),
       R"(features[0].properties: both "metadata" and "metadata_text"; at most one metadata )"
       "key"},
      {Props(R"({"times":[1,2,3],"name":"bus 12"})"),
       R"(features[0].properties.name: not a trajectory property ("times", "metadata", )"
       R"("metadata_text" or "metadata_base64"); it would be lost)"},
      {Props(R"({"id":"a","times":[1,2,3]})"),
       R"(features[0].properties.id: not a trajectory property ("times", "metadata", )"
       R"("metadata_text" or "metadata_base64"); it would be lost)"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.input);
    auto r = TrajectoriesFromGeoJson(c.input);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(r.status().message(), c.message);
  }
  // A lone Feature's paths start at its members.
  auto r = TrajectoriesFromGeoJson(Line("\"a\"", "[[1,2],[3,4]]", R"({"times":[1]})"));
  EXPECT_EQ(r.status().message(),
            "properties.times = [1]: 1 time for 2 positions of the "
            "LineString");
  // Planar targets take any finite coordinates.
  EXPECT_TRUE(TrajectoriesFromGeoJson(Coords("[[1,2],[3,4],[500,-95]]"),
                                      {.coordinates = CoordinateSystem::kPlanar2D})
                  .ok());
}

TEST(TrajectoryGeoJsonImportTest, Limits) {
  const std::string text = Props(R"({"times":[1,2,3],"metadata":[[1],[2],[3]]})");
  // A collection's LineString positions (and a vertex's metadata array) sit at depth 6.
  EXPECT_TRUE(TrajectoriesFromGeoJson(text, {.max_depth = 6}).ok());
  EXPECT_EQ(TrajectoriesFromGeoJson(text, {.max_depth = 5}).status().message(),
            "input: nested deeper than 5 at byte " + std::to_string(text.find("[1,2]") + 1) +
                " (GeoJsonImportOptions::max_depth)");
  EXPECT_EQ(TrajectoriesFromGeoJson(text, {.max_input_bytes = 9}).status().message(),
            "input: " + std::to_string(text.size()) +
                " bytes, at most 9 (GeoJsonImportOptions::max_input_bytes)");
  EXPECT_EQ(TrajectoriesFromGeoJson(Props(R"({"times":[1,2,3]})"), {.max_id_bytes = 0})
                .status()
                .message(),
            R"(features[0].id = "a": 1 bytes, at most 0)");
}

// Every prefix and many single-byte changes of a valid document: an error or trajectories,
// never a crash (ASan/UBSan builds check the "never").
TEST(TrajectoryGeoJsonImportTest, PrefixesAndMutationsNeverCrash) {
  const uint64_t seed = TestSeed() + 23;
  SCOPED_TRACE(SeedTrace(seed));
  std::mt19937_64 rng(seed);
  std::vector<ObjectTrajectory> ts = RandomTrajectories(rng, CoordinateSystem::kGeographic, 4);
  for (ObjectTrajectory& t : ts) {  // short: every prefix is parsed
    if (t.samples.size() > 4) t.samples.resize(4);
  }
  const std::string text = *ToGeoJson(ts);
  size_t accepted = 0;
  for (size_t n = 0; n <= text.size(); ++n) {
    accepted += TrajectoriesFromGeoJson(text.substr(0, n)).ok();
  }
  EXPECT_EQ(accepted, 1u);  // only the whole document
  for (int i = 0; i < 20000; ++i) {
    std::string m = text;
    m[rng() % m.size()] = "{}[]\",:0-.e\\ a\xff\x00"[rng() % 16];
    auto r = TrajectoriesFromGeoJson(m);
    if (r.ok()) {  // whatever was accepted exports and reads back the same
      auto again = TrajectoriesFromGeoJson(*ToGeoJson(*r));
      ASSERT_TRUE(again.ok()) << again.status().ToString();
      ExpectSameTrajectories(*again, *r);
    }
  }
}

// ---- Through a Db's history ----

// Imported trajectories go into a history namespace with InsertTrajectory; Trajectory reads
// back the same samples (sorted by time), and exporting what it reads gives the text of the
// time-sorted input again. Interpolation between imported vertices follows the motion rule.
void ThroughTheDb(CoordinateSystem cs, uint64_t seed) {
  SCOPED_TRACE(std::string(CoordinateSystemName(cs)) + ", " + SeedTrace(seed));
  std::mt19937_64 rng(seed);
  auto db = Db::OpenInMemory({.sweep_interval_ms = 0}).value();
  NamespaceOptions o{.coordinates = cs};
  o.history = {.enabled = true, .keep_metadata = true, .chunk_samples = 16};
  ASSERT_TRUE(db->CreateNamespace("fleet", o).ok());

  std::vector<ObjectTrajectory> ts = RandomTrajectories(rng, cs, 60);
  for (ObjectTrajectory& t : ts) {  // times the Db's windows can hold; shuffled
    for (size_t i = 0; i < t.samples.size(); ++i) {
      t.samples[i].t = static_cast<int64_t>(i) * 1000 + static_cast<int64_t>(rng() % 900);
    }
    std::shuffle(t.samples.begin(), t.samples.end(), rng);
  }
  auto imported = TrajectoriesFromGeoJson(*ToGeoJson(ts), {.coordinates = cs});
  ASSERT_TRUE(imported.ok()) << imported.status().ToString();
  for (const ObjectTrajectory& t : *imported) {
    ASSERT_TRUE(db->InsertTrajectory("fleet", t.id, t.samples).ok()) << t.id;
  }
  std::vector<ObjectTrajectory> read;
  for (const ObjectTrajectory& t : ts) {
    auto tr = db->Trajectory("fleet", t.id, std::numeric_limits<int64_t>::min(),
                             std::numeric_limits<int64_t>::max(), {.with_metadata = true});
    if (t.samples.empty()) {  // nothing was inserted
      EXPECT_EQ(tr.status().code(), StatusCode::kNotFound);
      continue;
    }
    ASSERT_TRUE(tr.ok()) << tr.status().ToString();
    ObjectTrajectory want = t;
    std::sort(want.samples.begin(), want.samples.end(),
              [](const Sample& a, const Sample& b) { return a.t < b.t; });
    EXPECT_TRUE(SameTrajectory({t.id, tr->samples}, want));
    // The exported read equals the export of the sorted input.
    EXPECT_EQ(*ToGeoJson(*tr, t.id), *ToGeoJson(TrajectoryResult{.samples = want.samples}, t.id));
    read.push_back({t.id, tr->samples});
    // Halfway between the first two vertices: on the segment between them.
    if (want.samples.size() >= 2 && cs != CoordinateSystem::kGeographic) {
      const Sample& a = want.samples[0];
      const Sample& b = want.samples[1];
      if ((b.t - a.t) % 2 == 0) {
        auto mid = db->PositionAt("fleet", t.id, (a.t + b.t) / 2);
        ASSERT_TRUE(mid.ok());
        EXPECT_DOUBLE_EQ(mid->x, a.pos.x + (b.pos.x - a.pos.x) / 2);
        EXPECT_DOUBLE_EQ(mid->y, a.pos.y + (b.pos.y - a.pos.y) / 2);
      }
    }
  }
  // The whole namespace's history as one collection, and back.
  auto all = TrajectoriesFromGeoJson(*ToGeoJson(read), {.coordinates = cs});
  ASSERT_TRUE(all.ok());
  ExpectSameTrajectories(*all, read);
}

TEST(TrajectoryGeoJsonDbTest, ImportIntoHistoryAndReadBackPlanar) {
  ThroughTheDb(CoordinateSystem::kPlanar2D, TestSeed() + 24);
}
TEST(TrajectoryGeoJsonDbTest, ImportIntoHistoryAndReadBackGeographic) {
  ThroughTheDb(CoordinateSystem::kGeographic, TestSeed() + 25);
}

// The README's example: a window of one object exported, and imported into another database.
TEST(TrajectoryGeoJsonDbTest, ReadmeExample) {
  auto db = Db::OpenInMemory({.sweep_interval_ms = 0}).value();
  NamespaceOptions o{.coordinates = CoordinateSystem::kGeographic};
  o.history = {.enabled = true, .keep_metadata = true};
  ASSERT_TRUE(db->CreateNamespace("fleet", o).ok());
  const double lon[] = {2.35, 2.36, 2.37, 2.38, 2.39};
  for (int i = 0; i < 5; ++i) {
    Object obj{.id = "truck-7", .pos = {lon[i], 48.85}, .timestamp = 1000 * i};
    ASSERT_TRUE(SetMetadataJson(obj, {{"stop", i}}).ok());
    ASSERT_TRUE(db->Upsert("fleet", obj).ok());
  }
  auto path = db->Trajectory("fleet", "truck-7", 1000, 3000, {.with_metadata = true});
  ASSERT_TRUE(path.ok());
  auto text = locus::ToGeoJson(*path, "truck-7");
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text,
            R"({"type":"Feature","id":"truck-7","geometry":{"type":"LineString","coordinates":)"
            R"([[2.36,48.85],[2.37,48.85],[2.38,48.85]]},"properties":{"times":[1000,2000,3000],)"
            R"("metadata":[{"stop":1},{"stop":2},{"stop":3}]}})");
  auto back = locus::TrajectoriesFromGeoJson(*text);
  ASSERT_TRUE(back.ok());
  auto db2 = Db::OpenInMemory({.sweep_interval_ms = 0}).value();
  ASSERT_TRUE(db2->CreateNamespace("fleet", o).ok());
  for (const ObjectTrajectory& t : *back) {
    ASSERT_TRUE(db2->InsertTrajectory("fleet", t.id, t.samples).ok());
  }
  EXPECT_EQ(db2->Trajectory("fleet", "truck-7", 0, 5000, {.with_metadata = true})->samples,
            path->samples);
  EXPECT_EQ(db2->Get("fleet", "truck-7")->timestamp, 3000);  // the newest sample is current
}

}  // namespace
}  // namespace locus
