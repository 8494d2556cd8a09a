// Seeded random inputs shared by the GeoJSON tests (db_json_test.cc: objects and query
// results; history_json_test.cc: trajectories): ids with Unicode, control characters and
// escapes; positions at the edges (antimeridian, poles, -0, subnormals, huge planar values,
// negative altitudes); JSON values of every type; metadata of every kind the mapping tells
// apart (compact JSON, JSON that is not compact, UTF-8 text, JSON with an infinite number,
// arbitrary bytes, none).
#ifndef LOCUS_TESTS_API_GEOJSON_TEST_DATA_H_
#define LOCUS_TESTS_API_GEOJSON_TEST_DATA_H_

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "locus/db_json.h"

namespace locus::geojson_testing {

// Whether two doubles are the same bits (-0 is not 0; what a bit-for-bit round trip keeps).
inline bool SameBits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

inline std::string RandomId(std::mt19937_64& rng) {
  static const std::vector<std::string> pieces = {
      "a", "Z", "7", "-", "_", " ", "\"", "\\", "/", "\n", "\t", std::string(1, '\0'), "\x1f",
      "\x7f", "é", "東京", "🚚", "\u2028", "\\u0041", "{}", "[", "'"};
  std::string id;
  const size_t n = 1 + rng() % 12;
  for (size_t i = 0; i < n; ++i) id += pieces[rng() % pieces.size()];
  return id;
}

inline double RandomIn(std::mt19937_64& rng, double lo, double hi) {
  return std::uniform_real_distribution<double>(lo, hi)(rng);
}

inline Position RandomPosition(std::mt19937_64& rng, CoordinateSystem cs) {
  const double special_lon[] = {-180, 180, -0.0, 0, 5e-324, -179.99999999999997, 1e-300};
  const double special_lat[] = {-90, 90, -0.0, 0, 89.99999999999999, -5e-324};
  const double special_z[] = {0, -0.0, -430.5, -11034, 8848.86, 1e-310, -1e300};
  Position p;
  if (cs == CoordinateSystem::kGeographic) {
    p.x = rng() % 4 == 0 ? special_lon[rng() % std::size(special_lon)] : RandomIn(rng, -180, 180);
    p.y = rng() % 4 == 0 ? special_lat[rng() % std::size(special_lat)] : RandomIn(rng, -90, 90);
  } else {
    p.x = RandomIn(rng, -1e6, 1e6) * (rng() % 5 == 0 ? 1e290 : 1);
    p.y = RandomIn(rng, -1e6, 1e6);
  }
  p.z = rng() % 3 == 0 ? special_z[rng() % std::size(special_z)]
                       : (rng() % 2 ? 0.0 : RandomIn(rng, -1e4, 1e4));
  return p;
}

inline nlohmann::json RandomJson(std::mt19937_64& rng, int depth) {
  switch (rng() % (depth > 0 ? 8 : 6)) {
    case 0: return nullptr;
    case 1: return rng() % 2 == 0;
    case 2: return static_cast<int64_t>(rng());
    case 3: return RandomIn(rng, -1e6, 1e6);
    case 4: return RandomId(rng);
    case 5: return rng();  // unsigned, up to 2^64 - 1
    case 6: {
      nlohmann::json a = nlohmann::json::array();
      for (size_t i = rng() % 4; i > 0; --i) a.push_back(RandomJson(rng, depth - 1));
      return a;
    }
    default: {
      nlohmann::json o = nlohmann::json::object();
      for (size_t i = rng() % 4; i > 0; --i) o[RandomId(rng)] = RandomJson(rng, depth - 1);
      return o;
    }
  }
}

inline std::string RandomMetadata(std::mt19937_64& rng, const std::string& id) {
  switch (rng() % 7) {
    case 0: return "";
    case 1: {  // what SetMetadataJson writes: exported as "metadata"
      Object o;
      o.id = id;
      EXPECT_TRUE(SetMetadataJson(o, RandomJson(rng, 3)).ok());
      return o.metadata;
    }
    case 2: return R"({"z":1,"a":{"y":[true,null]}})";  // compact, unsorted keys
    case 3: return "{ \"spaced\" : 1 }";                  // JSON, not compact: text
    case 4: return RandomId(rng);                         // UTF-8 text (sometimes JSON)
    case 5: return "1e400";                               // JSON whose double is infinite
    default: {                                            // arbitrary bytes: base64
      std::string b(rng() % 9, '\0');
      for (char& c : b) c = static_cast<char>(rng());
      return b;
    }
  }
}

}  // namespace locus::geojson_testing

#endif  // LOCUS_TESTS_API_GEOJSON_TEST_DATA_H_
