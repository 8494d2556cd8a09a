// Reclustering a namespace's index off the writers' path (namespace.h, db_impl.h): moves
// inflate the live index's block bounds; past a threshold (LiveIndex::NeedsRecluster) the
// index is rebuilt into tight Hilbert-ordered blocks on the database's maintenance thread
// (DbOptions::background_recluster), or inline on the write that crossed the threshold.
//
// Threads: RequestRecluster is called by writers after they release the namespace's locks;
// ReclusterLoop runs on `reclusterer`; Namespace::Recluster takes the locks it needs.
#include <algorithm>
#include <chrono>

#include "api/db/db_impl.h"

namespace locus {
namespace db_internal {
namespace {

// Rebuilds `live` (ns's index) in three phases:
//   1. writer lock (queries run): copy the index's rows (a sequential copy);
//   2. no lock (writers and queries run): sort and build the new index from the copy;
//      writers record the keys they change (Namespace::Touch);
//   3. writer lock (queries run): replay the changed keys into the new index; then an
//      exclusive lock only to swap it in (the old one is freed after the unlock).
// Keys are kept: the records and the id map are untouched. (Renumbering keys into the new
// order, as the bulk load does, would also move the records next to their rows, but copying
// the records and the id map under the writer lock measured 2.9 s of writer pause at 1M
// objects on the 2-vCPU VM, against tens of milliseconds without.)
template <class Index>
void ReclusterIndex(Namespace& ns, Index& live) {
  using Clock = std::chrono::steady_clock;
  auto ms = [](Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); };
  typename Index::RowSet snapshot;
  const Clock::time_point t0 = Clock::now();
  Clock::duration copy_pause;
  {
    std::lock_guard w(ns.writer);
    if (!ns.NeedsRecluster()) return;
    const Clock::time_point locked = Clock::now();
    snapshot = live.Rows();
    ns.recluster_running = true;
    ns.dirty.clear();
    copy_pause = Clock::now() - locked;
  }
  Index fresh = Index::Build(live.options(), snapshot);
  snapshot = {};
  if (ns.build_hook) ns.build_hook();
  std::lock_guard w(ns.writer);
  const Clock::time_point catch_up = Clock::now();
  ns.recluster_running = false;
  // Catch up: the current row of every key written since the copy (removed keys, and keys
  // reused by new objects, included).
  std::vector<uint32_t>& dirty = ns.dirty;
  std::sort(dirty.begin(), dirty.end());
  dirty.erase(std::unique(dirty.begin(), dirty.end()), dirty.end());
  for (uint32_t key : dirty) {
    if (const auto row = live.Get(key))
      fresh.Upsert(key, row->pos, row->t, row->expires);
    else
      fresh.Remove(key);
  }
  std::vector<uint32_t>().swap(dirty);
  LOCUS_CHECK(fresh.size() == live.size());
  {
    std::unique_lock x(ns.rw);
    const Clock::time_point swap = Clock::now();
    std::swap(live, fresh);
    const Clock::time_point end = Clock::now();
    ns.last_recluster.reader_pause_ms = ms(end - swap);
    ns.last_recluster.total_ms = ms(end - t0);
    ns.last_recluster.writer_pause_ms = ms(copy_pause + (end - catch_up));
  }
  ++ns.reclusters;
}  // `fresh`, now the old index, is freed here: after the exclusive lock

}  // namespace

void Namespace::Recluster() {
  WithIndex([this](auto& live) { ReclusterIndex(*this, live); });
}

}  // namespace db_internal

void Db::Impl::RequestRecluster(const NsPtr& ns) {
  if (recovering) return;  // Recover reclusters once at the end
  if (!options.background_recluster) {
    ns->Recluster();
    return;
  }
  if (ns->recluster_queued.exchange(true)) return;
  {
    std::lock_guard lock(reclusterer.mu);
    recluster_queue.push_back(ns);
  }
  reclusterer.cv.notify_one();
}

void Db::Impl::ReclusterLoop() {
  std::unique_lock lock(reclusterer.mu);
  for (;;) {
    reclusterer.cv.wait(lock, [&] { return reclusterer.stopping || !recluster_queue.empty(); });
    if (reclusterer.stopping) break;
    NsPtr ns = std::move(recluster_queue.front());
    recluster_queue.pop_front();
    lock.unlock();
    ns->recluster_queued = false;
    ns->Recluster();
    ns.reset();  // a dropped namespace is freed here
    lock.lock();
  }
}

}  // namespace locus
