// RespWriter: replies in RESP2 or RESP3, byte for byte as redis-server 7.0 writes them
// (src/networking.c's addReply* family), appended to a connection's output buffer. The same
// calls serve both versions: a map is a flat array in RESP2, a null is "$-1" or "_", a double
// a bulk string or ",", a boolean an integer or "#t"/"#f" (docs/PROTOCOL.md).
#ifndef LOCUS_API_SERVER_RESP_WRITER_H_
#define LOCUS_API_SERVER_RESP_WRITER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace locus::server {

enum class RespVersion { kResp2 = 2, kResp3 = 3 };

class RespWriter {
 public:
  RespWriter(std::string* out, RespVersion version) : out_(out), version_(version) {}
  RespVersion version() const { return version_; }
  void set_version(RespVersion version) { version_ = version; }  // HELLO

  // "+OK": line breaks in `s` become blanks, as redis-server keeps replies well formed.
  void Status(std::string_view s);
  // "-ERR <message>", or "-<message>" when it starts with '-' (an explicit code such as
  // "-WRONGTYPE ..."), line breaks as blanks.
  void Error(std::string_view message);
  void Integer(int64_t v);
  void Bulk(std::string_view s);
  void Null();       // "$-1" / "_"
  void NullArray();  // "*-1" / "_"
  void Array(size_t n);
  void Map(size_t pairs);  // "*<2n>" / "%<n>"
  void Set(size_t n);      // "*<n>" / "~<n>"
  void Bool(bool b);       // ":1"/":0" / "#t"/"#f"
  // redis-server's addReplyDouble: "%.17g" ("inf", "-inf"), a bulk string in RESP2.
  void Double(double d);
  // redis-server's addReplyHumanLongDouble: "%.17f" without trailing zeros (nor a trailing
  // '.'; "-0" as "0"), a bulk string in RESP2. GEOPOS and WITHCOORD use it.
  void HumanDouble(double d);
  // A verbatim string ("=<n>\r\n<ext>:<s>") in RESP3, a bulk string in RESP2; ext is 3
  // characters ("txt").
  void Verbatim(std::string_view s, std::string_view ext);

 private:
  void Header(char prefix, int64_t n);
  void Line(char prefix, std::string_view s);  // with line breaks as blanks
  // A formatted double: a bulk string in RESP2, a double (the comma type) in RESP3.
  void DoubleText(std::string_view text);

  std::string* out_;
  RespVersion version_;
};

// The number formats above, for tests and for commands that embed them.
std::string FormatDouble(double d);       // "%.17g", "inf", "-inf"
std::string FormatHumanDouble(double d);  // "%.17f", trailing zeros dropped

}  // namespace locus::server

#endif  // LOCUS_API_SERVER_RESP_WRITER_H_
