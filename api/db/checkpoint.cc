// Checkpoints (Db::Checkpoint; docs/LOG_FORMAT.md, "Checkpoints"): the live state written
// as an index file, after which the log segments it replaces are removed. Steps: roll the log
// (namespace changes held off), a fuzzy chunked copy of every namespace, sync the log, write
// a temp file, fsync, rename, fsync the directory, remove the old segments and checkpoints,
// fsync the directory. The checkpointer thread takes one when the log written since the last
// outgrows max(checkpoint_min_log_bytes, checkpoint_log_ratio x the last checkpoint's size)
// (Commit asks for it, RequestCheckpoint wakes the thread).
//
// History namespaces add their section and chunk files (history_files.h): a chunk is written
// once, at the first checkpoint after it was sealed (again after erasures), and its file is
// removed by the first checkpoint that no longer lists it.
//
// Threads: checkpoint_mu lets one checkpoint run at a time (explicit or automatic).
#include <algorithm>
#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "api/db/db_impl.h"
#include "api/db/history_files.h"

namespace locus {

using db_internal::Seconds;

Status Db::Impl::Checkpoint() {
  if (!log) return Status();
  LOCUS_RETURN_IF_ERROR(WritableCheck());
  using SteadyClock = std::chrono::steady_clock;
  std::lock_guard one(checkpoint_mu);
  const auto t0 = SteadyClock::now();
  auto step = [&](const char* name) -> Status {
    const auto& hook = seams.checkpoint_step;
    if (hook && !hook(name)) {
      return FailedPreconditionError(std::string("checkpoint stopped after step '") + name +
                                     "' by the test hook");
    }
    return Status();
  };
  // Sync first, so the roll (which syncs the segment it ends) holds the namespace lock briefly.
  LOCUS_RETURN_IF_ERROR(log->Sync());
  uint64_t segment;
  int64_t roll_lsn;
  std::vector<std::pair<std::string, NsPtr>> list;
  {
    std::lock_guard change(ns_change_mu);
    LOCUS_ASSIGN_OR_RETURN(segment, log->Roll());
    roll_lsn = static_cast<int64_t>(log->lsn());
    std::shared_lock lock(ns_mu);
    for (auto& [name, ns] : namespaces) list.emplace_back(name, ns);
  }
  LOCUS_RETURN_IF_ERROR(step("rolled"));
  // Copy each namespace's objects, a few thousand keys per hold of its writer lock (queries
  // go on; writes wait at most one chunk). The copy is fuzzy: an object written after the
  // roll may be copied before or after that write (or twice, or not at all if its key moved),
  // but every such write is in segment K too, and replaying segment K over the copy gives
  // the state the log describes, because each logged operation sets or removes a whole
  // object (and namespace changes are ordered with the roll).
  db_internal::CheckpointBuilder builder;
  double pause_ms = 0;
  const int64_t now = Now();
  constexpr size_t kChunk = 4096;
  // History (history_files.h): per history namespace, in one hold of its writer lock, the ids
  // by number, the live chunks and the open part; the chunks without an up-to-date file are
  // written below, one hold each. Consistent like the objects: a sample written after the roll
  // may or may not be in it, and segment K has it.
  std::vector<HistoryCopy> history;
  for (size_t i = 0; i < list.size(); ++i) {
    Namespace& ns = *list[i].second;
    builder.AddNamespace(list[i].first, ns.options);
    if (ns.history) {
      const auto locked = SteadyClock::now();
      std::lock_guard w(ns.writer);
      history.push_back(CopyHistory(static_cast<uint32_t>(i), list[i].second));
      pause_ms = std::max(pause_ms, Seconds(SteadyClock::now() - locked) * 1e3);
    }
    for (size_t key = 0;;) {
      const auto locked = SteadyClock::now();
      std::lock_guard w(ns.writer);
      if (key == 0) builder.Reserve(ns.key_of_id.size());
      const size_t end = std::min(ns.records.size(), key + kChunk);
      for (; key < end; ++key) {
        const db_internal::Record& r = ns.records[key];
        if (r.id.empty()) continue;
        const db_internal::Times times = ns.TimesOf(key);
        if (times.expires <= now) continue;
        builder.AddObject(static_cast<uint32_t>(i), r.id.view(), r.pos, times.t, times.expires,
                          r.metadata.view());
      }
      pause_ms = std::max(pause_ms, Seconds(SteadyClock::now() - locked) * 1e3);
      if (key >= ns.records.size()) break;
    }
  }
  list.clear();
  {
    double history_pause_ms = 0;
    LOCUS_RETURN_IF_ERROR(WriteHistoryFiles(&history, &history_pause_ms));
    pause_ms = std::max(pause_ms, history_pause_ms);
  }
  if (!history.empty()) {
    std::vector<db_internal::HistorySection> sections;
    for (HistoryCopy& h : history) sections.push_back(std::move(h.section));
    std::vector<uint8_t> section_bytes;
    db_internal::EncodeHistorySections(sections, &section_bytes);
    builder.SetHistory(std::move(section_bytes));
    for (size_t i = 0; i < history.size(); ++i) history[i].section = std::move(sections[i]);
  }
  // The copy holds writes made after the roll, each namespace as of its own copy (a batch
  // over two namespaces may be in one copy and not the other): only replaying segment K
  // over it gives a consistent state. So every record appended so far (all that the copy
  // holds) must be durable before the checkpoint can be found; under kEverySecond and
  // kNever they may still be in the log's buffer.
  LOCUS_RETURN_IF_ERROR(log->Sync());
  LOCUS_RETURN_IF_ERROR(step("copied"));
  std::vector<uint8_t> bytes;
  LOCUS_RETURN_IF_ERROR(builder.Finish(segment, &bytes));
  builder = {};
  const std::string name = db_internal::CheckpointFileName(segment);
  const std::string path = dir + "/" + name;
  const std::string tmp = path + ".tmp";
  {
    LOCUS_ASSIGN_OR_RETURN(auto file, fs->OpenForAppend(tmp, /*truncate=*/true));
    LOCUS_RETURN_IF_ERROR(file->Append(bytes));
    LOCUS_RETURN_IF_ERROR(file->Sync(storage::SyncKind::kFull));
    LOCUS_RETURN_IF_ERROR(file->Close());
  }
  LOCUS_RETURN_IF_ERROR(step("written"));
  LOCUS_RETURN_IF_ERROR(fs->Rename(tmp, path));
  LOCUS_RETURN_IF_ERROR(fs->SyncDir(dir));
  LOCUS_RETURN_IF_ERROR(step("renamed"));
  // The checkpoint is durable: the segments and checkpoints before it are not needed, nor
  // the history files it does not list (replaced, dropped, or left by a failed checkpoint).
  history_files.clear();
  for (HistoryCopy& h : history) {
    history_files.insert(h.section.files.begin(), h.section.files.end());
    std::lock_guard w(h.ns->writer);
    h.ns->history->files = std::move(h.files);
  }
  LOCUS_ASSIGN_OR_RETURN(auto names, fs->ListDir(dir));
  for (const std::string& n : names) {
    uint64_t seq;
    if ((storage::ParseSegmentFileName(n, &seq) || db_internal::ParseCheckpointFileName(n, &seq)) &&
        seq < segment) {
      LOCUS_RETURN_IF_ERROR(fs->Remove(dir + "/" + n));
    } else if (db_internal::ParseHistoryFileName(n, &seq) && !history_files.count(seq) &&
               seq < next_history_file) {
      LOCUS_RETURN_IF_ERROR(fs->Remove(dir + "/" + n));
    }
  }
  LOCUS_RETURN_IF_ERROR(fs->SyncDir(dir));
  LOCUS_RETURN_IF_ERROR(step("removed"));
  ++checkpoints;
  checkpoint_bytes = bytes.size();
  last_checkpoint_ms = Seconds(SteadyClock::now() - t0) * 1e3;
  last_checkpoint_pause_ms = pause_ms;
  checkpoint_lsn = roll_lsn;
  UpdateCheckpointTrigger(bytes.size());
  return Status();
}

Db::Impl::HistoryCopy Db::Impl::CopyHistory(uint32_t index, const NsPtr& ns) {
  const db_internal::HistoryState& h = *ns->history;
  HistoryCopy copy;
  copy.ns = ns;
  copy.section.ns = index;
  copy.section.names = h.names;
  for (const engine::HistoryChunkInfo& c : h.store.LiveChunks()) {
    auto it = h.files.find(c.seq);
    if (it != h.files.end() && it->second.erased == c.erased) {
      copy.section.files.push_back(it->second.number);
      copy.files[c.seq] = it->second;
    } else {
      copy.section.files.push_back(0);  // written by WriteHistoryFiles
      copy.pending.push_back({c.seq, copy.section.files.size() - 1});
    }
  }
  copy.section.open = h.store.ExportOpen();
  return copy;
}

Status Db::Impl::WriteHistoryFiles(std::vector<HistoryCopy>* history, double* pause_ms) {
  using SteadyClock = std::chrono::steady_clock;
  bool wrote = false;
  std::vector<uint8_t> bytes;
  for (HistoryCopy& h : *history) {
    std::vector<bool> gone(h.section.files.size(), false);
    for (const auto& [seq, slot] : h.pending) {
      engine::HistoryChunkImage image;
      size_t erased = 0;
      bool live = false;
      {
        const auto locked = SteadyClock::now();
        std::lock_guard w(h.ns->writer);
        for (const engine::HistoryChunkInfo& c : h.ns->history->store.LiveChunks()) {
          if (c.seq != seq) continue;
          // Erasures since the copy are in segment K as well.
          image = h.ns->history->store.ExportChunk(seq);
          erased = c.erased;
          live = true;
        }
        *pause_ms = std::max(*pause_ms, Seconds(SteadyClock::now() - locked) * 1e3);
      }
      if (!live) {  // dropped by retention since the copy
        gone[slot] = true;
        continue;
      }
      const uint64_t number = next_history_file++;
      LOCUS_RETURN_IF_ERROR(db_internal::EncodeHistoryChunk(image, &bytes));
      image = {};
      const std::string path = dir + "/" + db_internal::HistoryFileName(number);
      LOCUS_ASSIGN_OR_RETURN(auto file, fs->OpenForAppend(path, /*truncate=*/true));
      LOCUS_RETURN_IF_ERROR(file->Append(bytes));
      LOCUS_RETURN_IF_ERROR(file->Sync(storage::SyncKind::kFull));
      LOCUS_RETURN_IF_ERROR(file->Close());
      h.section.files[slot] = number;
      h.files[seq] = {number, erased};
      wrote = true;
    }
    size_t kept = 0;
    for (size_t i = 0; i < h.section.files.size(); ++i) {
      if (!gone[i]) h.section.files[kept++] = h.section.files[i];
    }
    h.section.files.resize(kept);
  }
  // The files' names are durable before the checkpoint that lists them can be.
  if (wrote) LOCUS_RETURN_IF_ERROR(fs->SyncDir(dir));
  return Status();
}

void Db::Impl::RequestCheckpoint() {
  {
    std::lock_guard lock(checkpointer.mu);
    if (checkpoint_requested || !checkpointer.thread.joinable()) return;
    checkpoint_requested = true;
  }
  checkpointer.cv.notify_one();
}

void Db::Impl::CheckpointLoop() {
  std::unique_lock lock(checkpointer.mu);
  for (;;) {
    checkpointer.cv.wait(lock, [&] { return checkpointer.stopping || checkpoint_requested; });
    if (checkpointer.stopping) break;
    lock.unlock();
    // A failure leaves the previous checkpoint and the log as they were; the next trigger
    // tries again (a failure of the log itself stops writes, and so triggers).
    const bool ok = Checkpoint().ok();
    lock.lock();
    if (!ok) {
      checkpointer.cv.wait_for(lock, std::chrono::seconds(1),
                               [&] { return checkpointer.stopping; });
    }
    checkpoint_requested = false;
  }
}

void Db::Impl::UpdateCheckpointTrigger(uint64_t checkpoint_size) {
  const DurabilityOptions& d = options.durability;
  if (d.checkpoint_min_log_bytes == 0) return;
  const double by_ratio = d.checkpoint_log_ratio * static_cast<double>(checkpoint_size);
  checkpoint_trigger_bytes =
      std::max<uint64_t>(d.checkpoint_min_log_bytes,
                         by_ratio >= 1.8e19 ? UINT64_MAX : static_cast<uint64_t>(by_ratio));
}

}  // namespace locus
