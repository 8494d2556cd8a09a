// Tests CRC32C against the RFC 3720 (iSCSI) test vectors and the classic check value, the
// hardware path against the table path on seeded data at every length and misalignment, and
// that Extend continues a checksum.
#include "storage/crc32c.h"

#include <gtest/gtest.h>

#include <random>
#include <string_view>
#include <vector>

#include "tests/testing/harness.h"

namespace locus::storage {
namespace {

using Fn = uint32_t (*)(uint32_t, std::span<const uint8_t>);

std::vector<Fn> Implementations() {
  std::vector<Fn> fns = {&internal::Crc32cExtendPortable, &Crc32cExtend};
  if (internal::Crc32cHardwareAvailable()) fns.push_back(&internal::Crc32cExtendHardware);
  return fns;
}

TEST(Crc32cTest, Rfc3720VectorsOnEveryImplementation) {
  std::vector<uint8_t> zeros(32, 0), ones(32, 0xFF), up(32), down(32);
  for (int i = 0; i < 32; ++i)
    up[i] = static_cast<uint8_t>(i), down[i] = static_cast<uint8_t>(31 - i);
  const std::string_view check = "123456789";
  for (Fn f : Implementations()) {
    EXPECT_EQ(f(0, zeros), 0x8A9136AAu);
    EXPECT_EQ(f(0, ones), 0x62A8AB43u);
    EXPECT_EQ(f(0, up), 0x46DD794Eu);
    EXPECT_EQ(f(0, down), 0x113FDB5Cu);
    EXPECT_EQ(f(0, std::span(reinterpret_cast<const uint8_t*>(check.data()), check.size())),
              0xE3069283u);
    EXPECT_EQ(f(0, {}), 0u);
  }
}

TEST(Crc32cTest, HardwareEqualsTableAtEveryLengthAndMisalignment) {
  const uint64_t seed = testing::TestSeed();
  SCOPED_TRACE(testing::SeedTrace(seed));
  std::mt19937_64 rng(seed);
  std::vector<uint8_t> data(300);
  for (auto& b : data) b = static_cast<uint8_t>(rng());
  for (size_t offset = 0; offset < 8; ++offset) {
    for (size_t n = 0; offset + n <= data.size(); ++n) {
      const std::span<const uint8_t> s(data.data() + offset, n);
      const uint32_t want = internal::Crc32cExtendPortable(0, s);
      ASSERT_EQ(Crc32c(s), want) << "offset " << offset << " length " << n;
      if (internal::Crc32cHardwareAvailable()) {
        ASSERT_EQ(internal::Crc32cExtendHardware(0, s), want) << "offset " << offset << " n " << n;
      }
    }
  }
}

// Lengths around the three-stream block (3 x 4096 bytes) and past the two-thread split
// (internal::kParallelCrcBytes), at random offsets and with random start values.
TEST(Crc32cTest, InterleavedAndThreadedEqualTableOnRandomLengthsAndAlignments) {
  const uint64_t seed = testing::TestSeed();
  SCOPED_TRACE(testing::SeedTrace(seed));
  std::mt19937_64 rng(seed);
  std::vector<uint8_t> data(internal::kParallelCrcBytes + 3 * 4096 * 3 + 64);
  for (auto& b : data) b = static_cast<uint8_t>(rng());
  std::vector<size_t> lengths = {0, 1, 7, 8, 4095, 4096, 12287, 12288, 12289, 24576, 24577,
                                 36863, internal::kParallelCrcBytes - 1,
                                 internal::kParallelCrcBytes, internal::kParallelCrcBytes + 1};
  for (int i = 0; i < 40; ++i) lengths.push_back(rng() % 100000);
  for (int i = 0; i < 3; ++i) lengths.push_back(internal::kParallelCrcBytes + rng() % 30000);
  for (size_t n : lengths) {
    const size_t offset = rng() % 64;
    const uint32_t start = static_cast<uint32_t>(rng());
    const std::span<const uint8_t> s(data.data() + offset, n);
    const uint32_t want = internal::Crc32cExtendPortable(start, s);
    ASSERT_EQ(Crc32cExtend(start, s), want) << "offset " << offset << " length " << n;
    if (internal::Crc32cHardwareAvailable()) {
      ASSERT_EQ(internal::Crc32cExtendHardware(start, s), want)
          << "offset " << offset << " length " << n;
    }
  }
}

TEST(Crc32cTest, CombineJoinsTwoChecksums) {
  const uint64_t seed = testing::TestSeed();
  SCOPED_TRACE(testing::SeedTrace(seed));
  std::mt19937_64 rng(seed);
  std::vector<uint8_t> data(50000);
  for (auto& b : data) b = static_cast<uint8_t>(rng());
  const std::span<const uint8_t> all(data);
  for (int i = 0; i < 200; ++i) {
    const size_t cut = rng() % (data.size() + 1);
    const size_t end = cut + rng() % (data.size() - cut + 1);
    const auto a = all.first(cut), b = all.subspan(cut, end - cut);
    ASSERT_EQ(internal::Crc32cCombine(Crc32c(a), Crc32c(b), b.size()), Crc32c(all.first(end)))
        << "cut " << cut << " end " << end;
  }
}

TEST(Crc32cTest, ExtendContinuesAChecksum) {
  std::vector<uint8_t> data(100);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 7 + 1);
  const std::span<const uint8_t> all(data);
  for (size_t cut = 0; cut <= data.size(); ++cut) {
    ASSERT_EQ(Crc32cExtend(Crc32c(all.first(cut)), all.subspan(cut)), Crc32c(all)) << cut;
  }
}

}  // namespace
}  // namespace locus::storage
