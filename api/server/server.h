// Server: locusd's network side. Listens on TCP (loopback by default), runs one coroutine per
// connection over standalone Asio on a pool of I/O threads, reads requests with RespParser
// (pipelined: every complete command in a read is run in order and the replies go out in one
// write), runs them through the command table (commands.h) and writes replies with
// RespWriter. Per-client limits: the query buffer (unconsumed request bytes; past it the
// client is disconnected, as redis-server does past client-query-buffer-limit), the request
// limits of RespLimits, an idle timeout and a write timeout; a protocol error is answered and
// the connection closed. At most max_clients connections at once.
//
// Thread safety: Start, port and Stop may be called from any one thread; the server's own
// threads serve the connections.
#ifndef LOCUS_API_SERVER_SERVER_H_
#define LOCUS_API_SERVER_SERVER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "api/server/resp_parser.h"
#include "locus/status.h"

namespace locus::server {

struct ServerOptions {
  // Addresses to listen on (each with `port`); the default is loopback only.
  std::vector<std::string> bind = {"127.0.0.1", "::1"};
  uint16_t port = 9851;  // 0: a free port, chosen by the system (see Server::port)
  int io_threads = 0;    // 0: one per hardware thread
  RespLimits limits;
  // Most unconsumed request bytes per client (redis-server's client-query-buffer-limit).
  size_t max_query_buffer = size_t{1} << 30;
  // The password clients give with AUTH or HELLO AUTH before any other command (empty: none).
  std::string requirepass;
  // Refuse to listen beyond loopback without a password (redis-server's protected mode).
  bool protected_mode = true;
  // Most connections at once (redis-server's maxclients); one more is answered
  // "-ERR max number of clients reached" and closed.
  size_t max_clients = 10000;
  // Seconds a client may send nothing before it is disconnected (redis-server's timeout);
  // 0: never.
  int idle_timeout_s = 0;
  // Seconds one write of replies may take; a client that stops reading is disconnected when
  // it passes, so replies it does not read never pile up (at most one batch's replies are
  // held per client).
  int write_timeout_s = 30;
};

class Server {
 public:
  // Binds every address (an address that cannot be bound is an error naming it, except that
  // "::1" is skipped where the system has no IPv6) and starts serving. In protected mode, a
  // non-loopback address without a password is an error naming it.
  static Result<std::unique_ptr<Server>> Start(const ServerOptions& options);
  ~Server();  // Stop()
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // The port listened on (the chosen one when options.port was 0).
  uint16_t port() const;
  // Stops accepting, closes every connection and joins the I/O threads. Idempotent.
  void Stop();

 private:
  struct Impl;
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace locus::server

#endif  // LOCUS_API_SERVER_SERVER_H_
