// The TTL sweep (db.h, "Expiry"): expired objects are invisible to every read from the
// instant they expire (the index masks them); the sweep removes them later, a bounded number
// per namespace per pass, and logs one expire record per namespace per pass (so a replay
// removes the same objects). SweeperLoop runs a pass every DbOptions::sweep_interval_ms on
// the `sweeper` thread; Db::SweepExpired runs one on the caller's.
#include <string>
#include <utility>
#include <vector>

#include "api/db/db_impl.h"

namespace locus {

void Db::Impl::SweeperLoop() {
  std::unique_lock lock(sweeper.mu);
  while (!sweeper.stopping) {
    sweeper.cv.wait_for(lock, std::chrono::milliseconds(options.sweep_interval_ms));
    if (sweeper.stopping) break;
    lock.unlock();
    Sweep(options.sweep_batch);
    DropOldHistory();
    lock.lock();
  }
}

size_t Db::Impl::Sweep(size_t max_per_namespace) {
  std::vector<std::pair<std::string, NsPtr>> all;
  {
    std::shared_lock lock(ns_mu);
    for (auto& [name, ns] : namespaces) all.emplace_back(name, ns);
  }
  size_t total = 0;
  const int64_t now = Now();
  std::vector<uint32_t> removed;
  std::vector<std::string_view> ids;
  for (auto& [name, ns] : all) {
    std::lock_guard w(ns->writer);
    if (ns->dropped || (log && log->failed()) || closed) continue;
    std::unique_lock x(ns->rw);
    removed.clear();
    ns->WithIndex([&](auto& live) { live.SweepExpired(now, max_per_namespace, &removed); });
    if (log && !removed.empty()) {  // logged before the records are cleared
      ids.clear();
      for (uint32_t key : removed) ids.push_back(ns->records[key].id.view());
      const std::string& ns_name = name;  // clang < 16 cannot capture a structured binding
      LogRecord(db_internal::kExpire,
                [&](std::vector<uint8_t>* out) { db_internal::EncodeExpire(ns_name, ids, out); })
          .status()
          .IgnoreError();
    }
    for (uint32_t key : removed) ns->FreeKey(key);  // the index already dropped the rows
    ns->swept += removed.size();
    total += removed.size();
  }
  return total;
}

size_t Db::SweepExpired(size_t max_per_namespace) {
  impl_->DropOldHistory();
  return impl_->Sweep(max_per_namespace);
}

}  // namespace locus
