// FaultInjectingFileSystem: a storage::FileSystem for tests that fails chosen calls and
// simulates power loss, over a real file system (normally storage::DefaultFileSystem on a
// temporary directory). Test support only (target locus::testing): the library ships only
// the FileSystem interface and POSIX (storage/file_system.h).
//
// Thread safety: may be used from many threads; it serialises all its calls (and those of
// the files it opened) on one mutex, which also makes PowerLoss atomic with respect to them.
#ifndef LOCUS_TESTS_TESTING_FAULT_INJECTING_FILE_SYSTEM_H_
#define LOCUS_TESTS_TESTING_FAULT_INJECTING_FILE_SYSTEM_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "locus/status.h"
#include "storage/file_system.h"

namespace locus::testing {

// Wraps another FileSystem (normally DefaultFileSystem over a test directory) and can
//   - fail the k-th call (1-based, counted from the last Arm) of one kind of operation with
//     an errno (EIO, ENOSPC, ...): the call does nothing and returns IoError. An append that
//     fails may be made to write a prefix of its bytes first (a short write before the
//     error), as a full disk does;
//   - simulate a power loss: PowerLoss() drops everything not made durable, as a machine
//     that loses power would: each file written through it is cut back to the size it had at
//     its last successful Sync (a file never synced to length 0), and the directory
//     operations (creations, renames, removals) since the last successful SyncDir of their
//     directory are undone (a created file disappears, a rename is reverted, a removed file
//     comes back with its synced contents). After PowerLoss every open WritableFile fails
//     all further calls (the machine is "off"); reopen through the file system.
// Counts every call by kind, so a test can first run a workload to learn how many calls of
// each kind it makes, then fail each one in turn.
class FaultInjectingFileSystem final : public storage::FileSystem {
 public:
  enum class Op {
    kOpen,     // OpenForAppend
    kAppend,   // WritableFile::Append
    kSync,     // WritableFile::Sync
    kRename,   // Rename
    kRemove,   // Remove
    kSyncDir,  // SyncDir
    kTruncate, // Truncate
    kRead,     // ReadFile
    kCount
  };
  explicit FaultInjectingFileSystem(std::shared_ptr<storage::FileSystem> base);
  ~FaultInjectingFileSystem() override;

  // Fails the k-th call of `op` (k >= 1, counted from now) with `error_number`. For kAppend,
  // `partial_bytes` bytes of the failing append are written first (clamped to its size).
  // Replaces any earlier arming of the same op.
  void FailNth(Op op, uint64_t k, int error_number, size_t partial_bytes = 0);
  // Every call of `op` from now on fails with `error_number` (until Disarm).
  void FailAlways(Op op, int error_number);
  void Disarm();
  // Calls of `op` made so far (successful or not).
  uint64_t Count(Op op) const;
  // How many injected failures have fired.
  uint64_t Fired() const;
  void PowerLoss();

  Status CreateDirs(const std::string& path) override;
  Result<std::vector<std::string>> ListDir(const std::string& dir) override;
  Result<bool> Exists(const std::string& path) override;
  Result<std::unique_ptr<storage::WritableFile>> OpenForAppend(const std::string& path,
                                                      bool truncate) override;
  Result<std::vector<uint8_t>> ReadFile(const std::string& path) override;
  Result<uint64_t> FileSize(const std::string& path) override;
  Status Truncate(const std::string& path, uint64_t size) override;
  Status Rename(const std::string& from, const std::string& to) override;
  Status Remove(const std::string& path) override;
  Status SyncDir(const std::string& dir) override;
  Result<std::unique_ptr<storage::FileLock>> LockFile(const std::string& path) override;

  struct State;  // shared with the files it opened

 private:
  std::shared_ptr<storage::FileSystem> base_;
  std::shared_ptr<State> state_;
};

const char* OpName(FaultInjectingFileSystem::Op op);

}  // namespace locus::testing

#endif  // LOCUS_TESTS_TESTING_FAULT_INJECTING_FILE_SYSTEM_H_
