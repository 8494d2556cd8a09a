// The command table (commands.h) and the connection commands.
#include "api/server/commands.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "api/server/resp_parser.h"

namespace locus::server {
namespace {

// The version locusd reports where clients expect redis-server's (HELLO's "version"): the
// Redis release whose replies it matches.
constexpr const char* kRedisCompatVersion = "7.0.15";

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

void Ping(Session&, Args args, RespWriter& out) {
  if (args.size() > 2) {
    out.Error("wrong number of arguments for 'ping' command");
  } else if (args.size() == 1) {
    out.Status("PONG");
  } else {
    out.Bulk(args[1]);
  }
}

void Echo(Session&, Args args, RespWriter& out) { out.Bulk(args[1]); }

void Quit(Session& session, Args, RespWriter& out) {
  out.Status("OK");
  session.close_after_reply = true;
}

// HELLO [protover [AUTH username password] [SETNAME clientname]]: redis-server 7.0's
// helloCommand, less authentication (which comes with requirepass).
void Hello(Session& session, Args args, RespWriter& out) {
  int64_t version = 0;
  size_t next = 1;
  if (args.size() >= 2) {
    if (!ParseRedisInt(args[next++], &version)) {
      out.Error("Protocol version is not an integer or out of range");
      return;
    }
    if (version < 2 || version > 3) {
      out.Error("-NOPROTO unsupported protocol version");
      return;
    }
  }
  std::string name = session.name;
  for (size_t j = next; j < args.size(); ++j) {
    const size_t more = args.size() - 1 - j;
    if (EqualsIgnoreCase(args[j], "SETNAME") && more >= 1) {
      for (const char c : args[j + 1]) {  // redis-server's clientSetNameOrReply
        if (c < '!' || c > '~') {
          out.Error("Client names cannot contain spaces, newlines or special characters.");
          return;
        }
      }
      name = std::string(args[++j]);
    } else {
      out.Error("Syntax error in HELLO option '" + std::string(args[j]) + "'");
      return;
    }
  }
  session.name = name;
  if (version != 0) session.resp = static_cast<RespVersion>(version);
  out.set_version(session.resp);  // this reply is already in the new version
  RespWriter& w = out;
  w.Map(7);
  w.Bulk("server");
  w.Bulk("redis");
  w.Bulk("version");
  w.Bulk(kRedisCompatVersion);
  w.Bulk("proto");
  w.Integer(static_cast<int>(session.resp));
  w.Bulk("id");
  w.Integer(session.id);
  w.Bulk("mode");
  w.Bulk("standalone");
  w.Bulk("role");
  w.Bulk("master");
  w.Bulk("modules");
  w.Array(0);
}

constexpr std::array<CommandSpec, 4> kCommands = {{
    {"echo", 2, Echo},
    {"hello", -1, Hello},
    {"ping", -1, Ping},
    {"quit", -1, Quit},
}};

}  // namespace

std::span<const CommandSpec> CommandTable() { return kCommands; }

void Dispatch(Session& session, Args args, RespWriter& out) {
  const std::string_view name = args[0];
  const auto it = std::find_if(kCommands.begin(), kCommands.end(), [&](const CommandSpec& c) {
    return EqualsIgnoreCase(c.name, name);
  });
  if (it == kCommands.end()) {
    // redis-server 7.0's message: the name and the first arguments, each cut at 128 bytes.
    std::string message = "unknown command '";
    message.append(name.substr(0, 128)).append("', with args beginning with: ");
    std::string listed;
    for (size_t i = 1; i < args.size() && listed.size() < 128; ++i) {
      const size_t room = 128 - listed.size();  // before the quote goes in, as Redis's %.*s
      listed.append("'").append(args[i].substr(0, room)).append("' ");
    }
    out.Error(message + listed);
    return;
  }
  const int arity = it->arity;
  const int64_t argc = static_cast<int64_t>(args.size());
  if ((arity > 0 && arity != argc) || argc < -arity) {
    out.Error(std::string("wrong number of arguments for '") + it->name + "' command");
    return;
  }
  it->handler(session, args, out);
}

}  // namespace locus::server
