#include "storage/log.h"

#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <utility>

#include "storage/crc32c.h"
#include "storage/futex.h"

namespace locus::storage {
namespace {

constexpr uint8_t kSegmentMagic[8] = {0x89, 'L', 'O', 'C', 'L', 'O', 'G', '\n'};
constexpr uint32_t kSegmentVersion = 1;

void PutU32(uint8_t* p, uint32_t v) { std::memcpy(p, &v, 4); }
void PutU64(uint8_t* p, uint64_t v) { std::memcpy(p, &v, 8); }
uint32_t GetU32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
uint64_t GetU64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

// The record checksum covers the length field, the type and the payload, so a damaged
// length is caught as well as damaged contents.
uint32_t RecordCrc(uint32_t length, std::span<const uint8_t> body) {
  uint8_t len[4];
  PutU32(len, length);
  return Crc32cExtend(Crc32c(len), body);
}

bool AllZero(std::span<const uint8_t> bytes) {
  for (uint8_t b : bytes) {
    if (b != 0) return false;
  }
  return true;
}

// Whether a complete, checksummed record starts at `at`; its total size in *size.
bool FramesAt(std::span<const uint8_t> bytes, uint64_t at, uint64_t* size) {
  if (bytes.size() - at < kRecordHeaderBytes + 1) return false;
  const uint32_t length = GetU32(&bytes[at]);
  if (length == 0 || length > kMaxRecordBytes) return false;
  if (bytes.size() - at - kRecordHeaderBytes < length) return false;
  if (RecordCrc(length, bytes.subspan(at + kRecordHeaderBytes, length)) != GetU32(&bytes[at + 4])) {
    return false;
  }
  *size = kRecordHeaderBytes + length;
  return true;
}

// Whether a complete, checksummed record starts anywhere in [from, end).
bool AnyRecordFrom(std::span<const uint8_t> bytes, uint64_t from) {
  uint64_t size;
  for (uint64_t at = from; at < bytes.size(); ++at) {
    if (FramesAt(bytes, at, &size)) return true;
  }
  return false;
}

}  // namespace

std::string SegmentFileName(uint64_t seq) {
  char name[32];
  std::snprintf(name, sizeof name, "log-%016" PRIx64 ".log", seq);
  return name;
}

bool ParseNumberedFileName(std::string_view name, std::string_view prefix, std::string_view suffix,
                           uint64_t* number) {
  if (name.size() != prefix.size() + 16 + suffix.size() ||
      name.substr(0, prefix.size()) != prefix || name.substr(prefix.size() + 16) != suffix) {
    return false;
  }
  uint64_t v = 0;
  for (char c : name.substr(prefix.size(), 16)) {
    int d;
    if (c >= '0' && c <= '9')
      d = c - '0';
    else if (c >= 'a' && c <= 'f')
      d = c - 'a' + 10;
    else
      return false;
    v = v << 4 | static_cast<uint64_t>(d);
  }
  *number = v;
  return true;
}

bool ParseSegmentFileName(std::string_view name, uint64_t* seq) {
  return ParseNumberedFileName(name, "log-", ".log", seq);
}

void EncodeSegmentHeader(uint64_t seq, std::vector<uint8_t>* out) {
  uint8_t h[kSegmentHeaderBytes] = {};
  std::memcpy(h, kSegmentMagic, 8);
  PutU32(h + 8, kSegmentVersion);
  PutU32(h + 12, 0);  // flags
  PutU64(h + 16, seq);
  PutU32(h + 24, 0);  // reserved
  PutU32(h + 28, Crc32c(std::span<const uint8_t>(h, 28)));
  out->insert(out->end(), h, h + kSegmentHeaderBytes);
}

void FrameRecord(uint8_t type, std::span<const uint8_t> payload, std::vector<uint8_t>* out) {
  const uint32_t length = static_cast<uint32_t>(payload.size() + 1);
  const size_t at = out->size();
  out->resize(at + kRecordHeaderBytes + length);
  uint8_t* p = out->data() + at;
  PutU32(p, length);
  p[8] = type;
  if (!payload.empty()) std::memcpy(p + 9, payload.data(), payload.size());
  PutU32(p + 4, RecordCrc(length, std::span<const uint8_t>(p + 8, length)));
}

ScanResult ScanSegment(
    std::span<const uint8_t> bytes, uint64_t seq,
    const std::function<Status(uint8_t, std::span<const uint8_t>, uint64_t)>& fn) {
  ScanResult r;
  auto at_offset = [](uint64_t o) { return "at offset " + std::to_string(o); };
  if (bytes.size() < kSegmentHeaderBytes) {
    // A segment is created with its header synced before any record is written to it: a
    // short header is a creation cut short.
    r.end = AllZero(bytes) ||
                    std::memcmp(bytes.data(), kSegmentMagic, std::min<size_t>(bytes.size(), 8)) == 0
                ? ScanEnd::kTorn
                : ScanEnd::kCorrupt;
    r.error = "segment header incomplete (" + std::to_string(bytes.size()) + " of " +
              std::to_string(kSegmentHeaderBytes) + " bytes)";
    return r;
  }
  if (std::memcmp(bytes.data(), kSegmentMagic, 8) != 0 ||
      GetU32(&bytes[28]) != Crc32c(bytes.subspan(0, 28))) {
    r.end = ScanEnd::kCorrupt;
    r.error = "bad segment header (magic or checksum) at offset 0";
    return r;
  }
  if (GetU32(&bytes[8]) != kSegmentVersion) {
    r.end = ScanEnd::kCorrupt;
    r.error = "segment version " + std::to_string(GetU32(&bytes[8])) + " is not supported";
    return r;
  }
  if (GetU64(&bytes[16]) != seq) {
    r.end = ScanEnd::kCorrupt;
    r.error = "segment header says seq " + std::to_string(GetU64(&bytes[16])) + ", its name says " +
              std::to_string(seq);
    return r;
  }
  uint64_t at = kSegmentHeaderBytes;
  r.valid_bytes = at;
  while (at < bytes.size()) {
    const uint64_t left = bytes.size() - at;
    if (left < kRecordHeaderBytes) {
      r.end = ScanEnd::kTorn;
      r.error = "incomplete record header " + at_offset(at);
      return r;
    }
    const uint32_t length = GetU32(&bytes[at]);
    if (length == 0 || length > kMaxRecordBytes) {
      const bool zeros = AllZero(bytes.subspan(at));
      r.end = zeros ? ScanEnd::kTorn : ScanEnd::kCorrupt;
      r.error =
          (zeros ? "zero-filled tail " : "bad record length " + std::to_string(length) + " ") +
          at_offset(at);
      return r;
    }
    if (left - kRecordHeaderBytes < length) {
      // A crash leaves the last record incomplete; a damaged length field makes any record
      // look so. Intact records after it tell damage apart (cutting them off as a torn tail
      // would drop them silently).
      const bool damaged = AnyRecordFrom(bytes, at + 1);
      r.end = damaged ? ScanEnd::kCorrupt : ScanEnd::kTorn;
      const std::string sizes = std::to_string(length) + " bytes, " +
                                std::to_string(left - kRecordHeaderBytes) + " present";
      r.error =
          damaged ? "bad record length (" + sizes + ", but intact records follow) " + at_offset(at)
                  : "incomplete record (" + sizes + ") " + at_offset(at);
      return r;
    }
    const auto body = bytes.subspan(at + kRecordHeaderBytes, length);
    if (RecordCrc(length, body) != GetU32(&bytes[at + 4])) {
      r.end = ScanEnd::kCorrupt;
      r.error = "record checksum mismatch " + at_offset(at);
      return r;
    }
    Status s = fn(body[0], body.subspan(1), at);
    if (!s.ok()) {
      r.end = ScanEnd::kCorrupt;
      r.error = "bad record " + at_offset(at) + ": " + std::string(s.message());
      return r;
    }
    at += kRecordHeaderBytes + length;
    r.valid_bytes = at;
    ++r.records;
  }
  return r;
}

uint64_t CountRecordsAfter(std::span<const uint8_t> bytes, uint64_t offset) {
  uint64_t count = 0;
  for (uint64_t at = offset; at < bytes.size();) {
    uint64_t size;
    if (FramesAt(bytes, at, &size)) {
      ++count;
      at += size;
    } else {
      ++at;
    }
  }
  return count;
}

// ---- Log ----

Log::Log(std::shared_ptr<FileSystem> fs, std::string dir, const LogOptions& options)
    : fs_(std::move(fs)), dir_(std::move(dir)), options_(options) {}

Result<std::unique_ptr<Log>> Log::Open(std::shared_ptr<FileSystem> fs, std::string dir,
                                       uint64_t seq, uint64_t valid_bytes,
                                       const LogOptions& options) {
  if (options.interval_ms < 1) {
    return InvalidArgumentError("log interval_ms = " + std::to_string(options.interval_ms) +
                                ": must be >= 1");
  }
  if (options.batch_size < 1) {
    return InvalidArgumentError("log batch_size = 0: must be >= 1");
  }
  std::unique_ptr<Log> log(new Log(fs, dir, options));
  const std::string path = dir + "/" + SegmentFileName(seq);
  if (valid_bytes < kSegmentHeaderBytes) {
    LOCUS_ASSIGN_OR_RETURN(log->file_, fs->OpenForAppend(path, /*truncate=*/true));
    std::vector<uint8_t> header;
    EncodeSegmentHeader(seq, &header);
    LOCUS_RETURN_IF_ERROR(log->file_->Append(header));
    LOCUS_RETURN_IF_ERROR(log->file_->Sync(options.sync_kind));
    LOCUS_RETURN_IF_ERROR(fs->SyncDir(dir));
    valid_bytes = kSegmentHeaderBytes;
  } else {
    LOCUS_ASSIGN_OR_RETURN(log->file_, fs->OpenForAppend(path, /*truncate=*/false));
  }
  log->seq_ = seq;
  log->segment_base_ = valid_bytes;
  if (options.policy != LogOptions::Policy::kAlways) {
    log->syncer_ = std::thread([l = log.get()] { l->SyncLoop(); });
  }
  return log;
}

Log::~Log() { Close().IgnoreError(); }

Result<uint64_t> Log::Append(uint8_t type, std::span<const uint8_t> payload) {
  std::unique_lock lock(mu_);
  if (!failure_.ok()) return failure_;
  if (closed_) return FailedPreconditionError("the log is closed");
  const size_t before = buffer_.size();
  FrameRecord(type, payload, &buffer_);
  next_ += buffer_.size() - before;
  ++records_;
  if (++buffered_records_ >= last_group_ && gathering_) gather_cv_.notify_one();
  const uint64_t lsn = next_;
  if (options_.policy != LogOptions::Policy::kAlways && buffer_.size() >= options_.flush_bytes &&
      !io_busy_) {
    // Hand the bytes to the OS so the buffer stays bounded; a failure is the log's failure
    // (the record was appended: the caller learns of it from Commit).
    DoIo(lock, /*sync=*/false).IgnoreError();
  }
  return lsn;
}

Status Log::DoIo(std::unique_lock<std::mutex>& lock, bool sync, bool group) {
  io_busy_ = true;
  io_buffer_.swap(buffer_);
  const uint64_t end = next_;
  const uint64_t records = unsynced_records_;
  const uint64_t group_records = buffered_records_;
  buffered_records_ = 0;
  lock.unlock();
  const auto start = std::chrono::steady_clock::now();
  Status s;
  if (!io_buffer_.empty()) s = file_->Append(io_buffer_);
  if (s.ok() && sync) s = file_->Sync(options_.sync_kind);
  const auto took = std::chrono::steady_clock::now() - start;
  io_buffer_.clear();
  lock.lock();
  io_busy_ = false;
  if (s.ok()) {
    written_ = end;
    if (sync && group) {
      last_group_ = std::max<uint64_t>(1, group_records);
      last_sync_ = took;
    }
    if (sync) {
      durable_ = end;
      durable_lsn_.store(end, std::memory_order_release);
      unsynced_records_ -= std::min(unsynced_records_, records);
      ++syncs_;
    }
  } else if (failure_.ok()) {
    failure_ = IoError("log " + file_->path() + ": " + std::string(s.message()) +
                       " (the database refuses further writes; reopen it to recover)");
    failed_ = true;
  }
  WakeWaiters();
  return s.ok() ? s : failure_;
}

void Log::WakeWaiters() {
  io_epoch_.fetch_add(1, std::memory_order_release);
  cv_.notify_all();
  if (sleepers_.load(std::memory_order_acquire) != 0) FutexWakeAll(&io_epoch_);
}

void Log::WaitIdle(std::unique_lock<std::mutex>& lock) {
  cv_.wait(lock, [&] { return !io_busy_; });
}

Status Log::Commit(uint64_t lsn, bool wait) {
  if (!wait && options_.policy != LogOptions::Policy::kAlways) {  // nothing to count
    return failed() ? failure() : Status();
  }
  std::unique_lock lock(mu_);
  if (!wait) {  // kAlways: the batch_size-th unsynced record syncs them all
    if (!failure_.ok()) return failure_;
    if (++unsynced_records_ < options_.batch_size) return Status();
  }
  // Group commit: one thread writes and syncs everything buffered; the others wait for it
  // and find their records covered (or take the next turn). Before it syncs, the thread
  // gathers: the writers the last sync released are about to append again, so it waits
  // until as many records as that sync covered are buffered, for at most the time the last
  // sync took (a lone writer, whose group is 1, never waits). Syncing at once would cover
  // only the few that appended first, and the rest would wait a whole sync more.
  for (;;) {
    if (!failure_.ok()) return failure_;
    if (durable_ >= lsn) return Status();
    if (!io_busy_ && !gathering_) {
      if (buffered_records_ < last_group_) {
        gathering_ = true;
        const auto wait =
            std::min<std::chrono::steady_clock::duration>(last_sync_, std::chrono::milliseconds(2));
        gather_cv_.wait_for(lock, wait, [&] {
          return buffered_records_ >= last_group_ || !failure_.ok() || closed_;
        });
        gathering_ = false;
        if (!failure_.ok() || durable_ >= lsn || io_busy_) {
          WakeWaiters();  // waiters that saw a gatherer take the turn themselves
          continue;
        }
      }
      DoIo(lock, /*sync=*/true, /*group=*/true).IgnoreError();
      continue;
    }
    // Sleep until the next change; the epoch is read under mu_, so a change made after
    // this check bumps it and the futex returns at once.
    const uint32_t epoch = io_epoch_.load(std::memory_order_relaxed);
    sleepers_.fetch_add(1, std::memory_order_relaxed);
    lock.unlock();
    FutexWait(&io_epoch_, epoch);
    sleepers_.fetch_sub(1, std::memory_order_relaxed);
    if (durable_lsn_.load(std::memory_order_acquire) >= lsn) return Status();
    lock.lock();
  }
}

Status Log::Sync() {
  uint64_t target;
  {
    std::lock_guard lock(mu_);
    if (closed_) return failure_;
    target = next_;
  }
  return Commit(target, /*wait=*/true);  // the group-commit loop, for everything so far
}

Result<uint64_t> Log::Roll() {
  std::unique_lock lock(mu_);
  if (closed_) return FailedPreconditionError("the log is closed");
  WaitIdle(lock);
  if (!failure_.ok()) return failure_;
  // Finish the current segment: a later segment never holds records while an earlier one
  // may lose some (recovery relies on it: only the last segment may end torn).
  LOCUS_RETURN_IF_ERROR(DoIo(lock, /*sync=*/true));
  io_busy_ = true;
  const uint64_t next_seq = seq_ + 1;
  lock.unlock();
  const std::string path = dir_ + "/" + SegmentFileName(next_seq);
  std::unique_ptr<WritableFile> file;
  Status s = [&]() -> Status {
    LOCUS_ASSIGN_OR_RETURN(file, fs_->OpenForAppend(path, /*truncate=*/true));
    std::vector<uint8_t> header;
    EncodeSegmentHeader(next_seq, &header);
    LOCUS_RETURN_IF_ERROR(file->Append(header));
    LOCUS_RETURN_IF_ERROR(file->Sync(options_.sync_kind));
    return fs_->SyncDir(dir_);
  }();
  lock.lock();
  io_busy_ = false;
  WakeWaiters();
  if (!s.ok()) {
    if (failure_.ok()) {
      failure_ = IoError("log: starting segment " + path + ": " + std::string(s.message()) +
                         " (the database refuses further writes; reopen it to recover)");
      failed_ = true;
    }
    return failure_;
  }
  // Records buffered during the roll go to the new segment.
  file_->Close().IgnoreError();
  file_ = std::move(file);
  seq_ = next_seq;
  roll_lsn_ = written_;
  segment_base_ = kSegmentHeaderBytes;
  return next_seq;
}

Status Log::Close() {
  {
    std::lock_guard lock(sync_mu_);
    stopping_ = true;
  }
  sync_cv_.notify_all();
  if (syncer_.joinable()) syncer_.join();
  std::unique_lock lock(mu_);
  if (closed_) return failure_;
  WaitIdle(lock);
  if (failure_.ok() && (next_ > durable_ || !buffer_.empty())) DoIo(lock, true).IgnoreError();
  closed_ = true;
  if (file_) {
    Status s = file_->Close();
    if (!s.ok() && failure_.ok()) {
      failure_ = s;
      failed_ = true;
    }
    file_.reset();
  }
  return failure_;
}

void Log::SyncLoop() {
  std::unique_lock sync_lock(sync_mu_);
  while (!stopping_) {
    sync_cv_.wait_for(sync_lock, std::chrono::milliseconds(options_.interval_ms));
    if (stopping_) break;
    std::unique_lock lock(mu_);
    WaitIdle(lock);
    if (options_.policy == LogOptions::Policy::kInterval) {
      if (closed_ || !failure_.ok() || next_ == durable_) continue;
      DoIo(lock, /*sync=*/true).IgnoreError();
    } else {  // kNever: hand the bytes to the OS, which writes them back when it chooses
      if (closed_ || !failure_.ok() || buffer_.empty()) continue;
      DoIo(lock, /*sync=*/false).IgnoreError();
    }
  }
}

uint64_t Log::segment() const {
  std::lock_guard lock(mu_);
  return seq_;
}
uint64_t Log::lsn() const {
  std::lock_guard lock(mu_);
  return next_;
}
uint64_t Log::bytes_since_roll() const {
  std::lock_guard lock(mu_);
  return segment_base_ + (next_ - roll_lsn_);
}
uint64_t Log::records() const {
  std::lock_guard lock(mu_);
  return records_;
}
uint64_t Log::syncs() const {
  std::lock_guard lock(mu_);
  return syncs_;
}
Status Log::failure() const {
  std::lock_guard lock(mu_);
  return failure_;
}

}  // namespace locus::storage
