// Recovery (Db::Open; docs/LOG_FORMAT.md, "Recovery"): load the newest checkpoint, remove
// what a checkpoint or a crash left behind, check that the segments are contiguous, replay
// the log (a batch is decoded and checked whole before any of it applies), cut a torn tail,
// and report damage before it as Corruption (or cut there with DurabilityOptions::repair).
// Then open the log for appending. Runs in Db::Open before any other thread but the
// reclusterer's; replayed writes are applied without the conflict rule and without logging.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "api/db/db_impl.h"
#include "api/db/history_files.h"

namespace locus {

using db_internal::Seconds;

Status Db::Impl::ApplyLogged(const std::vector<db_internal::LoggedOp>& ops) {
  using db_internal::LoggedOp;
  const int64_t now = Now();
  // Check every upsert first, so a record applies all or nothing. Only what the index
  // needs is checked: the limits on sizes may have changed since the write.
  for (size_t i = 0; i < ops.size(); ++i) {
    const LoggedOp& op = ops[i];
    if (op.kind != db_internal::kUpsert && op.kind != db_internal::kSample &&
        op.kind != db_internal::kDeleteHistory) {
      continue;
    }
    auto ns = Find(op.ns);
    if (!ns) {
      return CorruptionError("operation " + std::to_string(i) + ": " +
                             (op.kind == db_internal::kUpsert ? "upsert into" : "history of") +
                             " namespace '" + std::string(op.ns) + "', which does not exist");
    }
    if (op.kind != db_internal::kUpsert && !ns->history) {
      return CorruptionError("operation " + std::to_string(i) + ": history of namespace '" +
                             std::string(op.ns) + "', which keeps none");
    }
    if (op.kind == db_internal::kDeleteHistory) continue;
    if (ns->history && !db_internal::HistoryTimeOk(op.timestamp)) {
      return CorruptionError("operation " + std::to_string(i) + ": a sample at t = " +
                             std::to_string(op.timestamp) + " in namespace '" +
                             std::string(op.ns) + "', beyond the times a history keeps");
    }
    if (!db_internal::PositionOk(ns->options.coordinates, op.pos)) {
      Status s = db_internal::CheckPosition(ns->options.coordinates, op.pos,
                                            "operation " + std::to_string(i) + ".pos");
      return CorruptionError(s.message());
    }
  }
  for (const LoggedOp& op : ops) {
    switch (op.kind) {
      case db_internal::kCreateNamespace: {
        std::unique_lock lock(ns_mu);
        auto it = namespaces.find(op.ns);
        if (it == namespaces.end()) {
          namespaces.emplace(std::string(op.ns),
                             NewNamespace({.coordinates = op.coordinates, .history = op.history}));
        } else if (it->second->options.coordinates != op.coordinates ||
                   it->second->options.history != op.history) {
          return CorruptionError("namespace '" + std::string(op.ns) + "' is created with " +
                                 CoordinateSystemName(op.coordinates) +
                                 " coordinates but exists with " +
                                 CoordinateSystemName(it->second->options.coordinates));
        }
        break;
      }
      case db_internal::kDropNamespace: {
        std::unique_lock lock(ns_mu);
        auto it = namespaces.find(op.ns);
        if (it != namespaces.end()) {
          // Our own reference outlives the guard: erasing the map's may free the namespace
          // (and the mutex the guard holds) otherwise.
          const NsPtr ns = it->second;
          std::lock_guard w(ns->writer);
          ns->dropped = true;
          namespaces.erase(it);
        }
        break;
      }
      case db_internal::kUpsert: {
        auto ns = Find(op.ns);
        const Object o =
            db_internal::MakeObject(op.id, op.pos, op.timestamp, op.metadata, op.expires);
        bool recluster;
        {
          std::lock_guard w(ns->writer);
          {
            std::unique_lock x(ns->rw);
            ns->UpsertLocked(o, now, nullptr, /*force=*/true);
          }
          recluster = ns->NeedsRecluster();
        }
        if (recluster) RequestRecluster(ns);
        break;
      }
      case db_internal::kSample: {
        auto ns = Find(op.ns);
        std::lock_guard w(ns->writer);
        std::unique_lock x(ns->rw);
        ns->RecordSample(op.id, op.timestamp, op.pos, op.metadata);
        break;
      }
      case db_internal::kDeleteHistory: {
        auto ns = Find(op.ns);
        std::lock_guard w(ns->writer);
        std::unique_lock x(ns->rw);
        const int64_t n = ns->history->Find(op.id);
        if (n >= 0) ns->history->store.Erase(static_cast<uint32_t>(n), op.timestamp, op.t1);
        break;
      }
      default: {  // kDelete (and each object of kExpire)
        auto ns = Find(op.ns);
        if (!ns) break;
        std::lock_guard w(ns->writer);
        std::unique_lock x(ns->rw);
        ns->DeleteLocked(op.id, now);
        break;
      }
    }
  }
  return Status();
}

Status Db::Impl::LoadHistory(const db_internal::CheckpointReader& reader,
                             const std::vector<NsPtr>& created, const std::string& path) {
  std::vector<db_internal::HistorySection> sections;
  Status s = db_internal::DecodeHistorySections(reader.history(), &sections);
  if (!s.ok()) return CorruptionError("checkpoint " + path + ": " + std::string(s.message()));
  std::vector<bool> seen(created.size(), false);
  for (db_internal::HistorySection& section : sections) {
    if (section.ns >= created.size() || seen[section.ns] || !created[section.ns]->history) {
      return CorruptionError("checkpoint " + path + ": history of namespace " +
                             std::to_string(section.ns) + ", which keeps none (or twice)");
    }
    seen[section.ns] = true;
    db_internal::HistoryState& h = *created[section.ns]->history;
    for (std::string& name : section.names) {
      if (name.empty() || h.Number(name) != h.names.size() - 1) {
        return CorruptionError("checkpoint " + path + ": history object id '" + name +
                               "' is empty or listed twice");
      }
    }
    const uint32_t limit = static_cast<uint32_t>(h.names.size());
    for (uint64_t number : section.files) {
      const std::string file = dir + "/" + db_internal::HistoryFileName(number);
      if (!history_listed.count(number)) {
        return CorruptionError("checkpoint " + path + " lists " + file + ", which is missing");
      }
      LOCUS_ASSIGN_OR_RETURN(auto bytes, fs->ReadFile(file));  // an I/O error stays one
      auto image = db_internal::DecodeHistoryChunk(bytes);
      if (!image.ok()) {
        return CorruptionError(file + ": " + std::string(image.status().message()));
      }
      auto seq = h.store.ImportChunk(std::move(image).value(), limit);
      if (!seq.ok()) return CorruptionError(file + ": " + std::string(seq.status().message()));
      if (!history_files.insert(number).second) {
        return CorruptionError("checkpoint " + path + ": history file " + file + " listed twice");
      }
      size_t erased = 0;
      for (const auto& c : h.store.LiveChunks()) {
        if (c.seq == *seq) erased = c.erased;
      }
      h.files[*seq] = {number, erased};
      recovery.history_files += 1;
      recovery.history_bytes += bytes.size();
    }
    Status open = h.store.ImportOpen(section.open, limit);
    if (!open.ok()) return CorruptionError("checkpoint " + path + ": " + std::string(open.message()));
  }
  return Status();
}

Status Db::Impl::LoadCheckpoint(const std::string& name, uint64_t* segment) {
  const std::string path = dir + "/" + name;
  LOCUS_ASSIGN_OR_RETURN(auto bytes, fs->ReadFile(path));
  auto reader = db_internal::CheckpointReader::Open(bytes);
  if (!reader.ok()) {
    return CorruptionError("checkpoint " + path + ": " + std::string(reader.status().message()));
  }
  const auto& names = reader->namespaces();
  *segment = reader->segment();
  std::vector<NsPtr> created;
  for (const auto& n : names) {
    if (n.name.empty() || namespaces.count(n.name)) {
      return CorruptionError("checkpoint " + path + ": namespace '" + n.name +
                             "' is empty or listed twice");
    }
    created.push_back(NewNamespace(n.options));
    namespaces.emplace(n.name, created.back());
    // The bulk path: records and the id map only, then one index build (IndexRecords).
    created.back()->defer_index = true;
  }
  if (created.size() == 1) {
    created[0]->key_of_id.Reserve(reader->objects());
    created[0]->records.reserve(reader->objects());
  }
  // The objects' current positions are not history samples: the history comes whole from its
  // own section below (a sample erased by DeleteHistory must not come back from the record).
  std::vector<std::unique_ptr<db_internal::HistoryState>> histories(created.size());
  for (size_t i = 0; i < created.size(); ++i) histories[i] = std::move(created[i]->history);
  const int64_t now = Now();
  Object o;  // reused: its strings keep their buffers from object to object
  Status s = reader->ForEach([&](const db_internal::CheckpointObject& co) -> Status {
    const CoordinateSystem cs = names[co.ns].options.coordinates;
    if (!db_internal::PositionOk(cs, co.pos)) {  // the message only on failure
      Status bad =
          db_internal::CheckPosition(cs, co.pos, "object '" + std::string(co.id) + "'.pos");
      return CorruptionError(bad.message());
    }
    db_internal::AssignObject(co.id, co.pos, co.timestamp, co.metadata, co.expires, &o);
    created[co.ns]->UpsertLocked(o, now, nullptr, /*force=*/true);  // no other thread yet
    return Status();
  });
  if (!s.ok()) return CorruptionError("checkpoint " + path + ": " + std::string(s.message()));
  for (size_t i = 0; i < created.size(); ++i) created[i]->history = std::move(histories[i]);
  LOCUS_RETURN_IF_ERROR(LoadHistory(*reader, created, path));
  for (auto& ns : created) {
    std::lock_guard w(ns->writer);
    std::unique_lock x(ns->rw);
    ns->IndexRecords();
  }
  recovery.checkpoint = path;
  recovery.checkpoint_objects = reader->objects();
  UpdateCheckpointTrigger(bytes.size());
  checkpoint_bytes = bytes.size();
  return Status();
}

Status Db::Impl::Recover() {
  using SteadyClock = std::chrono::steady_clock;
  LOCUS_ASSIGN_OR_RETURN(auto names, fs->ListDir(dir));
  std::vector<uint64_t> segments, checkpoints, history_on_disk;
  bool dir_changed = false;
  for (const std::string& n : names) {
    uint64_t seq;
    if (storage::ParseSegmentFileName(n, &seq)) {
      if (seq == 0 || seq >= (1ull << 48)) {
        return CorruptionError(dir + "/" + n + ": not a segment number this database writes");
      }
      segments.push_back(seq);
    } else if (db_internal::ParseCheckpointFileName(n, &seq)) {
      checkpoints.push_back(seq);
    } else if (db_internal::ParseHistoryFileName(n, &seq)) {
      history_on_disk.push_back(seq);
      history_listed.insert(seq);
      next_history_file = std::max(next_history_file, seq + 1);
    } else if (n.size() > 4 && n.compare(n.size() - 4, 4, ".tmp") == 0) {
      LOCUS_RETURN_IF_ERROR(fs->Remove(dir + "/" + n));  // a checkpoint cut short
      dir_changed = true;
    }
  }
  std::sort(segments.begin(), segments.end());
  std::sort(checkpoints.begin(), checkpoints.end());
  uint64_t first = 1;  // the first segment to replay
  if (!checkpoints.empty()) {
    const auto t0 = SteadyClock::now();
    const std::string name = db_internal::CheckpointFileName(checkpoints.back());
    uint64_t segment = 0;
    LOCUS_RETURN_IF_ERROR(LoadCheckpoint(name, &segment));
    if (segment != checkpoints.back()) {
      return CorruptionError("checkpoint " + dir + "/" + name + " says it precedes segment " +
                             std::to_string(segment));
    }
    first = segment;
    recovery.checkpoint_seconds = Seconds(SteadyClock::now() - t0);
  }
  // What the last checkpoint replaced (it stopped before removing them).
  for (uint64_t seq : segments) {
    if (seq >= first) continue;
    LOCUS_RETURN_IF_ERROR(fs->Remove(dir + "/" + storage::SegmentFileName(seq)));
    dir_changed = true;
  }
  for (uint64_t seq : checkpoints) {
    if (seq >= first) continue;
    LOCUS_RETURN_IF_ERROR(fs->Remove(dir + "/" + db_internal::CheckpointFileName(seq)));
    dir_changed = true;
  }
  // History chunk files the checkpoint does not list: written by a checkpoint that did not
  // finish, or replaced (erasures) or dropped (retention, namespace drops) by the last one.
  for (uint64_t number : history_on_disk) {
    if (history_files.count(number)) continue;
    LOCUS_RETURN_IF_ERROR(fs->Remove(dir + "/" + db_internal::HistoryFileName(number)));
    dir_changed = true;
  }
  segments.erase(
      std::remove_if(segments.begin(), segments.end(), [&](uint64_t s) { return s < first; }),
      segments.end());
  for (size_t i = 0; i < segments.size(); ++i) {
    if (segments[i] != first + i) {
      return CorruptionError(dir + "/" + storage::SegmentFileName(first + i) +
                             " is missing (the log continues with " +
                             storage::SegmentFileName(segments[i]) + ")");
    }
  }
  // Replay.
  const auto t0 = SteadyClock::now();
  recovering = true;
  std::vector<db_internal::LoggedOp> ops;
  uint64_t tail_valid = 0;
  uint64_t kept_bytes = 0;
  for (size_t i = 0; i < segments.size(); ++i) {
    const std::string path = dir + "/" + storage::SegmentFileName(segments[i]);
    LOCUS_ASSIGN_OR_RETURN(auto bytes, fs->ReadFile(path));
    recovery.log_bytes += bytes.size();
    ++recovery.segments;
    const storage::ScanResult r = storage::ScanSegment(
        bytes, segments[i], [&](uint8_t type, std::span<const uint8_t> payload, uint64_t) {
          ops.clear();
          LOCUS_RETURN_IF_ERROR(db_internal::DecodeRecord(type, payload, &ops));
          LOCUS_RETURN_IF_ERROR(ApplyLogged(ops));
          recovery.operations += ops.size();
          return Status();
        });
    recovery.records += r.records;
    tail_valid = r.valid_bytes;
    kept_bytes += r.valid_bytes;
    if (r.end == storage::ScanEnd::kClean) continue;
    const bool last = i + 1 == segments.size();
    if (r.end == storage::ScanEnd::kTorn && last) {
      recovery.torn_tail = true;
      recovery.torn_file = path;
      recovery.torn_offset = r.valid_bytes;
      recovery.torn_bytes = bytes.size() - r.valid_bytes;
      LOCUS_RETURN_IF_ERROR(fs->Truncate(path, r.valid_bytes));
      break;
    }
    if (!options.durability.repair) {
      return CorruptionError(
          path + ": " + r.error +
          (r.end == storage::ScanEnd::kTorn ? " (in a segment that is not the last)" : "") +
          "; the log is damaged before its end (open with "
          "DurabilityOptions::repair to cut it there, losing what follows)");
    }
    recovery.repaired = true;
    recovery.repaired_file = path;
    recovery.repaired_offset = r.valid_bytes;
    recovery.dropped_bytes = bytes.size() - r.valid_bytes;
    recovery.dropped_records = storage::CountRecordsAfter(bytes, r.valid_bytes);
    for (size_t j = i + 1; j < segments.size(); ++j) {
      const std::string later = dir + "/" + storage::SegmentFileName(segments[j]);
      LOCUS_ASSIGN_OR_RETURN(auto more, fs->ReadFile(later));
      recovery.dropped_bytes += more.size();
      recovery.dropped_records += storage::CountRecordsAfter(more, storage::kSegmentHeaderBytes);
      ++recovery.dropped_segments;
    }
    for (size_t j = segments.size(); j-- > i + 1;) {
      LOCUS_RETURN_IF_ERROR(fs->Remove(dir + "/" + storage::SegmentFileName(segments[j])));
      dir_changed = true;
    }
    // The later segments go, durably, before the cut: a crash in between must not leave the
    // cut segment followed by segments that continue after the records it dropped.
    if (dir_changed) {
      LOCUS_RETURN_IF_ERROR(fs->SyncDir(dir));
      dir_changed = false;
    }
    LOCUS_RETURN_IF_ERROR(fs->Truncate(path, r.valid_bytes));
    segments.resize(i + 1);
    break;
  }
  recovering = false;
  for (auto& [name, ns] : namespaces) {
    bool needs;
    {
      std::lock_guard w(ns->writer);
      needs = ns->NeedsRecluster();
    }
    if (needs) RequestRecluster(ns);
  }
  recovery.replay_seconds = Seconds(SteadyClock::now() - t0);
  recovery.records_per_second =
      recovery.replay_seconds > 0 ? recovery.records / recovery.replay_seconds : 0;
  if (dir_changed) LOCUS_RETURN_IF_ERROR(fs->SyncDir(dir));
  storage::LogOptions lo;
  const DurabilityOptions& d = options.durability;
  lo.policy = d.sync == SyncPolicy::kAlways        ? storage::LogOptions::Policy::kAlways
              : d.sync == SyncPolicy::kEverySecond ? storage::LogOptions::Policy::kInterval
                                                   : storage::LogOptions::Policy::kNever;
  lo.sync_kind =
      d.sync_mode == SyncMode::kFsync ? storage::SyncKind::kFull : storage::SyncKind::kData;
  lo.interval_ms = d.sync_interval_ms;
  lo.batch_size = d.sync_batch_size;
  const uint64_t seq = segments.empty() ? first : segments.back();
  LOCUS_ASSIGN_OR_RETURN(log,
                         storage::Log::Open(fs, dir, seq, segments.empty() ? 0 : tail_valid, lo));
  checkpoint_lsn = -static_cast<int64_t>(kept_bytes);
  if (checkpoints.empty()) UpdateCheckpointTrigger(0);
  return Status();
}

std::string RecoveryReport::ToString() const {
  auto fixed = [](double v, int digits) {
    char b[64];
    std::snprintf(b, sizeof b, "%.*f", digits, v);
    return std::string(b);
  };
  std::string s = "recovered";
  if (!checkpoint.empty()) {
    s += " checkpoint " + checkpoint + " (" + std::to_string(checkpoint_objects) + " objects, " +
         (history_files > 0 ? std::to_string(history_files) + " history files of " +
                                  std::to_string(history_bytes) + " bytes, "
                            : std::string()) +
         fixed(checkpoint_seconds * 1e3, 1) + " ms) +";
  }
  s += " " + std::to_string(records) + " log records (" + std::to_string(operations) +
       " operations, " + std::to_string(log_bytes) + " bytes) from " + std::to_string(segments) +
       " segments in " + fixed(replay_seconds * 1e3, 1) + " ms (" + fixed(records_per_second, 0) +
       " records/s)";
  if (torn_tail) {
    s += "; torn tail cut off: " + std::to_string(torn_bytes) + " bytes at offset " +
         std::to_string(torn_offset) + " of " + torn_file;
  }
  if (repaired) {
    s += "; REPAIRED: dropped " + std::to_string(dropped_bytes) + " bytes (" +
         std::to_string(dropped_records) + " intact records, " + std::to_string(dropped_segments) +
         " later segments) from offset " + std::to_string(repaired_offset) + " of " + repaired_file;
  }
  return s;
}

}  // namespace locus
