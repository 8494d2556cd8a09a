// Tests the local readers of storage/range_reader.h (MemoryRangeReader, FileRangeReader)
// against the shared RangeReader contract (tests/testing/range_reader_contract.h), plus what
// is particular to each: opening a missing file, a moved-from reader, a file truncated while
// open, the default ReadMany stopping at the first error.
#include "storage/range_reader.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tests/testing/harness.h"
#include "tests/testing/range_reader_contract.h"

namespace locus::storage {
namespace {

using ::locus::testing::ExpectRangeReaderContract;
using ::locus::testing::RandomBytes;
using ::locus::testing::TestSeed;

// A file in a fresh temporary directory, removed afterwards.
class TempFile {
 public:
  explicit TempFile(const std::vector<uint8_t>& bytes) {
    char templ[] = "/tmp/locus_range_reader_XXXXXX";
    dir_ = ::mkdtemp(templ);
    path_ = dir_ + "/object.bin";
    std::ofstream out(path_, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
  }
  ~TempFile() { std::filesystem::remove_all(dir_); }
  const std::string& path() const { return path_; }

 private:
  std::string dir_, path_;
};

TEST(MemoryRangeReader, SatisfiesTheContract) {
  const uint64_t seed = TestSeed();
  const std::vector<uint8_t> content = RandomBytes(100003, seed);
  MemoryRangeReader reader(content);
  ExpectRangeReaderContract(reader, content, seed);
}

TEST(MemoryRangeReader, TinyObjectOfTwoBytes) {
  const std::vector<uint8_t> content = {7, 9};
  MemoryRangeReader reader(content);
  ExpectRangeReaderContract(reader, content, TestSeed());
}

TEST(FileRangeReader, SatisfiesTheContract) {
  const uint64_t seed = TestSeed();
  const std::vector<uint8_t> content = RandomBytes(300007, seed);
  TempFile file(content);
  auto reader = FileRangeReader::Open(file.path());
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_EQ(reader->name(), "file " + file.path());
  ExpectRangeReaderContract(*reader, content, seed);
}

TEST(FileRangeReader, MissingFileIsNotFoundNamingThePath) {
  auto reader = FileRangeReader::Open("/nonexistent/locus/object.bin");
  ASSERT_FALSE(reader.ok());
  EXPECT_EQ(reader.status().code(), StatusCode::kNotFound);
  EXPECT_NE(reader.status().message().find("/nonexistent/locus/object.bin"), std::string::npos);
}

TEST(FileRangeReader, MovedFromReaderFailsAndMovedToReads) {
  const std::vector<uint8_t> content = RandomBytes(64, TestSeed());
  TempFile file(content);
  auto opened = FileRangeReader::Open(file.path());
  ASSERT_TRUE(opened.ok());
  FileRangeReader a = std::move(opened).value();
  FileRangeReader b = std::move(a);
  std::vector<uint8_t> buf(8);
  EXPECT_EQ(a.ReadAt(0, buf).code(),
            StatusCode::kFailedPrecondition);  // NOLINT(bugprone-use-after-move)
  ASSERT_TRUE(b.ReadAt(8, buf).ok());
  EXPECT_TRUE(std::equal(buf.begin(), buf.end(), content.begin() + 8));
}

TEST(FileRangeReader, TruncatedWhileOpenIsIoError) {
  const std::vector<uint8_t> content = RandomBytes(4096, TestSeed());
  TempFile file(content);
  auto reader = FileRangeReader::Open(file.path());
  ASSERT_TRUE(reader.ok());
  ASSERT_EQ(::truncate(file.path().c_str(), 100), 0);
  std::vector<uint8_t> buf(1000);
  const Status s = reader->ReadAt(50, buf);  // inside the size seen at open, past the new end
  EXPECT_EQ(s.code(), StatusCode::kIoError) << s.ToString();
  EXPECT_NE(s.message().find(file.path()), std::string::npos) << s.ToString();
}

// A reader whose k-th ReadAt fails, to see the default ReadMany stop there.
class FailingReader final : public RangeReader {
 public:
  explicit FailingReader(int fail_at) : fail_at_(fail_at) {}
  Status ReadAt(uint64_t, std::span<uint8_t>) override {
    return ++calls_ == fail_at_ ? IoError("injected") : Status();
  }
  std::string name() const override { return "failing"; }
  int calls() const { return calls_; }

 private:
  int fail_at_, calls_ = 0;
};

TEST(RangeReader, DefaultReadManyStopsAtTheFirstError) {
  FailingReader reader(3);
  std::vector<uint8_t> buf(4);
  std::vector<ReadRequest> requests(6, ReadRequest{0, buf});
  const Status s = reader.ReadMany(requests);
  EXPECT_EQ(s.code(), StatusCode::kIoError);
  EXPECT_EQ(reader.calls(), 3);
  EXPECT_FALSE(reader.size().has_value());
}

}  // namespace
}  // namespace locus::storage
