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

// The user name and password check of redis-server's single "default" user: with no
// requirepass it accepts any password (its "nopass" flag).
bool Authenticate(const Session& session, std::string_view user, std::string_view password) {
  const bool user_ok = ConstantTimeEquals(user, "default");
  const bool password_ok =
      session.requirepass.empty() || ConstantTimeEquals(password, session.requirepass);
  return user_ok && password_ok;
}

constexpr const char* kWrongPass = "-WRONGPASS invalid username-password pair or user is disabled.";

// AUTH [username] password: redis-server 7.0's authCommand.
void Auth(Session& session, Args args, RespWriter& out) {
  if (args.size() > 3) {
    out.Error("syntax error");
    return;
  }
  if (args.size() == 2 && session.requirepass.empty()) {
    out.Error(
        "AUTH <password> called without any password configured for the default user. Are you "
        "sure your configuration is correct?");
    return;
  }
  const std::string_view user = args.size() == 2 ? std::string_view("default") : args[1];
  if (Authenticate(session, user, args.back())) {
    session.authenticated = true;
    out.Status("OK");
  } else {
    out.Error(kWrongPass);
  }
}

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
    if (EqualsIgnoreCase(args[j], "AUTH") && more >= 2) {
      if (!Authenticate(session, args[j + 1], args[j + 2])) {
        out.Error(kWrongPass);
        return;
      }
      session.authenticated = true;
      j += 2;
    } else if (EqualsIgnoreCase(args[j], "SETNAME") && more >= 1) {
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
  if (!session.authenticated) {
    out.Error(
        "-NOAUTH HELLO must be called with the client already authenticated, otherwise the "
        "HELLO AUTH <user> <pass> option can be used to authenticate the client and select the "
        "RESP protocol version at the same time");
    return;
  }
  session.name = name;
  if (version != 0) session.resp = static_cast<RespVersion>(version);
  out.set_version(session.resp);  // this reply is already in the new version
  out.Map(7);
  out.Bulk("server");
  out.Bulk("redis");
  out.Bulk("version");
  out.Bulk(kRedisCompatVersion);
  out.Bulk("proto");
  out.Integer(static_cast<int>(session.resp));
  out.Bulk("id");
  out.Integer(session.id);
  out.Bulk("mode");
  out.Bulk("standalone");
  out.Bulk("role");
  out.Bulk("master");
  out.Bulk("modules");
  out.Array(0);
}

constexpr std::array<CommandSpec, 5> kCommands = {{
    {"auth", -2, kNoAuth, Auth},
    {"echo", 2, 0, Echo},
    {"hello", -1, kNoAuth, Hello},
    {"ping", -1, 0, Ping},
    {"quit", -1, kNoAuth, Quit},
}};

}  // namespace

std::span<const CommandSpec> CommandTable() { return kCommands; }

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  const size_t n = std::max(a.size(), b.size());
  unsigned diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < n; ++i) {
    const unsigned x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= x ^ y;
  }
  return diff == 0;
}

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
  if (!session.authenticated && (it->flags & kNoAuth) == 0) {
    out.Error("-NOAUTH Authentication required.");
    return;
  }
  it->handler(session, args, out);
}

}  // namespace locus::server
