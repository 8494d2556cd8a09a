// RangeReader: where a streamed index (storage/stream_tree.h) gets its bytes. A reader
// answers "give me bytes [offset, offset + n)" from a local file (FileRangeReader, pread), a
// buffer (MemoryRangeReader), or a remote object over HTTP range requests
// (storage/http_range_reader.h, libcurl).
//
// ReadMany hands a reader a whole batch of ranges at once (StreamTree asks for one tree
// level's nodes per batch), so a remote reader can issue them concurrently instead of paying
// one round trip per range.
//
// Contract for implementations:
//   - ReadAt fills exactly out.size() bytes or fails. A range that extends past the end of
//     the object is OutOfRange naming the offset, the length and the size; I/O failures are
//     IoError (or Unavailable for transient network errors) naming the reader and the range.
//   - ReadMany fills every request or fails (some buffers may then hold partial data).
//   - The three readers here are safe to call from many threads at once; a reader handed to
//     concurrent queries must be.
// The bytes are untrusted: StreamTree validates everything it reads, whatever a reader
// returns.
#ifndef LOCUS_STORAGE_RANGE_READER_H_
#define LOCUS_STORAGE_RANGE_READER_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "locus/status.h"

namespace locus::storage {

// One range of a batch: read out.size() bytes at `offset` into `out`.
struct ReadRequest {
  uint64_t offset = 0;
  std::span<uint8_t> out;
};

class RangeReader {
 public:
  virtual ~RangeReader() = default;

  // Reads exactly out.size() bytes starting at `offset`.
  virtual Status ReadAt(uint64_t offset, std::span<uint8_t> out) = 0;

  // Reads every request. The default issues ReadAt one after another; remote readers
  // override it to run the requests concurrently.
  virtual Status ReadMany(std::span<const ReadRequest> requests);

  // The object's size in bytes when the reader knows it (a file's length, an HTTP object's
  // length learnt from a response), else nullopt.
  virtual std::optional<uint64_t> size() const { return std::nullopt; }

  // What the reader reads, for error messages ("file /data/a.locus", "http://h/a.locus").
  virtual std::string name() const = 0;
};

// Reads a local file with pread(2); thread-safe (pread has no shared file position).
class FileRangeReader final : public RangeReader {
 public:
  // Opens `path` read-only. IoError / NotFound name the path and the failing call.
  static Result<FileRangeReader> Open(const std::string& path);

  FileRangeReader(FileRangeReader&& other) noexcept;
  FileRangeReader& operator=(FileRangeReader&& other) noexcept;
  ~FileRangeReader() override;

  Status ReadAt(uint64_t offset, std::span<uint8_t> out) override;
  std::optional<uint64_t> size() const override { return size_; }
  std::string name() const override { return "file " + path_; }

 private:
  FileRangeReader(int fd, uint64_t size, std::string path)
      : fd_(fd), size_(size), path_(std::move(path)) {}
  int fd_ = -1;
  uint64_t size_ = 0;  // at open; reads past it fail
  std::string path_;
};

// Reads a caller's buffer, which must outlive the reader; thread-safe. For tests, fuzzing
// and indexes that are already in memory but should be queried the streamed way.
class MemoryRangeReader final : public RangeReader {
 public:
  explicit MemoryRangeReader(std::span<const uint8_t> bytes) : bytes_(bytes) {}
  Status ReadAt(uint64_t offset, std::span<uint8_t> out) override;
  std::optional<uint64_t> size() const override { return bytes_.size(); }
  std::string name() const override { return "memory"; }

 private:
  std::span<const uint8_t> bytes_;
};

// The OutOfRange error every reader returns for a range past the end of its object.
Status RangePastEndError(const std::string& reader_name, uint64_t offset, uint64_t length,
                         uint64_t size);

}  // namespace locus::storage

#endif  // LOCUS_STORAGE_RANGE_READER_H_
