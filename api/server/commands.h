// The command table of locusd: each command's name, arity (redis-server's convention:
// n > 0 exactly n arguments including the name, n < 0 at least -n), flags and handler, looked
// up case-insensitively. Dispatch() checks existence and arity with redis-server 7.0's error
// messages before a handler runs; handlers write their reply through the RespWriter. So far
// the connection commands (PING, ECHO, QUIT, HELLO, AUTH); the database's come with issue 16's
// next steps (docs/PROTOCOL.md lists what exists).
#ifndef LOCUS_API_SERVER_COMMANDS_H_
#define LOCUS_API_SERVER_COMMANDS_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "api/server/resp_writer.h"

namespace locus::server {

// What the server keeps per connection that commands read and change.
struct Session {
  int64_t id = 0;  // unique per connection, from 1
  RespVersion resp = RespVersion::kResp2;
  std::string name;                // CLIENT SETNAME / HELLO SETNAME
  bool close_after_reply = false;  // QUIT
  // The server's password (requirepass; empty: none), and whether this connection has given
  // it (true from the start when there is none).
  std::string_view requirepass;
  bool authenticated = true;
};

// Command flags.
inline constexpr uint32_t kNoAuth = 1;  // runs before AUTH (AUTH, HELLO, QUIT)

using Args = std::span<const std::string_view>;

struct CommandSpec {
  const char* name;  // lower case
  int arity;
  uint32_t flags;
  void (*handler)(Session& session, Args args, RespWriter& out);
};

// Compares in time that depends only on the lengths (passwords).
bool ConstantTimeEquals(std::string_view a, std::string_view b);

// Runs one command (args[0] is its name; args non-empty) and writes its reply. In redis-server
// 7.0's order: an unknown command, then a wrong argument count, then a connection that has
// not authenticated (-NOAUTH) are answered with their errors.
void Dispatch(Session& session, Args args, RespWriter& out);

// The table, in name order (for COMMAND, and tests).
std::span<const CommandSpec> CommandTable();

}  // namespace locus::server

#endif  // LOCUS_API_SERVER_COMMANDS_H_
