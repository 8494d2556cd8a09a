// RespWriter (resp_writer.h).
#include "api/server/resp_writer.h"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace locus::server {

std::string FormatDouble(double d) {
  if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
  char buf[64];
  const int n = std::snprintf(buf, sizeof(buf), "%.17g", d);
  return std::string(buf, static_cast<size_t>(n));
}

std::string FormatHumanDouble(double d) {
  if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
  // %.17f of a double is at most 309 digits before the point, 17 after.
  char buf[400];
  const int n = std::snprintf(buf, sizeof(buf), "%.17f", d);
  std::string s(buf, static_cast<size_t>(n));
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  if (s == "-0") s = "0";
  return s;
}

void RespWriter::Header(char prefix, int64_t n) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof(buf), n);
  out_->push_back(prefix);
  out_->append(buf, r.ptr);
  out_->append("\r\n");
}

void RespWriter::Line(char prefix, std::string_view s) {
  out_->push_back(prefix);
  const size_t at = out_->size();
  out_->append(s);
  for (size_t i = at; i < out_->size(); ++i) {
    if ((*out_)[i] == '\r' || (*out_)[i] == '\n') (*out_)[i] = ' ';
  }
  out_->append("\r\n");
}

void RespWriter::Status(std::string_view s) { Line('+', s); }

void RespWriter::Error(std::string_view message) {
  if (!message.empty() && message[0] == '-') {
    Line('-', message.substr(1));
    return;
  }
  out_->append("-ERR");
  Line(' ', message);
}

void RespWriter::Integer(int64_t v) { Header(':', v); }

void RespWriter::Bulk(std::string_view s) {
  Header('$', static_cast<int64_t>(s.size()));
  out_->append(s);
  out_->append("\r\n");
}

void RespWriter::Null() { out_->append(version_ == RespVersion::kResp2 ? "$-1\r\n" : "_\r\n"); }

void RespWriter::NullArray() {
  out_->append(version_ == RespVersion::kResp2 ? "*-1\r\n" : "_\r\n");
}

void RespWriter::Array(size_t n) { Header('*', static_cast<int64_t>(n)); }

void RespWriter::Map(size_t pairs) {
  if (version_ == RespVersion::kResp2) {
    Header('*', static_cast<int64_t>(2 * pairs));
  } else {
    Header('%', static_cast<int64_t>(pairs));
  }
}

void RespWriter::Set(size_t n) {
  Header(version_ == RespVersion::kResp2 ? '*' : '~', static_cast<int64_t>(n));
}

void RespWriter::Bool(bool b) {
  if (version_ == RespVersion::kResp2) {
    Integer(b ? 1 : 0);
  } else {
    out_->append(b ? "#t\r\n" : "#f\r\n");
  }
}

void RespWriter::DoubleText(std::string_view text) {
  if (version_ == RespVersion::kResp2) {
    Bulk(text);
  } else {
    Line(',', text);
  }
}

void RespWriter::Double(double d) { DoubleText(FormatDouble(d)); }

void RespWriter::HumanDouble(double d) { DoubleText(FormatHumanDouble(d)); }

void RespWriter::Verbatim(std::string_view s, std::string_view ext) {
  if (version_ == RespVersion::kResp2) {
    Bulk(s);
    return;
  }
  Header('=', static_cast<int64_t>(s.size() + 4));
  for (size_t i = 0; i < 3; ++i) out_->push_back(i < ext.size() ? ext[i] : ' ');
  out_->push_back(':');
  out_->append(s);
  out_->append("\r\n");
}

}  // namespace locus::server
