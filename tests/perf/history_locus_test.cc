// W8's locus side (perf/history_locus.h): locus's answers pass the checks the benchmark runs
// before it reports a number, on the --quick data set (500 objects x 200 samples) and 30
// queries of each row; and each check fails on a wrong answer (a sample, passage, slice row
// or encounter dropped, added or moved), so a benchmark that reports has been checked.
#include "perf/history_locus.h"

#include <gtest/gtest.h>

#include <cstdlib>

namespace locus::perf {
namespace {

uint64_t Seed() {
  const char* env = std::getenv("LOCUS_TEST_SEED");
  return env && *env ? std::strtoull(env, nullptr, 0) : kW8Seed;
}

class HistoryLocusTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    data_ = new std::vector<HistorySample>(
        GenerateW8(kW8Quick.objects, kW8Quick.samples_per_object, Seed()));
    queries_ = new W8Queries(
        GenerateW8Queries(*data_, kW8Quick.objects, kW8Quick.samples_per_object, 30, kW8QuerySeed));
    auto opened = W8Locus::OpenInMemory();
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    db_ = opened.value().release();
    const Status s = db_->Load(*data_);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  static void TearDownTestSuite() {
    delete db_;
    delete queries_;
    delete data_;
  }
  void SetUp() override { ASSERT_NE(db_, nullptr); }

  static std::vector<HistorySample>* data_;
  static W8Queries* queries_;
  static W8Locus* db_;
};
std::vector<HistorySample>* HistoryLocusTest::data_ = nullptr;
W8Queries* HistoryLocusTest::queries_ = nullptr;
W8Locus* HistoryLocusTest::db_ = nullptr;

TEST(W8ObjectNumberTest, ParsesOnlyW8Names) {
  EXPECT_EQ(W8ObjectNumber(W8ObjectName(0)), 0);
  EXPECT_EQ(W8ObjectNumber(W8ObjectName(9999)), 9999);
  EXPECT_EQ(W8ObjectNumber("vehicle-"), -1);
  EXPECT_EQ(W8ObjectNumber("vehicle-1x"), -1);
  EXPECT_EQ(W8ObjectNumber("truck-1"), -1);
  EXPECT_EQ(W8ObjectNumber("vehicle-99999999999"), -1);
}

TEST_F(HistoryLocusTest, LoadKeepsEverySample) {
  auto stats = db_->Stats();
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->history_samples, data_->size());
  EXPECT_EQ(stats->objects, kW8Quick.objects);
}

TEST_F(HistoryLocusTest, TrajectoryMatchesReferenceAndCheckCatchesChanges) {
  for (size_t i = 0; i < queries_->trajectory.size(); ++i) {
    const W8TrajectoryQuery& q = queries_->trajectory[i];
    auto r = db_->Trajectory(q);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    const Status s = CheckTrajectory(*data_, q, *r);
    ASSERT_TRUE(s.ok()) << "query " << i << ": " << s.ToString();
    ASSERT_FALSE(r->samples.empty()) << "query " << i;
    auto moved = *r;
    moved.samples.back().pos.y += 1e-12;
    EXPECT_FALSE(CheckTrajectory(*data_, q, moved).ok()) << "query " << i;
    auto dropped = *r;
    dropped.samples.pop_back();
    EXPECT_FALSE(CheckTrajectory(*data_, q, dropped).ok()) << "query " << i;
  }
}

TEST_F(HistoryLocusTest, PassedThroughHoldsReferenceAndCheckCatchesChanges) {
  size_t hits = 0, extra = 0;
  for (size_t i = 0; i < queries_->passed_through.size(); ++i) {
    const W8PassedThroughQuery& q = queries_->passed_through[i];
    auto r = db_->PassedThrough(q);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    const Status s = CheckPassedThrough(*data_, q, *r);
    ASSERT_TRUE(s.ok()) << "query " << i << ": " << s.ToString();
    const size_t want = ReferencePassedThrough(*data_, q).size();
    ASSERT_GE(r->passages.size(), want);
    hits += r->passages.size();
    extra += r->passages.size() - want;
    ASSERT_FALSE(r->passages.empty()) << "query " << i;  // the box is centred on a sample
    auto dropped = *r;
    dropped.passages.erase(dropped.passages.begin());
    EXPECT_FALSE(CheckPassedThrough(*data_, q, dropped).ok()) << "query " << i;
    auto late = *r;
    late.passages[0].t += 2000;
    EXPECT_FALSE(CheckPassedThrough(*data_, q, late).ok()) << "query " << i;
    auto added = *r;
    added.passages.push_back({W8ObjectName(0), static_cast<double>(q.begin_ms), {}});
    if (r->passages.back().id != W8ObjectName(0)) {
      EXPECT_FALSE(CheckPassedThrough(*data_, q, added).ok()) << "query " << i;
    }
  }
  EXPECT_GT(hits, queries_->passed_through.size());
  // Crossings between samples exist at this size (the check's superset rule is exercised).
  EXPECT_GT(extra, 0u);
}

TEST_F(HistoryLocusTest, SliceMatchesReferenceAndCheckCatchesChanges) {
  size_t hits = 0;
  for (size_t i = 0; i < queries_->slice.size(); ++i) {
    const W8SliceQuery& q = queries_->slice[i];
    auto r = db_->Slice(q);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    const Status s = CheckSlice(*data_, q, *r);
    ASSERT_TRUE(s.ok()) << "query " << i << ": " << s.ToString();
    hits += r->hits.size();
    if (r->hits.empty()) continue;
    auto moved = *r;
    moved.hits[0].pos.x += 1e-6;
    EXPECT_FALSE(CheckSlice(*data_, q, moved).ok()) << "query " << i;
    auto dropped = *r;
    dropped.hits.pop_back();
    EXPECT_FALSE(CheckSlice(*data_, q, dropped).ok()) << "query " << i;
  }
  EXPECT_GT(hits, queries_->slice.size());
}

// At the data's last time every object that ends earlier has no position in locus, while
// the reference keeps its last sample: the check allows exactly that.
TEST_F(HistoryLocusTest, SliceAtTheEndLeavesOutEndedObjects) {
  int64_t last = 0;
  for (const HistorySample& s : *data_) last = std::max(last, s.t_ms);
  const W8SliceQuery q{W8Area(), last};
  auto r = db_->Slice(q);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const Status s = CheckSlice(*data_, q, *r);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(ReferenceSlice(*data_, q).size(), kW8Quick.objects);
  EXPECT_LT(r->hits.size(), kW8Quick.objects);
  EXPECT_GT(r->hits.size(), 0u);
}

TEST_F(HistoryLocusTest, EncountersMatchOracleAndCheckCatchesChanges) {
  size_t pairs = 0;
  for (size_t i = 0; i < 3; ++i) {
    const W8EncounterQuery& q = queries_->encounters[i];
    auto r = db_->Encounters(q);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    W8EncounterCounts counts;
    const Status s = CheckEncounters(*data_, q, *r, &counts);
    ASSERT_TRUE(s.ok()) << "query " << i << ": " << s.ToString();
    pairs += counts.pairs;
    EXPECT_GT(counts.sample_pairs, 0u);
    ASSERT_FALSE(r->encounters.empty());
    // Drop every interval of one pair.
    auto dropped = *r;
    const Encounter first = dropped.encounters[0];
    std::erase_if(dropped.encounters,
                  [&](const Encounter& e) { return e.id_a == first.id_a && e.id_b == first.id_b; });
    EXPECT_FALSE(CheckEncounters(*data_, q, dropped).ok()) << "query " << i;
    // A pair that never meets: objects 0 and 1 start kilometres apart (or add nothing).
    auto added = *r;
    added.encounters.push_back({W8ObjectName(0), W8ObjectName(1), static_cast<double>(q.begin_ms),
                                static_cast<double>(q.begin_ms), 10,
                                static_cast<double>(q.begin_ms)});
    bool met = false;
    for (const Encounter& e : r->encounters) {
      met |= e.id_a == W8ObjectName(0) && e.id_b == W8ObjectName(1);
    }
    if (!met) {
      EXPECT_FALSE(CheckEncounters(*data_, q, added).ok()) << "query " << i;
    }
  }
  EXPECT_GT(pairs, 0u);
}

}  // namespace
}  // namespace locus::perf
