// The database's test seams: what tests and fuzzers may replace or observe that users never
// need, kept out of the public option structs (locus/db.h). Internal: not installed.
//
//   db_internal::TestSeams seams;
//   seams.file_system = std::make_shared<testing::FaultInjectingFileSystem>(...);
//   auto db = db_internal::DbFactory::Open(dir, options, std::move(seams));
//
// Thread safety: the hooks run on the database's threads (see each); they may call the
// database unless said otherwise.
#ifndef LOCUS_API_DB_TEST_SEAMS_H_
#define LOCUS_API_DB_TEST_SEAMS_H_

#include <functional>
#include <memory>
#include <string>

#include "locus/db.h"
#include "storage/file_system.h"

namespace locus::db_internal {

struct TestSeams {
  // The file system every file of a durable database goes through (default: POSIX).
  std::shared_ptr<storage::FileSystem> file_system;
  // Called at each step of a checkpoint ("rolled", "copied", "written", "renamed",
  // "removed"); returning false stops the checkpoint there, as a crash would.
  std::function<bool(const char* step)> checkpoint_step;
  // Called during every recluster while the new index builds, with no lock held (the hook
  // may write to the database; those writes are caught up afterwards).
  std::function<void()> recluster_build;
  // Called by Apply after it validated the batch, before it finds and locks its namespaces
  // (the hook may change namespaces, as another thread could).
  std::function<void()> batch_before_lock;
};

// Opens databases with seams. Db::Open and Db::OpenInMemory are these with no seams.
class DbFactory {
 public:
  static Result<std::unique_ptr<Db>> Open(const std::string& directory, DbOptions options,
                                          TestSeams seams);
  static Result<std::unique_ptr<Db>> OpenInMemory(DbOptions options, TestSeams seams);

 private:
  // Both: in `*directory` (durable), or in memory when null.
  static Result<std::unique_ptr<Db>> Start(const std::string* directory, DbOptions options,
                                           TestSeams seams);
};

}  // namespace locus::db_internal

#endif  // LOCUS_API_DB_TEST_SEAMS_H_
