// RespParser: the request side of the Redis protocol (RESP), as redis-server 7 reads it:
// multibulk arrays of bulk strings ("*2\r\n$4\r\nPING\r\n$2\r\nhi\r\n") and inline commands
// ("PING hi\r\n", split like redis-cli's sdssplitargs: quotes, \xHH and backslash escapes).
//
// Incremental and zero-copy. The connection keeps its unconsumed bytes contiguous and passes
// them to Next() each time more arrive; the parser remembers how far it got (offsets, never
// pointers, so the buffer may move between calls) and never rescans what it has parsed, so a
// request split at any byte boundary parses exactly as the whole does. A complete command's
// arguments are views into those bytes (inline commands: into the parser's own storage),
// valid until the caller next changes the buffer or calls Next().
//
// Limits are checked before anything is allocated for them: a bulk length above
// max_bulk_bytes or an argument count above max_args is a protocol error as soon as its
// header line is read, and the argument vector grows with the arguments that actually arrive
// (at most 1024 reserved up front), so a header claiming 4 GB or a billion arguments costs
// nothing. Before authentication Redis's stricter limits apply (at most 10 arguments, bulks
// of at most 16384 bytes). The client's total unconsumed bytes (its query buffer) are the
// connection's to bound.
//
// Errors are Redis 7.0's own messages ("Protocol error: invalid bulk length", ...); after one
// the connection replies with it and closes, as redis-server does, so the parser's state
// afterwards is unspecified until Reset(). Like redis-server, the two bytes after a bulk's
// data and the byte after a header's '\r' are skipped unchecked. Deliberate differences
// (docs/PROTOCOL.md), both so that the outcome never depends on how the bytes were split:
// a line longer than max_line_bytes is refused even when it arrives in one read
// (redis-server checks only while the line's end has not arrived), and a NUL byte in a
// header line makes it invalid at once (redis-server's line search stops at the NUL and
// waits for more).
#ifndef LOCUS_API_SERVER_RESP_PARSER_H_
#define LOCUS_API_SERVER_RESP_PARSER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace locus::server {

struct RespLimits {
  // Largest bulk string (Redis's proto-max-bulk-len).
  int64_t max_bulk_bytes = int64_t{512} << 20;
  // Most arguments in one multibulk command.
  int64_t max_args = int64_t{1} << 20;
  // Longest inline command, multibulk header line or bulk length line without its end
  // (Redis's PROTO_INLINE_MAX_SIZE).
  size_t max_line_bytes = size_t{64} << 10;
};

class RespParser {
 public:
  enum class Status {
    kNeedMore,  // no complete command yet: call again with more bytes
    kCommand,   // args() holds a complete command of `consumed` bytes
    kError,     // a protocol error: error() is Redis's message; the connection closes
  };
  struct Step {
    Status status = Status::kNeedMore;
    // Bytes the caller may drop from the front of its buffer now: a command's (kCommand),
    // or empty commands skipped (kNeedMore: the partial command then starts after them).
    size_t consumed = 0;
  };

  explicit RespParser(const RespLimits& limits = {}) : limits_(limits) {}

  // Parses from `in`, the caller's unconsumed bytes: the same bytes as the previous call
  // (less what it reported consumed) plus any that have arrived since. `auth_required`: the
  // client has not authenticated yet and the server wants a password.
  Step Next(std::string_view in, bool auth_required = false);

  // The complete command's arguments (Status::kCommand), until the next call.
  const std::vector<std::string_view>& args() const { return args_; }
  // The protocol error's message (Status::kError), without RESP framing.
  const std::string& error() const { return error_; }
  // For kNeedMore: how many bytes of `in` the pending command needs at least (known once a
  // bulk length has been read), so the connection can size one read for a large argument.
  size_t needed() const { return needed_; }
  // Forgets any partial command.
  void Reset();

 private:
  enum class Kind { kNone, kInline, kMultibulk };
  Step Fail(std::string message);
  Step ParseInline(std::string_view in, size_t skipped);
  Step ParseMultibulk(std::string_view in, bool auth_required, size_t skipped);
  // Produces args_ from the recorded (offset, length) pairs.
  void MakeArgs(std::string_view in);

  RespLimits limits_;
  Kind kind_ = Kind::kNone;
  size_t pos_ = 0;         // next byte of the current command to parse (offset into `in`)
  size_t scan_ = 0;        // multibulk: where the search for a header's '\r' resumes
  int64_t args_left_ = 0;  // multibulk: arguments still to read
  int64_t bulk_len_ = -1;  // multibulk: the current argument's length, -1 before its header
  std::vector<std::pair<size_t, size_t>> spans_;  // multibulk: (offset, length) per argument
  std::string inline_storage_;                    // inline: the decoded arguments, back to back
  std::vector<std::string_view> args_;
  std::string error_;
  size_t needed_ = 0;
};

// Splits an inline command line as redis-server does (sdssplitargs): blanks separate
// arguments; "double quotes" take \n \r \t \b \a, \xHH and \<c> escapes; 'single quotes'
// take \'; a closing quote must be followed by a blank or the end. Appends each argument's
// bytes to *storage and its length to *lengths. False on unbalanced quotes. A NUL byte ends
// the line (redis-server reads it as a C string).
bool SplitInlineArgs(std::string_view line, std::string* storage, std::vector<size_t>* lengths);

// Redis's string2ll: an optional '-', no '+', no leading zeros, no blanks, at most 20
// characters, within int64. False otherwise.
bool ParseRedisInt(std::string_view s, int64_t* value);

}  // namespace locus::server

#endif  // LOCUS_API_SERVER_RESP_PARSER_H_
