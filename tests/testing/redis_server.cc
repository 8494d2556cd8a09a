// RedisServer (redis_server.h).
#include "tests/testing/redis_server.h"

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <thread>

#include "tests/testing/child_process.h"
#include "tests/testing/loopback.h"

namespace locus::testing {

std::string RedisServer::BinaryPath() {
  if (const char* env = std::getenv("LOCUS_REDIS_SERVER"); env && *env) return env;
  return "/usr/bin/redis-server";
}

Result<std::unique_ptr<RedisServer>> RedisServer::Start(const std::vector<std::string>& extra) {
  const std::string binary = BinaryPath();
  if (::access(binary.c_str(), X_OK) != 0) {
    return NotFoundError("redis-server binary " + binary + ": " + std::strerror(errno));
  }
  std::string last_log;
  for (int attempt = 0; attempt < 5; ++attempt) {
    LOCUS_ASSIGN_OR_RETURN(const std::string dir, MakeTempDir("locus_redis_"));
    LOCUS_ASSIGN_OR_RETURN(const uint16_t port, FreePort());
    std::vector<std::string> args = {binary,
                                     "--port",
                                     std::to_string(port),
                                     "--bind",
                                     "127.0.0.1",
                                     "--save",
                                     "",
                                     "--appendonly",
                                     "no",
                                     "--dir",
                                     dir,
                                     "--daemonize",
                                     "no",
                                     "--logfile",
                                     ""};
    args.insert(args.end(), extra.begin(), extra.end());
    const std::string log = dir + "/redis.log";
    auto pid = SpawnChild(args, log);
    if (!pid.ok()) {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
      return pid.status();
    }
    std::unique_ptr<RedisServer> server(new RedisServer(dir, port, *pid));
    const Startup started = WaitUntilAccepting(&server->pid_, port, 10);
    if (started == Startup::kAccepting) return server;
    const bool exited = started == Startup::kExited;
    last_log = ReadFileOrEmpty(log);
    if (exited && last_log.find("Address already in use") != std::string::npos) continue;
    return UnavailableError(binary + " on 127.0.0.1:" + std::to_string(port) +
                            (exited ? " exited" : " did not accept connections within 10 s") +
                            "; log:\n" + last_log);
  }
  return UnavailableError("redis-server: no free port after 5 attempts; last log:\n" + last_log);
}

RedisServer::~RedisServer() {
  Stop();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

void RedisServer::Stop() { StopChild(&pid_, SIGTERM, 5); }

}  // namespace locus::testing
