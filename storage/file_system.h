// The file-system seam of the durable database: every file the log, the checkpoints and the
// directory lock touch goes through a FileSystem, so tests can fail any call or simulate a
// power loss (tests/testing/fault_injecting_file_system.h, linked only by tests) while
// production uses POSIX (DefaultFileSystem).
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
#include <memory>
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

}  // namespace locus::storage

#endif  // LOCUS_STORAGE_FILE_SYSTEM_H_
