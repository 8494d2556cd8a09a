// Tests locus::Db (locus/db.h): a model-based test (random upserts with fresh and stale
// timestamps, deletes, atomic batches including invalid ones, clock advances that expire
// objects, bounded sweeps; after every step Get and radius / box / kNN / cylinder / polygon
// queries, the queries around a random object (self excluded and included) and the counts,
// with time filters and limits, are compared with a reference model: a map plus brute-force
// geometry) on planar 2D, planar 3D and geographic namespaces; geographic edge cases
// (antimeridian, poles, tiny and planet-sized radii, cylinders); bad input named and leaving
// the state unchanged; namespaces; Stats' memory against a counting operator new; and batch
// atomicity and queries around a moving object under concurrent readers and writers. The
// visitor forms, ids of every length and the namespace lock have files of their own
// (db_visitor_test.cc, db_records_test.cc, rw_lock_test.cc).
#include "locus/db.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <functional>
#include <cstdlib>
#include <map>
#include <new>
#include <random>
#include <set>
#include <thread>

#include "tests/testing/harness.h"

// Counting global allocation functions for this test binary: DbStatsTest compares
// NamespaceStats::memory_bytes with the bytes operator new actually handed out. Each block
// carries its size (and its header's size) just before the pointer returned.
namespace {
std::atomic<int64_t> g_heap_bytes{0};

void* CountedAlloc(size_t n, size_t align) {
  const size_t header = std::max<size_t>(align, __STDCPP_DEFAULT_NEW_ALIGNMENT__);
  void* base = align > __STDCPP_DEFAULT_NEW_ALIGNMENT__
                   ? std::aligned_alloc(align, (n + header + align - 1) / align * align)
                   : std::malloc(n + header);
  if (base == nullptr) throw std::bad_alloc();
  auto* p = static_cast<char*>(base) + header;
  reinterpret_cast<size_t*>(p)[-1] = n;
  reinterpret_cast<size_t*>(p)[-2] = header;
  g_heap_bytes.fetch_add(static_cast<int64_t>(n), std::memory_order_relaxed);
  return p;
}

void CountedFree(void* ptr) noexcept {
  if (ptr == nullptr) return;
  auto* p = static_cast<char*>(ptr);
  g_heap_bytes.fetch_sub(static_cast<int64_t>(reinterpret_cast<size_t*>(p)[-1]),
                         std::memory_order_relaxed);
  std::free(p - reinterpret_cast<size_t*>(p)[-2]);
}

void* CountedAllocNoThrow(size_t n, size_t align) noexcept {
  try {
    return CountedAlloc(n, align);
  } catch (...) {
    return nullptr;
  }
}
}  // namespace

void* operator new(size_t n) { return CountedAlloc(n, 0); }
void* operator new[](size_t n) { return CountedAlloc(n, 0); }
void* operator new(size_t n, std::align_val_t a) { return CountedAlloc(n, size_t(a)); }
void* operator new[](size_t n, std::align_val_t a) { return CountedAlloc(n, size_t(a)); }
void* operator new(size_t n, const std::nothrow_t&) noexcept { return CountedAllocNoThrow(n, 0); }
void* operator new[](size_t n, const std::nothrow_t&) noexcept {
  return CountedAllocNoThrow(n, 0);
}
void* operator new(size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return CountedAllocNoThrow(n, size_t(a));
}
void* operator new[](size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return CountedAllocNoThrow(n, size_t(a));
}
void operator delete(void* p) noexcept { CountedFree(p); }
void operator delete[](void* p) noexcept { CountedFree(p); }
void operator delete(void* p, size_t) noexcept { CountedFree(p); }
void operator delete[](void* p, size_t) noexcept { CountedFree(p); }
void operator delete(void* p, std::align_val_t) noexcept { CountedFree(p); }
void operator delete[](void* p, std::align_val_t) noexcept { CountedFree(p); }
void operator delete(void* p, size_t, std::align_val_t) noexcept { CountedFree(p); }
void operator delete[](void* p, size_t, std::align_val_t) noexcept { CountedFree(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { CountedFree(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { CountedFree(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept {
  CountedFree(p);
}
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept {
  CountedFree(p);
}

// The tests build objects with designated initializers naming only the fields they need;
// GCC's -Wextra warns about every field left to its default.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace locus {
namespace {

using ::locus::testing::SeedTrace;
using ::locus::testing::TestSeed;

constexpr double kR = 6371008.8;  // the sphere locus measures on (kernels/geo.h)
constexpr double kPi = 3.14159265358979323846;

// Independent great-circle distance (haversine in long double) for the oracle.
double GreatCircle(const Position& a, const Position& b) {
  const long double d = kPi / 180;
  const long double dlat = (b.y - a.y) * d, dlon = (b.x - a.x) * d;
  const long double s1 = std::sin(dlat / 2), s2 = std::sin(dlon / 2);
  long double h = s1 * s1 + std::cos(a.y * d) * std::cos(b.y * d) * s2 * s2;
  h = std::min<long double>(1, std::max<long double>(0, h));
  return static_cast<double>(2 * kR * std::asin(std::sqrt(h)));
}

double Dist(CoordinateSystem cs, const Position& a, const Position& b) {
  if (cs == CoordinateSystem::kGeographic) return GreatCircle(a, b);
  const double dz = cs == CoordinateSystem::kPlanar3D ? a.z - b.z : 0;
  return std::sqrt((a.x - b.x) * (a.x - b.x) + (a.y - b.y) * (a.y - b.y) + dz * dz);
}

// The distance a cylinder measures: on the ground (great circle) or in x/y.
double Horizontal(CoordinateSystem cs, const Position& a, const Position& b) {
  if (cs == CoordinateSystem::kGeographic) return GreatCircle(a, b);
  return std::sqrt((a.x - b.x) * (a.x - b.x) + (a.y - b.y) * (a.y - b.y));
}

// Independent point-in-polygon (even-odd crossings; points exactly on an edge are not
// decided consistently, so tests keep points off the edges).
bool EvenOdd(const std::vector<std::vector<Position>>& rings, double x, double y) {
  bool in = false;
  for (const auto& ring : rings) {
    for (size_t i = 0, j = ring.size() - 1; i < ring.size(); j = i++) {
      const Position &a = ring[i], &b = ring[j];
      if ((a.y > y) != (b.y > y) && x < (b.x - a.x) * (y - a.y) / (b.y - a.y) + a.x) in = !in;
    }
  }
  return in;
}

struct ModelObject {
  Position pos;
  int64_t timestamp;
  std::string metadata;
  int64_t expires;  // INT64_MAX: never
};

struct Model {
  CoordinateSystem cs;
  std::map<std::string, ModelObject> objects;
  bool Visible(const ModelObject& o, int64_t now) const { return o.expires > now; }
};

Position RandomPosition(CoordinateSystem cs, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(0, 1);
  Position p;
  if (cs == CoordinateSystem::kGeographic) {
    switch (rng() % 4) {
      case 0:  // anywhere
        p.x = -180 + 360 * u(rng);
        p.y = std::asin(2 * u(rng) - 1) * 180 / kPi;
        break;
      case 1:  // around the antimeridian
        p.x = (rng() % 2 ? 179.0 : -180.0) + u(rng);
        p.y = -10 + 20 * u(rng);
        break;
      case 2:  // near the north pole
        p.x = -180 + 360 * u(rng);
        p.y = 89 + u(rng);
        break;
      default:  // a city-sized cluster
        p.x = 2.3 + 0.2 * u(rng);
        p.y = 48.8 + 0.1 * u(rng);
    }
    p.z = 100 * u(rng);
  } else {
    const bool dup = rng() % 5 == 0;
    p.x = dup ? std::floor(u(rng) * 4) * 250 : 1000 * u(rng);
    p.y = dup ? std::floor(u(rng) * 4) * 250 : 1000 * u(rng);
    p.z = cs == CoordinateSystem::kPlanar3D ? 1000 * u(rng) : 0;
  }
  return p;
}

void RunModel(CoordinateSystem cs, uint64_t seed) {
  SCOPED_TRACE(std::string(CoordinateSystemName(cs)) + ", " + SeedTrace(seed));
  std::mt19937_64 rng(seed);
  auto clock = std::make_shared<ManualClock>(1'000'000);
  DbOptions options;
  options.clock = clock;
  options.sweep_interval_ms = 0;
  options.block_rows = 32;
  auto db_or = Db::OpenInMemory(options);
  ASSERT_TRUE(db_or.ok());
  Db& db = **db_or;
  ASSERT_TRUE(db.CreateNamespace("ns", {.coordinates = cs}).ok());
  Model model{cs, {}};
  auto id_of = [&](uint64_t i) { return "obj-" + std::to_string(i % 300); };
  auto random_object = [&]() {
    Object o;
    o.id = id_of(rng());
    o.pos = RandomPosition(cs, rng);
    o.timestamp = clock->NowMillis() - static_cast<int64_t>(rng() % 2000);
    o.metadata = std::string(rng() % 4, static_cast<char>('a' + rng() % 26));
    if (rng() % 4 == 0) o.ttl_ms = 1 + static_cast<int64_t>(rng() % 5000);
    return o;
  };
  auto apply_model = [&](const Object& o) {
    const int64_t now = clock->NowMillis();
    auto it = model.objects.find(o.id);
    if (it != model.objects.end() && model.Visible(it->second, now) &&
        o.timestamp < it->second.timestamp) {
      return WriteOutcome::kStale;
    }
    model.objects[o.id] = {o.pos, o.timestamp, o.metadata,
                           o.ttl_ms ? now + *o.ttl_ms : INT64_MAX};
    return WriteOutcome::kApplied;
  };
  size_t stale = 0, checked = 0, nonempty = 0, nonempty_cylinders = 0, around_checked = 0;
  for (int step = 0; step < 700; ++step) {
    const int op = static_cast<int>(rng() % 100);
    if (op < 45) {
      const Object o = random_object();
      auto got = db.Upsert("ns", o);
      ASSERT_TRUE(got.ok()) << got.status().ToString();
      const WriteOutcome want = apply_model(o);
      ASSERT_EQ(*got, want);
      stale += want == WriteOutcome::kStale;
    } else if (op < 55) {
      const std::string id = id_of(rng());
      const Status s = db.Delete("ns", id);
      auto it = model.objects.find(id);
      const bool visible = it != model.objects.end() && model.Visible(it->second, clock->NowMillis());
      ASSERT_EQ(s.ok(), visible) << s.ToString();
      if (it != model.objects.end()) model.objects.erase(it);
    } else if (op < 70) {  // a batch, sometimes with an invalid op: all or nothing
      Batch b;
      std::vector<Object> ups;
      const bool poison = rng() % 4 == 0;
      const int n = 1 + static_cast<int>(rng() % 6);
      for (int i = 0; i < n; ++i) {
        Object o = random_object();
        if (poison && i == n - 1) o.pos.x = std::numeric_limits<double>::quiet_NaN();
        ups.push_back(o);
        b.Upsert("ns", o);
      }
      auto got = db.Apply(b);
      if (poison) {
        ASSERT_FALSE(got.ok());
        EXPECT_EQ(got.status().code(), StatusCode::kInvalidArgument);
        EXPECT_NE(got.status().message().find("batch[" + std::to_string(n - 1) + "].pos"),
                  std::string::npos)
            << got.status().ToString();
      } else {
        ASSERT_TRUE(got.ok()) << got.status().ToString();
        for (int i = 0; i < n; ++i) ASSERT_EQ((*got)[i], apply_model(ups[i])) << "op " << i;
      }
    } else if (op < 85) {
      clock->Advance(static_cast<int64_t>(rng() % 700));
    } else if (op < 90) {
      const size_t removed = db.SweepExpired(5);
      EXPECT_LE(removed, 5u);
      // Sweeping removes only expired objects: nothing visible changes. Drop from the model
      // whatever the database no longer holds (expired objects are invisible either way).
    }
    // Every step: Get of a few ids.
    const int64_t now = clock->NowMillis();
    for (int i = 0; i < 3; ++i) {
      const std::string id = id_of(rng());
      auto got = db.Get("ns", id);
      auto it = model.objects.find(id);
      const bool visible = it != model.objects.end() && model.Visible(it->second, now);
      ASSERT_EQ(got.ok(), visible) << id << ": " << got.status().ToString();
      if (visible) {
        EXPECT_EQ(got->pos, it->second.pos);
        EXPECT_EQ(got->timestamp, it->second.timestamp);
        EXPECT_EQ(got->metadata, it->second.metadata);
      }
    }
    if (step % 4 != 0) continue;
    // Queries.
    const Position c = RandomPosition(cs, rng);
    const double radius = cs == CoordinateSystem::kGeographic
                              ? std::pow(10.0, 2 + 5 * std::uniform_real_distribution<double>(0, 1)(rng))
                              : 300 * std::uniform_real_distribution<double>(0, 1)(rng);
    QueryOptions qo;
    qo.limit = 100000;
    qo.with_metadata = true;
    if (rng() % 3 == 0) {
      qo.updated_from = now - static_cast<int64_t>(rng() % 3000);
      qo.updated_to = *qo.updated_from + static_cast<int64_t>(rng() % 2000);
    }
    auto in_window = [&](const ModelObject& o) {
      return (!qo.updated_from || o.timestamp >= *qo.updated_from) &&
             (!qo.updated_to || o.timestamp <= *qo.updated_to);
    };
    std::set<std::string> must, may;  // must: clearly inside; may: within 1 mm of the edge
    for (const auto& [id, o] : model.objects) {
      if (!model.Visible(o, now) || !in_window(o)) continue;
      const double d = Dist(cs, o.pos, c);
      const double tol = cs == CoordinateSystem::kGeographic ? 1e-3 : 1e-9;
      if (d <= radius - tol) must.insert(id);
      if (d <= radius + tol) may.insert(id);
    }
    auto got = db.WithinRadius("ns", c, radius, qo);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_FALSE(got->truncated);
    std::set<std::string> ids;
    for (const Hit& h : got->hits) {
      ids.insert(h.id);
      const ModelObject& o = model.objects.at(h.id);
      EXPECT_EQ(h.pos, o.pos);
      EXPECT_EQ(h.metadata, o.metadata);
      EXPECT_NEAR(h.distance, Dist(cs, o.pos, c), cs == CoordinateSystem::kGeographic ? 1e-3 : 1e-9);
    }
    for (const auto& id : must) ASSERT_TRUE(ids.count(id)) << "radius missed " << id;
    for (const auto& id : ids) ASSERT_TRUE(may.count(id)) << "radius returned " << id;
    auto count = db.CountWithinRadius("ns", c, radius, qo);
    ASSERT_TRUE(count.ok());
    EXPECT_EQ(*count, ids.size());
    nonempty += !must.empty();
    // Box (geographic: sometimes across the antimeridian).
    Position lo = c, hi = c;
    if (cs == CoordinateSystem::kGeographic) {
      const double half_lon = 1 + 30 * std::uniform_real_distribution<double>(0, 1)(rng);
      lo.x = std::remainder(c.x - half_lon, 360.0);
      hi.x = std::remainder(c.x + half_lon, 360.0);
      lo.y = std::max(-90.0, c.y - 10);
      hi.y = std::min(90.0, c.y + 10);
    } else {
      lo.x -= 150, lo.y -= 150, lo.z -= 150, hi.x += 100, hi.y += 100, hi.z += 100;
    }
    std::set<std::string> want_box;
    for (const auto& [id, o] : model.objects) {
      if (!model.Visible(o, now) || !in_window(o)) continue;
      bool in = o.pos.y >= lo.y && o.pos.y <= hi.y;
      if (cs == CoordinateSystem::kGeographic) {
        in &= lo.x <= hi.x ? (o.pos.x >= lo.x && o.pos.x <= hi.x)
                           : (o.pos.x >= lo.x || o.pos.x <= hi.x);
      } else {
        in &= o.pos.x >= lo.x && o.pos.x <= hi.x;
        if (cs == CoordinateSystem::kPlanar3D) in &= o.pos.z >= lo.z && o.pos.z <= hi.z;
      }
      if (in) want_box.insert(id);
    }
    auto box = db.InBox("ns", lo, hi, qo);
    ASSERT_TRUE(box.ok()) << box.status().ToString();
    std::set<std::string> got_box;
    for (const Hit& h : box->hits) got_box.insert(h.id);
    ASSERT_EQ(got_box, want_box) << "box, step " << step;
    auto box_count = db.CountInBox("ns", lo, hi, qo);
    ASSERT_TRUE(box_count.ok());
    EXPECT_EQ(*box_count, want_box.size());
    // kNN by distance.
    const size_t k = 1 + rng() % 10;
    std::vector<double> want_d;
    for (const auto& [id, o] : model.objects) {
      if (model.Visible(o, now) && in_window(o)) want_d.push_back(Dist(cs, o.pos, c));
    }
    std::sort(want_d.begin(), want_d.end());
    if (want_d.size() > k) want_d.resize(k);
    auto nn = db.Nearest("ns", c, k, qo);
    ASSERT_TRUE(nn.ok()) << nn.status().ToString();
    ASSERT_EQ(nn->hits.size(), want_d.size());
    for (size_t i = 0; i < want_d.size(); ++i) {
      EXPECT_NEAR(nn->hits[i].distance, want_d[i], cs == CoordinateSystem::kGeographic ? 1e-3 : 1e-9);
      if (i > 0) {
        EXPECT_LE(nn->hits[i - 1].distance, nn->hits[i].distance);
      }
    }
    // Checks a query's hits against the model: every id of `must`, nothing outside `may`, no
    // id twice, and each hit's position, metadata and distance (by `dist`) as the model has
    // them. Returns the ids.
    const double tol = cs == CoordinateSystem::kGeographic ? 1e-3 : 1e-9;
    using DistFn = std::function<double(const Position&)>;
    auto check_hits = [&](const QueryResult& r, const std::set<std::string>& want_must,
                          const std::set<std::string>& want_may, const DistFn& dist,
                          const char* what) {
      std::set<std::string> got_ids;
      for (const Hit& h : r.hits) {
        EXPECT_TRUE(got_ids.insert(h.id).second) << what << " returned " << h.id << " twice";
        auto it = model.objects.find(h.id);
        if (it == model.objects.end()) {
          ADD_FAILURE() << what << " returned unknown " << h.id;
          continue;
        }
        EXPECT_EQ(h.pos, it->second.pos) << what;
        EXPECT_EQ(h.metadata, it->second.metadata) << what;
        EXPECT_NEAR(h.distance, dist(it->second.pos), tol) << what << ": " << h.id;
      }
      for (const auto& id : want_must) EXPECT_TRUE(got_ids.count(id)) << what << " missed " << id;
      for (const auto& id : got_ids) EXPECT_TRUE(want_may.count(id)) << what << " returned " << id;
      return got_ids;
    };
    // The oracle: visible objects in the time window that `admit` accepts, within r by `dist`
    // (must: by more than tol; may: within tol of the edge too).
    using AdmitFn = std::function<bool(const std::string&, const ModelObject&)>;
    auto oracle = [&](const AdmitFn& admit, const DistFn& dist, double r,
                      std::set<std::string>* want_must, std::set<std::string>* want_may) {
      for (const auto& [id, o] : model.objects) {
        if (!model.Visible(o, now) || !in_window(o) || !admit(id, o)) continue;
        const double d = dist(o.pos);
        if (d <= r - tol) want_must->insert(id);
        if (d <= r + tol) want_may->insert(id);
      }
    };
    // A query of n >= 2 hits asked again with limit n - 1 says truncated.
    auto check_limit = [&](size_t n, const std::function<Result<QueryResult>(size_t)>& query,
                           const char* what) {
      if (n < 2) return;
      auto r = query(n - 1);
      ASSERT_TRUE(r.ok()) << what << ": " << r.status().ToString();
      EXPECT_EQ(r->hits.size(), n - 1) << what;
      EXPECT_TRUE(r->truncated) << what;
    };
    std::uniform_real_distribution<double> unit(0, 1);
    const double zspan = cs == CoordinateSystem::kGeographic ? 100 : 1000;  // of RandomPosition
    // Cylinder: horizontal distance within radius and z in the band; planar 2D has no z.
    {
      const double z_min = zspan * (1.2 * unit(rng) - 0.2);
      const double z_max = z_min + zspan * 0.6 * unit(rng);
      if (cs == CoordinateSystem::kPlanar2D) {
        EXPECT_EQ(db.WithinCylinder("ns", c, radius, z_min, z_max, qo).status().code(),
                  StatusCode::kInvalidArgument);
        EXPECT_EQ(db.CountWithinCylinder("ns", c, radius, z_min, z_max, qo).status().code(),
                  StatusCode::kInvalidArgument);
      } else {
        std::set<std::string> cyl_must, cyl_may;
        const DistFn horizontal = [&](const Position& p) { return Horizontal(cs, p, c); };
        oracle([&](const std::string&, const ModelObject& o) {
                 return o.pos.z >= z_min && o.pos.z <= z_max;
               },
               horizontal, radius, &cyl_must, &cyl_may);
        auto cyl = db.WithinCylinder("ns", c, radius, z_min, z_max, qo);
        ASSERT_TRUE(cyl.ok()) << cyl.status().ToString();
        EXPECT_FALSE(cyl->truncated);
        const auto cyl_ids = check_hits(*cyl, cyl_must, cyl_may, horizontal, "cylinder");
        auto cyl_count = db.CountWithinCylinder("ns", c, radius, z_min, z_max, qo);
        ASSERT_TRUE(cyl_count.ok()) << cyl_count.status().ToString();
        EXPECT_EQ(*cyl_count, cyl_ids.size());
        check_limit(cyl_ids.size(), [&](size_t limit) {
          QueryOptions lo = qo;
          lo.limit = limit;
          return db.WithinCylinder("ns", c, radius, z_min, z_max, lo);
        }, "cylinder");
        nonempty_cylinders += !cyl_must.empty();
      }
    }
    // Around an existing object (a random visible one; the time window applies to the others).
    std::vector<std::string> visible_ids;
    for (const auto& [id, o] : model.objects) {
      if (model.Visible(o, now)) visible_ids.push_back(id);
    }
    if (!visible_ids.empty()) {
      const std::string aid = visible_ids[rng() % visible_ids.size()];
      const ModelObject a = model.objects.at(aid);
      const DistFn from_a = [&](const Position& p) { return Dist(cs, a.pos, p); };
      const DistFn horizontal = [&](const Position& p) { return Horizontal(cs, a.pos, p); };
      const size_t k_of = 1 + rng() % 10;
      const double dz_min = zspan * (0.5 * unit(rng) - 0.4);
      const double dz_max = dz_min + zspan * 0.5 * unit(rng);
      for (const bool self : {false, true}) {
        SCOPED_TRACE(std::string("around ") + aid + (self ? ", self included" : ""));
        QueryOptions so = qo;
        so.include_self = self;
        auto others = [&](const std::string& id, const ModelObject&) { return self || id != aid; };
        std::set<std::string> of_must, of_may;
        oracle(others, from_a, radius, &of_must, &of_may);
        auto of = db.WithinRadiusOf("ns", aid, radius, so);
        ASSERT_TRUE(of.ok()) << of.status().ToString();
        EXPECT_FALSE(of->truncated);
        const auto of_ids = check_hits(*of, of_must, of_may, from_a, "radius of");
        auto of_count = db.CountWithinRadiusOf("ns", aid, radius, so);
        ASSERT_TRUE(of_count.ok()) << of_count.status().ToString();
        EXPECT_EQ(*of_count, of_ids.size());
        check_limit(of_ids.size(), [&](size_t limit) {
          QueryOptions lo = so;
          lo.limit = limit;
          return db.WithinRadiusOf("ns", aid, radius, lo);
        }, "radius of");
        // kNN: k others even when some share the object's position.
        std::vector<double> want_nn;
        for (const auto& [id, o] : model.objects) {
          if (model.Visible(o, now) && in_window(o) && others(id, o)) {
            want_nn.push_back(from_a(o.pos));
          }
        }
        std::sort(want_nn.begin(), want_nn.end());
        if (want_nn.size() > k_of) want_nn.resize(k_of);
        auto nn_of = db.NearestTo("ns", aid, k_of, so);
        ASSERT_TRUE(nn_of.ok()) << nn_of.status().ToString();
        ASSERT_EQ(nn_of->hits.size(), want_nn.size());
        EXPECT_FALSE(nn_of->truncated);
        for (size_t i = 0; i < want_nn.size(); ++i) {
          EXPECT_NEAR(nn_of->hits[i].distance, want_nn[i], tol) << i;
          if (!self) {
            EXPECT_NE(nn_of->hits[i].id, aid);
          }
          if (i > 0) {
            EXPECT_LE(nn_of->hits[i - 1].distance, nn_of->hits[i].distance);
          }
        }
        if (want_nn.size() >= 2) {  // a limit below k: the nearest `limit`, truncated
          QueryOptions lo = so;
          lo.limit = want_nn.size() - 1;
          auto cut = db.NearestTo("ns", aid, want_nn.size(), lo);
          ASSERT_TRUE(cut.ok());
          ASSERT_EQ(cut->hits.size(), lo.limit);
          EXPECT_TRUE(cut->truncated);
          EXPECT_NEAR(cut->hits.back().distance, want_nn[lo.limit - 1], tol);
        }
        // Cylinder around the object, the band relative to its z.
        if (cs == CoordinateSystem::kPlanar2D) {
          EXPECT_EQ(db.WithinCylinderOf("ns", aid, radius, dz_min, dz_max, so).status().code(),
                    StatusCode::kInvalidArgument);
        } else {
          const double z_lo = a.pos.z + dz_min, z_hi = a.pos.z + dz_max;
          std::set<std::string> co_must, co_may;
          oracle([&](const std::string& id, const ModelObject& o) {
                   return others(id, o) && o.pos.z >= z_lo && o.pos.z <= z_hi;
                 },
                 horizontal, radius, &co_must, &co_may);
          auto co = db.WithinCylinderOf("ns", aid, radius, dz_min, dz_max, so);
          ASSERT_TRUE(co.ok()) << co.status().ToString();
          const auto co_ids = check_hits(*co, co_must, co_may, horizontal, "cylinder of");
          auto co_count = db.CountWithinCylinderOf("ns", aid, radius, dz_min, dz_max, so);
          ASSERT_TRUE(co_count.ok()) << co_count.status().ToString();
          EXPECT_EQ(*co_count, co_ids.size());
          check_limit(co_ids.size(), [&](size_t limit) {
            QueryOptions lo = so;
            lo.limit = limit;
            return db.WithinCylinderOf("ns", aid, radius, dz_min, dz_max, lo);
          }, "cylinder of");
        }
        around_checked += !self;
      }
    }
    // Around an object that is absent or expired: NotFound.
    {
      const std::string gone = id_of(rng());
      auto it = model.objects.find(gone);
      if (it == model.objects.end() || !model.Visible(it->second, now)) {
        EXPECT_EQ(db.WithinRadiusOf("ns", gone, radius, qo).status().code(),
                  StatusCode::kNotFound);
        EXPECT_EQ(db.CountWithinRadiusOf("ns", gone, radius, qo).status().code(),
                  StatusCode::kNotFound);
        EXPECT_EQ(db.NearestTo("ns", gone, 3, qo).status().code(), StatusCode::kNotFound);
      }
    }
    // Polygon (a diamond around c, kept inside the lon/lat range): WithinPolygon against
    // the even-odd rule, and its count.
    {
      const bool geo = cs == CoordinateSystem::kGeographic;
      const double a = geo ? 1 + 20 * unit(rng) : 50 + 200 * unit(rng);  // half-widths
      const double b = geo ? 1 + 10 * unit(rng) : 50 + 200 * unit(rng);
      auto lon = [&](double x) { return geo ? std::clamp(x, -180.0, 180.0) : x; };
      auto lat = [&](double y) { return geo ? std::clamp(y, -90.0, 90.0) : y; };
      const std::vector<std::vector<Position>> rings = {{{lon(c.x - a), c.y},
                                                         {c.x, lat(c.y - b)},
                                                         {lon(c.x + a), c.y},
                                                         {c.x, lat(c.y + b)}}};
      std::set<std::string> want_poly;
      for (const auto& [id, o] : model.objects) {
        if (model.Visible(o, now) && in_window(o) && EvenOdd(rings, o.pos.x, o.pos.y)) {
          want_poly.insert(id);
        }
      }
      auto poly = db.WithinPolygon("ns", rings, qo);
      ASSERT_TRUE(poly.ok()) << poly.status().ToString();
      std::set<std::string> got_poly;
      for (const Hit& h : poly->hits) got_poly.insert(h.id);
      EXPECT_EQ(got_poly, want_poly) << "polygon, step " << step;
      auto poly_count = db.CountWithinPolygon("ns", rings, qo);
      ASSERT_TRUE(poly_count.ok()) << poly_count.status().ToString();
      EXPECT_EQ(*poly_count, poly->hits.size());
      if (!want_poly.empty()) {  // the count ignores the limit
        QueryOptions lo = qo;
        lo.limit = 1;
        EXPECT_EQ(*db.CountWithinPolygon("ns", rings, lo), want_poly.size());
      }
    }
    ++checked;
  }
  // Stats agree with the model.
  auto stats = db.Stats("ns");
  ASSERT_TRUE(stats.ok());
  size_t visible = 0;
  for (const auto& [id, o] : model.objects) visible += model.Visible(o, clock->NowMillis());
  EXPECT_EQ(stats->objects, visible);
  EXPECT_GT(stats->memory_bytes, 0u);
  EXPECT_GT(checked, 150u);
  EXPECT_GT(nonempty, checked / 5);
  EXPECT_GT(stale, 0u);
  EXPECT_GT(around_checked, checked / 2);
  if (cs != CoordinateSystem::kPlanar2D) {
    EXPECT_GT(nonempty_cylinders, checked / 10);
  }
}

TEST(DbModelTest, Planar2D) { RunModel(CoordinateSystem::kPlanar2D, TestSeed()); }
TEST(DbModelTest, Planar3D) { RunModel(CoordinateSystem::kPlanar3D, TestSeed() + 1); }
TEST(DbModelTest, Geographic) { RunModel(CoordinateSystem::kGeographic, TestSeed() + 2); }

std::unique_ptr<Db> OpenTestDb(std::shared_ptr<ManualClock> clock) {
  DbOptions o;
  o.clock = std::move(clock);
  o.sweep_interval_ms = 0;
  return std::move(Db::OpenInMemory(o)).value();
}

TEST(DbGeographicTest, AntimeridianPolesTinyAndPlanetSizedRadii) {
  auto db = OpenTestDb(std::make_shared<ManualClock>(0));
  ASSERT_TRUE(db->Upsert("g", {.id = "east", .pos = {179.9999, 0}}).ok());
  ASSERT_TRUE(db->Upsert("g", {.id = "west", .pos = {-179.9999, 0}}).ok());
  ASSERT_TRUE(db->Upsert("g", {.id = "pole", .pos = {0, 90}}).ok());
  ASSERT_TRUE(db->Upsert("g", {.id = "pole2", .pos = {123, 89.9999}}).ok());
  ASSERT_TRUE(db->Upsert("g", {.id = "paris", .pos = {2.3522, 48.8566}}).ok());
  // Across the antimeridian: 0.0002 degrees of longitude at the equator is ~22.24 m.
  auto r = db->WithinRadius("g", {180, 0}, 12.0);
  ASSERT_TRUE(r.ok());
  std::set<std::string> ids;
  for (const Hit& h : r->hits) ids.insert(h.id);
  EXPECT_EQ(ids, (std::set<std::string>{"east", "west"}));
  auto nn = db->Nearest("g", {-179.9999, 0}, 1);
  ASSERT_TRUE(nn.ok());
  EXPECT_EQ(nn->hits[0].id, "west");
  EXPECT_EQ(nn->hits[0].distance, 0.0);
  nn = db->Nearest("g", {179.9999, 0}, 2);
  EXPECT_EQ(nn->hits[1].id, "west");
  EXPECT_NEAR(nn->hits[1].distance, GreatCircle({179.9999, 0}, {-179.9999, 0}), 1e-6);
  // Poles: every longitude is the same point; 0.0001 degrees of latitude is ~11.1 m.
  r = db->WithinRadius("g", {-77, 90}, 11.2);
  ids.clear();
  for (const Hit& h : r->hits) ids.insert(h.id);
  EXPECT_EQ(ids, (std::set<std::string>{"pole", "pole2"}));
  // Tiny: 1 mm around Paris finds Paris only.
  auto tiny = db->CountWithinRadius("g", {2.3522, 48.8566}, 0.001);
  EXPECT_EQ(*tiny, 1u);
  // Planet-sized: half the circumference covers everything.
  auto all = db->CountWithinRadius("g", {0, 0}, kPi * kR);
  EXPECT_EQ(*all, 5u);
  // A box across the antimeridian, west > east.
  auto box = db->InBox("g", {179, -1}, {-179, 1});
  ASSERT_TRUE(box.ok());
  ids.clear();
  for (const Hit& h : box->hits) ids.insert(h.id);
  EXPECT_EQ(ids, (std::set<std::string>{"east", "west"}));
  // A box around the pole cap.
  EXPECT_EQ(*db->CountInBox("g", {-180, 89}, {180, 90}), 2u);
}

TEST(DbGeographicTest, CylindersAcrossTheAntimeridianAndAtThePole) {
  auto db = OpenTestDb(std::make_shared<ManualClock>(0));
  ASSERT_TRUE(db->Upsert("g", {.id = "east", .pos = {179.9999, 0, 10}}).ok());
  ASSERT_TRUE(db->Upsert("g", {.id = "west", .pos = {-179.9999, 0, 50}}).ok());
  ASSERT_TRUE(db->Upsert("g", {.id = "pole", .pos = {0, 90, 1000}}).ok());
  ASSERT_TRUE(db->Upsert("g", {.id = "pole2", .pos = {123, 89.9999, 5000}}).ok());
  ASSERT_TRUE(db->Upsert("g", {.id = "pole3", .pos = {-60, 89.9, 1000}}).ok());  // ~11 km off
  auto ids_of = [](const Result<QueryResult>& r) {
    std::set<std::string> ids;
    if (r.ok()) {
      for (const Hit& h : r->hits) ids.insert(h.id);
    }
    return ids;
  };
  using Ids = std::set<std::string>;
  // Across the antimeridian (east and west are ~22.24 m apart, 40 m of altitude apart).
  EXPECT_EQ(ids_of(db->WithinCylinder("g", {180, 0}, 12, 0, 100)), (Ids{"east", "west"}));
  EXPECT_EQ(ids_of(db->WithinCylinder("g", {180, 0}, 12, 0, 20)), (Ids{"east"}));
  EXPECT_EQ(ids_of(db->WithinCylinder("g", {180, 0}, 12, 50, 50)), (Ids{"west"}));  // inclusive
  EXPECT_EQ(*db->CountWithinCylinder("g", {-180, 0}, 12, 10, 50), 2u);
  EXPECT_EQ(*db->CountWithinCylinder("g", {-180, 0}, 12, 11, 49), 0u);
  // The reported distance is horizontal: the great circle, not through the altitude gap.
  auto of = db->WithinCylinderOf("g", "east", 30, -50, 50);
  ASSERT_TRUE(of.ok()) << of.status().ToString();
  ASSERT_EQ(of->hits.size(), 1u);
  EXPECT_EQ(of->hits[0].id, "west");
  EXPECT_NEAR(of->hits[0].distance, GreatCircle({179.9999, 0}, {-179.9999, 0}), 1e-6);
  EXPECT_EQ(ids_of(db->WithinCylinderOf("g", "east", 30, -50, 39)), Ids{});   // west is +40
  EXPECT_EQ(ids_of(db->WithinCylinderOf("g", "east", 30, 40, 40)), (Ids{"west"}));
  EXPECT_EQ(ids_of(db->WithinCylinderOf("g", "east", 30, 0, 40, {.include_self = true})),
            (Ids{"east", "west"}));
  EXPECT_EQ(ids_of(db->WithinCylinderOf("g", "east", 30, 1, 40, {.include_self = true})),
            (Ids{"west"}));  // the band leaves out the object's own altitude
  EXPECT_EQ(*db->CountWithinCylinderOf("g", "west", 30, -40, 0), 1u);
  // At the pole every longitude is one point: 0.0001 degrees of latitude is ~11.1 m.
  EXPECT_EQ(ids_of(db->WithinCylinder("g", {-77, 90}, 11.2, 0, 2000)), (Ids{"pole"}));
  EXPECT_EQ(ids_of(db->WithinCylinder("g", {-77, 90}, 11.2, 0, 1e4)), (Ids{"pole", "pole2"}));
  EXPECT_EQ(ids_of(db->WithinCylinder("g", {-77, 90}, 12e3, 1000, 1000)),
            (Ids{"pole", "pole3"}));
  EXPECT_EQ(ids_of(db->WithinCylinderOf("g", "pole2", 12e3, -4000, 0)), (Ids{"pole", "pole3"}));
  // Around an object across the antimeridian and at the pole.
  EXPECT_EQ(ids_of(db->WithinRadiusOf("g", "east", 23)), (Ids{"west"}));
  EXPECT_EQ(ids_of(db->WithinRadiusOf("g", "east", 23, {.include_self = true})),
            (Ids{"east", "west"}));
  EXPECT_EQ(*db->CountWithinRadiusOf("g", "pole", 12), 1u);
  auto nn = db->NearestTo("g", "pole", 2);
  ASSERT_TRUE(nn.ok());
  ASSERT_EQ(nn->hits.size(), 2u);
  EXPECT_EQ(nn->hits[0].id, "pole2");
  EXPECT_EQ(nn->hits[1].id, "pole3");
  // The time filter picks the neighbours, never the object queried around.
  EXPECT_EQ(ids_of(db->WithinRadiusOf("g", "east", 23, {.updated_from = 1})), Ids{});
  EXPECT_EQ(db->NearestTo("g", "east", 1, {.updated_from = 1})->hits.size(), 0u);
}

TEST(DbAroundTest, SelfExclusionKeepsKOthersAndTheTimeFilterAppliesToThemOnly) {
  auto db = OpenTestDb(std::make_shared<ManualClock>(100));
  ASSERT_TRUE(db->CreateNamespace("p", {.coordinates = CoordinateSystem::kPlanar3D}).ok());
  // Four objects share the anchor's position; one more is farther away.
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(db->Upsert("p", {.id = "twin" + std::to_string(i), .pos = {1, 1, 1},
                                 .timestamp = i}).ok());
  }
  ASSERT_TRUE(db->Upsert("p", {.id = "far", .pos = {4, 5, 1}, .timestamp = 9}).ok());
  // Whatever order the index keeps the twins in, the anchor is never among the k others.
  for (int i = 0; i < 5; ++i) {
    const std::string anchor = "twin" + std::to_string(i);
    auto nn = db->NearestTo("p", anchor, 4);
    ASSERT_TRUE(nn.ok());
    ASSERT_EQ(nn->hits.size(), 4u) << anchor;
    for (const Hit& h : nn->hits) {
      EXPECT_NE(h.id, anchor);
      EXPECT_EQ(h.distance, 0.0);
    }
    nn = db->NearestTo("p", anchor, 5);
    ASSERT_EQ(nn->hits.size(), 5u);
    EXPECT_EQ(nn->hits[4].id, "far");
    EXPECT_EQ(nn->hits[4].distance, 5.0);
    EXPECT_EQ(db->NearestTo("p", anchor, 10)->hits.size(), 5u);
    EXPECT_EQ(db->NearestTo("p", anchor, 10, {.include_self = true})->hits.size(), 6u);
    // Limits: exactly `limit` others, truncated only when more matched.
    auto r = db->WithinRadiusOf("p", anchor, 0, {.limit = 4});
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->hits.size(), 4u);
    EXPECT_FALSE(r->truncated);
    r = db->WithinRadiusOf("p", anchor, 0, {.limit = 3});
    EXPECT_EQ(r->hits.size(), 3u);
    EXPECT_TRUE(r->truncated);
    for (const Hit& h : r->hits) EXPECT_NE(h.id, anchor);
    EXPECT_EQ(*db->CountWithinRadiusOf("p", anchor, 0), 4u);
    EXPECT_EQ(*db->CountWithinRadiusOf("p", anchor, 5), 5u);
    EXPECT_EQ(*db->CountWithinRadiusOf("p", anchor, 5, {.include_self = true}), 6u);
    // The window [3, 9] excludes twins 0-2 whichever is the anchor.
    const QueryOptions recent{.updated_from = 3, .updated_to = 9};
    const size_t recent_twins = i >= 3 ? 1 : 2;  // twins 3 and 4, less the anchor
    EXPECT_EQ(*db->CountWithinRadiusOf("p", anchor, 5, recent), recent_twins + 1);
    QueryOptions recent_self = recent;
    recent_self.include_self = true;
    EXPECT_EQ(*db->CountWithinRadiusOf("p", anchor, 5, recent_self), 3u);  // 3, 4 and far
    EXPECT_EQ(db->NearestTo("p", anchor, 10, recent)->hits.size(), recent_twins + 1);
    EXPECT_EQ(db->NearestTo("p", anchor, 10, recent_self)->hits.size(), 3u);
    EXPECT_EQ(*db->CountWithinCylinderOf("p", anchor, 5, 0, 0, recent), recent_twins + 1);
  }
  // Planar 3D cylinders: x/y distance, z band, inclusive boundaries.
  ASSERT_TRUE(db->Upsert("p", {.id = "up", .pos = {1, 1, 7}}).ok());
  ASSERT_TRUE(db->Upsert("p", {.id = "edge", .pos = {4, 1, 3}}).ok());
  auto cyl = db->WithinCylinder("p", {1, 1, -100}, 3, 2, 7);
  ASSERT_TRUE(cyl.ok()) << cyl.status().ToString();
  ASSERT_EQ(cyl->hits.size(), 2u);
  for (const Hit& h : cyl->hits) {
    EXPECT_TRUE(h.id == "up" || h.id == "edge") << h.id;
    EXPECT_EQ(h.distance, h.id == "edge" ? 3.0 : 0.0);
  }
  EXPECT_EQ(*db->CountWithinCylinder("p", {1, 1, 0}, 2.9999, 2, 7), 1u);
  EXPECT_EQ(*db->CountWithinCylinder("p", {1, 1, 0}, 3, 0, 7), 7u);  // not far: 5 away
  EXPECT_EQ(*db->CountWithinCylinderOf("p", "up", 0, -6, 0), 5u);
  // The rim: a point one ulp past center.x + radius that the x/y test (dx^2 + dy^2 <= r^2 in
  // doubles) accepts; the index's box around the cylinder must not drop it.
  const double cx = -7.312715117751976, r = 8.474337369372327;
  const double rim = std::nextafter(cx + r, 1e9);
  ASSERT_LE((rim - cx) * (rim - cx), r * r);
  ASSERT_TRUE(db->Upsert("p", {.id = "rim", .pos = {rim, 50, 0}}).ok());
  cyl = db->WithinCylinder("p", {cx, 50, 0}, r, -1, 1);
  ASSERT_TRUE(cyl.ok());
  ASSERT_EQ(cyl->hits.size(), 1u);
  EXPECT_EQ(cyl->hits[0].id, "rim");
}

TEST(DbAroundTest, AnExpiredOrDeletedObjectIsNotFound) {
  auto clock = std::make_shared<ManualClock>(0);
  auto db = OpenTestDb(clock);
  ASSERT_TRUE(db->Upsert("g", {.id = "brief", .pos = {1, 1}, .ttl_ms = 10}).ok());
  ASSERT_TRUE(db->Upsert("g", {.id = "gone", .pos = {1, 1}}).ok());
  ASSERT_TRUE(db->Upsert("g", {.id = "stay", .pos = {1, 1}}).ok());
  ASSERT_TRUE(db->Delete("g", "gone").ok());
  EXPECT_EQ(*db->CountWithinRadiusOf("g", "brief", 10), 1u);
  clock->Advance(10);
  for (const char* id : {"brief", "gone", "never"}) {
    const Status s = db->NearestTo("g", id, 1).status();
    EXPECT_EQ(s.code(), StatusCode::kNotFound) << id;
    EXPECT_NE(s.message().find(std::string("no object '") + id + "'"), std::string::npos)
        << s.ToString();
    EXPECT_EQ(db->WithinRadiusOf("g", id, 10).status().code(), StatusCode::kNotFound);
    EXPECT_EQ(db->CountWithinRadiusOf("g", id, 10).status().code(), StatusCode::kNotFound);
    EXPECT_EQ(db->WithinCylinderOf("g", id, 10, -1, 1).status().code(), StatusCode::kNotFound);
    EXPECT_EQ(db->CountWithinCylinderOf("g", id, 10, -1, 1).status().code(),
              StatusCode::kNotFound);
  }
  EXPECT_EQ(db->NearestTo("g", "stay", 5)->hits.size(), 0u);
}

TEST(DbTtlTest, ExpiredObjectsVanishAtOnceAndAreSweptInBoundedPasses) {
  auto clock = std::make_shared<ManualClock>(10'000);
  auto db = OpenTestDb(clock);
  for (int i = 0; i < 20; ++i) {
    Object o{.id = std::string("o").append(std::to_string(i)), .pos = {double(i), 0},
             .timestamp = 1};  // (operator+ here trips GCC 12's -Wrestrict false positive)
    if (i < 12) o.ttl_ms = 500;
    if (i == 12) o.expires_at = 10'700;
    ASSERT_TRUE(db->Upsert("p", o).ok());
  }
  EXPECT_EQ(*db->CountInBox("p", {-90, -90}, {90, 90}), 20u);
  clock->Advance(500);  // now 10'500: the ttl objects expire exactly now
  EXPECT_EQ(*db->CountInBox("p", {-90, -90}, {90, 90}), 8u);
  EXPECT_EQ(db->Get("p", "o3").status().code(), StatusCode::kNotFound);
  auto stats = db->Stats("p");
  EXPECT_EQ(stats->objects, 8u);
  EXPECT_EQ(stats->expired, 12u);
  clock->Advance(200);  // o12 expires at 10'700
  EXPECT_EQ(db->Stats("p")->expired, 13u);
  size_t total = 0;
  for (int pass = 0; pass < 10; ++pass) {
    const size_t n = db->SweepExpired(4);
    EXPECT_LE(n, 4u);
    total += n;
  }
  EXPECT_EQ(total, 13u);
  stats = db->Stats("p");
  EXPECT_EQ(stats->expired, 0u);
  EXPECT_EQ(stats->swept, 13u);
  EXPECT_EQ(stats->objects, 7u);
  // An upsert onto an expired id is a fresh object, whatever its timestamp.
  ASSERT_EQ(*db->Upsert("p", {.id = "o1", .pos = {1, 1}, .timestamp = 0}), WriteOutcome::kApplied);
}

TEST(DbTtlTest, TheBackgroundSweeperRemovesExpiredObjects) {
  auto clock = std::make_shared<ManualClock>(0);
  DbOptions o;
  o.clock = clock;
  o.sweep_interval_ms = 1;
  auto db = std::move(Db::OpenInMemory(o)).value();
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(db->Upsert("p", {.id = std::to_string(i), .pos = {0, 0}, .ttl_ms = 10}).ok());
  }
  clock->Advance(10);
  for (int i = 0; i < 2000 && db->Stats("p")->swept < 50; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(db->Stats("p")->swept, 50u);
}

// memory_bytes against the heap: the bytes operator new handed out (the counting functions at
// the top of this file) change by exactly what Stats reports, across inserts of short and long
// ids and metadata, updates that grow and shrink metadata, deletes, expiry sweeps and batches.
// The live index reports its own columns (allocated aside from operator new), so the
// measured writes leave them alone: they stay within slots that earlier writes allocated (one
// block of 512 rows). Reclustering runs inline: the first writes to a never-clustered index
// ask for one, and on the background thread it could run (and allocate) inside a measured
// window whenever the machine is loaded.
TEST(DbStatsTest, MemoryBytesChangesExactlyAsTheHeapDoes) {
  auto clock = std::make_shared<ManualClock>(0);
  DbOptions options;
  options.clock = clock;
  options.sweep_interval_ms = 0;
  options.background_recluster = false;
  auto db = std::move(Db::OpenInMemory(options)).value();
  ASSERT_TRUE(db->CreateNamespace("m", {.coordinates = CoordinateSystem::kPlanar2D}).ok());
  // First the id map's first allocation, which a formula of its capacity would miss by a
  // constant that deltas of a grown map cancel: a bulk batch (here of deletes of absent ids,
  // which touch no index row) makes Apply reserve the map and the records up front.
  {
    Batch absent;
    for (int i = 0; i < 2000; ++i) absent.Delete("m", std::to_string(i));
    const size_t stats0 = db->Stats("m")->memory_bytes;
    const int64_t heap0 = g_heap_bytes.load();
    const bool ok = db->Apply(absent).ok();
    const int64_t heap1 = g_heap_bytes.load();
    const size_t stats1 = db->Stats("m")->memory_bytes;
    ASSERT_TRUE(ok);
    EXPECT_EQ(int64_t(stats1) - int64_t(stats0), heap1 - heap0);
    // Apply did reserve (else this part checks nothing: grow the map alone another way):
    // at least a 4-byte key slot per id.
    EXPECT_GT(heap1 - heap0, 2000 * 4);
  }
  auto pos = [](int i) { return Position{double(i % 20) * 5, double(i / 20 % 20) * 5}; };
  // (operator+ on the literal trips GCC 12's -Wrestrict false positive)
  auto sid = [](int i) { return std::string("s").append(std::to_string(i)); };
  for (int i = 0; i < 400; ++i) {
    ASSERT_TRUE(db->Upsert("m", {.id = sid(i), .pos = pos(i)}).ok());
  }
  // Every input is built before measuring, so that the test's own allocations cancel.
  std::vector<Object> inserts, updates;
  std::vector<std::string> deletes, deletes_later;
  size_t long_metadata = 0;
  for (int i = 0; i < 100; ++i) deletes.push_back(sid(i));
  for (int i = 0; i < 150; ++i) {
    Object o{.id = std::string(20 + i % 50, char('a' + i % 26)).append(std::to_string(i)),
             .pos = pos(i * 7), .timestamp = 1,
             .metadata = std::string(i % 3 == 0 ? 0 : 10 + 13 * i, 'm')};
    if (i % 5 == 0) o.ttl_ms = 10;
    long_metadata += i % 5 == 0 ? 0 : o.metadata.size();
    deletes_later.push_back(o.id);
    inserts.push_back(std::move(o));
  }
  for (int i = 100; i < 160; ++i) {  // grow, then shrink, metadata of short-id objects
    updates.push_back({.id = sid(i), .pos = pos(i), .timestamp = 2,
                       .metadata = std::string(i % 2 ? 3000 : 7, 'u')});
    updates.push_back({.id = sid(i), .pos = pos(i), .timestamp = 3,
                       .metadata = std::string(i % 4 == 1 ? 5 : 0, 'v')});
  }
  Batch batch;
  for (int i = 160; i < 200; ++i) {
    batch.Upsert("m", {.id = sid(i).append(30, 'b'), .pos = pos(i), .timestamp = 4,
                       .metadata = std::string(100, 'x')});
  }
  for (int i = 200; i < 230; ++i) batch.Delete("m", sid(i));

  const size_t stats0 = db->Stats("m")->memory_bytes;
  const int64_t heap0 = g_heap_bytes.load();
  bool ok = true;
  for (const std::string& id : deletes) ok &= db->Delete("m", id).ok();
  for (const Object& o : inserts) ok &= db->Upsert("m", o).ok();
  for (const Object& o : updates) ok &= db->Upsert("m", o).ok();
  ok &= db->Apply(batch).ok();
  clock->Advance(10);
  ok &= db->SweepExpired(1000) == 30;  // the ttl objects
  const int64_t heap1 = g_heap_bytes.load();
  const size_t stats1 = db->Stats("m")->memory_bytes;
  ASSERT_TRUE(ok);
  EXPECT_EQ(int64_t(stats1) - int64_t(stats0), heap1 - heap0);
  EXPECT_GT(heap1 - heap0, int64_t(long_metadata));  // the measured writes did allocate

  // Deleting the long objects gives their ids and metadata back at once.
  for (size_t i = 0; i < deletes_later.size(); ++i) {
    if (i % 5 != 0) ok &= db->Delete("m", deletes_later[i]).ok();  // (the rest expired)
  }
  const int64_t heap2 = g_heap_bytes.load();
  const size_t stats2 = db->Stats("m")->memory_bytes;
  ASSERT_TRUE(ok);
  EXPECT_EQ(int64_t(stats2) - int64_t(stats1), heap2 - heap1);
  EXPECT_LT(stats2 + long_metadata, stats1);
}

TEST(DbConflictTest, LastWriterWinsByTimestampAndTiesGoToTheLaterWrite) {
  auto db = OpenTestDb(std::make_shared<ManualClock>(0));
  EXPECT_EQ(*db->Upsert("n", {.id = "a", .pos = {1, 1}, .timestamp = 100}), WriteOutcome::kApplied);
  EXPECT_EQ(*db->Upsert("n", {.id = "a", .pos = {2, 2}, .timestamp = 99}), WriteOutcome::kStale);
  EXPECT_EQ(db->Get("n", "a")->pos, (Position{1, 1}));
  EXPECT_EQ(*db->Upsert("n", {.id = "a", .pos = {3, 3}, .timestamp = 100}), WriteOutcome::kApplied);
  EXPECT_EQ(db->Get("n", "a")->pos, (Position{3, 3}));
  EXPECT_EQ(*db->Upsert("n", {.id = "a", .pos = {4, 4}, .timestamp = 101}), WriteOutcome::kApplied);
  EXPECT_EQ(db->Get("n", "a")->pos, (Position{4, 4}));
  // A stale op inside a batch is reported and the rest applies.
  Batch b;
  b.Upsert("n", {.id = "a", .pos = {5, 5}, .timestamp = 50});
  b.Upsert("n", {.id = "b", .pos = {6, 6}, .timestamp = 50});
  auto out = db->Apply(b);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out, (std::vector<WriteOutcome>{WriteOutcome::kStale, WriteOutcome::kApplied}));
}

TEST(DbInputTest, BadInputIsNamedAndChangesNothing) {
  auto db = OpenTestDb(std::make_shared<ManualClock>(0));
  ASSERT_TRUE(db->CreateNamespace("geo", {.coordinates = CoordinateSystem::kGeographic}).ok());
  ASSERT_TRUE(db->CreateNamespace("flat", {.coordinates = CoordinateSystem::kPlanar2D}).ok());
  ASSERT_TRUE(db->Upsert("geo", {.id = "keep", .pos = {1, 1}}).ok());
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  struct Case {
    std::function<Status()> call;
    const char* message;
  };
  const std::vector<Case> cases = {
      {[&] { return db->Upsert("geo", {.id = "x", .pos = {0, 91}}).status(); },
       "object.pos.lat = 91: outside [-90, 90]"},
      {[&] { return db->Upsert("geo", {.id = "x", .pos = {-180.5, 0}}).status(); },
       "object.pos.lon = -180.5: outside [-180, 180]"},
      {[&] { return db->Upsert("flat", {.id = "x", .pos = {nan, 0}}).status(); },
       "object.pos.x = nan: not finite"},
      {[&] { return db->Upsert("geo", {.id = "", .pos = {0, 0}}).status(); }, "object.id: empty"},
      {[&] { return db->Upsert("geo", {.id = std::string(300, 'i'), .pos = {0, 0}}).status(); },
       "object.id: 300 bytes, at most 256"},
      {[&] { return db->Upsert("", {.id = "x", .pos = {0, 0}}).status(); },
       "namespace: empty"},
      {[&] { return db->Upsert(std::string(200, 'n'), {.id = "x"}).status(); },
       "namespace: 200 bytes, at most 128"},
      {[&] { return db->Upsert("geo", {.id = "x", .expires_at = 5, .ttl_ms = 5}).status(); },
       "both expires_at and ttl_ms"},
      {[&] { return db->Upsert("geo", {.id = "x", .ttl_ms = -1}).status(); },
       "object.ttl_ms = -1: must be > 0"},
      {[&] { return db->WithinRadius("geo", {0, 0}, -1).status(); },
       "radius = -1: must be finite and >= 0"},
      {[&] { return db->WithinRadius("geo", {0, 0}, 10, {.limit = 0}).status(); },
       "options.limit = 0"},
      {[&] { return db->Nearest("geo", {0, 0}, 0).status(); }, "k = 0: must be > 0"},
      {[&] { return db->InBox("flat", {5, 0}, {4, 1}).status(); },
       "min.x = 5 > max.x = 4: box is crossed"},
      {[&] { return db->InBox("geo", {0, 5}, {1, 4}).status(); },
       "min.lat = 5 > max.lat = 4: box is crossed"},
      {[&] { return db->WithinRadius("geo", {0, -95}, 1).status(); },
       "center.lat = -95: outside [-90, 90]"},
      {[&] { return db->WithinRadius("nope", {0, 0}, 1).status(); },
       "namespace 'nope' does not exist"},
      // Cylinders.
      {[&] { return db->WithinCylinder("flat", {0, 0}, 1, 0, 1).status(); },
       "namespace 'flat' is planar2d: a cylinder needs a z axis"},
      {[&] { return db->CountWithinCylinderOf("flat", "x", 1, 0, 1).status(); },
       "namespace 'flat' is planar2d: a cylinder needs a z axis"},
      {[&] { return db->WithinCylinder("geo", {0, 0}, 1, 5, 4).status(); },
       "z_min = 5 > z_max = 4: the band is empty"},
      {[&] { return db->CountWithinCylinder("geo", {0, 0}, 1, nan, 4).status(); },
       "z_min = nan: not finite"},
      {[&] { return db->WithinCylinder("geo", {0, 0}, 1, 0, inf).status(); },
       "z_max = inf: not finite"},
      {[&] { return db->CountWithinCylinder("geo", {0, 0}, -2, 0, 1).status(); },
       "radius = -2: must be finite and >= 0"},
      {[&] { return db->WithinCylinder("geo", {200, 0}, 1, 0, 1).status(); },
       "center.lon = 200: outside [-180, 180]"},
      {[&] { return db->WithinCylinder("geo", {0, 0}, 1, 0, 1, {.limit = 0}).status(); },
       "options.limit = 0"},
      {[&] { return db->WithinCylinderOf("geo", "keep", 1, 0.5, -0.5).status(); },
       "dz_min = 0.5 > dz_max = -0.5: the band is empty"},
      {[&] { return db->CountWithinCylinderOf("geo", "keep", 1, -inf, 0).status(); },
       "dz_min = -inf: not finite"},
      {[&] { return db->WithinCylinderOf("geo", "keep", nan, -1, 1).status(); },
       "radius = nan: must be finite and >= 0"},
      // Around an object.
      {[&] { return db->WithinRadiusOf("geo", "", 1).status(); }, "id: empty"},
      {[&] { return db->NearestTo("geo", std::string(300, 'i'), 1).status(); },
       "id: 300 bytes, at most 256"},
      {[&] { return db->WithinRadiusOf("geo", "keep", -1).status(); },
       "radius = -1: must be finite and >= 0"},
      {[&] { return db->CountWithinRadiusOf("geo", "keep", inf).status(); },
       "radius = inf: must be finite and >= 0"},
      {[&] { return db->NearestTo("geo", "keep", 0).status(); }, "k = 0: must be > 0"},
      {[&] { return db->NearestTo("geo", "keep", 1, {.limit = 0}).status(); },
       "options.limit = 0"},
      {[&] {
         return db->CountWithinRadiusOf("geo", "keep", 1, {.updated_from = 5, .updated_to = 4})
             .status();
       },
       "options.updated_from = 5 > updated_to = 4"},
      {[&] { return db->NearestTo("nope", "keep", 1).status(); },
       "namespace 'nope' does not exist"},
      // Polygon counts.
      {[&] { return db->CountWithinPolygon("geo", {{{0, 0}, {1, 0}, {0, 95}}}).status(); },
       "rings[0][2].lat = 95: outside [-90, 90]"},
      {[&] { return db->CountWithinPolygon("geo", {{{0, 0}, {1, 1}}}).status(); },
       "2 distinct points, need at least 3"},
      {[&] { return db->CountWithinPolygon("geo", {{{0, 0}, {1, 0}, {0, 1}}}, {.limit = 0})
                 .status(); },
       "options.limit = 0"},
  };
  for (const Case& c : cases) {
    const Status s = c.call();
    EXPECT_FALSE(s.ok()) << c.message;
    EXPECT_NE(s.message().find(c.message), std::string::npos) << s.ToString();
  }
  // Nothing changed.
  EXPECT_EQ(db->Stats("geo")->objects, 1u);
  EXPECT_EQ(db->Stats("flat")->objects, 0u);
  EXPECT_EQ(db->ListNamespaces(), (std::vector<std::string>{"flat", "geo"}));
}

TEST(DbNamespaceTest, CreateListDrop) {
  auto db = OpenTestDb(std::make_shared<ManualClock>(0));
  EXPECT_TRUE(db->CreateNamespace("a", {.coordinates = CoordinateSystem::kPlanar3D}).ok());
  EXPECT_TRUE(db->CreateNamespace("a", {.coordinates = CoordinateSystem::kPlanar3D}).ok());
  const Status clash = db->CreateNamespace("a", {.coordinates = CoordinateSystem::kGeographic});
  EXPECT_EQ(clash.code(), StatusCode::kAlreadyExists);
  EXPECT_NE(clash.message().find("exists with coordinates planar3d, not geographic"),
            std::string::npos);
  ASSERT_TRUE(db->Upsert("b", {.id = "x", .pos = {1, 2}}).ok());  // created on first use
  EXPECT_EQ(db->Stats("b")->coordinates, CoordinateSystem::kGeographic);
  EXPECT_EQ(db->ListNamespaces(), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(db->DropNamespace("b").ok());
  EXPECT_EQ(db->DropNamespace("b").code(), StatusCode::kNotFound);
  EXPECT_EQ(db->Get("b", "x").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(db->ListNamespaces(), (std::vector<std::string>{"a"}));
}

// A drop that releases the last reference to a namespace (nothing else holds it) must not
// free it under the drop's own hold of its writer lock: that unlocked a freed mutex, which
// only ThreadSanitizer saw (the check this test exists for). First sequentially, where the
// map holds the only reference every time, then with writers, batches and queries racing
// the drops, so the last reference goes sometimes with the drop and sometimes with them.
// The name is reused each time, with the other coordinate system.
TEST(DbNamespaceTest, DropOfTheLastReferenceThenReuse) {
  auto db = OpenTestDb(std::make_shared<ManualClock>(0));
  for (int round = 0; round < 4; ++round) {
    const CoordinateSystem cs =
        round % 2 == 0 ? CoordinateSystem::kPlanar2D : CoordinateSystem::kGeographic;
    ASSERT_TRUE(db->CreateNamespace("n", {.coordinates = cs}).ok());
    ASSERT_TRUE(db->Upsert("n", {.id = "x", .pos = {1, 2}}).ok());
    ASSERT_TRUE(db->DropNamespace("n").ok());
    EXPECT_EQ(db->Get("n", "x").status().code(), StatusCode::kNotFound);
    EXPECT_TRUE(db->ListNamespaces().empty());
  }

  std::atomic<bool> done{false};
  std::atomic<int> wrong{0}, drops{0};
  auto ok_or_not_found = [](const Status& s) {
    return s.ok() || s.code() == StatusCode::kNotFound;
  };
  std::vector<std::thread> threads;
  threads.emplace_back([&] {  // single writes (a drop recreates the namespace on next use)
    for (int i = 0; !done.load(); ++i) {
      const std::string id = std::to_string(i % 8);
      if (!db->Upsert("n", {.id = id, .pos = {double(i % 90), 0}}).ok()) ++wrong;
      if (!ok_or_not_found(db->Delete("n", std::to_string((i + 3) % 8)))) ++wrong;
    }
  });
  threads.emplace_back([&] {  // batches over two namespaces
    for (int i = 0; !done.load(); ++i) {
      Batch b;
      b.Upsert("n", {.id = "b", .pos = {double(i % 90), 1}});
      b.Upsert("m", {.id = "b", .pos = {double(i % 90), 1}});
      b.Delete("n", "gone");
      if (!db->Apply(b).ok()) ++wrong;
    }
  });
  threads.emplace_back([&] {  // queries
    while (!done.load()) {
      if (!ok_or_not_found(db->WithinRadius("n", {0, 0}, 1e7).status())) ++wrong;
      if (!ok_or_not_found(db->Get("n", "b").status())) ++wrong;
    }
  });
  threads.emplace_back([&] {  // drops, each of whatever the others recreated
    for (int i = 0; i < 300; ++i) {
      const Status s = db->DropNamespace(i % 4 == 0 ? "m" : "n");
      if (s.ok()) ++drops;
      else if (s.code() != StatusCode::kNotFound) ++wrong;
      std::this_thread::yield();
    }
    done = true;
  });
  for (auto& t : threads) t.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_GT(drops.load(), 0);
  // Still usable afterwards.
  ASSERT_TRUE(db->Upsert("n", {.id = "last", .pos = {5, 5}}).ok());
  EXPECT_EQ(db->Get("n", "last")->pos.x, 5.0);
  ASSERT_TRUE(db->DropNamespace("n").ok());
  EXPECT_EQ(db->Get("n", "last").status().code(), StatusCode::kNotFound);
}

// Polygon, distance, hull and bounds against simple independent computations.

TEST(DbShapesTest, PolygonDistanceHullAndBoundsMatchBruteForce) {
  auto clock = std::make_shared<ManualClock>(0);
  auto db = OpenTestDb(clock);
  ASSERT_TRUE(db->CreateNamespace("flat", {.coordinates = CoordinateSystem::kPlanar2D}).ok());
  std::mt19937_64 rng(TestSeed());
  std::uniform_real_distribution<double> u(0, 100);
  std::vector<Position> pts;
  for (int i = 0; i < 3000; ++i) {
    pts.push_back({u(rng), u(rng), 0});
    ASSERT_TRUE(db->Upsert("flat", {.id = std::to_string(i), .pos = pts.back()}).ok());
  }
  // A concave U with a square hole in its base.
  const std::vector<std::vector<Position>> rings = {
      {{10, 10}, {90, 10}, {90, 90}, {70, 90}, {70, 30}, {30, 30}, {30, 90}, {10, 90}},
      {{40, 15}, {60, 15}, {60, 25}, {40, 25}}};
  auto got = db->WithinPolygon("flat", rings, {.limit = 100000});
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  std::set<std::string> ids, want;
  for (const Hit& h : got->hits) ids.insert(h.id);
  for (size_t i = 0; i < pts.size(); ++i) {
    if (EvenOdd(rings, pts[i].x, pts[i].y)) want.insert(std::to_string(i));
  }
  EXPECT_EQ(ids, want);
  EXPECT_GT(want.size(), 500u);
  auto limited = db->WithinPolygon("flat", rings, {.limit = 10});
  EXPECT_EQ(limited->hits.size(), 10u);
  EXPECT_TRUE(limited->truncated);
  // A self-intersecting ring is named.
  auto bowtie = db->WithinPolygon("flat", {{{0, 0}, {10, 10}, {10, 0}, {0, 10}}});
  EXPECT_EQ(bowtie.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bowtie.status().message().find("cross"), std::string::npos)
      << bowtie.status().ToString();
  // Hull: every point inside or on it, every vertex an input point, convex and CCW.
  auto hull = db->ConvexHull("flat");
  ASSERT_TRUE(hull.ok());
  ASSERT_GE(hull->size(), 3u);
  for (size_t i = 0; i < hull->size(); ++i) {
    const Position& a = (*hull)[i];
    const Position& b = (*hull)[(i + 1) % hull->size()];
    EXPECT_NE(std::find(pts.begin(), pts.end(), a), pts.end());
    for (const Position& p : pts) {
      ASSERT_GE((b.x - a.x) * (p.y - a.y) - (b.y - a.y) * (p.x - a.x), 0.0);
    }
  }
  // Bounds.
  auto bounds = db->Bounds("flat");
  ASSERT_TRUE(bounds.ok());
  double lx = 1e9, ly = 1e9, hx = -1e9, hy = -1e9;
  for (const Position& p : pts) {
    lx = std::min(lx, p.x), ly = std::min(ly, p.y), hx = std::max(hx, p.x), hy = std::max(hy, p.y);
  }
  EXPECT_EQ(bounds->first.x, lx);
  EXPECT_EQ(bounds->first.y, ly);
  EXPECT_EQ(bounds->second.x, hx);
  EXPECT_EQ(bounds->second.y, hy);
  ASSERT_TRUE(db->CreateNamespace("empty", {.coordinates = CoordinateSystem::kPlanar2D}).ok());
  EXPECT_EQ(db->Bounds("empty").status().code(), StatusCode::kNotFound);
  // Planar distance; other methods are refused for planar namespaces.
  auto d = db->Distance("flat", "0", "1", DistanceMethod::kPlanar);
  ASSERT_TRUE(d.ok());
  EXPECT_DOUBLE_EQ(*d, std::hypot(pts[0].x - pts[1].x, pts[0].y - pts[1].y));
  EXPECT_EQ(db->Distance("flat", "0", "1", DistanceMethod::kVincenty).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(db->Distance("flat", "0", "nope", DistanceMethod::kPlanar).status().code(),
            StatusCode::kNotFound);
  // Geographic: haversine equals the radius query's distance; the ellipsoidal methods agree
  // with each other to a millimetre and with the sphere to 0.6%.
  ASSERT_TRUE(db->Upsert("geo", {.id = "jfk", .pos = {-73.7781, 40.6413}}).ok());
  ASSERT_TRUE(db->Upsert("geo", {.id = "lhr", .pos = {-0.4543, 51.4700}}).ok());
  const double hav = *db->Distance("geo", "jfk", "lhr");
  EXPECT_NEAR(hav, GreatCircle({-73.7781, 40.6413}, {-0.4543, 51.4700}), 1e-3);
  auto near = db->Nearest("geo", {-73.7781, 40.6413}, 2);
  EXPECT_NEAR(near->hits[1].distance, hav, 1e-3);
  const double vin = *db->Distance("geo", "jfk", "lhr", DistanceMethod::kVincenty);
  const double geo = *db->Distance("geo", "jfk", "lhr", DistanceMethod::kGeodesic);
  const double rhumb = *db->Distance("geo", "jfk", "lhr", DistanceMethod::kRhumb);
  EXPECT_NEAR(vin, geo, 1e-3);
  EXPECT_NEAR(hav, geo, 0.006 * geo);
  EXPECT_GT(rhumb, geo);  // a rhumb line is never shorter than the geodesic
  auto to_point = db->DistanceTo("geo", "jfk", {-73.7781, 40.6413});
  EXPECT_EQ(*to_point, 0.0);
}

// Readers never see part of a batch: each batch moves every object of a group to one x
// (the batch's version), across two namespaces; readers check that every hit of a query
// shows the same version, in both namespaces read under one query each.
TEST(DbConcurrencyTest, ReadersSeeAllOfABatchOrNone) {
  auto db = OpenTestDb(std::make_shared<ManualClock>(0));
  ASSERT_TRUE(db->CreateNamespace("p", {.coordinates = CoordinateSystem::kPlanar2D}).ok());
  constexpr int kObjects = 200;
  auto batch_for = [](int version) {
    Batch b;
    for (int i = 0; i < kObjects; ++i) {
      b.Upsert("p", {.id = std::to_string(i), .pos = {double(version), double(i)},
                     .timestamp = version});
    }
    return b;
  };
  ASSERT_TRUE(db->Apply(batch_for(0)).ok());
  std::atomic<bool> done{false};
  std::atomic<int> torn{0}, reads{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&] {
      while (!done.load()) {
        auto r = db->InBox("p", {-1, -1}, {1e9, 1e9}, {.limit = 100000});
        if (!r.ok() || r->hits.size() != kObjects) {
          ++torn;
          continue;
        }
        for (const Hit& h : r->hits) {
          if (h.pos.x != r->hits[0].pos.x) {
            ++torn;
            break;
          }
        }
        ++reads;
      }
    });
  }
  std::thread writer([&] {
    while (reads.load() == 0) std::this_thread::yield();  // as below: let the readers start
    for (int v = 1; v <= 300; ++v) {
      if (!db->Apply(batch_for(v)).ok()) ++torn;
    }
    done = true;
  });
  writer.join();
  for (auto& r : readers) r.join();
  EXPECT_EQ(torn.load(), 0);
  EXPECT_GT(reads.load(), 0);
  EXPECT_EQ(db->Get("p", "7")->pos.x, 300.0);
}

// A query around an object reads the object's position under the query's own lock hold:
// each batch moves "a" and its companion "b" together, so b is always at distance 0 from a;
// a position read apart from the query would sometimes be a's old one.
TEST(DbConcurrencyTest, QueriesAroundAnObjectSeeItWhereTheyQuery) {
  auto db = OpenTestDb(std::make_shared<ManualClock>(0));
  ASSERT_TRUE(db->CreateNamespace("p", {.coordinates = CoordinateSystem::kPlanar3D}).ok());
  auto batch_for = [](int version) {
    Batch b;
    const Position p{double(version % 50), double(version % 7), double(version % 3)};
    b.Upsert("p", {.id = "a", .pos = p, .timestamp = version});
    b.Upsert("p", {.id = "b", .pos = p, .timestamp = version});
    return b;
  };
  ASSERT_TRUE(db->Apply(batch_for(0)).ok());
  std::atomic<bool> done{false};
  std::atomic<int> wrong{0}, reads{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&, t] {
      while (!done.load()) {
        bool ok;
        if (t == 0) {
          auto r = db->NearestTo("p", "a", 1);
          ok = r.ok() && r->hits.size() == 1 && r->hits[0].id == "b" && r->hits[0].distance == 0;
        } else if (t == 1) {
          auto n = db->CountWithinRadiusOf("p", "a", 0);
          ok = n.ok() && *n == 1;
        } else {
          auto r = db->WithinCylinderOf("p", "a", 0, 0, 0);
          ok = r.ok() && r->hits.size() == 1 && r->hits[0].id == "b";
        }
        wrong += !ok;
        ++reads;
      }
    });
  }
  std::thread writer([&] {
    // On a loaded machine the readers may not run at all before 2000 batches are done:
    // start writing once they read.
    while (reads.load() == 0) std::this_thread::yield();
    for (int v = 1; v <= 2000; ++v) {
      if (!db->Apply(batch_for(v)).ok()) ++wrong;
    }
    done = true;
  });
  writer.join();
  for (auto& r : readers) r.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_GT(reads.load(), 0);
}

}  // namespace
}  // namespace locus
