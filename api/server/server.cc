// Server (server.h): one asio::io_context run by the I/O threads; an acceptor coroutine per
// listening address; a session coroutine per connection, on a strand of its own so that its
// deadline timer (idle and write timeouts) and its socket operations never run at once.
#include "api/server/server.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <span>
#include <thread>

#include "api/server/commands.h"
#include "api/server/resp_writer.h"
#include "asio.hpp"

namespace locus::server {
namespace {

using asio::awaitable;
using asio::use_awaitable;
using asio::ip::tcp;

constexpr size_t kReadChunk = 16 * 1024;  // redis-server's PROTO_IOBUF_LEN

}  // namespace

struct Server::Impl {
  ServerOptions options;
  asio::io_context io;
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors;
  std::vector<std::thread> threads;
  std::atomic<int64_t> next_client_id{1};
  std::atomic<size_t> clients{0};
  uint16_t port = 0;
  bool stopped = false;

  awaitable<void> Accept(tcp::acceptor& acceptor);
  awaitable<void> Serve(tcp::socket socket);
};

awaitable<void> Server::Impl::Accept(tcp::acceptor& acceptor) {
  for (;;) {
    asio::error_code ec;
    tcp::socket socket = co_await acceptor.async_accept(asio::redirect_error(use_awaitable, ec));
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
      continue;  // e.g. out of descriptors: keep serving the connections there are
    }
    socket.set_option(tcp::no_delay(true), ec);
    if (clients.load() >= options.max_clients) {
      // redis-server's best-effort reply, then the close.
      static constexpr char kFull[] = "-ERR max number of clients reached\r\n";
      socket.write_some(asio::buffer(kFull, sizeof(kFull) - 1), ec);
      socket.close(ec);
      continue;
    }
    clients.fetch_add(1);
    asio::co_spawn(asio::make_strand(io), Serve(std::move(socket)), asio::detached);
  }
}

awaitable<void> Server::Impl::Serve(tcp::socket socket) {
  Session session;
  session.id = next_client_id.fetch_add(1);
  session.requirepass = options.requirepass;
  session.authenticated = options.requirepass.empty();
  RespParser parser(options.limits);
  std::string in;   // unconsumed request bytes, [0, in.size())
  std::string out;  // replies not yet written
  asio::error_code ec;
  // One deadline per connection: set before a read (idle timeout) or a write (write timeout);
  // when it passes it closes the socket, which fails the pending operation. It runs on this
  // coroutine's strand, so it never races the socket's own operations.
  asio::steady_timer deadline(co_await asio::this_coro::executor);
  bool timed_out = false;
  auto arm = [&](int seconds) {
    deadline.expires_after(std::chrono::seconds(seconds));
    deadline.async_wait([&](const asio::error_code& e) {
      if (e) return;  // cancelled: the operation finished first
      timed_out = true;
      asio::error_code ignored;
      socket.close(ignored);
    });
  };
  for (;;) {
    // Read at least a chunk, or what the pending argument needs.
    const size_t old = in.size();
    const size_t want = std::max(kReadChunk, parser.needed() > old ? parser.needed() - old : 0);
    if (old + want > options.max_query_buffer + kReadChunk) break;  // a claim past the limit
    in.resize(old + want);
    if (options.idle_timeout_s > 0) arm(options.idle_timeout_s);
    const size_t n = co_await socket.async_read_some(asio::buffer(in.data() + old, want),
                                                     asio::redirect_error(use_awaitable, ec));
    deadline.cancel();
    in.resize(old + n);
    if (ec || timed_out) break;
    // Every complete command, in order; the replies go out together.
    RespWriter writer(&out, session.resp);
    size_t consumed = 0;
    bool close = false;
    for (;;) {
      const RespParser::Step step =
          parser.Next(std::string_view(in).substr(consumed), !session.authenticated);
      consumed += step.consumed;
      if (step.status == RespParser::Status::kNeedMore) break;
      if (step.status == RespParser::Status::kError) {
        writer.Error(parser.error());
        close = true;
        break;
      }
      Dispatch(session, parser.args(), writer);
      writer.set_version(session.resp);
      if (session.close_after_reply) {
        close = true;
        break;
      }
    }
    in.erase(0, consumed);
    if (!out.empty()) {
      arm(options.write_timeout_s);
      co_await asio::async_write(socket, asio::buffer(out),
                                 asio::redirect_error(use_awaitable, ec));
      deadline.cancel();
      out.clear();
      if (ec || timed_out) break;
    }
    if (close || in.size() > options.max_query_buffer) break;
  }
  deadline.cancel();
  socket.shutdown(tcp::socket::shutdown_both, ec);
  socket.close(ec);
  clients.fetch_sub(1);
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() { Stop(); }

uint16_t Server::port() const { return impl_->port; }

Result<std::unique_ptr<Server>> Server::Start(const ServerOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  uint16_t port = options.port;
  for (const std::string& address : options.bind) {
    asio::error_code ec;
    const asio::ip::address ip = asio::ip::make_address(address, ec);
    if (ec) return InvalidArgumentError("bind: not an IP address: '" + address + "'");
    if (options.protected_mode && options.requirepass.empty() && !ip.is_loopback()) {
      return InvalidArgumentError("bind: refusing to listen on " + address +
                                  " without a password (protected mode): set requirepass, "
                                  "or turn protected mode off");
    }
    auto acceptor = std::make_unique<tcp::acceptor>(impl->io);
    const tcp::endpoint endpoint(ip, port);
    acceptor->open(endpoint.protocol(), ec);
    if (ec && ip.is_v6() && ip.is_loopback()) continue;  // no IPv6 here: loopback v4 serves
    if (!ec) acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec && ip.is_v6()) acceptor->set_option(asio::ip::v6_only(true), ec);
    if (!ec) acceptor->bind(endpoint, ec);
    if (ec && ip.is_v6() && ip.is_loopback() && ec == std::errc::address_not_available) continue;
    if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return IoError("bind: cannot listen on " + address + " port " + std::to_string(port) + ": " +
                     ec.message());
    }
    port = acceptor->local_endpoint().port();  // the chosen one, then the same on the others
    impl->acceptors.push_back(std::move(acceptor));
  }
  if (impl->acceptors.empty()) return InvalidArgumentError("bind: no address to listen on");
  impl->port = port;
  for (auto& acceptor : impl->acceptors) {
    asio::co_spawn(impl->io, impl->Accept(*acceptor), asio::detached);
  }
  const int threads = options.io_threads > 0
                          ? options.io_threads
                          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  for (int i = 0; i < threads; ++i) {
    impl->threads.emplace_back([io = &impl->io] { io->run(); });
  }
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

void Server::Stop() {
  if (impl_ == nullptr || impl_->stopped) return;
  impl_->stopped = true;
  impl_->io.stop();
  for (std::thread& t : impl_->threads) t.join();
  impl_->threads.clear();
  for (auto& acceptor : impl_->acceptors) {  // no thread runs the io_context now
    asio::error_code ec;
    acceptor->close(ec);
  }
  // The sessions' coroutines, and their sockets, end with the io_context (~Impl).
}

}  // namespace locus::server
