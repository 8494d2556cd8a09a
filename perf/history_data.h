// W8 (PERF.md, issue 14): the history workload's data and queries, shared by both sides so that
// locus and its peer (PostGIS, perf/history_bench.cc) load identical samples and answer
// identical queries. Everything is a pure function of its arguments: a self-contained
// xoshiro256** generator seeded through splitmix64 (no standard-library distribution, whose
// output may change between library versions), so a seed names the data on every machine.
//
// Data (GenerateW8): `objects` vehicles, each a random walk in a 20 km x 20 km square centred
// on lon 2.35, lat 48.85 (Paris), one sample every 10 s. Each object starts at a uniform point
// of the square with a uniform heading and speed; before each step its speed (5..25 m/s)
// changes by up to 1 m/s and its turn rate by an AR(1) step (|turn| <= 0.1 rad/s), so headings
// change smoothly; a walk that leaves the square is reflected back into it (in metres, on the
// local equirectangular projection at lat 48.85). Object k's first sample is at
// kW8StartMs + d_k * 1000 ms, d_k uniform in 0..9 (staggered starts), then every kW8StepMs.
// Object k's walk depends only on (seed, k): a smaller data set is a prefix of a larger one in
// objects and, per object, in samples.
//
// Queries (GenerateW8Queries; every time bound inclusive, every box closed):
//   Trajectory1h      the samples of `object` with begin_ms <= t <= end_ms, ordered by t;
//                     a 1 h window (end = begin + 3,600,000).
//   PassedThrough500m1h  the objects with a sample inside `box` (500 m x 500 m, centred on a
//                     random sample of the data) with begin_ms <= t <= end_ms (1 h, containing
//                     that sample's time); per object, the least such t; ordered by object.
//                     Samples only: an object that crossed the box between two samples is not
//                     reported.
//   SliceAtRegion     every object's position at t_ms inside `region` (2 km x 2 km, centred on
//                     a random sample): for each object with a sample s0 at
//                     t_ms - kW8StepMs < s0.t <= t_ms (its last sample, at most one step old),
//                     the position linearly interpolated in (lon, lat) between s0 and the
//                     object's next sample s1 at t_ms (s0 itself when there is no s1), kept
//                     when inside `region`; rows (object, lon, lat) ordered by object. A
//                     position inside the region may come from an s0 outside it, by at most
//                     the top speed times one step (kW8MaxStepMetres).
//   Encounters50m10min  the pairs of objects a < b with samples sa, sb, both with
//                     begin_ms <= t <= end_ms (10 min), |sa.t - sb.t| < kW8StepMs and a
//                     great-circle distance <= 50 m (sphere of radius kW8EarthRadiusMetres);
//                     per pair, the least of min(sa.t, sb.t) and the greatest of
//                     max(sa.t, sb.t) over such sample pairs; ordered by (a, b).
//
// Thread safety: all functions are pure; call them from any thread.
#ifndef LOCUS_PERF_HISTORY_DATA_H_
#define LOCUS_PERF_HISTORY_DATA_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace locus::perf {

// One position report: object `object` was at (lon, lat) degrees at t_ms (Unix milliseconds).
struct HistorySample {
  uint32_t object;
  int64_t t_ms;
  double lon, lat;
};

// The sizes of a W8 run: the real run, and --quick (perf/run) for CI smoke runs.
struct W8Size {
  size_t objects;
  size_t samples_per_object;
};
inline constexpr W8Size kW8Real = {10'000, 1'000};  // 10M samples, ~2.8 h
inline constexpr W8Size kW8Quick = {500, 200};      // 100k samples, ~33 min
inline constexpr uint64_t kW8Seed = 0x5788'2023'11'14ULL;
inline constexpr uint64_t kW8QuerySeed = 0x5788'0bad'cafeULL;

inline constexpr int64_t kW8StartMs = 1'700'000'000'000;  // 2023-11-14T22:13:20Z
inline constexpr int64_t kW8StepMs = 10'000;              // one sample per object per 10 s
inline constexpr double kW8CentreLon = 2.35, kW8CentreLat = 48.85;
inline constexpr double kW8SideMetres = 20'000;             // the square's side
inline constexpr double kW8MinSpeed = 5, kW8MaxSpeed = 25;  // m/s
inline constexpr double kW8MaxStepMetres = kW8MaxSpeed * kW8StepMs / 1000.0;
// The sphere of every metre <-> degree conversion here and of the encounter distance.
inline constexpr double kW8EarthRadiusMetres = 6'371'008.8;

// Query sizes (PERF.md's W8 rows).
inline constexpr int64_t kW8TrajectoryMs = 3'600'000;  // Trajectory1h
inline constexpr double kW8PassedBoxMetres = 500;      // PassedThrough500m1h: box side
inline constexpr int64_t kW8PassedMs = 3'600'000;      //   and window
inline constexpr double kW8SliceRegionMetres = 2'000;  // SliceAtRegion: region side
inline constexpr double kW8EncounterMetres = 50;       // Encounters50m10min: distance
inline constexpr int64_t kW8EncounterMs = 600'000;     //   and window

// Returns objects * samples_per_object samples ordered by (object, t_ms): the ingest order.
std::vector<HistorySample> GenerateW8(size_t objects, size_t samples_per_object, uint64_t seed);

// Returns the name of `object` in both databases: "vehicle-<object>".
std::string W8ObjectName(uint32_t object);

// A closed lon/lat rectangle, degrees.
struct LonLatBox {
  double min_lon, min_lat, max_lon, max_lat;
};

// Returns the box of side `side_metres` (east-west and north-south, on the local
// equirectangular projection of the sphere kW8EarthRadiusMetres) centred on (lon, lat).
LonLatBox SquareAround(double lon, double lat, double side_metres);
// Returns the square the walks stay in.
LonLatBox W8Area();
// Returns `b` grown by `metres` on every side (east-west at whichever of its edges is farther
// from the equator, where a metre spans the most longitude).
LonLatBox ExpandBox(const LonLatBox& b, double metres);

struct W8TrajectoryQuery {
  uint32_t object;
  int64_t begin_ms, end_ms;
};
struct W8PassedThroughQuery {
  LonLatBox box;
  int64_t begin_ms, end_ms;
};
struct W8SliceQuery {
  LonLatBox region;
  int64_t t_ms;
};
struct W8EncounterQuery {
  int64_t begin_ms, end_ms;
  double distance_metres;
};

// The four query rows, in the order both sides index them.
enum class W8Row { kTrajectory, kPassedThrough, kSlice, kEncounters };

// `count` queries of each row (their meaning: the top of this file), drawn from `seed` and
// from `data`, which must be GenerateW8(objects, samples_per_object, ...) for those sizes.
// Windows lie inside the data's time span where they fit (a span shorter than a window gives
// the window starting at the data's first time).
struct W8Queries {
  std::vector<W8TrajectoryQuery> trajectory;
  std::vector<W8PassedThroughQuery> passed_through;
  std::vector<W8SliceQuery> slice;
  std::vector<W8EncounterQuery> encounters;
};
W8Queries GenerateW8Queries(std::span<const HistorySample> data, size_t objects,
                            size_t samples_per_object, size_t count, uint64_t seed);

// Reference answers, computed by scanning `data` (REQUIRES: GenerateW8's order, by object
// then time; the encounter join buckets the window's samples in a lon/lat grid of cells wider
// than the distance). They are the oracles of both sides' tests, not fast.
struct W8Passed {
  uint32_t object;
  int64_t first_ms;  // the least t of the object's samples inside the box and window
  friend bool operator==(const W8Passed&, const W8Passed&) = default;
};
struct W8Encounter {
  uint32_t a, b;  // a < b
  int64_t first_ms, last_ms;
  friend bool operator==(const W8Encounter&, const W8Encounter&) = default;
};
std::vector<HistorySample> ReferenceTrajectory(std::span<const HistorySample> data,
                                               const W8TrajectoryQuery& q);
std::vector<W8Passed> ReferencePassedThrough(std::span<const HistorySample> data,
                                             const W8PassedThroughQuery& q);
// Rows (object, t_ms = q.t_ms, lon, lat).
std::vector<HistorySample> ReferenceSlice(std::span<const HistorySample> data,
                                          const W8SliceQuery& q);
std::vector<W8Encounter> ReferenceEncounters(std::span<const HistorySample> data,
                                             const W8EncounterQuery& q);
// The great-circle distance in metres on the sphere of radius kW8EarthRadiusMetres
// (haversine).
double W8DistanceMetres(double lon1, double lat1, double lon2, double lat2);

// The generator (exposed for tests): xoshiro256** seeded by splitmix64.
class W8Rng {
 public:
  explicit W8Rng(uint64_t seed);
  uint64_t Next();
  // Uniform in [0, 1), 53 random bits.
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  // Uniform in [lo, hi).
  double Uniform(double lo, double hi) { return lo + (hi - lo) * Uniform(); }
  // Uniform integer in [0, n). REQUIRES: n > 0. (Lemire's multiply; the bias at most 2^-64 n.)
  uint64_t Below(uint64_t n);

 private:
  uint64_t s_[4];
};

}  // namespace locus::perf

#endif  // LOCUS_PERF_HISTORY_DATA_H_
