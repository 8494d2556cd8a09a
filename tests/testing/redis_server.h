// RedisServer: a real redis-server (Debian's /usr/bin/redis-server, or $LOCUS_REDIS_SERVER) on
// a free port of 127.0.0.1 for differential tests of locusd and for W6's peer. Started in the
// foreground with no persistence (`--save "" --appendonly no`) in a fresh temporary
// directory; stopped (SIGTERM, then SIGKILL) and the directory removed when destroyed; if the
// thread that started it dies first, the kernel kills it (PR_SET_PDEATHSIG).
#ifndef LOCUS_TESTS_TESTING_REDIS_SERVER_H_
#define LOCUS_TESTS_TESTING_REDIS_SERVER_H_

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "locus/status.h"

namespace locus::testing {

class RedisServer {
 public:
  // Returns the binary to run: $LOCUS_REDIS_SERVER when set, else /usr/bin/redis-server.
  static std::string BinaryPath();
  // Starts one with the given extra arguments (e.g. {"--appendonly", "yes"}), retrying on
  // another port when the chosen one was taken in between. Fails naming the binary, the
  // port and its log when it is missing, exits, or does not accept within 10 s.
  static Result<std::unique_ptr<RedisServer>> Start(const std::vector<std::string>& args = {});

  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;
  ~RedisServer();

  void Stop();  // idempotent
  uint16_t port() const { return port_; }
  const std::string& dir() const { return dir_; }

 private:
  RedisServer(std::string dir, uint16_t port, pid_t pid) : dir_(dir), port_(port), pid_(pid) {}
  std::string dir_;
  uint16_t port_;
  pid_t pid_;
};

}  // namespace locus::testing

#endif  // LOCUS_TESTS_TESTING_REDIS_SERVER_H_
