// Tests the append-only log (storage/log.h, docs/LOG_FORMAT.md), the layer under Db::Open:
// framing and scanning round trips of random records; a segment cut at every length (a clean
// end at record boundaries, else a torn tail at the last boundary, never damage); every byte
// flipped (never a modified record passed on, never more records than the intact ones before
// the damage, a torn tail only when the damage is in the last record); CountRecordsAfter;
// group commit of many threads through the fault-injecting file system (fewer syncs than
// records, every record scanned back in per-thread order); failures that stick (a failed
// sync or append fails the write that hit it and everything after, never a success); the
// sync_batch_size rule and the interval policies, checked against a simulated power loss.
#include "storage/log.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "storage/crc32c.h"
#include "storage/file_system.h"
#include "tests/testing/fault_injecting_file_system.h"
#include "tests/testing/harness.h"

namespace locus::storage {
namespace {

using ::locus::testing::SeedTrace;
using ::locus::testing::TestSeed;
using Bytes = std::vector<uint8_t>;
using ::locus::testing::FaultInjectingFileSystem;
using Op = FaultInjectingFileSystem::Op;

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it at the end.
class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base && *base ? base : "/tmp") + "/locus_log_test_XXXXXX";
    LOCUS_CHECK(::mkdtemp(pattern.data()) != nullptr);
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct Rec {
  uint8_t type;
  Bytes payload;
};

// `n` records of random types and payloads (sizes 0 to max_payload, some of them zeros).
std::vector<Rec> RandomRecords(std::mt19937_64& rng, size_t n, size_t max_payload) {
  std::vector<Rec> out(n);
  for (Rec& r : out) {
    r.type = static_cast<uint8_t>(rng() % 256);
    r.payload.resize(rng() % (max_payload + 1));
    const bool zeros = rng() % 8 == 0;
    for (uint8_t& b : r.payload) b = zeros ? 0 : static_cast<uint8_t>(rng());
  }
  return out;
}

// A segment holding `records`; *boundaries gets the offset after the header and after each
// record (boundaries[i] = where record i starts; the last one = the size).
Bytes BuildSegment(uint64_t seq, const std::vector<Rec>& records,
                   std::vector<uint64_t>* boundaries) {
  Bytes seg;
  EncodeSegmentHeader(seq, &seg);
  boundaries->assign(1, seg.size());
  for (const Rec& r : records) {
    FrameRecord(r.type, r.payload, &seg);
    boundaries->push_back(seg.size());
  }
  return seg;
}

// Scans `bytes`, checking every record passed on is the original one at its original offset.
ScanResult ScanChecked(std::span<const uint8_t> bytes, uint64_t seq,
                       const std::vector<Rec>& originals, const std::vector<uint64_t>& boundaries) {
  size_t i = 0;
  return ScanSegment(
      bytes, seq, [&](uint8_t type, std::span<const uint8_t> payload, uint64_t offset) -> Status {
        EXPECT_LT(i, originals.size()) << "more records than were written";
        if (i >= originals.size()) return Status();
        EXPECT_EQ(offset, boundaries[i]) << "record " << i;
        EXPECT_EQ(type, originals[i].type) << "record " << i << " (a modified record passed on)";
        EXPECT_TRUE(std::equal(payload.begin(), payload.end(), originals[i].payload.begin(),
                               originals[i].payload.end()))
            << "record " << i << ": payload modified";
        ++i;
        return Status();
      });
}

const char* EndName(ScanEnd e) {
  switch (e) {
    case ScanEnd::kClean:
      return "clean";
    case ScanEnd::kTorn:
      return "torn";
    case ScanEnd::kCorrupt:
      return "corrupt";
  }
  return "?";
}

TEST(LogFormatTest, SegmentFileNames) {
  EXPECT_EQ(SegmentFileName(1), "log-0000000000000001.log");
  EXPECT_EQ(SegmentFileName(0xabcdef0123456789ull), "log-abcdef0123456789.log");
  for (uint64_t seq : {uint64_t{1}, uint64_t{42}, uint64_t{0xfffffffffffffffful}}) {
    uint64_t parsed = 0;
    ASSERT_TRUE(ParseSegmentFileName(SegmentFileName(seq), &parsed));
    EXPECT_EQ(parsed, seq);
  }
  uint64_t v;
  EXPECT_FALSE(ParseSegmentFileName("log-000000000000000G.log", &v));
  EXPECT_FALSE(ParseSegmentFileName("log-0000000000000001.lo", &v));
  EXPECT_FALSE(ParseSegmentFileName("log-0000000000000001.log.tmp", &v));
  EXPECT_FALSE(ParseSegmentFileName("LOG-0000000000000001.log", &v));
}

TEST(LogFormatTest, HeaderAndFrameBytes) {
  Bytes seg;
  EncodeSegmentHeader(7, &seg);
  ASSERT_EQ(seg.size(), kSegmentHeaderBytes);
  const uint8_t magic[8] = {0x89, 'L', 'O', 'C', 'L', 'O', 'G', '\n'};
  EXPECT_EQ(std::memcmp(seg.data(), magic, 8), 0);
  EXPECT_EQ(seg[8], 1);  // version 1, little-endian
  EXPECT_EQ(seg[16], 7);
  const uint8_t payload[3] = {10, 20, 30};
  FrameRecord(5, payload, &seg);
  ASSERT_EQ(seg.size(), kSegmentHeaderBytes + kRecordHeaderBytes + 4);
  const uint8_t* r = seg.data() + kSegmentHeaderBytes;
  EXPECT_EQ(r[0], 4);  // length = type + payload
  EXPECT_EQ(r[1] | r[2] | r[3], 0);
  EXPECT_EQ(r[8], 5);
  EXPECT_EQ(r[9], 10);
  EXPECT_EQ(r[11], 30);
}

TEST(LogFormatTest, RoundTripOfRandomRecords) {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE(SeedTrace(seed));
  std::mt19937_64 rng(seed);
  for (size_t n : {size_t{0}, size_t{1}, size_t{2}, size_t{17}, size_t{300}}) {
    SCOPED_TRACE("n = " + std::to_string(n));
    const auto records = RandomRecords(rng, n, n == 1 ? 70000 : 200);
    std::vector<uint64_t> boundaries;
    const Bytes seg = BuildSegment(3, records, &boundaries);
    const ScanResult r = ScanChecked(seg, 3, records, boundaries);
    EXPECT_EQ(r.end, ScanEnd::kClean) << r.error;
    EXPECT_EQ(r.records, n);
    EXPECT_EQ(r.valid_bytes, seg.size());
  }
}

TEST(LogFormatTest, HeaderChecks) {
  std::vector<uint64_t> boundaries;
  std::mt19937_64 rng(TestSeed());
  const auto records = RandomRecords(rng, 3, 20);
  const Bytes seg = BuildSegment(9, records, &boundaries);
  auto never = [](uint8_t, std::span<const uint8_t>, uint64_t) -> Status {
    ADD_FAILURE() << "a record of a segment with a bad header was passed on";
    return Status();
  };
  // The seq in the header must be the one in the file name.
  ScanResult r = ScanSegment(seg, 10, never);
  EXPECT_EQ(r.end, ScanEnd::kCorrupt);
  EXPECT_NE(r.error.find("seq 9"), std::string::npos) << r.error;
  // A version this code does not know, with a valid header checksum.
  Bytes v2 = seg;
  v2[8] = 2;
  const uint32_t crc = Crc32c(std::span<const uint8_t>(v2.data(), 28));
  std::memcpy(&v2[28], &crc, 4);
  r = ScanSegment(v2, 9, never);
  EXPECT_EQ(r.end, ScanEnd::kCorrupt);
  EXPECT_NE(r.error.find("version 2"), std::string::npos) << r.error;
  EXPECT_EQ(r.records, 0u);
}

TEST(LogFormatTest, CallbackErrorStopsTheScanAsDamage) {
  std::mt19937_64 rng(TestSeed());
  const auto records = RandomRecords(rng, 6, 30);
  std::vector<uint64_t> boundaries;
  const Bytes seg = BuildSegment(1, records, &boundaries);
  size_t calls = 0;
  const ScanResult r = ScanSegment(seg, 1, [&](uint8_t, std::span<const uint8_t>, uint64_t) {
    return ++calls == 4 ? CorruptionError("does not decode") : Status();
  });
  EXPECT_EQ(r.end, ScanEnd::kCorrupt);
  EXPECT_EQ(r.records, 3u);
  EXPECT_EQ(r.valid_bytes, boundaries[3]);
  EXPECT_NE(r.error.find("does not decode"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("offset " + std::to_string(boundaries[3])), std::string::npos) << r.error;
}

TEST(LogFormatTest, TruncationAtEveryLengthIsCleanOrTorn) {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE(SeedTrace(seed));
  std::mt19937_64 rng(seed);
  const auto records = RandomRecords(rng, 25, 40);
  std::vector<uint64_t> boundaries;
  const Bytes seg = BuildSegment(2, records, &boundaries);
  for (size_t len = 0; len <= seg.size(); ++len) {
    SCOPED_TRACE("length " + std::to_string(len) + " of " + std::to_string(seg.size()));
    const std::span<const uint8_t> cut(seg.data(), len);
    const ScanResult r = ScanChecked(cut, 2, records, boundaries);
    if (len < kSegmentHeaderBytes) {
      EXPECT_EQ(r.end, ScanEnd::kTorn) << r.error;  // a creation cut short
      EXPECT_EQ(r.valid_bytes, 0u);
      EXPECT_EQ(r.records, 0u);
      continue;
    }
    // The last record boundary at or before len.
    const size_t k =
        std::upper_bound(boundaries.begin(), boundaries.end(), len) - boundaries.begin() - 1;
    EXPECT_EQ(r.records, k);
    EXPECT_EQ(r.valid_bytes, boundaries[k]);
    EXPECT_EQ(r.end, boundaries[k] == len ? ScanEnd::kClean : ScanEnd::kTorn)
        << EndName(r.end) << ": " << r.error;
  }
}

TEST(LogFormatTest, ZeroFilledTailIsTorn) {
  std::mt19937_64 rng(TestSeed());
  const auto records = RandomRecords(rng, 4, 30);
  std::vector<uint64_t> boundaries;
  Bytes seg = BuildSegment(1, records, &boundaries);
  for (size_t zeros : {size_t{1}, size_t{7}, size_t{8}, size_t{9}, size_t{4096}}) {
    Bytes padded = seg;
    padded.resize(seg.size() + zeros, 0);
    const ScanResult r = ScanChecked(padded, 1, records, boundaries);
    EXPECT_EQ(r.end, ScanEnd::kTorn) << zeros << " zeros: " << r.error;
    EXPECT_EQ(r.records, records.size());
    EXPECT_EQ(r.valid_bytes, seg.size());
  }
  // Zeros, then something that is not zero: damage, not a crash's preallocated tail.
  Bytes odd = seg;
  odd.resize(seg.size() + 64, 0);
  odd.back() = 1;
  const ScanResult r = ScanChecked(odd, 1, records, boundaries);
  EXPECT_EQ(r.end, ScanEnd::kCorrupt) << r.error;
  EXPECT_EQ(r.records, records.size());
}

// Every byte flipped (all bits, and the lowest bit): the records before the damaged one come
// back unchanged, none after; the end is damage, or a torn tail when the damaged record is the
// last one and now looks incomplete (its length field grew past the end of the file).
TEST(LogFormatTest, FlipOfEveryByte) {
  const uint64_t seed = TestSeed() + 1;
  SCOPED_TRACE(SeedTrace(seed));
  std::mt19937_64 rng(seed);
  const auto records = RandomRecords(rng, 20, 48);
  std::vector<uint64_t> boundaries;
  const Bytes seg = BuildSegment(4, records, &boundaries);
  const size_t last = records.size() - 1;
  size_t torn = 0, corrupt = 0, torn_in_last = 0;
  for (uint8_t mask : {uint8_t{0xff}, uint8_t{0x01}}) {
    for (size_t pos = 0; pos < seg.size(); ++pos) {
      SCOPED_TRACE("byte " + std::to_string(pos) + " ^ " + std::to_string(mask));
      Bytes damaged = seg;
      damaged[pos] ^= mask;
      const ScanResult r = ScanChecked(damaged, 4, records, boundaries);
      if (pos < kSegmentHeaderBytes) {
        EXPECT_EQ(r.end, ScanEnd::kCorrupt) << r.error;
        EXPECT_EQ(r.records, 0u);
        EXPECT_EQ(r.valid_bytes, 0u);
        ++corrupt;
        continue;
      }
      // The damaged record.
      const size_t j =
          std::upper_bound(boundaries.begin(), boundaries.end(), pos) - boundaries.begin() - 1;
      EXPECT_EQ(r.records, j) << "every intact record before the damage, none after";
      EXPECT_EQ(r.valid_bytes, boundaries[j]);
      EXPECT_NE(r.end, ScanEnd::kClean) << "damage in record " << j << " went unnoticed";
      EXPECT_NE(r.error.find("offset " + std::to_string(boundaries[j])), std::string::npos)
          << r.error;
      if (r.end == ScanEnd::kTorn) {
        ++torn;
        EXPECT_EQ(j, last) << "a torn tail reported for damage in record " << j << " of "
                           << records.size() << " (intact records follow it): " << r.error;
        torn_in_last += j == last;
      } else if (r.end == ScanEnd::kCorrupt) {
        ++corrupt;
      }
    }
  }
  // The last record's length grown past the end (its second byte ^ 0xff, say) reads as torn.
  EXPECT_GT(torn_in_last, 0u);
  EXPECT_GT(corrupt, 0u);
  std::printf("flips: %zu torn (all in the last record), %zu damaged\n", torn, corrupt);
}

TEST(LogFormatTest, CountRecordsAfter) {
  std::mt19937_64 rng(TestSeed() + 2);
  const auto records = RandomRecords(rng, 12, 60);
  std::vector<uint64_t> boundaries;
  const Bytes seg = BuildSegment(1, records, &boundaries);
  const size_t n = records.size();
  for (size_t j = 0; j <= n; ++j) {
    EXPECT_EQ(CountRecordsAfter(seg, boundaries[j]), n - j) << "from record " << j;
  }
  // From inside record j: it is skipped, the rest are found.
  for (size_t j = 0; j < n; ++j) {
    EXPECT_EQ(CountRecordsAfter(seg, boundaries[j] + 1), n - j - 1) << "inside record " << j;
  }
  EXPECT_EQ(CountRecordsAfter(seg, 0), n);  // the header frames nothing
  EXPECT_EQ(CountRecordsAfter(seg, seg.size() + 5), 0u);
  // Damaged records are not counted; garbage between records is skipped over.
  Bytes damaged = seg;
  damaged[boundaries[3] + 9] ^= 0x40;  // record 3's type byte
  damaged[boundaries[7] + 4] ^= 0x01;  // record 7's checksum
  EXPECT_EQ(CountRecordsAfter(damaged, boundaries[0]), n - 2);
  Bytes gaps;
  EncodeSegmentHeader(1, &gaps);
  for (const Rec& r : records) {
    for (int g = 0; g < 5; ++g) gaps.push_back(static_cast<uint8_t>(0xA0 + g));
    FrameRecord(r.type, r.payload, &gaps);
  }
  EXPECT_EQ(CountRecordsAfter(gaps, kSegmentHeaderBytes), n);
}

// ---- the Log: writing, group commit, failures ----

// A file system whose file syncs take at least `delay`: concurrent writers then reliably
// overlap one sync, however fast the disk under the test is.
class SlowSyncFileSystem final : public FileSystem {
 public:
  SlowSyncFileSystem(std::shared_ptr<FileSystem> base, std::chrono::microseconds delay)
      : base_(std::move(base)), delay_(delay) {}
  Status CreateDirs(const std::string& p) override { return base_->CreateDirs(p); }
  Result<std::vector<std::string>> ListDir(const std::string& d) override {
    return base_->ListDir(d);
  }
  Result<bool> Exists(const std::string& p) override { return base_->Exists(p); }
  Result<std::unique_ptr<WritableFile>> OpenForAppend(const std::string& p,
                                                      bool truncate) override {
    LOCUS_ASSIGN_OR_RETURN(auto f, base_->OpenForAppend(p, truncate));
    return std::unique_ptr<WritableFile>(std::make_unique<File>(std::move(f), delay_));
  }
  Result<std::vector<uint8_t>> ReadFile(const std::string& p) override {
    return base_->ReadFile(p);
  }
  Result<uint64_t> FileSize(const std::string& p) override { return base_->FileSize(p); }
  Status Truncate(const std::string& p, uint64_t s) override { return base_->Truncate(p, s); }
  Status Rename(const std::string& f, const std::string& t) override { return base_->Rename(f, t); }
  Status Remove(const std::string& p) override { return base_->Remove(p); }
  Status SyncDir(const std::string& d) override { return base_->SyncDir(d); }
  Result<std::unique_ptr<FileLock>> LockFile(const std::string& p) override {
    return base_->LockFile(p);
  }

 private:
  class File final : public WritableFile {
   public:
    File(std::unique_ptr<WritableFile> base, std::chrono::microseconds delay)
        : base_(std::move(base)), delay_(delay) {}
    Status Append(std::span<const uint8_t> b) override { return base_->Append(b); }
    Status Sync(SyncKind k) override {
      std::this_thread::sleep_for(delay_);
      return base_->Sync(k);
    }
    Status Close() override { return base_->Close(); }
    const std::string& path() const override { return base_->path(); }

   private:
    std::unique_ptr<WritableFile> base_;
    std::chrono::microseconds delay_;
  };
  std::shared_ptr<FileSystem> base_;
  std::chrono::microseconds delay_;
};

Bytes ReadAll(const std::string& path) {
  auto bytes = DefaultFileSystem()->ReadFile(path);
  LOCUS_CHECK_MSG(bytes.ok(), bytes.status().ToString().c_str());
  return std::move(bytes).value();
}

std::string Segment1(const TempDir& dir) { return dir.path() + "/" + SegmentFileName(1); }

Bytes Payload(uint32_t thread, uint32_t i) {
  Bytes p(8);
  std::memcpy(p.data(), &thread, 4);
  std::memcpy(p.data() + 4, &i, 4);
  return p;
}

TEST(LogTest, OpenCreatesASyncedSegment) {
  TempDir dir;
  auto fs = std::make_shared<FaultInjectingFileSystem>(DefaultFileSystem());
  auto log = Log::Open(fs, dir.path(), 1, 0, {});
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  EXPECT_EQ(fs->Count(Op::kSync), 1u);
  EXPECT_EQ(fs->Count(Op::kSyncDir), 1u);
  EXPECT_EQ((*log)->segment(), 1u);
  EXPECT_EQ((*log)->bytes_since_roll(), kSegmentHeaderBytes);
  fs->PowerLoss();  // the header survives: it was synced, and so was the directory entry
  const Bytes seg = ReadAll(Segment1(dir));
  EXPECT_EQ(seg.size(), kSegmentHeaderBytes);
  EXPECT_EQ(ScanSegment(seg, 1, [](auto, auto, auto) { return Status(); }).end, ScanEnd::kClean);
}

TEST(LogTest, OptionsAreChecked) {
  TempDir dir;
  LogOptions o;
  o.interval_ms = 0;
  auto log = Log::Open(DefaultFileSystem(), dir.path(), 1, 0, o);
  ASSERT_FALSE(log.ok());
  EXPECT_EQ(log.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(log.status().message().find("interval_ms"), std::string_view::npos);
  o = {};
  o.batch_size = 0;
  log = Log::Open(DefaultFileSystem(), dir.path(), 1, 0, o);
  ASSERT_FALSE(log.ok());
  EXPECT_NE(log.status().message().find("batch_size"), std::string_view::npos);
}

// N threads x M waiting commits: every one succeeds, fewer syncs than records (each sync
// acknowledges every writer waiting behind it), and the file holds every record, each
// thread's in its order.
TEST(LogTest, GroupCommit) {
  TempDir dir;
  auto fs = std::make_shared<FaultInjectingFileSystem>(
      std::make_shared<SlowSyncFileSystem>(DefaultFileSystem(), std::chrono::microseconds(500)));
  auto opened = Log::Open(fs, dir.path(), 1, 0, {});
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  Log& log = **opened;
  constexpr uint32_t kThreads = 8, kPerThread = 60;
  const uint64_t syncs_before = fs->Count(Op::kSync);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (uint32_t t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (uint32_t i = 0; i < kPerThread; ++i) {
        auto lsn = log.Append(7, Payload(t, i));
        if (!lsn.ok() || !log.Commit(*lsn, /*wait=*/true).ok()) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  const uint64_t total = kThreads * kPerThread;
  const uint64_t syncs = fs->Count(Op::kSync) - syncs_before;
  EXPECT_EQ(log.syncs(), syncs);
  EXPECT_LT(syncs, total);
  EXPECT_LE(syncs, total / 2) << "group commit should share syncs among 8 waiting writers";
  EXPECT_EQ(log.records(), total);
  std::printf("%llu records acknowledged by %llu syncs\n", (unsigned long long)total,
              (unsigned long long)syncs);
  // Every acknowledged record is durable: a power loss right now keeps all of them.
  fs->PowerLoss();
  const Bytes seg = ReadAll(Segment1(dir));
  std::vector<uint32_t> next(kThreads, 0);
  const ScanResult r =
      ScanSegment(seg, 1, [&](uint8_t type, std::span<const uint8_t> p, uint64_t) -> Status {
        EXPECT_EQ(type, 7);
        EXPECT_EQ(p.size(), 8u);
        uint32_t t, i;
        std::memcpy(&t, p.data(), 4);
        std::memcpy(&i, p.data() + 4, 4);
        EXPECT_LT(t, kThreads);
        if (t < kThreads) {
          EXPECT_EQ(i, next[t]++) << "thread " << t << "'s records out of order";
        }
        return Status();
      });
  EXPECT_EQ(r.end, ScanEnd::kClean) << r.error;
  EXPECT_EQ(r.records, total);
  for (uint32_t t = 0; t < kThreads; ++t) EXPECT_EQ(next[t], kPerThread);
}

// A failed sync is final: the commit that waited on it fails, and so does every later call,
// with the same error; never a success.
TEST(LogTest, FailedSyncIsFinal) {
  for (int error_number : {EIO, ENOSPC}) {
    SCOPED_TRACE(std::strerror(error_number));
    TempDir dir;
    auto fs = std::make_shared<FaultInjectingFileSystem>(DefaultFileSystem());
    auto opened = Log::Open(fs, dir.path(), 1, 0, {});
    ASSERT_TRUE(opened.ok());
    Log& log = **opened;
    auto a = log.Append(1, Payload(0, 0));
    ASSERT_TRUE(a.ok());
    ASSERT_TRUE(log.Commit(*a, true).ok());
    fs->FailNth(Op::kSync, 1, error_number);
    auto b = log.Append(1, Payload(0, 1));
    ASSERT_TRUE(b.ok());
    const Status failed = log.Commit(*b, true);
    ASSERT_FALSE(failed.ok());
    EXPECT_EQ(failed.code(), StatusCode::kIoError);
    EXPECT_NE(failed.message().find(std::strerror(error_number)), std::string_view::npos)
        << failed.ToString();
    EXPECT_NE(failed.message().find(Segment1(dir)), std::string_view::npos) << failed.ToString();
    EXPECT_EQ(fs->Fired(), 1u);
    EXPECT_TRUE(log.failed());
    EXPECT_EQ(log.failure(), failed);
    for (int i = 0; i < 10; ++i) {
      auto c = log.Append(1, Payload(0, 2 + i));
      ASSERT_FALSE(c.ok()) << "an append succeeded after a failed sync";
      EXPECT_EQ(c.status(), failed);
      EXPECT_EQ(log.Commit(*a, true), failed) << "even a commit of an already synced record";
      EXPECT_EQ(log.Commit(*b, false), failed);
      EXPECT_EQ(log.Sync(), failed);
      auto rolled = log.Roll();
      ASSERT_FALSE(rolled.ok());
      EXPECT_EQ(rolled.status(), failed);
    }
    EXPECT_EQ(fs->Count(Op::kSync), 2u + 1) << "the failed sync was retried";
    EXPECT_EQ(log.Close(), failed);
  }
}

// A failed append that wrote part of its bytes (a full disk): the commit fails, the file ends
// in a torn record after the intact ones, and nothing is appended after it.
TEST(LogTest, ShortWriteLeavesATornTail) {
  TempDir dir;
  auto fs = std::make_shared<FaultInjectingFileSystem>(DefaultFileSystem());
  auto opened = Log::Open(fs, dir.path(), 1, 0, {});
  ASSERT_TRUE(opened.ok());
  Log& log = **opened;
  for (uint32_t i = 0; i < 3; ++i) {
    auto lsn = log.Append(2, Payload(1, i));
    ASSERT_TRUE(lsn.ok());
    ASSERT_TRUE(log.Commit(*lsn, true).ok());
  }
  fs->FailNth(Op::kAppend, 1, ENOSPC, /*partial_bytes=*/11);
  auto lsn = log.Append(2, Payload(1, 3));
  ASSERT_TRUE(lsn.ok());
  const Status s = log.Commit(*lsn, true);
  EXPECT_EQ(s.code(), StatusCode::kIoError);
  EXPECT_NE(s.message().find(std::strerror(ENOSPC)), std::string_view::npos) << s.ToString();
  EXPECT_FALSE(log.Append(2, Payload(1, 4)).ok());
  EXPECT_EQ(log.Close(), s);
  const Bytes seg = ReadAll(Segment1(dir));
  const uint64_t intact = kSegmentHeaderBytes + 3 * (kRecordHeaderBytes + 9);
  EXPECT_EQ(seg.size(), intact + 11);
  const ScanResult r = ScanSegment(seg, 1, [](auto, auto, auto) { return Status(); });
  EXPECT_EQ(r.end, ScanEnd::kTorn) << r.error;
  EXPECT_EQ(r.records, 3u);
  EXPECT_EQ(r.valid_bytes, intact);
}

// kAlways with Commit(wait = false): no sync until the batch_size-th unsynced record, which
// syncs them all (a power loss before it loses them, after it keeps them).
TEST(LogTest, SyncBatchSize) {
  constexpr size_t kBatch = 5;
  for (bool power_loss_before_batch : {true, false}) {
    SCOPED_TRACE(power_loss_before_batch ? "power loss before the batch completes"
                                         : "power loss after");
    TempDir dir;
    auto fs = std::make_shared<FaultInjectingFileSystem>(DefaultFileSystem());
    LogOptions o;
    o.batch_size = kBatch;
    auto opened = Log::Open(fs, dir.path(), 1, 0, o);
    ASSERT_TRUE(opened.ok());
    Log& log = **opened;
    const uint64_t base = fs->Count(Op::kSync);
    for (uint32_t i = 0; i + 1 < kBatch; ++i) {
      auto lsn = log.Append(3, Payload(0, i));
      ASSERT_TRUE(lsn.ok());
      ASSERT_TRUE(log.Commit(*lsn, /*wait=*/false).ok());
      EXPECT_EQ(fs->Count(Op::kSync), base) << "record " << i << " synced early";
    }
    if (!power_loss_before_batch) {
      auto lsn = log.Append(3, Payload(0, kBatch - 1));
      ASSERT_TRUE(lsn.ok());
      ASSERT_TRUE(log.Commit(*lsn, /*wait=*/false).ok());
      EXPECT_EQ(fs->Count(Op::kSync), base + 1) << "the batch_size-th record syncs them all";
      EXPECT_EQ(log.syncs(), 1u);
    }
    fs->PowerLoss();
    const ScanResult r =
        ScanSegment(ReadAll(Segment1(dir)), 1, [](auto, auto, auto) { return Status(); });
    EXPECT_EQ(r.end, ScanEnd::kClean) << r.error;
    EXPECT_EQ(r.records, power_loss_before_batch ? 0u : kBatch);
  }
}

// A waiting commit (or Sync) covers the earlier unsynced records of any thread.
TEST(LogTest, WaitingCommitCoversUnsyncedRecords) {
  TempDir dir;
  auto fs = std::make_shared<FaultInjectingFileSystem>(DefaultFileSystem());
  auto opened = Log::Open(fs, dir.path(), 1, 0, {});
  ASSERT_TRUE(opened.ok());
  Log& log = **opened;
  for (uint32_t i = 0; i < 3; ++i) {
    auto lsn = log.Append(3, Payload(0, i));
    ASSERT_TRUE(lsn.ok());
    ASSERT_TRUE(log.Commit(*lsn, false).ok());
  }
  std::thread other([&] {
    auto lsn = log.Append(3, Payload(1, 0));
    ASSERT_TRUE(lsn.ok());
    EXPECT_TRUE(log.Commit(*lsn, true).ok());
  });
  other.join();
  auto lsn = log.Append(3, Payload(0, 3));
  ASSERT_TRUE(lsn.ok());
  ASSERT_TRUE(log.Commit(*lsn, false).ok());
  ASSERT_TRUE(log.Sync().ok());
  fs->PowerLoss();
  const ScanResult r =
      ScanSegment(ReadAll(Segment1(dir)), 1, [](auto, auto, auto) { return Status(); });
  EXPECT_EQ(r.end, ScanEnd::kClean);
  EXPECT_EQ(r.records, 5u);
}

// kInterval: a record committed without waiting is synced by the background thread within
// about one interval. kNever: handed to the file within an interval, never synced by it.
TEST(LogTest, IntervalPolicies) {
  for (auto policy : {LogOptions::Policy::kInterval, LogOptions::Policy::kNever}) {
    const bool interval = policy == LogOptions::Policy::kInterval;
    SCOPED_TRACE(interval ? "kInterval" : "kNever");
    TempDir dir;
    auto fs = std::make_shared<FaultInjectingFileSystem>(DefaultFileSystem());
    LogOptions o;
    o.policy = policy;
    o.interval_ms = 10;
    auto opened = Log::Open(fs, dir.path(), 1, 0, o);
    ASSERT_TRUE(opened.ok());
    Log& log = **opened;
    auto lsn = log.Append(3, Payload(0, 0));
    ASSERT_TRUE(lsn.ok());
    ASSERT_TRUE(log.Commit(*lsn, false).ok());
    const uint64_t expected_size = kSegmentHeaderBytes + kRecordHeaderBytes + 9;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline &&
           (interval ? log.syncs() == 0 : ReadAll(Segment1(dir)).size() < expected_size)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    EXPECT_EQ(ReadAll(Segment1(dir)).size(), expected_size)
        << "the background thread did not write the buffer within 10 s";
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_EQ(log.syncs(), interval ? 1u : 0u);
    EXPECT_EQ(fs->Count(Op::kSync), interval ? 2u : 1u);
    fs->PowerLoss();
    const ScanResult r =
        ScanSegment(ReadAll(Segment1(dir)), 1, [](auto, auto, auto) { return Status(); });
    EXPECT_EQ(r.records, interval ? 1u : 0u);
  }
}

// Roll: the old segment is synced and complete, the new one starts with a synced header, and
// records go on into it.
TEST(LogTest, RollStartsTheNextSegment) {
  TempDir dir;
  auto fs = std::make_shared<FaultInjectingFileSystem>(DefaultFileSystem());
  LogOptions o;
  o.policy = LogOptions::Policy::kNever;
  auto opened = Log::Open(fs, dir.path(), 1, 0, o);
  ASSERT_TRUE(opened.ok());
  Log& log = **opened;
  for (uint32_t i = 0; i < 4; ++i) ASSERT_TRUE(log.Append(3, Payload(0, i)).ok());
  auto seq = log.Roll();
  ASSERT_TRUE(seq.ok()) << seq.status().ToString();
  EXPECT_EQ(*seq, 2u);
  EXPECT_EQ(log.segment(), 2u);
  EXPECT_EQ(log.bytes_since_roll(), kSegmentHeaderBytes);
  auto lsn = log.Append(3, Payload(0, 4));
  ASSERT_TRUE(lsn.ok());
  EXPECT_EQ(log.bytes_since_roll(), kSegmentHeaderBytes + kRecordHeaderBytes + 9);
  fs->PowerLoss();  // the unsynced record in segment 2 is lost; segment 1 is whole
  auto count = [&](uint64_t s) {
    return ScanSegment(ReadAll(dir.path() + "/" + SegmentFileName(s)), s,
                       [](auto, auto, auto) { return Status(); });
  };
  EXPECT_EQ(count(1).records, 4u);
  EXPECT_EQ(count(1).end, ScanEnd::kClean);
  EXPECT_EQ(count(2).records, 0u);
  EXPECT_EQ(count(2).end, ScanEnd::kClean);
}

}  // namespace
}  // namespace locus::storage
