// Tests HttpRangeReader (storage/http_range_reader.h) against a real nginx on loopback
// (tests/testing/nginx_server.h): the shared RangeReader contract (random ranges, ends,
// past-the-end, ReadMany batches, four threads), size() learnt from responses, zero-length
// reads that send nothing, 404, a server that ignores Range (only a whole-object read is
// accepted; the caller's buffer is never overrun), 500 retried then Unavailable, a stopped
// server, extra headers, keep-alive reuse across calls and bounded concurrency in ReadMany.
#include "storage/http_range_reader.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "tests/testing/harness.h"
#include "tests/testing/nginx_server.h"
#include "tests/testing/range_reader_contract.h"

namespace locus::storage {
namespace {

using ::locus::testing::ExpectRangeReaderContract;
using ::locus::testing::NginxServer;
using ::locus::testing::RandomBytes;
using ::locus::testing::SeedTrace;
using ::locus::testing::TestSeed;

constexpr size_t kObjectSize = 300007;

class HttpRangeReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    LOCUS_START_NGINX_OR_RETURN(server_);
    content_ = RandomBytes(kObjectSize, TestSeed());
    ASSERT_TRUE(
        server_->WriteFile("object.bin", std::string(content_.begin(), content_.end())).ok());
  }

  HttpRangeReader OpenOrDie(const std::string& url, const HttpOptions& options = {}) {
    auto r = HttpRangeReader::Open(url, options);
    LOCUS_CHECK_MSG(r.ok(), r.status().ToString().c_str());
    return std::move(r).value();
  }

  static HttpOptions FastRetries(int retries) {
    HttpOptions o;
    o.retries = retries;
    o.retry_backoff = std::chrono::milliseconds(1);
    o.connect_timeout = std::chrono::milliseconds(2000);
    o.request_timeout = std::chrono::milliseconds(5000);
    return o;
  }

  // A buffer of n bytes with 64-byte red zones on both sides.
  struct RedZoned {
    explicit RedZoned(size_t n) : raw(n + 128, 0xA5), n(n) {}
    std::span<uint8_t> span() { return {raw.data() + 64, n}; }
    bool Intact() const {
      return std::all_of(raw.begin(), raw.begin() + 64, [](uint8_t b) { return b == 0xA5; }) &&
             std::all_of(raw.end() - 64, raw.end(), [](uint8_t b) { return b == 0xA5; });
    }
    std::vector<uint8_t> raw;
    size_t n;
  };

  std::unique_ptr<NginxServer> server_;
  std::vector<uint8_t> content_;
};

TEST(HttpRangeReaderOpen, RejectsNonHttpUrlsAndBadOptions) {
  for (const std::string url : {"ftp://example.com/a", "file:///etc/passwd", "", "example.com/a",
                                "http://", "https:///path"}) {
    auto r = HttpRangeReader::Open(url);
    ASSERT_FALSE(r.ok()) << url;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << url;
    EXPECT_NE(r.status().message().find("'" + url + "'"), std::string::npos)
        << r.status().ToString();
  }
  EXPECT_TRUE(HttpRangeReader::Open("HTTPS://example.com/a.locus").ok());
  HttpOptions bad;
  bad.max_concurrency = 0;
  EXPECT_EQ(HttpRangeReader::Open("http://h/a", bad).status().code(), StatusCode::kInvalidArgument);
  bad = {};
  bad.retries = -1;
  EXPECT_EQ(HttpRangeReader::Open("http://h/a", bad).status().code(), StatusCode::kInvalidArgument);
  bad = {};
  bad.headers = {"Range: bytes=0-1"};
  EXPECT_EQ(HttpRangeReader::Open("http://h/a", bad).status().code(), StatusCode::kInvalidArgument);
  bad.headers = {"no colon"};
  EXPECT_EQ(HttpRangeReader::Open("http://h/a", bad).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(HttpRangeReaderTest, SatisfiesTheContract) {
  HttpRangeReader reader = OpenOrDie(server_->Url("object.bin"));
  EXPECT_EQ(reader.name(), server_->Url("object.bin"));
  ExpectRangeReaderContract(reader, content_, TestSeed());
}

TEST_F(HttpRangeReaderTest, ContractHoldsWithOneTransferAtATime) {
  HttpOptions o;
  o.max_concurrency = 1;
  HttpRangeReader reader = OpenOrDie(server_->Url("object.bin"), o);
  ExpectRangeReaderContract(reader, content_, TestSeed() + 1);
}

TEST_F(HttpRangeReaderTest, SizeIsLearntFromTheFirstResponse) {
  HttpRangeReader reader = OpenOrDie(server_->Url("object.bin"));
  EXPECT_FALSE(reader.size().has_value());
  std::vector<uint8_t> buf(10);
  ASSERT_TRUE(reader.ReadAt(1000, buf).ok());
  ASSERT_TRUE(reader.size().has_value());
  EXPECT_EQ(*reader.size(), kObjectSize);
}

TEST_F(HttpRangeReaderTest, SizeIsLearntFromA416) {
  HttpRangeReader reader = OpenOrDie(server_->Url("object.bin"));
  std::vector<uint8_t> buf(10);
  const Status s = reader.ReadAt(kObjectSize + 5, buf);
  EXPECT_EQ(s.code(), StatusCode::kOutOfRange) << s.ToString();
  EXPECT_EQ(reader.size(), std::optional<uint64_t>(kObjectSize));
}

TEST_F(HttpRangeReaderTest, ZeroLengthReadsSendNoRequest) {
  HttpRangeReader reader = OpenOrDie(server_->Url("object.bin"));
  EXPECT_TRUE(reader.ReadAt(0, {}).ok());
  EXPECT_TRUE(reader.ReadAt(kObjectSize * 10, {}).ok());  // size unknown: nothing to check
  std::vector<ReadRequest> empties(5, ReadRequest{7, {}});
  EXPECT_TRUE(reader.ReadMany(empties).ok());
  EXPECT_EQ(server_->CountRequests("/object.bin"), 0u);
  std::vector<uint8_t> one(1);
  ASSERT_TRUE(reader.ReadAt(0, one).ok());
  EXPECT_EQ(server_->CountRequests("/object.bin"), 1u);  // the log does see real requests
  // Now the size is known: a zero-length read past it is OutOfRange like the other readers.
  EXPECT_EQ(reader.ReadAt(kObjectSize + 1, {}).code(), StatusCode::kOutOfRange);
}

TEST_F(HttpRangeReaderTest, SendsTheExactRangeHeader) {
  HttpRangeReader reader = OpenOrDie(server_->Url("object.bin"));
  std::vector<uint8_t> buf(100);
  ASSERT_TRUE(reader.ReadAt(12345, buf).ok());
  EXPECT_EQ(server_->CountRequests("206 \"GET /object.bin HTTP/1.1\" \"bytes=12345-12444\""), 1u);
}

TEST_F(HttpRangeReaderTest, MissingObjectIsNotFoundNamingUrlAndRange) {
  const std::string url = server_->Url("missing.bin");
  HttpRangeReader reader = OpenOrDie(url);
  std::vector<uint8_t> buf(16, 0xEE);
  const Status s = reader.ReadAt(32, buf);
  EXPECT_EQ(s.code(), StatusCode::kNotFound) << s.ToString();
  EXPECT_NE(s.message().find(url), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find("bytes=32-47"), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find("HTTP 404"), std::string::npos) << s.ToString();
  EXPECT_EQ(buf, std::vector<uint8_t>(16, 0xEE)) << "the error page reached the buffer";
  EXPECT_EQ(server_->CountRequests("missing.bin"), 1u) << "a 404 is not retried";
}

TEST_F(HttpRangeReaderTest, SignedUrlQueryNeverAppearsInNamesOrErrors) {
  // The query string is sent (nginx ignores it for static files) but never printed.
  HttpRangeReader good = OpenOrDie(server_->Url("object.bin") + "?X-Signature=s3cr3t#frag");
  std::vector<uint8_t> buf(8);
  ASSERT_TRUE(good.ReadAt(0, buf).ok());
  EXPECT_EQ(std::vector<uint8_t>(content_.begin(), content_.begin() + 8), buf);
  EXPECT_EQ(good.name(), server_->Url("object.bin"));
  HttpRangeReader missing = OpenOrDie(server_->Url("missing.bin") + "?X-Signature=s3cr3t");
  const Status s = missing.ReadAt(0, buf);
  EXPECT_EQ(s.code(), StatusCode::kNotFound) << s.ToString();
  EXPECT_EQ(s.message().find("s3cr3t"), std::string::npos) << s.ToString();
  const Status past = good.ReadAt(kObjectSize, buf);
  EXPECT_EQ(past.code(), StatusCode::kOutOfRange) << past.ToString();
  EXPECT_EQ(past.message().find("s3cr3t"), std::string::npos) << past.ToString();
}

TEST_F(HttpRangeReaderTest, ServerIgnoringRangeIsAnErrorUnlessTheReadIsTheWholeObject) {
  const std::string url = server_->NoRangeUrl("object.bin");
  HttpRangeReader reader = OpenOrDie(url);
  {  // not at offset 0: the 200 is refused before a byte lands in the buffer
    RedZoned buf(100);
    const Status s = reader.ReadAt(10, buf.span());
    EXPECT_EQ(s.code(), StatusCode::kIoError) << s.ToString();
    EXPECT_NE(s.message().find("ignored the Range header"), std::string::npos) << s.ToString();
    EXPECT_NE(s.message().find(url), std::string::npos) << s.ToString();
    EXPECT_TRUE(buf.Intact());
  }
  {  // at offset 0 but shorter than the object: the body would overrun the buffer
    RedZoned buf(1000);
    const Status s = reader.ReadAt(0, buf.span());
    EXPECT_EQ(s.code(), StatusCode::kIoError) << s.ToString();
    EXPECT_NE(s.message().find("more than the 1000 bytes"), std::string::npos) << s.ToString();
    EXPECT_TRUE(buf.Intact()) << "wrote past the caller's buffer";
  }
  {  // ReadMany checks the same way
    std::vector<uint8_t> a(10), b(10);
    std::vector<ReadRequest> reqs = {{0, a}, {20, b}};
    EXPECT_EQ(reader.ReadMany(reqs).code(), StatusCode::kIoError);
  }
  {  // the whole object: accepted, and it teaches the size
    RedZoned buf(kObjectSize);
    const Status s = reader.ReadAt(0, buf.span());
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_TRUE(std::equal(content_.begin(), content_.end(), buf.span().begin()));
    EXPECT_TRUE(buf.Intact());
    EXPECT_EQ(reader.size(), std::optional<uint64_t>(kObjectSize));
  }
  {  // more than the whole object: past the end
    HttpRangeReader fresh = OpenOrDie(url);
    RedZoned buf(kObjectSize + 5);
    const Status s = fresh.ReadAt(0, buf.span());
    EXPECT_EQ(s.code(), StatusCode::kOutOfRange) << s.ToString();
    EXPECT_TRUE(buf.Intact());
  }
}

TEST_F(HttpRangeReaderTest, ServerErrorIsRetriedThenUnavailable) {
  const std::string url = server_->FailUrl("object.bin");
  HttpRangeReader reader = OpenOrDie(url, FastRetries(2));
  std::vector<uint8_t> buf(16, 0xEE);
  const Status s = reader.ReadAt(0, buf);
  EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.ToString();
  EXPECT_NE(s.message().find("HTTP 500"), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find("after 3 attempts"), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find(url), std::string::npos) << s.ToString();
  EXPECT_EQ(server_->CountRequests("/fail500/object.bin"), 3u);
  EXPECT_EQ(buf, std::vector<uint8_t>(16, 0xEE)) << "the error page reached the buffer";

  HttpRangeReader no_retry = OpenOrDie(url, FastRetries(0));
  EXPECT_EQ(no_retry.ReadAt(0, buf).code(), StatusCode::kUnavailable);
  EXPECT_EQ(server_->CountRequests("/fail500/object.bin"), 4u);
}

TEST_F(HttpRangeReaderTest, ReadManyFailsOnOneBadRangeAmongGoodOnes) {
  HttpRangeReader good = OpenOrDie(server_->Url("object.bin"), FastRetries(1));
  std::vector<std::vector<uint8_t>> bufs(50, std::vector<uint8_t>(100));
  std::vector<ReadRequest> reqs;
  for (size_t i = 0; i < bufs.size(); ++i) reqs.push_back({i * 1000, bufs[i]});
  ASSERT_TRUE(good.ReadMany(reqs).ok());
  for (size_t i = 0; i < bufs.size(); ++i) {
    EXPECT_TRUE(std::equal(bufs[i].begin(), bufs[i].end(), content_.begin() + i * 1000)) << i;
  }
  HttpRangeReader failing = OpenOrDie(server_->FailUrl("object.bin"), FastRetries(1));
  EXPECT_EQ(failing.ReadMany(reqs).code(), StatusCode::kUnavailable);
}

TEST_F(HttpRangeReaderTest, StoppedServerIsUnavailable) {
  const std::string url = server_->Url("object.bin");
  HttpRangeReader reader = OpenOrDie(url, FastRetries(1));
  std::vector<uint8_t> buf(16);
  ASSERT_TRUE(reader.ReadAt(0, buf).ok());  // a kept-alive connection now exists
  server_->Stop();
  for (int i = 0; i < 2; ++i) {  // the first may find the dead kept-alive connection
    const Status s = reader.ReadAt(100, buf);
    EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.ToString();
    EXPECT_NE(s.message().find(url), std::string::npos) << s.ToString();
  }
  std::vector<uint8_t> a(8), b(8);
  std::vector<ReadRequest> reqs = {{0, a}, {50, b}};
  EXPECT_EQ(reader.ReadMany(reqs).code(), StatusCode::kUnavailable);
}

TEST_F(HttpRangeReaderTest, SendsExtraHeaders) {
  HttpOptions o;
  o.headers = {"X-Locus-Test: token-42"};
  HttpRangeReader reader = OpenOrDie(server_->Url("object.bin"), o);
  std::vector<uint8_t> buf(4);
  ASSERT_TRUE(reader.ReadAt(0, buf).ok());
  EXPECT_EQ(server_->CountRequests("\"token-42\""), 1u);
}

TEST_F(HttpRangeReaderTest, ReusesConnectionsAcrossCalls) {
  HttpRangeReader reader = OpenOrDie(server_->Url("object.bin"));
  std::vector<uint8_t> buf(64);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(reader.ReadAt(uint64_t(i) * 100, buf).ok());
  EXPECT_EQ(server_->CountRequests("/object.bin"), 20u);
  EXPECT_EQ(server_->CountConnections("/object.bin"), 1u) << "no keep-alive across calls";
}

TEST_F(HttpRangeReaderTest, ReadManyRunsConcurrentlyUpToTheLimit) {
  HttpOptions o;
  o.max_concurrency = 4;
  HttpRangeReader reader = OpenOrDie(server_->Url("object.bin"), o);
  const uint64_t seed = TestSeed();
  SCOPED_TRACE(SeedTrace(seed));
  std::mt19937_64 rng(seed);
  std::vector<std::vector<uint8_t>> bufs;
  std::vector<ReadRequest> reqs;
  bufs.reserve(64);
  for (int i = 0; i < 64; ++i) {
    const uint64_t off = rng() % (kObjectSize - 4096);
    bufs.emplace_back(4096);
    reqs.push_back({off, bufs.back()});
  }
  ASSERT_TRUE(reader.ReadMany(reqs).ok());
  for (size_t i = 0; i < reqs.size(); ++i) {
    EXPECT_TRUE(std::equal(bufs[i].begin(), bufs[i].end(), content_.begin() + reqs[i].offset));
  }
  const size_t connections = server_->CountConnections("/object.bin");
  EXPECT_GE(connections, 2u) << "ReadMany ran its requests one after another";
  EXPECT_LE(connections, 4u) << "more connections than max_concurrency";
}

TEST_F(HttpRangeReaderTest, ObjectReplacedWithAnotherSizeIsAnError) {
  HttpRangeReader reader = OpenOrDie(server_->Url("object.bin"));
  std::vector<uint8_t> buf(16);
  ASSERT_TRUE(reader.ReadAt(0, buf).ok());
  ASSERT_TRUE(server_->WriteFile("object.bin", std::string(1000, 'x')).ok());
  const Status s = reader.ReadAt(0, buf);
  EXPECT_EQ(s.code(), StatusCode::kIoError) << s.ToString();
  EXPECT_NE(s.message().find("size changed from " + std::to_string(kObjectSize) + " to 1000"),
            std::string::npos)
      << s.ToString();
}

TEST_F(HttpRangeReaderTest, RangeOverflowingSixtyFourBitsIsOutOfRangeWithoutARequest) {
  HttpRangeReader reader = OpenOrDie(server_->Url("object.bin"));
  std::vector<uint8_t> buf(10);
  const Status s = reader.ReadAt(std::numeric_limits<uint64_t>::max() - 2, buf);
  EXPECT_EQ(s.code(), StatusCode::kOutOfRange) << s.ToString();
  EXPECT_EQ(server_->CountRequests("/object.bin"), 0u);
}

TEST_F(HttpRangeReaderTest, MovedReaderKeepsWorking) {
  HttpRangeReader a = OpenOrDie(server_->Url("object.bin"));
  std::vector<uint8_t> buf(32);
  ASSERT_TRUE(a.ReadAt(0, buf).ok());
  HttpRangeReader b = std::move(a);
  ASSERT_TRUE(b.ReadAt(64, buf).ok());
  EXPECT_TRUE(std::equal(buf.begin(), buf.end(), content_.begin() + 64));
  EXPECT_EQ(b.size(), std::optional<uint64_t>(kObjectSize));
  EXPECT_EQ(a.ReadAt(0, buf).code(),
            StatusCode::kFailedPrecondition);  // NOLINT(bugprone-use-after-move)
}

}  // namespace
}  // namespace locus::storage
