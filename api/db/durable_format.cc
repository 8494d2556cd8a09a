#include "api/db/durable_format.h"

#include <cinttypes>
#include <cstdio>
#include <cstring>

#include "api/db/byte_codec.h"
#include "engine/packed_rtree.h"
#include "storage/index_file.h"
#include "storage/log.h"

namespace locus::db_internal {
namespace {

bool ReadUpsert(Reader& r, LoggedOp* op) {
  op->kind = kUpsert;
  op->ns = r.String("namespace");
  op->id = r.String("id");
  op->pos.x = r.Fixed<double>("x");
  op->pos.y = r.Fixed<double>("y");
  op->pos.z = r.Fixed<double>("z");
  op->timestamp = r.Fixed<int64_t>("timestamp");
  op->expires = r.Fixed<int64_t>("expires");
  op->metadata = r.String("metadata");
  return r.ok();
}
bool ReadDelete(Reader& r, LoggedOp* op) {
  op->kind = kDelete;
  op->ns = r.String("namespace");
  op->id = r.String("id");
  return r.ok();
}
bool ReadCoordinates(Reader& r, CoordinateSystem* cs) {
  const uint8_t c = r.Fixed<uint8_t>("coordinates");
  if (!r.ok()) return false;
  if (c > 2) {
    r.Fail("coordinates", "unknown value " + std::to_string(c));
    return false;
  }
  *cs = static_cast<CoordinateSystem>(c);
  return true;
}
uint8_t CoordinatesByte(CoordinateSystem cs) { return static_cast<uint8_t>(cs); }

// A namespace's history options: a flag byte, then (when enabled) retention_ms i64,
// keep_metadata u8, chunk_samples varint. `optional`: the flag may be absent (log records
// written before history existed end after the coordinates).
bool ReadHistoryOptions(Reader& r, bool optional, HistoryOptions* h) {
  *h = HistoryOptions{};
  if (optional && r.done()) return true;
  const uint8_t flag = r.Fixed<uint8_t>("history");
  if (!r.ok()) return false;
  if (flag > 1) {
    r.Fail("history", "unknown flag " + std::to_string(flag));
    return false;
  }
  if (flag == 0) return true;
  h->enabled = true;
  h->retention_ms = r.Fixed<int64_t>("history.retention_ms");
  const uint8_t keep = r.Fixed<uint8_t>("history.keep_metadata");
  h->chunk_samples = r.Varint("history.chunk_samples");
  if (!r.ok()) return false;
  if (h->retention_ms < 0) r.Fail("history.retention_ms", std::to_string(h->retention_ms));
  if (keep > 1) r.Fail("history.keep_metadata", std::to_string(keep));
  if (h->chunk_samples < 16 || h->chunk_samples > (uint64_t{1} << 28)) {
    r.Fail("history.chunk_samples", std::to_string(h->chunk_samples));
  }
  h->keep_metadata = keep == 1;
  return r.ok();
}

}  // namespace

void EncodeNamespace(std::string_view ns, const NamespaceOptions& o, std::vector<uint8_t>* out) {
  PutString(ns, out);
  out->push_back(CoordinatesByte(o.coordinates));
  out->push_back(o.history.enabled ? 1 : 0);
  if (o.history.enabled) {
    PutFixed<int64_t>(o.history.retention_ms, out);
    out->push_back(o.history.keep_metadata ? 1 : 0);
    PutVarint(o.history.chunk_samples, out);
  }
}
void EncodeName(std::string_view ns, std::vector<uint8_t>* out) { PutString(ns, out); }
void EncodeUpsert(std::string_view ns, const Object& o, int64_t expires,
                  std::vector<uint8_t>* out) {
  PutString(ns, out);
  PutString(o.id, out);
  PutFixed(o.pos.x, out);
  PutFixed(o.pos.y, out);
  PutFixed(o.pos.z, out);
  PutFixed(o.timestamp, out);
  PutFixed(expires, out);
  PutString(o.metadata, out);
}
void EncodeDelete(std::string_view ns, std::string_view id, std::vector<uint8_t>* out) {
  PutString(ns, out);
  PutString(id, out);
}
void EncodeSample(std::string_view ns, std::string_view id, int64_t t, const Position& pos,
                  std::string_view metadata, std::vector<uint8_t>* out) {
  PutString(ns, out);
  PutString(id, out);
  PutFixed(pos.x, out);
  PutFixed(pos.y, out);
  PutFixed(pos.z, out);
  PutFixed(t, out);
  PutFixed<int64_t>(0, out);  // the upsert layout's expiry: unused
  PutString(metadata, out);
}
void EncodeDeleteHistory(std::string_view ns, std::string_view id, int64_t t0, int64_t t1,
                         std::vector<uint8_t>* out) {
  PutString(ns, out);
  PutString(id, out);
  PutFixed(t0, out);
  PutFixed(t1, out);
}
void BeginBatch(std::vector<uint8_t>* out) { PutFixed<uint32_t>(0, out); }
void BatchUpsert(std::string_view ns, const Object& o, int64_t expires, std::vector<uint8_t>* out) {
  out->push_back(kUpsert);
  EncodeUpsert(ns, o, expires, out);
}
void BatchDelete(std::string_view ns, std::string_view id, std::vector<uint8_t>* out) {
  out->push_back(kDelete);
  EncodeDelete(ns, id, out);
}
void BatchSample(std::string_view ns, std::string_view id, int64_t t, const Position& pos,
                 std::string_view metadata, std::vector<uint8_t>* out) {
  out->push_back(kSample);
  EncodeSample(ns, id, t, pos, metadata, out);
}
void EndBatch(uint32_t count, std::vector<uint8_t>* out) { std::memcpy(out->data(), &count, 4); }
void EncodeExpire(std::string_view ns, std::span<const std::string_view> ids,
                  std::vector<uint8_t>* out) {
  PutString(ns, out);
  PutVarint(ids.size(), out);
  for (std::string_view id : ids) PutString(id, out);
}

Status DecodeRecord(uint8_t type, std::span<const uint8_t> payload, std::vector<LoggedOp>* ops) {
  Reader r(payload);
  const size_t first = ops->size();
  auto fail = [&](const std::string& what) {
    ops->resize(first);
    return CorruptionError(what);
  };
  switch (type) {
    case kCreateNamespace: {
      LoggedOp op;
      op.kind = kCreateNamespace;
      op.ns = r.String("namespace");
      if (ReadCoordinates(r, &op.coordinates) &&
          ReadHistoryOptions(r, /*optional=*/true, &op.history)) {
        ops->push_back(op);
      }
      break;
    }
    case kDropNamespace: {
      LoggedOp op;
      op.kind = kDropNamespace;
      op.ns = r.String("namespace");
      ops->push_back(op);
      break;
    }
    case kUpsert: {
      LoggedOp op;
      if (ReadUpsert(r, &op)) ops->push_back(op);
      break;
    }
    case kDelete: {
      LoggedOp op;
      if (ReadDelete(r, &op)) ops->push_back(op);
      break;
    }
    case kSample: {
      LoggedOp op;
      if (ReadUpsert(r, &op)) {
        op.kind = kSample;
        op.expires = 0;  // unused (written as 0)
        ops->push_back(op);
      }
      break;
    }
    case kDeleteHistory: {
      LoggedOp op;
      op.kind = kDeleteHistory;
      op.ns = r.String("namespace");
      op.id = r.String("id");
      op.timestamp = r.Fixed<int64_t>("t0");
      op.t1 = r.Fixed<int64_t>("t1");
      if (r.ok() && op.t1 < op.timestamp) {
        r.Fail("t1", std::to_string(op.t1) + " < t0 = " + std::to_string(op.timestamp));
      }
      if (r.ok()) ops->push_back(op);
      break;
    }
    case kExpire: {
      LoggedOp op;
      op.kind = kDelete;
      op.ns = r.String("namespace");
      const uint64_t n = r.Varint("count");
      // Each id takes at least two bytes: a larger count is damage, not a reason to allocate.
      if (r.ok() && n > payload.size() / 2) r.Fail("count", std::to_string(n) + " ids cannot fit");
      for (uint64_t i = 0; i < n && r.ok(); ++i) {
        op.id = r.String("id");
        ops->push_back(op);
      }
      break;
    }
    case kBatch: {
      const uint32_t n = r.Fixed<uint32_t>("count");
      if (r.ok() && n > payload.size() / 3)
        r.Fail("count", std::to_string(n) + " operations cannot fit");
      for (uint32_t i = 0; i < n && r.ok(); ++i) {
        const uint8_t kind = r.Fixed<uint8_t>("operation kind");
        if (!r.ok()) break;
        LoggedOp op;
        if (kind == kUpsert || kind == kSample) {
          if (ReadUpsert(r, &op)) {
            op.kind = static_cast<RecordType>(kind);
            if (kind == kSample) op.expires = 0;  // unused (written as 0)
            ops->push_back(op);
          }
        } else if (kind == kDelete) {
          if (ReadDelete(r, &op)) ops->push_back(op);
        } else {
          r.Fail("operation kind", "unknown kind " + std::to_string(kind));
        }
      }
      break;
    }
    default:
      return fail("unknown record type " + std::to_string(type));
  }
  if (!r.ok()) return fail("record type " + std::to_string(type) + ": " + r.error());
  if (!r.done()) {
    return fail("record type " + std::to_string(type) + ": " +
                std::to_string(payload.size() - r.offset()) + " trailing bytes");
  }
  for (size_t i = first; i < ops->size(); ++i) {
    if ((*ops)[i].ns.empty())
      return fail("record type " + std::to_string(type) + ": empty namespace name");
    if ((*ops)[i].kind != kCreateNamespace && (*ops)[i].kind != kDropNamespace &&
        (*ops)[i].id.empty()) {
      return fail("record type " + std::to_string(type) + ": empty id");
    }
  }
  return Status();
}

// ---- checkpoints ----

namespace {
constexpr char kKeyVersion[] = "locus.checkpoint.version";
constexpr char kKeySegment[] = "locus.checkpoint.segment";
constexpr char kKeyNamespaces[] = "locus.checkpoint.namespaces";
constexpr char kKeyHistory[] = "locus.checkpoint.history";
}  // namespace

void CheckpointBuilder::AddNamespace(std::string_view name, const NamespaceOptions& options) {
  EncodeNamespace(name, options, &namespaces_);
  ++namespace_count_;
}

void CheckpointBuilder::Reserve(size_t objects) {
  points_.reserve(points_.size() + objects);
  ends_.reserve(ends_.size() + objects);
  data_.reserve(data_.size() + objects * 56);
}

void CheckpointBuilder::AddObject(uint32_t ns, std::string_view id, const Position& pos,
                                  int64_t timestamp, int64_t expires, std::string_view metadata) {
  points_.push_back({pos.x, pos.y, pos.z});
  PutVarint(ns, &data_);
  PutString(id, &data_);
  PutFixed(pos.x, &data_);
  PutFixed(pos.y, &data_);
  PutFixed(pos.z, &data_);
  PutFixed(timestamp, &data_);
  PutFixed(expires, &data_);
  PutString(metadata, &data_);
  ends_.push_back(data_.size());
}

Status CheckpointBuilder::Finish(uint64_t segment, std::vector<uint8_t>* out) {
  std::vector<std::span<const uint8_t>> payloads(points_.size());
  for (size_t i = 0; i < points_.size(); ++i) {
    const size_t begin = i == 0 ? 0 : ends_[i - 1];
    payloads[i] = std::span<const uint8_t>(data_.data() + begin, ends_[i] - begin);
  }
  using Tree = engine::PackedRTree<3, double>;
  LOCUS_ASSIGN_OR_RETURN(Tree tree, Tree::Build(std::span<const Point3>(points_)));
  storage::WriteOptions w;
  w.payloads = payloads;
  std::vector<uint8_t> ns_bytes;
  PutVarint(namespace_count_, &ns_bytes);
  ns_bytes.insert(ns_bytes.end(), namespaces_.begin(), namespaces_.end());
  w.metadata[kKeyVersion] = "2";
  w.metadata[kKeySegment] = std::to_string(segment);
  w.metadata[kKeyNamespaces] = std::string(ns_bytes.begin(), ns_bytes.end());
  if (!history_.empty()) w.metadata[kKeyHistory] = std::string(history_.begin(), history_.end());
  return storage::WriteIndex<3, double>(tree.view(), w, out);
}

Result<CheckpointReader> CheckpointReader::Open(std::span<const uint8_t> bytes) {
  auto opened = storage::TreeView<3, double>::Open(bytes);
  if (!opened.ok()) {  // another shape of index file is not a checkpoint either
    return CorruptionError("not a locus checkpoint: " + std::string(opened.status().message()));
  }
  CheckpointReader out(std::move(opened).value());
  const auto& meta = out.file_.metadata();
  auto get = [&](const char* key) -> const std::string* {
    auto it = meta.find(key);
    return it == meta.end() ? nullptr : &it->second;
  };
  const std::string* version = get(kKeyVersion);
  const std::string* segment = get(kKeySegment);
  const std::string* ns_bytes = get(kKeyNamespaces);
  if (!version || !segment || !ns_bytes) {
    return CorruptionError("not a locus checkpoint: metadata keys missing");
  }
  // Version 1: namespaces without the history flag (written before history existed).
  if (*version != "1" && *version != "2") {
    return CorruptionError("checkpoint version '" + *version + "' is not supported");
  }
  if (const std::string* h = get(kKeyHistory)) out.history_ = *h;
  {
    char* end = nullptr;
    out.segment_ = std::strtoull(segment->c_str(), &end, 10);
    // Segments are numbered from 1, one per checkpoint: anything near 2^64 is damage (and
    // would wrap the next segment number to 0).
    if (segment->empty() || *end != '\0' || out.segment_ == 0 || out.segment_ >= (1ull << 48)) {
      return CorruptionError("checkpoint segment '" + *segment + "' is not a segment number");
    }
  }
  Reader nr(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(ns_bytes->data()),
                                     ns_bytes->size()));
  const uint64_t ns_count = nr.Varint("namespace count");
  if (nr.ok() && ns_count > ns_bytes->size()) nr.Fail("namespace count", "too large");
  for (uint64_t i = 0; i < ns_count && nr.ok(); ++i) {
    CheckpointNamespace n;
    n.name = std::string(nr.String("namespace name"));
    if (ReadCoordinates(nr, &n.options.coordinates) &&
        (*version == "1" || ReadHistoryOptions(nr, /*optional=*/false, &n.options.history))) {
      out.namespaces_.push_back(std::move(n));
    }
  }
  if (!nr.ok() || !nr.done()) {
    return CorruptionError("checkpoint namespaces: " + (nr.ok() ? "trailing bytes" : nr.error()));
  }
  if (out.file_.size() > 0 && !out.file_.has_payloads()) {
    return CorruptionError("checkpoint has objects but no payloads");
  }
  return out;
}

Status CheckpointReader::ForEach(const std::function<Status(const CheckpointObject&)>& fn) const {
  CheckpointObject o;
  for (uint32_t i = 0; i < file_.size(); ++i) {
    LOCUS_ASSIGN_OR_RETURN(auto p, file_.payload(i));
    Reader r(p);
    const uint64_t ns = r.Varint("namespace");
    o.id = r.String("id");
    o.pos.x = r.Fixed<double>("x");
    o.pos.y = r.Fixed<double>("y");
    o.pos.z = r.Fixed<double>("z");
    o.timestamp = r.Fixed<int64_t>("timestamp");
    o.expires = r.Fixed<int64_t>("expires");
    o.metadata = r.String("metadata");
    if (r.ok() && !r.done()) r.Fail("payload", "trailing bytes");
    if (r.ok() && ns >= namespaces_.size()) {
      r.Fail("namespace", "index " + std::to_string(ns) + " out of range");
    }
    if (r.ok() && o.id.empty()) r.Fail("id", "empty");
    if (!r.ok()) {
      return CorruptionError("checkpoint object " + std::to_string(i) + ": " + r.error());
    }
    o.ns = static_cast<uint32_t>(ns);
    LOCUS_RETURN_IF_ERROR(fn(o));
  }
  return Status();
}

std::string CheckpointFileName(uint64_t segment) {
  char name[48];
  std::snprintf(name, sizeof name, "checkpoint-%016" PRIx64 ".locus", segment);
  return name;
}

bool ParseCheckpointFileName(std::string_view name, uint64_t* segment) {
  return storage::ParseNumberedFileName(name, "checkpoint-", ".locus", segment);
}

}  // namespace locus::db_internal
