// CRC32C: a byte-wise table (any CPU) and the SSE4.2 crc32 instruction (x86-64), chosen once.
#include "storage/crc32c.h"

#include <array>
#include <cstring>

#if defined(__x86_64__) || defined(_M_X64)
#include <nmmintrin.h>
#define LOCUS_CRC32C_X86 1
#endif

namespace locus::storage {
namespace internal {
namespace {

constexpr uint32_t kPoly = 0x82F63B78u;  // reflected Castagnoli polynomial

constexpr std::array<uint32_t, 256> MakeTable() {
  std::array<uint32_t, 256> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ kPoly : c >> 1;
    t[i] = c;
  }
  return t;
}
constexpr std::array<uint32_t, 256> kTable = MakeTable();

}  // namespace

uint32_t Crc32cExtendPortable(uint32_t crc, std::span<const uint8_t> data) {
  uint32_t c = ~crc;
  for (uint8_t b : data) c = kTable[(c ^ b) & 0xFF] ^ (c >> 8);
  return ~c;
}

#if LOCUS_CRC32C_X86
__attribute__((target("sse4.2"))) uint32_t Crc32cExtendHardware(uint32_t crc,
                                                                std::span<const uint8_t> data) {
  const uint8_t* p = data.data();
  size_t n = data.size();
  uint64_t c = ~crc;
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t v;
    std::memcpy(&v, p, 8);  // unaligned input: never a typed misaligned read
    c = _mm_crc32_u64(c, v);
  }
  uint32_t c32 = static_cast<uint32_t>(c);
  for (; n > 0; ++p, --n) c32 = _mm_crc32_u8(c32, *p);
  return ~c32;
}
bool Crc32cHardwareAvailable() { return __builtin_cpu_supports("sse4.2"); }
#else
uint32_t Crc32cExtendHardware(uint32_t crc, std::span<const uint8_t> data) {
  return Crc32cExtendPortable(crc, data);
}
bool Crc32cHardwareAvailable() { return false; }
#endif

}  // namespace internal

uint32_t Crc32cExtend(uint32_t crc, std::span<const uint8_t> data) {
  static const bool hardware = internal::Crc32cHardwareAvailable();
  return hardware ? internal::Crc32cExtendHardware(crc, data)
                  : internal::Crc32cExtendPortable(crc, data);
}

}  // namespace locus::storage
