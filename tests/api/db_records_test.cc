// Tests how locus::Db stores its records: ids of every length (api/db/namespace.h).
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "locus/db.h"

// The tests build objects with designated initializers naming only the fields they need;
// GCC's -Wextra warns about every field left to its default.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace locus {
namespace {

// Ids are stored inline up to 15 bytes and on the heap beyond (db_internal::StoredId): every
// length on both sides of that edge, including bytes that are not text, survives upserts,
// key reuse after deletes, a bulk load's renumbering and queries.
TEST(DbRecordsTest, IdsOfEveryLengthRoundTrip) {
  auto db = std::move(Db::OpenInMemory()).value();
  ASSERT_TRUE(db->CreateNamespace("ids", {.coordinates = CoordinateSystem::kPlanar2D}).ok());
  std::vector<std::string> ids;
  for (size_t len = 1; len <= 40; ++len) {
    for (char c : {'a', 'z'}) {
      std::string id(len, c);
      if (len >= 2) id[len / 2] = static_cast<char>(len);  // a control byte inside
      ids.push_back(id);
    }
  }
  Batch bulk;  // > 1024 operations: the bulk path, which renumbers keys
  for (size_t i = 0; i < 1500; ++i) {
    bulk.Upsert("ids", {.id = "bulk-" + std::to_string(i), .pos = {double(i), 0}});
  }
  for (size_t i = 0; i < ids.size(); ++i) {
    bulk.Upsert("ids", {.id = ids[i], .pos = {double(i), 1}});
  }
  ASSERT_TRUE(db->Apply(bulk).ok());
  for (size_t i = 0; i < ids.size(); ++i) {
    auto got = db->Get("ids", ids[i]);
    ASSERT_TRUE(got.ok()) << ids[i].size();
    EXPECT_EQ(got->id, ids[i]);
    EXPECT_EQ(got->pos.x, double(i));
  }
  // Delete every other one, then insert new ids (reusing the freed keys) of other lengths.
  for (size_t i = 0; i < ids.size(); i += 2) ASSERT_TRUE(db->Delete("ids", ids[i]).ok());
  std::vector<std::string> fresh;
  for (size_t i = 0; i < ids.size(); i += 2) {
    fresh.push_back(std::string(41 - ids[i].size(), 'q') + std::to_string(i));
    ASSERT_TRUE(db->Upsert("ids", {.id = fresh.back(), .pos = {double(i), 2}}).ok());
  }
  for (size_t i = 0; i < ids.size(); ++i) {
    EXPECT_EQ(db->Get("ids", ids[i]).ok(), i % 2 == 1) << ids[i].size();
  }
  QueryOptions every;
  every.limit = 1'000'000;
  auto all = db->InBox("ids", {-1, -1, 0}, {1e9, 3, 0}, every);
  ASSERT_TRUE(all.ok());
  std::set<std::string> seen;
  for (const Hit& h : all->hits) seen.insert(h.id);
  EXPECT_EQ(seen.size(), 1500 + ids.size());
  for (const std::string& id : fresh) EXPECT_EQ(seen.count(id), 1u) << id;
  for (size_t i = 1; i < ids.size(); i += 2) EXPECT_EQ(seen.count(ids[i]), 1u) << ids[i].size();
}

}  // namespace
}  // namespace locus
