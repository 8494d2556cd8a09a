// libFuzzer target for the RESP request parser (api/server/resp_parser.h). The first input
// byte picks the options (authenticated or not, default or small limits) and a piece size;
// the rest is a client's byte stream. The stream is parsed whole, one byte at a time and in
// pieces of the picked size, each kept in one buffer as a connection keeps it: all three must
// give the same commands and the same error at the same point (the parser is incremental),
// every command's arguments must lie within the buffer or be decoded inline arguments no
// longer than their line, and what a call reports consumed never exceeds what it was given.
// Each multibulk command re-encoded must parse back to itself. Every command is then run
// through the command dispatcher (api/server/commands.h) on one session, as a connection
// runs them: each reply must be exactly one complete RESP reply.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "api/server/commands.h"
#include "api/server/resp_parser.h"
#include "api/server/resp_writer.h"
#include "tests/testing/resp_client.h"  // RespCommand, RespReplyLength

namespace {

using locus::server::RespLimits;
using locus::server::RespParser;

struct Event {
  std::vector<std::string> args;
  std::string error;
  bool operator==(const Event&) const = default;
};

void Check(bool ok) {
  if (!ok) std::abort();
}

std::vector<Event> Feed(std::string_view bytes, size_t piece, const RespLimits& limits, bool auth) {
  RespParser parser(limits);
  std::vector<Event> events;
  std::string buf;
  size_t at = 0;
  do {
    const size_t n = std::min(piece, bytes.size() - at);
    buf.append(bytes.substr(at, n));
    at += n;
    for (;;) {
      const RespParser::Step step = parser.Next(buf, auth);
      Check(step.consumed <= buf.size());
      if (step.status == RespParser::Status::kError) {
        Check(!parser.error().empty());
        events.push_back({{}, parser.error()});
        return events;
      }
      if (step.status == RespParser::Status::kCommand) {
        Check(!parser.args().empty());
        Event e;
        for (std::string_view a : parser.args()) {
          const bool in_buf =
              a.data() >= buf.data() && a.data() + a.size() <= buf.data() + buf.size();
          Check(in_buf || a.size() <= limits.max_line_bytes);
          e.args.emplace_back(a);
        }
        events.push_back(std::move(e));
      }
      buf.erase(0, step.consumed);
      if (step.status == RespParser::Status::kNeedMore) break;
    }
  } while (at < bytes.size());
  return events;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t options = data[0];
  const std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  RespLimits limits;
  if (options & 1) {
    limits.max_args = 8;
    limits.max_bulk_bytes = 64;
    limits.max_line_bytes = 32;
  }
  const bool auth = (options & 2) != 0;
  const size_t piece = 2 + (options >> 2);
  const std::vector<Event> whole = Feed(bytes, bytes.size() + 1, limits, auth);
  Check(Feed(bytes, 1, limits, auth) == whole);
  Check(Feed(bytes, piece, limits, auth) == whole);
  for (const Event& e : whole) {
    if (!e.error.empty()) continue;
    if (static_cast<int64_t>(e.args.size()) > limits.max_args) continue;  // inline commands
    bool fits = true;
    for (const std::string& a : e.args)
      fits &= static_cast<int64_t>(a.size()) <= limits.max_bulk_bytes;
    if (!fits) continue;
    const std::vector<Event> again =
        Feed(locus::testing::RespCommand(e.args), 1 << 20, limits, false);
    Check(again.size() == 1 && again[0] == e);
  }
  locus::server::Session session;
  session.id = 1;
  if (auth) {  // a server with a password, and a client that has not given it yet
    session.requirepass = "pw";
    session.authenticated = false;
  }
  for (const Event& e : whole) {
    if (!e.error.empty()) break;
    std::vector<std::string_view> args(e.args.begin(), e.args.end());
    std::string reply;
    locus::server::RespWriter writer(&reply, session.resp);
    locus::server::Dispatch(session, args, writer);
    Check(!reply.empty() && locus::testing::RespReplyLength(reply) == reply.size());
    if (session.close_after_reply) break;
  }
  return 0;
}
