// W8's PostGIS peer (perf/history_postgis.h) against the reference answers of
// perf/history_data.h, on a real PostgreSQL 15 + PostGIS 3.3 (tests/testing/postgres_server.h):
// the benchmark's SQL must answer exactly the questions locus answers, on the --quick data set
// (500 objects x 200 samples) and 30 queries of each row.
#include "perf/history_postgis.h"

#include <gtest/gtest.h>

#include <cstdlib>

namespace locus::perf {
namespace {

uint64_t Seed() {
  const char* env = std::getenv("LOCUS_TEST_SEED");
  return env && *env ? std::strtoull(env, nullptr, 0) : kW8Seed;
}

class HistoryPostgisTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto started = W8Postgis::Start();
    if (!started.ok()) {
      const char* skip = std::getenv("LOCUS_SKIP_POSTGRES_TESTS");
      if (skip && std::string(skip) == "1") GTEST_SKIP() << started.status().ToString();
      FAIL() << started.status().ToString()
             << "\n(needs postgresql-15 and postgresql-15-postgis-3: run .ci/deps, or set "
                "LOCUS_SKIP_POSTGRES_TESTS=1 to skip)";
    }
    pg_ = std::move(started).value();
    data_ = GenerateW8(kW8Quick.objects, kW8Quick.samples_per_object, Seed());
    auto copied = pg_->Load(W8Postgis::EncodeCopy(data_));
    ASSERT_TRUE(copied.ok()) << copied.status().ToString();
    ASSERT_EQ(*copied, data_.size());
    ASSERT_TRUE(pg_->Prepare().ok());
    queries_ =
        GenerateW8Queries(data_, kW8Quick.objects, kW8Quick.samples_per_object, 30, kW8QuerySeed);
  }

  std::unique_ptr<W8Postgis> pg_;
  std::vector<HistorySample> data_;
  W8Queries queries_;
};

void ExpectSamplesEqual(const std::vector<HistorySample>& got,
                        const std::vector<HistorySample>& want, size_t query) {
  ASSERT_EQ(got.size(), want.size()) << "query " << query;
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].object, want[i].object) << "query " << query << " row " << i;
    EXPECT_EQ(got[i].t_ms, want[i].t_ms) << "query " << query << " row " << i;
    EXPECT_EQ(got[i].lon, want[i].lon) << "query " << query << " row " << i;
    EXPECT_EQ(got[i].lat, want[i].lat) << "query " << query << " row " << i;
  }
}

TEST_F(HistoryPostgisTest, LoadKeepsEverySampleExactly) {
  auto rows = pg_->Exec(
      "SELECT count(*), sum(object), sum(t), "
      "bool_and(ST_Z(geom) = (t - 1700000000000) / 1000.0::float8) "
      "FROM samples");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  uint64_t objects = 0;
  int64_t times = 0;
  for (const HistorySample& s : data_) objects += s.object, times += s.t_ms;
  EXPECT_EQ((*rows)[0],
            (std::vector<std::string>{std::to_string(data_.size()), std::to_string(objects),
                                      std::to_string(times), "t"}));
  // A reload replaces the table (the Ingest row loads once per repetition).
  auto again = pg_->Load(W8Postgis::EncodeCopy(std::span(data_).first(1000)));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(*again, 1000u);
  auto count = pg_->Exec("SELECT count(*) FROM samples");
  ASSERT_TRUE(count.ok());
  EXPECT_EQ((*count)[0][0], "1000");
  // The prepared statements survive the new table.
  auto r = pg_->Run(W8Row::kTrajectory, W8Postgis::Params(W8TrajectoryQuery{0, 0, INT64_MAX}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->rows(), int(kW8Quick.samples_per_object));
}

TEST_F(HistoryPostgisTest, TrajectoryMatchesReference) {
  for (size_t i = 0; i < queries_.trajectory.size(); ++i) {
    const W8TrajectoryQuery& q = queries_.trajectory[i];
    auto r = pg_->Run(W8Row::kTrajectory, W8Postgis::Params(q));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ExpectSamplesEqual(W8Postgis::DecodeTrajectory(*r, q.object), ReferenceTrajectory(data_, q), i);
  }
}

TEST_F(HistoryPostgisTest, PassedThroughMatchesReference) {
  size_t hits = 0;
  for (size_t i = 0; i < queries_.passed_through.size(); ++i) {
    const W8PassedThroughQuery& q = queries_.passed_through[i];
    auto r = pg_->Run(W8Row::kPassedThrough, W8Postgis::Params(q));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    const auto want = ReferencePassedThrough(data_, q);
    EXPECT_EQ(W8Postgis::DecodePassedThrough(*r), want) << "query " << i;
    hits += want.size();
  }
  EXPECT_GT(hits, queries_.passed_through.size());
}

TEST_F(HistoryPostgisTest, SliceMatchesReference) {
  size_t hits = 0;
  for (size_t i = 0; i < queries_.slice.size(); ++i) {
    const W8SliceQuery& q = queries_.slice[i];
    auto r = pg_->Run(W8Row::kSlice, W8Postgis::Params(q));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    const auto want = ReferenceSlice(data_, q);
    ExpectSamplesEqual(W8Postgis::DecodeSlice(*r, q.t_ms), want, i);
    hits += want.size();
  }
  EXPECT_GT(hits, queries_.slice.size());
}

// The last sample of each object has no successor: a slice at the data's last time keeps
// those samples as they are.
TEST_F(HistoryPostgisTest, SliceAtTheEndUsesLastSamples) {
  int64_t last = 0;
  for (const HistorySample& s : data_) last = std::max(last, s.t_ms);
  const W8SliceQuery q{W8Area(), last};
  auto r = pg_->Run(W8Row::kSlice, W8Postgis::Params(q));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const auto want = ReferenceSlice(data_, q);
  EXPECT_EQ(want.size(), kW8Quick.objects);
  ExpectSamplesEqual(W8Postgis::DecodeSlice(*r, q.t_ms), want, 0);
}

TEST_F(HistoryPostgisTest, EncountersMatchReference) {
  size_t pairs = 0;
  for (size_t i = 0; i < 5; ++i) {
    const W8EncounterQuery& q = queries_.encounters[i];
    auto r = pg_->Run(W8Row::kEncounters, W8Postgis::Params(q));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    const auto want = ReferenceEncounters(data_, q);
    EXPECT_EQ(W8Postgis::DecodeEncounters(*r), want) << "query " << i;
    pairs += want.size();
  }
  EXPECT_GT(pairs, 0u);
}

}  // namespace
}  // namespace locus::perf
