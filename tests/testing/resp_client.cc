// RespClient (resp_client.h).
#include "tests/testing/resp_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

namespace locus::testing {
namespace {

// The end of the line starting at `at` (just past its "\r\n"), or npos.
size_t LineEnd(std::string_view b, size_t at) {
  const size_t r = b.find("\r\n", at);
  return r == std::string_view::npos ? r : r + 2;
}

// One reply starting at `at`: its end, or npos when incomplete.
size_t ReplyEnd(std::string_view b, size_t at) {
  if (at >= b.size()) return std::string_view::npos;
  const size_t line_end = LineEnd(b, at);
  if (line_end == std::string_view::npos) return line_end;
  const char type = b[at];
  int64_t n = 0;
  const std::string_view num = b.substr(at + 1, line_end - 2 - at - 1);
  auto parse = [&] {
    return std::from_chars(num.data(), num.data() + num.size(), n).ec == std::errc();
  };
  switch (type) {
    case '$':
    case '=':
    case '!':
      if (!parse() || n < 0) return line_end;  // null bulk
      return b.size() >= line_end + static_cast<size_t>(n) + 2
                 ? line_end + static_cast<size_t>(n) + 2
                 : std::string_view::npos;
    case '*':
    case '~':
    case '>':
    case '%':
    case '|': {
      if (!parse() || n < 0) return line_end;  // null array
      if (type == '%' || type == '|') n *= 2;
      size_t end = line_end;
      for (int64_t i = 0; i < n; ++i) {
        end = ReplyEnd(b, end);
        if (end == std::string_view::npos) return end;
      }
      return end;
    }
    default:  // + - : _ , # ( and anything else: one line
      return line_end;
  }
}

}  // namespace

std::string RespCommand(const std::vector<std::string>& args) {
  // (append: operator+ on the literals trips GCC 12's -Wrestrict false positive)
  std::string out("*");
  out.append(std::to_string(args.size())).append("\r\n");
  for (const std::string& a : args) {
    out.append("$").append(std::to_string(a.size())).append("\r\n").append(a).append("\r\n");
  }
  return out;
}

size_t RespReplyLength(std::string_view bytes) {
  const size_t end = ReplyEnd(bytes, 0);
  return end == std::string_view::npos ? 0 : end;
}

Result<std::unique_ptr<RespClient>> RespClient::Connect(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return IoError(std::string("socket: ") + std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    const int err = errno;
    ::close(fd);
    return IoError("connect 127.0.0.1:" + std::to_string(port) + ": " + std::strerror(err));
  }
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return std::unique_ptr<RespClient>(new RespClient(fd));
}

RespClient::~RespClient() { ::close(fd_); }

Status RespClient::Send(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return IoError(std::string("send: ") + std::strerror(errno));
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return Status();
}

bool RespClient::Fill(int timeout_ms, bool* closed) {
  pollfd p{fd_, POLLIN, 0};
  const int r = ::poll(&p, 1, timeout_ms);
  if (r <= 0) return false;
  char chunk[65536];
  const ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
  if (n <= 0) {
    *closed = true;
    return false;
  }
  buf_.append(chunk, static_cast<size_t>(n));
  return true;
}

Result<std::string> RespClient::ReadReply(int timeout_ms) {
  for (;;) {
    if (const size_t len = RespReplyLength(buf_); len > 0) {
      std::string reply = buf_.substr(0, len);
      buf_.erase(0, len);
      return reply;
    }
    bool closed = false;
    if (!Fill(timeout_ms, &closed)) {
      return UnavailableError(std::string(closed ? "connection closed" : "timed out") +
                              " before a complete reply; have: '" + buf_ + "'");
    }
  }
}

bool RespClient::ClosedWithin(int timeout_ms) {
  bool closed = false;
  while (Fill(timeout_ms, &closed)) {
  }
  return closed && buf_.empty();
}

}  // namespace locus::testing
