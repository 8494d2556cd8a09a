// Tests RespParser (api/server/resp_parser.h): multibulk and inline commands, pipelining,
// empty commands, Redis's integer and inline-splitting rules, every protocol error with
// redis-server 7.0's message, limits enforced from the header line alone, the unauthenticated
// limits; and, as the oracle for incremental parsing, seeded random command streams (binary
// arguments, inline commands with quotes and escapes, empty commands) encoded, then fed whole,
// one byte at a time and in random pieces: every feeding gives the commands encoded.
#include "api/server/resp_parser.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "tests/testing/harness.h"
#include "tests/testing/resp_client.h"  // RespCommand

namespace locus::server {
namespace {

using ::locus::testing::RespCommand;
using ::locus::testing::SeedTrace;
using ::locus::testing::TestSeed;

// What a connection sees: each complete command's arguments, and an error (which ends the
// stream), in order.
struct Event {
  std::vector<std::string> args;
  std::string error;
  bool operator==(const Event&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Event& e) {
  if (!e.error.empty()) return os << "error(" << e.error << ")";
  os << "[";
  for (const std::string& a : e.args) os << '"' << a << "\" ";
  return os << "]";
}

// Feeds `bytes` to a parser in pieces of the given sizes (the rest in one piece), keeping the
// unconsumed bytes in one buffer as a connection does. `left` receives the bytes never
// consumed.
std::vector<Event> Feed(std::string_view bytes, const std::vector<size_t>& pieces,
                        const RespLimits& limits = {}, bool auth_required = false,
                        std::string* left = nullptr) {
  RespParser parser(limits);
  std::vector<Event> events;
  std::string buf;
  size_t at = 0, piece = 0;
  do {
    const size_t rest = bytes.size() - at;
    const size_t n = piece < pieces.size() ? std::min(pieces[piece], rest) : rest;
    ++piece;
    buf.append(bytes.substr(at, n));
    at += n;
    for (;;) {
      const RespParser::Step step = parser.Next(buf, auth_required);
      if (step.status == RespParser::Status::kError) {
        events.push_back({{}, parser.error()});
        if (left != nullptr) *left = buf;
        return events;
      }
      if (step.status == RespParser::Status::kCommand) {  // (views into buf: copy first)
        Event e;
        for (std::string_view a : parser.args()) e.args.emplace_back(a);
        events.push_back(std::move(e));
      }
      buf.erase(0, step.consumed);
      if (step.status == RespParser::Status::kNeedMore) break;
    }
  } while (at < bytes.size());
  if (left != nullptr) *left = buf;
  return events;
}

std::vector<Event> Whole(std::string_view bytes, const RespLimits& limits = {},
                         bool auth_required = false) {
  return Feed(bytes, {}, limits, auth_required);
}

Event Cmd(std::vector<std::string> args) { return {std::move(args), ""}; }
Event Err(std::string message) { return {{}, std::move(message)}; }

TEST(RespParserTest, MultibulkCommandsPipelined) {
  const std::string bin("a\0b\r\nc", 6);
  const std::string bytes = RespCommand({"PING"}) + RespCommand({"SET", "k", bin}) +
                            RespCommand({"GEOADD", "fleet", "13.4", "52.5", "v1"});
  EXPECT_EQ(Whole(bytes), (std::vector<Event>{Cmd({"PING"}), Cmd({"SET", "k", bin}),
                                              Cmd({"GEOADD", "fleet", "13.4", "52.5", "v1"})}));
  // The arguments are views into the caller's bytes: no copy.
  RespParser parser;
  const std::string one = RespCommand({"ECHO", "hello"});
  const RespParser::Step step = parser.Next(one);
  ASSERT_EQ(step.status, RespParser::Status::kCommand);
  EXPECT_EQ(step.consumed, one.size());
  ASSERT_EQ(parser.args().size(), 2u);
  EXPECT_EQ(parser.args()[1].data(), one.data() + one.find("hello"));
}

TEST(RespParserTest, InlineCommandsSplitLikeRedis) {
  EXPECT_EQ(Whole("PING\r\n"), std::vector<Event>{Cmd({"PING"})});
  EXPECT_EQ(Whole("PING\n"), std::vector<Event>{Cmd({"PING"})});  // '\n' alone ends a line
  EXPECT_EQ(Whole("  set   key\tvalue  \r\n"), std::vector<Event>{Cmd({"set", "key", "value"})});
  EXPECT_EQ(Whole("set \"a b\" 'c d'\r\n"), std::vector<Event>{Cmd({"set", "a b", "c d"})});
  EXPECT_EQ(Whole(R"(echo "\x41\x4a\n\r\t\b\a\"\\\q" 'it\'s' "\x4")"
                  "\r\n"),
            std::vector<Event>{Cmd({"echo", "AJ\n\r\t\b\a\"\\q", "it's", "x4"})});
  EXPECT_EQ(Whole("echo \"\"\r\n"), std::vector<Event>{Cmd({"echo", ""})});
  // A quote opens mid-word; what follows its closing quote must be a blank or the end.
  EXPECT_EQ(Whole("a\"b c\"\r\n"), std::vector<Event>{Cmd({"ab c"})});
  EXPECT_EQ(Whole("a\"b c\"d\r\n"),
            std::vector<Event>{Err("Protocol error: unbalanced quotes in request")});
  EXPECT_EQ(Whole("echo \"a\"b\r\n"),
            std::vector<Event>{Err("Protocol error: unbalanced quotes in request")});
  EXPECT_EQ(Whole("echo 'a\r\n"),
            std::vector<Event>{Err("Protocol error: unbalanced quotes in request")});
  // A NUL ends the line as redis-server reads it (a C string).
  EXPECT_EQ(Whole(std::string("echo a\0b c\r\n", 12)), std::vector<Event>{Cmd({"echo", "a"})});
  // Mixed with multibulk on one connection.
  EXPECT_EQ(Whole("PING\r\n" + RespCommand({"PING"}) + "ECHO x\r\n"),
            (std::vector<Event>{Cmd({"PING"}), Cmd({"PING"}), Cmd({"ECHO", "x"})}));
}

TEST(RespParserTest, EmptyCommandsAreSkippedSilently) {
  EXPECT_EQ(Whole("*0\r\n*-1\r\n\r\n   \r\n" + RespCommand({"PING"})),
            std::vector<Event>{Cmd({"PING"})});
  // Skipped bytes are reported consumed even when the next command is still partial.
  RespParser parser;
  const std::string bytes = "*0\r\n\r\n*1\r\n$4\r\nPI";
  const RespParser::Step step = parser.Next(bytes);
  EXPECT_EQ(step.status, RespParser::Status::kNeedMore);
  EXPECT_EQ(step.consumed, 6u);
  const std::string rest = bytes.substr(6) + "NG\r\n";  // the args are views into it
  const RespParser::Step done = parser.Next(rest);
  ASSERT_EQ(done.status, RespParser::Status::kCommand);
  EXPECT_EQ(done.consumed, 14u);
  EXPECT_EQ(parser.args()[0], "PING");
}

TEST(RespParserTest, RedisQuirksAreKept) {
  // The two bytes after a bulk's data, and the byte after a header's '\r', are skipped
  // unchecked (redis-server 7.0 does the same).
  EXPECT_EQ(Whole("*1\r\n$3\r\nabcXY*1\rX$1\r\nz\r\n"),
            (std::vector<Event>{Cmd({"abc"}), Cmd({"z"})}));
}

TEST(RespParserTest, ProtocolErrorsCarryRedisMessages) {
  const std::string invalid_mbulk = "Protocol error: invalid multibulk length";
  const std::string invalid_bulk = "Protocol error: invalid bulk length";
  EXPECT_EQ(Whole("*abc\r\n"), std::vector<Event>{Err(invalid_mbulk)});
  EXPECT_EQ(Whole("*01\r\n"), std::vector<Event>{Err(invalid_mbulk)});
  EXPECT_EQ(Whole("*+1\r\n"), std::vector<Event>{Err(invalid_mbulk)});
  EXPECT_EQ(Whole("*\r\n"), std::vector<Event>{Err(invalid_mbulk)});
  EXPECT_EQ(Whole("*2147483648\r\n"), std::vector<Event>{Err(invalid_mbulk)});
  EXPECT_EQ(Whole("*1\r\n+PING\r\n"),
            std::vector<Event>{Err("Protocol error: expected '$', got '+'")});
  EXPECT_EQ(Whole("*1\r\n\r\n"), std::vector<Event>{Err("Protocol error: expected '$', got ' '")});
  EXPECT_EQ(Whole("*1\r\n$-1\r\n"), std::vector<Event>{Err(invalid_bulk)});
  EXPECT_EQ(Whole("*1\r\n$x\r\n"), std::vector<Event>{Err(invalid_bulk)});
  // Commands before the error are delivered; nothing after it is.
  EXPECT_EQ(Whole(RespCommand({"PING"}) + "*1\r\n$-5\r\n" + RespCommand({"PING"})),
            (std::vector<Event>{Cmd({"PING"}), Err(invalid_bulk)}));
}

TEST(RespParserTest, LimitsApplyFromTheHeaderLineAlone) {
  // 4 GB and 513 MB claims fail before a byte of data arrives (the default bulk limit is
  // 512 MiB, redis-server's proto-max-bulk-len).
  EXPECT_EQ(Whole("*1\r\n$4294967296\r\n"),
            std::vector<Event>{Err("Protocol error: invalid bulk length")});
  EXPECT_EQ(Whole("*1\r\n$537919488\r\n"),
            std::vector<Event>{Err("Protocol error: invalid bulk length")});
  // Within the limit, the parser waits and says how many bytes the command needs.
  RespParser parser;
  const RespParser::Step step = parser.Next("*1\r\n$1000\r\n");
  EXPECT_EQ(step.status, RespParser::Status::kNeedMore);
  EXPECT_EQ(parser.needed(), 11u + 1000 + 2);
  // Configured limits.
  RespLimits small;
  small.max_args = 5;
  small.max_bulk_bytes = 10;
  small.max_line_bytes = 100;
  EXPECT_EQ(Whole(RespCommand({"a", "b", "c", "d", "e"}), small).size(), 1u);
  EXPECT_EQ(Whole("*6\r\n", small),
            std::vector<Event>{Err("Protocol error: invalid multibulk length")});
  EXPECT_EQ(Whole(RespCommand({"0123456789"}), small)[0].args.size(), 1u);
  EXPECT_EQ(Whole("*1\r\n$11\r\n", small),
            std::vector<Event>{Err("Protocol error: invalid bulk length")});
  // Lines without their end: an error once more than the line limit is buffered.
  EXPECT_TRUE(Whole(std::string(100, 'a'), small).empty());  // waits
  EXPECT_EQ(Whole(std::string(101, 'a'), small),
            std::vector<Event>{Err("Protocol error: too big inline request")});
  EXPECT_EQ(Whole(std::string("*").append(100, '1'), small),
            std::vector<Event>{Err("Protocol error: too big mbulk count string")});
  EXPECT_EQ(Whole(std::string("*1\r\n$").append(100, '1'), small),
            std::vector<Event>{Err("Protocol error: too big bulk count string")});
  // The same when the line's end arrives with it: how the bytes are split never matters.
  EXPECT_EQ(Whole(std::string(101, 'a') + "\r\n", small),
            std::vector<Event>{Err("Protocol error: too big inline request")});
  EXPECT_EQ(Whole(std::string(99, 'a') + "\r\n", small)[0].args.size(), 1u);  // '\r' counts
  EXPECT_EQ(Whole(std::string("*").append(100, '1').append("\r\n"), small),
            std::vector<Event>{Err("Protocol error: too big mbulk count string")});
  EXPECT_EQ(Whole(std::string("*1\r\n$").append(100, '1').append("\r\n"), small),
            std::vector<Event>{Err("Protocol error: too big bulk count string")});
  // A NUL inside a header line makes it invalid.
  EXPECT_EQ(Whole(std::string("*1\0\r\n", 5)),
            std::vector<Event>{Err("Protocol error: invalid multibulk length")});
  // The default line limit is redis-server's 64 KiB.
  EXPECT_TRUE(Whole(std::string(65536, 'a')).empty());
  EXPECT_EQ(Whole(std::string(65537, 'a')),
            std::vector<Event>{Err("Protocol error: too big inline request")});
}

TEST(RespParserTest, UnauthenticatedClientsGetRedisStricterLimits) {
  std::vector<std::string> ten(10, "x"), eleven(11, "x");
  EXPECT_EQ(Whole(RespCommand(ten), {}, true).size(), 1u);
  EXPECT_EQ(Whole(RespCommand(eleven), {}, true),
            std::vector<Event>{Err("Protocol error: unauthenticated multibulk length")});
  EXPECT_EQ(Whole(RespCommand({std::string(16384, 'p')}), {}, true).size(), 1u);
  EXPECT_EQ(Whole("*1\r\n$16385\r\n", {}, true),
            std::vector<Event>{Err("Protocol error: unauthenticated bulk length")});
  EXPECT_EQ(Whole(RespCommand(eleven), {}, false).size(), 1u);  // once authenticated
}

TEST(RespParserTest, RedisIntegerRules) {
  int64_t v = 1;
  EXPECT_TRUE(ParseRedisInt("0", &v) && v == 0);
  EXPECT_TRUE(ParseRedisInt("-12", &v) && v == -12);
  EXPECT_TRUE(ParseRedisInt("9223372036854775807", &v) && v == INT64_MAX);
  EXPECT_TRUE(ParseRedisInt("-9223372036854775808", &v) && v == INT64_MIN);
  for (const char* bad :
       {"", "-", "-0", "00", "01", "+1", " 1", "1 ", "1a", "9223372036854775808",
        "-9223372036854775809", "18446744073709551616", "123456789012345678901"}) {
    EXPECT_FALSE(ParseRedisInt(bad, &v)) << bad;
  }
}

// A seeded random stream of commands: multibulk with binary arguments (CR, LF, NUL, '*',
// '$' inside), inline commands of plain words, quoted words and escapes, and empty commands;
// with the commands it encodes.
std::string RandomStream(std::mt19937_64& rng, std::vector<Event>* want) {
  std::string bytes;
  const std::string alphabet("ab*$ \"'\\\r\n\t\0xZ09", 16);
  auto pick = [&](size_t n) { return static_cast<size_t>(rng() % n); };
  for (int c = 0; c < 300; ++c) {
    switch (pick(5)) {
      case 0:
      case 1: {
        std::vector<std::string> args(1 + pick(6));
        for (std::string& a : args) {
          const size_t len = pick(10) == 0 ? 200 + pick(3000) : pick(12);
          for (size_t i = 0; i < len; ++i) a.push_back(alphabet[pick(alphabet.size())]);
        }
        bytes += RespCommand(args);
        want->push_back(Cmd(args));
        break;
      }
      case 2: {  // inline: words and quoted words, with their encodings
        std::vector<std::string> args;
        std::string line = pick(2) ? " " : "";
        for (size_t w = 1 + pick(5); w > 0; --w) {
          std::string word, enc;
          switch (pick(3)) {
            case 0:
              // ('*' never first: a line starting with it is multibulk)
              for (size_t i = 1 + pick(8); i > 0; --i) word.push_back("abcXYZ019*$"[pick(11)]);
              if (word[0] == '*') word[0] = 'a';
              enc = word;
              break;
            case 1:
              enc.assign(1, '"');
              for (size_t i = pick(8); i > 0; --i) {
                const char ch = "a \r\n\"\\\x01'"[pick(8)];
                word.push_back(ch);
                if (ch == '\r')
                  enc += "\\r";
                else if (ch == '\n')
                  enc += "\\n";
                else if (ch == '"')
                  enc += "\\\"";
                else if (ch == '\\')
                  enc += "\\\\";
                else if (ch == '\x01')
                  enc += "\\x01";
                else
                  enc.push_back(ch);
              }
              enc += "\"";
              break;
            default:
              enc.assign(1, '\'');
              for (size_t i = pick(8); i > 0; --i) {
                const char ch = "ab \"'"[pick(5)];
                word.push_back(ch);
                enc += ch == '\'' ? std::string("\\'") : std::string(1, ch);
              }
              enc += "'";
              break;
          }
          args.push_back(word);
          line += enc + (pick(3) ? " " : "\t ");
        }
        bytes += line + (pick(2) ? "\r\n" : "\n");
        want->push_back(Cmd(args));
        break;
      }
      case 3:
        bytes += std::vector<std::string>{"*0\r\n", "*-1\r\n", "\r\n", "  \n"}[pick(4)];
        break;
      default:
        bytes += RespCommand({"PING"});
        want->push_back(Cmd({"PING"}));
        break;
    }
  }
  return bytes;
}

TEST(RespParserTest, AnySplitParsesAsTheWhole) {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE(SeedTrace(seed));
  std::mt19937_64 rng(seed);
  for (int round = 0; round < 8; ++round) {
    std::vector<Event> want;
    const std::string bytes = RandomStream(rng, &want);
    std::string left;
    EXPECT_EQ(Feed(bytes, {}, {}, false, &left), want);
    EXPECT_TRUE(left.empty());
    const std::vector<size_t> ones(bytes.size(), 1);
    EXPECT_EQ(Feed(bytes, ones), want) << "one byte at a time";
    std::vector<size_t> pieces;
    for (size_t n = 0; n < bytes.size();) {
      pieces.push_back(1 + rng() % 700);
      n += pieces.back();
    }
    EXPECT_EQ(Feed(bytes, pieces), want) << "random pieces";
  }
}

// Every prefix of a valid stream followed by a protocol error: the commands before it, then
// the error, however the bytes arrive.
TEST(RespParserTest, ErrorsAreFoundAtTheSamePointInAnySplit) {
  const std::string bytes = RespCommand({"PING"}) + "ECHO 'x'\r\n" + "*2\r\n$1\r\na\r\n:5\r\n";
  const std::vector<Event> want = {Cmd({"PING"}), Cmd({"ECHO", "x"}),
                                   Err("Protocol error: expected '$', got ':'")};
  EXPECT_EQ(Whole(bytes), want);
  for (size_t first = 1; first < bytes.size(); ++first) {
    EXPECT_EQ(Feed(bytes, {first}), want) << "split at " << first;
  }
  EXPECT_EQ(Feed(bytes, std::vector<size_t>(bytes.size(), 1)), want);
}

}  // namespace
}  // namespace locus::server
