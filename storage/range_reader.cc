// The local readers of storage/range_reader.h.
#include "storage/range_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace locus::storage {

Status RangePastEndError(const std::string& reader_name, uint64_t offset, uint64_t length,
                         uint64_t size) {
  return OutOfRangeError(reader_name + ": range [" + std::to_string(offset) + ", +" +
                         std::to_string(length) + ") extends past the end (size " +
                         std::to_string(size) + ")");
}

Status RangeReader::ReadMany(std::span<const ReadRequest> requests) {
  for (const ReadRequest& r : requests) {
    Status s = ReadAt(r.offset, r.out);
    if (!s.ok()) return s;
  }
  return Status();
}

namespace {
bool PastEnd(uint64_t offset, uint64_t length, uint64_t size) {
  return offset > size || length > size - offset;
}
}  // namespace

Result<FileRangeReader> FileRangeReader::Open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT) return NotFoundError("open(" + path + "): " + std::strerror(err));
    return IoError("open(" + path + "): " + std::strerror(err));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return IoError("fstat(" + path + "): " + std::strerror(err));
  }
  return FileRangeReader(fd, static_cast<uint64_t>(st.st_size), path);
}

FileRangeReader::FileRangeReader(FileRangeReader&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), size_(other.size_), path_(std::move(other.path_)) {}

FileRangeReader& FileRangeReader::operator=(FileRangeReader&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    size_ = other.size_;
    path_ = std::move(other.path_);
  }
  return *this;
}

FileRangeReader::~FileRangeReader() {
  if (fd_ >= 0) ::close(fd_);
}

Status FileRangeReader::ReadAt(uint64_t offset, std::span<uint8_t> out) {
  if (fd_ < 0) return FailedPreconditionError("FileRangeReader: moved-from reader");
  if (PastEnd(offset, out.size(), size_)) return RangePastEndError(name(), offset, out.size(), size_);
  size_t done = 0;
  while (done < out.size()) {
    const ssize_t n = ::pread(fd_, out.data() + done, out.size() - done,
                              static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return IoError("pread(" + path_ + ", offset " + std::to_string(offset + done) +
                     "): " + std::strerror(errno));
    }
    if (n == 0) {  // the file shrank since it was opened
      return IoError("pread(" + path_ + "): unexpected end of file at offset " +
                     std::to_string(offset + done) + " (the file was truncated while open?)");
    }
    done += static_cast<size_t>(n);
  }
  return Status();
}

Status MemoryRangeReader::ReadAt(uint64_t offset, std::span<uint8_t> out) {
  if (PastEnd(offset, out.size(), bytes_.size())) {
    return RangePastEndError(name(), offset, out.size(), bytes_.size());
  }
  if (!out.empty()) std::memcpy(out.data(), bytes_.data() + offset, out.size());
  return Status();
}

}  // namespace locus::storage
