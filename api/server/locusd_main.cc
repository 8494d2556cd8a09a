// locusd: the Redis-protocol server (issue 16, in progress: the connection commands so far;
// docs/PROTOCOL.md). Flags: --port N (default 9851; 0 picks a free one), --bind ADDRESS
// (repeatable; default 127.0.0.1 and ::1), --io-threads N, --requirepass PASSWORD,
// --protected-mode yes|no, --maxclients N, --timeout SECONDS (idle clients; 0: never).
// Prints the port it listens on, then serves until SIGINT or SIGTERM.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "api/server/server.h"

namespace {

[[noreturn]] void Usage(const char* error) {
  std::fprintf(stderr,
               "locusd: %s\n"
               "usage: locusd [--port N] [--bind ADDRESS]... [--io-threads N]\n"
               "              [--requirepass PASSWORD] [--protected-mode yes|no]\n"
               "              [--maxclients N] [--timeout SECONDS]\n",
               error);
  std::exit(2);
}

int ParseInt(std::string_view flag, const char* value, long lo, long hi) {
  char* end = nullptr;
  const long v = std::strtol(value, &end, 10);
  if (*value == '\0' || *end != '\0' || v < lo || v > hi) {
    const std::string msg = std::string(flag) + ": not an integer in [" + std::to_string(lo) +
                            ", " + std::to_string(hi) + "]: '" + value + "'";
    Usage(msg.c_str());
  }
  return static_cast<int>(v);
}

}  // namespace

int main(int argc, char** argv) {
  locus::server::ServerOptions options;
  bool bind_given = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (flag == "--help" || flag == "-h") Usage("the Redis-protocol server of locus");
    if (i + 1 >= argc) Usage((std::string(flag) + ": needs a value, or is unknown").c_str());
    const char* value = argv[++i];
    if (flag == "--port") {
      options.port = static_cast<uint16_t>(ParseInt(flag, value, 0, 65535));
    } else if (flag == "--bind") {
      if (!bind_given) options.bind.clear();
      bind_given = true;
      options.bind.emplace_back(value);
    } else if (flag == "--io-threads") {
      options.io_threads = ParseInt(flag, value, 1, 1024);
    } else if (flag == "--maxclients") {
      options.max_clients = static_cast<size_t>(ParseInt(flag, value, 1, 1000000));
    } else if (flag == "--timeout") {
      options.idle_timeout_s = ParseInt(flag, value, 0, 100000000);
    } else if (flag == "--requirepass") {
      options.requirepass = value;
    } else if (flag == "--protected-mode") {
      const std::string_view v = value;
      if (v != "yes" && v != "no") {
        Usage(("--protected-mode: not yes or no: '" + std::string(v) + "'").c_str());
      }
      options.protected_mode = v == "yes";
    } else {
      Usage((std::string("unknown flag '") + std::string(flag) + "'").c_str());
    }
  }
  // SIGINT/SIGTERM are taken by sigwait below, in this thread: blocked before the server's
  // threads start, so they inherit the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  auto server = locus::server::Server::Start(options);
  if (!server.ok()) {
    std::fprintf(stderr, "locusd: %s\n", server.status().ToString().c_str());
    return 1;
  }
  std::printf("locusd: listening on port %u\n", static_cast<unsigned>((*server)->port()));
  std::fflush(stdout);
  int signal = 0;
  sigwait(&signals, &signal);
  (*server)->Stop();
  return 0;
}
