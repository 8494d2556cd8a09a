// W8's locus side (perf/history_locus.h): the database, the load, the queries and the checks
// of their answers against perf/history_data.h's references and the oracles described there.
#include "perf/history_locus.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace locus::perf {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kMetresPerDegreeLat = kW8EarthRadiusMetres * kPi / 180;
constexpr size_t kNoLimit = size_t{1} << 40;

QueryOptions NoLimit() {
  QueryOptions o;
  o.limit = kNoLimit;
  return o;
}

NamespaceOptions HistoryNamespace() {
  NamespaceOptions o;
  o.coordinates = CoordinateSystem::kGeographic;
  o.history.enabled = true;
  return o;
}

// The samples of `object` in `data` (GenerateW8 order): a contiguous run, ascending in t.
std::span<const HistorySample> SamplesOf(std::span<const HistorySample> data, uint32_t object) {
  auto lo = std::lower_bound(data.begin(), data.end(), object,
                             [](const HistorySample& s, uint32_t o) { return s.object < o; });
  auto hi = std::upper_bound(lo, data.end(), object,
                             [](uint32_t o, const HistorySample& s) { return o < s.object; });
  return {lo, hi};
}

struct LonLat {
  double lon, lat;
};

// The object's position at t, interpolated linearly in lon/lat between its samples; none
// outside its first..last sample.
std::optional<LonLat> At(std::span<const HistorySample> path, double t) {
  if (path.empty() || t < static_cast<double>(path.front().t_ms) ||
      t > static_cast<double>(path.back().t_ms)) {
    return std::nullopt;
  }
  auto it = std::lower_bound(path.begin(), path.end(), t, [](const HistorySample& s, double v) {
    return static_cast<double>(s.t_ms) < v;
  });
  if (static_cast<double>(it->t_ms) == t) return LonLat{it->lon, it->lat};
  const HistorySample& a = *(it - 1);
  const HistorySample& b = *it;
  const double f = (t - static_cast<double>(a.t_ms)) / static_cast<double>(b.t_ms - a.t_ms);
  return LonLat{a.lon + (b.lon - a.lon) * f, a.lat + (b.lat - a.lat) * f};
}

bool Inside(const LonLatBox& b, double lon, double lat) {
  return lon >= b.min_lon && lon <= b.max_lon && lat >= b.min_lat && lat <= b.max_lat;
}
LonLatBox Grow(const LonLatBox& b, double d) {
  return {b.min_lon - d, b.min_lat - d, b.max_lon + d, b.max_lat + d};
}
bool Near(double lon1, double lat1, double lon2, double lat2) {
  return std::abs(lon1 - lon2) <= kW8CheckDegrees && std::abs(lat1 - lat2) <= kW8CheckDegrees;
}

std::string Fmt(const char* format, auto... args) {
  char buf[512];
  std::snprintf(buf, sizeof buf, format, args...);
  return buf;
}

Status Mismatch(const std::string& what) { return InternalError("W8 locus answer: " + what); }

// Parses every id of a locus answer into an object number.
Result<uint32_t> Number(std::string_view id) {
  const int64_t n = W8ObjectNumber(id);
  if (n < 0) return Mismatch("unknown object id '" + std::string(id) + "'");
  return static_cast<uint32_t>(n);
}

// The segment a -> b over [t0, t1] (inclusive) against the closed box: the least u in [0, 1]
// with a + u (b - a) inside the box and the time a.t + u (b.t - a.t) within [t0, t1]
// (Liang-Barsky); none when there is no such u.
std::optional<double> FirstInBox(const HistorySample& a, const HistorySample& b, int64_t t0,
                                 int64_t t1, const LonLatBox& box) {
  const double dt = static_cast<double>(b.t_ms - a.t_ms);
  double lo = 0, hi = 1;
  if (dt > 0) {
    lo = std::max(lo, static_cast<double>(t0 - a.t_ms) / dt);
    hi = std::min(hi, static_cast<double>(t1 - a.t_ms) / dt);
  } else if (a.t_ms < t0 || a.t_ms > t1) {
    return std::nullopt;
  }
  auto clip = [&](double p0, double d, double min, double max) {
    if (d == 0) {
      if (p0 < min || p0 > max) hi = -1;
      return;
    }
    double u0 = (min - p0) / d, u1 = (max - p0) / d;
    if (u0 > u1) std::swap(u0, u1);
    lo = std::max(lo, u0);
    hi = std::min(hi, u1);
  };
  clip(a.lon, b.lon - a.lon, box.min_lon, box.max_lon);
  clip(a.lat, b.lat - a.lat, box.min_lat, box.max_lat);
  if (lo > hi) return std::nullopt;
  return static_cast<double>(a.t_ms) + lo * dt;
}

// The least over a path's segments (or its lone sample) of FirstInBox, in ms.
std::optional<double> FirstInBox(std::span<const HistorySample> path, int64_t t0, int64_t t1,
                                 const LonLatBox& box) {
  if (path.size() == 1) return FirstInBox(path[0], path[0], t0, t1, box);
  for (size_t i = 0; i + 1 < path.size(); ++i) {
    if (path[i + 1].t_ms < t0 || path[i].t_ms > t1) continue;
    // Segments are in time order: the first that meets the box has the least time.
    if (auto t = FirstInBox(path[i], path[i + 1], t0, t1, box)) return t;
  }
  return std::nullopt;
}

}  // namespace

int64_t W8ObjectNumber(std::string_view name) {
  constexpr std::string_view kPrefix = "vehicle-";
  if (name.size() <= kPrefix.size() || name.substr(0, kPrefix.size()) != kPrefix) return -1;
  int64_t n = 0;
  for (char c : name.substr(kPrefix.size())) {
    if (c < '0' || c > '9' || n > (int64_t{1} << 32)) return -1;
    n = n * 10 + (c - '0');
  }
  return n <= std::numeric_limits<uint32_t>::max() ? n : -1;
}

Result<std::unique_ptr<W8Locus>> W8Locus::OpenInMemory() {
  LOCUS_ASSIGN_OR_RETURN(auto db, Db::OpenInMemory());
  LOCUS_RETURN_IF_ERROR(db->CreateNamespace(kW8Namespace, HistoryNamespace()));
  return std::unique_ptr<W8Locus>(new W8Locus(std::move(db)));
}

Result<std::unique_ptr<W8Locus>> W8Locus::OpenDurable(const std::string& directory) {
  DbOptions o;
  o.durability.sync = SyncPolicy::kNever;
  o.durability.checkpoint_min_log_bytes = 0;
  LOCUS_ASSIGN_OR_RETURN(auto db, Db::Open(directory, o));
  const Status created = db->CreateNamespace(kW8Namespace, HistoryNamespace());
  // A reopened directory has the namespace already.
  if (!created.ok() && created.code() != StatusCode::kAlreadyExists) return created;
  return std::unique_ptr<W8Locus>(new W8Locus(std::move(db)));
}

Status W8Locus::Load(std::span<const HistorySample> data) {
  std::vector<Sample> samples;
  std::string id;
  for (size_t i = 0; i < data.size();) {
    const uint32_t object = data[i].object;
    samples.clear();
    for (; i < data.size() && data[i].object == object; ++i) {
      samples.push_back({.t = data[i].t_ms, .pos = {data[i].lon, data[i].lat, 0}, .metadata = {}});
    }
    id = W8ObjectName(object);
    LOCUS_RETURN_IF_ERROR(db_->InsertTrajectory(kW8Namespace, id, samples));
  }
  return Status();
}

Result<TrajectoryResult> W8Locus::Trajectory(const W8TrajectoryQuery& q) const {
  TrajectoryOptions o;
  o.limit = kNoLimit;
  return db_->Trajectory(kW8Namespace, W8ObjectName(q.object), q.begin_ms, q.end_ms, o);
}

Result<PassageResult> W8Locus::PassedThrough(const W8PassedThroughQuery& q) const {
  const Region box =
      Region::Box({q.box.min_lon, q.box.min_lat, 0}, {q.box.max_lon, q.box.max_lat, 0});
  return db_->PassedThrough(kW8Namespace, box, q.begin_ms, q.end_ms, NoLimit());
}

Result<QueryResult> W8Locus::Slice(const W8SliceQuery& q) const {
  const Region region =
      Region::Box({q.region.min_lon, q.region.min_lat, 0}, {q.region.max_lon, q.region.max_lat, 0});
  return db_->SliceAt(kW8Namespace, q.t_ms, region, NoLimit());
}

Result<EncounterResult> W8Locus::Encounters(const W8EncounterQuery& q) const {
  return db_->Encounters(kW8Namespace, q.distance_metres, q.begin_ms, q.end_ms, NoLimit());
}

Status CheckTrajectory(std::span<const HistorySample> data, const W8TrajectoryQuery& q,
                       const TrajectoryResult& got) {
  const std::vector<HistorySample> want = ReferenceTrajectory(data, q);
  const std::string query =
      Fmt("Trajectory(object %u, [%lld, %lld])", q.object, static_cast<long long>(q.begin_ms),
          static_cast<long long>(q.end_ms));
  if (got.truncated || got.samples.size() != want.size()) {
    return Mismatch(Fmt("%s: %zu samples%s, reference %zu", query.c_str(), got.samples.size(),
                        got.truncated ? " (truncated)" : "", want.size()));
  }
  for (size_t i = 0; i < want.size(); ++i) {
    const Sample& s = got.samples[i];
    if (s.t != want[i].t_ms || s.pos.x != want[i].lon || s.pos.y != want[i].lat) {
      return Mismatch(Fmt("%s: sample %zu is (%lld, %.17g, %.17g), reference (%lld, %.17g, %.17g)",
                          query.c_str(), i, static_cast<long long>(s.t), s.pos.x, s.pos.y,
                          static_cast<long long>(want[i].t_ms), want[i].lon, want[i].lat));
    }
  }
  return Status();
}

Status CheckPassedThrough(std::span<const HistorySample> data, const W8PassedThroughQuery& q,
                          const PassageResult& got) {
  const std::string query =
      Fmt("PassedThrough(box [%.9f, %.9f, %.9f, %.9f], [%lld, %lld])", q.box.min_lon, q.box.min_lat,
          q.box.max_lon, q.box.max_lat, static_cast<long long>(q.begin_ms),
          static_cast<long long>(q.end_ms));
  if (got.truncated) return Mismatch(query + ": truncated");
  std::map<uint32_t, const Passage*> by_object;
  for (const Passage& p : got.passages) {
    LOCUS_ASSIGN_OR_RETURN(uint32_t o, Number(p.id));
    if (!by_object.emplace(o, &p).second) return Mismatch(query + ": " + p.id + " twice");
  }
  // Every object with a sample in the box, no later than that sample.
  for (const W8Passed& w : ReferencePassedThrough(data, q)) {
    auto it = by_object.find(w.object);
    if (it == by_object.end()) {
      return Mismatch(Fmt("%s: object %u (sample in the box at %lld) missing", query.c_str(),
                          w.object, static_cast<long long>(w.first_ms)));
    }
    if (it->second->t > static_cast<double>(w.first_ms) + 1e-3) {
      return Mismatch(Fmt("%s: object %u first at %.3f, after its sample in the box at %lld",
                          query.c_str(), w.object, it->second->t,
                          static_cast<long long>(w.first_ms)));
    }
  }
  // The segment oracle: objects that certainly crossed (box shrunk) must be there, objects
  // reported must at least come within the tolerance (box grown), at a time between the two.
  const LonLatBox shrunk = Grow(q.box, -kW8CheckDegrees), grown = Grow(q.box, kW8CheckDegrees);
  for (size_t i = 0; i < data.size();) {
    const uint32_t object = data[i].object;
    size_t e = i;
    while (e < data.size() && data[e].object == object) ++e;
    const std::span<const HistorySample> path = data.subspan(i, e - i);
    i = e;
    const auto must = FirstInBox(path, q.begin_ms, q.end_ms, shrunk);
    auto it = by_object.find(object);
    if (it == by_object.end()) {
      if (must) {
        return Mismatch(Fmt("%s: object %u (its path inside the box at %.3f) missing",
                            query.c_str(), object, *must));
      }
      continue;
    }
    const Passage& p = *it->second;
    const auto may = FirstInBox(path, q.begin_ms, q.end_ms, grown);
    if (!may || p.t < *may - 1e-3 || (must && p.t > *must + 1e-3)) {
      return Mismatch(
          Fmt("%s: object %u first inside at %.3f; its path meets the box from "
              "%.3f (grown) / %.3f (shrunk)",
              query.c_str(), object, p.t, may ? *may : NAN, must ? *must : NAN));
    }
    const auto at = At(path, p.t);
    if (!at || !Near(at->lon, at->lat, p.pos.x, p.pos.y) || !Inside(grown, p.pos.x, p.pos.y)) {
      return Mismatch(Fmt(
          "%s: object %u at %.3f reported at (%.9f, %.9f), its path is at "
          "(%.9f, %.9f)",
          query.c_str(), object, p.t, p.pos.x, p.pos.y, at ? at->lon : NAN, at ? at->lat : NAN));
    }
  }
  return Status();
}

Status CheckSlice(std::span<const HistorySample> data, const W8SliceQuery& q,
                  const QueryResult& got) {
  const std::string query =
      Fmt("SliceAt(%lld, region [%.9f, %.9f, %.9f, %.9f])", static_cast<long long>(q.t_ms),
          q.region.min_lon, q.region.min_lat, q.region.max_lon, q.region.max_lat);
  if (got.truncated) return Mismatch(query + ": truncated");
  std::map<uint32_t, const Hit*> by_object;
  for (const Hit& h : got.hits) {
    LOCUS_ASSIGN_OR_RETURN(uint32_t o, Number(h.id));
    if (!by_object.emplace(o, &h).second) return Mismatch(query + ": " + h.id + " twice");
  }
  const LonLatBox shrunk = Grow(q.region, -kW8CheckDegrees);
  const LonLatBox grown = Grow(q.region, kW8CheckDegrees);
  std::vector<uint32_t> seen;
  for (const HistorySample& w : ReferenceSlice(data, q)) {
    seen.push_back(w.object);
    const std::span<const HistorySample> path = SamplesOf(data, w.object);
    auto it = by_object.find(w.object);
    const bool past_end = q.t_ms > path.back().t_ms;
    if (it == by_object.end()) {
      if (!past_end && Inside(shrunk, w.lon, w.lat)) {
        return Mismatch(
            Fmt("%s: object %u at (%.9f, %.9f) missing", query.c_str(), w.object, w.lon, w.lat));
      }
      continue;
    }
    const Hit& h = *it->second;
    if (past_end || !Near(h.pos.x, h.pos.y, w.lon, w.lat)) {
      return Mismatch(Fmt("%s: object %u at (%.9f, %.9f), reference (%.9f, %.9f)%s", query.c_str(),
                          w.object, h.pos.x, h.pos.y, w.lon, w.lat,
                          past_end ? " after its last sample" : ""));
    }
  }
  std::sort(seen.begin(), seen.end());
  for (const auto& [object, h] : by_object) {
    if (std::binary_search(seen.begin(), seen.end(), object)) continue;
    // Outside the region in the reference: only at its edge.
    const auto at = At(SamplesOf(data, object), static_cast<double>(q.t_ms));
    if (!at || !Near(at->lon, at->lat, h->pos.x, h->pos.y) || !Inside(grown, at->lon, at->lat) ||
        Inside(shrunk, at->lon, at->lat)) {
      return Mismatch(Fmt("%s: object %u at (%.9f, %.9f) is not in the reference", query.c_str(),
                          object, h->pos.x, h->pos.y));
    }
  }
  return Status();
}

Status CheckEncounters(std::span<const HistorySample> data, const W8EncounterQuery& q,
                       const EncounterResult& got, W8EncounterCounts* counts) {
  const std::string query =
      Fmt("Encounters(%.1f m, [%lld, %lld])", q.distance_metres, static_cast<long long>(q.begin_ms),
          static_cast<long long>(q.end_ms));
  if (got.truncated) return Mismatch(query + ": truncated");
  std::map<std::pair<uint32_t, uint32_t>, double> reported;  // least distance reported
  for (const Encounter& e : got.encounters) {
    LOCUS_ASSIGN_OR_RETURN(uint32_t a, Number(e.id_a));
    LOCUS_ASSIGN_OR_RETURN(uint32_t b, Number(e.id_b));
    if (a == b || !(e.t_start <= e.t_end) || e.t_start < static_cast<double>(q.begin_ms) - 1e-3 ||
        e.t_end > static_cast<double>(q.end_ms) + 1e-3 ||
        e.min_distance > q.distance_metres * (1 + 1e-9)) {
      return Mismatch(Fmt("%s: encounter %s, %s [%.3f, %.3f] at %.3f m is outside the query",
                          query.c_str(), e.id_a.c_str(), e.id_b.c_str(), e.t_start, e.t_end,
                          e.min_distance));
    }
    auto [it, inserted] = reported.try_emplace({std::min(a, b), std::max(a, b)}, e.min_distance);
    if (!inserted) it->second = std::min(it->second, e.min_distance);
  }

  // The oracle (the top of history_locus.h). Samples that can start a piece of the window:
  // t in [begin - step, end]. Object paths are contiguous runs of `data`.
  const int64_t step = kW8StepMs;
  std::vector<uint32_t> in;
  double max_abs_lat = 0, longest = 0;
  for (size_t i = 0; i < data.size(); ++i) {
    if (i + 1 < data.size() && data[i + 1].object == data[i].object) {
      longest = std::max(
          longest, W8DistanceMetres(data[i].lon, data[i].lat, data[i + 1].lon, data[i + 1].lat));
    }
    if (data[i].t_ms >= q.begin_ms - step && data[i].t_ms <= q.end_ms) {
      in.push_back(static_cast<uint32_t>(i));
      max_abs_lat = std::max(max_abs_lat, std::abs(data[i].lat));
    }
  }
  const double reach = q.distance_metres + 2 * longest + 1;
  const double cell_lat = reach / kMetresPerDegreeLat;
  const double cell_lon =
      reach / (kMetresPerDegreeLat * std::cos(std::min(89.0, max_abs_lat) * kPi / 180));
  // Cells of `reach` on each side and one step long: a pair within reach and less than a
  // step apart lies in neighbouring cells.
  struct Cell {
    int64_t x, y, t;
  };
  auto key = [](const Cell& c) {
    constexpr uint64_t kMask = (uint64_t{1} << 21) - 1;
    return (static_cast<uint64_t>(c.x) & kMask) << 42 | (static_cast<uint64_t>(c.y) & kMask) << 21 |
           (static_cast<uint64_t>(c.t) & kMask);
  };
  auto cell = [&](const HistorySample& s) {
    return Cell{static_cast<int64_t>(std::floor(s.lon / cell_lon)),
                static_cast<int64_t>(std::floor(s.lat / cell_lat)),
                (s.t_ms - (q.begin_ms - step)) / step};
  };
  std::unordered_map<uint64_t, std::vector<uint32_t>> grid;
  for (uint32_t i : in) grid[key(cell(data[i]))].push_back(i);
  // The next sample of the same object, or none.
  auto next = [&](uint32_t i) -> const HistorySample* {
    return i + 1 < data.size() && data[i + 1].object == data[i].object ? &data[i + 1] : nullptr;
  };
  std::map<std::pair<uint32_t, uint32_t>, double> oracle;  // least distance, metres
  for (uint32_t i : in) {
    const HistorySample& a = data[i];
    const Cell c = cell(a);
    for (int64_t dx = -1; dx <= 1; ++dx) {
      for (int64_t dy = -1; dy <= 1; ++dy) {
        for (int64_t dt = -1; dt <= 1; ++dt) {
          auto g = grid.find(key({c.x + dx, c.y + dy, c.t + dt}));
          if (g == grid.end()) continue;
          for (uint32_t j : g->second) {
            const HistorySample& b = data[j];
            if (b.object <= a.object || std::abs(b.t_ms - a.t_ms) >= step) continue;
            if (W8DistanceMetres(a.lon, a.lat, b.lon, b.lat) > reach) continue;
            // The piece on which a is on a -> next(a) and b on b -> next(b); a path ends at its
            // last sample.
            const HistorySample* na = next(i);
            const HistorySample* nb = next(j);
            const int64_t lo = std::max({a.t_ms, b.t_ms, q.begin_ms});
            const int64_t hi = std::min({na ? na->t_ms : a.t_ms, nb ? nb->t_ms : b.t_ms, q.end_ms});
            if (lo > hi) continue;
            auto pos = [&](const HistorySample& s, const HistorySample* n, int64_t t) {
              if (!n || t == s.t_ms) return LonLat{s.lon, s.lat};
              const double f =
                  static_cast<double>(t - s.t_ms) / static_cast<double>(n->t_ms - s.t_ms);
              return LonLat{s.lon + (n->lon - s.lon) * f, s.lat + (n->lat - s.lat) * f};
            };
            const LonLat a0 = pos(a, na, lo), a1 = pos(a, na, hi);
            const LonLat b0 = pos(b, nb, lo), b1 = pos(b, nb, hi);
            // b relative to a in local metres (the scale of the four points' mean latitude);
            // linear in time over the piece, so its least length has a closed form.
            const double mlon =
                kMetresPerDegreeLat * std::cos((a0.lat + a1.lat + b0.lat + b1.lat) / 4 * kPi / 180);
            const double rx0 = (b0.lon - a0.lon) * mlon,
                         ry0 = (b0.lat - a0.lat) * kMetresPerDegreeLat;
            const double rx1 = (b1.lon - a1.lon) * mlon,
                         ry1 = (b1.lat - a1.lat) * kMetresPerDegreeLat;
            const double vx = rx1 - rx0, vy = ry1 - ry0, vv = vx * vx + vy * vy;
            const double s = vv > 0 ? std::clamp(-(rx0 * vx + ry0 * vy) / vv, 0.0, 1.0) : 0.0;
            const double d = std::hypot(rx0 + s * vx, ry0 + s * vy);
            auto [it, inserted] = oracle.try_emplace({a.object, b.object}, d);
            if (!inserted) it->second = std::min(it->second, d);
          }
        }
      }
    }
  }
  if (counts) *counts = {reported.size(), ReferenceEncounters(data, q).size()};
  for (const auto& [ab, d] : oracle) {
    if (d <= q.distance_metres - kW8CheckMetres && !reported.count(ab)) {
      return Mismatch(Fmt("%s: objects %u and %u come within %.3f m, not reported", query.c_str(),
                          ab.first, ab.second, d));
    }
  }
  for (const auto& [ab, d] : reported) {
    auto it = oracle.find(ab);
    if (it == oracle.end() || it->second > q.distance_metres + kW8CheckMetres) {
      return Mismatch(
          Fmt("%s: objects %u and %u reported at %.3f m, the oracle's least "
              "distance is %.3f m",
              query.c_str(), ab.first, ab.second, d, it == oracle.end() ? INFINITY : it->second));
    }
  }
  return Status();
}

}  // namespace locus::perf
