// The README's "History and trajectories" example, compiled and run: the code between the
// README markers below is the README's snippet, line for line, and the test checks what its
// comments say on a small made-up fleet (a truck driving east that stops for 6 minutes, a van
// driving west along the same street).
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "locus/check.h"
#include "locus/db.h"

// The README's style: designated initializers naming only the fields they need.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace locus {
namespace {

TEST(ReadmeExampleTest, HistoryAndTrajectories) {
  auto db = Db::OpenInMemory().value();
  const int64_t t0 = 1'700'000'000'000, t1 = t0 + 20 * 60'000, t = t0 + 10 * 60'000;
  // The van's samples: west along latitude 48.85, one a minute, given in any order.
  std::vector<Sample> samples;
  for (int m = 20; m >= 0; --m) samples.push_back({t0 + m * 60'000, {2.32 - 0.001 * m, 48.85, 0}});
  // README begin
  locus::NamespaceOptions o{.coordinates = locus::CoordinateSystem::kGeographic};
  o.history = {.enabled = true, .retention_ms = 7 * 86'400'000};  // keep a week
  LOCUS_CHECK(db->CreateNamespace("fleet", o).ok());
  for (int m = 0; m <= 20; ++m) {  // the truck drives east, with a stop from minute 7 to 13
    const double lon = 2.30 + 0.001 * (m < 7 ? m : m <= 13 ? 7 : m - 6);
    LOCUS_CHECK(db->Upsert("fleet", {.id = "truck-7", .pos = {lon, 48.85}, .timestamp = t0 + m * 60'000}).ok());
  }
  LOCUS_CHECK(db->InsertTrajectory("fleet", "van-2", samples).ok());  // any order, all or none
  auto path = db->Trajectory("fleet", "truck-7", t0, t1, {.simplify_tolerance = 5});  // metres
  auto then = db->PositionAt("fleet", "truck-7", t);   // interpolated between samples
  auto slice = db->SliceAt("fleet", t, locus::Region::Circle({2.31, 48.85}, 2'000));
  auto passed = db->PassedThrough("fleet", locus::Region::Box({2.3095, 48.84}, {2.3105, 48.86}), t0, t1);
  auto nearest = db->NearestAt("fleet", {2.30, 48.85}, t, 5);
  auto cpa = db->ClosestApproach("fleet", "truck-7", "van-2", t0, t1);  // when and how close
  auto met = db->Encounters("fleet", 50, t0, t1);       // every pair within 50 m at the same time
  auto how = db->TrajectoryStats("fleet", "truck-7", t0, t1);  // length, duration, speeds
  auto stops = db->Stops("fleet", "truck-7", t0, t1, 30, 300'000);  // stays of 5 min within 30 m
  // README end

  ASSERT_TRUE(path.ok() && then.ok() && slice.ok() && passed.ok() && nearest.ok() && cpa.ok() &&
              met.ok() && how.ok() && stops.ok());
  // Simplified: the straight drives collapse to their ends and the stop's ends.
  EXPECT_LT(path->samples.size(), 8u);
  EXPECT_EQ(path->samples.front().t, t0);
  EXPECT_EQ(path->samples.back().t, t1);
  EXPECT_NEAR(then->x, 2.307, 1e-9);  // minute 10: in the stop
  EXPECT_EQ(slice->hits.size(), 2u);
  // Both crossed lon 2.31 (the truck at minute 16, the van at minute 10), between samples.
  ASSERT_EQ(passed->passages.size(), 2u);
  EXPECT_EQ(passed->passages[0].id, "truck-7");
  EXPECT_EQ(passed->passages[1].id, "van-2");
  EXPECT_EQ(nearest->hits.front().id, "truck-7");
  EXPECT_LT(cpa->distance, 1.0);  // they pass each other on the same street
  ASSERT_FALSE(met->encounters.empty());
  EXPECT_EQ(met->encounters[0].id_a, "truck-7");
  EXPECT_EQ(met->encounters[0].id_b, "van-2");
  EXPECT_EQ(how->duration_ms, 20 * 60'000);
  EXPECT_NEAR(how->length, 14 * 0.001 * 111'320 * 0.6579, 200);  // 14 x 0.001 deg at 48.85 N
  ASSERT_EQ(stops->size(), 1u);
  EXPECT_EQ((*stops)[0].t_start, t0 + 7 * 60'000);
  EXPECT_EQ((*stops)[0].t_end, t0 + 13 * 60'000);
}

}  // namespace
}  // namespace locus
