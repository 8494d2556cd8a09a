// HttpRangeReader: a RangeReader (storage/range_reader.h) over one remote object, read with
// HTTP range requests (`Range: bytes=a-b`) through libcurl. ReadMany runs a batch's requests
// concurrently (curl's multi interface, at most HttpOptions::max_concurrency at once), so a
// streamed index pays about one round trip per tree level instead of one per node.
//
// Every response is checked before its bytes count: a 206 must carry
// `Content-Range: bytes a-b/N` for exactly the asked range and a body of exactly the asked
// length; a 200 (a server that ignores Range) is accepted only when the read covered the whole
// object (offset 0, body length == asked length). The body is written straight into the
// caller's buffer by a callback that aborts the transfer on the first byte too many, so no
// response, however hostile, writes past `out`. Error bodies never reach the caller's buffer.
//
// Errors name the URL, the range and what came back: a range past the end is OutOfRange
// (RangePastEndError, with the size from the 416's or 206's Content-Range); 404/410 is
// NotFound; other 4xx and malformed responses are IoError; connection errors, timeouts, 5xx,
// 408 and 429 are retried (HttpOptions::retries, short doubling backoff) and then reported as
// Unavailable.
//
// Thread safety: every method may be called from many threads at once. Each call borrows a
// curl "session" (a multi handle with its easy handles) from a mutex-protected pool and gives
// it back afterwards, so connections stay alive across calls (libcurl keeps its connection
// cache in the multi handle) while no curl handle is ever used by two threads at once.
// size() is an atomic load. Moving a reader while another thread uses it is not allowed.
#ifndef LOCUS_STORAGE_HTTP_RANGE_READER_H_
#define LOCUS_STORAGE_HTTP_RANGE_READER_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "locus/status.h"
#include "storage/range_reader.h"

namespace locus::storage {

struct HttpOptions {
  // Longest wait for a TCP (+ TLS) connection. Default 5 s.
  std::chrono::milliseconds connect_timeout{5000};
  // Longest a single request may take from start to last byte, connection included; a
  // request that runs over is a transient failure (retried). Default 30 s: generous for one
  // tree level of a large index on a slow link; lower it for interactive use.
  std::chrono::milliseconds request_timeout{30000};
  // Transfers ReadMany runs at once (one connection each over HTTP/1.1). Default 8; must be
  // >= 1. More hides more latency but opens more connections to the server.
  int max_concurrency = 8;
  // Extra attempts after the first for transient failures (connection errors, timeouts,
  // 5xx, 408, 429). Default 2; 0 disables retries. Must be >= 0.
  int retries = 2;
  // Wait before the first retry; doubled for each further one, capped at 2 s. Default 50 ms.
  std::chrono::milliseconds retry_backoff{50};
  // Extra request headers, each "Name: value" (e.g. "Authorization: Bearer ..."). Must not
  // contain "Range", which the reader sets itself.
  std::vector<std::string> headers;
};

class HttpRangeReader final : public RangeReader {
 public:
  // Creates a reader for `url` (http:// or https://). Does no network I/O: the first read
  // finds out whether the object exists. InvalidArgument names the url or the option that
  // is wrong; Internal if libcurl cannot be initialised.
  static Result<HttpRangeReader> Open(std::string url, const HttpOptions& options = {});

  HttpRangeReader(HttpRangeReader&& other) noexcept;
  HttpRangeReader& operator=(HttpRangeReader&& other) noexcept;
  ~HttpRangeReader() override;

  // One GET with `Range: bytes=offset-(offset+out.size()-1)`; an empty `out` sends nothing
  // (OutOfRange only when the size is already known and offset is past it).
  Status ReadAt(uint64_t offset, std::span<uint8_t> out) override;
  // Every request concurrently, at most max_concurrency at once; the first permanent
  // failure cancels the transfers still running and is returned.
  Status ReadMany(std::span<const ReadRequest> requests) override;
  // The object's size, once a response has told it (a Content-Range total, or a whole-body
  // 200); nullopt before.
  std::optional<uint64_t> size() const override;
  // The URL without its query string and fragment (as in every error message), so that
  // credentials in a signed URL do not leak into logs.
  std::string name() const override;

 private:
  struct Impl;
  explicit HttpRangeReader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace locus::storage

#endif  // LOCUS_STORAGE_HTTP_RANGE_READER_H_
