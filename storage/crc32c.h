// CRC32C (Castagnoli, the iSCSI polynomial 0x1EDC6F41, reflected 0x82F63B78): the checksum of
// every index file and log record. Debian 12 packages no C/C++ CRC32C library (only a Python
// one), so locus carries its own: the SSE4.2 crc32 instruction where the CPU has it (chosen
// once at run time; three interleaved streams, and two threads for inputs of 4 MiB and
// more), else a byte-wise table. Both give identical results (tested against the
// RFC 3720 vectors and against each other).
//
// Thread safety: pure functions (large inputs use oneTBB's worker threads internally).
#ifndef LOCUS_STORAGE_CRC32C_H_
#define LOCUS_STORAGE_CRC32C_H_

#include <cstddef>
#include <cstdint>
#include <span>

namespace locus::storage {

// Returns the CRC32C of `data` continued from `crc` (the CRC of the preceding bytes; 0 for
// none): Crc32cExtend(Crc32c(a), b) == Crc32c(a followed by b).
uint32_t Crc32cExtend(uint32_t crc, std::span<const uint8_t> data);
inline uint32_t Crc32c(std::span<const uint8_t> data) { return Crc32cExtend(0, data); }

namespace internal {
// The table implementation and the hardware one (REQUIRES: Crc32cHardwareAvailable()), for
// tests that compare them.
uint32_t Crc32cExtendPortable(uint32_t crc, std::span<const uint8_t> data);
uint32_t Crc32cExtendHardware(uint32_t crc, std::span<const uint8_t> data);
bool Crc32cHardwareAvailable();
// Returns Crc32c(A followed by B) from Crc32c(A), Crc32c(B) and B's length.
uint32_t Crc32cCombine(uint32_t crc_a, uint32_t crc_b, uint64_t length_b);
// Crc32cExtend splits inputs of at least this many bytes over two threads (oneTBB).
inline constexpr size_t kParallelCrcBytes = size_t{4} << 20;
}  // namespace internal

}  // namespace locus::storage

#endif  // LOCUS_STORAGE_CRC32C_H_
