// CRC32C: a byte-wise table (any CPU) and the SSE4.2 crc32 instruction (x86-64, three
// interleaved streams), chosen once; inputs of 4 MiB and more are split over two threads.
#include "storage/crc32c.h"

#include <array>
#include <cstring>

#include <oneapi/tbb/parallel_invoke.h>

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

// Combining: for the CRCs of consecutive pieces A and B (as returned by Crc32c),
// Crc32c(A followed by B) = (Crc32c(A) * x^(8 |B|) mod P) ^ Crc32c(B) in GF(2)[x]. Why: the
// CRC register is linear over GF(2); running B's bytes after A's register r equals running
// them from B's own start value, xor running |B| zero bytes from the difference of the two
// start values, and running zero bytes multiplies by x^8 per byte. The pre- and
// post-conditioning (~) cancel out in that difference. Bit i of a reflected 32-bit value is
// the coefficient of x^(31 - i).
namespace {

uint32_t MulModP(uint32_t a, uint32_t b) {  // REQUIRES: a != 0
  uint32_t m = 1u << 31, p = 0;
  for (;;) {
    if (a & m) {
      p ^= b;
      if ((a & (m - 1)) == 0) break;
    }
    m >>= 1;
    b = (b & 1) ? (b >> 1) ^ kPoly : b >> 1;
  }
  return p;
}

// Returns x^(8 n) mod P (n bytes of shift).
uint32_t XPow8N(uint64_t n) {
  static const std::array<uint32_t, 64> kX2n = [] {  // x^(2^k) mod P
    std::array<uint32_t, 64> t{};
    uint32_t p = 1u << 30;  // x^1
    for (int k = 0; k < 64; ++k) {
      t[k] = p;
      p = MulModP(p, p);
    }
    return t;
  }();
  uint32_t p = 1u << 31;  // x^0
  for (int k = 3; n != 0; n >>= 1, ++k) {
    if (n & 1) p = MulModP(kX2n[k], p);
  }
  return p;
}

}  // namespace

uint32_t Crc32cCombine(uint32_t crc_a, uint32_t crc_b, uint64_t length_b) {
  return MulModP(XPow8N(length_b), crc_a) ^ crc_b;
}

#if LOCUS_CRC32C_X86
namespace {

// Three interleaved streams over blocks of this many bytes: the crc32 instruction has a
// latency of 3 cycles and a throughput of 1 per cycle, so one stream runs at a third of the
// possible speed.
constexpr size_t kBlock = 4096;

// A multiplication by x^(8 kBlock) mod P, byte by byte: shift(c) = t[0][c & 0xFF] ^ ... .
struct ShiftTable {
  uint32_t t[4][256];
  ShiftTable() {
    const uint32_t op = XPow8N(kBlock);
    for (int k = 0; k < 4; ++k) {
      for (uint32_t b = 0; b < 256; ++b) t[k][b] = b == 0 ? 0 : MulModP(op, b << (8 * k));
    }
  }
  uint32_t Shift(uint32_t c) const {
    return t[0][c & 0xFF] ^ t[1][(c >> 8) & 0xFF] ^ t[2][(c >> 16) & 0xFF] ^ t[3][c >> 24];
  }
};

inline uint64_t Load64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);  // unaligned input: never a typed misaligned read
  return v;
}

}  // namespace

__attribute__((target("sse4.2"))) uint32_t Crc32cExtendHardware(uint32_t crc,
                                                                std::span<const uint8_t> data) {
  static const ShiftTable shift;
  const uint8_t* p = data.data();
  size_t n = data.size();
  while (n >= 3 * kBlock) {
    // Stream 0 continues `crc`; streams 1 and 2 are CRCs of their own blocks, combined after.
    uint64_t c0 = ~crc & 0xFFFFFFFFu, c1 = 0xFFFFFFFFu, c2 = 0xFFFFFFFFu;
    for (size_t i = 0; i < kBlock; i += 8) {
      c0 = _mm_crc32_u64(c0, Load64(p + i));
      c1 = _mm_crc32_u64(c1, Load64(p + kBlock + i));
      c2 = _mm_crc32_u64(c2, Load64(p + 2 * kBlock + i));
    }
    const uint32_t a = ~static_cast<uint32_t>(c0), b = ~static_cast<uint32_t>(c1),
                   c = ~static_cast<uint32_t>(c2);
    crc = shift.Shift(shift.Shift(a) ^ b) ^ c;
    p += 3 * kBlock;
    n -= 3 * kBlock;
  }
  uint64_t c = ~crc & 0xFFFFFFFFu;
  for (; n >= 8; p += 8, n -= 8) c = _mm_crc32_u64(c, Load64(p));
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
  auto one = [](uint32_t c, std::span<const uint8_t> d) {
    return hardware ? internal::Crc32cExtendHardware(c, d)
                    : internal::Crc32cExtendPortable(c, d);
  };
  if (data.size() < internal::kParallelCrcBytes) return one(crc, data);
  // Large inputs: two halves on two threads (the instruction, not memory, is the limit at
  // ~8 bytes per cycle), then combined.
  const auto a = data.first(data.size() / 2), b = data.subspan(data.size() / 2);
  uint32_t crc_a = 0, crc_b = 0;
  tbb::parallel_invoke([&] { crc_a = one(crc, a); }, [&] { crc_b = one(0, b); });
  return internal::Crc32cCombine(crc_a, crc_b, b.size());
}

}  // namespace locus::storage
