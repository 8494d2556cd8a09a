// Tests StreamTree (storage/stream_tree.h): streamed range searches equal the in-memory
// search (same ids, same order) and the brute-force oracle on every distribution, both
// layouts, every tree type, several cache budgets and coalescing gaps; payloads; read counts
// that are deterministic and equal to counts derived from the format by hand; per-query
// limits; hostile readers (garbage on every read, one corrupted read at every position, every
// byte flip of a small file) that may only produce errors, never crashes; concurrent queries
// sharing one directory with one reader or a fresh reader each.
#include "storage/stream_tree.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <thread>

#include "engine/packed_rtree.h"
#include "storage/crc32c.h"
#include "storage/http_range_reader.h"
#include "storage/index_file.h"
#include "tests/testing/data.h"
#include "tests/testing/harness.h"
#include "tests/testing/nginx_server.h"
#include "tests/testing/rtree_util.h"

namespace locus::storage {
namespace {

using ::locus::testing::Distribution;
using ::locus::testing::kAllDistributions;
using ::locus::testing::MakeBoxes;
using ::locus::testing::MakeQuery;
using ::locus::testing::SeedTrace;
using ::locus::testing::TestSeed;
using Bytes = std::vector<uint8_t>;

// Counts every request and every byte, and can corrupt chosen reads.
class CountingReader : public RangeReader {
 public:
  explicit CountingReader(std::span<const uint8_t> bytes) : inner_(bytes) {}
  Status ReadAt(uint64_t offset, std::span<uint8_t> out) override {
    reads_.fetch_add(1);
    bytes_.fetch_add(out.size());
    return inner_.ReadAt(offset, out);
  }
  Status ReadMany(std::span<const ReadRequest> requests) override {
    batches_.fetch_add(1);
    return RangeReader::ReadMany(requests);
  }
  std::optional<uint64_t> size() const override { return inner_.size(); }
  std::string name() const override { return "counting"; }
  uint64_t reads() const { return reads_; }
  uint64_t bytes() const { return bytes_; }
  uint64_t batches() const { return batches_; }

 private:
  MemoryRangeReader inner_;
  std::atomic<uint64_t> reads_{0}, bytes_{0}, batches_{0};
};

StreamOptions Opts(uint64_t cache_bytes, uint64_t coalesce_gap = 4096) {
  StreamOptions o;
  o.cache_bytes = cache_bytes;
  o.coalesce_gap = coalesce_gap;
  return o;
}

template <typename Tree>
using Params = testing::TreeTraits<Tree>;

template <typename Tree>
class StreamTreeTest : public ::testing::Test {};
using TreeTypes = ::testing::Types<engine::PackedRTree2D, engine::PackedRTree3D,
                                   engine::PackedRTree2F, engine::PackedRTree3F>;
TYPED_TEST_SUITE(StreamTreeTest, TreeTypes);

TYPED_TEST(StreamTreeTest, StreamedSearchEqualsInMemorySearchAndBruteForce) {
  using Tree = TypeParam;
  using Box = typename Tree::Box;
  constexpr int D = Params<Tree>::kDims;
  using T = typename Params<Tree>::Scalar;
  const uint64_t seed = TestSeed();
  SCOPED_TRACE(SeedTrace(seed));
  std::mt19937_64 rng(seed);
  Bytes bytes;
  size_t queries = 0, nonempty = 0;
  for (TreeLayout layout : {TreeLayout::kBoxesThenIds, TreeLayout::kNodeInterleaved}) {
    for (uint32_t ns : {3u, 16u}) {
      for (size_t n : {size_t{0}, size_t{1}, size_t{40}, size_t{3000}}) {
        for (Distribution dist : kAllDistributions) {
          SCOPED_TRACE(std::string(layout == TreeLayout::kNodeInterleaved ? "interleaved"
                                                                          : "boxes-then-ids") +
                       ", node size " + std::to_string(ns) + ", " + std::to_string(n) +
                       " items, " + testing::Name(dist));
          const auto boxes = MakeBoxes<Box>(n, dist, seed + n);
          auto tree = Tree::Build(boxes, {.node_size = ns});
          ASSERT_TRUE(tree.ok()) << tree.status().ToString();
          WriteOptions wo;
          wo.layout = layout;
          ASSERT_TRUE(WriteIndex(*tree, wo, &bytes).ok());
          MemoryRangeReader reader(bytes);
          // No cache below the top, a middle budget, everything.
          for (uint64_t budget : {uint64_t{0}, uint64_t{2000}, uint64_t{1} << 30}) {
            for (uint64_t gap : {uint64_t{0}, uint64_t{4096}}) {
              StreamOptions so;
              so.cache_bytes = budget;
              so.coalesce_gap = gap;
              auto st = StreamTree<D, T>::Open(reader, so);
              ASSERT_TRUE(st.ok()) << st.status().ToString();
              EXPECT_EQ(st->size(), n);
              EXPECT_EQ(st->interleaved(), layout == TreeLayout::kNodeInterleaved);
              StreamHits hits;
              std::vector<uint32_t> want;
              for (int q = 0; q < 8; ++q) {
                const Box query = MakeQuery<Box>(rng, q < 4 ? 100.0 : 400.0);
                ASSERT_TRUE(tree->Search(query, &want).ok());
                ReadStats stats;
                ASSERT_TRUE(st->Search(reader, query, &hits, &stats).ok());
                ASSERT_EQ(hits.ids, want) << "query " << q;
                // Positions are the leaf positions of the ids.
                for (size_t i = 0; i < hits.size(); ++i) {
                  ASSERT_EQ(tree->layout().ids[hits.positions[i]], hits.ids[i]);
                }
                if constexpr (std::is_same_v<T, double>) {  // f64 stores boxes exactly
                  EXPECT_EQ(testing::Sorted(hits.ids), testing::BruteForceIntersects(boxes, query));
                }
                if (n == 3000) {
                  ++queries;
                  nonempty += !want.empty();
                }
              }
            }
          }
        }
      }
    }
  }
  EXPECT_GT(nonempty, queries / 4);  // the queries really find things
}

TYPED_TEST(StreamTreeTest, PayloadsStreamInTreeOrderVariableAndFixed) {
  using Tree = TypeParam;
  using Box = typename Tree::Box;
  constexpr int D = Params<Tree>::kDims;
  using T = typename Params<Tree>::Scalar;
  const uint64_t seed = TestSeed();
  SCOPED_TRACE(SeedTrace(seed));
  std::mt19937_64 rng(seed);
  const size_t n = 2000;
  const auto boxes = MakeBoxes<Box>(n, Distribution::kClustered, seed);
  auto tree = Tree::Build(boxes, {.node_size = 8});
  ASSERT_TRUE(tree.ok());
  std::vector<Bytes> blobs(n);
  for (size_t i = 0; i < n; ++i) blobs[i].assign(i % 7, static_cast<uint8_t>(i * 31));
  std::vector<std::span<const uint8_t>> spans(blobs.begin(), blobs.end());
  Bytes fixed(n * 12);
  for (size_t i = 0; i < fixed.size(); ++i) fixed[i] = static_cast<uint8_t>(i * 7 + 1);
  for (int kind = 0; kind < 3; ++kind) {
    for (TreeLayout layout : {TreeLayout::kBoxesThenIds, TreeLayout::kNodeInterleaved}) {
      WriteOptions wo;
      wo.layout = layout;
      if (kind == 1) wo.payloads = spans;
      if (kind == 2) {
        wo.fixed_payload_width = 12;
        wo.fixed_payloads = fixed;
      }
      wo.metadata = {{"crs", "EPSG:4326"}};
      Bytes bytes;
      ASSERT_TRUE(WriteIndex(*tree, wo, &bytes).ok());
      MemoryRangeReader reader(bytes);
      auto st = StreamTree<D, T>::Open(reader, Opts(4096));
      ASSERT_TRUE(st.ok()) << st.status().ToString();
      EXPECT_EQ(st->has_payloads(), kind != 0);
      EXPECT_EQ(st->metadata().at("crs"), "EPSG:4326");
      for (int q = 0; q < 20; ++q) {
        const Box query = MakeQuery<Box>(rng, 200.0);
        StreamHits hits;
        ASSERT_TRUE(st->SearchWithPayloads(reader, query, {}, &hits).ok());
        std::vector<uint32_t> want;
        ASSERT_TRUE(tree->Search(query, &want).ok());
        ASSERT_EQ(hits.ids, want);
        for (size_t i = 0; i < hits.size(); ++i) {
          const uint32_t id = hits.ids[i];
          const auto got = hits.payload(i);
          if (kind == 0) {
            EXPECT_TRUE(got.empty());
          } else if (kind == 1) {
            ASSERT_EQ(Bytes(got.begin(), got.end()), blobs[id]) << "id " << id;
          } else {
            ASSERT_EQ(Bytes(got.begin(), got.end()),
                      Bytes(fixed.begin() + id * 12, fixed.begin() + id * 12 + 12));
          }
        }
      }
    }
  }
  // Positions that no search returns are named.
  Bytes bytes;
  WriteOptions wo;
  wo.payloads = spans;
  ASSERT_TRUE(WriteIndex(*tree, wo, &bytes).ok());
  MemoryRangeReader reader(bytes);
  auto st = StreamTree<D, T>::Open(reader);
  ASSERT_TRUE(st.ok());
  StreamHits bad;
  bad.positions = {5, n};
  Status s = st->ReadPayloads(reader, {}, &bad);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("positions: 2000 is not a leaf position"), std::string::npos)
      << s.ToString();
}

// 64 points on a grid, node size 4: levels of 64, 16 and 4 slots. The top level is always
// cached; with cache_bytes = 0 nothing else is. A query around one point reaches one node of
// level 1 and one of level 0, so (derived from docs/FORMAT.md, not from running the code):
//   node-interleaved: 1 read per level = 2 reads, of 4 x 4 x 8 = 128 bytes (level 1) and
//     128 + 16 = 144 bytes (level 0);
//   boxes-then-ids:   4 coordinate arrays per level (never adjacent: gap 0) + ids at level 0
//     = 4 + 5 = 9 reads, 4 x 32 + 4 x 32 + 16 = 272 bytes.
TEST(StreamTreeReadsTest, ReadCountsAreDeterministicAndMatchTheFormat) {
  std::vector<Box2> boxes;
  for (int y = 0; y < 8; ++y) {
    for (int x = 0; x < 8; ++x) boxes.push_back(Box2{{x * 10.0, y * 10.0}, {x * 10.0, y * 10.0}});
  }
  auto tree = engine::PackedRTree2D::Build(boxes, {.node_size = 4});
  ASSERT_TRUE(tree.ok());
  ASSERT_EQ(tree->layout().num_levels, 3u);
  const Box2 query{{29, 29}, {31, 31}};  // the point (30, 30) only
  struct Want {
    TreeLayout layout;
    uint64_t reads, bytes, batches;
  };
  for (const Want& w : {Want{TreeLayout::kNodeInterleaved, 2, 128 + 144, 2},
                        Want{TreeLayout::kBoxesThenIds, 9, 272, 2}}) {
    WriteOptions wo;
    wo.layout = w.layout;
    Bytes bytes;
    ASSERT_TRUE(WriteIndex(*tree, wo, &bytes).ok());
    CountingReader reader(bytes);
    auto st = StreamTree<2, double>::Open(reader, Opts(0, 0));
    ASSERT_TRUE(st.ok()) << st.status().ToString();
    EXPECT_EQ(st->cached_levels(), 1u);
    // Open: the 16 KiB prefix holds the whole (small) file's header; then the top level
    // (one record, or 4 array tails).
    EXPECT_EQ(st->open_stats().reads, w.layout == TreeLayout::kNodeInterleaved ? 2u : 5u);
    EXPECT_EQ(reader.reads(), st->open_stats().reads);
    for (int rep = 0; rep < 3; ++rep) {
      const uint64_t before = reader.reads(), before_bytes = reader.bytes();
      StreamHits hits;
      ReadStats stats;
      ASSERT_TRUE(st->Search(reader, query, &hits, &stats).ok());
      ASSERT_EQ(hits.ids, std::vector<uint32_t>{3 * 8 + 3});
      EXPECT_EQ(stats.reads, w.reads);
      EXPECT_EQ(stats.bytes, w.bytes);
      EXPECT_EQ(stats.batches, w.batches);
      // The stats are what the reader saw.
      EXPECT_EQ(reader.reads() - before, w.reads);
      EXPECT_EQ(reader.bytes() - before_bytes, w.bytes);
    }
    // Coalescing: with a gap as large as the file, every batch is one read.
    auto merged = StreamTree<2, double>::Open(reader, Opts(0, 1 << 20));
    ASSERT_TRUE(merged.ok());
    ReadStats stats;
    StreamHits hits;
    ASSERT_TRUE(merged->Search(reader, query, &hits, &stats).ok());
    EXPECT_EQ(stats.reads, 2u);
    EXPECT_EQ(hits.ids, std::vector<uint32_t>{27});
    // Everything cached: a query reads nothing.
    auto all = StreamTree<2, double>::Open(reader, Opts(1 << 20));
    ASSERT_TRUE(all.ok());
    EXPECT_EQ(all->cached_levels(), 3u);
    ASSERT_TRUE(all->Search(reader, query, &hits, &stats).ok());
    EXPECT_EQ(stats.reads, 0u);
    EXPECT_EQ(hits.ids, std::vector<uint32_t>{27});
  }
}

TEST(StreamTreeLimitsTest, LimitsFailWithResourceExhaustedBeforeReading) {
  const auto boxes = MakeBoxes<Box2>(5000, Distribution::kUniform, 3);
  auto tree = engine::PackedRTree2D::Build(boxes, {.node_size = 8});
  ASSERT_TRUE(tree.ok());
  Bytes bytes;
  WriteOptions wo;
  wo.layout = TreeLayout::kNodeInterleaved;
  ASSERT_TRUE(WriteIndex(*tree, wo, &bytes).ok());
  CountingReader reader(bytes);
  auto st = StreamTree<2, double>::Open(reader, Opts(0));
  ASSERT_TRUE(st.ok());
  const Box2 query{{100, 100}, {300, 300}};
  StreamHits hits;
  ReadStats need;
  ASSERT_TRUE(st->Search(reader, query, &hits, &need).ok());
  ASSERT_GT(need.reads, 2u);
  ASSERT_GT(hits.size(), 10u);
  const size_t found = hits.size();
  // Exactly the need passes; one less fails, and the failing batch is not read.
  QueryLimits exact{.max_reads = need.reads, .max_bytes = need.bytes, .max_items = found};
  ASSERT_TRUE(st->Search(reader, query, exact, &hits).ok());
  EXPECT_EQ(hits.size(), found);
  for (int which = 0; which < 3; ++which) {
    QueryLimits tight = exact;
    if (which == 0) tight.max_reads -= 1;
    if (which == 1) tight.max_bytes -= 1;
    if (which == 2) tight.max_items -= 1;
    const uint64_t before = reader.bytes();
    ReadStats got;
    Status s = st->Search(reader, query, tight, &hits, &got);
    EXPECT_EQ(s.code(), StatusCode::kResourceExhausted) << s.ToString();
    EXPECT_NE(s.message().find(which == 0 ? "max_reads" : which == 1 ? "max_bytes" : "max_items"),
              std::string::npos)
        << s.ToString();
    EXPECT_LE(got.reads, tight.max_reads);
    EXPECT_LE(got.bytes, tight.max_bytes);
    EXPECT_EQ(reader.bytes() - before, got.bytes);  // nothing read past the limit
  }
  // The limits of StreamOptions apply when a query names none.
  StreamOptions one_read = Opts(0);
  one_read.limits.max_reads = 1;
  auto limited = StreamTree<2, double>::Open(reader, one_read);
  ASSERT_TRUE(limited.ok());
  EXPECT_EQ(limited->Search(reader, query, &hits).code(), StatusCode::kResourceExhausted);
}

TEST(StreamTreeErrorsTest, WrongTypeTruncationAndBadQueriesAreNamed) {
  const auto boxes = MakeBoxes<Box2>(300, Distribution::kUniform, 5);
  auto tree = engine::PackedRTree2D::Build(boxes);
  ASSERT_TRUE(tree.ok());
  Bytes bytes;
  ASSERT_TRUE(WriteIndex(*tree, {}, &bytes).ok());
  MemoryRangeReader reader(bytes);
  auto wrong = StreamTree<3, double>::Open(reader);
  EXPECT_EQ(wrong.status().code(), StatusCode::kInvalidArgument);
  auto wrong_f32 = StreamTree<2, float>::Open(reader);
  EXPECT_EQ(wrong_f32.status().code(), StatusCode::kInvalidArgument);
  const Bytes cut(bytes.begin(), bytes.end() - 1);
  MemoryRangeReader short_reader(cut);
  auto truncated = StreamTree<2, double>::Open(short_reader);
  EXPECT_EQ(truncated.status().code(), StatusCode::kCorruption);
  EXPECT_NE(truncated.status().message().find("is truncated"), std::string::npos)
      << truncated.status().ToString();
  const Bytes tiny(bytes.begin(), bytes.begin() + 10);
  MemoryRangeReader tiny_reader(tiny);
  auto tiny_open = StreamTree<2, double>::Open(tiny_reader);
  EXPECT_EQ(tiny_open.status().code(), StatusCode::kCorruption);
  // A metadata chunk over the budget is refused before it is read.
  WriteOptions with_meta;
  with_meta.metadata = {{"attribution", std::string(5000, 'a')}};
  Bytes meta_bytes;
  ASSERT_TRUE(WriteIndex(*tree, with_meta, &meta_bytes).ok());
  MemoryRangeReader meta_reader(meta_bytes);
  StreamOptions small_meta;
  small_meta.max_metadata_bytes = 4096;
  auto refused = StreamTree<2, double>::Open(meta_reader, small_meta);
  EXPECT_EQ(refused.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(refused.status().message().find("max_metadata_bytes = 4096"), std::string::npos)
      << refused.status().ToString();
  auto accepted = StreamTree<2, double>::Open(meta_reader);
  ASSERT_TRUE(accepted.ok());
  EXPECT_EQ(accepted->metadata().at("attribution").size(), 5000u);

  auto st = StreamTree<2, double>::Open(reader);
  ASSERT_TRUE(st.ok());
  StreamHits hits;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  Status s = st->Search(reader, Box2{{0, 0}, {nan, 1}}, &hits);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
}

// A reader whose every read returns fresh random bytes: Open must fail cleanly (the
// superblock checksum), never crash or loop.
class GarbageReader : public RangeReader {
 public:
  GarbageReader(uint64_t seed, std::optional<uint64_t> size) : rng_(seed), size_(size) {}
  Status ReadAt(uint64_t, std::span<uint8_t> out) override {
    std::lock_guard<std::mutex> lock(mu_);
    for (uint8_t& b : out) b = static_cast<uint8_t>(rng_());
    return Status();
  }
  std::optional<uint64_t> size() const override { return size_; }
  std::string name() const override { return "garbage"; }

 private:
  std::mutex mu_;
  std::mt19937_64 rng_;
  std::optional<uint64_t> size_;
};

// Serves a real file but replaces the bytes of read number `bad` (counting from 0) with
// random ones, or flips one bit in each read when `bad` is negative.
class CorruptingReader : public RangeReader {
 public:
  CorruptingReader(std::span<const uint8_t> bytes, int64_t bad, uint64_t seed)
      : inner_(bytes), bad_(bad), rng_(seed) {}
  Status ReadAt(uint64_t offset, std::span<uint8_t> out) override {
    LOCUS_RETURN_IF_ERROR(inner_.ReadAt(offset, out));
    const int64_t k = count_++;
    if (out.empty()) return Status();
    if (bad_ < 0) {
      out[rng_() % out.size()] ^= static_cast<uint8_t>(1u << (rng_() % 8));
    } else if (k == bad_) {
      for (uint8_t& b : out) b = static_cast<uint8_t>(rng_());
    }
    return Status();
  }
  std::optional<uint64_t> size() const override { return inner_.size(); }
  std::string name() const override { return "corrupting"; }
  int64_t count() const { return count_; }

 private:
  MemoryRangeReader inner_;
  int64_t bad_;
  int64_t count_ = 0;
  std::mt19937_64 rng_;
};

TEST(StreamTreeHostileTest, GarbageOnEveryReadIsAnErrorNeverACrash) {
  for (uint64_t seed = 0; seed < 200; ++seed) {
    GarbageReader reader(seed, seed % 2 ? std::optional<uint64_t>(1 << 20) : std::nullopt);
    auto st = StreamTree<2, double>::Open(reader);
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.status().code(), StatusCode::kCorruption) << st.status().ToString();
  }
  // Garbage after a valid Open: every query read is garbage.
  const auto boxes = MakeBoxes<Box2>(4000, Distribution::kClustered, 9);
  auto tree = engine::PackedRTree2D::Build(boxes, {.node_size = 8});
  ASSERT_TRUE(tree.ok());
  for (TreeLayout layout : {TreeLayout::kBoxesThenIds, TreeLayout::kNodeInterleaved}) {
    WriteOptions wo;
    wo.layout = layout;
    Bytes bytes;
    ASSERT_TRUE(WriteIndex(*tree, wo, &bytes).ok());
    MemoryRangeReader good(bytes);
    auto st = StreamTree<2, double>::Open(good, Opts(0));
    ASSERT_TRUE(st.ok());
    size_t errors = 0;
    for (uint64_t seed = 0; seed < 100; ++seed) {
      GarbageReader garbage(seed, bytes.size());
      StreamHits hits;
      Status s = st->SearchWithPayloads(garbage, Box2{{0, 0}, {1000, 1000}}, {}, &hits);
      if (!s.ok()) {
        EXPECT_EQ(s.code(), StatusCode::kCorruption) << s.ToString();
        ++errors;
      }
    }
    EXPECT_EQ(errors, 100u);  // random boxes are never a valid node inside its parent
  }
}

TEST(StreamTreeHostileTest, OneCorruptedReadAtEveryPositionIsAnErrorOrAValidAnswer) {
  const auto boxes = MakeBoxes<Box2>(3000, Distribution::kUniform, 21);
  auto tree = engine::PackedRTree2D::Build(boxes, {.node_size = 6});
  ASSERT_TRUE(tree.ok());
  std::vector<Bytes> blobs(boxes.size());
  for (size_t i = 0; i < blobs.size(); ++i) blobs[i].assign(i % 4, 1);
  std::vector<std::span<const uint8_t>> spans(blobs.begin(), blobs.end());
  const Box2 query{{200, 200}, {600, 600}};
  std::vector<uint32_t> want;
  ASSERT_TRUE(tree->Search(query, &want).ok());
  for (TreeLayout layout : {TreeLayout::kBoxesThenIds, TreeLayout::kNodeInterleaved}) {
    WriteOptions wo;
    wo.layout = layout;
    wo.payloads = spans;
    Bytes bytes;
    ASSERT_TRUE(WriteIndex(*tree, wo, &bytes).ok());
    size_t failed = 0, answered = 0;
    for (int64_t bad = -1; bad < 400; ++bad) {
      for (uint64_t seed = 0; seed < (bad < 0 ? 50u : 2u); ++seed) {
        CorruptingReader reader(bytes, bad, seed);
        auto st = StreamTree<2, double>::Open(reader, Opts(0, 0));
        StreamHits hits;
        Status s = st.ok() ? st->SearchWithPayloads(reader, query, {}, &hits) : st.status();
        if (!s.ok()) {
          ASSERT_NE(s.code(), StatusCode::kInternal) << s.ToString();
          ++failed;
          continue;
        }
        // Accepted: ids are valid item ids and payloads are whole.
        for (size_t i = 0; i < hits.size(); ++i) ASSERT_LT(hits.ids[i], boxes.size());
        ASSERT_EQ(hits.payload_offsets.size(), hits.size() + 1);
        ++answered;
        if (bad >= 0 && bad >= reader.count()) {
          EXPECT_EQ(hits.ids, want);  // the corruption never happened
        }
      }
    }
    EXPECT_GT(failed, 0u);
    EXPECT_GT(answered, 0u);
  }
}

// Every byte flip of a small file: when the whole-file loader (which validates everything)
// accepts the flipped file, the stream must give the loader's answers; when it rejects it,
// the stream may fail or answer, but must not crash.
TEST(StreamTreeHostileTest, EveryByteFlipAgreesWithTheLoaderWhenTheLoaderAccepts) {
  const auto boxes = MakeBoxes<Box2>(40, Distribution::kUniform, 4);
  auto tree = engine::PackedRTree2D::Build(boxes, {.node_size = 4});
  ASSERT_TRUE(tree.ok());
  const Box2 query{{100, 100}, {700, 700}};
  size_t agreed = 0;
  for (TreeLayout layout : {TreeLayout::kBoxesThenIds, TreeLayout::kNodeInterleaved}) {
    WriteOptions wo;
    wo.layout = layout;
    Bytes bytes;
    ASSERT_TRUE(WriteIndex(*tree, wo, &bytes).ok());
    for (size_t i = 0; i < bytes.size(); ++i) {
      Bytes b = bytes;
      b[i] ^= 0x10;
      MemoryRangeReader reader(b);
      auto st = StreamTree<2, double>::Open(reader, Opts(0));
      StreamHits hits;
      Status s = st.ok() ? st->Search(reader, query, &hits) : st.status();
      auto loaded = OwnedTree<2, double>::FromBytes(b, {.verify_checksums = false});
      if (loaded.ok() && s.ok()) {
        std::vector<uint32_t> want;
        ASSERT_TRUE(loaded->tree().Search(query, &want).ok());
        ASSERT_EQ(hits.ids, want) << "byte " << i;
        ++agreed;
      }
      if (!s.ok()) {
        ASSERT_NE(s.code(), StatusCode::kInternal) << s.ToString();
      }
    }
  }
  EXPECT_GT(agreed, 0u);
}

TEST(StreamTreeConcurrencyTest, QueriesShareOneDirectoryWithSharedOrFreshReaders) {
  const auto boxes = MakeBoxes<Box2>(20000, Distribution::kClustered, 77);
  auto tree = engine::PackedRTree2D::Build(boxes);
  ASSERT_TRUE(tree.ok());
  Bytes bytes;
  WriteOptions wo;
  wo.layout = TreeLayout::kNodeInterleaved;
  ASSERT_TRUE(WriteIndex(*tree, wo, &bytes).ok());
  const std::string path = ::testing::TempDir() + "/stream_concurrency.locus";
  {
    std::ofstream f(path, std::ios::binary);
    f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  }
  auto file = FileRangeReader::Open(path);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  auto st = StreamTree<2, double>::Open(*file, Opts(8192));
  ASSERT_TRUE(st.ok());
  std::vector<Box2> queries;
  std::mt19937_64 rng(TestSeed());
  for (int i = 0; i < 200; ++i) queries.push_back(MakeQuery<Box2>(rng, 60.0));
  std::vector<std::vector<uint32_t>> want(queries.size());
  for (size_t i = 0; i < queries.size(); ++i) ASSERT_TRUE(tree->Search(queries[i], &want[i]).ok());
  std::atomic<int> mismatches{0}, errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      MemoryRangeReader fresh(bytes);  // a reader per thread, for odd threads
      StreamHits hits;
      for (size_t i = 0; i < queries.size(); ++i) {
        RangeReader& r = t % 2 ? static_cast<RangeReader&>(fresh) : *file;
        if (!st->Search(r, queries[i], &hits).ok()) ++errors;
        else if (hits.ids != want[i]) ++mismatches;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(mismatches.load(), 0);
  std::filesystem::remove(path);
}

// Straight from a real HTTP server (nginx on loopback): the same answers as in memory and
// exactly the reads the file reader makes (same ranges, so the same count and bytes, and
// the same count in nginx's access log); the payloads too; and a missing object is NotFound.
TEST(StreamTreeHttpTest, StreamsFromNginxWithTheFileReadersReads) {
  std::unique_ptr<testing::NginxServer> server;
  LOCUS_START_NGINX_OR_RETURN(server);
  const auto boxes = MakeBoxes<Box2>(30000, Distribution::kClustered, 15);
  auto tree = engine::PackedRTree2D::Build(boxes);
  ASSERT_TRUE(tree.ok());
  std::vector<Bytes> blobs(boxes.size());
  for (size_t i = 0; i < blobs.size(); ++i) blobs[i].assign(1 + i % 9, static_cast<uint8_t>(i));
  std::vector<std::span<const uint8_t>> spans(blobs.begin(), blobs.end());
  std::mt19937_64 rng(TestSeed());
  for (TreeLayout layout : {TreeLayout::kBoxesThenIds, TreeLayout::kNodeInterleaved}) {
    const std::string name =
        layout == TreeLayout::kNodeInterleaved ? "interleaved.locus" : "soa.locus";
    WriteOptions wo;
    wo.layout = layout;
    wo.payloads = spans;
    Bytes bytes;
    ASSERT_TRUE(WriteIndex(*tree, wo, &bytes).ok());
    ASSERT_TRUE(server->WriteFile(name, std::string(bytes.begin(), bytes.end())).ok());
    const size_t before = server->CountRequests(name);
    auto http = HttpRangeReader::Open(server->Url(name));
    ASSERT_TRUE(http.ok()) << http.status().ToString();
    CountingReader local(bytes);
    auto st = StreamTree<2, double>::Open(*http, Opts(4096));
    ASSERT_TRUE(st.ok()) << st.status().ToString();
    auto st_local = StreamTree<2, double>::Open(local, Opts(4096));
    ASSERT_TRUE(st_local.ok());
    uint64_t http_reads = st->open_stats().reads;
    EXPECT_EQ(st->open_stats().reads, st_local->open_stats().reads);
    for (int q = 0; q < 30; ++q) {
      const Box2 query = MakeQuery<Box2>(rng, q % 3 == 0 ? 300.0 : 40.0);
      StreamHits hits, hits_local;
      ReadStats stats, stats_local;
      ASSERT_TRUE(st->SearchWithPayloads(*http, query, {}, &hits, &stats).ok());
      ASSERT_TRUE(st_local->SearchWithPayloads(local, query, {}, &hits_local, &stats_local).ok());
      std::vector<uint32_t> want;
      ASSERT_TRUE(tree->Search(query, &want).ok());
      ASSERT_EQ(hits.ids, want);
      ASSERT_EQ(hits.payload_data, hits_local.payload_data);
      for (size_t i = 0; i < hits.size(); ++i) {
        ASSERT_EQ(Bytes(hits.payload(i).begin(), hits.payload(i).end()), blobs[hits.ids[i]]);
      }
      EXPECT_EQ(stats.reads, stats_local.reads);
      EXPECT_EQ(stats.bytes, stats_local.bytes);
      EXPECT_EQ(stats.batches, stats_local.batches);
      http_reads += stats.reads;
    }
    // Every counted read was one request (Open's prefix read is one of them).
    EXPECT_EQ(server->CountRequests(name) - before, http_reads);
  }
  // A truncated object: the HTTP reader learns the size from its first response, and Open
  // then refuses a superblock that claims more.
  {
    Bytes bytes;
    ASSERT_TRUE(WriteIndex(*tree, {}, &bytes).ok());
    bytes.resize(bytes.size() - 100);
    ASSERT_TRUE(server->WriteFile("cut.locus", std::string(bytes.begin(), bytes.end())).ok());
    auto cut = HttpRangeReader::Open(server->Url("cut.locus"));
    ASSERT_TRUE(cut.ok());
    EXPECT_FALSE(cut->size().has_value());
    auto st = StreamTree<2, double>::Open(*cut);
    EXPECT_EQ(st.status().code(), StatusCode::kCorruption) << st.status().ToString();
    EXPECT_NE(st.status().message().find("is truncated"), std::string::npos)
        << st.status().ToString();
  }
  auto missing = HttpRangeReader::Open(server->Url("missing.locus"));
  ASSERT_TRUE(missing.ok());
  auto st = StreamTree<2, double>::Open(*missing);
  EXPECT_EQ(st.status().code(), StatusCode::kNotFound) << st.status().ToString();
}

}  // namespace
}  // namespace locus::storage
