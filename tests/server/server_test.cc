// Tests locusd's server (api/server/server.h) over real sockets on loopback: the connection
// commands, unknown commands, arity and protocol errors answered byte for byte as a real
// redis-server 7.0 answers them (started by the test, testing/redis_server.h), in RESP2 and
// after HELLO 3; AUTH, HELLO AUTH and the unauthenticated limits against a redis-server with
// a password; protected mode; pipelining 10,000 commands in one write; a request sent one byte per
// write; the query-buffer limit; redis-cli against it.
#include "api/server/server.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "api/server/commands.h"
#include "tests/testing/redis_server.h"
#include "tests/testing/resp_client.h"

namespace locus::server {
namespace {

using ::locus::testing::RedisServer;
using ::locus::testing::RespClient;

std::unique_ptr<Server> StartLocus(ServerOptions options = {}) {
  options.bind = {"127.0.0.1"};
  options.port = 0;
  options.io_threads = 2;
  auto server = Server::Start(options);
  EXPECT_TRUE(server.ok()) << server.status().ToString();
  return server.ok() ? std::move(*server) : nullptr;
}

std::unique_ptr<RespClient> Connect(uint16_t port) {
  auto client = RespClient::Connect(port);
  EXPECT_TRUE(client.ok()) << client.status().ToString();
  return client.ok() ? std::move(*client) : nullptr;
}

// Whether the connection answers PING with PONG (within timeout_ms).
bool Pongs(RespClient& c, int timeout_ms = 5000) {
  if (!c.Send("PING\r\n").ok()) return false;
  auto r = c.ReadReply(timeout_ms);
  return r.ok() && *r == "+PONG\r\n";
}

// HELLO's reply carries the connection's id, which differs between servers.
std::string MaskId(std::string reply) {
  const std::string key = "$2\r\nid\r\n:";
  const size_t at = reply.find(key);
  if (at != std::string::npos) {
    const size_t end = reply.find("\r\n", at + key.size());
    reply.replace(at + key.size(), end - at - key.size(), "ID");
  }
  return reply;
}

// Sends each request on one connection to both servers and compares every reply.
void ExpectSameReplies(uint16_t redis_port, uint16_t locus_port,
                       const std::vector<std::string>& requests) {
  auto redis = Connect(redis_port);
  auto locus = Connect(locus_port);
  ASSERT_TRUE(redis && locus);
  for (const std::string& request : requests) {
    SCOPED_TRACE("request: " + request);
    ASSERT_TRUE(redis->Send(request).ok());
    ASSERT_TRUE(locus->Send(request).ok());
    auto want = redis->ReadReply();
    auto got = locus->ReadReply();
    ASSERT_TRUE(want.ok()) << want.status().ToString();
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(MaskId(*got), MaskId(*want));
  }
}

// Sends `request` on a fresh connection to each server: the same replies, then both close
// the connection. Returns whether they closed (after checking the replies and closes agree).
bool SameRepliesThenClose(uint16_t redis_port, uint16_t locus_port, const std::string& request) {
  SCOPED_TRACE("request: " + request);
  std::vector<std::string> replies[2];
  bool closed[2] = {false, false};
  int i = 0;
  for (const uint16_t port : {redis_port, locus_port}) {
    auto c = Connect(port);
    if (c == nullptr || !c->Send(request).ok()) return false;
    for (auto r = c->ReadReply(500); r.ok(); r = c->ReadReply(500)) replies[i].push_back(*r);
    closed[i] = c->ClosedWithin(200);
    ++i;
  }
  EXPECT_EQ(replies[1], replies[0]);
  EXPECT_EQ(closed[1], closed[0]);
  return closed[0] && closed[1];
}

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto redis = RedisServer::Start();
    ASSERT_TRUE(redis.ok()) << redis.status().ToString();
    redis_ = std::move(*redis);
    locus_ = StartLocus();
    ASSERT_NE(locus_, nullptr);
  }
  std::unique_ptr<RedisServer> redis_;
  std::unique_ptr<Server> locus_;
};

TEST_F(ServerTest, ConnectionCommandsAnswerAsRedis) {
  const std::string long_arg(300, 'x');
  ExpectSameReplies(
      redis_->port(), locus_->port(),
      {"PING\r\n", "*1\r\n$4\r\nPING\r\n", "*2\r\n$4\r\nping\r\n$5\r\nhello\r\n", "ping a b\r\n",
       "ECHO\r\n", "echo \"a\\x00b\\r\\n\"\r\n", "*2\r\n$4\r\nECHO\r\n$0\r\n\r\n",
       "NOSUCH a 'b c'\r\n", "nosuch\r\n", "nosuch " + long_arg + " " + long_arg + "\r\n",
       "no\"such\" x\r\n", "HELLO 4\r\n", "HELLO x\r\n", "HELLO 3 SETNAME\r\n",
       "HELLO 2 SETNAME a b\r\n", "HELLO 2 SETNAME \"a b\"\r\n", "HELLO\r\n",
       // RESP3 from here on this connection.
       "HELLO 3 SETNAME c1\r\n", "PING\r\n", "ECHO x\r\n", "nosuch\r\n", "HELLO 2\r\n",
       "PING x\r\n"});
}

TEST_F(ServerTest, PipelinedCommandsAndEmptyOnesAsRedis) {
  // One write holding several commands and empty ones: the same replies in the same order.
  const std::string pipeline = "*0\r\nPING\r\n\r\n*-1\r\n*2\r\n$4\r\nECHO\r\n$1\r\nz\r\nPING q\r\n";
  for (const uint16_t port : {redis_->port(), locus_->port()}) {
    auto c = Connect(port);
    ASSERT_TRUE(c->Send(pipeline).ok());
    EXPECT_EQ(*c->ReadReply(), "+PONG\r\n");
    EXPECT_EQ(*c->ReadReply(), "$1\r\nz\r\n");
    EXPECT_EQ(*c->ReadReply(), "$1\r\nq\r\n");
  }
}

TEST_F(ServerTest, ProtocolErrorsAreAnsweredThenTheConnectionClosesAsRedis) {
  for (const std::string request : {"*1\r\n$-5\r\n", "*x\r\n", "*1\r\n+PING\r\n", "ECHO \"a\r\n",
                                    "*3000000000\r\n", "PING\r\n*1\r\n$x\r\n"}) {
    EXPECT_TRUE(SameRepliesThenClose(redis_->port(), locus_->port(), request));
  }
  // A command error is no protocol error: the connection stays open.
  EXPECT_FALSE(
      SameRepliesThenClose(redis_->port(), locus_->port(), "PING\r\n*1\r\n$4\r\nECHO\r\n"));
}

TEST_F(ServerTest, QuitRepliesThenCloses) {
  auto c = Connect(locus_->port());
  ASSERT_TRUE(c->Send("QUIT\r\nPING\r\n").ok());
  EXPECT_EQ(*c->ReadReply(), "+OK\r\n");
  EXPECT_TRUE(c->ClosedWithin(2000));
}

TEST_F(ServerTest, AuthWithoutAPasswordAsRedis) {
  ExpectSameReplies(
      redis_->port(), locus_->port(),
      {"AUTH x\r\n", "AUTH default anything\r\n", "AUTH other x\r\n", "AUTH a b c\r\n", "AUTH\r\n",
       "HELLO 2 AUTH default x\r\n", "HELLO 2 AUTH someone x\r\n", "PING\r\n"});
}

// Against redis-server and locusd both started with a password.
class ServerAuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto redis = RedisServer::Start({"--requirepass", "s3cret"});
    ASSERT_TRUE(redis.ok()) << redis.status().ToString();
    redis_ = std::move(*redis);
    ServerOptions options;
    options.requirepass = "s3cret";
    locus_ = StartLocus(options);
    ASSERT_NE(locus_, nullptr);
  }
  std::unique_ptr<RedisServer> redis_;
  std::unique_ptr<Server> locus_;
};

TEST_F(ServerAuthTest, CommandsNeedAuthAsRedis) {
  // Unknown commands and wrong argument counts are answered before the missing AUTH.
  ExpectSameReplies(
      redis_->port(), locus_->port(),
      {"PING\r\n", "nosuch x\r\n", "ECHO\r\n", "HELLO 3\r\n", "HELLO x\r\n",
       "HELLO 3 AUTH default wrong\r\n", "AUTH wrong\r\n", "AUTH other s3cret\r\n",
       "AUTH s3cre\r\n", "AUTH s3cret!\r\n", "AUTH a b c\r\n", "PING\r\n", "AUTH s3cret\r\n",
       "PING\r\n", "ECHO hi\r\n", "AUTH default s3cret\r\n", "AUTH wrong\r\n", "PING\r\n"});
  // HELLO AUTH authenticates and switches protocol in one command.
  ExpectSameReplies(redis_->port(), locus_->port(),
                    {"HELLO 3 AUTH default s3cret SETNAME c1\r\n", "PING\r\n"});
  // Before AUTH: at most 10 arguments and bulks of 16 KiB, else a protocol error that closes.
  for (const char* request : {"*11\r\n", "*2\r\n$4\r\nAUTH\r\n$16385\r\n"}) {
    EXPECT_TRUE(SameRepliesThenClose(redis_->port(), locus_->port(), request));
  }
}

TEST(ServerAloneTest, ProtectedModeRefusesOpenAddressesWithoutAPassword) {
  ServerOptions options;
  options.bind = {"0.0.0.0"};
  options.port = 0;
  auto refused = Server::Start(options);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().ToString().find("0.0.0.0"), std::string::npos);
  EXPECT_NE(refused.status().ToString().find("protected mode"), std::string::npos);
  options.requirepass = "pw";
  EXPECT_TRUE(Server::Start(options).ok());
  options.requirepass.clear();
  options.protected_mode = false;
  EXPECT_TRUE(Server::Start(options).ok());
}

TEST(ServerAloneTest, PasswordsCompareExactly) {
  EXPECT_TRUE(ConstantTimeEquals("s3cret", "s3cret"));
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  for (const char* other : {"s3cre", "s3cret!", "S3cret", ""}) {
    EXPECT_FALSE(ConstantTimeEquals("s3cret", other)) << other;
  }
  EXPECT_FALSE(ConstantTimeEquals("s3cret", std::string_view("s3cret\0", 7)));
}

TEST(ServerAloneTest, TenThousandPipelinedCommandsInOneWrite) {
  auto server = StartLocus();
  auto c = Connect(server->port());
  std::string batch;
  for (int i = 0; i < 10000; ++i) batch += i % 2 ? "*1\r\n$4\r\nPING\r\n" : "PING\r\n";
  ASSERT_TRUE(c->Send(batch).ok());
  for (int i = 0; i < 10000; ++i) {
    auto r = c->ReadReply();
    ASSERT_TRUE(r.ok()) << i << ": " << r.status().ToString();
    ASSERT_EQ(*r, "+PONG\r\n") << i;
  }
}

TEST(ServerAloneTest, ARequestSentOneBytePerWrite) {
  auto server = StartLocus();
  auto c = Connect(server->port());
  const std::string request = "*2\r\n$4\r\nECHO\r\n$11\r\nhello world\r\n";
  for (const char b : request) ASSERT_TRUE(c->Send(std::string(1, b)).ok());
  EXPECT_EQ(*c->ReadReply(), "$11\r\nhello world\r\n");
}

TEST(ServerAloneTest, AClientPastTheQueryBufferLimitIsDisconnected) {
  ServerOptions options;
  options.max_query_buffer = 4096;
  auto server = StartLocus(options);
  auto c = Connect(server->port());
  // An argument announced at 1 MB (within the bulk limit) that keeps coming.
  ASSERT_TRUE(c->Send("*2\r\n$4\r\nECHO\r\n$1000000\r\n").ok());
  ASSERT_TRUE(c->Send(std::string(8192, 'a')).ok());
  EXPECT_TRUE(c->ClosedWithin(5000));
  // Others are still served.
  EXPECT_TRUE(Pongs(*Connect(server->port())));
}

TEST(ServerAloneTest, MaxClientsRefusesOneMoreWithRedisError) {
  ServerOptions options;
  options.max_clients = 2;
  auto server = StartLocus(options);
  auto a = Connect(server->port());
  auto b = Connect(server->port());
  ASSERT_TRUE(Pongs(*a) && Pongs(*b));  // both accepted and counted
  auto third = Connect(server->port());
  EXPECT_EQ(*third->ReadReply(), "-ERR max number of clients reached\r\n");
  EXPECT_TRUE(third->ClosedWithin(2000));
  a.reset();  // a slot frees once the server sees the close
  bool served = false;
  for (int attempt = 0; attempt < 100 && !served; ++attempt) {
    served = Pongs(*Connect(server->port()), 2000);
    if (!served) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(served);
}

TEST(ServerAloneTest, IdleClientsAreDisconnectedActiveOnesStay) {
  ServerOptions options;
  options.idle_timeout_s = 1;
  auto server = StartLocus(options);
  auto idle = Connect(server->port());
  auto busy = Connect(server->port());
  const auto start = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - start < std::chrono::milliseconds(2500)) {
    ASSERT_TRUE(Pongs(*busy));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_TRUE(idle->ClosedWithin(2000));
  EXPECT_TRUE(Pongs(*busy));
}

// A client that pipelines large commands and never reads their replies: its replies are
// never piled up past one write; when that write stalls past the write timeout the client is
// disconnected, and others are served meanwhile.
TEST(ServerAloneTest, AClientThatNeverReadsIsDisconnected) {
  ServerOptions options;
  options.write_timeout_s = 1;
  auto server = StartLocus(options);
  auto stalled = Connect(server->port());
  const std::string big(1 << 20, 'x');
  const std::string request = "*2\r\n$4\r\nECHO\r\n$1048576\r\n" + big + "\r\n";
  auto sender = std::async(std::launch::async, [&] {
    for (int i = 0; i < 200; ++i) {
      if (!stalled->Send(request).ok()) return true;  // the server closed the connection
    }
    return false;
  });
  EXPECT_TRUE(Pongs(*Connect(server->port())));
  ASSERT_EQ(sender.wait_for(std::chrono::seconds(30)), std::future_status::ready);
  EXPECT_TRUE(sender.get());
}

TEST(ServerAloneTest, RedisCliTalksToIt) {
  auto server = StartLocus();
  const std::string cli = "redis-cli -p " + std::to_string(server->port());
  auto run = [](const std::string& command) {
    std::string out;
    FILE* p = ::popen((command + " 2>&1").c_str(), "r");
    if (p == nullptr) return out;
    char buf[256];
    while (std::fgets(buf, sizeof(buf), p) != nullptr) out += buf;
    ::pclose(p);
    return out;
  };
  EXPECT_EQ(run(cli + " PING"), "PONG\n");
  EXPECT_EQ(run(cli + " ECHO 'hello world'"), "hello world\n");
  EXPECT_EQ(run(cli + " -3 PING"), "PONG\n");
  // (redis-cli ends an error with a blank line, against redis-server too)
  EXPECT_EQ(run(cli + " NOSUCH x"),
            "ERR unknown command 'NOSUCH', with args beginning with: 'x' \n\n");
}

TEST(ServerAloneTest, StartNamesWhatItCannotBind) {
  ServerOptions options;
  options.bind = {"not-an-address"};
  auto bad = Server::Start(options);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().ToString().find("not-an-address"), std::string::npos);
  // A port already taken.
  auto first = StartLocus();
  ServerOptions same;
  same.bind = {"127.0.0.1"};
  same.port = first->port();
  auto taken = Server::Start(same);
  ASSERT_FALSE(taken.ok());
  EXPECT_NE(taken.status().ToString().find(std::to_string(first->port())), std::string::npos);
}

}  // namespace
}  // namespace locus::server
