// Tests the visitor forms of locus::Db's queries (locus/db.h: HitView, HitVisitor) against
// the collecting forms on geographic, planar 2D and planar 3D namespaces.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "locus/db.h"
#include "tests/testing/harness.h"

// The tests build objects with designated initializers naming only the fields they need;
// GCC's -Wextra warns about every field left to its default.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace locus {
namespace {

using ::locus::testing::SeedTrace;
using ::locus::testing::TestSeed;

// The visitor forms of the queries (HitView) give exactly the hits of the collecting forms,
// in the same order, with the same truncation and the same errors; a visitor that stops
// receives no further hit.
TEST(DbVisitorTest, VisitorFormsMatchTheCollectingFormsAndStopEarly) {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE(SeedTrace(seed));
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  auto db = std::move(Db::OpenInMemory()).value();
  for (auto cs :
       {CoordinateSystem::kGeographic, CoordinateSystem::kPlanar2D, CoordinateSystem::kPlanar3D}) {
    const std::string ns = std::string("v").append(std::to_string(static_cast<int>(cs)));
    ASSERT_TRUE(db->CreateNamespace(ns, {.coordinates = cs}).ok());
    const bool geo = cs == CoordinateSystem::kGeographic;
    auto at = [&](double a, double b) {
      return geo ? Position{a * 2 - 1, 50 + b * 2, 0} : Position{a * 1000, b * 1000, b * 10};
    };
    Batch b;
    for (int i = 0; i < 3000; ++i) {
      // (append: operator+ on the literal trips GCC 12's -Wrestrict false positive)
      b.Upsert(ns, {.id = std::string("object-number-").append(std::to_string(i)),
                    .pos = at(u(rng), u(rng)),
                    .timestamp = i % 50,
                    .metadata = i % 3 ? "" : std::string("meta").append(std::to_string(i))});
    }
    ASSERT_TRUE(db->Apply(b).ok());
    auto same = [](const std::vector<Hit>& want, const std::vector<HitView>& got) {
      if (want.size() != got.size()) return false;
      for (size_t i = 0; i < want.size(); ++i) {
        const Hit& w = want[i];
        const HitView& g = got[i];
        if (w.id != g.id || w.pos.x != g.pos.x || w.pos.y != g.pos.y || w.pos.z != g.pos.z ||
            w.timestamp != g.timestamp || w.distance != g.distance || w.metadata != g.metadata) {
          return false;
        }
      }
      return true;
    };
    size_t compared = 0;
    for (int q = 0; q < 60; ++q) {
      QueryOptions o;
      o.with_metadata = q % 2 == 0;
      o.limit = q % 3 == 0 ? 7 : 100000;
      if (q % 4 == 1) o.updated_from = 10;
      const Position c = at(u(rng), u(rng));
      const double radius = geo ? 20000 * u(rng) : 150 * u(rng);
      const Position lo = at(u(rng) * 0.5, u(rng) * 0.5);
      const Position hi = at(0.5 + u(rng) * 0.5, 0.5 + u(rng) * 0.5);
      const std::vector<std::vector<Position>> rings = {{lo, {hi.x, lo.y, 0}, hi}};
      const size_t k = 1 + rng() % 30;
      // Stored copies: a view is valid only during the visitor's call.
      std::vector<std::string> ids, metas;
      std::vector<HitView> got;
      auto collect = [&](const HitView& v) {
        ids.emplace_back(v.id);
        metas.emplace_back(v.metadata);
        got.push_back(v);
        return true;
      };
      auto check = [&](const Result<QueryResult>& want, const Result<VisitResult>& visited,
                       const char* what) {
        ASSERT_EQ(want.ok(), visited.ok()) << what;
        if (!want.ok()) {
          EXPECT_EQ(want.status().ToString(), visited.status().ToString()) << what;
          return;
        }
        for (size_t i = 0; i < got.size(); ++i) {
          got[i].id = ids[i];
          got[i].metadata = metas[i];
        }
        EXPECT_TRUE(same(want->hits, got)) << what << " query " << q;
        EXPECT_EQ(want->truncated, visited->truncated) << what;
        EXPECT_EQ(visited->hits, got.size()) << what;
        EXPECT_FALSE(visited->stopped) << what;
        compared += want->hits.size();
        ids.clear();
        metas.clear();
        got.clear();
      };
      check(db->WithinRadius(ns, c, radius, o), db->WithinRadius(ns, c, radius, o, collect),
            "radius");
      check(db->InBox(ns, lo, hi, o), db->InBox(ns, lo, hi, o, collect), "box");
      check(db->Nearest(ns, c, k, o), db->Nearest(ns, c, k, o, collect), "knn");
      check(db->WithinPolygon(ns, rings, o), db->WithinPolygon(ns, rings, o, collect), "polygon");
      // Errors: the same status from both forms.
      check(db->WithinRadius(ns, c, -1, o), db->WithinRadius(ns, c, -1, o, collect), "bad radius");
      check(db->Nearest("absent", c, k, o), db->Nearest("absent", c, k, o, collect), "absent");
      // Stopping after `stop` hits.
      const size_t stop = 1 + rng() % 5;
      size_t seen = 0;
      auto stopper = [&](const HitView&) { return ++seen < stop; };
      auto r = db->WithinRadius(ns, c, radius, o, stopper);
      ASSERT_TRUE(r.ok());
      const size_t all = db->WithinRadius(ns, c, radius, o)->hits.size();
      EXPECT_EQ(seen, std::min(stop, all));
      EXPECT_EQ(r->hits, seen);
      EXPECT_EQ(r->stopped, all >= stop);
    }
    EXPECT_GT(compared, 1000u) << ns;
  }
}

}  // namespace
}  // namespace locus
