// Tests index files (storage/index_file.h, docs/FORMAT.md): bit-exact round trips of every
// tree shape of the tree tests through the three loaders (owned, view, map); deterministic
// bytes; payloads and metadata; truncation at every length and flips of every byte of a small
// file (an error or a valid index that answers queries, never a sanitizer report); hostile
// edits with valid checksums caught by structural validation, each with its message;
// compatibility rules (unknown optional chunks skipped, unknown critical ones rejected, bad
// magic/version); misaligned buffers (the copy path); atomic file replacement.
#include "storage/index_file.h"

#include <dirent.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "engine/rtree_join.h"
#include "engine/rtree_range_walk.h"
#include "kernels/dispatch.h"
#include "storage/crc32c.h"
#include "tests/testing/data.h"
#include "tests/testing/harness.h"
#include "tests/testing/index_bytes.h"
#include "tests/testing/rtree_util.h"

namespace locus::storage {
namespace {

using ::locus::testing::Distribution;
using ::locus::testing::kAllDistributions;
using ::locus::testing::MakeBoxes;
using ::locus::testing::Get;
using ::locus::testing::Resign;
using ::locus::testing::SeedTrace;
using ::locus::testing::Set;
using ::locus::testing::TestSeed;
using Bytes = std::vector<uint8_t>;

// ---- helpers ----

struct DirEntry {
  uint32_t tag, flags;
  uint64_t offset, length;
};
constexpr uint32_t TagOf(const char (&s)[5]) {
  return uint32_t(uint8_t(s[0])) | uint32_t(uint8_t(s[1])) << 8 | uint32_t(uint8_t(s[2])) << 16 |
         uint32_t(uint8_t(s[3])) << 24;
}

// Reads the directory with the format's fixed offsets (docs/FORMAT.md), independently of
// the library's reader.
std::vector<DirEntry> Directory(const Bytes& b) {
  std::vector<DirEntry> d;
  const uint64_t dir = Get<uint64_t>(b, 24);
  const uint32_t count = Get<uint32_t>(b, 32);
  for (uint32_t i = 0; i < count; ++i) {
    const size_t e = dir + 32 * i;
    d.push_back({Get<uint32_t>(b, e), Get<uint32_t>(b, e + 4), Get<uint64_t>(b, e + 8),
                 Get<uint64_t>(b, e + 16)});
  }
  return d;
}
uint64_t ChunkOffset(const Bytes& b, uint32_t tag) {
  for (const auto& e : Directory(b)) {
    if (e.tag == tag) return e.offset;
  }
  ADD_FAILURE() << "no chunk " << tag;
  return 0;
}


// Re-emits a file from chunks (tag, flags, body), with the format's placement rules: the
// test's own writer, for chunk-level edits (extra, missing, duplicate chunks).
struct RawChunk {
  uint32_t tag, flags;
  Bytes body;
};
std::vector<RawChunk> Split(const Bytes& b) {
  std::vector<RawChunk> out;
  for (const auto& e : Directory(b)) {
    out.push_back({e.tag, e.flags, Bytes(b.begin() + e.offset, b.begin() + e.offset + e.length)});
  }
  return out;
}
Bytes Assemble(const Bytes& original, const std::vector<RawChunk>& chunks) {
  auto up = [](uint64_t v) { return (v + 63) / 64 * 64; };
  uint64_t pos = up(64 + 32 * chunks.size());
  std::vector<uint64_t> offsets;
  for (const auto& c : chunks) {
    offsets.push_back(pos);
    pos = up(pos + c.body.size());
  }
  const uint64_t length = chunks.empty() ? pos : offsets.back() + chunks.back().body.size();
  Bytes b(length, 0);
  std::memcpy(b.data(), original.data(), 64);
  Set<uint64_t>(b, 16, length);
  Set<uint64_t>(b, 24, 64);
  Set<uint32_t>(b, 32, static_cast<uint32_t>(chunks.size()));
  for (size_t i = 0; i < chunks.size(); ++i) {
    const size_t e = 64 + 32 * i;
    Set<uint32_t>(b, e, chunks[i].tag);
    Set<uint32_t>(b, e + 4, chunks[i].flags);
    Set<uint64_t>(b, e + 8, offsets[i]);
    Set<uint64_t>(b, e + 16, chunks[i].body.size());
    if (!chunks[i].body.empty()) {
      std::memcpy(&b[offsets[i]], chunks[i].body.data(), chunks[i].body.size());
    }
  }
  Resign(b);
  return b;
}

template <int D, typename T>
void ExpectSameLayout(const engine::RTreeLayout<D, T>& want, const engine::RTreeLayout<D, T>& got) {
  ASSERT_EQ(got.num_items, want.num_items);
  ASSERT_EQ(got.node_size, want.node_size);
  ASSERT_EQ(got.num_levels, want.num_levels);
  ASSERT_EQ(got.points, want.points);
  for (uint32_t i = 0; i <= want.num_levels; ++i)
    ASSERT_EQ(got.level_begin[i], want.level_begin[i]);
  if (want.num_items == 0) return;
  const uint64_t slots = want.level_begin[want.num_levels];
  for (int a = 0; a < D; ++a) {
    ASSERT_EQ(std::memcmp(got.min[a], want.min[a], slots * sizeof(T)), 0) << "min axis " << a;
    ASSERT_EQ(std::memcmp(got.max[a], want.max[a], slots * sizeof(T)), 0) << "max axis " << a;
  }
  ASSERT_EQ(std::memcmp(got.ids, want.ids, want.level_begin[1] * 4), 0);
}

// A fresh directory per test process, removed when the process ends.
std::string TempDir() {
  struct Dir {
    std::string path = "/tmp/locus_storage_test.XXXXXX";
    Dir() { LOCUS_CHECK(::mkdtemp(path.data()) != nullptr); }
    ~Dir() {
      std::error_code ignored;
      std::filesystem::remove_all(path, ignored);
    }
  };
  static Dir dir;
  return dir.path;
}
void WriteRaw(const std::string& path, const Bytes& b) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  ASSERT_TRUE(f.good());
}
Bytes ReadRaw(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}
std::vector<std::string> ListDir(const std::string& dir) {
  std::vector<std::string> names;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d)) {
      if (std::string(e->d_name) != "." && std::string(e->d_name) != "..")
        names.push_back(e->d_name);
    }
    ::closedir(d);
  }
  std::sort(names.begin(), names.end());
  return names;
}

// A whole-space range query through the engine's loop over the loaded layout: proves an
// accepted index can be walked (under the sanitizers) and returns every item exactly once.
template <int D, typename T>
uint64_t CountAll(const engine::RTreeLayout<D, T>& l) {
  // The largest finite query (the loops require a valid, finite query box).
  const T inf = std::numeric_limits<T>::max();
  if constexpr (D == 2) {
    return engine::internal::RangeQuery(l, kernels::Box2T<T>{-inf, -inf, inf, inf},
                                        engine::internal::RangeMode::kCount, nullptr)
        .count;
  } else {
    return engine::internal::RangeQuery(l, kernels::Box3T<T>{-inf, -inf, -inf, inf, inf, inf},
                                        engine::internal::RangeMode::kCount, nullptr)
        .count;
  }
}
template <int D, typename T>
std::vector<uint32_t> VisitAll(const engine::RTreeLayout<D, T>& l, T lo, T hi) {
  std::vector<uint32_t> out;
  auto add = [&out](std::span<const uint32_t> ids) {
    out.insert(out.end(), ids.begin(), ids.end());
    return true;
  };
  engine::IdBatchSink sink(add);
  if constexpr (D == 2) {
    engine::internal::RangeQuery(l, kernels::Box2T<T>{lo, lo, hi, hi},
                                 engine::internal::RangeMode::kVisit, &sink);
  } else {
    engine::internal::RangeQuery(l, kernels::Box3T<T>{lo, lo, lo, hi, hi, hi},
                                 engine::internal::RangeMode::kVisit, &sink);
  }
  return out;
}

// ---- round trips ----

template <typename Tree>
using Params = testing::TreeTraits<Tree>;

template <typename Tree>
class IndexFileTest : public ::testing::Test {};
using TreeTypes = ::testing::Types<engine::PackedRTree2D, engine::PackedRTree3D,
                                   engine::PackedRTree2F, engine::PackedRTree3F>;
TYPED_TEST_SUITE(IndexFileTest, TreeTypes);

TYPED_TEST(IndexFileTest, RoundTripIsBitExactForEveryShapeThroughEveryLoader) {
  using Tree = TypeParam;
  constexpr int D = Params<Tree>::kDims;
  using T = typename Params<Tree>::Scalar;
  const uint64_t seed = TestSeed();
  SCOPED_TRACE(SeedTrace(seed));
  const std::string path = TempDir() + "/roundtrip.locus";
  Bytes bytes, again;
  size_t shapes = 0;
  for (TreeLayout layout : {TreeLayout::kBoxesThenIds, TreeLayout::kNodeInterleaved}) {
  const bool interleaved = layout == TreeLayout::kNodeInterleaved;
  for (uint32_t ns : {2u, 5u, 16u, 64u}) {
    for (size_t n : {size_t{0}, size_t{1}, size_t{ns - 1}, size_t{ns}, size_t{ns + 1},
                     size_t{ns} * ns + 1, size_t{2500}}) {
      for (Distribution dist : kAllDistributions) {
 SCOPED_TRACE(std::string(interleaved ? "node-interleaved, " : "boxes-then-ids, ") + "node size " + std::to_string(ns) + ", " + std::to_string(n) + " items, " +
                     testing::Name(dist));
        const auto boxes = MakeBoxes<typename Tree::Box>(n, dist, seed + n);
        auto tree = Tree::Build(boxes, {.node_size = ns});
        ASSERT_TRUE(tree.ok()) << tree.status().ToString();
        WriteOptions wo;
        wo.layout = layout;
        ASSERT_TRUE(WriteIndex(*tree, wo, &bytes).ok());
        ASSERT_TRUE(WriteIndex(*tree, wo, &again).ok());
        auto info = ReadIndexInfo(bytes);
        ASSERT_TRUE(info.ok()) << info.status().ToString();
        EXPECT_EQ(info->interleaved, interleaved);
        ASSERT_EQ(bytes, again) << "not deterministic";
        const auto want = tree->layout();

        auto owned = OwnedTree<D, T>::FromBytes(bytes);
        ASSERT_TRUE(owned.ok()) << owned.status().ToString();
        ExpectSameLayout(want, owned->layout());
        auto view = TreeView<D, T>::Open(bytes);
        ASSERT_TRUE(view.ok()) << view.status().ToString();
        // Boxes-then-ids is read in place; node records are converted to arrays on load.
        EXPECT_EQ(view->zero_copy(), !interleaved);
        ExpectSameLayout(want, view->layout());
        // Zero-copy means exactly that: the arrays point into the caller's bytes.
        if (n > 0) {
          const auto* p = reinterpret_cast<const uint8_t*>(view->layout().min[0]);
          EXPECT_EQ(p >= bytes.data() && p < bytes.data() + bytes.size(), !interleaved);
        }
        WriteRaw(path, bytes);
        auto mapped = MappedTree<D, T>::Open(path);
        ASSERT_TRUE(mapped.ok()) << mapped.status().ToString();
        ExpectSameLayout(want, mapped->layout());
        EXPECT_EQ(CountAll(mapped->layout()), n);
        EXPECT_FALSE(mapped->has_payloads());
        // Rewriting a loaded index in the other layout and back gives the same bytes.
        WriteOptions other;
        other.layout = interleaved ? TreeLayout::kBoxesThenIds : TreeLayout::kNodeInterleaved;
        ASSERT_TRUE(WriteIndex(owned->tree(), other, &again).ok());
        auto back = OwnedTree<D, T>::FromBytes(again);
        ASSERT_TRUE(back.ok()) << back.status().ToString();
        ASSERT_TRUE(WriteIndex(back->tree(), wo, &again).ok());
        EXPECT_EQ(bytes, again);
        ++shapes;
      }
    }
  }
  }
  EXPECT_EQ(shapes, 2u * 4u * 7u * 6u);
}

TYPED_TEST(IndexFileTest, PayloadsAndMetadataRoundTripInItemOrder) {
  using Tree = TypeParam;
  constexpr int D = Params<Tree>::kDims;
  using T = typename Params<Tree>::Scalar;
  const uint64_t seed = TestSeed();
  SCOPED_TRACE(SeedTrace(seed));
  std::mt19937_64 rng(seed);
  const size_t n = 777;
  const auto boxes = MakeBoxes<typename Tree::Box>(n, Distribution::kClustered, seed);
  auto tree = Tree::Build(boxes, {.node_size = 8});
  ASSERT_TRUE(tree.ok());
  std::vector<Bytes> blobs(n);
  for (size_t i = 0; i < n; ++i) {
    blobs[i].resize(rng() % 4 == 0 ? 0 : rng() % 40);  // some empty
    for (auto& c : blobs[i]) c = static_cast<uint8_t>(rng());
  }
  std::vector<std::span<const uint8_t>> spans(blobs.begin(), blobs.end());
  Bytes fixed(n * 12);
  for (auto& c : fixed) c = static_cast<uint8_t>(rng());

  WriteOptions variable;
  variable.payloads = spans;
  variable.metadata = {{"crs", "EPSG:4326"}, {"attribution", "test data"}, {"k", ""}};
  WriteOptions fixed_width;
  fixed_width.fixed_payload_width = 12;
  fixed_width.fixed_payloads = fixed;
  const std::string path = TempDir() + "/payloads.locus";
  for (const WriteOptions* opts : {&variable, &fixed_width}) {
    Bytes bytes;
    ASSERT_TRUE(WriteIndex(*tree, *opts, &bytes).ok());
    WriteRaw(path, bytes);
    auto owned = OwnedTree<D, T>::FromBytes(bytes);
    auto view = TreeView<D, T>::Open(bytes);
    auto mapped = MappedTree<D, T>::Open(path);
    ASSERT_TRUE(owned.ok() && view.ok() && mapped.ok()) << owned.status().ToString();
    for (const LoadedTree<D, T>* t : {static_cast<const LoadedTree<D, T>*>(&*owned),
                                      static_cast<const LoadedTree<D, T>*>(&*view),
                                      static_cast<const LoadedTree<D, T>*>(&*mapped)}) {
      ASSERT_TRUE(t->has_payloads());
      EXPECT_EQ(t->metadata(), opts->metadata);
      for (uint32_t id = 0; id < n; ++id) {
        auto p = t->payload(id);
        ASSERT_TRUE(p.ok());
        const std::span<const uint8_t> want =
            opts == &variable ? std::span<const uint8_t>(blobs[id])
                              : std::span<const uint8_t>(fixed).subspan(id * 12, 12);
        ASSERT_TRUE(std::equal(p->begin(), p->end(), want.begin(), want.end())) << "id " << id;
      }
      auto bad = t->payload(static_cast<uint32_t>(n));
      ASSERT_FALSE(bad.ok());
      EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
    }
  }
}

// Every query of the engine answers the same on a loaded index as on the tree that was
// written: range (Search, Count, Any), radius, kNN, raycast (all hits and closest), polygon
// or frustum, and a join between the loaded index and the original.
// An orthographic view-projection (column-major): visible iff every coordinate is in [200, 800].
constexpr double kOrtho[16] = {
    1 / 300.0,    0, 0, 0, 0, 1 / 300.0, 0, 0, 0, 0, 1 / 300.0, 0, -500 / 300.0, -500 / 300.0,
    -500 / 300.0, 1};

template <typename Tree>
void ExpectSameAnswers(
    const Tree& original,
    const engine::RTreeView<Params<Tree>::kDims, typename Params<Tree>::Scalar>& got,
    std::mt19937_64& rng) {
  using Box = typename Tree::Box;
  using Point = typename Tree::Point;
  constexpr int D = Params<Tree>::kDims;
  std::uniform_real_distribution<double> u(-20, 1020), dir(-1, 1);
  std::vector<uint32_t> a, b;
  for (int q = 0; q < 40; ++q) {
    const Box box = testing::MakeQuery<Box>(rng, q % 2 ? 30.0 : 300.0);
    ASSERT_TRUE(original.Search(box, &a).ok());
    ASSERT_TRUE(got.Search(box, &b).ok());
    ASSERT_EQ(a, b);
    ASSERT_EQ(*original.Count(box), *got.Count(box));
    ASSERT_EQ(*original.Any(box), *got.Any(box));
    Point p;
    p.x = u(rng), p.y = u(rng);
    if constexpr (D == 3) p.z = u(rng);
    ASSERT_TRUE(original.SearchRadius(p, 40.0, &a).ok());
    ASSERT_TRUE(got.SearchRadius(p, 40.0, &b).ok());
    ASSERT_EQ(a, b);
    std::vector<typename Tree::Neighbor> na, nb;
    ASSERT_TRUE(original.Nearest(p, 7, &na).ok());
    ASSERT_TRUE(got.Nearest(p, 7, &nb).ok());
    ASSERT_EQ(na, nb);
    typename Tree::Ray ray;
    ray.origin = p;
    ray.direction.x = dir(rng), ray.direction.y = dir(rng) + 1e-3;
    if constexpr (D == 3) ray.direction.z = dir(rng);
    std::vector<engine::RayHit> ha, hb;
    ASSERT_TRUE(original.Raycast(ray, &ha).ok());
    ASSERT_TRUE(got.Raycast(ray, &hb).ok());
    ASSERT_EQ(ha, hb);
    ASSERT_EQ(*original.RaycastClosest(ray), *got.RaycastClosest(ray));
  }
}

TYPED_TEST(IndexFileTest, EveryQueryAnswersTheSameOnEveryLoader) {
  using Tree = TypeParam;
  constexpr int D = Params<Tree>::kDims;
  using T = typename Params<Tree>::Scalar;
  const uint64_t seed = TestSeed();
  SCOPED_TRACE(SeedTrace(seed));
  std::mt19937_64 rng(seed);
  const std::string path = TempDir() + "/queries.locus";
  for (Distribution dist : {Distribution::kUniform, Distribution::kPoints}) {
    const auto boxes = MakeBoxes<typename Tree::Box>(3000, dist, seed);
    auto tree = Tree::Build(boxes);
    ASSERT_TRUE(tree.ok());
    Bytes bytes;
    ASSERT_TRUE(WriteIndex(*tree, {}, &bytes).ok());
    WriteRaw(path, bytes);
    auto owned = OwnedTree<D, T>::FromBytes(bytes);
    auto view = TreeView<D, T>::Open(bytes);
    auto mapped = MappedTree<D, T>::Open(path);
    ASSERT_TRUE(owned.ok() && view.ok() && mapped.ok());
    ExpectSameAnswers(*tree, owned->tree(), rng);
    ExpectSameAnswers(*tree, view->tree(), rng);
    ExpectSameAnswers(*tree, mapped->tree(), rng);
    EXPECT_EQ(mapped->tree().bounds(), tree->bounds());
    // Region queries.
    std::vector<uint32_t> a, b;
    if constexpr (D == 2) {
      const std::vector<Point2> triangle = {{100, 100}, {700, 200}, {300, 800}};
      ASSERT_TRUE(tree->SearchPolygon(triangle, &a).ok());
      ASSERT_TRUE(mapped->tree().SearchPolygon(triangle, &b).ok());
    } else {
      const engine::Frustum f = engine::Frustum::FromColumnMajor(kOrtho);
      ASSERT_TRUE(tree->SearchFrustum(f, &a).ok());
      ASSERT_TRUE(mapped->tree().SearchFrustum(f, &b).ok());
    }
    EXPECT_EQ(a, b);
    // Joins take views: the loaded index against the original, and with itself.
    std::vector<engine::IdPair> ja, jb;
    ASSERT_TRUE(engine::SelfJoin(*tree, &ja, {.sorted = true}).ok());
    ASSERT_TRUE(engine::Join(mapped->tree(), view->tree(), &jb, {.sorted = true}).ok());
    std::vector<engine::IdPair> self_pairs;  // Join of a tree with itself: every pair both ways
    ASSERT_TRUE(engine::Join(*tree, *tree, &self_pairs, {.sorted = true}).ok());
    EXPECT_EQ(jb, self_pairs);
    ASSERT_TRUE(engine::SelfJoin(owned->tree(), &jb, {.sorted = true}).ok());
    EXPECT_EQ(ja, jb);
    // A loaded index is itself writable, to the same bytes.
    Bytes again;
    ASSERT_TRUE(WriteIndex(mapped->tree(), {}, &again).ok());
    EXPECT_EQ(again, bytes);
  }
}

TEST(IndexFileTest, WriterRejectsBadPayloadOptionsAndReusesTheBuffer) {
  const auto boxes = MakeBoxes<Box2>(10, Distribution::kUniform, 1);
  auto tree = engine::PackedRTree2D::Build(boxes);
  ASSERT_TRUE(tree.ok());
  std::vector<std::span<const uint8_t>> three(3);
  WriteOptions o;
  o.payloads = three;
  Bytes out;
  Status s = WriteIndex(*tree, o, &out);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("payloads.size() = 3: expected 10"), std::string::npos)
      << s.ToString();
  Bytes fixed(19);
  WriteOptions f;
  f.fixed_payload_width = 2;
  f.fixed_payloads = fixed;
  s = WriteIndex(*tree, f, &out);
  EXPECT_NE(s.message().find("fixed_payloads.size() = 19: expected 20"), std::string::npos)
      << s.ToString();

  // The caller's buffer: old contents replaced, capacity reused, bytes identical.
  Bytes fresh, reused(100000, 0xAB);
  const uint8_t* before = reused.data();
  ASSERT_TRUE(WriteIndex(*tree, {}, &fresh).ok());
  ASSERT_TRUE(WriteIndex(*tree, {}, &reused).ok());
  EXPECT_EQ(fresh, reused);
  EXPECT_EQ(reused.data(), before);
}

TEST(IndexFileTest, OutputDependsOnlyOnTheTree) {
  // Trees built with and without threads are identical, so their files are too.
  const auto boxes = MakeBoxes<Box3>(40000, Distribution::kUniform, 7);
  auto serial = engine::PackedRTree3F::Build(boxes, {.parallel_threshold = size_t{1} << 40});
  auto parallel = engine::PackedRTree3F::Build(boxes, {.parallel_threshold = 0});
  ASSERT_TRUE(serial.ok() && parallel.ok());
  Bytes a, b;
  ASSERT_TRUE(WriteIndex(*serial, {}, &a).ok());
  ASSERT_TRUE(WriteIndex(*parallel, {}, &b).ok());
  EXPECT_EQ(a, b);
}

TEST(IndexFileTest, ReadIndexInfoAndWrongTypeIsANamedError) {
  const auto boxes = MakeBoxes<Box2>(100, Distribution::kUniform, 3);
  auto tree = engine::PackedRTree2F::Build(boxes, {.node_size = 7});
  ASSERT_TRUE(tree.ok());
  Bytes bytes;
  ASSERT_TRUE(WriteIndex(*tree, {}, &bytes).ok());
  auto info = ReadIndexInfo(bytes);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->dims, 2);
  EXPECT_TRUE(info->f32);
  EXPECT_EQ(info->node_size, 7u);
  EXPECT_EQ(info->num_items, 100u);
  EXPECT_EQ(info->format_major, 1);
  auto wrong = TreeView<3, float>::Open(bytes);
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(wrong.status().message().find("the file holds a 2D f32 tree; this loader reads 3D f32"),
            std::string::npos)
      << wrong.status().ToString();
  EXPECT_FALSE((TreeView<2, double>::Open(bytes).ok()));
}

TEST(IndexFileTest, MisalignedBuffersAreCopiedNeverReadMisaligned) {
  const auto boxes = MakeBoxes<Box2>(300, Distribution::kUniform, 5);
  auto tree = engine::PackedRTree2D::Build(boxes, {.node_size = 4});
  ASSERT_TRUE(tree.ok());
  Bytes bytes;
  ASSERT_TRUE(WriteIndex(*tree, {}, &bytes).ok());
  Bytes padded(bytes.size() + 64);
  // vector storage is at least 16-byte aligned; the offset decides the alignment.
  for (size_t offset = 0; offset <= 8; ++offset) {
    SCOPED_TRACE("offset " + std::to_string(offset));
    std::memcpy(padded.data() + offset, bytes.data(), bytes.size());
    auto view =
        TreeView<2, double>::Open(std::span<const uint8_t>(padded.data() + offset, bytes.size()));
    ASSERT_TRUE(view.ok()) << view.status().ToString();
    EXPECT_EQ(view->zero_copy(), offset % 8 == 0);
    ExpectSameLayout(tree->layout(), view->layout());
    EXPECT_EQ(CountAll(view->layout()), 300u);
  }
  // f32 arrays need only 4-byte alignment.
  auto tree32 = engine::PackedRTree2F::Build(boxes, {.node_size = 4});
  ASSERT_TRUE(tree32.ok());
  ASSERT_TRUE(WriteIndex(*tree32, {}, &bytes).ok());
  padded.assign(bytes.size() + 64, 0);
  for (size_t offset : {2, 4, 6}) {
    std::memcpy(padded.data() + offset, bytes.data(), bytes.size());
    auto view =
        TreeView<2, float>::Open(std::span<const uint8_t>(padded.data() + offset, bytes.size()));
    ASSERT_TRUE(view.ok()) << view.status().ToString();
    EXPECT_EQ(view->zero_copy(), offset % 4 == 0) << offset;
    ExpectSameLayout(tree32->layout(), view->layout());
  }
}

// ---- a small file with every chunk kind, for the hostile-input tests ----

struct Small {
  engine::PackedRTree2D tree;
  Bytes bytes;
};
Small MakeSmall(size_t n = 23, uint32_t ns = 4, bool extras = true,
                TreeLayout layout = TreeLayout::kBoxesThenIds) {
  Small s;
  const auto boxes = MakeBoxes<Box2>(n, Distribution::kUniform, 11);
  s.tree = std::move(*engine::PackedRTree2D::Build(boxes, {.node_size = ns}));
  static std::vector<Bytes> blobs;
  blobs.assign(n, Bytes());
  for (size_t i = 0; i < n; ++i) blobs[i].assign(i % 5, static_cast<uint8_t>(i));
  static std::vector<std::span<const uint8_t>> spans;
  spans.assign(blobs.begin(), blobs.end());
  WriteOptions o;
  o.layout = layout;
  if (extras) {
    o.payloads = spans;
    o.metadata = {{"crs", "EPSG:3857"}, {"content_type", "x"}};
  }
  LOCUS_CHECK(WriteIndex(s.tree, o, &s.bytes).ok());
  return s;
}

// Loads through the view (exact-size heap copy, so ASan sees any over-read) and, when
// accepted, exercises everything a caller may do with the index.
Status LoadAndUse(const Bytes& b, bool verify = true) {
  const Bytes exact(b);  // exact-size allocation
  auto view = TreeView<2, double>::Open(exact, {.verify_checksums = verify});
  if (!view.ok()) return view.status();
  const auto& l = view->layout();
  if (CountAll(l) != l.num_items) return InternalError("accepted index miscounts");
  std::vector<uint32_t> all = VisitAll(l, -1e300, 1e300);
  std::sort(all.begin(), all.end());
  for (size_t i = 0; i < all.size(); ++i) {
    if (all[i] != i) return InternalError("accepted index lost an id");
  }
  VisitAll(l, 100.0, 400.0);
  const auto& tree = view->tree();
  std::vector<uint32_t> hits;
  if (!tree.Search(Box2{{100, 100}, {400, 400}}, &hits).ok()) return InternalError("Search");
  if (!tree.SearchRadius(Point2{500, 500}, 100, &hits).ok()) return InternalError("Radius");
  std::vector<engine::PackedRTree2D::Neighbor> nn;
  if (!tree.Nearest(Point2{500, 500}, 5, &nn).ok()) return InternalError("Nearest");
  if (nn.size() != std::min<size_t>(5, l.num_items)) return InternalError("Nearest count");
  std::vector<engine::RayHit> rh;
  if (!tree.Raycast(Ray2{{0, 0}, {1, 1}}, &rh).ok()) return InternalError("Raycast");
  for (uint32_t id = 0; id < l.num_items; ++id) {
    auto p = view->payload(id);
    if (!p.ok()) return InternalError("payload failed");
    volatile uint8_t sink = 0;
    for (uint8_t c : *p) sink = sink + c;
  }
  return Status();
}

TEST(IndexFileHostileTest, EveryTruncationIsAnError) {
  for (TreeLayout layout : {TreeLayout::kBoxesThenIds, TreeLayout::kNodeInterleaved}) {
  const Small s = MakeSmall(23, 4, true, layout);
  for (size_t len = 0; len < s.bytes.size(); ++len) {
    for (bool verify : {true, false}) {
      const Bytes cut(s.bytes.begin(), s.bytes.begin() + len);
      Status st = LoadAndUse(cut, verify);
      ASSERT_FALSE(st.ok()) << "length " << len;
      ASSERT_EQ(st.code(), StatusCode::kCorruption) << st.ToString();
      // The same cut with a superblock that agrees (file_length = len, checksums redone):
      // now the chunk ranges, not the length field, must catch it.
      if (len >= 64) {
        Bytes lying = cut;
        Set<uint64_t>(lying, 16, len);
        Resign(lying);
        st = LoadAndUse(lying, verify);
        ASSERT_EQ(st.code(), StatusCode::kCorruption) << "length " << len << ": " << st.ToString();
      }
    }
  }
  }
  const Small s = MakeSmall();
  // A truncated file through the map, too.
  const std::string path = TempDir() + "/truncated.locus";
  WriteRaw(path, Bytes(s.bytes.begin(), s.bytes.end() - 1));
  auto m = MappedTree<2, double>::Open(path);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("file is truncated"), std::string::npos)
      << m.status().ToString();
}

TEST(IndexFileHostileTest, EveryByteFlipIsDetectedOrHarmless) {
  const Small s = MakeSmall();
  size_t detected = 0, harmless = 0;
  for (size_t i = 0; i < s.bytes.size(); ++i) {
    for (uint8_t pattern : {0x01, 0x80, 0xFF}) {
      Bytes b = s.bytes;
      b[i] ^= pattern;
      auto v = TreeView<2, double>::Open(b);
      if (!v.ok()) {
        ASSERT_EQ(v.status().code(), StatusCode::kCorruption) << v.status().ToString();
        ++detected;
      } else {  // only bytes no checksum covers (gaps between chunks) may change
        ExpectSameLayout(s.tree.layout(), v->layout());
        ++harmless;
      }
    }
  }
  EXPECT_GT(detected, harmless);
}

TEST(IndexFileHostileTest, EveryByteFlipWithValidChecksumsIsAnErrorOrAUsableIndex) {
  // The checksums are recomputed after each flip, so only structural validation stands
  // between the edit and the query loops. Both layouts; node size 5 gives the interleaved
  // leaf records padding bytes.
  size_t rejected = 0, accepted = 0;
  for (TreeLayout layout : {TreeLayout::kBoxesThenIds, TreeLayout::kNodeInterleaved}) {
  const Small s = MakeSmall(23, layout == TreeLayout::kNodeInterleaved ? 5 : 4, true, layout);
  for (size_t i = 0; i < s.bytes.size(); ++i) {
    for (uint8_t pattern : {0x01, 0x10, 0x80, 0xFF}) {
      Bytes b = s.bytes;
      b[i] ^= pattern;
      Resign(b);
      for (bool verify : {true, false}) {
        Status st = LoadAndUse(b, verify);
        if (!st.ok()) {
          ASSERT_NE(st.code(), StatusCode::kInternal) << "byte " << i << ": " << st.ToString();
          ++rejected;
        } else {
          ++accepted;
        }
      }
    }
  }
  }
  EXPECT_GT(rejected, 0u);
  EXPECT_GT(accepted, 0u);  // e.g. a coordinate moved inside its node: still a valid index
}

// Hostile edits with valid checksums, each caught by the named structural check.
TEST(IndexFileHostileTest, StructuralEditsAreRejectedWithNamedMessages) {
  const Small s = MakeSmall();  // 23 items, node size 4: levels 24 + 8 + 4 slots
  const uint64_t tree = ChunkOffset(s.bytes, TagOf("TREE"));
  const uint64_t payl = ChunkOffset(s.bytes, TagOf("PAYL"));
  const uint64_t meta = ChunkOffset(s.bytes, TagOf("META"));
  const uint64_t arrays = tree + 24;        // (offset, length) x 5
  const uint64_t levels = arrays + 16 * 5;  // level_begin x 4
  const uint64_t min_x = tree + Get<uint64_t>(s.bytes, arrays);
  const uint64_t max_x = tree + Get<uint64_t>(s.bytes, arrays + 32);
  const uint64_t ids = tree + Get<uint64_t>(s.bytes, arrays + 64);
  const double inf = std::numeric_limits<double>::infinity();
  struct Edit {
    const char* name;
    std::function<void(Bytes&)> apply;
    const char* message;
  };
  const std::vector<Edit> edits = {
      {"num_items + 1 (same shape)", [&](Bytes& b) { Set<uint64_t>(b, tree + 8, 24); },
       "tree chunk: level 0 slot 23: min.x = inf"},
      {"num_items 16", [&](Bytes& b) { Set<uint64_t>(b, tree + 8, 16); },
       "tree chunk: num_levels = 3, expected 2 for 16 items at node size 4"},
      {"num_items 25", [&](Bytes& b) { Set<uint64_t>(b, tree + 8, 25); },
       "tree chunk: array min.x at offset 192 length 288, expected offset 192 length 320"},
      {"num_items huge", [&](Bytes& b) { Set<uint64_t>(b, tree + 8, uint64_t{1} << 40); },
       "num_items = 1099511627776: at most"},
      {"reserved header byte", [&](Bytes& b) { b[tree + 3] = 1; },
       "tree chunk: reserved header bytes are not zero"},
      {"reserved header word", [&](Bytes& b) { b[tree + 22] = 1; },
       "tree chunk: reserved header bytes are not zero"},
      {"node_size 1", [&](Bytes& b) { Set<uint32_t>(b, tree + 4, 1); }, "node_size = 1"},
      {"node_size 65", [&](Bytes& b) { Set<uint32_t>(b, tree + 4, 65); }, "node_size = 65"},
      {"dims 4", [&](Bytes& b) { b[tree] = 4; }, "dims = 4"},
      {"coordinate type 3", [&](Bytes& b) { b[tree + 1] = 3; }, "coordinate type = 3"},
      {"layout flipped to node-interleaved", [&](Bytes& b) { b[tree + 2] = 1; },
       "array level 2 at offset"},
      {"unknown layout", [&](Bytes& b) { b[tree + 2] = 9; }, "layout = 9: unknown"},
      {"num_levels", [&](Bytes& b) { Set<uint32_t>(b, tree + 16, 2); },
       "num_levels = 2, expected 3"},
      {"array offset", [&](Bytes& b) { Set<uint64_t>(b, arrays, Get<uint64_t>(b, arrays) + 64); },
       "array min.x at offset"},
      {"array length", [&](Bytes& b) { Set<uint64_t>(b, arrays + 8 + 16 * 4, 8); },
       "array ids at offset"},
      {"level_begin[0]", [&](Bytes& b) { Set<uint64_t>(b, levels, 4); }, "level_begin[0] = 4"},
      {"level length", [&](Bytes& b) { Set<uint64_t>(b, levels + 16, 36); },
       "level 1 length 12, expected 8 for 23 items at node size 4"},
      {"level backwards", [&](Bytes& b) { Set<uint64_t>(b, levels + 8, 0); },
       "level 0 length 0, expected 24"},
      {"tail padding", [&](Bytes& b) { b[min_x + 36 * 8 + 3] = 1; }, "padding byte at offset"},
      {"real box NaN", [&](Bytes& b) { Set<double>(b, min_x + 5 * 8, std::nan("")); },
       "level 0 slot 5: min.x = nan"},
      {"real box infinite", [&](Bytes& b) { Set<double>(b, max_x + 2 * 8, inf); },
       "not a finite, uncrossed box"},
      {"real box crossed", [&](Bytes& b) { Set<double>(b, min_x, 2000.0); },
       "not a finite, uncrossed box"},
      {"padding slot real", [&](Bytes& b) { Set<double>(b, min_x + 23 * 8, 1.0); },
       "level 0 padding slot 23 is not the empty box"},
      {"padding node real", [&](Bytes& b) { Set<double>(b, max_x + (24 + 7) * 8, 1.0); },
       "level 1 padding slot 7"},
      {"node misses a child", [&](Bytes& b) { Set<double>(b, max_x + 24 * 8, -5.0); },
       "level 1 slot 0: min.x"},  // crossed after the edit (min > max)
      {"node too small",
       [&](Bytes& b) { Set<double>(b, max_x + 24 * 8, Get<double>(b, min_x + 24 * 8)); },
       "level 1 slot 0 does not contain its child"},
      {"id out of range", [&](Bytes& b) { Set<uint32_t>(b, ids + 4, 23); }, "leaf 1 has id 23"},
      {"id kNoId in a real leaf", [&](Bytes& b) { Set<uint32_t>(b, ids, 0xFFFFFFFF); },
       "leaf 0 has id 4294967295"},
      {"id twice", [&](Bytes& b) { Set<uint32_t>(b, ids + 4, Get<uint32_t>(b, ids)); },
       "appears twice"},
      {"padding id", [&](Bytes& b) { Set<uint32_t>(b, ids + 23 * 4, 0); },
       "padding leaf slot 23 has id 0"},
      {"payload count", [&](Bytes& b) { Set<uint64_t>(b, payl + 8, 22); },
       "payload chunk: count = 22"},
      {"payload kind", [&](Bytes& b) { Set<uint32_t>(b, payl, 7); }, "payload chunk: kind = 7"},
      {"payload offset past the data",
       [&](Bytes& b) { Set<uint64_t>(b, payl + 64 + 8 * 3, ~uint64_t{0}); },
       "payload chunk: offset["},
      {"payload first offset", [&](Bytes& b) { Set<uint64_t>(b, payl + 64, 1); },
       "payload chunk: offset[0] = 1"},
      {"payload data length huge", [&](Bytes& b) { Set<uint64_t>(b, payl + 16, ~uint64_t{0}); },
       "payload chunk: data ["},
      {"payload offsets outside", [&](Bytes& b) { Set<uint64_t>(b, payl + 24, ~uint64_t{0} - 8); },
       "payload chunk: offsets ["},
      {"metadata order",
       [&](Bytes& b) { b[meta + 8] = 'z'; },  // "content_type" -> "zontent_type" > "crs"
       "metadata chunk: entry 1: keys must be"},
      {"metadata count", [&](Bytes& b) { Set<uint32_t>(b, meta, 3); },
       "metadata chunk: key length"},
      {"metadata length huge", [&](Bytes& b) { Set<uint32_t>(b, meta + 4, 0xFFFFFFF0); },
       "metadata chunk: key at offset 8 needs 4294967280 bytes"},
      {"file_length", [&](Bytes& b) { Set<uint64_t>(b, 16, b.size() + 1); }, "file is truncated"},
      {"chunk_count 0", [&](Bytes& b) { Set<uint32_t>(b, 32, 0); }, "chunk_count = 0"},
      {"chunk_count huge", [&](Bytes& b) { Set<uint32_t>(b, 32, 0xFFFFFFFF); },
       "chunk_count = 4294967295"},
      {"directory offset overflow", [&](Bytes& b) { Set<uint64_t>(b, 24, ~uint64_t{0} - 63); },
       "superblock: directory at offset"},
      {"chunk length overflow", [&](Bytes& b) { Set<uint64_t>(b, 64 + 16, ~uint64_t{0}); },
       "chunk 0 ('TREE'): range"},
      {"chunk misaligned", [&](Bytes& b) { Set<uint64_t>(b, 64 + 8, tree + 8); },
       "not 64-byte aligned"},
      {"chunks overlap", [&](Bytes& b) { Set<uint64_t>(b, 64 + 32 + 8, tree); },
       "after the previous chunk"},
      {"chunk flags", [&](Bytes& b) { Set<uint32_t>(b, 64 + 4, 6); },
       "chunk 0 ('TREE'): unknown flags"},
      {"superblock flags", [&](Bytes& b) { Set<uint32_t>(b, 12, 1); },
       "superblock: unknown flags 0x00000001"},
      {"major version", [&](Bytes& b) { Set<uint16_t>(b, 8, 2); },
       "format version 2.0 is not supported (this reader reads 1.x)"},
      {"magic", [&](Bytes& b) { b[1] = 'X'; }, "bad magic"},
  };
  for (const Edit& e : edits) {
    SCOPED_TRACE(e.name);
    Bytes b = s.bytes;
    e.apply(b);
    Resign(b);
    for (bool verify : {true, false}) {
      Status st = LoadAndUse(b, verify);
      ASSERT_FALSE(st.ok());
      EXPECT_EQ(st.code(), StatusCode::kCorruption) << st.ToString();
      EXPECT_NE(st.message().find(e.message), std::string::npos) << st.ToString();
    }
  }
  // A minor version bump is compatible.
  Bytes b = s.bytes;
  Set<uint16_t>(b, 10, 7);
  Resign(b);
  EXPECT_TRUE(LoadAndUse(b).ok());

  // Node-interleaved at node size 5: each leaf record is 4 x 5 x 8 box bytes + 5 x 4 id
  // bytes + 4 zero bytes (184 in all); a set padding byte is named. Levels are stored top down, so the
  // leaf level is the last array (table entry num_levels - 1).
  const Small il = MakeSmall(23, 5, true, TreeLayout::kNodeInterleaved);
  const uint64_t il_tree = ChunkOffset(il.bytes, TagOf("TREE"));
  const uint32_t il_levels = Get<uint32_t>(il.bytes, il_tree + 16);
  ASSERT_EQ(il_levels, 2u);
  const uint64_t leaf_records = il_tree + Get<uint64_t>(il.bytes, il_tree + 24 + 16 * (il_levels - 1));
  Bytes bad = il.bytes;
  bad[leaf_records + 182] = 7;  // record 0's padding (bytes 180..183)
  Resign(bad);
  for (bool verify : {true, false}) {
    Status st = LoadAndUse(bad, verify);
    EXPECT_EQ(st.code(), StatusCode::kCorruption) << st.ToString();
    EXPECT_NE(st.message().find("level 0 node 0: record padding byte 182 is not zero"),
              std::string::npos)
        << st.ToString();
  }
  // An id edited inside a record is caught by the same checks as in the other layout.
  bad = il.bytes;
  Set<uint32_t>(bad, leaf_records + 160, 99);
  Resign(bad);
  Status st = LoadAndUse(bad);
  EXPECT_NE(st.message().find("has id 99, not below the item count 23"), std::string::npos)
      << st.ToString();
}

// The fast validation passes (storage/index_validate.h) on trees large enough for their
// threaded paths (> 2^18 items), at node size 16 (whole vectors per node) and 5 (masked
// tails), with and without payloads (id bitmap vs id -> position map), on every compiled
// Highway target: an edit deep in the arrays must still be named by the exact checks, and
// the untouched file must load with the right points flag.
TEST(IndexFileHostileTest, LargeTreeEditsAreNamedOnEveryTarget) {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE(SeedTrace(seed));
  constexpr size_t kN = 300'001;  // a partial last node at both node sizes
  for (const uint32_t ns : {16u, 5u}) {
    for (const bool payloads : {false, true}) {
      SCOPED_TRACE("node size " + std::to_string(ns) + (payloads ? ", payloads" : ""));
      const auto boxes = MakeBoxes<Box2>(kN, Distribution::kUniform, seed);
      const auto tree = std::move(*engine::PackedRTree2D::Build(boxes, {.node_size = ns}));
      WriteOptions o;
      Bytes fixed(kN * 2, 7);
      if (payloads) {
        o.fixed_payload_width = 2;
        o.fixed_payloads = fixed;
      }
      Bytes bytes;
      ASSERT_TRUE(WriteIndex(tree, o, &bytes).ok());
      const uint64_t chunk = ChunkOffset(bytes, TagOf("TREE"));
      const uint64_t arrays = chunk + 24;
      const uint64_t min_x = chunk + Get<uint64_t>(bytes, arrays);
      const uint64_t max_y = chunk + Get<uint64_t>(bytes, arrays + 48);
      const uint64_t ids = chunk + Get<uint64_t>(bytes, arrays + 64);
      const uint64_t leaf_slots = (kN + ns - 1) / ns * ns;
      std::mt19937_64 rng(seed);
      const uint64_t p = kN / 2 + rng() % (kN / 4);  // a real leaf in the second half
      struct Edit {
        std::string name;
        std::function<void(Bytes&)> apply;
        std::string message;
      };
      const std::vector<Edit> edits = {
          {"leaf crossed", [&](Bytes& b) { Set<double>(b, min_x + p * 8, 5000.0); },
           "tree chunk: level 0 slot " + std::to_string(p) + ": min.x"},
          {"leaf NaN", [&](Bytes& b) { Set<double>(b, max_y + p * 8, std::nan("")); },
           "tree chunk: level 0 slot " + std::to_string(p) + ": min.y"},
          {"node misses its child",
           [&](Bytes& b) {
             Set<double>(b, max_y + p * 8, Get<double>(b, max_y + p * 8) + 2000.0);
           },
           "does not contain its child " + std::to_string(p) + " on axis 1"},
          {"padding leaf box",
           [&](Bytes& b) { Set<double>(b, min_x + (leaf_slots - 1) * 8, 1.0); },
           "tree chunk: level 0 padding slot " + std::to_string(leaf_slots - 1) +
               " is not the empty box"},
          {"id twice",
           [&](Bytes& b) { Set<uint32_t>(b, ids + p * 4, Get<uint32_t>(b, ids + (p - 7) * 4)); },
           "appears twice (leaf " + std::to_string(p) + ")"},
          {"id out of range", [&](Bytes& b) { Set<uint32_t>(b, ids + p * 4, kN); },
           "tree chunk: leaf " + std::to_string(p) + " has id " + std::to_string(kN)},
          {"first half id twice",
           [&](Bytes& b) { Set<uint32_t>(b, ids + 4, Get<uint32_t>(b, ids + p * 4)); },
           "appears twice (leaf " + std::to_string(p) + ")"},
      };
      for (int64_t target : kernels::CompiledTargets()) {
        SCOPED_TRACE(kernels::TargetName(target));
        kernels::SetTargetForTest(target);
        auto good = TreeView<2, double>::Open(bytes, {.verify_checksums = false});
        ASSERT_TRUE(good.ok()) << good.status().ToString();
        EXPECT_FALSE(good->layout().points);
        ExpectSameLayout(tree.layout(), good->layout());
        for (const Edit& e : edits) {
          SCOPED_TRACE(e.name);
          Bytes b = bytes;
          e.apply(b);
          auto v = TreeView<2, double>::Open(b, {.verify_checksums = false});
          ASSERT_FALSE(v.ok());
          EXPECT_NE(v.status().message().find(e.message), std::string::npos)
              << v.status().ToString();
        }
      }
      kernels::SetTargetForTest(0);
    }
  }
}

// Concurrent loads share oneTBB's workers, and a worker waiting inside one load's parallel
// step may run another load's task: each must still judge its own bytes (the fast id check
// keeps a per-thread bitmap that must not be shared by two loads at once). On 2 vCPUs this
// interleaving is rare: removing the bitmap's busy guard did not make this test fail in 3
// runs at 8 threads x 40 loads, so it checks concurrent results, not that guard.
TEST(IndexFileHostileTest, ConcurrentLargeLoadsJudgeTheirOwnBytes) {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE(SeedTrace(seed));
  constexpr size_t kN = 300'000;
  const auto boxes = MakeBoxes<Box2>(kN, Distribution::kUniform, seed);
  const auto tree = std::move(*engine::PackedRTree2D::Build(boxes));
  Bytes good;
  ASSERT_TRUE(WriteIndex(tree, {}, &good).ok());
  const uint64_t chunk = ChunkOffset(good, TagOf("TREE"));
  const uint64_t ids = chunk + Get<uint64_t>(good, chunk + 24 + 64);
  Bytes bad = good;  // one id twice, far apart
  Set<uint32_t>(bad, ids + (kN - 3) * 4, Get<uint32_t>(bad, ids + 5 * 4));
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 6; ++i) {
        const bool want_ok = (t + i) % 2 == 0;
        auto v = TreeView<2, double>::Open(want_ok ? good : bad, {.verify_checksums = false});
        if (v.ok() != want_ok) wrong.fetch_add(1);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
}

TEST(IndexFileHostileTest, ChecksumsCatchDataEditsAndCanBeDeferred) {
  const Small s = MakeSmall();
  const uint64_t tree = ChunkOffset(s.bytes, TagOf("TREE"));
  const uint64_t min_x = tree + Get<uint64_t>(s.bytes, tree + 24);
  Bytes b = s.bytes;
  // Move one leaf coordinate a little: structurally still valid (inside its node).
  const size_t slot = s.tree.layout().level_begin[0];
  Set<double>(b, min_x + slot * 8, Get<double>(b, min_x + slot * 8) + 1e-9);
  Status st = LoadAndUse(b, /*verify=*/true);
  EXPECT_EQ(st.code(), StatusCode::kCorruption);
  EXPECT_NE(st.message().find("chunk 0 ('TREE'): checksum mismatch"), std::string::npos)
      << st.ToString();
  EXPECT_TRUE(LoadAndUse(b, /*verify=*/false).ok());  // deferred: the caller trusts the file
  // Superblock and directory checksums are always verified.
  Bytes c = s.bytes;
  c[40] ^= 1;  // a reserved superblock byte
  EXPECT_NE(LoadAndUse(c, false).message().find("superblock: checksum mismatch"),
            std::string::npos);
  Bytes d = s.bytes;
  d[64 + 28] ^= 1;  // a reserved directory byte
  EXPECT_NE(LoadAndUse(d, false).message().find("chunk directory: checksum mismatch"),
            std::string::npos);
}

TEST(IndexFileCompatibilityTest, UnknownOptionalChunksAreSkippedUnknownCriticalRejected) {
  const Small s = MakeSmall();
  auto chunks = Split(s.bytes);
  ASSERT_EQ(chunks.size(), 3u);
  Bytes junk(100, 0x5A);
  auto with_optional = chunks;
  with_optional.insert(with_optional.begin() + 1, {TagOf("ZZZZ"), 0, junk});
  with_optional.push_back({0x01020304, 0, {}});
  const Bytes a = Assemble(s.bytes, with_optional);
  ASSERT_TRUE(LoadAndUse(a).ok()) << LoadAndUse(a).ToString();
  auto view = TreeView<2, double>::Open(a);
  ASSERT_TRUE(view.ok());
  ExpectSameLayout(s.tree.layout(), view->layout());
  EXPECT_EQ(view->metadata().at("crs"), "EPSG:3857");

  auto with_critical = chunks;
  with_critical.push_back({TagOf("NEW!"), 1, junk});
  Status st = LoadAndUse(Assemble(s.bytes, with_critical));
  EXPECT_EQ(st.code(), StatusCode::kCorruption);
  EXPECT_NE(st.message().find("chunk 3 ('NEW!'): unknown critical chunk"), std::string::npos)
      << st.ToString();
  with_critical.back().tag = 0x00000001;  // a non-printable tag is shown in hex
  st = LoadAndUse(Assemble(s.bytes, with_critical));
  EXPECT_NE(st.message().find("chunk 3 (0x00000001): unknown critical chunk"), std::string::npos)
      << st.ToString();

  auto no_tree = chunks;
  no_tree.erase(no_tree.begin());
  st = LoadAndUse(Assemble(s.bytes, no_tree));
  EXPECT_NE(st.message().find("no tree chunk"), std::string::npos) << st.ToString();
  auto two_trees = chunks;
  two_trees.push_back(chunks[0]);
  st = LoadAndUse(Assemble(s.bytes, two_trees));
  EXPECT_NE(st.message().find("chunk 3 ('TREE'): a second chunk of this kind"), std::string::npos)
      << st.ToString();
  // The known chunks in another order are still a valid file.
  auto reordered = chunks;
  std::swap(reordered[0], reordered[2]);
  EXPECT_TRUE(LoadAndUse(Assemble(s.bytes, reordered)).ok());
}

TEST(IndexFileCompatibilityTest, TooShortAndForeignFilesAreNamed) {
  EXPECT_NE(LoadAndUse(Bytes()).message().find("file is 0 bytes: shorter than the 64-byte"),
            std::string::npos);
  Bytes text(200, 'a');
  EXPECT_NE(LoadAndUse(text).message().find("bad magic: not a locus index file"),
            std::string::npos);
}

// ---- files ----

TEST(IndexFileWriteTest, FileWriteIsAtomicAndReplacesOnlyOnSuccess) {
  const std::string dir = TempDir() + "/atomic";
  ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0);
  const std::string path = dir + "/index.locus";
  const auto boxes = MakeBoxes<Box3>(1000, Distribution::kClustered, 9);
  auto tree = engine::PackedRTree3D::Build(boxes);
  ASSERT_TRUE(tree.ok());
  ASSERT_TRUE(WriteIndexFile(path, *tree).ok());
  auto m = MappedTree<3, double>::Open(path);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_TRUE(m->zero_copy());
  ExpectSameLayout(tree->layout(), m->layout());
  const Bytes first = ReadRaw(path);
  Bytes want;
  ASSERT_TRUE(WriteIndex(*tree, {}, &want).ok());
  EXPECT_EQ(first, want);

  // A second write replaces the file; the open map still sees the old one (rename, not
  // rewrite in place).
  auto small = engine::PackedRTree3D::Build(std::span(boxes).first(10));
  ASSERT_TRUE(small.ok());
  ASSERT_TRUE(WriteIndexFile(path, *small).ok());
  EXPECT_EQ(m->size(), 1000u);
  EXPECT_EQ(CountAll(m->layout()), 1000u);
  auto m2 = MappedTree<3, double>::Open(path);
  ASSERT_TRUE(m2.ok());
  EXPECT_EQ(m2->size(), 10u);
  const Bytes second = ReadRaw(path);

  // Failures leave the existing file alone and no temporary behind.
  std::vector<std::span<const uint8_t>> wrong(3);
  WriteOptions bad;
  bad.payloads = wrong;
  EXPECT_EQ(WriteIndexFile(path, *tree, bad).code(), StatusCode::kInvalidArgument);
  const std::string sub = dir + "/a_directory";
  ASSERT_EQ(::mkdir(sub.c_str(), 0755), 0);
  Status st = WriteIndexFile(sub, *tree);  // rename onto a directory fails
  EXPECT_EQ(st.code(), StatusCode::kIoError);
  EXPECT_NE(st.message().find("rename(" + sub + ")"), std::string::npos) << st.ToString();
  st = WriteIndexFile(dir + "/missing/index.locus", *tree);
  EXPECT_EQ(st.code(), StatusCode::kIoError);
  EXPECT_NE(st.message().find("open(" + dir + "/missing/index.locus.tmp."), std::string::npos)
      << st.ToString();
  EXPECT_EQ(ReadRaw(path), second);
  EXPECT_EQ(ListDir(dir), (std::vector<std::string>{"a_directory", "index.locus"}));
}

TEST(IndexFileWriteTest, MappedTreeErrorsNameThePath) {
  auto missing = MappedTree<2, double>::Open(TempDir() + "/nope.locus");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  const std::string empty = TempDir() + "/empty.locus";
  WriteRaw(empty, Bytes());
  auto e = MappedTree<2, double>::Open(empty);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), StatusCode::kCorruption);
  EXPECT_NE(e.status().message().find(empty + ": file is 0 bytes"), std::string::npos)
      << e.status().ToString();
  const Small s = MakeSmall();
  Bytes b = s.bytes;
  Set<uint32_t>(b, ChunkOffset(b, TagOf("TREE")) + 4, 1);
  Resign(b);
  const std::string bad = TempDir() + "/bad.locus";
  WriteRaw(bad, b);
  auto m = MappedTree<2, double>::Open(bad);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().message(), bad + ": tree chunk: node_size = 1: must be in [2, 64]");
}

TEST(IndexFileWriteTest, LoadedIndexesMoveAndOutliveTheirSource) {
  const Small s = MakeSmall();
  auto owned = OwnedTree<2, double>::FromBytes(s.bytes);
  ASSERT_TRUE(owned.ok());
  {
    Bytes scratch = s.bytes;  // the owned copy must not depend on this
    auto o2 = OwnedTree<2, double>::FromBytes(scratch);
    ASSERT_TRUE(o2.ok());
    std::fill(scratch.begin(), scratch.end(), 0);
    ExpectSameLayout(s.tree.layout(), o2->layout());
    OwnedTree<2, double> moved = std::move(*o2);
    ExpectSameLayout(s.tree.layout(), moved.layout());
    EXPECT_EQ((*moved.payload(4)).size(), 4u);
  }
  EXPECT_FALSE(owned->zero_copy());
}

}  // namespace
}  // namespace locus::storage

namespace locus::storage {
namespace {

// Writes the seed corpus of tests/fuzz (index_loader_fuzz) when LOCUS_WRITE_FUZZ_SEEDS names
// a directory, e.g. LOCUS_WRITE_FUZZ_SEEDS=tests/fuzz/corpus/index_loader
// build-rel/tests/locus_storage_test --gtest_filter='*FuzzSeeds*'. Skipped otherwise.
TEST(IndexFileFuzzSeeds, WriteWhenAsked) {
  const char* dir = std::getenv("LOCUS_WRITE_FUZZ_SEEDS");
  if (dir == nullptr || *dir == '\0') GTEST_SKIP() << "LOCUS_WRITE_FUZZ_SEEDS not set";
  Bytes b;
  // 2D f64, variable payloads and metadata (every chunk kind).
  const Small s = MakeSmall();
  WriteRaw(std::string(dir) + "/2d_f64_payloads_meta.locus", s.bytes);
  // 3D f32, fixed-width payloads, node size 2.
  auto t3 = engine::PackedRTree3F::Build(MakeBoxes<Box3>(10, Distribution::kUniform, 2),
                                         {.node_size = 2});
  ASSERT_TRUE(t3.ok());
  Bytes fixed(10 * 3, 7);
  WriteOptions o;
  o.fixed_payload_width = 3;
  o.fixed_payloads = fixed;
  ASSERT_TRUE(WriteIndex(*t3, o, &b).ok());
  WriteRaw(std::string(dir) + "/3d_f32_fixed.locus", b);
  // 3D f64 points (the points layout), node size 5.
  auto tp =
      engine::PackedRTree3D::Build(MakeBoxes<Box3>(40, Distribution::kPoints, 3), {.node_size = 5});
  ASSERT_TRUE(tp.ok());
  ASSERT_TRUE(WriteIndex(*tp, {}, &b).ok());
  WriteRaw(std::string(dir) + "/3d_f64_points.locus", b);
  // 2D f32, empty.
  ASSERT_TRUE(WriteIndex(engine::PackedRTree2F(), {}, &b).ok());
  WriteRaw(std::string(dir) + "/2d_f32_empty.locus", b);
  // Node-interleaved: 2D f64 with payloads and metadata at node size 5 (padded leaf
  // records), and 3D f32 points at node size 3 with fixed payloads.
  const Small il = MakeSmall(23, 5, true, TreeLayout::kNodeInterleaved);
  WriteRaw(std::string(dir) + "/2d_f64_interleaved_payloads.locus", il.bytes);
  auto t3p = engine::PackedRTree3F::Build(MakeBoxes<Box3>(30, Distribution::kPoints, 8),
                                          {.node_size = 3});
  ASSERT_TRUE(t3p.ok());
  Bytes fixed30(30 * 2, 9);
  WriteOptions io;
  io.layout = TreeLayout::kNodeInterleaved;
  io.fixed_payload_width = 2;
  io.fixed_payloads = fixed30;
  ASSERT_TRUE(WriteIndex(*t3p, io, &b).ok());
  WriteRaw(std::string(dir) + "/3d_f32_interleaved_points.locus", b);
}

}  // namespace
}  // namespace locus::storage
