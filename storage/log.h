// The append-only log (docs/LOG_FORMAT.md): segments of framed, checksummed records, group
// commit under the sync policies, and the scan that recovery replays.
//
// The log knows records as (type, payload bytes); what a payload means is the database's
// business (api/db/durable_format.h, and the logging in api/db/write_path.cc). All file access goes through a FileSystem (file_system.h).
//
// Thread safety: a Log may be used from many threads at once. Records appended by one thread
// are in the log in the order of its calls; records of different threads in the order their
// Append calls took the log's mutex.
#ifndef LOCUS_STORAGE_LOG_H_
#define LOCUS_STORAGE_LOG_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "locus/status.h"
#include "storage/file_system.h"

namespace locus::storage {

// ---- format ----
inline constexpr size_t kSegmentHeaderBytes = 32;
inline constexpr size_t kRecordHeaderBytes = 8;  // length:u32 crc32c:u32
// The largest record (type + payload): larger lengths are damage, not records.
inline constexpr uint32_t kMaxRecordBytes = 1u << 30;

// "<prefix><number as 16 lowercase hex digits><suffix>" -> number; false for other names.
bool ParseNumberedFileName(std::string_view name, std::string_view prefix, std::string_view suffix,
                           uint64_t* number);
// "log-<seq as 16 hex digits>.log"; Parse returns false for other names.
std::string SegmentFileName(uint64_t seq);
bool ParseSegmentFileName(std::string_view name, uint64_t* seq);

// The 32-byte header of segment `seq`.
void EncodeSegmentHeader(uint64_t seq, std::vector<uint8_t>* out);
// Appends one framed record (header, type, payload) to *out.
void FrameRecord(uint8_t type, std::span<const uint8_t> payload, std::vector<uint8_t>* out);

// How a scan of one segment ended.
enum class ScanEnd {
  kClean,    // every byte is in a valid record
  kTorn,     // the last record is incomplete (the file ends inside it), or the rest is zeros
  kCorrupt,  // a complete record with a bad checksum or length, or a payload the callback
             // rejected, or a bad header
};
struct ScanResult {
  ScanEnd end = ScanEnd::kClean;
  uint64_t valid_bytes = 0;  // the offset after the last good record (header included)
  uint64_t records = 0;      // good records passed to the callback
  std::string error;         // kCorrupt / kTorn: what is wrong, with the offset
};
// Scans a segment's bytes: checks its header (seq must equal `seq`), then calls
// fn(type, payload, offset) for each good record in order until the end or the first bad
// one. A callback error stops the scan as kCorrupt at that record (its message included).
ScanResult ScanSegment(
    std::span<const uint8_t> bytes, uint64_t seq,
    const std::function<Status(uint8_t, std::span<const uint8_t>, uint64_t)>& fn);
// Counts the records that still frame correctly (length and checksum) at or after `offset`, by
// trying every byte offset and skipping over each record found: what a repair drops.
uint64_t CountRecordsAfter(std::span<const uint8_t> bytes, uint64_t offset);

// ---- writing ----
struct LogOptions {
  enum class Policy { kAlways, kInterval, kNever };
  Policy policy = Policy::kAlways;
  SyncKind sync_kind = SyncKind::kData;
  // kInterval: the period of the background sync. kNever: of the background write of the
  // buffer to the file (no sync).
  int64_t interval_ms = 1000;
  // kAlways: records appended without waiting (Commit with wait = false) are synced by the
  // Commit that brings their count to batch_size.
  size_t batch_size = 64;
  // kInterval and kNever: buffered bytes are written to the file (not synced) once they
  // reach this many.
  size_t flush_bytes = 1 << 20;
};

class Log {
 public:
  // Appends to segment `seq` in `dir`, which holds `valid_bytes` good bytes (recovery cut
  // off anything after them): 0 creates the segment (header, sync, directory sync).
  static Result<std::unique_ptr<Log>> Open(std::shared_ptr<FileSystem> fs, std::string dir,
                                           uint64_t seq, uint64_t valid_bytes,
                                           const LogOptions& options);
  ~Log();  // Close(), ignoring errors

  // Buffers one record; returns its log sequence number (LSN: the log's byte count after
  // it, across segments). Fails with the log's failure once it has one, or when closed.
  Result<uint64_t> Append(uint8_t type, std::span<const uint8_t> payload);
  // Acknowledges records up to `lsn`: wait = true returns once they are synced (sharing the
  // sync with every thread waiting meanwhile: group commit); wait = false only counts them
  // (kAlways: the batch_size-th unsynced record syncs). A failed write or sync sets the
  // log's failure, returned by every later Append, Commit and Sync: never retried.
  Status Commit(uint64_t lsn, bool wait);
  // Syncs everything appended so far.
  Status Sync();
  // Ends the current segment (writes and syncs it) and starts the next one (created,
  // synced, directory synced); returns the new segment's seq. Records appended after Roll
  // returns go to the new segment; records appended during it to either.
  Result<uint64_t> Roll();
  // Syncs and closes; later calls fail. Returns the first failure, if any.
  Status Close();

  uint64_t segment() const;           // the current segment's seq
  uint64_t lsn() const;               // the LSN after the last record appended
  uint64_t bytes_since_roll() const;  // appended to the current segment (header included)
  uint64_t records() const;           // appended since Open
  uint64_t syncs() const;             // syncs since Open
  Status failure() const;             // OK, or the first failure
  // Whether there is a failure, without taking the log's mutex.
  bool failed() const { return failed_.load(std::memory_order_acquire); }

 private:
  Log(std::shared_ptr<FileSystem> fs, std::string dir, const LogOptions& options);
  // REQUIRES: mu_ held (by `lock`), !io_busy_. Writes the buffer (and syncs when `sync`)
  // with mu_ released meanwhile.
  // `group`: the sync was started by a waiting writer (Commit); its record count and time
  // steer the next gathering.
  Status DoIo(std::unique_lock<std::mutex>& lock, bool sync, bool group = false);
  void WaitIdle(std::unique_lock<std::mutex>& lock);
  // REQUIRES: mu_ held. Tells every waiter that io_busy_, durable_, gathering_ or failure_
  // changed: cv_'s (Roll, Close, SyncLoop) and Commit's, who sleep on io_epoch_.
  void WakeWaiters();
  void SyncLoop();

  const std::shared_ptr<FileSystem> fs_;
  const std::string dir_;
  const LogOptions options_;

  mutable std::mutex mu_;
  std::condition_variable cv_;  // io_busy_ or durable_ changed
  // Commit's waiters sleep on io_epoch_ (a futex word, bumped under mu_ by WakeWaiters) and
  // wake without mu_: they read durable_lsn_ (durable_, published) and return when it
  // covers them. (A condition variable makes each of them take mu_ in turn on waking. In
  // W5's 50 writers the difference was within the run-to-run noise; since the database's
  // write groups, few threads wait here at once.)
  std::atomic<uint32_t> io_epoch_{0};
  std::atomic<uint32_t> sleepers_{0};
  std::atomic<uint64_t> durable_lsn_{0};
  std::vector<uint8_t> buffer_, io_buffer_;
  std::unique_ptr<WritableFile> file_;
  uint64_t seq_ = 0;
  uint64_t next_ = 0;          // LSN of the end of the buffer
  uint64_t written_ = 0;       // LSN written to the file
  uint64_t durable_ = 0;       // LSN synced
  uint64_t roll_lsn_ = 0;      // LSN where the current segment began (its header excluded)
  uint64_t segment_base_ = 0;  // bytes of the current segment before roll_lsn_ (its header)
  uint64_t unsynced_records_ = 0;
  // Group commit (Commit): records buffered since the last write-out, the records the last
  // sync by a waiting writer covered, how long it took, and whether a writer is gathering.
  uint64_t buffered_records_ = 0;
  uint64_t last_group_ = 1;
  std::chrono::steady_clock::duration last_sync_{};
  bool gathering_ = false;
  std::condition_variable gather_cv_;  // wakes the gathering writer (not the others)
  uint64_t records_ = 0;
  uint64_t syncs_ = 0;
  bool io_busy_ = false;
  bool closed_ = false;
  Status failure_;
  std::atomic<bool> failed_{false};

  std::mutex sync_mu_;
  std::condition_variable sync_cv_;
  bool stopping_ = false;
  std::thread syncer_;
};

}  // namespace locus::storage

#endif  // LOCUS_STORAGE_LOG_H_
