// The POSIX FileSystem of storage/file_system.h (DefaultFileSystem). The fault-injecting
// wrapper the tests use lives with them (tests/testing/fault_injecting_file_system.h).
//
// Thread safety: DefaultFileSystem may be used from many threads; each of its WritableFiles
// by one thread at a time.
#include "storage/file_system.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

namespace locus::storage {

namespace {

// "<call> <path>: <errno text>", the form of every error of this file.
Status ErrnoError(std::string_view call, const std::string& path, int error_number) {
  std::string message(call);
  message += ' ';
  message += path;
  message += ": ";
  message += std::strerror(error_number);
  return IoError(message);
}

// ---------------------------------------------------------------------------------------
// POSIX

class PosixWritableFile final : public WritableFile {
 public:
  PosixWritableFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~PosixWritableFile() override {
    if (fd_ >= 0) ::close(fd_);
  }

  Status Append(std::span<const uint8_t> bytes) override {
    if (fd_ < 0) return FailedPreconditionError("write " + path_ + ": the file is closed");
    size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t n = ::write(fd_, bytes.data() + done, bytes.size() - done);
      if (n < 0) {
        if (errno == EINTR) continue;
        return ErrnoError("write", path_, errno);
      }
      // write(2) of a positive count returns 0 only on an exotic file; never loop on it.
      if (n == 0) return IoError("write " + path_ + ": wrote 0 bytes");
      done += static_cast<size_t>(n);
    }
    return Status();
  }

  Status Sync(SyncKind kind) override {
    if (fd_ < 0) return FailedPreconditionError("sync " + path_ + ": the file is closed");
    // No retry on any error, EINTR included: after a failed fsync the kernel may already
    // have dropped the dirty pages, so a second call could report a success that is a lie.
    if (kind == SyncKind::kData) {
      if (::fdatasync(fd_) != 0) return ErrnoError("fdatasync", path_, errno);
    } else {
      if (::fsync(fd_) != 0) return ErrnoError("fsync", path_, errno);
    }
    return Status();
  }

  Status Close() override {
    if (fd_ < 0) return Status();
    // Linux releases the descriptor even when close fails, so it is never retried.
    const int rc = ::close(std::exchange(fd_, -1));
    if (rc != 0) return ErrnoError("close", path_, errno);
    return Status();
  }

  const std::string& path() const override { return path_; }

 private:
  int fd_;
  std::string path_;
};

class PosixFileLock final : public FileLock {
 public:
  explicit PosixFileLock(int fd) : fd_(fd) {}
  // Closing the only descriptor of the open file description releases the flock.
  ~PosixFileLock() override { ::close(fd_); }

 private:
  int fd_;
};

// Opens `path` read-only; -1 with errno set on failure (EINTR retried).
int OpenReadOnly(const std::string& path, int extra_flags) {
  int fd;
  do {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | extra_flags);
  } while (fd < 0 && errno == EINTR);
  return fd;
}

class PosixFileSystem final : public FileSystem {
 public:
  Status CreateDirs(const std::string& path) override {
    if (path.empty()) return IoError("mkdir: empty path");
    // mkdir -p: every prefix ending before a '/', then the whole path.
    for (size_t pos = path.find('/', 1);; pos = path.find('/', pos + 1)) {
      const std::string prefix = pos == std::string::npos ? path : path.substr(0, pos);
      if (!prefix.empty() && prefix.back() != '/') {
        if (::mkdir(prefix.c_str(), 0755) != 0) {
          // EEXIST, but also EACCES or EROFS for an existing directory one may not write
          // into: whatever mkdir says, a directory already there is what was asked for.
          const int err = errno;
          struct stat st {};
          if (::stat(prefix.c_str(), &st) != 0) return ErrnoError("mkdir", prefix, err);
          if (!S_ISDIR(st.st_mode)) return ErrnoError("mkdir", prefix, ENOTDIR);
        }
      }
      if (pos == std::string::npos) break;
    }
    return Status();
  }

  Result<std::vector<std::string>> ListDir(const std::string& dir) override {
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return ErrnoError("opendir", dir, errno);
    std::vector<std::string> names;
    for (;;) {
      errno = 0;
      const dirent* entry = ::readdir(d);
      if (entry == nullptr) {
        const int err = errno;
        ::closedir(d);
        if (err != 0) return ErrnoError("readdir", dir, err);
        break;
      }
      const std::string_view name(entry->d_name);
      if (name == "." || name == "..") continue;
      names.emplace_back(name);
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  Result<bool> Exists(const std::string& path) override {
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0) return true;
    const int err = errno;
    // ENOTDIR: a prefix of the path is a file, so nothing can exist under it.
    if (err == ENOENT || err == ENOTDIR) return false;
    return ErrnoError("stat", path, err);
  }

  Result<std::unique_ptr<WritableFile>> OpenForAppend(const std::string& path,
                                                      bool truncate) override {
    int flags = O_WRONLY | O_APPEND | O_CLOEXEC;
    if (truncate) flags |= O_CREAT | O_TRUNC;
    int fd;
    do {
      fd = ::open(path.c_str(), flags, 0644);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) return ErrnoError("open", path, errno);
    return std::unique_ptr<WritableFile>(std::make_unique<PosixWritableFile>(fd, path));
  }

  Result<std::vector<uint8_t>> ReadFile(const std::string& path) override {
    const int fd = OpenReadOnly(path, 0);
    if (fd < 0) return ErrnoError("open", path, errno);
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      const int err = errno;
      ::close(fd);
      return ErrnoError("fstat", path, err);
    }
    // Sized from fstat, but read to end of file: a file growing meanwhile is read whole
    // as of the moment the last read returns, one shrinking is not padded.
    std::vector<uint8_t> bytes(static_cast<size_t>(st.st_size) + 1);
    size_t done = 0;
    for (;;) {
      if (done == bytes.size()) bytes.resize(bytes.size() * 2);
      const ssize_t n =
          ::pread(fd, bytes.data() + done, bytes.size() - done, static_cast<off_t>(done));
      if (n < 0) {
        if (errno == EINTR) continue;
        const int err = errno;
        ::close(fd);
        return ErrnoError("pread", path, err);
      }
      if (n == 0) break;
      done += static_cast<size_t>(n);
    }
    ::close(fd);
    bytes.resize(done);
    return bytes;
  }

  Result<uint64_t> FileSize(const std::string& path) override {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return ErrnoError("stat", path, errno);
    return static_cast<uint64_t>(st.st_size);
  }

  Status Truncate(const std::string& path, uint64_t size) override {
    int rc;
    do {
      rc = ::truncate(path.c_str(), static_cast<off_t>(size));
    } while (rc != 0 && errno == EINTR);
    if (rc != 0) return ErrnoError("truncate", path, errno);
    // fsync needs a descriptor; O_RDONLY suffices to sync a regular file on Linux.
    const int fd = OpenReadOnly(path, 0);
    if (fd < 0) return ErrnoError("open", path, errno);
    const int sync_rc = ::fsync(fd);
    const int err = errno;
    ::close(fd);
    if (sync_rc != 0) return ErrnoError("fsync", path, err);
    return Status();
  }

  Status Rename(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) {
      return ErrnoError("rename", from + " -> " + to, errno);
    }
    return Status();
  }

  Status Remove(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return ErrnoError("unlink", path, errno);
    return Status();
  }

  Status SyncDir(const std::string& dir) override {
    const int fd = OpenReadOnly(dir, O_DIRECTORY);
    if (fd < 0) return ErrnoError("open", dir, errno);
    const int rc = ::fsync(fd);
    const int err = errno;
    ::close(fd);
    if (rc != 0) return ErrnoError("fsync", dir, err);
    return Status();
  }

  Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) override {
    int fd;
    do {
      fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) return ErrnoError("open", path, errno);
    int rc;
    do {
      rc = ::flock(fd, LOCK_EX | LOCK_NB);
    } while (rc != 0 && errno == EINTR);
    if (rc != 0) {
      const int err = errno;
      ::close(fd);
      if (err == EWOULDBLOCK) {
        return FailedPreconditionError(path + " is locked by another process or Db (flock " + path +
                                       ": " + std::strerror(err) + ")");
      }
      return ErrnoError("flock", path, err);
    }
    return std::unique_ptr<FileLock>(std::make_unique<PosixFileLock>(fd));
  }
};

}  // namespace

std::shared_ptr<FileSystem> DefaultFileSystem() {
  static const std::shared_ptr<FileSystem> instance = std::make_shared<PosixFileSystem>();
  return instance;
}

}  // namespace locus::storage
