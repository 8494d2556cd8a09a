// Tests storage/file_system.h in a fresh temporary directory per test: the POSIX file
// system (round trips, error messages naming call and path, flock locks against this process
// and a forked child); and the test support over it, FaultInjectingFileSystem
// (tests/testing/fault_injecting_file_system.h): its fault injection (each kind of call
// failed at exactly the k-th call, partial appends, FailAlways/Disarm, counts), and its
// power-loss model, by hand-written cases and by a seeded random workload checked against an
// in-memory oracle of what a power loss keeps.
#include "storage/file_system.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <pthread.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "tests/testing/fault_injecting_file_system.h"
#include "tests/testing/harness.h"

namespace locus::storage {
namespace {

using ::locus::testing::FaultInjectingFileSystem;
using ::locus::testing::OpName;
using Op = FaultInjectingFileSystem::Op;
using ::locus::testing::SeedTrace;
using ::locus::testing::TestSeed;

std::vector<uint8_t> Bytes(std::string_view s) { return std::vector<uint8_t>(s.begin(), s.end()); }

bool Contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

// A fresh directory under /tmp, removed with everything in it at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string templ = "/tmp/locus_file_system_XXXXXX";
    LOCUS_CHECK(::mkdtemp(templ.data()) != nullptr);
    path_ = templ;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string operator/(std::string_view name) const { return path_ + "/" + std::string(name); }

 private:
  std::string path_;
};

// The file's contents as a string; "<missing>" when it cannot be read.
std::string ReadString(FileSystem& fs, const std::string& path) {
  Result<std::vector<uint8_t>> bytes = fs.ReadFile(path);
  if (!bytes.ok()) return "<missing>";
  return std::string(bytes->begin(), bytes->end());
}

// Creates (or empties) `path` with `contents`, synced when `sync`.
void WriteFile(FileSystem& fs, const std::string& path, std::string_view contents, bool sync) {
  Result<std::unique_ptr<WritableFile>> file = fs.OpenForAppend(path, /*truncate=*/true);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  ASSERT_TRUE((*file)->Append(Bytes(contents)).ok());
  if (sync) {
    ASSERT_TRUE((*file)->Sync(SyncKind::kData).ok());
  }
  ASSERT_TRUE((*file)->Close().ok());
}

// Appends to an existing `path`, synced when `sync`.
void AppendFile(FileSystem& fs, const std::string& path, std::string_view contents, bool sync) {
  Result<std::unique_ptr<WritableFile>> file = fs.OpenForAppend(path, /*truncate=*/false);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  ASSERT_TRUE((*file)->Append(Bytes(contents)).ok());
  if (sync) {
    ASSERT_TRUE((*file)->Sync(SyncKind::kData).ok());
  }
  ASSERT_TRUE((*file)->Close().ok());
}

std::vector<std::string> List(FileSystem& fs, const std::string& dir) {
  Result<std::vector<std::string>> names = fs.ListDir(dir);
  EXPECT_TRUE(names.ok()) << names.status().ToString();
  return names.ok() ? *names : std::vector<std::string>{};
}

// ---------------------------------------------------------------------------------------
// POSIX

TEST(PosixFileSystem, DefaultFileSystemIsOneInstance) {
  EXPECT_EQ(DefaultFileSystem().get(), DefaultFileSystem().get());
}

TEST(PosixFileSystem, AppendsReadBackWholeAcrossReopens) {
  TempDir dir;
  FileSystem& fs = *DefaultFileSystem();
  const std::string path = dir / "log";
  const uint64_t seed = TestSeed();
  SCOPED_TRACE(SeedTrace(seed));
  std::mt19937_64 rng(seed);
  std::vector<uint8_t> big(3 * 1024 * 1024 + 17);  // larger than one write(2) may take
  for (uint8_t& b : big) b = static_cast<uint8_t>(rng());

  std::vector<uint8_t> expected;
  {
    auto file = fs.OpenForAppend(path, /*truncate=*/true);
    ASSERT_TRUE(file.ok()) << file.status().ToString();
    EXPECT_EQ((*file)->path(), path);
    ASSERT_TRUE((*file)->Append(Bytes("head")).ok());
    ASSERT_TRUE((*file)->Append({}).ok());
    ASSERT_TRUE((*file)->Append(big).ok());
    ASSERT_TRUE((*file)->Sync(SyncKind::kData).ok());
    ASSERT_TRUE((*file)->Sync(SyncKind::kFull).ok());
    ASSERT_TRUE((*file)->Close().ok());
    expected = Bytes("head");
    expected.insert(expected.end(), big.begin(), big.end());
  }
  {
    auto file = fs.OpenForAppend(path, /*truncate=*/false);  // appends after the end
    ASSERT_TRUE(file.ok()) << file.status().ToString();
    ASSERT_TRUE((*file)->Append(Bytes("tail")).ok());
    // Destruction closes without Close.
    const std::vector<uint8_t> tail = Bytes("tail");
    expected.insert(expected.end(), tail.begin(), tail.end());
  }
  auto read = fs.ReadFile(path);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_TRUE(*read == expected) << "read " << read->size() << " bytes, expected "
                                 << expected.size();
  auto size = fs.FileSize(path);
  ASSERT_TRUE(size.ok());
  EXPECT_EQ(*size, expected.size());
}

volatile sig_atomic_t alarms = 0;
void CountAlarm(int) { alarms = alarms + 1; }

// A write to a pipe that a slow reader drains, interrupted every millisecond by a signal
// handler installed without SA_RESTART: write(2) returns short counts and EINTR, and Append
// must still deliver every byte in order.
TEST(PosixFileSystem, AppendRetriesShortWritesAndEintr) {
  TempDir dir;
  FileSystem& fs = *DefaultFileSystem();
  const std::string fifo = dir / "fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0) << std::strerror(errno);
  const uint64_t seed = TestSeed();
  SCOPED_TRACE(SeedTrace(seed));
  std::mt19937_64 rng(seed);
  std::vector<uint8_t> data(4 * 1024 * 1024);
  for (uint8_t& b : data) b = static_cast<uint8_t>(rng());

  std::vector<uint8_t> received;
  std::thread reader([&] {
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGALRM);
    pthread_sigmask(SIG_BLOCK, &block, nullptr);  // the alarms go to the writer
    const int fd = ::open(fifo.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    uint8_t buf[4096];
    for (;;) {
      const ssize_t n = ::read(fd, buf, sizeof buf);
      if (n <= 0) break;
      received.insert(received.end(), buf, buf + n);
      ::usleep(20);
    }
    ::close(fd);
  });

  auto file = fs.OpenForAppend(fifo, /*truncate=*/false);  // waits for the reader
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  struct sigaction action {
  }, old_action{};
  action.sa_handler = CountAlarm;  // no SA_RESTART
  sigemptyset(&action.sa_mask);
  ASSERT_EQ(::sigaction(SIGALRM, &action, &old_action), 0);
  alarms = 0;
  itimerval every_ms{{0, 1000}, {0, 1000}}, off{};
  ASSERT_EQ(::setitimer(ITIMER_REAL, &every_ms, nullptr), 0);
  const Status appended = (*file)->Append(data);
  ::setitimer(ITIMER_REAL, &off, nullptr);
  const int interruptions = alarms;
  const Status closed = (*file)->Close();
  reader.join();
  ::sigaction(SIGALRM, &old_action, nullptr);

  ASSERT_TRUE(appended.ok()) << appended.ToString();
  ASSERT_TRUE(closed.ok()) << closed.ToString();
  EXPECT_GT(interruptions, 0);  // else the test proved nothing
  EXPECT_EQ(received.size(), data.size());
  EXPECT_TRUE(received == data);
}

TEST(PosixFileSystem, OpenWithTruncateEmptiesAnExistingFile) {
  TempDir dir;
  FileSystem& fs = *DefaultFileSystem();
  WriteFile(fs, dir / "f", "old contents", true);
  WriteFile(fs, dir / "f", "new", true);
  EXPECT_EQ(ReadString(fs, dir / "f"), "new");
}

TEST(PosixFileSystem, ReadFileOfAnEmptyFileIsEmpty) {
  TempDir dir;
  FileSystem& fs = *DefaultFileSystem();
  WriteFile(fs, dir / "empty", "", false);
  auto read = fs.ReadFile(dir / "empty");
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_TRUE(read->empty());
}

TEST(PosixFileSystem, TruncateShortensAndExtendsWithZeros) {
  TempDir dir;
  FileSystem& fs = *DefaultFileSystem();
  WriteFile(fs, dir / "f", "0123456789", false);
  ASSERT_TRUE(fs.Truncate(dir / "f", 4).ok());
  EXPECT_EQ(ReadString(fs, dir / "f"), "0123");
  ASSERT_TRUE(fs.Truncate(dir / "f", 6).ok());
  EXPECT_EQ(ReadString(fs, dir / "f"), std::string("0123\0\0", 6));
  ASSERT_TRUE(fs.Truncate(dir / "f", 0).ok());
  EXPECT_EQ(*fs.FileSize(dir / "f"), 0u);
}

TEST(PosixFileSystem, RenameReplacesAnExistingFile) {
  TempDir dir;
  FileSystem& fs = *DefaultFileSystem();
  WriteFile(fs, dir / "a", "from a", false);
  WriteFile(fs, dir / "b", "old b", false);
  ASSERT_TRUE(fs.Rename(dir / "a", dir / "b").ok());
  EXPECT_FALSE(*fs.Exists(dir / "a"));
  EXPECT_EQ(ReadString(fs, dir / "b"), "from a");
  EXPECT_EQ(List(fs, dir.path()), std::vector<std::string>{"b"});
}

TEST(PosixFileSystem, RemoveDeletesTheFile) {
  TempDir dir;
  FileSystem& fs = *DefaultFileSystem();
  WriteFile(fs, dir / "a", "x", false);
  ASSERT_TRUE(*fs.Exists(dir / "a"));
  ASSERT_TRUE(fs.Remove(dir / "a").ok());
  EXPECT_FALSE(*fs.Exists(dir / "a"));
  EXPECT_TRUE(List(fs, dir.path()).empty());
}

TEST(PosixFileSystem, ListDirIsSortedWithoutDotEntries) {
  TempDir dir;
  FileSystem& fs = *DefaultFileSystem();
  for (const char* name : {"log-10", "b", "log-2", "A", "a"}) WriteFile(fs, dir / name, "", false);
  ASSERT_TRUE(fs.CreateDirs(dir / "sub").ok());
  EXPECT_EQ(List(fs, dir.path()),
            (std::vector<std::string>{"A", "a", "b", "log-10", "log-2", "sub"}));
  EXPECT_TRUE(List(fs, dir / "sub").empty());
}

TEST(PosixFileSystem, ExistsForFilesDirectoriesAndMissingPaths) {
  TempDir dir;
  FileSystem& fs = *DefaultFileSystem();
  WriteFile(fs, dir / "file", "", false);
  EXPECT_TRUE(*fs.Exists(dir / "file"));
  EXPECT_TRUE(*fs.Exists(dir.path()));
  EXPECT_FALSE(*fs.Exists(dir / "missing"));
  EXPECT_FALSE(*fs.Exists(dir / "file/under_a_file"));  // ENOTDIR
}

TEST(PosixFileSystem, CreateDirsMakesNestedDirectoriesAndIsIdempotent) {
  TempDir dir;
  FileSystem& fs = *DefaultFileSystem();
  const std::string nested = dir / "a/b/c";
  ASSERT_TRUE(fs.CreateDirs(nested).ok());
  EXPECT_TRUE(std::filesystem::is_directory(nested));
  EXPECT_TRUE(fs.CreateDirs(nested).ok());
  EXPECT_TRUE(fs.CreateDirs(nested + "/").ok());
  EXPECT_TRUE(fs.CreateDirs(dir / "a//b/d/").ok());
  EXPECT_TRUE(std::filesystem::is_directory(dir / "a/b/d"));
  WriteFile(fs, nested + "/f", "x", false);
  EXPECT_EQ(ReadString(fs, nested + "/f"), "x");
}

TEST(PosixFileSystem, CreateDirsThroughAFileFailsNamingIt) {
  TempDir dir;
  FileSystem& fs = *DefaultFileSystem();
  WriteFile(fs, dir / "file", "", false);
  Status s = fs.CreateDirs(dir / "file/sub");
  EXPECT_EQ(s.code(), StatusCode::kIoError);
  EXPECT_EQ(s.message(), "mkdir " + (dir / "file") + ": Not a directory");
  s = fs.CreateDirs(dir / "file");
  EXPECT_EQ(s.code(), StatusCode::kIoError);
  EXPECT_TRUE(Contains(s.message(), dir / "file")) << s.ToString();
}

TEST(PosixFileSystem, ErrorsNameTheCallThePathAndTheErrno) {
  TempDir dir;
  FileSystem& fs = *DefaultFileSystem();
  const std::string missing = dir / "missing";
  const std::string enoent = std::strerror(ENOENT);

  auto open = fs.OpenForAppend(missing, /*truncate=*/false);
  EXPECT_EQ(open.status().code(), StatusCode::kIoError);
  EXPECT_EQ(open.status().message(), "open " + missing + ": " + enoent);
  EXPECT_FALSE(*fs.Exists(missing));  // not created by a failed open

  auto read = fs.ReadFile(missing);
  EXPECT_EQ(read.status().code(), StatusCode::kIoError);
  EXPECT_EQ(read.status().message(), "open " + missing + ": " + enoent);

  auto size = fs.FileSize(missing);
  EXPECT_EQ(size.status().message(), "stat " + missing + ": " + enoent);

  EXPECT_EQ(fs.Truncate(missing, 0).message(), "truncate " + missing + ": " + enoent);
  EXPECT_EQ(fs.Remove(missing).message(), "unlink " + missing + ": " + enoent);
  EXPECT_EQ(fs.Rename(missing, dir / "b").message(),
            "rename " + missing + " -> " + (dir / "b") + ": " + enoent);
  EXPECT_EQ(fs.SyncDir(missing).message(), "open " + missing + ": " + enoent);
  EXPECT_EQ(fs.ListDir(missing).status().message(), "opendir " + missing + ": " + enoent);
  auto in_missing_dir = fs.OpenForAppend(dir / "no/such/dir", /*truncate=*/true);
  EXPECT_EQ(in_missing_dir.status().code(), StatusCode::kIoError);
  EXPECT_TRUE(Contains(in_missing_dir.status().message(), dir / "no/such/dir"));
}

TEST(PosixFileSystem, AClosedFileRefusesAppendsAndClosesTwice) {
  TempDir dir;
  FileSystem& fs = *DefaultFileSystem();
  auto file = fs.OpenForAppend(dir / "f", /*truncate=*/true);
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Close().ok());
  EXPECT_TRUE((*file)->Close().ok());
  Status s = (*file)->Append(Bytes("x"));
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(Contains(s.message(), dir / "f")) << s.ToString();
  EXPECT_FALSE((*file)->Sync(SyncKind::kData).ok());
  EXPECT_EQ(*fs.FileSize(dir / "f"), 0u);
}

TEST(PosixFileSystem, LockFileTwiceInOneProcessFailsUntilReleased) {
  TempDir dir;
  FileSystem& fs = *DefaultFileSystem();
  const std::string path = dir / "LOCK";
  auto first = fs.LockFile(path);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_TRUE(*fs.Exists(path));  // created

  auto second = fs.LockFile(path);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Contains(second.status().message(), path + " is locked by another process or Db"))
      << second.status().ToString();

  first->reset();  // releases
  auto third = fs.LockFile(path);
  EXPECT_TRUE(third.ok()) << third.status().ToString();
}

// Forks a child that tries LockFile(path) and exits 0 (got it), 3 (FailedPrecondition) or
// 4 (any other error); returns that code.
int LockInChild(const std::string& path) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    auto lock = DefaultFileSystem()->LockFile(path);
    int code = 0;
    if (!lock.ok()) code = lock.status().code() == StatusCode::kFailedPrecondition ? 3 : 4;
    ::_exit(code);
  }
  if (pid < 0) return -1;
  int wstatus = 0;
  if (::waitpid(pid, &wstatus, 0) != pid || !WIFEXITED(wstatus)) return -2;
  return WEXITSTATUS(wstatus);
}

TEST(PosixFileSystem, LockFileIsHeldAgainstAnotherProcess) {
  TempDir dir;
  FileSystem& fs = *DefaultFileSystem();
  const std::string path = dir / "LOCK";
  {
    auto lock = fs.LockFile(path);
    ASSERT_TRUE(lock.ok()) << lock.status().ToString();
    EXPECT_EQ(LockInChild(path), 3);
  }
  // Released: the child gets it, and its death releases it again.
  EXPECT_EQ(LockInChild(path), 0);
  auto lock = fs.LockFile(path);
  EXPECT_TRUE(lock.ok()) << lock.status().ToString();
}

// ---------------------------------------------------------------------------------------
// Fault injection

// One call of `op` through `fs`, on fresh files made for it through `base` (so that no
// other counted call of `op` happens). `i` makes the file names unique.
Status CallOnce(FaultInjectingFileSystem& fs, FileSystem& base, const TempDir& dir, Op op, int i) {
  // Built by appending: GCC 12 warns falsely (-Wrestrict) on "f" + std::to_string(i).
  std::string name = "f";
  name += std::to_string(i);
  const std::string path = dir / name;
  if (op != Op::kOpen) WriteFile(base, path, "contents", true);
  switch (op) {
    case Op::kOpen:
      return fs.OpenForAppend(path, /*truncate=*/true).status();
    case Op::kAppend:
    case Op::kSync: {
      auto file = fs.OpenForAppend(path, /*truncate=*/false);
      if (!file.ok()) return file.status();
      if (op == Op::kAppend) return (*file)->Append(Bytes("more"));
      return (*file)->Sync(SyncKind::kData);
    }
    case Op::kRename:
      return fs.Rename(path, path + ".renamed");
    case Op::kRemove:
      return fs.Remove(path);
    case Op::kSyncDir:
      return fs.SyncDir(dir.path());
    case Op::kTruncate:
      return fs.Truncate(path, 3);
    case Op::kRead:
      return fs.ReadFile(path).status();
    case Op::kCount:
      break;
  }
  return InternalError("no such op");
}

// The call each op's injected error names.
const char* CallName(Op op) {
  switch (op) {
    case Op::kOpen:
      return "open ";
    case Op::kAppend:
      return "write ";
    case Op::kSync:
      return "fdatasync ";
    case Op::kRename:
      return "rename ";
    case Op::kRemove:
      return "unlink ";
    case Op::kSyncDir:
      return "fsync ";
    case Op::kTruncate:
      return "truncate ";
    case Op::kRead:
      return "read ";
    case Op::kCount:
      break;
  }
  return "?";
}

class FaultOpTest : public ::testing::TestWithParam<Op> {};

TEST_P(FaultOpTest, FailNthFiresAtExactlyTheKthCall) {
  const Op op = GetParam();
  TempDir dir;
  FaultInjectingFileSystem fs(DefaultFileSystem());
  FileSystem& base = *DefaultFileSystem();
  int file_index = 0;
  uint64_t fired = 0;
  for (const int error_number : {EIO, ENOSPC}) {
    for (const uint64_t k : {1u, 3u}) {
      SCOPED_TRACE("errno " + std::to_string(error_number) + ", k " + std::to_string(k));
      const uint64_t count_before = fs.Count(op);
      fs.FailNth(op, k, error_number);
      for (uint64_t call = 1; call <= k + 2; ++call) {
        const Status s = CallOnce(fs, base, dir, op, file_index++);
        if (call == k) {
          ++fired;
          EXPECT_EQ(s.code(), StatusCode::kIoError) << "call " << call;
          EXPECT_TRUE(s.message().starts_with(CallName(op))) << s.ToString();
          EXPECT_TRUE(Contains(s.message(), dir.path())) << s.ToString();
          EXPECT_TRUE(Contains(s.message(), std::string(": ") + std::strerror(error_number)))
              << s.ToString();
          EXPECT_TRUE(Contains(s.message(), "injected")) << s.ToString();
        } else {
          EXPECT_TRUE(s.ok()) << "call " << call << ": " << s.ToString();
        }
        EXPECT_EQ(fs.Fired(), fired);
      }
      EXPECT_EQ(fs.Count(op), count_before + k + 2);
    }
  }
}

TEST_P(FaultOpTest, FailAlwaysFailsEveryCallUntilDisarm) {
  const Op op = GetParam();
  TempDir dir;
  FaultInjectingFileSystem fs(DefaultFileSystem());
  FileSystem& base = *DefaultFileSystem();
  fs.FailAlways(op, EIO);
  for (int i = 0; i < 3; ++i) {
    const Status s = CallOnce(fs, base, dir, op, i);
    EXPECT_EQ(s.code(), StatusCode::kIoError) << "call " << i;
    EXPECT_TRUE(Contains(s.message(), std::strerror(EIO))) << s.ToString();
  }
  EXPECT_EQ(fs.Fired(), 3u);
  fs.Disarm();
  EXPECT_TRUE(CallOnce(fs, base, dir, op, 3).ok());
  EXPECT_EQ(fs.Fired(), 3u);
  EXPECT_EQ(fs.Count(op), 4u);
}

INSTANTIATE_TEST_SUITE_P(AllOps, FaultOpTest,
                         ::testing::Values(Op::kOpen, Op::kAppend, Op::kSync, Op::kRename,
                                           Op::kRemove, Op::kSyncDir, Op::kTruncate, Op::kRead),
                         [](const ::testing::TestParamInfo<Op>& info) {
                           return std::string(OpName(info.param));
                         });

TEST(FaultInjection, CountsEachKindOfCallSeparately) {
  TempDir dir;
  FaultInjectingFileSystem fs(DefaultFileSystem());
  for (int op = 0; op < static_cast<int>(Op::kCount); ++op) {
    EXPECT_EQ(fs.Count(static_cast<Op>(op)), 0u);
  }
  auto file = fs.OpenForAppend(dir / "a", true);
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Append(Bytes("1")).ok());
  ASSERT_TRUE((*file)->Append(Bytes("2")).ok());
  ASSERT_TRUE((*file)->Sync(SyncKind::kFull).ok());
  ASSERT_TRUE((*file)->Close().ok());
  ASSERT_TRUE(fs.SyncDir(dir.path()).ok());
  ASSERT_TRUE(fs.Rename(dir / "a", dir / "b").ok());
  EXPECT_FALSE(fs.Remove(dir / "a").ok());  // failed calls count too
  ASSERT_TRUE(fs.ReadFile(dir / "b").ok());
  ASSERT_TRUE(fs.Truncate(dir / "b", 1).ok());
  EXPECT_EQ(fs.Count(Op::kOpen), 1u);
  EXPECT_EQ(fs.Count(Op::kAppend), 2u);
  EXPECT_EQ(fs.Count(Op::kSync), 1u);
  EXPECT_EQ(fs.Count(Op::kSyncDir), 1u);
  EXPECT_EQ(fs.Count(Op::kRename), 1u);
  EXPECT_EQ(fs.Count(Op::kRemove), 1u);
  EXPECT_EQ(fs.Count(Op::kRead), 1u);
  EXPECT_EQ(fs.Count(Op::kTruncate), 1u);
  EXPECT_EQ(fs.Fired(), 0u);
}

TEST(FaultInjection, FailNthReplacesAnEarlierArmingAndFiresOnce) {
  TempDir dir;
  FaultInjectingFileSystem fs(DefaultFileSystem());
  FileSystem& base = *DefaultFileSystem();
  fs.FailNth(Op::kRead, 1, EIO);
  fs.FailNth(Op::kRead, 2, ENOSPC);  // replaces: the first call succeeds
  EXPECT_TRUE(CallOnce(fs, base, dir, Op::kRead, 0).ok());
  const Status s = CallOnce(fs, base, dir, Op::kRead, 1);
  EXPECT_TRUE(Contains(s.message(), std::strerror(ENOSPC))) << s.ToString();
  for (int i = 2; i < 6; ++i) EXPECT_TRUE(CallOnce(fs, base, dir, Op::kRead, i).ok());
  EXPECT_EQ(fs.Fired(), 1u);
}

TEST(FaultInjection, AFailingAppendWritesExactlyThePartialPrefix) {
  TempDir dir;
  FaultInjectingFileSystem fs(DefaultFileSystem());
  auto file = fs.OpenForAppend(dir / "f", true);
  ASSERT_TRUE(file.ok());
  fs.FailNth(Op::kAppend, 2, ENOSPC, /*partial_bytes=*/3);
  ASSERT_TRUE((*file)->Append(Bytes("hello")).ok());
  const Status s = (*file)->Append(Bytes("world!"));
  EXPECT_EQ(s.code(), StatusCode::kIoError);
  EXPECT_EQ(s.message().substr(0, s.message().find(" (")),
            "write " + (dir / "f") + ": " + std::strerror(ENOSPC));
  EXPECT_EQ(ReadString(fs, dir / "f"), "hellowor");
  // Clamped to the append's size: all of it is written, and the call still fails.
  fs.FailNth(Op::kAppend, 1, ENOSPC, /*partial_bytes=*/100);
  EXPECT_FALSE((*file)->Append(Bytes("xy")).ok());
  EXPECT_EQ(ReadString(fs, dir / "f"), "helloworxy");
  EXPECT_EQ(fs.Fired(), 2u);
}

TEST(FaultInjection, AnInjectedFailureDoesNothing) {
  TempDir dir;
  FaultInjectingFileSystem fs(DefaultFileSystem());
  WriteFile(fs, dir / "a", "aaaa", true);
  WriteFile(fs, dir / "b", "bb", true);
  fs.FailAlways(Op::kOpen, EIO);
  EXPECT_FALSE(fs.OpenForAppend(dir / "new", true).ok());
  EXPECT_FALSE(fs.OpenForAppend(dir / "a", true).ok());
  fs.FailAlways(Op::kRename, EIO);
  EXPECT_FALSE(fs.Rename(dir / "a", dir / "b").ok());
  fs.FailAlways(Op::kRemove, EIO);
  EXPECT_FALSE(fs.Remove(dir / "b").ok());
  fs.FailAlways(Op::kTruncate, EIO);
  EXPECT_FALSE(fs.Truncate(dir / "a", 1).ok());
  EXPECT_EQ(List(fs, dir.path()), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(ReadString(fs, dir / "a"), "aaaa");
  EXPECT_EQ(ReadString(fs, dir / "b"), "bb");
  fs.Disarm();
  auto file = fs.OpenForAppend(dir / "a", false);
  ASSERT_TRUE(file.ok());
  fs.FailAlways(Op::kAppend, EIO);
  EXPECT_FALSE((*file)->Append(Bytes("zz")).ok());
  EXPECT_EQ(ReadString(fs, dir / "a"), "aaaa");
  fs.FailAlways(Op::kRead, EIO);
  EXPECT_FALSE(fs.ReadFile(dir / "a").ok());
  fs.Disarm();
  EXPECT_EQ(fs.Fired(), 7u);
}

// ---------------------------------------------------------------------------------------
// Power loss

TEST(PowerLoss, DropsUnsyncedAppendsAndKeepsSyncedOnes) {
  TempDir dir;
  FaultInjectingFileSystem fs(DefaultFileSystem());
  auto file = fs.OpenForAppend(dir / "log", true);
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE(fs.SyncDir(dir.path()).ok());
  ASSERT_TRUE((*file)->Append(Bytes("synced ")).ok());
  ASSERT_TRUE((*file)->Sync(SyncKind::kData).ok());
  ASSERT_TRUE((*file)->Append(Bytes("lost")).ok());
  EXPECT_EQ(ReadString(fs, dir / "log"), "synced lost");
  fs.PowerLoss();
  EXPECT_EQ(ReadString(fs, dir / "log"), "synced ");
}

TEST(PowerLoss, ANeverSyncedFileBecomesEmpty) {
  TempDir dir;
  FaultInjectingFileSystem fs(DefaultFileSystem());
  WriteFile(fs, dir / "f", "never synced", false);
  ASSERT_TRUE(fs.SyncDir(dir.path()).ok());
  fs.PowerLoss();
  EXPECT_EQ(List(fs, dir.path()), std::vector<std::string>{"f"});
  EXPECT_EQ(ReadString(fs, dir / "f"), "");
}

TEST(PowerLoss, AFailedSyncMakesNothingDurable) {
  TempDir dir;
  FaultInjectingFileSystem fs(DefaultFileSystem());
  auto file = fs.OpenForAppend(dir / "f", true);
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE(fs.SyncDir(dir.path()).ok());
  ASSERT_TRUE((*file)->Append(Bytes("abc")).ok());
  ASSERT_TRUE((*file)->Sync(SyncKind::kData).ok());
  ASSERT_TRUE((*file)->Append(Bytes("def")).ok());
  fs.FailNth(Op::kSync, 1, EIO);
  ASSERT_FALSE((*file)->Sync(SyncKind::kData).ok());
  fs.PowerLoss();
  EXPECT_EQ(ReadString(fs, dir / "f"), "abc");
}

TEST(PowerLoss, ACreatedFileWithoutSyncDirDisappearsEvenWithSyncedData) {
  TempDir dir;
  FaultInjectingFileSystem fs(DefaultFileSystem());
  WriteFile(fs, dir / "kept", "k", true);
  ASSERT_TRUE(fs.SyncDir(dir.path()).ok());
  WriteFile(fs, dir / "created", "synced data", true);
  // A SyncDir of another directory does not help.
  ASSERT_TRUE(fs.CreateDirs(dir / "other").ok());
  ASSERT_TRUE(fs.SyncDir(dir / "other").ok());
  fs.PowerLoss();
  EXPECT_EQ(List(fs, dir.path()), (std::vector<std::string>{"kept", "other"}));
  EXPECT_EQ(ReadString(fs, dir / "kept"), "k");
}

TEST(PowerLoss, ARenameWithoutSyncDirIsRevertedAndTheReplacedFileReturns) {
  TempDir dir;
  FaultInjectingFileSystem fs(DefaultFileSystem());
  WriteFile(fs, dir / "CURRENT.tmp", "new", true);
  WriteFile(fs, dir / "CURRENT", "old", true);
  ASSERT_TRUE(fs.SyncDir(dir.path()).ok());
  AppendFile(fs, dir / "CURRENT", " unsynced", false);
  ASSERT_TRUE(fs.Rename(dir / "CURRENT.tmp", dir / "CURRENT").ok());
  EXPECT_EQ(List(fs, dir.path()), std::vector<std::string>{"CURRENT"});
  EXPECT_EQ(ReadString(fs, dir / "CURRENT"), "new");
  fs.PowerLoss();
  EXPECT_EQ(List(fs, dir.path()), (std::vector<std::string>{"CURRENT", "CURRENT.tmp"}));
  EXPECT_EQ(ReadString(fs, dir / "CURRENT"), "old");
  EXPECT_EQ(ReadString(fs, dir / "CURRENT.tmp"), "new");
}

TEST(PowerLoss, AChainOfRenamesWithoutSyncDirIsRevertedWhole) {
  TempDir dir;
  FaultInjectingFileSystem fs(DefaultFileSystem());
  WriteFile(fs, dir / "a", "data", true);
  ASSERT_TRUE(fs.SyncDir(dir.path()).ok());
  ASSERT_TRUE(fs.Rename(dir / "a", dir / "b").ok());
  ASSERT_TRUE(fs.Rename(dir / "b", dir / "c").ok());
  AppendFile(fs, dir / "c", "+synced", true);  // data follows the inode, not the name
  fs.PowerLoss();
  EXPECT_EQ(List(fs, dir.path()), std::vector<std::string>{"a"});
  EXPECT_EQ(ReadString(fs, dir / "a"), "data+synced");
}

TEST(PowerLoss, ARemovalWithoutSyncDirIsUndone) {
  TempDir dir;
  FaultInjectingFileSystem fs(DefaultFileSystem());
  WriteFile(fs, dir / "f", "keep", true);
  ASSERT_TRUE(fs.SyncDir(dir.path()).ok());
  AppendFile(fs, dir / "f", " not this", false);
  ASSERT_TRUE(fs.Remove(dir / "f").ok());
  EXPECT_FALSE(*fs.Exists(dir / "f"));
  fs.PowerLoss();
  EXPECT_EQ(ReadString(fs, dir / "f"), "keep");
}

TEST(PowerLoss, AFileRemovedWhileOpenKeepsWhatItSyncedAfterwards) {
  TempDir dir;
  FaultInjectingFileSystem fs(DefaultFileSystem());
  auto file = fs.OpenForAppend(dir / "f", true);
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Append(Bytes("before ")).ok());
  ASSERT_TRUE((*file)->Sync(SyncKind::kData).ok());
  ASSERT_TRUE(fs.SyncDir(dir.path()).ok());
  ASSERT_TRUE(fs.Remove(dir / "f").ok());
  ASSERT_TRUE((*file)->Append(Bytes("after")).ok());
  ASSERT_TRUE((*file)->Sync(SyncKind::kData).ok());
  ASSERT_TRUE((*file)->Append(Bytes(" unsynced")).ok());
  fs.PowerLoss();
  EXPECT_EQ(ReadString(fs, dir / "f"), "before after");
}

TEST(PowerLoss, OperationsMadeDurableBySyncDirSurvive) {
  TempDir dir;
  FaultInjectingFileSystem fs(DefaultFileSystem());
  WriteFile(fs, dir / "old", "old", true);
  WriteFile(fs, dir / "tmp", "checkpoint", true);
  ASSERT_TRUE(fs.SyncDir(dir.path()).ok());
  ASSERT_TRUE(fs.Rename(dir / "tmp", dir / "ckpt").ok());
  ASSERT_TRUE(fs.Remove(dir / "old").ok());
  WriteFile(fs, dir / "log", "entry", true);
  ASSERT_TRUE(fs.SyncDir(dir.path() + "/").ok());  // another spelling of the directory
  fs.PowerLoss();
  EXPECT_EQ(List(fs, dir.path()), (std::vector<std::string>{"ckpt", "log"}));
  EXPECT_EQ(ReadString(fs, dir / "ckpt"), "checkpoint");
  EXPECT_EQ(ReadString(fs, dir / "log"), "entry");
}

TEST(PowerLoss, FilesFromBeforeTheWrapperAreDurableAndTruncateSyncs) {
  TempDir dir;
  WriteFile(*DefaultFileSystem(), dir / "pre", "existing", false);
  WriteFile(*DefaultFileSystem(), dir / "cut", "0123456789", false);
  FaultInjectingFileSystem fs(DefaultFileSystem());
  AppendFile(fs, dir / "pre", " appended", false);
  ASSERT_TRUE(fs.Truncate(dir / "cut", 4).ok());
  AppendFile(fs, dir / "cut", "xx", false);
  fs.PowerLoss();
  EXPECT_EQ(ReadString(fs, dir / "pre"), "existing");
  EXPECT_EQ(ReadString(fs, dir / "cut"), "0123");
}

TEST(PowerLoss, OpeningWithTruncateLosesTheOldContentsUntilSynced) {
  TempDir dir;
  FaultInjectingFileSystem fs(DefaultFileSystem());
  WriteFile(fs, dir / "f", "old", true);
  ASSERT_TRUE(fs.SyncDir(dir.path()).ok());
  WriteFile(fs, dir / "f", "new", false);
  fs.PowerLoss();
  EXPECT_EQ(List(fs, dir.path()), std::vector<std::string>{"f"});
  EXPECT_EQ(ReadString(fs, dir / "f"), "");
}

TEST(PowerLoss, OldFilesFailEveryCallAndTheFileSystemStaysUsable) {
  TempDir dir;
  FaultInjectingFileSystem fs(DefaultFileSystem());
  auto file = fs.OpenForAppend(dir / "f", true);
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE(fs.SyncDir(dir.path()).ok());
  ASSERT_TRUE((*file)->Append(Bytes("abc")).ok());
  ASSERT_TRUE((*file)->Sync(SyncKind::kFull).ok());
  const uint64_t appends = fs.Count(Op::kAppend);
  fs.PowerLoss();
  for (const Status& s :
       {(*file)->Append(Bytes("x")), (*file)->Sync(SyncKind::kData), (*file)->Close()}) {
    EXPECT_EQ(s.code(), StatusCode::kIoError);
    EXPECT_TRUE(Contains(s.message(), "power lost")) << s.ToString();
    EXPECT_TRUE(Contains(s.message(), dir / "f")) << s.ToString();
  }
  EXPECT_EQ(ReadString(fs, dir / "f"), "abc");
  EXPECT_EQ(fs.Count(Op::kAppend), appends);  // a dead file's calls reach nothing

  // Reboot: reopen through the same wrapper; the model starts afresh from the disk.
  AppendFile(fs, dir / "f", "def", true);
  WriteFile(fs, dir / "g", "g", true);
  fs.PowerLoss();
  EXPECT_EQ(List(fs, dir.path()), std::vector<std::string>{"f"});
  EXPECT_EQ(ReadString(fs, dir / "f"), "abcdef");

  // ... or through a fresh one over the same directory.
  FaultInjectingFileSystem fresh(DefaultFileSystem());
  AppendFile(fresh, dir / "f", "ghi", false);
  fresh.PowerLoss();
  EXPECT_EQ(ReadString(fresh, dir / "f"), "abcdef");
}

TEST(PowerLoss, DirectoriesAreNotModelledButTheirNamesAreReusable) {
  TempDir dir;
  FaultInjectingFileSystem fs(DefaultFileSystem());
  ASSERT_TRUE(fs.CreateDirs(dir / "d1/inner").ok());
  ASSERT_TRUE(fs.Rename(dir / "d1", dir / "d2").ok());
  WriteFile(fs, dir / "d1", "a file where the directory was", true);  // never SyncDir'ed
  fs.PowerLoss();
  EXPECT_EQ(List(fs, dir.path()), std::vector<std::string>{"d2"});
  EXPECT_EQ(List(fs, dir / "d2"), std::vector<std::string>{"inner"});
}

// A seeded random workload of creations, appends, syncs, renames, removals, truncations,
// directory syncs, injected append and sync failures and power losses in one directory,
// checked after every step against an in-memory oracle: inodes with their bytes and synced
// sizes, and the names the directory has now and had at its last SyncDir.
TEST(PowerLoss, RandomWorkloadMatchesTheOracle) {
  const uint64_t base_seed = TestSeed();
  for (uint64_t round = 0; round < 8; ++round) {
    const uint64_t seed = base_seed + round;
    SCOPED_TRACE(SeedTrace(seed));
    std::mt19937_64 rng(seed);
    auto uniform = [&rng](uint64_t n) { return static_cast<uint64_t>(rng() % n); };
    TempDir dir;
    FaultInjectingFileSystem fs(DefaultFileSystem());

    struct Inode {
      std::string bytes;
      size_t synced = 0;
    };
    std::vector<Inode> inodes;
    std::map<std::string, size_t> current, durable;  // name -> inode
    struct Handle {
      std::unique_ptr<WritableFile> file;
      size_t inode;
    };
    std::vector<Handle> handles;
    const std::vector<std::string> names = {"a", "b", "c", "d"};

    for (int step = 0; step < 300; ++step) {
      const std::string name = names[uniform(names.size())];
      const std::string path = dir / name;
      const uint64_t action = uniform(100);
      SCOPED_TRACE("step " + std::to_string(step) + ", action " + std::to_string(action) +
                   ", name " + name);
      if (action < 15) {  // open
        const bool truncate = uniform(2) == 0 || current.count(name) == 0;
        auto file = fs.OpenForAppend(path, truncate);
        ASSERT_TRUE(file.ok()) << file.status().ToString();
        if (current.count(name) == 0) {
          inodes.push_back({});
          current[name] = inodes.size() - 1;
        } else if (truncate) {
          inodes[current[name]] = Inode{};
        }
        handles.push_back({std::move(file).value(), current[name]});
      } else if (action < 45 && !handles.empty()) {  // append, maybe failing part way
        Handle& h = handles[uniform(handles.size())];
        std::string data(uniform(20), '\0');
        for (char& c : data) c = static_cast<char>('a' + uniform(26));
        if (uniform(10) == 0) {
          const size_t partial = uniform(data.size() + 2);
          fs.FailNth(Op::kAppend, 1, ENOSPC, partial);
          ASSERT_FALSE(h.file->Append(Bytes(data)).ok());
          inodes[h.inode].bytes += data.substr(0, std::min(partial, data.size()));
        } else {
          ASSERT_TRUE(h.file->Append(Bytes(data)).ok());
          inodes[h.inode].bytes += data;
        }
      } else if (action < 60 && !handles.empty()) {  // sync, maybe failing
        Handle& h = handles[uniform(handles.size())];
        if (uniform(5) == 0) {
          fs.FailNth(Op::kSync, 1, EIO);
          ASSERT_FALSE(h.file->Sync(SyncKind::kData).ok());
        } else {
          ASSERT_TRUE(h.file->Sync(uniform(2) ? SyncKind::kData : SyncKind::kFull).ok());
          inodes[h.inode].synced = inodes[h.inode].bytes.size();
        }
      } else if (action < 68) {  // rename
        const std::string to = names[uniform(names.size())];
        const Status s = fs.Rename(path, dir / to);
        ASSERT_EQ(s.ok(), current.count(name) == 1) << s.ToString();
        if (s.ok() && to != name) {
          current[to] = current[name];
          current.erase(name);
        }
      } else if (action < 74) {  // remove
        const Status s = fs.Remove(path);
        ASSERT_EQ(s.ok(), current.count(name) == 1) << s.ToString();
        current.erase(name);
      } else if (action < 78) {  // truncate (which syncs)
        if (current.count(name) == 0) continue;
        Inode& inode = inodes[current[name]];
        const size_t size = uniform(inode.bytes.size() + 5);
        ASSERT_TRUE(fs.Truncate(path, size).ok());
        inode.bytes.resize(size, '\0');
        inode.synced = size;
      } else if (action < 90) {  // directory sync
        ASSERT_TRUE(fs.SyncDir(dir.path()).ok());
        durable = current;
      } else if (action < 94) {  // power loss, then "reboot"
        fs.PowerLoss();
        for (Handle& h : handles) ASSERT_FALSE(h.file->Append(Bytes("x")).ok());
        handles.clear();
        std::vector<Inode> rebooted;
        std::map<std::string, size_t> names_now;
        for (const auto& [n, id] : durable) {
          rebooted.push_back({inodes[id].bytes.substr(0, inodes[id].synced), 0});
          rebooted.back().synced = rebooted.back().bytes.size();
          names_now[n] = rebooted.size() - 1;
        }
        inodes = std::move(rebooted);
        current = durable = names_now;
      }
      // The disk must show the current names with their current bytes.
      std::vector<std::string> expected_names;
      for (const auto& [n, id] : current) expected_names.push_back(n);
      ASSERT_EQ(List(fs, dir.path()), expected_names);
      for (const auto& [n, id] : current) {
        ASSERT_EQ(ReadString(fs, dir / n), inodes[id].bytes) << "file " << n;
      }
    }
  }
}

}  // namespace
}  // namespace locus::storage
