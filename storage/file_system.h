// The file-system seam of the durable database: every file the log, the checkpoints and the
// directory lock touch goes through a FileSystem, so tests can fail any call or simulate a
// power loss (FaultInjectingFileSystem) while production uses POSIX (DefaultFileSystem).
//
// Errors are IoError statuses naming the path, the call and the errno text (for example
// "fdatasync /data/log-0000000000000003.log: Input/output error").
//
// Thread safety: a FileSystem may be used from many threads at once. A WritableFile is used
// by one thread at a time (the log serialises its appends and syncs).
#ifndef LOCUS_STORAGE_FILE_SYSTEM_H_
#define LOCUS_STORAGE_FILE_SYSTEM_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "locus/status.h"

namespace locus::storage {

enum class SyncKind {
  kData,  // fdatasync: the bytes and the metadata needed to read them back (the size)
  kFull,  // fsync: all metadata as well
};

// A file opened for appending.
class WritableFile {
 public:
  virtual ~WritableFile() = default;
  // Appends all of `bytes` (retrying short writes and EINTR; any other failure is an error
  // and the file's state past its last successful append is unknown).
  virtual Status Append(std::span<const uint8_t> bytes) = 0;
  virtual Status Sync(SyncKind kind) = 0;
  // Closes the descriptor (no sync). Destruction closes too, ignoring errors.
  virtual Status Close() = 0;
  virtual const std::string& path() const = 0;
};

// Held while a directory is open; released on destruction (or when the process dies).
class FileLock {
 public:
  virtual ~FileLock() = default;
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;

  // Creates `path` (a directory) and its parents if missing. OK if it exists as a directory.
  virtual Status CreateDirs(const std::string& path) = 0;
  // The names (not paths) of the directory's entries, sorted, without "." and "..".
  virtual Result<std::vector<std::string>> ListDir(const std::string& dir) = 0;
  virtual Result<bool> Exists(const std::string& path) = 0;
  // Opens for appending. truncate: create or empty it; otherwise the file must exist and
  // appends go after its current end.
  virtual Result<std::unique_ptr<WritableFile>> OpenForAppend(const std::string& path,
                                                              bool truncate) = 0;
  // The whole file.
  virtual Result<std::vector<uint8_t>> ReadFile(const std::string& path) = 0;
  virtual Result<uint64_t> FileSize(const std::string& path) = 0;
  // Shortens (or extends with zeros) the file to `size` bytes and syncs it.
  virtual Status Truncate(const std::string& path, uint64_t size) = 0;
  // rename(2): atomically replaces `to`.
  virtual Status Rename(const std::string& from, const std::string& to) = 0;
  virtual Status Remove(const std::string& path) = 0;
  // fsync of the directory, which makes the creations, renames and removals in it durable.
  virtual Status SyncDir(const std::string& dir) = 0;
  // An exclusive advisory lock on `path` (created if missing): FailedPrecondition naming
  // the path when another process (or another open in this process) holds it.
  virtual Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) = 0;
};

// POSIX: open/write/fdatasync/fsync/rename/unlink, flock(2) locks. A process-wide instance.
std::shared_ptr<FileSystem> DefaultFileSystem();

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
class FaultInjectingFileSystem final : public FileSystem {
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
  explicit FaultInjectingFileSystem(std::shared_ptr<FileSystem> base);
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
  Result<std::unique_ptr<WritableFile>> OpenForAppend(const std::string& path,
                                                      bool truncate) override;
  Result<std::vector<uint8_t>> ReadFile(const std::string& path) override;
  Result<uint64_t> FileSize(const std::string& path) override;
  Status Truncate(const std::string& path, uint64_t size) override;
  Status Rename(const std::string& from, const std::string& to) override;
  Status Remove(const std::string& path) override;
  Status SyncDir(const std::string& dir) override;
  Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) override;

  struct State;  // shared with the files it opened

 private:
  std::shared_ptr<FileSystem> base_;
  std::shared_ptr<State> state_;
};

const char* OpName(FaultInjectingFileSystem::Op op);

}  // namespace locus::storage

#endif  // LOCUS_STORAGE_FILE_SYSTEM_H_
