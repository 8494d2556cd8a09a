// FaultInjectingFileSystem (tests/testing/fault_injecting_file_system.h) and its power-loss
// model.
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
// Thread safety: the wrapper serialises all its calls (and those of its files) on one
// mutex, which also makes PowerLoss atomic with respect to them.
#include "tests/testing/fault_injecting_file_system.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <utility>

#include "locus/check.h"

namespace locus::testing {

using storage::FileLock;
using storage::FileSystem;
using storage::SyncKind;
using storage::WritableFile;

namespace {

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

}  // namespace locus::testing
