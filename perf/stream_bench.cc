// W7 streaming rows (PERF.md): a 1M-box index queried through StreamTree, reading only the
// byte ranges each query needs, from a local file (pread) and over HTTP range requests
// (libcurl against nginx on loopback, which `perf/run W7` starts and stops), for small,
// medium and large windows, in both tree layouts. Every row reports, per query: range reads
// (reads_per_query), bytes read (bytes_per_query), ReadMany batches (batches_per_query, the
// round trips) and hits; plus the file size per item and what Open read.
//
// Environment (set by perf/run): LOCUS_W7_DIR, the directory the index files are written to
// (default $TMPDIR or /tmp); LOCUS_W7_HTTP, the URL nginx serves that directory at (HTTP rows
// are skipped without it).
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "engine/packed_rtree.h"
#include "storage/http_range_reader.h"
#include "storage/index_file.h"
#include "storage/range_reader.h"
#include "storage/stream_tree.h"

namespace locus::perf {
namespace {

constexpr size_t kItems = 1'000'000;
constexpr int kQueries = 64;
// Window sides in the unit square (boxes up to 0.001 wide): ~100, ~10k and ~90k hits.
constexpr double kWindow[] = {0.01, 0.1, 0.3};
constexpr const char* kWindowName[] = {"small", "medium", "large"};

std::string Dir() {
  if (const char* d = std::getenv("LOCUS_W7_DIR"); d && *d) return d;
  if (const char* t = std::getenv("TMPDIR"); t && *t) return t;
  return "/tmp";
}

// The two files (boxes-then-ids, node-interleaved), written once per process.
struct Files {
  std::string path[2];
  std::string name[2];
  uint64_t size[2] = {};
  std::vector<Box2> queries[3];
};

const Files& GetFiles() {
  static const Files* files = [] {
    auto* f = new Files;
    std::mt19937_64 rng(0x57EA3);
    std::uniform_real_distribution<double> u(0, 1), s(0, 0.001);
    std::vector<Box2> boxes(kItems);
    for (Box2& b : boxes) {
      b.min = {u(rng), u(rng)};
      b.max = {b.min.x + s(rng), b.min.y + s(rng)};
    }
    auto tree = engine::PackedRTree2D::Build(boxes);
    LOCUS_CHECK(tree.ok());
    const char* names[2] = {"w7_boxes_then_ids.locus", "w7_interleaved.locus"};
    for (int l = 0; l < 2; ++l) {
      storage::WriteOptions o;
      o.layout = l ? storage::TreeLayout::kNodeInterleaved : storage::TreeLayout::kBoxesThenIds;
      f->name[l] = names[l];
      f->path[l] = Dir() + "/" + names[l];
      LOCUS_CHECK(storage::WriteIndexFile(f->path[l], *tree, o).ok());
      std::ifstream in(f->path[l], std::ios::binary | std::ios::ate);
      f->size[l] = static_cast<uint64_t>(in.tellg());
    }
    for (int w = 0; w < 3; ++w) {
      for (int q = 0; q < kQueries; ++q) {
        const double x = u(rng) * (1 - kWindow[w]), y = u(rng) * (1 - kWindow[w]);
        f->queries[w].push_back(Box2{{x, y}, {x + kWindow[w], y + kWindow[w]}});
      }
    }
    return f;
  }();
  return *files;
}

// source 0 = file, 1 = HTTP; layout 0 = boxes-then-ids, 1 = node-interleaved.
void StreamSearch(benchmark::State& state, int source, int layout, int window) {
  const Files& files = GetFiles();
  std::unique_ptr<storage::RangeReader> reader;
  if (source == 0) {
    auto r = storage::FileRangeReader::Open(files.path[layout]);
    LOCUS_CHECK(r.ok());
    reader = std::make_unique<storage::FileRangeReader>(std::move(*r));
  } else {
    const char* base = std::getenv("LOCUS_W7_HTTP");
    if (base == nullptr || *base == '\0') {
      state.SkipWithError("LOCUS_W7_HTTP not set (perf/run W7 starts nginx and sets it)");
      return;
    }
    auto r = storage::HttpRangeReader::Open(std::string(base) + "/" + files.name[layout]);
    LOCUS_CHECK(r.ok());
    reader = std::make_unique<storage::HttpRangeReader>(std::move(*r));
  }
  auto tree = storage::StreamTree<2, double>::Open(*reader);  // default cache: 1 MiB
  if (!tree.ok()) {
    state.SkipWithError(std::string(tree.status().ToString()).c_str());
    return;
  }
  storage::StreamHits hits;
  storage::ReadStats stats, total;
  uint64_t queries = 0, found = 0;
  const auto& qs = files.queries[window];
  for (auto _ : state) {
    const Status s = tree->Search(*reader, qs[queries % qs.size()], &hits, &stats);
    if (!s.ok()) {
      state.SkipWithError(std::string(s.ToString()).c_str());
      return;
    }
    total.Add(stats);
    found += hits.size();
    ++queries;
  }
  const double q = static_cast<double>(queries);
  state.counters["reads_per_query"] = static_cast<double>(total.reads) / q;
  state.counters["bytes_per_query"] = static_cast<double>(total.bytes) / q;
  state.counters["batches_per_query"] = static_cast<double>(total.batches) / q;
  state.counters["hits_per_query"] = static_cast<double>(found) / q;
  state.counters["file_bytes_per_item"] = static_cast<double>(files.size[layout]) / kItems;
  state.counters["open_reads"] = static_cast<double>(tree->open_stats().reads);
  state.counters["cached_levels"] = tree->cached_levels();
  state.SetItemsProcessed(static_cast<int64_t>(queries));
}

void Register() {
  const char* sources[2] = {"file", "http"};
  const char* layouts[2] = {"boxes_then_ids", "interleaved"};
  for (int source = 0; source < 2; ++source) {
    for (int layout = 0; layout < 2; ++layout) {
      for (int w = 0; w < 3; ++w) {
        const std::string name = std::string("W7/Stream/") + sources[source] + "/" +
                                 layouts[layout] + "/" + kWindowName[w];
        benchmark::RegisterBenchmark(name.c_str(), [=](benchmark::State& st) {
          StreamSearch(st, source, layout, w);
        })->Arg(kItems)->UseRealTime();
      }
    }
  }
}

const bool registered = (Register(), true);

}  // namespace
}  // namespace locus::perf
