// The vocabulary of locus::Db's history and trajectory queries (db.h, "History"): options,
// samples, regions, and the results of the spatio-temporal queries. Included by db.h.
#ifndef LOCUS_HISTORY_H_
#define LOCUS_HISTORY_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace locus {

struct Position {
  double x = 0, y = 0, z = 0;
  friend bool operator==(const Position&, const Position&) = default;
};

// NamespaceOptions::history. Namespaces without history cost nothing extra.
struct HistoryOptions {
  bool enabled = false;
  // Samples older than now - retention_ms are dropped, in whole sealed chunks, by the
  // database's sweeper (or Db::SweepExpired); 0 keeps everything.
  int64_t retention_ms = 0;
  // Whether each sample keeps the upsert's metadata.
  bool keep_metadata = false;
  // Samples held open (per namespace) before they are sealed into an indexed chunk (>= 16).
  size_t chunk_samples = size_t{1} << 16;
  friend bool operator==(const HistoryOptions&, const HistoryOptions&) = default;
};

// A history keeps sample times t with |t| <= kMaxHistoryTime (2^53 - 1 ms, about 285,000
// years either side of the epoch), the range its index holds exactly; a write of a sample
// outside it into a history namespace is an InvalidArgument naming the timestamp.
inline constexpr int64_t kMaxHistoryTime = (int64_t{1} << 53) - 1;

// One sample of an object's history: its position at time t (milliseconds).
struct Sample {
  int64_t t = 0;
  Position pos;
  std::string metadata;  // when kept and asked for
  friend bool operator==(const Sample&, const Sample&) = default;
};

enum class TimeOrder { kAscending, kDescending };

struct TrajectoryOptions {
  size_t limit = 100000;  // > 0; past it the result says truncated
  TimeOrder order = TimeOrder::kAscending;
  bool with_metadata = false;
  // > 0: Douglas-Peucker simplification keeping the first and last sample, dropping samples
  // within this distance (metres in geographic namespaces, units in planar ones) of the
  // simplified path. Applied to the window before the limit.
  double simplify_tolerance = 0;
};

struct TrajectoryResult {
  std::vector<Sample> samples;
  bool truncated = false;
};

struct PositionAtOptions {
  // Outside the object's first..last sample: false gives NotFound, true the nearest end.
  bool clamp = false;
};

// A 2D region of a history query (x/y, or lon/lat; altitude and planar z are ignored).
struct Region {
  enum class Kind { kEverywhere, kBox, kCircle, kPolygon };
  Kind kind = Kind::kEverywhere;
  Position min, max;     // kBox: closed; geographic west > east crosses the antimeridian
  Position center;       // kCircle
  double radius = 0;     // kCircle: metres (geographic) or units (planar), closed
  std::vector<std::vector<Position>> rings;  // kPolygon: as Db::WithinPolygon takes them

  static Region Everywhere() { return {}; }
  static Region Box(const Position& min, const Position& max) {
    Region r;
    r.kind = Kind::kBox;
    r.min = min;
    r.max = max;
    return r;
  }
  static Region Circle(const Position& center, double radius) {
    Region r;
    r.kind = Kind::kCircle;
    r.center = center;
    r.radius = radius;
    return r;
  }
  static Region Polygon(std::vector<std::vector<Position>> rings) {
    Region r;
    r.kind = Kind::kPolygon;
    r.rings = std::move(rings);
    return r;
  }
};

// An object whose path entered a region during a window: the first instant it was inside
// (milliseconds, fractional: the path between samples is interpolated) and where.
struct Passage {
  std::string id;
  double t = 0;
  Position pos;
};
struct PassageResult {
  std::vector<Passage> passages;  // sorted by id
  bool truncated = false;
};

// The closest point of approach of two objects (as PostGIS ST_ClosestPointOfApproach /
// ST_DistanceCPA): the instant, the distance then, and both positions.
struct Approach {
  double t = 0;
  double distance = 0;
  Position a, b;
};

// Two objects within a distance of each other, at the same time, during [t_start, t_end]
// (one maximal interval within the query's window; a pair may meet several times).
struct Encounter {
  std::string id_a, id_b;  // id_a < id_b
  double t_start = 0, t_end = 0;
  double min_distance = 0;
  double t_closest = 0;
};
struct EncounterResult {
  std::vector<Encounter> encounters;  // sorted by (id_a, id_b, t_start)
  bool truncated = false;
};

// How far and how fast an object went over a window (the path clipped to the window).
struct TrajectoryStatistics {
  size_t samples = 0;     // within the window
  double length = 0;      // metres (great circle, altitude ignored) or planar units
  int64_t duration_ms = 0;
  double average_speed = 0;  // length per second
  double max_speed = 0;      // the fastest segment's, per second
};

// A stay point (MovingPandas' stop detection): a maximal run of consecutive samples that all
// lie within `radius` of the run's first sample and that lasts at least the minimum duration.
struct Stop {
  int64_t t_start = 0, t_end = 0;
  Position center;  // the mean of the run's positions (on the sphere, geographic)
  size_t samples = 0;
};

}  // namespace locus

#endif  // LOCUS_HISTORY_H_
