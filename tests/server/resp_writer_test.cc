// Tests RespWriter (api/server/resp_writer.h): every reply type in RESP2 and RESP3, byte for
// byte as redis-server 7.0 writes it, and its double formats.
#include "api/server/resp_writer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <string>

namespace locus::server {
namespace {

// The bytes `write` produces in RESP2 and in RESP3.
std::pair<std::string, std::string> Both(const std::function<void(RespWriter&)>& write) {
  std::string two, three;
  RespWriter w2(&two, RespVersion::kResp2), w3(&three, RespVersion::kResp3);
  write(w2);
  write(w3);
  return {two, three};
}

using Pair = std::pair<std::string, std::string>;

TEST(RespWriterTest, ScalarsInBothVersions) {
  EXPECT_EQ(Both([](RespWriter& w) { w.Status("OK"); }), Pair("+OK\r\n", "+OK\r\n"));
  EXPECT_EQ(Both([](RespWriter& w) { w.Integer(-42); }), Pair(":-42\r\n", ":-42\r\n"));
  EXPECT_EQ(Both([](RespWriter& w) { w.Integer(INT64_MIN); }),
            Pair(":-9223372036854775808\r\n", ":-9223372036854775808\r\n"));
  EXPECT_EQ(Both([](RespWriter& w) { w.Bulk(std::string("a\0\r\n", 4)); }),
            Pair(std::string("$4\r\na\0\r\n\r\n", 10), std::string("$4\r\na\0\r\n\r\n", 10)));
  EXPECT_EQ(Both([](RespWriter& w) { w.Bulk(""); }), Pair("$0\r\n\r\n", "$0\r\n\r\n"));
  EXPECT_EQ(Both([](RespWriter& w) { w.Null(); }), Pair("$-1\r\n", "_\r\n"));
  EXPECT_EQ(Both([](RespWriter& w) { w.NullArray(); }), Pair("*-1\r\n", "_\r\n"));
  EXPECT_EQ(Both([](RespWriter& w) { w.Bool(true); }), Pair(":1\r\n", "#t\r\n"));
  EXPECT_EQ(Both([](RespWriter& w) { w.Bool(false); }), Pair(":0\r\n", "#f\r\n"));
  EXPECT_EQ(Both([](RespWriter& w) { w.Verbatim("hi", "txt"); }),
            Pair("$2\r\nhi\r\n", "=6\r\ntxt:hi\r\n"));
}

TEST(RespWriterTest, ErrorsGetRedisCodeAndNoLineBreaks) {
  EXPECT_EQ(Both([](RespWriter& w) { w.Error("Protocol error: invalid bulk length"); }).first,
            "-ERR Protocol error: invalid bulk length\r\n");
  EXPECT_EQ(Both([](RespWriter& w) { w.Error("-WRONGTYPE Operation against a key"); }).second,
            "-WRONGTYPE Operation against a key\r\n");
  EXPECT_EQ(Both([](RespWriter& w) { w.Error("bad\r\nline"); }).first, "-ERR bad  line\r\n");
  EXPECT_EQ(Both([](RespWriter& w) { w.Error(""); }).first, "-ERR \r\n");
  EXPECT_EQ(Both([](RespWriter& w) { w.Status("a\nb"); }).first, "+a b\r\n");
}

TEST(RespWriterTest, AggregatesInBothVersions) {
  EXPECT_EQ(
      Both([](RespWriter& w) {
        w.Map(2);
        w.Bulk("a");
        w.Integer(1);
        w.Bulk("b");
        w.Null();
      }),
      Pair("*4\r\n$1\r\na\r\n:1\r\n$1\r\nb\r\n$-1\r\n", "%2\r\n$1\r\na\r\n:1\r\n$1\r\nb\r\n_\r\n"));
  EXPECT_EQ(Both([](RespWriter& w) { w.Set(3); }), Pair("*3\r\n", "~3\r\n"));
  EXPECT_EQ(Both([](RespWriter& w) { w.Array(0); }), Pair("*0\r\n", "*0\r\n"));
}

TEST(RespWriterTest, DoublesAsRedisFormatsThem) {
  EXPECT_EQ(Both([](RespWriter& w) { w.Double(1.5); }), Pair("$3\r\n1.5\r\n", ",1.5\r\n"));
  EXPECT_EQ(Both([](RespWriter& w) { w.Double(0.1); }),
            Pair("$19\r\n0.10000000000000001\r\n", ",0.10000000000000001\r\n"));
  EXPECT_EQ(Both([](RespWriter& w) { w.Double(-INFINITY); }), Pair("$4\r\n-inf\r\n", ",-inf\r\n"));
  EXPECT_EQ(FormatDouble(1e300), "1.0000000000000001e+300");
  // GEOPOS's coordinates: redis-server 7.0 answers 13.361389 stored as its 52-bit geohash
  // cell centre 13.36138933897018433; the format is what matters here.
  EXPECT_EQ(FormatHumanDouble(13.36138933897018433), "13.36138933897018433");
  EXPECT_EQ(FormatHumanDouble(2.5), "2.5");
  EXPECT_EQ(FormatHumanDouble(3.0), "3");
  EXPECT_EQ(FormatHumanDouble(-0.0), "0");
  EXPECT_EQ(FormatHumanDouble(-1e-30), "0");  // "-0.00000000000000000" trimmed to "-0", then "0"
  EXPECT_EQ(FormatHumanDouble(1e20), "100000000000000000000");
  EXPECT_EQ(Both([](RespWriter& w) { w.HumanDouble(2.5); }), Pair("$3\r\n2.5\r\n", ",2.5\r\n"));
  EXPECT_EQ(FormatHumanDouble(INFINITY), "inf");
}

}  // namespace
}  // namespace locus::server
