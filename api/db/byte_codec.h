// Little-endian byte encoding shared by the database's durable formats (durable_format.cc,
// history_files.cc): varints, fixed-width values, length-prefixed strings, and a Reader whose
// first failure sticks and names the field.
#ifndef LOCUS_API_DB_BYTE_CODEC_H_
#define LOCUS_API_DB_BYTE_CODEC_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace locus::db_internal {

inline void PutVarint(uint64_t v, std::vector<uint8_t>* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<uint8_t>(v | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<uint8_t>(v));
}
template <typename T>
inline void PutFixed(T v, std::vector<uint8_t>* out) {
  const size_t at = out->size();
  out->resize(at + sizeof(T));
  std::memcpy(out->data() + at, &v, sizeof(T));
}
inline void PutString(std::string_view s, std::vector<uint8_t>* out) {
  PutVarint(s.size(), out);
  out->insert(out->end(), s.begin(), s.end());
}

// Reads fields off a payload; the first failure sticks and names the field.
class Reader {
 public:
  explicit Reader(std::span<const uint8_t> b) : b_(b) {}
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  bool done() const { return at_ == b_.size(); }
  size_t offset() const { return at_; }
  size_t remaining() const { return b_.size() - at_; }

  uint64_t Varint(const char* field) {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (at_ >= b_.size()) return Fail(field, "ends inside a varint"), 0;
      const uint8_t byte = b_[at_++];
      v |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if (!(byte & 0x80)) return v;
    }
    return Fail(field, "varint longer than 10 bytes"), 0;
  }
  template <typename T>
  T Fixed(const char* field) {
    T v{};
    if (b_.size() - at_ < sizeof(T)) return Fail(field, "truncated"), v;
    std::memcpy(&v, b_.data() + at_, sizeof(T));
    at_ += sizeof(T);
    return v;
  }
  std::string_view String(const char* field) {
    const uint64_t n = Varint(field);
    if (!ok()) return {};
    if (n > b_.size() - at_)
      return Fail(field, "length " + std::to_string(n) + " past the end"), "";
    std::string_view s(reinterpret_cast<const char*>(b_.data() + at_), n);
    at_ += n;
    return s;
  }
  void Fail(const char* field, const std::string& why) {
    if (error_.empty())
      error_ = std::string(field) + " at payload offset " + std::to_string(at_) + ": " + why;
  }

 private:
  std::span<const uint8_t> b_;
  size_t at_ = 0;
  std::string error_;
};

}  // namespace locus::db_internal

#endif  // LOCUS_API_DB_BYTE_CODEC_H_
