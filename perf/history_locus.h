// W8's locus side (PERF.md, issue 14): a locus::Db with one geographic history namespace,
// loaded with perf/history_data.h's samples by batched InsertTrajectory and asked the same
// W8Queries as the PostGIS peer (perf/history_postgis.h), plus the checks that hold its
// answers to perf/history_data.h's references before any number is reported.
//
// Semantics. locus answers three of the four questions on the path between samples (db.h,
// "History": constant speed along the great-circle arc), where the references (and the
// peer's SQL) look at samples only. The checks therefore compare what is comparable and hold
// the rest to an oracle of locus's own contract, computed from the same data:
//   Trajectory1h         identical to ReferenceTrajectory: the same samples, bit for bit.
//   PassedThrough500m1h  a superset of ReferencePassedThrough (every object with a sample in
//                        the box), each with a first time <= the reference's; the other
//                        objects crossed the box between two samples. Every object of the
//                        segment oracle (the window's segments, interpolated linearly in
//                        lon/lat, clipped to the box shrunk by kW8CheckDegrees) is present,
//                        every reported one meets the box grown by kW8CheckDegrees, and each
//                        reported position is the object's interpolated position at the
//                        reported instant.
//   SliceAtRegion        ReferenceSlice's rows, positions within kW8CheckDegrees, except:
//                        after an object's last sample locus has no position (the reference
//                        keeps the last sample for up to one step), and rows within
//                        kW8CheckDegrees of the region's edge may fall either way.
//   Encounters50m10min   not comparable with ReferenceEncounters (sample pairs less than one
//                        step apart, within 50 m): locus reports the pairs whose interpolated
//                        paths come within 50 m at the same instant. The oracle: every pair
//                        of samples less than a step apart and within 50 m + two longest
//                        steps spans one piece of both paths (each object on one segment);
//                        the pair's least distance over those pieces, in local metres. Pairs
//                        with a least distance <= 50 m - kW8CheckMetres must be reported,
//                        pairs above 50 m + kW8CheckMetres must not.
// The tolerances cover the difference between a great-circle arc and the straight lon/lat
// line over one step (~1.5 mm at 250 m), and the local-metre distance against haversine.
//
// Thread safety: a W8Locus is a locus::Db (every method may be called from many threads);
// the check functions are pure.
#ifndef LOCUS_PERF_HISTORY_LOCUS_H_
#define LOCUS_PERF_HISTORY_LOCUS_H_

#include <memory>
#include <span>
#include <string>

#include "locus/db.h"
#include "locus/status.h"
#include "perf/history_data.h"

namespace locus::perf {

inline constexpr char kW8Namespace[] = "w8";
inline constexpr double kW8CheckDegrees = 1e-7;  // ~1 cm
inline constexpr double kW8CheckMetres = 0.05;

class W8Locus {
 public:
  // An in-memory database (default DbOptions) holding the geographic history namespace
  // kW8Namespace (default HistoryOptions: every sample kept, no metadata).
  static Result<std::unique_ptr<W8Locus>> OpenInMemory();
  // The same in a durable database in `directory` (sync policy never; automatic checkpoints
  // off). Fails while durable databases refuse history namespaces (db.h).
  static Result<std::unique_ptr<W8Locus>> OpenDurable(const std::string& directory);

  // Ingest: one InsertTrajectory per object with all its samples, in data order: the Ingest
  // row's timed work. REQUIRES: `data` ordered by (object, t_ms), as GenerateW8 returns it.
  Status Load(std::span<const HistorySample> data);

  // The four query rows, with limits high enough that no answer is truncated.
  Result<TrajectoryResult> Trajectory(const W8TrajectoryQuery& q) const;
  Result<PassageResult> PassedThrough(const W8PassedThroughQuery& q) const;
  Result<QueryResult> Slice(const W8SliceQuery& q) const;
  Result<EncounterResult> Encounters(const W8EncounterQuery& q) const;

  Result<NamespaceStats> Stats() const { return db_->Stats(kW8Namespace); }
  Db& db() { return *db_; }

 private:
  explicit W8Locus(std::unique_ptr<Db> db) : db_(std::move(db)) {}
  std::unique_ptr<Db> db_;
};

// Returns the object number of a W8ObjectName ("vehicle-<n>"), or -1.
int64_t W8ObjectNumber(std::string_view name);

// The checks (the top of this file): OK, or an Internal error naming the query, the object
// and both answers at the first difference. REQUIRES: `data` is what was loaded, in
// GenerateW8 order.
Status CheckTrajectory(std::span<const HistorySample> data, const W8TrajectoryQuery& q,
                       const TrajectoryResult& got);
Status CheckPassedThrough(std::span<const HistorySample> data, const W8PassedThroughQuery& q,
                          const PassageResult& got);
Status CheckSlice(std::span<const HistorySample> data, const W8SliceQuery& q,
                  const QueryResult& got);
// Counts for the record (CheckEncounters' *counts, when not null).
struct W8EncounterCounts {
  size_t pairs = 0;         // distinct pairs in locus's answer (it may list a pair twice)
  size_t sample_pairs = 0;  // ReferenceEncounters' pairs: the peer's answer
};
Status CheckEncounters(std::span<const HistorySample> data, const W8EncounterQuery& q,
                       const EncounterResult& got, W8EncounterCounts* counts = nullptr);

}  // namespace locus::perf

#endif  // LOCUS_PERF_HISTORY_LOCUS_H_
