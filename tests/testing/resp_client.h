// RespClient: a raw RESP client for protocol tests of locusd and redis-server: sends exact
// bytes and returns each reply's exact bytes (RESP2 and RESP3 types, nested aggregates), so
// two servers' replies can be compared byte for byte.
#ifndef LOCUS_TESTS_TESTING_RESP_CLIENT_H_
#define LOCUS_TESTS_TESTING_RESP_CLIENT_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "locus/status.h"

namespace locus::testing {

// `args` as one multibulk request (what client libraries send).
std::string RespCommand(const std::vector<std::string>& args);

// The length of the first complete reply in `bytes`, 0 when it is not all there.
size_t RespReplyLength(std::string_view bytes);

class RespClient {
 public:
  static Result<std::unique_ptr<RespClient>> Connect(uint16_t port);
  ~RespClient();
  RespClient(const RespClient&) = delete;
  RespClient& operator=(const RespClient&) = delete;

  Status Send(std::string_view bytes);
  // The next reply's bytes; an error when none completes within timeout_ms or the server
  // closes the connection first.
  Result<std::string> ReadReply(int timeout_ms = 5000);
  // Whether the server closes the connection (and sends nothing more) within timeout_ms.
  bool ClosedWithin(int timeout_ms);

 private:
  explicit RespClient(int fd) : fd_(fd) {}
  // Reads what is available within timeout_ms into buf_; false on timeout, close or error.
  bool Fill(int timeout_ms, bool* closed);
  int fd_;
  std::string buf_;
};

}  // namespace locus::testing

#endif  // LOCUS_TESTS_TESTING_RESP_CLIENT_H_
