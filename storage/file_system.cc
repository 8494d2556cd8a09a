// The two FileSystems of storage/file_system.h: POSIX (DefaultFileSystem) and the
// fault-injecting wrapper with its power-loss model.
//
// The power-loss model is a small inode model of the files touched through the wrapper:
// each path has a current entry (the inode it names now, or none) and a durable entry (the
// inode it would name after a power loss: the current entry as of the last successful
// SyncDir of its directory). Each inode has its current size and its durable size (the size
// at its last successful Sync; append-only files make the durable bytes a prefix of the
// current ones). An inode that no path currently names but some path durably does (replaced
// by a rename, removed) keeps its bytes in memory, so PowerLoss can bring it back. Paths the
// wrapper has not touched yet are presumed durable as they are on disk.
//
// Thread safety: each FileSystem may be used from many threads; the wrapper serialises all
// its calls (and those of its files) on one mutex, which also makes PowerLoss atomic with
// respect to them.
#include "storage/file_system.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>
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

// ---------------------------------------------------------------------------------------
// Fault injection helpers

// The absolute, lexically normal form of `path` without a trailing '/', so that two
// spellings of one path (and of a directory handed to SyncDir) compare equal. Symbolic links
// are not resolved.
std::string NormalPath(const std::string& path) {
  std::error_code ec;
  std::filesystem::path p = std::filesystem::absolute(path, ec);
  if (ec) p = path;
  std::string s = p.lexically_normal().string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

std::string ParentOf(const std::string& normal_path) {
  return std::filesystem::path(normal_path).parent_path().string();
}

}  // namespace

std::shared_ptr<FileSystem> DefaultFileSystem() {
  static const std::shared_ptr<FileSystem> instance = std::make_shared<PosixFileSystem>();
  return instance;
}

const char* OpName(FaultInjectingFileSystem::Op op) {
  using Op = FaultInjectingFileSystem::Op;
  switch (op) {
    case Op::kOpen:
      return "OpenForAppend";
    case Op::kAppend:
      return "Append";
    case Op::kSync:
      return "Sync";
    case Op::kRename:
      return "Rename";
    case Op::kRemove:
      return "Remove";
    case Op::kSyncDir:
      return "SyncDir";
    case Op::kTruncate:
      return "Truncate";
    case Op::kRead:
      return "ReadFile";
    case Op::kCount:
      break;
  }
  return "unknown";
}

struct FaultInjectingFileSystem::State {
  using InodeId = uint64_t;

  struct Arm {
    enum class Mode { kOff, kNth, kAlways } mode = Mode::kOff;
    uint64_t fire_at = 0;  // kNth: the value of the op's count at which it fires
    int error_number = 0;
    size_t partial_bytes = 0;
  };

  struct Inode {
    uint64_t size = 0;          // current size, as far as appends and truncations tell
    uint64_t durable_size = 0;  // size at the last successful Sync (or Truncate)
    std::string path;           // the normal path naming it now; empty when none does
    // When no path names it: its current bytes (kept only while a path durably names it).
    std::vector<uint8_t> saved;
  };

  struct Entry {
    std::optional<InodeId> current;  // what the path names now
    std::optional<InodeId> durable;  // what it would name after a power loss
    bool directory = false;          // a directory when first seen: not modelled
  };

  explicit State(std::shared_ptr<FileSystem> b) : base(std::move(b)) {}

  // Counts a call of `op` and fires its arming if due: the injected error, else OK.
  // `*partial_bytes` (when given) receives the prefix an injected append writes first.
  Status Check(Op op, std::string_view call, const std::string& path,
               size_t* partial_bytes = nullptr) {
    const size_t i = static_cast<size_t>(op);
    const uint64_t n = ++counts[i];
    Arm& arm = arms[i];
    if (arm.mode == Arm::Mode::kOff) return Status();
    if (arm.mode == Arm::Mode::kNth && arm.fire_at != n) return Status();
    const int error_number = arm.error_number;
    if (partial_bytes != nullptr) *partial_bytes = arm.partial_bytes;
    if (arm.mode == Arm::Mode::kNth) arm = Arm{};
    ++fired;
    return IoError(std::string(call) + " " + path + ": " + std::strerror(error_number) +
                   " (injected by FaultInjectingFileSystem, " + OpName(op) + " call " +
                   std::to_string(n) + ")");
  }

  // Returns the entry of `normal` (the normal form of `path`), creating it from the disk
  // when the path is new to the model: an existing file is presumed durable as it is.
  Entry& Track(const std::string& normal, const std::string& path) {
    auto it = entries.find(normal);
    if (it != entries.end()) {
      // A directory seen before may have gone since (rmdir, or renamed through here).
      if (!it->second.directory || base->ListDir(path).ok()) return it->second;
      entries.erase(it);
    }
    Entry entry;
    Result<bool> exists = base->Exists(path);
    if (exists.ok() && *exists && base->ListDir(path).ok()) {
      entry.directory = true;
    } else if (exists.ok() && *exists) {
      const InodeId id = next_inode++;
      Inode& inode = inodes[id];
      inode.size = base->FileSize(path).value_or(uint64_t{0});
      inode.durable_size = inode.size;
      inode.path = normal;
      entry.current = id;
      entry.durable = id;
    }
    return entries.emplace(normal, entry).first->second;
  }

  bool DurablyNamed(InodeId id) const {
    for (const auto& [path, entry] : entries) {
      if (entry.durable == id) return true;
    }
    return false;
  }

  // Detaches inode `id` from its path (just removed or replaced; `bytes_now` are its bytes
  // as read before): keeps them if a path durably names it, else forgets the inode.
  void Unlink(InodeId id, std::vector<uint8_t> bytes_now) {
    auto it = inodes.find(id);
    if (it == inodes.end()) return;
    if (!DurablyNamed(id)) {
      inodes.erase(it);
      return;
    }
    it->second.path.clear();
    it->second.saved = std::move(bytes_now);
    it->second.size = it->second.saved.size();
  }

  // Forgets the unnamed inodes no path durably names any more.
  void CollectGarbage() {
    for (auto it = inodes.begin(); it != inodes.end();) {
      if (it->second.path.empty() && !DurablyNamed(it->first)) {
        it = inodes.erase(it);
      } else {
        ++it;
      }
    }
  }

  Status PowerLostError(std::string_view call, const std::string& path) const {
    return IoError(std::string(call) + " " + path +
                   ": power lost (simulated by FaultInjectingFileSystem); reopen the file");
  }

  std::shared_ptr<FileSystem> base;
  mutable std::mutex mu;
  std::array<uint64_t, static_cast<size_t>(Op::kCount)> counts{};
  std::array<Arm, static_cast<size_t>(Op::kCount)> arms{};
  uint64_t fired = 0;
  uint64_t epoch = 0;  // bumped by PowerLoss; files of an older epoch are dead
  InodeId next_inode = 1;
  std::map<std::string, Entry> entries;  // by normal path
  std::map<InodeId, Inode> inodes;
};

namespace {

class FaultInjectingWritableFile final : public WritableFile {
  using State = FaultInjectingFileSystem::State;
  using Op = FaultInjectingFileSystem::Op;

 public:
  FaultInjectingWritableFile(std::unique_ptr<WritableFile> base, std::shared_ptr<State> state,
                             State::InodeId inode, uint64_t epoch)
      : base_(std::move(base)), state_(std::move(state)), inode_(inode), epoch_(epoch) {}

  Status Append(std::span<const uint8_t> bytes) override {
    std::lock_guard<std::mutex> lock(state_->mu);
    if (epoch_ != state_->epoch) return state_->PowerLostError("write", path());
    size_t partial = 0;
    Status injected = state_->Check(Op::kAppend, "write", path(), &partial);
    if (!injected.ok()) {
      partial = std::min(partial, bytes.size());
      if (partial > 0) WriteThrough(bytes.first(partial)).IgnoreError();
      return injected;
    }
    return WriteThrough(bytes);
  }

  Status Sync(SyncKind kind) override {
    std::lock_guard<std::mutex> lock(state_->mu);
    const char* call = kind == SyncKind::kData ? "fdatasync" : "fsync";
    if (epoch_ != state_->epoch) return state_->PowerLostError(call, path());
    LOCUS_RETURN_IF_ERROR(state_->Check(Op::kSync, call, path()));
    LOCUS_RETURN_IF_ERROR(base_->Sync(kind));
    if (auto it = state_->inodes.find(inode_); it != state_->inodes.end()) {
      it->second.durable_size = it->second.size;
    }
    return Status();
  }

  Status Close() override {
    std::lock_guard<std::mutex> lock(state_->mu);
    Status closed = base_->Close();  // release the descriptor even when the power is off
    if (epoch_ != state_->epoch) return state_->PowerLostError("close", path());
    return closed;
  }

  const std::string& path() const override { return base_->path(); }

 private:
  // Appends through the base file and records the new size. REQUIRES: state_->mu held.
  Status WriteThrough(std::span<const uint8_t> bytes) {
    Status s = base_->Append(bytes);
    auto it = state_->inodes.find(inode_);
    if (it == state_->inodes.end()) return s;  // unnamed and not durable: nothing to model
    State::Inode& inode = it->second;
    if (s.ok()) {
      inode.size += bytes.size();
      if (inode.path.empty()) inode.saved.insert(inode.saved.end(), bytes.begin(), bytes.end());
    } else if (!inode.path.empty()) {
      // Past the last successful append the size is unknown: ask the disk.
      inode.size = state_->base->FileSize(inode.path).value_or(inode.size);
    }
    return s;
  }

  std::unique_ptr<WritableFile> base_;
  std::shared_ptr<State> state_;
  State::InodeId inode_;
  uint64_t epoch_;
};

}  // namespace

FaultInjectingFileSystem::FaultInjectingFileSystem(std::shared_ptr<FileSystem> base)
    : base_(std::move(base)), state_(std::make_shared<State>(base_)) {}

FaultInjectingFileSystem::~FaultInjectingFileSystem() = default;

void FaultInjectingFileSystem::FailNth(Op op, uint64_t k, int error_number, size_t partial_bytes) {
  LOCUS_CHECK_MSG(k >= 1, "FailNth counts calls from 1");
  LOCUS_CHECK(op != Op::kCount);
  std::lock_guard<std::mutex> lock(state_->mu);
  State::Arm& arm = state_->arms[static_cast<size_t>(op)];
  arm.mode = State::Arm::Mode::kNth;
  arm.fire_at = state_->counts[static_cast<size_t>(op)] + k;
  arm.error_number = error_number;
  arm.partial_bytes = partial_bytes;
}

void FaultInjectingFileSystem::FailAlways(Op op, int error_number) {
  LOCUS_CHECK(op != Op::kCount);
  std::lock_guard<std::mutex> lock(state_->mu);
  State::Arm& arm = state_->arms[static_cast<size_t>(op)];
  arm = State::Arm{};
  arm.mode = State::Arm::Mode::kAlways;
  arm.error_number = error_number;
}

void FaultInjectingFileSystem::Disarm() {
  std::lock_guard<std::mutex> lock(state_->mu);
  state_->arms.fill(State::Arm{});
}

uint64_t FaultInjectingFileSystem::Count(Op op) const {
  LOCUS_CHECK(op != Op::kCount);
  std::lock_guard<std::mutex> lock(state_->mu);
  return state_->counts[static_cast<size_t>(op)];
}

uint64_t FaultInjectingFileSystem::Fired() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  return state_->fired;
}

void FaultInjectingFileSystem::PowerLoss() {
  std::lock_guard<std::mutex> lock(state_->mu);
  State& s = *state_;
  FileSystem& base = *s.base;
  ++s.epoch;

  // Phase 1, before anything on disk changes: the durable bytes of every inode a path will
  // be restored to, unless the path already names that inode and only needs cutting back.
  std::map<State::InodeId, std::vector<uint8_t>> contents;
  for (const auto& [path, entry] : s.entries) {
    if (entry.directory || !entry.durable || entry.current == entry.durable) continue;
    const State::InodeId id = *entry.durable;
    if (contents.count(id) != 0) continue;
    const State::Inode& inode = s.inodes.at(id);
    std::vector<uint8_t> bytes;
    if (inode.path.empty()) {
      bytes = inode.saved;
    } else {
      Result<std::vector<uint8_t>> read = base.ReadFile(inode.path);
      LOCUS_CHECK_MSG(read.ok(), read.status().ToString().c_str());
      bytes = std::move(read).value();
    }
    if (bytes.size() > inode.durable_size) bytes.resize(inode.durable_size);
    contents.emplace(id, std::move(bytes));
  }

  // Phase 2: make every tracked path what it durably is.
  for (const auto& [path, entry] : s.entries) {
    if (entry.directory) continue;
    if (!entry.durable) {
      if (entry.current) {
        Status removed = base.Remove(path);
        LOCUS_CHECK_MSG(removed.ok(), removed.ToString().c_str());
      }
      continue;
    }
    if (entry.current == entry.durable) {
      const State::Inode& inode = s.inodes.at(*entry.durable);
      Result<uint64_t> size = base.FileSize(path);
      LOCUS_CHECK_MSG(size.ok(), size.status().ToString().c_str());
      if (*size > inode.durable_size) {
        Status cut = base.Truncate(path, inode.durable_size);
        LOCUS_CHECK_MSG(cut.ok(), cut.ToString().c_str());
      }
      continue;
    }
    const std::vector<uint8_t>& bytes = contents.at(*entry.durable);
    Status restored = base.CreateDirs(ParentOf(path));
    Result<std::unique_ptr<WritableFile>> file = base.OpenForAppend(path, /*truncate=*/true);
    if (restored.ok()) restored = file.status();
    if (restored.ok()) restored = (*file)->Append(bytes);
    if (restored.ok()) restored = (*file)->Sync(SyncKind::kFull);
    if (restored.ok()) restored = (*file)->Close();
    LOCUS_CHECK_MSG(restored.ok(), restored.ToString().c_str());
  }

  // After the "reboot" everything on disk is durable: start the model afresh.
  s.entries.clear();
  s.inodes.clear();
}

Status FaultInjectingFileSystem::CreateDirs(const std::string& path) {
  return base_->CreateDirs(path);
}

Result<std::vector<std::string>> FaultInjectingFileSystem::ListDir(const std::string& dir) {
  return base_->ListDir(dir);
}

Result<bool> FaultInjectingFileSystem::Exists(const std::string& path) {
  return base_->Exists(path);
}

Result<std::unique_ptr<WritableFile>> FaultInjectingFileSystem::OpenForAppend(
    const std::string& path, bool truncate) {
  std::lock_guard<std::mutex> lock(state_->mu);
  State& s = *state_;
  LOCUS_RETURN_IF_ERROR(s.Check(Op::kOpen, "open", path));
  const std::string normal = NormalPath(path);
  State::Entry& entry = s.Track(normal, path);
  LOCUS_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file, base_->OpenForAppend(path, truncate));
  if (!entry.current) {
    // A creation: a new inode, named durably only after a SyncDir of the directory.
    const State::InodeId id = s.next_inode++;
    State::Inode& inode = s.inodes[id];
    inode.path = normal;
    entry.current = id;
  } else if (truncate) {
    // O_TRUNC of an existing file: its old bytes are not durable any more (the harshest
    // outcome a real file system allows, as with the zero-length files after a crash).
    State::Inode& inode = s.inodes.at(*entry.current);
    inode.size = 0;
    inode.durable_size = 0;
  }
  return std::unique_ptr<WritableFile>(std::make_unique<FaultInjectingWritableFile>(
      std::move(file), state_, *entry.current, s.epoch));
}

Result<std::vector<uint8_t>> FaultInjectingFileSystem::ReadFile(const std::string& path) {
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    LOCUS_RETURN_IF_ERROR(state_->Check(Op::kRead, "read", path));
  }
  return base_->ReadFile(path);
}

Result<uint64_t> FaultInjectingFileSystem::FileSize(const std::string& path) {
  return base_->FileSize(path);
}

Status FaultInjectingFileSystem::Truncate(const std::string& path, uint64_t size) {
  std::lock_guard<std::mutex> lock(state_->mu);
  State& s = *state_;
  LOCUS_RETURN_IF_ERROR(s.Check(Op::kTruncate, "truncate", path));
  State::Entry& entry = s.Track(NormalPath(path), path);
  LOCUS_RETURN_IF_ERROR(base_->Truncate(path, size));
  if (entry.current) {
    State::Inode& inode = s.inodes.at(*entry.current);
    inode.size = size;
    inode.durable_size = size;  // Truncate syncs
  }
  return Status();
}

Status FaultInjectingFileSystem::Rename(const std::string& from, const std::string& to) {
  std::lock_guard<std::mutex> lock(state_->mu);
  State& s = *state_;
  LOCUS_RETURN_IF_ERROR(s.Check(Op::kRename, "rename", from + " -> " + to));
  const std::string from_normal = NormalPath(from);
  const std::string to_normal = NormalPath(to);
  if (from_normal == to_normal) return base_->Rename(from, to);
  State::Entry& from_entry = s.Track(from_normal, from);
  State::Entry& to_entry = s.Track(to_normal, to);
  if (from_entry.directory || to_entry.directory) {
    LOCUS_RETURN_IF_ERROR(base_->Rename(from, to));
    to_entry.directory = true;  // (from_entry is probed again when next touched)
    return Status();
  }
  // The bytes of a replaced file that a power loss must bring back, read while they exist.
  std::optional<std::vector<uint8_t>> replaced;
  if (to_entry.current && s.DurablyNamed(*to_entry.current)) {
    LOCUS_ASSIGN_OR_RETURN(replaced, base_->ReadFile(to));
  }
  LOCUS_RETURN_IF_ERROR(base_->Rename(from, to));
  const std::optional<State::InodeId> moved = from_entry.current;
  const std::optional<State::InodeId> old_to = to_entry.current;
  from_entry.current.reset();
  to_entry.current = moved;
  if (moved) s.inodes.at(*moved).path = to_normal;
  if (old_to && old_to != moved) s.Unlink(*old_to, replaced.value_or(std::vector<uint8_t>{}));
  return Status();
}

Status FaultInjectingFileSystem::Remove(const std::string& path) {
  std::lock_guard<std::mutex> lock(state_->mu);
  State& s = *state_;
  LOCUS_RETURN_IF_ERROR(s.Check(Op::kRemove, "unlink", path));
  State::Entry& entry = s.Track(NormalPath(path), path);
  std::optional<std::vector<uint8_t>> removed;
  if (entry.current && s.DurablyNamed(*entry.current)) {
    LOCUS_ASSIGN_OR_RETURN(removed, base_->ReadFile(path));
  }
  LOCUS_RETURN_IF_ERROR(base_->Remove(path));
  const std::optional<State::InodeId> old = entry.current;
  entry.current.reset();
  if (old) s.Unlink(*old, removed.value_or(std::vector<uint8_t>{}));
  return Status();
}

Status FaultInjectingFileSystem::SyncDir(const std::string& dir) {
  std::lock_guard<std::mutex> lock(state_->mu);
  State& s = *state_;
  LOCUS_RETURN_IF_ERROR(s.Check(Op::kSyncDir, "fsync", dir));
  LOCUS_RETURN_IF_ERROR(base_->SyncDir(dir));
  const std::string normal = NormalPath(dir);
  for (auto& [path, entry] : s.entries) {
    if (ParentOf(path) == normal) entry.durable = entry.current;
  }
  s.CollectGarbage();
  return Status();
}

Result<std::unique_ptr<FileLock>> FaultInjectingFileSystem::LockFile(const std::string& path) {
  return base_->LockFile(path);
}

}  // namespace locus::storage
