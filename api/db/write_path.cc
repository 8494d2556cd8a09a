// The write path (db.h, "Conflict rule"): Upsert, Delete and Apply validate, apply under the
// namespace's locks (Namespace::UpsertLocked decides the conflict rule), log the effects that
// changed something (durable_format.h; in a history namespace a stale upsert still adds a
// sample: a kSample record), and acknowledge as the sync policy says (Commit).
//
// Locks: a write takes its namespace's `writer`, then `rw` exclusively only while it mutates;
// a batch takes every namespace it touches, in name order. A namespace dropped between the
// lookup and the lock is looked up again. Single writes that wait for their sync run in write
// groups (write_group.cc).
#include <algorithm>
#include <array>
#include <map>
#include <string>
#include <vector>

#include "api/db/db_impl.h"
#include "kernels/column.h"
#include "kernels/geo.h"

namespace locus {

using db_internal::ExpiresOf;

Status Db::Impl::Commit(uint64_t lsn, const WriteOptions& w) {
  if (!log || lsn == 0) return Status();
  Status s = log->Commit(lsn, Waits(w));
  if (static_cast<int64_t>(lsn) - checkpoint_lsn.load(std::memory_order_relaxed) >
      static_cast<int64_t>(std::min<uint64_t>(
          checkpoint_trigger_bytes.load(std::memory_order_relaxed), INT64_MAX))) {
    RequestCheckpoint();
  }
  return s;
}

Result<WriteOutcome> Db::Upsert(std::string_view ns_name, const Object& object,
                                const WriteOptions& write) {
  // The single-object path: no batch, and messages are built only on error.
  LOCUS_RETURN_IF_ERROR(
      db_internal::CheckName(ns_name, "namespace", impl_->options.max_namespace_bytes));
  LOCUS_RETURN_IF_ERROR(impl_->WritableCheck());
  auto ns = impl_->Find(ns_name);
  const CoordinateSystem cs = ns ? ns->options.coordinates : NamespaceOptions{}.coordinates;
  if (!impl_->ObjectOk(cs, object)) return impl_->CheckObject(cs, object, "object");
  WriteOutcome out = WriteOutcome::kApplied;
  uint64_t lsn = 0;
  auto apply = [&]() -> Status {
    bool recluster;
    for (;;) {
      if (!ns) {
        ns = impl_->FindOrCreate(ns_name);
        // Created by another thread in between with other coordinates: validate against
        // those.
        if (ns->options.coordinates != cs && !impl_->ObjectOk(ns->options.coordinates, object)) {
          return impl_->CheckObject(ns->options.coordinates, object, "object");
        }
      }
      std::unique_lock w(ns->writer);
      if (ns->dropped) {  // dropped since we found it: find it again
        w.unlock();
        ns = nullptr;
        continue;
      }
      if (ns->history && !db_internal::HistoryTimeOk(object.timestamp)) {
        return db_internal::CheckHistoryTime(object.timestamp, "object.timestamp");
      }
      const int64_t now = impl_->Now();
      {
        std::unique_lock x(ns->rw);
        out = ns->UpsertLocked(object, now);
      }
      if (out == WriteOutcome::kApplied && impl_->log) {
        LOCUS_ASSIGN_OR_RETURN(
            lsn, impl_->LogRecord(db_internal::kUpsert, [&](std::vector<uint8_t>* buf) {
              db_internal::EncodeUpsert(ns_name, object, ExpiresOf(object, now), buf);
            }));
      } else if (ns->history && impl_->log) {  // stale, but history all the same
        LOCUS_ASSIGN_OR_RETURN(
            lsn, impl_->LogRecord(db_internal::kSample, [&](std::vector<uint8_t>* buf) {
              db_internal::EncodeSample(ns_name, object.id, object.timestamp, object.pos,
                                        object.metadata, buf);
            }));
      }
      recluster = ns->NeedsRecluster();
      break;
    }
    if (recluster) impl_->RequestRecluster(ns);
    return Status();
  };
  if (impl_->Waits(write)) {
    LOCUS_RETURN_IF_ERROR(impl_->Grouped(apply, &lsn));
    return out;
  }
  LOCUS_RETURN_IF_ERROR(apply());
  LOCUS_RETURN_IF_ERROR(impl_->Commit(lsn, write));
  return out;
}

Status Db::Delete(std::string_view ns_name, std::string_view id, const WriteOptions& write) {
  LOCUS_RETURN_IF_ERROR(impl_->CheckId(id));
  LOCUS_RETURN_IF_ERROR(impl_->WritableCheck());
  uint64_t lsn = 0;
  Impl::Namespace::Removed removed = Impl::Namespace::Removed::kNone;
  auto apply = [&]() -> Status {
    for (;;) {
      LOCUS_ASSIGN_OR_RETURN(auto ns, impl_->Require(ns_name));
      std::lock_guard w(ns->writer);
      if (ns->dropped) continue;
      std::unique_lock x(ns->rw);
      removed = ns->DeleteLocked(id, impl_->Now());
      if (removed != Impl::Namespace::Removed::kNone && impl_->log) {
        LOCUS_ASSIGN_OR_RETURN(
            lsn, impl_->LogRecord(db_internal::kDelete, [&](std::vector<uint8_t>* buf) {
              db_internal::EncodeDelete(ns_name, id, buf);
            }));
      }
      return Status();
    }
  };
  if (impl_->Waits(write)) {
    LOCUS_RETURN_IF_ERROR(impl_->Grouped(apply, &lsn));
  } else {
    LOCUS_RETURN_IF_ERROR(apply());
    LOCUS_RETURN_IF_ERROR(impl_->Commit(lsn, write));
  }
  if (removed != Impl::Namespace::Removed::kVisible) {
    return NotFoundError("namespace '" + std::string(ns_name) + "': no object '" + std::string(id) +
                         "'");
  }
  return Status();
}

// One Apply call: its operations, the namespaces they touch, and the steps Db::Apply runs
// in order.
struct Db::Impl::BatchApply {
  BatchApply(Impl& i, const std::vector<Batch::Op>& o) : impl(i), ops(o) {}
  Impl& impl;
  const std::vector<Batch::Op>& ops;
  std::map<std::string_view, NsPtr> touched;
  std::vector<Namespace*> target;  // per operation; null: a delete in no namespace
  std::vector<std::unique_lock<std::mutex>> writers;
  std::vector<std::unique_lock<db_internal::RwLock>> exclusive;
  // The unit vectors of the geographic upserts (empty when none were converted).
  std::vector<std::array<double, 3>> units;

  // 1. Validates every operation against the coordinate system it will be written with.
  //    Batches usually write one namespace: it is looked up once per run of equal names.
  Status Validate() const {
    std::string_view last_ns;
    CoordinateSystem last_cs = NamespaceOptions{}.coordinates;
    for (size_t i = 0; i < ops.size(); ++i) {
      const Batch::Op& op = ops[i];
      auto field = [i] { return "batch[" + std::to_string(i) + "]"; };
      if (op.ns.empty() || op.ns.size() > impl.options.max_namespace_bytes) {
        return db_internal::CheckName(op.ns, (field() + ".namespace").c_str(),
                                      impl.options.max_namespace_bytes);
      }
      if (op.needs_history) {  // a trajectory never creates its namespace (it would keep none)
        auto ns = impl.Find(op.ns);
        if (!ns) return NotFoundError(field() + ": namespace '" + op.ns + "' does not exist");
        if (!ns->history) {
          return FailedPreconditionError(field() + ": namespace '" + op.ns +
                                         "' keeps no history (NamespaceOptions::history.enabled)");
        }
      }
      if (op.upsert) {
        if (i == 0 || op.ns != last_ns) {
          auto ns = impl.Find(op.ns);
          last_ns = op.ns;
          last_cs = ns ? ns->options.coordinates : NamespaceOptions{}.coordinates;
        }
        if (!impl.ObjectOk(last_cs, op.object)) {
          return impl.CheckObject(last_cs, op.object, field());
        }
      } else {
        LOCUS_RETURN_IF_ERROR(db_internal::CheckName(op.object.id, (field() + ".id").c_str(),
                                                     impl.options.max_id_bytes));
      }
    }
    return Status();
  }

  // 2. Finds (upserts: creates) and takes the writer lock of every namespace touched, in
  //    name order; a namespace dropped between the lookup and the lock is looked up again.
  void LockWriters() {
    for (;;) {
      touched.clear();
      // Reset on every pass: a retry must not keep a pointer into a namespace it dropped.
      target.assign(ops.size(), nullptr);
      for (size_t i = 0; i < ops.size(); ++i) {
        if (i > 0 && ops[i].ns == ops[i - 1].ns) {
          target[i] = target[i - 1];
          if (target[i] || !ops[i].upsert) continue;
        }
        auto it = touched.find(ops[i].ns);
        if (it == touched.end()) {
          auto ns = ops[i].upsert ? impl.FindOrCreate(ops[i].ns) : impl.Find(ops[i].ns);
          if (!ns) continue;
          it = touched.emplace(ops[i].ns, std::move(ns)).first;
        }
        target[i] = it->second.get();
      }
      for (auto& [name, ns] : touched) writers.emplace_back(ns->writer);
      bool dropped = false;
      for (auto& [name, ns] : touched) dropped |= ns->dropped;
      if (!dropped) return;
      writers.clear();
    }
  }

  // The unit vectors of the geographic upserts, by one batch kernel call (before the
  // exclusive locks): converting them one at a time cost ~9% of a batched move (a dispatch
  // and a padded single-point pass each).
  void ConvertUnits() {
    if (ops.size() < 16) return;
    kernels::Column<double> lon(ops.size()), lat(ops.size()), ux(ops.size()), uy(ops.size()),
        uz(ops.size());
    size_t geo = 0;
    for (size_t i = 0; i < ops.size(); ++i) {
      const bool g = ops[i].upsert && target[i] && target[i]->geographic();
      lon[i] = g ? ops[i].object.pos.x : 0;
      lat[i] = g ? ops[i].object.pos.y : 0;
      geo += g;
    }
    if (geo == 0) return;
    kernels::LonLatToUnit(lon.data(), lat.data(), ops.size(), ux.data(), uy.data(), uz.data());
    units.resize(ops.size());
    for (size_t i = 0; i < ops.size(); ++i) units[i] = {ux[i], uy[i], uz[i]};
  }

  // Takes every touched namespace's rw exclusively, then checks the batch again: step 1
  // validated against the coordinates each namespace had then, and another thread may have
  // dropped one and created it again with other coordinates before step 2 found it (a few
  // compares per operation; nothing is applied yet).
  Status LockReadersOut() {
    for (auto& [name, ns] : touched) exclusive.emplace_back(ns->rw);
    for (size_t i = 0; i < ops.size(); ++i) {
      if (ops[i].upsert && target[i]->history &&
          !db_internal::HistoryTimeOk(ops[i].object.timestamp)) {
        return db_internal::CheckHistoryTime(ops[i].object.timestamp,
                                             "batch[" + std::to_string(i) + "].timestamp");
      }
      if (ops[i].needs_history && !target[i]->history) {
        return FailedPreconditionError("batch[" + std::to_string(i) + "]: namespace '" +
                                       ops[i].ns +
                                       "' keeps no history (NamespaceOptions::history.enabled)");
      }
      if (ops[i].upsert && !impl.ObjectOk(target[i]->options.coordinates, ops[i].object)) {
        return impl.CheckObject(target[i]->options.coordinates, ops[i].object,
                                "batch[" + std::to_string(i) + "]");
      }
    }
    return Status();
  }

  // A bulk load (one namespace, many operations) grows the namespace once; into an empty
  // namespace it defers the index to one build at the end (Namespace::IndexRecords), which
  // is returned then.
  Namespace* PrepareBulk() {
    if (touched.size() != 1 || ops.size() <= 1024) return nullptr;
    Namespace& ns = *touched.begin()->second;
    ns.key_of_id.Reserve(ns.key_of_id.size() + ops.size());
    ns.records.reserve(ns.records.size() + ops.size());
    const size_t indexed = ns.WithIndex([](const auto& live) { return live.size(); });
    if (!ns.key_of_id.empty() || ns.recluster_running || indexed != 0) return nullptr;
    ns.defer_index = true;
    return &ns;
  }

  // 3. Applies every operation, appending the ones that changed something to `record` (when
  //    the database logs), with a prefetch pipeline over groups of kGroup operations: a write
  //    makes ~4 dependent cache misses (the id map's control bytes, its slot, the record and
  //    the key -> slot entry, the row's columns). While group g applies, group g + 1's rows,
  //    group g + 2's records and key -> slot entries (after looking up their keys: a tight
  //    loop of independent finds, whose misses overlap) and group g + 3's map probes are
  //    loading. (One operation at a time was slower: Abseil's prefetch fetches the probe
  //    group's first slot, not the matching one, so each lookahead find still stalled on its
  //    slot.) The hints never change state: an op ahead that an earlier op invalidates (a
  //    delete, a new id taking a freed key) only wastes its prefetch.
  //    Longer than most functions here: the pipeline's stages share the ring of keys and
  //    read best side by side.
  //    Flattened: GCC otherwise keeps the id hash (absl's AbslHashValue) and UpsertLocked
  //    out of line here, calls they were not in the one-function Db::Apply this replaced
  //    (measured: W4 batched moves 15-22% slower).
  [[gnu::flatten]] uint32_t ApplyAll(int64_t now, std::vector<WriteOutcome>* out,
                                     std::vector<uint8_t>* record) {
    const bool logging = impl.log != nullptr;
    uint32_t logged = 0;
    constexpr size_t kGroup = 8;
    uint32_t ahead_key[4 * kGroup];  // the keys of groups g + 1 and g + 2 (ring of 4 groups)
    const size_t n = ops.size();
    auto probe = [&](size_t g) {
      for (size_t j = g * kGroup; j < std::min(n, (g + 1) * kGroup); ++j) {
        if (target[j]) target[j]->key_of_id.Prefetch(ops[j].object.id);
      }
    };
    auto find_keys = [&](size_t g) {
      for (size_t j = g * kGroup; j < std::min(n, (g + 1) * kGroup); ++j) {
        uint32_t& key = ahead_key[j % (4 * kGroup)];
        key = engine::kNoKey;
        if (!target[j]) continue;
        const Namespace& ns = *target[j];
        key = ns.key_of_id.Find(ops[j].object.id);
        if (key == engine::kNoKey) continue;
        const char* rec = reinterpret_cast<const char*>(&ns.records[key]);
        __builtin_prefetch(rec, 1);
        __builtin_prefetch(rec + 63, 1);  // a record may straddle two lines
        ns.WithIndex([key](const auto& live) { live.PrefetchKey(key); });
      }
    };
    auto prefetch_rows = [&](size_t g) {
      for (size_t j = g * kGroup; j < std::min(n, (g + 1) * kGroup); ++j) {
        const uint32_t key = ahead_key[j % (4 * kGroup)];
        if (!target[j] || key == engine::kNoKey) continue;
        target[j]->WithIndex([key](const auto& live) { live.PrefetchRow(key); });
      }
    };
    const bool pipeline = n >= 64;
    const size_t groups = (n + kGroup - 1) / kGroup;
    if (pipeline) {
      for (size_t g = 0; g < 3; ++g) probe(g);
      find_keys(0);
      find_keys(1);
      prefetch_rows(0);
    }
    for (size_t g = 0; g < groups; ++g) {
      if (pipeline) {
        if (g + 3 < groups) probe(g + 3);
        if (g + 2 < groups) find_keys(g + 2);
        if (g + 1 < groups) prefetch_rows(g + 1);
      }
      for (size_t i = g * kGroup; i < std::min(n, (g + 1) * kGroup); ++i) {
        const Batch::Op& op = ops[i];
        if (op.upsert) {
          out->push_back(
              target[i]->UpsertLocked(op.object, now, units.empty() ? nullptr : &units[i]));
          if (logging && out->back() == WriteOutcome::kApplied) {
            db_internal::BatchUpsert(op.ns, op.object, ExpiresOf(op.object, now), record);
            ++logged;
          } else if (logging && target[i]->history) {  // stale, but history all the same
            db_internal::BatchSample(op.ns, op.object.id, op.object.timestamp, op.object.pos,
                                     op.object.metadata, record);
            ++logged;
          }
        } else {
          if (target[i] &&
              target[i]->DeleteLocked(op.object.id, now) != Namespace::Removed::kNone && logging) {
            db_internal::BatchDelete(op.ns, op.object.id, record);
            ++logged;
          }
          out->push_back(WriteOutcome::kApplied);
        }
      }
    }
    return logged;
  }
};

Result<std::vector<WriteOutcome>> Db::Apply(const Batch& batch, const WriteOptions& write) {
  LOCUS_RETURN_IF_ERROR(impl_->WritableCheck());
  Impl::BatchApply b(*impl_, batch.ops_);
  LOCUS_RETURN_IF_ERROR(b.Validate());
  if (impl_->seams.batch_before_lock) impl_->seams.batch_before_lock();
  b.LockWriters();
  b.ConvertUnits();
  LOCUS_RETURN_IF_ERROR(b.LockReadersOut());
  Impl::Namespace* bulk = b.PrepareBulk();
  const int64_t now = impl_->Now();
  std::vector<WriteOutcome> out;
  out.reserve(b.ops.size());
  // The log record: the operations that changed something, in order (one record, so a
  // replay applies all of them or none).
  thread_local std::vector<uint8_t> record;
  if (impl_->log) {
    record.clear();
    db_internal::BeginBatch(&record);
  }
  const uint32_t logged = b.ApplyAll(now, &out, &record);
  if (bulk) bulk->IndexRecords();
  b.exclusive.clear();
  uint64_t lsn = 0;
  Status log_status;
  if (logged > 0) {
    db_internal::EndBatch(logged, &record);
    auto appended = impl_->log->Append(db_internal::kBatch, record);
    if (appended.ok())
      lsn = *appended;
    else
      log_status = appended.status();
    if (record.capacity() > (size_t{16} << 20)) std::vector<uint8_t>().swap(record);
  }
  std::vector<Impl::NsPtr> recluster;
  for (auto& [name, ns] : b.touched) {
    if (ns->NeedsRecluster()) recluster.push_back(ns);
  }
  b.writers.clear();
  for (auto& ns : recluster) impl_->RequestRecluster(ns);
  LOCUS_RETURN_IF_ERROR(log_status);
  LOCUS_RETURN_IF_ERROR(impl_->Commit(lsn, write));
  return out;
}

}  // namespace locus
