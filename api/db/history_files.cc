// History chunk files and the checkpoint's history section (history_files.h).
#include "api/db/history_files.h"

#include <cinttypes>
#include <cstdio>
#include <map>
#include <utility>

#include "api/db/byte_codec.h"
#include "engine/packed_rtree.h"
#include "storage/index_file.h"
#include "storage/log.h"

namespace locus::db_internal {
namespace {

constexpr char kKeyVersion[] = "locus.history.version";
constexpr char kKeyColumns[] = "locus.history.columns";

template <typename T>
void PutArray(const std::vector<T>& v, std::vector<uint8_t>* out) {
  const size_t at = out->size();
  out->resize(at + v.size() * sizeof(T));
  if (!v.empty()) std::memcpy(out->data() + at, v.data(), v.size() * sizeof(T));
}

template <typename T>
bool ReadArray(Reader& r, size_t n, const char* field, std::vector<T>* v) {
  if (!r.ok()) return false;
  if (n > r.remaining() / sizeof(T)) {
    r.Fail(field, std::to_string(n) + " values past the end");
    return false;
  }
  v->resize(n);
  for (size_t i = 0; i < n; ++i) (*v)[i] = r.Fixed<T>(field);
  return r.ok();
}

void PutFix(const engine::Fix& f, std::vector<uint8_t>* out) {
  PutFixed(f.t, out);
  PutFixed(f.x, out);
  PutFixed(f.y, out);
  PutFixed(f.z, out);
}
engine::Fix ReadFix(Reader& r) {
  engine::Fix f;
  f.t = r.Fixed<int64_t>("t");
  f.x = r.Fixed<double>("x");
  f.y = r.Fixed<double>("y");
  f.z = r.Fixed<double>("z");
  return f;
}
void PutBox(const engine::SpaceTimeBox& b, std::vector<uint8_t>* out) {
  PutFixed(b.min_x, out);
  PutFixed(b.min_y, out);
  PutFixed(b.max_x, out);
  PutFixed(b.max_y, out);
  PutFixed(b.min_t, out);
  PutFixed(b.max_t, out);
}
engine::SpaceTimeBox ReadBox(Reader& r) {
  engine::SpaceTimeBox b;
  b.min_x = r.Fixed<double>("bridge");
  b.min_y = r.Fixed<double>("bridge");
  b.max_x = r.Fixed<double>("bridge");
  b.max_y = r.Fixed<double>("bridge");
  b.min_t = r.Fixed<int64_t>("bridge");
  b.max_t = r.Fixed<int64_t>("bridge");
  return b;
}

}  // namespace

std::string HistoryFileName(uint64_t number) {
  char name[48];
  std::snprintf(name, sizeof name, "history-%016" PRIx64 ".locus", number);
  return name;
}

bool ParseHistoryFileName(std::string_view name, uint64_t* number) {
  return storage::ParseNumberedFileName(name, "history-", ".locus", number);
}

// Columns: rows varint, objects varint, objects u32[], begin u32[objects + 1], t i64[],
// x f64[], y f64[], z flag u8 [f64[]], metadata flag u8 [meta_end u32[], bytes string],
// erased words varint, u64[].
Status EncodeHistoryChunk(const engine::HistoryChunkImage& im, std::vector<uint8_t>* out) {
  std::vector<Box3> boxes(im.entries.size());
  for (size_t i = 0; i < im.entries.size(); ++i) {
    const engine::SpaceTimeBox& b = im.entries[i];
    boxes[i] = {{b.min_x, b.min_y, static_cast<double>(b.min_t)},
                {b.max_x, b.max_y, static_cast<double>(b.max_t)}};
  }
  LOCUS_ASSIGN_OR_RETURN(auto tree, engine::PackedRTree3D::Build(boxes));
  std::vector<uint8_t> cols;
  PutVarint(im.t.size(), &cols);
  PutVarint(im.objects.size(), &cols);
  PutArray(im.objects, &cols);
  PutArray(im.begin, &cols);
  PutArray(im.t, &cols);
  PutArray(im.x, &cols);
  PutArray(im.y, &cols);
  cols.push_back(im.z.empty() ? 0 : 1);
  PutArray(im.z, &cols);
  const bool meta = !im.meta_end.empty();
  cols.push_back(meta ? 1 : 0);
  if (meta) {
    PutArray(im.meta_end, &cols);
    PutString(im.meta, &cols);
  }
  PutVarint(im.erased.size(), &cols);
  PutArray(im.erased, &cols);
  std::vector<uint8_t> objects;  // per entry: object u32, first row of its run u32
  for (size_t i = 0; i < im.entry_object.size(); ++i) {
    PutFixed<uint32_t>(im.entry_object[i], &objects);
    PutFixed<uint32_t>(im.entry_row.empty() ? engine::kNoRow : im.entry_row[i], &objects);
  }
  storage::WriteOptions w;
  w.fixed_payload_width = 8;
  w.fixed_payloads = objects;
  w.metadata[kKeyVersion] = "1";
  w.metadata[kKeyColumns] = std::string(cols.begin(), cols.end());
  return storage::WriteIndex<3, double>(tree.view(), w, out);
}

Result<engine::HistoryChunkImage> DecodeHistoryChunk(std::span<const uint8_t> bytes) {
  auto file = storage::TreeView<3, double>::Open(bytes);
  if (!file.ok()) {
    return CorruptionError("not a locus history chunk: " + std::string(file.status().message()));
  }
  const auto& meta = file->metadata();
  auto version = meta.find(kKeyVersion);
  auto columns = meta.find(kKeyColumns);
  if (version == meta.end() || columns == meta.end()) {
    return CorruptionError("not a locus history chunk: metadata keys missing");
  }
  if (version->second != "1") {
    return CorruptionError("history chunk version '" + version->second + "' is not supported");
  }
  engine::HistoryChunkImage im;
  const size_t n = file->size();
  if (n > 0 && !file->has_payloads()) return CorruptionError("history chunk: entries without objects");
  im.entries.resize(n);
  im.entry_object.resize(n);
  const auto& l = file->layout();
  for (uint64_t p = 0; p < n; ++p) {
    im.entries[l.ids[p]] = {l.min[0][p],
                            l.min[1][p],
                            l.max[0][p],
                            l.max[1][p],
                            static_cast<int64_t>(l.min[2][p]),
                            static_cast<int64_t>(l.max[2][p])};
  }
  im.entry_row.resize(n);
  for (uint32_t i = 0; i < n; ++i) {
    LOCUS_ASSIGN_OR_RETURN(auto p, file->payload(i));
    if (p.size() != 8) return CorruptionError("history chunk: an entry's payload is not 8 bytes");
    std::memcpy(&im.entry_object[i], p.data(), 4);
    std::memcpy(&im.entry_row[i], p.data() + 4, 4);
  }
  Reader r(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(columns->second.data()),
                                    columns->second.size()));
  const uint64_t rows = r.Varint("rows");
  const uint64_t objects = r.Varint("objects");
  ReadArray(r, objects, "objects", &im.objects);
  ReadArray(r, objects + 1, "begin", &im.begin);
  ReadArray(r, rows, "t", &im.t);
  ReadArray(r, rows, "x", &im.x);
  ReadArray(r, rows, "y", &im.y);
  if (r.Fixed<uint8_t>("z flag") == 1) ReadArray(r, rows, "z", &im.z);
  if (r.Fixed<uint8_t>("metadata flag") == 1) {
    ReadArray(r, rows, "metadata offsets", &im.meta_end);
    im.meta = std::string(r.String("metadata"));
  }
  ReadArray(r, r.Varint("erased words"), "erased", &im.erased);
  if (r.ok() && !r.done()) r.Fail("columns", "trailing bytes");
  if (!r.ok()) return CorruptionError("history chunk columns: " + r.error());
  return im;
}

// Per section: ns varint, names varint + strings, files varint + u64[], open objects varint,
// each: object varint, bridge flag u8 [box], samples varint + (t, x, y, z)[], metadata flag
// u8 [strings].
void EncodeHistorySections(const std::vector<HistorySection>& sections,
                           std::vector<uint8_t>* out) {
  PutVarint(sections.size(), out);
  for (const HistorySection& s : sections) {
    PutVarint(s.ns, out);
    PutVarint(s.names.size(), out);
    for (const std::string& n : s.names) PutString(n, out);
    PutVarint(s.files.size(), out);
    PutArray(s.files, out);
    PutVarint(s.open.size(), out);
    for (const engine::HistoryOpenObject& o : s.open) {
      PutVarint(o.object, out);
      out->push_back(o.has_bridge ? 1 : 0);
      if (o.has_bridge) PutBox(o.bridge, out);
      PutVarint(o.tail.size(), out);
      for (const engine::Fix& f : o.tail) PutFix(f, out);
      out->push_back(o.meta.empty() ? 0 : 1);
      for (const std::string& m : o.meta) PutString(m, out);
    }
  }
}

Status DecodeHistorySections(std::string_view bytes, std::vector<HistorySection>* out) {
  if (bytes.empty()) return Status();  // no namespace keeps history
  Reader r(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
  // Every element takes at least one byte: a count above what is left is damage, not a reason
  // to allocate.
  auto count = [&](const char* field) -> uint64_t {
    const uint64_t n = r.Varint(field);
    if (r.ok() && n > r.remaining()) r.Fail(field, std::to_string(n) + " cannot fit");
    return r.ok() ? n : 0;
  };
  const uint64_t sections = count("sections");
  for (uint64_t i = 0; i < sections && r.ok(); ++i) {
    HistorySection s;
    s.ns = static_cast<uint32_t>(r.Varint("namespace"));
    const uint64_t names = count("names");
    s.names.reserve(names);
    for (uint64_t j = 0; j < names && r.ok(); ++j) s.names.emplace_back(r.String("name"));
    ReadArray(r, count("files"), "files", &s.files);
    const uint64_t open = count("open objects");
    for (uint64_t j = 0; j < open && r.ok(); ++j) {
      engine::HistoryOpenObject o;
      const uint64_t object = r.Varint("object");
      if (object > UINT32_MAX) r.Fail("object", std::to_string(object));
      o.object = static_cast<uint32_t>(object);
      o.has_bridge = r.Fixed<uint8_t>("bridge flag") == 1;
      if (o.has_bridge) o.bridge = ReadBox(r);
      const uint64_t samples = count("samples");
      for (uint64_t k = 0; k < samples && r.ok(); ++k) o.tail.push_back(ReadFix(r));
      if (r.Fixed<uint8_t>("metadata flag") == 1) {
        for (uint64_t k = 0; k < samples && r.ok(); ++k) o.meta.emplace_back(r.String("metadata"));
      }
      s.open.push_back(std::move(o));
    }
    out->push_back(std::move(s));
  }
  if (r.ok() && !r.done()) r.Fail("history section", "trailing bytes");
  if (!r.ok()) return CorruptionError("checkpoint history: " + r.error());
  return Status();
}

}  // namespace locus::db_internal
