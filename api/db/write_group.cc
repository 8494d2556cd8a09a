// Write groups (db_impl.h): single writes that wait for their sync run in groups led by one
// of their writers.
//
// Each writer queues its write; the first finds no leader and leads: it applies and logs
// every queued write in turn (its own among them), hands the lead to the first writer queued
// meanwhile (who applies the next group while this one syncs), syncs up to its group's last
// record, and wakes the group's writers (as a binary tree, see below). A writer thus sleeps
// once per write, until its write is applied and synced, where taking the namespace's writer
// lock itself put it to sleep a second time whenever many writers came at once (as every
// sync releases them together): on the 2-vCPU VM those lock handoffs were a fifth of the CPU
// time of 50 writers under kAlways.
//
// Threads: any writer may lead; group_mu guards the queue and the leader flag; a writer
// sleeps on its own GroupedWrite::state (a futex word).
#include <algorithm>

#include "api/db/db_impl.h"
#include "storage/futex.h"

namespace locus {

void Db::Impl::WakeDone(GroupedWrite* w) {
  w->state.store(GroupedWrite::kDone, std::memory_order_release);
  storage::FutexWakeAll(&w->state);
}

Status Db::Impl::RunGrouped(GroupedWrite& self) {
  std::unique_lock lock(group_mu);
  group_queue.push_back(&self);
  if (group_leader) {
    lock.unlock();
    uint32_t state;
    while ((state = self.state.load(std::memory_order_acquire)) == GroupedWrite::kWaiting) {
      storage::FutexWait(&self.state, GroupedWrite::kWaiting);
    }
    if (state == GroupedWrite::kDone) {
      for (GroupedWrite* w : self.wakes) {
        if (w) WakeDone(w);
      }
      return self.status;
    }
    lock.lock();  // handed the lead: the queue holds this write and those after it
  }
  group_leader = true;
  thread_local std::vector<GroupedWrite*> group;
  group.clear();
  group.swap(group_queue);
  lock.unlock();
  uint64_t last = 0;
  for (GroupedWrite* w : group) {
    w->run(w->ctx);
    last = std::max(last, w->lsn);
  }
  GroupedWrite* next = nullptr;
  lock.lock();
  if (group_queue.empty())
    group_leader = false;
  else
    next = group_queue.front();
  lock.unlock();
  if (next) {
    next->state.store(GroupedWrite::kLead, std::memory_order_release);
    storage::FutexWakeAll(&next->state);
  }
  // The log's gathering still applies: a sync this leader starts waits (briefly) for the
  // next group's records too. Without it (measured) two half-sized groups alternated, one
  // sync each, for 15% fewer writes per second.
  const Status synced = Commit(last, WriteOptions{.sync = true});
  // A write that logged nothing (stale, or a failed check) needed no sync.
  for (GroupedWrite* w : group) {
    if (w->status.ok() && w->lsn != 0) w->status = synced;
  }
  // The writers are woken as a binary tree: this thread wakes two, and each woken writer
  // wakes two more before it returns, so the wake-ups (a futex call and a context switch
  // each) run on every CPU instead of one after another here.
  std::erase(group, &self);
  const size_t n = group.size();
  for (size_t i = 0; i < n; ++i) {
    group[i]->wakes[0] = 2 * i + 2 < n ? group[2 * i + 2] : nullptr;
    group[i]->wakes[1] = 2 * i + 3 < n ? group[2 * i + 3] : nullptr;
  }
  const Status own = self.status;
  GroupedWrite* first[2] = {n > 0 ? group[0] : nullptr, n > 1 ? group[1] : nullptr};
  group.clear();
  for (GroupedWrite* w : first) {
    if (w) WakeDone(w);
  }
  return own;
}

}  // namespace locus
