// W7 (PERF.md): loading a 1M-box index file, validation included (docs/FORMAT.md,
// "Validation"), as a zero-copy view, as an owned copy and as a memory map.
//
// Rows (names are parsed by perf/run: "W7/<Row>/<variant>/<n>"):
//   ViewLoad    TreeView::Open over one 64-byte aligned in-memory copy of the file's bytes
//   OwnedLoad   OwnedTree::FromBytes from the same bytes (copy into an aligned buffer first)
//   MappedLoad  MappedTree::Open of the file written once to $TMPDIR (or /tmp); the page
//               cache is warm (the file was just written and is re-mapped every iteration)
//   Crc32c      Crc32c over the whole file (what verify_checksums adds, roughly)
//   ReadBytes   a sum over the file's bytes as u64 words: the memory floor of one pass
// variants: f64|f32 (2D boxes) x crc|nocrc (LoadOptions::verify_checksums true|false).
// Data: n uniform boxes in the unit square (seed 20261122, corners uniform, sides up to
// 2 / sqrt(n)), PackedRTree at node size 16, written without payloads or metadata. The bytes
// are built once per (type, n), outside every timed loop.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "engine/packed_rtree.h"
#include "perf/bench_util.h"
#include "locus/check.h"
#include "storage/crc32c.h"
#include "storage/index_file.h"

namespace locus::perf {
namespace {

constexpr int64_t kBoxes = 1'000'000;

struct FreeDeleter {
  void operator()(uint8_t* p) const { std::free(p); }
};

// One index file's bytes in a 64-byte aligned buffer, and the same bytes as a file.
template <typename T>
struct LoadData {
  std::unique_ptr<uint8_t[], FreeDeleter> bytes;
  size_t size = 0;
  std::string path;

  explicit LoadData(size_t n) {
    std::mt19937_64 rng(20261122);
    std::uniform_real_distribution<double> u(0, 1);
    std::uniform_real_distribution<double> side(0, 2 / std::sqrt(static_cast<double>(n)));
    std::vector<Box2> boxes(n);
    for (Box2& b : boxes) {
      b.min = {u(rng), u(rng)};
      b.max = {b.min.x + side(rng), b.min.y + side(rng)};
    }
    auto tree = engine::PackedRTree<2, T>::Build(std::span<const Box2>(boxes)).value();
    std::vector<uint8_t> file;
    const Status written = storage::WriteIndex<2, T>(tree, {}, &file);
    LOCUS_CHECK(written.ok());
    size = file.size();
    bytes.reset(static_cast<uint8_t*>(std::aligned_alloc(64, (size + 63) / 64 * 64)));
    std::memcpy(bytes.get(), file.data(), size);
    const char* dir = std::getenv("TMPDIR");
    path = std::string(dir != nullptr && *dir != '\0' ? dir : "/tmp") + "/locus_w7_" +
           (sizeof(T) == 4 ? "f32_" : "f64_") + std::to_string(n) + "_" +
           std::to_string(::getpid()) + ".locus";
    const Status saved = storage::WriteIndexFile<2, T>(path, tree, {});
    LOCUS_CHECK(saved.ok());
  }
  ~LoadData() { ::unlink(path.c_str()); }
  std::span<const uint8_t> span() const { return {bytes.get(), size}; }
};

template <typename T>
const LoadData<T>& Data(size_t n) {
  return CachedBySize<LoadData<T>>(n);
}

template <typename T>
void Report(benchmark::State& st, const LoadData<T>& d, size_t n) {
  st.SetItemsProcessed(static_cast<int64_t>(st.iterations()) * static_cast<int64_t>(n));
  st.SetBytesProcessed(static_cast<int64_t>(st.iterations()) * static_cast<int64_t>(d.size));
  st.counters["file_bytes"] = static_cast<double>(d.size);
}

template <typename T>
void ViewLoad(benchmark::State& st, bool crc) {
  const size_t n = static_cast<size_t>(st.range(0));
  const auto& d = Data<T>(n);
  storage::LoadOptions options;
  options.verify_checksums = crc;
  for (auto _ : st) {
    auto view = storage::TreeView<2, T>::Open(d.span(), options);
    if (!view.ok() || !view->zero_copy() || view->size() != n) {
      st.SkipWithError(view.ok() ? "not zero-copy" : view.status().ToString().c_str());
      break;
    }
    Keep(view->layout().ids);
  }
  Report(st, d, n);
}

template <typename T>
void OwnedLoad(benchmark::State& st, bool crc) {
  const size_t n = static_cast<size_t>(st.range(0));
  const auto& d = Data<T>(n);
  storage::LoadOptions options;
  options.verify_checksums = crc;
  for (auto _ : st) {
    auto owned = storage::OwnedTree<2, T>::FromBytes(d.span(), options);
    if (!owned.ok() || owned->size() != n) {
      st.SkipWithError(owned.ok() ? "wrong size" : owned.status().ToString().c_str());
      break;
    }
    Keep(owned->layout().ids);
  }
  Report(st, d, n);
}

template <typename T>
void MappedLoad(benchmark::State& st, bool crc) {
  const size_t n = static_cast<size_t>(st.range(0));
  const auto& d = Data<T>(n);
  storage::LoadOptions options;
  options.verify_checksums = crc;
  for (auto _ : st) {
    auto mapped = storage::MappedTree<2, T>::Open(d.path, options);
    if (!mapped.ok() || mapped->size() != n) {
      st.SkipWithError(mapped.ok() ? "wrong size" : mapped.status().ToString().c_str());
      break;
    }
    Keep(mapped->layout().ids);
  }
  Report(st, d, n);
}

template <typename T>
void Crc32cFile(benchmark::State& st) {
  const size_t n = static_cast<size_t>(st.range(0));
  const auto& d = Data<T>(n);
  for (auto _ : st) Keep(storage::Crc32c(d.span()));
  Report(st, d, n);
}

template <typename T>
void ReadBytes(benchmark::State& st) {
  const size_t n = static_cast<size_t>(st.range(0));
  const auto& d = Data<T>(n);
  const size_t words = d.size / 8;
  for (auto _ : st) {
    const uint8_t* p = d.bytes.get();
    uint64_t s[8] = {};
    size_t i = 0;
    for (; i + 8 <= words; i += 8) {
      for (int k = 0; k < 8; ++k) {
        uint64_t v;
        std::memcpy(&v, p + 8 * (i + k), 8);
        s[k] += v;
      }
    }
    for (; i < words; ++i) {
      uint64_t v;
      std::memcpy(&v, p + 8 * i, 8);
      s[0] += v;
    }
    Keep(s[0] + s[1] + s[2] + s[3] + s[4] + s[5] + s[6] + s[7]);
  }
  Report(st, d, n);
}

template <typename T>
void RegisterType(const char* type) {
  const std::string t = type;
  for (bool crc : {false, true}) {
    const std::string v = t + (crc ? "_crc" : "_nocrc");
    benchmark::RegisterBenchmark(("W7/ViewLoad/" + v).c_str(),
                                 [crc](benchmark::State& st) { ViewLoad<T>(st, crc); })
        ->Arg(kBoxes)->Unit(benchmark::kMillisecond)->UseRealTime();
    benchmark::RegisterBenchmark(("W7/OwnedLoad/" + v).c_str(),
                                 [crc](benchmark::State& st) { OwnedLoad<T>(st, crc); })
        ->Arg(kBoxes)->Unit(benchmark::kMillisecond)->UseRealTime();
    benchmark::RegisterBenchmark(("W7/MappedLoad/" + v).c_str(),
                                 [crc](benchmark::State& st) { MappedLoad<T>(st, crc); })
        ->Arg(kBoxes)->Unit(benchmark::kMillisecond)->UseRealTime();
  }
  benchmark::RegisterBenchmark(("W7/Crc32c/" + t).c_str(), Crc32cFile<T>)
      ->Arg(kBoxes)->Unit(benchmark::kMillisecond)->UseRealTime();
  benchmark::RegisterBenchmark(("W7/ReadBytes/" + t).c_str(), ReadBytes<T>)
      ->Arg(kBoxes)->Unit(benchmark::kMillisecond)->UseRealTime();
}

void RegisterAll() {
  RegisterType<double>("f64");
  RegisterType<float>("f32");
}
LOCUS_REGISTER_BENCHMARKS(RegisterAll);

}  // namespace
}  // namespace locus::perf
