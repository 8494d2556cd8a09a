// The RangeReader contract (storage/range_reader.h) as one reusable check, run against every
// reader (memory, file, HTTP) over an object whose bytes the test knows: seeded random
// ranges compared with the bytes, the ends, zero-length reads, past-the-end ranges
// (OutOfRange naming the size), ReadMany batches with and without a bad range, size(), and
// the same reads from four threads at once.
#ifndef LOCUS_TESTS_TESTING_RANGE_READER_CONTRACT_H_
#define LOCUS_TESTS_TESTING_RANGE_READER_CONTRACT_H_

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "storage/range_reader.h"
#include "tests/testing/harness.h"

namespace locus::testing {

// Returns seeded bytes (every value 0..255 appears, so off-by-one reads show).
inline std::vector<uint8_t> RandomBytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<uint8_t> b(n);
  for (uint8_t& x : b) x = uint8_t(rng());
  return b;
}

// A random range inside [0, size], lengths biased to small (tree nodes) with some large.
struct TestRange {
  uint64_t offset, length;
};
inline TestRange RandomRange(std::mt19937_64& rng, uint64_t size) {
  const uint64_t offset = rng() % (size + 1);
  const uint64_t room = size - offset;
  const uint64_t cap = (rng() % 8 == 0) ? room : std::min<uint64_t>(room, 4096);
  return {offset, cap == 0 ? 0 : rng() % (cap + 1)};
}

inline void ExpectSameBytes(const std::vector<uint8_t>& content, uint64_t offset,
                            const std::vector<uint8_t>& got, const std::string& what) {
  ASSERT_LE(offset + got.size(), content.size()) << what;
  EXPECT_TRUE(std::equal(got.begin(), got.end(), content.begin() + offset))
      << what << ": bytes differ at [" << offset << ", +" << got.size() << ")";
}

inline void ExpectPastEnd(storage::RangeReader& reader, uint64_t offset, uint64_t length,
                          uint64_t size) {
  std::vector<uint8_t> buf(length);
  const Status s = reader.ReadAt(offset, buf);
  EXPECT_EQ(s.code(), StatusCode::kOutOfRange)
      << reader.name() << " [" << offset << ", +" << length << "): " << s.ToString();
  EXPECT_NE(s.message().find("size " + std::to_string(size)), std::string::npos) << s.ToString();
}

// Checks `reader` against `content`, the object's bytes. REQUIRES: content.size() >= 2.
inline void ExpectRangeReaderContract(storage::RangeReader& reader,
                                      const std::vector<uint8_t>& content, uint64_t seed) {
  SCOPED_TRACE(SeedTrace(seed) + ", reader " + reader.name());
  const uint64_t size = content.size();
  std::mt19937_64 rng(seed);

  // Random single reads.
  for (int i = 0; i < 100; ++i) {
    const TestRange r = RandomRange(rng, size);
    std::vector<uint8_t> buf(r.length, 0xEE);
    ASSERT_TRUE(reader.ReadAt(r.offset, buf).ok()) << "[" << r.offset << ", +" << r.length << ")";
    ExpectSameBytes(content, r.offset, buf, "ReadAt");
  }
  // The whole object, the first and the last byte, zero-length reads up to the end.
  {
    std::vector<uint8_t> all(size);
    ASSERT_TRUE(reader.ReadAt(0, all).ok());
    EXPECT_EQ(all, content);
    std::vector<uint8_t> one(1);
    ASSERT_TRUE(reader.ReadAt(0, one).ok());
    EXPECT_EQ(one[0], content[0]);
    ASSERT_TRUE(reader.ReadAt(size - 1, one).ok());
    EXPECT_EQ(one[0], content[size - 1]);
    for (uint64_t off : {uint64_t{0}, size / 2, size}) {
      EXPECT_TRUE(reader.ReadAt(off, std::span<uint8_t>()).ok()) << "zero-length at " << off;
    }
  }
  // Past the end: straddling, starting at the end, beyond it, one byte too long.
  ExpectPastEnd(reader, size - 1, 2, size);
  ExpectPastEnd(reader, size, 1, size);
  ExpectPastEnd(reader, size + 100, 10, size);
  ExpectPastEnd(reader, 0, size + 1, size);

  // A batch of 257 ranges (some empty), then the same batch with one range past the end.
  std::vector<std::vector<uint8_t>> bufs;
  std::vector<storage::ReadRequest> requests;
  std::vector<TestRange> ranges;
  for (int i = 0; i < 257; ++i) ranges.push_back(RandomRange(rng, size));
  bufs.reserve(ranges.size() + 1);
  for (const TestRange& r : ranges) {
    bufs.emplace_back(r.length, 0xEE);
    requests.push_back({r.offset, bufs.back()});
  }
  ASSERT_TRUE(reader.ReadMany(requests).ok());
  for (size_t i = 0; i < ranges.size(); ++i) {
    ExpectSameBytes(content, ranges[i].offset, bufs[i], "ReadMany #" + std::to_string(i));
  }
  bufs.emplace_back(8);
  requests.insert(requests.begin() + long(requests.size() / 2), {size - 4, bufs.back()});
  EXPECT_EQ(reader.ReadMany(requests).code(), StatusCode::kOutOfRange);
  EXPECT_TRUE(reader.ReadMany({}).ok());

  ASSERT_TRUE(reader.size().has_value()) << "size() unknown after reads";
  EXPECT_EQ(*reader.size(), size);

  // Four threads at once, each with its own ranges, single reads and batches mixed.
  std::atomic<int> failures{0}, mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937_64 trng(seed + 1000 + t);
      for (int round = 0; round < 6; ++round) {
        std::vector<TestRange> rs;
        for (int i = 0; i < 40; ++i) rs.push_back(RandomRange(trng, size));
        std::vector<std::vector<uint8_t>> bs;
        std::vector<storage::ReadRequest> reqs;
        bs.reserve(rs.size());
        for (const TestRange& r : rs) {
          bs.emplace_back(r.length);
          reqs.push_back({r.offset, bs.back()});
        }
        const Status s = (round % 2 == 0) ? reader.ReadMany(reqs) : [&] {
          for (const storage::ReadRequest& q : reqs) {
            if (Status e = reader.ReadAt(q.offset, q.out); !e.ok()) return e;
          }
          return Status();
        }();
        if (!s.ok()) {
          ++failures;
          continue;
        }
        for (size_t i = 0; i < rs.size(); ++i) {
          if (!std::equal(bs[i].begin(), bs[i].end(), content.begin() + rs[i].offset)) {
            ++mismatches;
          }
        }
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(mismatches.load(), 0);
}

}  // namespace locus::testing

#endif  // LOCUS_TESTS_TESTING_RANGE_READER_CONTRACT_H_
