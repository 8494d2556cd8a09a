// W8's data and query generators (perf/history_data.h): the random walks and the query draws.
#include "perf/history_data.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <unordered_map>
#include <utility>

namespace locus::perf {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kMetresPerDegreeLat = kW8EarthRadiusMetres * kPi / 180;

uint64_t SplitMix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

double MetresPerDegreeLon(double lat) { return kMetresPerDegreeLat * std::cos(lat * kPi / 180); }

// Reflects `v` into [-half, half] (one bounce suffices: a step is far shorter than the side)
// and flips the matching velocity component's sign through `flip`.
void Reflect(double& v, double half, bool& flip) {
  if (v > half) {
    v = 2 * half - v;
    flip = true;
  } else if (v < -half) {
    v = -2 * half - v;
    flip = true;
  }
}

// The first and last sample times of a data set of these sizes (offsets are 0..9 s).
struct Span {
  int64_t first, last;
};
Span TimeSpan(std::span<const HistorySample> data) {
  Span s{data.empty() ? kW8StartMs : data[0].t_ms, data.empty() ? kW8StartMs : data[0].t_ms};
  for (const HistorySample& h : data) {
    s.first = std::min(s.first, h.t_ms);
    s.last = std::max(s.last, h.t_ms);
  }
  return s;
}

// A window of `length` ms starting uniformly in [lo, hi] (hi clamped up to lo).
int64_t StartIn(W8Rng& rng, int64_t lo, int64_t hi) {
  if (hi <= lo) return lo;
  return lo + static_cast<int64_t>(rng.Below(static_cast<uint64_t>(hi - lo) + 1));
}

}  // namespace

W8Rng::W8Rng(uint64_t seed) {
  uint64_t state = seed;
  for (uint64_t& s : s_) s = SplitMix64(state);
}

uint64_t W8Rng::Next() {
  const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = Rotl(s_[3], 45);
  return result;
}

uint64_t W8Rng::Below(uint64_t n) {
  __extension__ using U128 = unsigned __int128;  // GCC and Clang; -Wpedantic otherwise warns
  return static_cast<uint64_t>((static_cast<U128>(Next()) * n) >> 64);
}

std::vector<HistorySample> GenerateW8(size_t objects, size_t samples_per_object, uint64_t seed) {
  std::vector<HistorySample> out;
  out.reserve(objects * samples_per_object);
  const double half = kW8SideMetres / 2;
  const double lon_scale = MetresPerDegreeLon(kW8CentreLat);
  const double dt = kW8StepMs / 1000.0;
  for (size_t k = 0; k < objects; ++k) {
    // Object k's own stream: its walk does not depend on how many objects there are.
    uint64_t mix = seed ^ (0x57880000ULL + k);
    W8Rng rng(SplitMix64(mix));
    double x = rng.Uniform(-half, half), y = rng.Uniform(-half, half);  // metres
    double heading = rng.Uniform(0, 2 * kPi);
    double speed = rng.Uniform(kW8MinSpeed, kW8MaxSpeed);
    double turn = 0;  // rad/s
    const int64_t t0 = kW8StartMs + static_cast<int64_t>(rng.Below(10)) * 1000;
    for (size_t i = 0; i < samples_per_object; ++i) {
      if (i > 0) {
        speed = std::clamp(speed + rng.Uniform(-1, 1), kW8MinSpeed, kW8MaxSpeed);
        turn = std::clamp(0.8 * turn + rng.Uniform(-0.05, 0.05), -0.1, 0.1);
        heading += turn * dt;
        x += speed * dt * std::cos(heading);
        y += speed * dt * std::sin(heading);
        bool flip_x = false, flip_y = false;
        Reflect(x, half, flip_x);
        Reflect(y, half, flip_y);
        if (flip_x) heading = kPi - heading;
        if (flip_y) heading = -heading;
        heading = std::remainder(heading, 2 * kPi);
      }
      out.push_back({static_cast<uint32_t>(k), t0 + static_cast<int64_t>(i) * kW8StepMs,
                     kW8CentreLon + x / lon_scale, kW8CentreLat + y / kMetresPerDegreeLat});
    }
  }
  return out;
}

std::string W8ObjectName(uint32_t object) { return "vehicle-" + std::to_string(object); }

LonLatBox SquareAround(double lon, double lat, double side_metres) {
  const double dlat = side_metres / 2 / kMetresPerDegreeLat;
  const double dlon = side_metres / 2 / MetresPerDegreeLon(lat);
  return {lon - dlon, lat - dlat, lon + dlon, lat + dlat};
}

LonLatBox W8Area() {
  // The walks' square is the same metre offsets from the centre at every latitude.
  const double dlat = kW8SideMetres / 2 / kMetresPerDegreeLat;
  const double dlon = kW8SideMetres / 2 / MetresPerDegreeLon(kW8CentreLat);
  return {kW8CentreLon - dlon, kW8CentreLat - dlat, kW8CentreLon + dlon, kW8CentreLat + dlat};
}

LonLatBox ExpandBox(const LonLatBox& b, double metres) {
  const double dlat = metres / kMetresPerDegreeLat;
  const double far = std::min(89.0, std::max(std::abs(b.min_lat), std::abs(b.max_lat)));
  const double dlon = metres / MetresPerDegreeLon(far);
  return {b.min_lon - dlon, b.min_lat - dlat, b.max_lon + dlon, b.max_lat + dlat};
}

W8Queries GenerateW8Queries(std::span<const HistorySample> data, size_t objects,
                            size_t samples_per_object, size_t count, uint64_t seed) {
  W8Queries q;
  if (data.empty() || objects == 0 || samples_per_object == 0) return q;
  const Span span = TimeSpan(data);
  W8Rng rng(seed);
  for (size_t i = 0; i < count; ++i) {
    const uint32_t object = static_cast<uint32_t>(rng.Below(objects));
    const int64_t begin = StartIn(rng, span.first, span.last - kW8TrajectoryMs);
    q.trajectory.push_back({object, begin, begin + kW8TrajectoryMs});
  }
  for (size_t i = 0; i < count; ++i) {
    const HistorySample& s = data[rng.Below(data.size())];
    // A window holding s.t, inside the data's span where it fits.
    const int64_t begin = StartIn(rng, std::max(span.first, s.t_ms - kW8PassedMs),
                                  std::min(s.t_ms, span.last - kW8PassedMs));
    q.passed_through.push_back(
        {SquareAround(s.lon, s.lat, kW8PassedBoxMetres), begin, begin + kW8PassedMs});
  }
  for (size_t i = 0; i < count; ++i) {
    const HistorySample& s = data[rng.Below(data.size())];
    // t at least one step after the first sample: every object has a sample at or before it.
    const int64_t t = StartIn(rng, span.first + kW8StepMs, span.last);
    q.slice.push_back({SquareAround(s.lon, s.lat, kW8SliceRegionMetres), t});
  }
  for (size_t i = 0; i < count; ++i) {
    const int64_t begin = StartIn(rng, span.first, span.last - kW8EncounterMs);
    q.encounters.push_back({begin, begin + kW8EncounterMs, kW8EncounterMetres});
  }
  return q;
}

double W8DistanceMetres(double lon1, double lat1, double lon2, double lat2) {
  constexpr double kD = kPi / 180;
  const double s1 = std::sin((lat2 - lat1) * kD / 2), s2 = std::sin((lon2 - lon1) * kD / 2);
  const double h = s1 * s1 + std::cos(lat1 * kD) * std::cos(lat2 * kD) * s2 * s2;
  return 2 * kW8EarthRadiusMetres * std::asin(std::sqrt(std::min(1.0, h)));
}

namespace {

bool Inside(const LonLatBox& b, double lon, double lat) {
  return lon >= b.min_lon && lon <= b.max_lon && lat >= b.min_lat && lat <= b.max_lat;
}

}  // namespace

std::vector<HistorySample> ReferenceTrajectory(std::span<const HistorySample> data,
                                               const W8TrajectoryQuery& q) {
  std::vector<HistorySample> out;
  for (const HistorySample& s : data) {
    if (s.object == q.object && s.t_ms >= q.begin_ms && s.t_ms <= q.end_ms) out.push_back(s);
  }
  return out;  // data is ordered by time within an object
}

std::vector<W8Passed> ReferencePassedThrough(std::span<const HistorySample> data,
                                             const W8PassedThroughQuery& q) {
  std::map<uint32_t, int64_t> first;
  for (const HistorySample& s : data) {
    if (s.t_ms >= q.begin_ms && s.t_ms <= q.end_ms && Inside(q.box, s.lon, s.lat)) {
      auto [it, inserted] = first.emplace(s.object, s.t_ms);
      if (!inserted) it->second = std::min(it->second, s.t_ms);
    }
  }
  std::vector<W8Passed> out;
  for (const auto& [object, t] : first) out.push_back({object, t});
  return out;
}

std::vector<HistorySample> ReferenceSlice(std::span<const HistorySample> data,
                                          const W8SliceQuery& q) {
  std::vector<HistorySample> out;
  for (size_t i = 0; i < data.size(); ++i) {
    const HistorySample& s0 = data[i];
    if (!(s0.t_ms > q.t_ms - kW8StepMs && s0.t_ms <= q.t_ms)) continue;
    double lon = s0.lon, lat = s0.lat;
    if (i + 1 < data.size() && data[i + 1].object == s0.object) {
      const HistorySample& s1 = data[i + 1];
      const double f =
          static_cast<double>(q.t_ms - s0.t_ms) / static_cast<double>(s1.t_ms - s0.t_ms);
      lon = s0.lon + (s1.lon - s0.lon) * f;
      lat = s0.lat + (s1.lat - s0.lat) * f;
    }
    if (Inside(q.region, lon, lat)) out.push_back({s0.object, q.t_ms, lon, lat});
  }
  return out;  // data is ordered by object
}

std::vector<W8Encounter> ReferenceEncounters(std::span<const HistorySample> data,
                                             const W8EncounterQuery& q) {
  std::vector<uint32_t> in;  // indices of the window's samples
  double max_abs_lat = 0;
  for (size_t i = 0; i < data.size(); ++i) {
    if (data[i].t_ms >= q.begin_ms && data[i].t_ms <= q.end_ms) {
      in.push_back(static_cast<uint32_t>(i));
      max_abs_lat = std::max(max_abs_lat, std::abs(data[i].lat));
    }
  }
  // Cells twice the distance on each side (east-west at the data's highest latitude), so any
  // pair within the distance lies in neighbouring cells.
  const double cell_lat = 2 * q.distance_metres / kMetresPerDegreeLat;
  const double cell_lon = 2 * q.distance_metres / MetresPerDegreeLon(std::min(89.0, max_abs_lat));
  auto key = [](int64_t cx, int64_t cy) {
    return (static_cast<uint64_t>(cx) << 32) ^ static_cast<uint64_t>(cy & 0xffffffff);
  };
  std::unordered_map<uint64_t, std::vector<uint32_t>> grid;
  for (uint32_t i : in) {
    grid[key(static_cast<int64_t>(std::floor(data[i].lon / cell_lon)),
             static_cast<int64_t>(std::floor(data[i].lat / cell_lat)))]
        .push_back(i);
  }
  std::map<std::pair<uint32_t, uint32_t>, std::pair<int64_t, int64_t>> pairs;
  for (uint32_t i : in) {
    const HistorySample& a = data[i];
    const int64_t cx = static_cast<int64_t>(std::floor(a.lon / cell_lon));
    const int64_t cy = static_cast<int64_t>(std::floor(a.lat / cell_lat));
    for (int64_t dx = -1; dx <= 1; ++dx) {
      for (int64_t dy = -1; dy <= 1; ++dy) {
        auto it = grid.find(key(cx + dx, cy + dy));
        if (it == grid.end()) continue;
        for (uint32_t j : it->second) {
          const HistorySample& b = data[j];
          if (b.object <= a.object || std::abs(b.t_ms - a.t_ms) >= kW8StepMs) continue;
          if (W8DistanceMetres(a.lon, a.lat, b.lon, b.lat) > q.distance_metres) continue;
          const int64_t lo = std::min(a.t_ms, b.t_ms), hi = std::max(a.t_ms, b.t_ms);
          auto [p, inserted] = pairs.try_emplace({a.object, b.object}, lo, hi);
          if (!inserted) {
            p->second.first = std::min(p->second.first, lo);
            p->second.second = std::max(p->second.second, hi);
          }
        }
      }
    }
  }
  std::vector<W8Encounter> out;
  for (const auto& [ab, span] : pairs)
    out.push_back({ab.first, ab.second, span.first, span.second});
  return out;
}

}  // namespace locus::perf
