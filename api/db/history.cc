// History: the writes (every upsert's sample, InsertTrajectory, DeleteHistory, retention) and
// the queries about one object (Trajectory, PositionAt, TrajectoryStats, Stops). The store is
// engine::History (engine/history.h); the motion rule is engine/motion.h. Locks: writes hold
// the namespace's writer lock and its rw exclusively (as every write does); reads hold rw
// shared (Impl::HistoryRead). The spatio-temporal queries over many objects are in
// history_queries.cc.
#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "api/db/db_impl.h"
#include "api/db/history_path.h"

namespace locus {
namespace db_internal {

uint32_t HistoryState::Number(std::string_view id) {
  auto [it, inserted] = number_of.try_emplace(std::string(id), static_cast<uint32_t>(names.size()));
  if (inserted) names.emplace_back(id);
  return it->second;
}

size_t HistoryState::MemoryBytes() const {
  size_t bytes = store.Counts().memory_bytes + names.capacity() * sizeof(std::string);
  bytes += number_of.capacity() * (sizeof(std::pair<std::string, uint32_t>) + 1);
  for (const std::string& n : names) {
    if (n.capacity() > 15) bytes += 2 * (n.capacity() + 1);  // the name and the map's key
  }
  return bytes;
}

void Namespace::RecordSample(std::string_view id, int64_t t, const Position& pos,
                             std::string_view metadata) {
  history->store.Add(history->Number(id), {t, pos.x, pos.y, pos.z}, metadata);
}

Position PositionOf(const engine::Fix& f) { return {f.x, f.y, f.z}; }

std::optional<engine::Fix> PathAt(const std::vector<engine::Fix>& path, double t,
                                  engine::Space space) {
  if (path.empty() || t < static_cast<double>(path.front().t) ||
      t > static_cast<double>(path.back().t)) {
    return std::nullopt;
  }
  auto it = std::lower_bound(path.begin(), path.end(), t, [](const engine::Fix& f, double v) {
    return static_cast<double>(f.t) < v;
  });
  if (static_cast<double>(it->t) == t) return *it;
  return engine::Interpolate(*(it - 1), *it, t, space);
}

Result<uint32_t> HistoryNumber(const HistoryState& h, std::string_view ns_name,
                               std::string_view id) {
  const int64_t n = h.Find(id);
  if (n < 0) {
    return NotFoundError("namespace '" + std::string(ns_name) + "': no history for object '" +
                         std::string(id) + "'");
  }
  return static_cast<uint32_t>(n);
}

namespace {

// Douglas-Peucker over [b, e]: marks the samples to keep.
void Simplify(const std::vector<engine::Fix>& f, size_t b, size_t e, double tol,
              engine::Space space, std::vector<uint8_t>* keep) {
  if (e <= b + 1) return;
  double worst = -1;
  size_t at = b;
  for (size_t i = b + 1; i < e; ++i) {
    const double d = engine::DistanceToSegment(f[i], f[b], f[e], space);
    if (d > worst) worst = d, at = i;
  }
  if (worst <= tol) return;
  (*keep)[at] = 1;
  Simplify(f, b, at, tol, space, keep);
  Simplify(f, at, e, tol, space, keep);
}

}  // namespace
}  // namespace db_internal

using db_internal::HistoryNumber;
using db_internal::PathAt;
using db_internal::PositionOf;

void Db::Impl::DropOldHistory() {
  std::vector<NsPtr> all;
  {
    std::shared_lock lock(ns_mu);
    for (auto& [name, ns] : namespaces) {
      if (ns->history && ns->options.history.retention_ms > 0) all.push_back(ns);
    }
  }
  const int64_t now = Now();
  size_t dropped = 0;
  for (const NsPtr& ns : all) {
    std::lock_guard w(ns->writer);
    if (ns->dropped) continue;
    std::unique_lock x(ns->rw);
    dropped += ns->history->store.DropChunksBefore(now - ns->options.history.retention_ms);
  }
  // The chunk files go with the next checkpoint (until then a restart brings their samples
  // back, and the next sweep drops them again).
  if (dropped > 0 && log) RequestCheckpoint();
}

Status Db::InsertTrajectory(std::string_view ns_name, std::string_view id,
                            const std::vector<Sample>& samples, const WriteOptions& write) {
  LOCUS_RETURN_IF_ERROR(impl_->CheckId(id));
  LOCUS_RETURN_IF_ERROR(impl_->WritableCheck());
  LOCUS_ASSIGN_OR_RETURN(auto ns, impl_->Require(ns_name));
  if (!ns->history) {
    return FailedPreconditionError("namespace '" + std::string(ns_name) +
                                   "' keeps no history (NamespaceOptions::history.enabled)");
  }
  const CoordinateSystem cs = ns->options.coordinates;
  size_t newest = 0;
  for (size_t i = 0; i < samples.size(); ++i) {
    // The messages (and their strings) only on failure: this loop runs once per sample.
    if (!db_internal::HistoryTimeOk(samples[i].t)) {
      return db_internal::CheckHistoryTime(samples[i].t, "samples[" + std::to_string(i) + "].t");
    }
    if (!db_internal::PositionOk(cs, samples[i].pos)) {
      return db_internal::CheckPosition(cs, samples[i].pos,
                                        "samples[" + std::to_string(i) + "].pos");
    }
    if (samples[i].metadata.size() > impl_->options.max_metadata_bytes) {
      const std::string field = "samples[" + std::to_string(i) + "]";
      return InvalidArgumentError(field + ".metadata: " +
                                  std::to_string(samples[i].metadata.size()) +
                                  " bytes, above max_metadata_bytes = " +
                                  std::to_string(impl_->options.max_metadata_bytes));
    }
    if (samples[i].t >= samples[newest].t) newest = i;
  }
  if (samples.empty()) return Status();
  uint64_t lsn = 0;
  auto apply = [&]() -> Status {
    bool recluster;
    {
      std::lock_guard w(ns->writer);
      if (ns->dropped) {
        return NotFoundError("namespace '" + std::string(ns_name) + "' was dropped");
      }
      const int64_t now = impl_->Now();
      Object o;
      o.id = std::string(id);
      o.pos = samples[newest].pos;
      o.timestamp = samples[newest].t;
      o.metadata = samples[newest].metadata;
      WriteOutcome outcome;
      {
        std::unique_lock x(ns->rw);
        engine::History& store = ns->history->store;
        const uint32_t number = ns->history->Number(id);  // once, not per sample
        for (size_t i = 0; i < samples.size(); ++i) {
          if (i == newest) continue;
          const Position& p = samples[i].pos;
          store.Add(number, {samples[i].t, p.x, p.y, p.z}, samples[i].metadata);
        }
        outcome = ns->UpsertLocked(o, now);  // records the newest sample too
      }
      if (impl_->log) {
        // One batch record: a replay applies every sample or none. The newest sample sets
        // the current position only when it did here.
        LOCUS_ASSIGN_OR_RETURN(
            lsn, impl_->LogRecord(db_internal::kBatch, [&](std::vector<uint8_t>* buf) {
              db_internal::BeginBatch(buf);
              for (size_t i = 0; i < samples.size(); ++i) {
                if (i == newest && outcome == WriteOutcome::kApplied) {
                  db_internal::BatchUpsert(ns_name, o, db_internal::ExpiresOf(o, now), buf);
                } else {
                  db_internal::BatchSample(ns_name, id, samples[i].t, samples[i].pos,
                                           samples[i].metadata, buf);
                }
              }
              db_internal::EndBatch(static_cast<uint32_t>(samples.size()), buf);
            }));
      }
      recluster = ns->NeedsRecluster();
    }
    if (recluster) impl_->RequestRecluster(ns);
    return Status();
  };
  if (impl_->Waits(write)) return impl_->Grouped(apply, &lsn);
  LOCUS_RETURN_IF_ERROR(apply());
  return impl_->Commit(lsn, write);
}

Result<size_t> Db::DeleteHistory(std::string_view ns_name, std::string_view id, int64_t t0,
                                 int64_t t1, const WriteOptions& write) {
  LOCUS_RETURN_IF_ERROR(impl_->CheckId(id));
  LOCUS_RETURN_IF_ERROR(db_internal::CheckWindow(t0, t1));
  LOCUS_RETURN_IF_ERROR(impl_->WritableCheck());
  LOCUS_ASSIGN_OR_RETURN(auto ns, impl_->Require(ns_name));
  if (!ns->history) {
    return FailedPreconditionError("namespace '" + std::string(ns_name) +
                                   "' keeps no history (NamespaceOptions::history.enabled)");
  }
  uint64_t lsn = 0;
  size_t erased = 0;
  auto apply = [&]() -> Status {
    std::lock_guard w(ns->writer);
    if (ns->dropped) {
      return NotFoundError("namespace '" + std::string(ns_name) + "' was dropped");
    }
    {
      std::unique_lock x(ns->rw);
      LOCUS_ASSIGN_OR_RETURN(uint32_t n, HistoryNumber(*ns->history, ns_name, id));
      erased = ns->history->store.Erase(n, t0, t1);
    }
    if (erased > 0 && impl_->log) {
      LOCUS_ASSIGN_OR_RETURN(
          lsn, impl_->LogRecord(db_internal::kDeleteHistory, [&](std::vector<uint8_t>* buf) {
            db_internal::EncodeDeleteHistory(ns_name, id, t0, t1, buf);
          }));
    }
    return Status();
  };
  if (impl_->Waits(write)) {
    LOCUS_RETURN_IF_ERROR(impl_->Grouped(apply, &lsn));
  } else {
    LOCUS_RETURN_IF_ERROR(apply());
    LOCUS_RETURN_IF_ERROR(impl_->Commit(lsn, write));
  }
  return erased;
}

Result<TrajectoryResult> Db::Trajectory(std::string_view ns_name, std::string_view id, int64_t t0,
                                        int64_t t1, const TrajectoryOptions& options) const {
  LOCUS_RETURN_IF_ERROR(impl_->CheckId(id));
  LOCUS_RETURN_IF_ERROR(db_internal::CheckWindow(t0, t1));
  if (options.limit == 0) return InvalidArgumentError("limit = 0: must be > 0");
  LOCUS_RETURN_IF_ERROR(
      db_internal::CheckNonNegative(options.simplify_tolerance, "simplify_tolerance"));
  return impl_->HistoryRead<TrajectoryResult>(
      ns_name, [&](const Impl::Namespace& ns,
                   const db_internal::HistoryState& h) -> Result<TrajectoryResult> {
        LOCUS_ASSIGN_OR_RETURN(uint32_t n, HistoryNumber(h, ns_name, id));
        std::vector<engine::Fix> fixes;
        std::vector<std::string_view> meta;
        h.store.Timeline(n, t0, t1, false, &fixes, options.with_metadata ? &meta : nullptr);
        std::vector<uint8_t> keep(fixes.size(), 1);
        if (options.simplify_tolerance > 0 && fixes.size() > 2) {
          std::fill(keep.begin(), keep.end(), 0);
          keep.front() = keep.back() = 1;
          db_internal::Simplify(fixes, 0, fixes.size() - 1, options.simplify_tolerance,
                                db_internal::SpaceOf(ns.options.coordinates), &keep);
        }
        TrajectoryResult out;
        for (size_t i = 0; i < fixes.size(); ++i) {
          if (!keep[i]) continue;
          Sample s;
          s.t = fixes[i].t;
          s.pos = PositionOf(fixes[i]);
          if (options.with_metadata && !meta.empty()) s.metadata = std::string(meta[i]);
          out.samples.push_back(std::move(s));
        }
        if (options.order == TimeOrder::kDescending) {
          std::reverse(out.samples.begin(), out.samples.end());
        }
        if (out.samples.size() > options.limit) {
          out.samples.resize(options.limit);
          out.truncated = true;
        }
        return out;
      });
}

Result<Position> Db::PositionAt(std::string_view ns_name, std::string_view id, int64_t t,
                                const PositionAtOptions& options) const {
  LOCUS_RETURN_IF_ERROR(impl_->CheckId(id));
  return impl_->HistoryRead<Position>(
      ns_name,
      [&](const Impl::Namespace& ns, const db_internal::HistoryState& h) -> Result<Position> {
        LOCUS_ASSIGN_OR_RETURN(uint32_t n, HistoryNumber(h, ns_name, id));
        std::vector<engine::Fix> path;
        h.store.Timeline(n, t, t, true, &path);
        if (auto p = PathAt(path, static_cast<double>(t),
                            db_internal::SpaceOf(ns.options.coordinates))) {
          return PositionOf(*p);
        }
        if (path.empty()) {
          return NotFoundError("namespace '" + std::string(ns_name) +
                               "': no history for object '" + std::string(id) + "'");
        }
        if (options.clamp) return PositionOf(t < path.front().t ? path.front() : path.back());
        int64_t first = 0, last = 0;
        h.store.Span(n, &first, &last);
        return NotFoundError("object '" + std::string(id) + "': no position at t = " +
                             std::to_string(t) + ": its history spans [" + std::to_string(first) +
                             ", " + std::to_string(last) + "]");
      });
}

Result<TrajectoryStatistics> Db::TrajectoryStats(std::string_view ns_name, std::string_view id,
                                                 int64_t t0, int64_t t1) const {
  LOCUS_RETURN_IF_ERROR(impl_->CheckId(id));
  LOCUS_RETURN_IF_ERROR(db_internal::CheckWindow(t0, t1));
  return impl_->HistoryRead<TrajectoryStatistics>(
      ns_name, [&](const Impl::Namespace& ns,
                   const db_internal::HistoryState& h) -> Result<TrajectoryStatistics> {
        LOCUS_ASSIGN_OR_RETURN(uint32_t n, HistoryNumber(h, ns_name, id));
        const engine::Space space = db_internal::SpaceOf(ns.options.coordinates);
        std::vector<engine::Fix> path;
        h.store.Timeline(n, t0, t1, true, &path);
        TrajectoryStatistics s;
        for (const engine::Fix& f : path) s.samples += f.t >= t0 && f.t <= t1;
        if (path.empty()) return s;
        const double lo = std::max<double>(t0, path.front().t);
        const double hi = std::min<double>(t1, path.back().t);
        if (lo > hi) return s;
        s.duration_ms = static_cast<int64_t>(hi - lo);
        for (size_t i = 0; i + 1 < path.size(); ++i) {
          const engine::Fix& a = path[i];
          const engine::Fix& b = path[i + 1];
          if (b.t <= lo || a.t >= hi) continue;
          const engine::Fix ca = *PathAt(path, std::max<double>(lo, a.t), space);
          const engine::Fix cb = *PathAt(path, std::min<double>(hi, b.t), space);
          s.length += engine::MotionDistance(ca, cb, space);
          const double speed =
              engine::MotionDistance(a, b, space) / (static_cast<double>(b.t - a.t) / 1000);
          s.max_speed = std::max(s.max_speed, speed);
        }
        if (s.duration_ms > 0) s.average_speed = s.length / (s.duration_ms / 1000.0);
        return s;
      });
}

Result<std::vector<Stop>> Db::Stops(std::string_view ns_name, std::string_view id, int64_t t0,
                                    int64_t t1, double radius, int64_t min_duration_ms) const {
  LOCUS_RETURN_IF_ERROR(impl_->CheckId(id));
  LOCUS_RETURN_IF_ERROR(db_internal::CheckWindow(t0, t1));
  LOCUS_RETURN_IF_ERROR(db_internal::CheckNonNegative(radius, "radius"));
  if (min_duration_ms < 0) {
    return InvalidArgumentError("min_duration_ms = " + std::to_string(min_duration_ms) +
                                ": must be >= 0");
  }
  return impl_->HistoryRead<std::vector<Stop>>(
      ns_name, [&](const Impl::Namespace& ns,
                   const db_internal::HistoryState& h) -> Result<std::vector<Stop>> {
        LOCUS_ASSIGN_OR_RETURN(uint32_t n, HistoryNumber(h, ns_name, id));
        const engine::Space space = db_internal::SpaceOf(ns.options.coordinates);
        std::vector<engine::Fix> f;
        h.store.Timeline(n, t0, t1, false, &f);
        std::vector<Stop> out;
        size_t i = 0;
        while (i < f.size()) {
          size_t j = i + 1;
          while (j < f.size() && engine::MotionDistance(f[i], f[j], space) <= radius) ++j;
          if (f[j - 1].t - f[i].t >= min_duration_ms && j - i >= 2) {
            Stop s;
            s.t_start = f[i].t;
            s.t_end = f[j - 1].t;
            s.samples = j - i;
            double x = 0, y = 0, z = 0;
            for (size_t k = i; k < j; ++k) {
              if (space == engine::Space::kSphere) {
                const auto u = engine::UnitVector(f[k].x, f[k].y);
                x += u[0], y += u[1], z += u[2];
              } else {
                x += f[k].x, y += f[k].y, z += f[k].z;
              }
            }
            const double m = static_cast<double>(j - i);
            if (space == engine::Space::kSphere) {
              constexpr double kRad = 180 / 3.14159265358979323846;
              s.center = {std::atan2(y, x) * kRad, std::atan2(z, std::hypot(x, y)) * kRad, 0};
            } else {
              s.center = {x / m, y / m, z / m};
            }
            out.push_back(s);
            i = j;
          } else {
            ++i;
          }
        }
        return out;
      });
}

}  // namespace locus
