// RespParser (resp_parser.h): redis-server 7.0's processInlineBuffer and
// processMultibulkBuffer (src/networking.c), rewritten over offsets so that a command may
// arrive in any number of pieces.
#include "api/server/resp_parser.h"

#include <algorithm>
#include <cstring>
#include <limits>

namespace locus::server {
namespace {

// Redis's limits before a client has authenticated (networking.c).
constexpr int64_t kUnauthMaxArgs = 10;
constexpr int64_t kUnauthMaxBulk = 16384;
// Redis's LONG_STR_SIZE: string2ll refuses strings this long or longer.
constexpr size_t kLongStrSize = 21;
// Argument slots reserved when a multibulk header arrives, as redis-server does: more grow
// with the arguments that actually arrive.
constexpr int64_t kReserveArgs = 1024;

// C's isspace in the "C" locale.
bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}
bool IsHexDigit(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c - 'A' + 10;
}

}  // namespace

bool ParseRedisInt(std::string_view s, int64_t* value) {
  if (s.empty() || s.size() >= kLongStrSize) return false;
  if (s.size() == 1 && s[0] == '0') {
    *value = 0;
    return true;
  }
  size_t i = 0;
  const bool negative = s[0] == '-';
  if (negative && ++i == s.size()) return false;
  if (s[i] < '1' || s[i] > '9') return false;
  uint64_t v = 0;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    const uint64_t digit = static_cast<uint64_t>(s[i] - '0');
    if (v > std::numeric_limits<uint64_t>::max() / 10) return false;
    v *= 10;
    if (v > std::numeric_limits<uint64_t>::max() - digit) return false;
    v += digit;
  }
  if (negative) {
    if (v > uint64_t{1} << 63) return false;
    *value =
        v == uint64_t{1} << 63 ? std::numeric_limits<int64_t>::min() : -static_cast<int64_t>(v);
  } else {
    if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return false;
    *value = static_cast<int64_t>(v);
  }
  return true;
}

bool SplitInlineArgs(std::string_view line, std::string* storage, std::vector<size_t>* lengths) {
  // The line as the C string redis-server splits: it ends at the first NUL.
  if (const void* nul = std::memchr(line.data(), '\0', line.size())) {
    line = line.substr(0, static_cast<size_t>(static_cast<const char*>(nul) - line.data()));
  }
  const size_t n = line.size();
  auto at = [&](size_t i) { return i < n ? line[i] : '\0'; };
  size_t p = 0;
  for (;;) {
    while (p < n && IsSpace(line[p])) ++p;
    if (p >= n) return true;
    const size_t start = storage->size();
    bool in_double = false, in_single = false, done = false;
    while (!done) {
      const char c = at(p);
      if (in_double) {
        if (c == '\\' && at(p + 1) == 'x' && IsHexDigit(at(p + 2)) && IsHexDigit(at(p + 3))) {
          storage->push_back(static_cast<char>(HexValue(at(p + 2)) * 16 + HexValue(at(p + 3))));
          p += 3;
        } else if (c == '\\' && at(p + 1) != '\0') {
          ++p;
          switch (at(p)) {
            case 'n':
              storage->push_back('\n');
              break;
            case 'r':
              storage->push_back('\r');
              break;
            case 't':
              storage->push_back('\t');
              break;
            case 'b':
              storage->push_back('\b');
              break;
            case 'a':
              storage->push_back('\a');
              break;
            default:
              storage->push_back(at(p));
              break;
          }
        } else if (c == '"') {
          // A closing quote must be followed by a blank or the end.
          if (at(p + 1) != '\0' && !IsSpace(at(p + 1))) return false;
          done = true;
        } else if (c == '\0') {
          return false;  // unterminated
        } else {
          storage->push_back(c);
        }
      } else if (in_single) {
        if (c == '\\' && at(p + 1) == '\'') {
          ++p;
          storage->push_back('\'');
        } else if (c == '\'') {
          if (at(p + 1) != '\0' && !IsSpace(at(p + 1))) return false;
          done = true;
        } else if (c == '\0') {
          return false;
        } else {
          storage->push_back(c);
        }
      } else {
        switch (c) {
          case ' ':
          case '\n':
          case '\r':
          case '\t':
          case '\0':
            done = true;
            break;
          case '"':
            in_double = true;
            break;
          case '\'':
            in_single = true;
            break;
          default:
            storage->push_back(c);
            break;
        }
      }
      if (at(p) != '\0') ++p;
    }
    lengths->push_back(storage->size() - start);
  }
}

void RespParser::Reset() {
  kind_ = Kind::kNone;
  pos_ = 0;
  scan_ = 0;
  args_left_ = 0;
  bulk_len_ = -1;
  spans_.clear();
  needed_ = 0;
}

RespParser::Step RespParser::Fail(std::string message) {
  error_ = std::move(message);
  Reset();
  return {Status::kError, 0};
}

RespParser::Step RespParser::Next(std::string_view in, bool auth_required) {
  args_.clear();
  needed_ = 0;
  size_t skipped = 0;  // bytes of empty commands dropped in this call
  for (;;) {
    const std::string_view cur = in.substr(skipped);
    if (kind_ == Kind::kNone) {
      if (cur.empty()) return {Status::kNeedMore, skipped};
      kind_ = cur[0] == '*' ? Kind::kMultibulk : Kind::kInline;
    }
    const Step step = kind_ == Kind::kInline ? ParseInline(cur, skipped)
                                             : ParseMultibulk(cur, auth_required, skipped);
    // An empty command (no arguments): consumed without a reply, as redis-server does.
    if (step.status == Status::kCommand && args_.empty()) {
      skipped = step.consumed;
      continue;
    }
    return step;
  }
}

RespParser::Step RespParser::ParseInline(std::string_view in, size_t skipped) {
  // pos_: where the search for the line's end resumes (no '\n' before it).
  const void* found = std::memchr(in.data() + pos_, '\n', in.size() - pos_);
  if (found == nullptr) {
    if (in.size() > limits_.max_line_bytes) return Fail("Protocol error: too big inline request");
    pos_ = in.size();
    return {Status::kNeedMore, skipped};
  }
  const size_t newline = static_cast<size_t>(static_cast<const char*>(found) - in.data());
  // The same limit when the line's end is here (redis-server checks only while it is not,
  // so there a longer line passes when it arrives in one read): split-independent.
  if (newline > limits_.max_line_bytes) return Fail("Protocol error: too big inline request");
  const size_t end = newline > 0 && in[newline - 1] == '\r' ? newline - 1 : newline;
  inline_storage_.clear();
  std::vector<size_t> lengths;
  if (!SplitInlineArgs(in.substr(0, end), &inline_storage_, &lengths)) {
    return Fail("Protocol error: unbalanced quotes in request");
  }
  size_t offset = 0;
  for (const size_t len : lengths) {
    args_.emplace_back(inline_storage_.data() + offset, len);
    offset += len;
  }
  Reset();
  return {Status::kCommand, skipped + newline + 1};
}

RespParser::Step RespParser::ParseMultibulk(std::string_view in, bool auth_required,
                                            size_t skipped) {
  // Finds the '\r' ending the header line at pos_ into *r and checks one more byte follows
  // (the '\n', skipped unchecked as redis-server does). kTooLong once the line holds more
  // than max_line_bytes before its '\r', whether or not the '\r' has arrived, so the
  // outcome does not depend on how the bytes were split. The next call resumes the search
  // where this one stopped (scan_): a header arriving a byte at a time is scanned once.
  enum class Line { kFound, kNeedMore, kTooLong };
  auto header_line = [&](size_t* r) -> Line {
    const size_t from = std::max(pos_, scan_);
    const void* cr = std::memchr(in.data() + from, '\r', in.size() - from);
    if (cr == nullptr) {
      scan_ = in.size();
      return in.size() - pos_ > limits_.max_line_bytes ? Line::kTooLong : Line::kNeedMore;
    }
    *r = static_cast<size_t>(static_cast<const char*>(cr) - in.data());
    if (*r - pos_ > limits_.max_line_bytes) return Line::kTooLong;
    if (*r + 1 >= in.size()) {
      scan_ = *r;
      return Line::kNeedMore;
    }
    scan_ = 0;
    return Line::kFound;
  };
  if (args_left_ == 0) {  // the "*<count>" line
    size_t r = 0;
    switch (header_line(&r)) {
      case Line::kTooLong:
        return Fail("Protocol error: too big mbulk count string");
      case Line::kNeedMore:
        return {Status::kNeedMore, skipped};
      case Line::kFound:
        break;
    }
    int64_t count = 0;
    if (!ParseRedisInt(in.substr(1, r - 1), &count) ||
        count > std::numeric_limits<int32_t>::max() || count > limits_.max_args) {
      return Fail("Protocol error: invalid multibulk length");
    }
    if (count > kUnauthMaxArgs && auth_required) {
      return Fail("Protocol error: unauthenticated multibulk length");
    }
    pos_ = r + 2;
    if (count <= 0) {
      const size_t consumed = skipped + pos_;
      Reset();
      return {Status::kCommand, consumed};  // empty: Next() skips it
    }
    args_left_ = count;
    spans_.clear();
    spans_.reserve(static_cast<size_t>(std::min(count, kReserveArgs)));
  }
  while (args_left_ > 0) {
    if (bulk_len_ < 0) {  // the "$<length>" line
      size_t r = 0;
      switch (header_line(&r)) {
        case Line::kTooLong:
          return Fail("Protocol error: too big bulk count string");
        case Line::kNeedMore:
          return {Status::kNeedMore, skipped};
        case Line::kFound:
          break;
      }
      if (in[pos_] != '$') {
        // As redis-server's error replies: no line breaks inside.
        const char got = in[pos_] == '\r' || in[pos_] == '\n' ? ' ' : in[pos_];
        return Fail(std::string("Protocol error: expected '$', got '") + got + "'");
      }
      int64_t len = 0;
      if (!ParseRedisInt(in.substr(pos_ + 1, r - pos_ - 1), &len) || len < 0 ||
          len > limits_.max_bulk_bytes) {
        return Fail("Protocol error: invalid bulk length");
      }
      if (len > kUnauthMaxBulk && auth_required) {
        return Fail("Protocol error: unauthenticated bulk length");
      }
      pos_ = r + 2;
      bulk_len_ = len;
    }
    const size_t want = pos_ + static_cast<size_t>(bulk_len_) + 2;  // data and its "\r\n"
    if (in.size() < want) {
      needed_ = want;
      return {Status::kNeedMore, skipped};
    }
    spans_.emplace_back(pos_, static_cast<size_t>(bulk_len_));
    pos_ = want;
    bulk_len_ = -1;
    --args_left_;
  }
  MakeArgs(in);
  const size_t consumed = skipped + pos_;
  Reset();
  return {Status::kCommand, consumed};
}

void RespParser::MakeArgs(std::string_view in) {
  args_.reserve(spans_.size());
  for (const auto& [offset, len] : spans_) args_.push_back(in.substr(offset, len));
}

}  // namespace locus::server
