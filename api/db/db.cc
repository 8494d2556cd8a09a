// locus::Db (locus/db.h): opening and closing a database, the background threads' start and
// stop, and the facade's small methods. The rest of Db lives in one room per concern; the
// map is at the top of api/db/db_impl.h.
#include "locus/db.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "api/db/db_impl.h"

namespace locus {

const char* CoordinateSystemName(CoordinateSystem c) {
  switch (c) {
    case CoordinateSystem::kGeographic:
      return "geographic";
    case CoordinateSystem::kPlanar2D:
      return "planar2d";
    case CoordinateSystem::kPlanar3D:
      return "planar3d";
  }
  return "unknown";
}

void Batch::Upsert(std::string ns, Object object) {
  ops_.push_back({true, std::move(ns), std::move(object)});
}
void Batch::InsertTrajectory(std::string ns, std::string id, const std::vector<Sample>& samples) {
  // Oldest first, so the newest is applied last (equal times: the later sample wins, as in
  // Db::InsertTrajectory).
  std::vector<size_t> order(samples.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return samples[a].t < samples[b].t; });
  for (size_t i : order) {
    Object o;
    o.id = id;
    o.pos = samples[i].pos;
    o.timestamp = samples[i].t;
    o.metadata = samples[i].metadata;
    ops_.push_back({true, ns, std::move(o), /*needs_history=*/true});
  }
}
void Batch::Delete(std::string ns, std::string id) {
  Object o;
  o.id = std::move(id);
  ops_.push_back({false, std::move(ns), std::move(o)});
}

namespace db_internal {

void BackgroundThread::Stop() {
  if (!thread.joinable()) return;
  {
    std::lock_guard lock(mu);
    stopping = true;
  }
  cv.notify_all();
  thread.join();
}

namespace {
class SystemClock final : public Clock {
 public:
  int64_t NowMillis() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

}  // namespace

Result<std::unique_ptr<Db>> DbFactory::Open(const std::string& directory, DbOptions options,
                                            TestSeams seams) {
  return Start(&directory, std::move(options), std::move(seams));
}

Result<std::unique_ptr<Db>> DbFactory::OpenInMemory(DbOptions options, TestSeams seams) {
  return Start(nullptr, std::move(options), std::move(seams));
}

Result<std::unique_ptr<Db>> DbFactory::Start(const std::string* directory, DbOptions options,
                                             TestSeams seams) {
  LOCUS_RETURN_IF_ERROR(CheckOptions(options));
  if (directory && directory->empty()) return InvalidArgumentError("directory: empty path");
  auto impl = std::make_unique<Db::Impl>();
  impl->clock = options.clock ? options.clock : std::make_shared<SystemClock>();
  impl->options = std::move(options);
  impl->seams = std::move(seams);
  if (directory) {
    impl->fs = impl->seams.file_system ? impl->seams.file_system : storage::DefaultFileSystem();
    impl->dir = *directory;
    while (impl->dir.size() > 1 && impl->dir.back() == '/') impl->dir.pop_back();
    LOCUS_RETURN_IF_ERROR(impl->fs->CreateDirs(impl->dir));
    LOCUS_ASSIGN_OR_RETURN(impl->dir_lock, impl->fs->LockFile(impl->dir + "/LOCK"));
  }
  std::unique_ptr<Db> db(new Db(std::move(impl)));
  Db::Impl& d = *db->impl_;
  if (d.options.background_recluster) {
    d.reclusterer.thread = std::thread([p = &d] { p->ReclusterLoop(); });
  }
  if (directory) LOCUS_RETURN_IF_ERROR(d.Recover());
  if (d.options.sweep_interval_ms > 0) {
    d.sweeper.thread = std::thread([p = &d] { p->SweeperLoop(); });
  }
  if (directory && d.options.durability.checkpoint_min_log_bytes > 0) {
    d.checkpointer.thread = std::thread([p = &d] { p->CheckpointLoop(); });
  }
  return db;
}

}  // namespace db_internal

Result<std::unique_ptr<Db>> Db::OpenInMemory(DbOptions options) {
  return db_internal::DbFactory::OpenInMemory(std::move(options), {});
}

Result<std::unique_ptr<Db>> Db::Open(const std::string& directory, DbOptions options) {
  return db_internal::DbFactory::Open(directory, std::move(options), {});
}

Db::Db(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Db::~Db() { Close().IgnoreError(); }

Status Db::Close() {
  Impl& d = *impl_;
  if (d.closed.exchange(true)) return d.log ? d.log->failure() : Status();
  d.checkpointer.Stop();  // a checkpoint in progress finishes first
  d.sweeper.Stop();
  d.reclusterer.Stop();  // a recluster in progress finishes first
  Status s;
  if (d.log) s = d.log->Close();
  d.dir_lock.reset();
  return s;
}

Status Db::Sync() {
  if (!impl_->log) return Status();
  return impl_->log->Sync();
}

Status Db::Checkpoint() { return impl_->Checkpoint(); }

const RecoveryReport& Db::recovery() const { return impl_->recovery; }

DurabilityStats Db::durability_stats() const {
  DurabilityStats s;
  Impl& d = *impl_;
  if (!d.log) return s;
  s.log_bytes = d.log->bytes_since_roll();
  s.records = d.log->records();
  s.syncs = d.log->syncs();
  {
    std::lock_guard lock(d.checkpoint_mu);
    s.checkpoints = d.checkpoints;
    s.checkpoint_bytes = d.checkpoint_bytes;
    s.last_checkpoint_ms = d.last_checkpoint_ms;
    s.last_checkpoint_writer_pause_ms = d.last_checkpoint_pause_ms;
  }
  Status f = d.log->failure();
  if (!f.ok()) s.failure = std::string(f.message());
  return s;
}

}  // namespace locus
