// Raw access to index file bytes for the storage tests and the libFuzzer targets: unaligned
// little-endian field reads and writes, and re-signing every checksum (chunks, directory,
// superblock) so that an edit or a mutation reaches the structural validation instead of
// stopping at a CRC mismatch. Offsets follow docs/FORMAT.md; out-of-range entries are
// skipped, so any bytes (fuzzer input) may be re-signed.
#ifndef LOCUS_TESTS_TESTING_INDEX_BYTES_H_
#define LOCUS_TESTS_TESTING_INDEX_BYTES_H_

#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "storage/crc32c.h"

namespace locus::testing {

template <typename U>
inline U Get(const std::vector<uint8_t>& b, uint64_t off) {
  U v;
  std::memcpy(&v, b.data() + off, sizeof(U));
  return v;
}
template <typename U>
inline void Set(std::vector<uint8_t>& b, uint64_t off, U v) {
  std::memcpy(b.data() + off, &v, sizeof(U));
}

// Recomputes the chunk, directory and superblock checksums where the ranges are in bounds
// (docs/FORMAT.md fixes their positions).
inline void Resign(std::vector<uint8_t>& b) {
  if (b.size() < 64) return;
  const uint64_t dir = Get<uint64_t>(b, 24);
  const uint32_t count = Get<uint32_t>(b, 32);
  for (uint32_t i = 0; i < count; ++i) {
    const uint64_t e = dir + uint64_t{32} * i;
    if (dir > b.size() || e < dir || e + 32 > b.size()) break;
    const uint64_t off = Get<uint64_t>(b, e + 8), len = Get<uint64_t>(b, e + 16);
    if (off <= b.size() && len <= b.size() - off) {
      Set<uint32_t>(b, e + 24, storage::Crc32c(std::span<const uint8_t>(b).subspan(off, len)));
    }
  }
  if (dir <= b.size() && uint64_t{count} * 32 <= b.size() - dir) {
    Set<uint32_t>(b, 36,
                  storage::Crc32c(std::span<const uint8_t>(b).subspan(dir, uint64_t{count} * 32)));
  }
  Set<uint32_t>(b, 60, storage::Crc32c(std::span<const uint8_t>(b).first(60)));
}

}  // namespace locus::testing

#endif  // LOCUS_TESTS_TESTING_INDEX_BYTES_H_
