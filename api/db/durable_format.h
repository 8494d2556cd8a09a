// The database's durable formats (docs/LOG_FORMAT.md): the payloads of its log records and
// the contents of a checkpoint file. Pure functions over bytes; the framing, segments and
// syncs are storage/log.h's, the file format of a checkpoint is storage/index_file.h's.
#ifndef LOCUS_API_DB_DURABLE_FORMAT_H_
#define LOCUS_API_DB_DURABLE_FORMAT_H_

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "locus/db.h"
#include "locus/geometry.h"
#include "locus/status.h"
#include "storage/index_file.h"

namespace locus::db_internal {

enum RecordType : uint8_t {
  kCreateNamespace = 1,  // name, coordinates
  kDropNamespace = 2,    // name
  kUpsert = 3,           // one upsert
  kDelete = 4,           // one delete
  kExpire = 5,           // the objects one sweep removed from one namespace
  kBatch = 6,            // the applied operations of one Db::Apply, all or nothing
  kSample = 7,           // a history sample that did not change the current position
  kDeleteHistory = 8,    // DeleteHistory(ns, id, t0, t1)
};

// One logged change. Strings view the payload they were decoded from.
struct LoggedOp {
  RecordType kind = kUpsert;  // kCreateNamespace, kDropNamespace, kUpsert, kDelete (also
                              // each object of a kExpire record), kSample, kDeleteHistory
  std::string_view ns;
  std::string_view id;
  CoordinateSystem coordinates = CoordinateSystem::kGeographic;  // kCreateNamespace
  HistoryOptions history;                                        // kCreateNamespace
  Position pos;
  int64_t timestamp = 0;  // kDeleteHistory: t0
  int64_t t1 = 0;         // kDeleteHistory
  int64_t expires = 0;  // absolute; engine::kNeverExpires for none
  std::string_view metadata;
};

// Payload encoders (append to *out; the type byte is the framing's).
void EncodeNamespace(std::string_view ns, const NamespaceOptions& options,
                     std::vector<uint8_t>* out);
void EncodeName(std::string_view ns, std::vector<uint8_t>* out);  // kDropNamespace
void EncodeUpsert(std::string_view ns, const Object& o, int64_t expires, std::vector<uint8_t>* out);
void EncodeDelete(std::string_view ns, std::string_view id, std::vector<uint8_t>* out);
// kSample: the upsert layout (its expiry unused).
void EncodeSample(std::string_view ns, std::string_view id, int64_t t, const Position& pos,
                  std::string_view metadata, std::vector<uint8_t>* out);
void EncodeDeleteHistory(std::string_view ns, std::string_view id, int64_t t0, int64_t t1,
                         std::vector<uint8_t>* out);
// kBatch: a count, then each operation as a kind byte and an upsert's or delete's payload.
void BeginBatch(std::vector<uint8_t>* out);  // reserves the count
void BatchUpsert(std::string_view ns, const Object& o, int64_t expires, std::vector<uint8_t>* out);
void BatchDelete(std::string_view ns, std::string_view id, std::vector<uint8_t>* out);
void BatchSample(std::string_view ns, std::string_view id, int64_t t, const Position& pos,
                 std::string_view metadata, std::vector<uint8_t>* out);
void EndBatch(uint32_t count, std::vector<uint8_t>* out);  // fills the count in
// kExpire: a namespace and the ids removed.
void EncodeExpire(std::string_view ns, std::span<const std::string_view> ids,
                  std::vector<uint8_t>* out);

// Decodes a record's payload into its operations (appended to *ops), checking every length,
// enum and the absence of trailing bytes: Corruption naming the field otherwise. Values are
// checked by the database when it applies them.
Status DecodeRecord(uint8_t type, std::span<const uint8_t> payload, std::vector<LoggedOp>* ops);

// ---- checkpoints ----
struct CheckpointNamespace {
  std::string name;
  NamespaceOptions options;
};
// A decoded object; id and metadata view the checkpoint's bytes.
struct CheckpointObject {
  uint32_t ns = 0;  // index into the namespaces
  std::string_view id;
  Position pos;
  int64_t timestamp = 0;
  int64_t expires = 0;
  std::string_view metadata;
};
// Builds a checkpoint file: an index file (docs/FORMAT.md) holding a 3D f64 tree over every
// object's position (x, y, z as stored: lon, lat, altitude for geographic namespaces), one
// payload per object (its namespace, id, position, timestamp, expiry, metadata) and the
// namespaces and the log segment it precedes in its metadata chunk. Objects are encoded as
// they are added (no copy of the strings is kept).
class CheckpointBuilder {
 public:
  void AddNamespace(std::string_view name, const NamespaceOptions& options);
  // The history section (history_files.h), stored as is.
  void SetHistory(std::vector<uint8_t> bytes) { history_ = std::move(bytes); }
  void Reserve(size_t objects);
  void AddObject(uint32_t ns, std::string_view id, const Position& pos, int64_t timestamp,
                 int64_t expires, std::string_view metadata);
  size_t objects() const { return points_.size(); }
  Status Finish(uint64_t segment, std::vector<uint8_t>* out);

 private:
  std::vector<uint8_t> namespaces_;
  std::vector<uint8_t> history_;
  uint64_t namespace_count_ = 0;
  std::vector<Point3> points_;
  std::vector<uint8_t> data_;
  std::vector<size_t> ends_;
};
// Reads a checkpoint file: Open validates the whole file (every checksum) and decodes the
// namespace list; ForEach decodes the objects one at a time (no copy of the strings: each
// object views the bytes, which must outlive the reader). Errors are Corruption naming
// what is wrong.
class CheckpointReader {
 public:
  static Result<CheckpointReader> Open(std::span<const uint8_t> bytes);
  uint64_t segment() const { return segment_; }
  const std::vector<CheckpointNamespace>& namespaces() const { return namespaces_; }
  // The history section (history_files.h); empty when no namespace keeps history.
  const std::string& history() const { return history_; }
  size_t objects() const { return file_.size(); }
  // Calls fn on every object in payload order; stops at the first error (fn's or a decoding
  // one).
  Status ForEach(const std::function<Status(const CheckpointObject&)>& fn) const;

 private:
  explicit CheckpointReader(storage::TreeView<3, double> file) : file_(std::move(file)) {}
  storage::TreeView<3, double> file_;
  uint64_t segment_ = 0;
  std::vector<CheckpointNamespace> namespaces_;
  std::string history_;
};

std::string CheckpointFileName(uint64_t segment);  // "checkpoint-<16 hex>.locus"
bool ParseCheckpointFileName(std::string_view name, uint64_t* segment);

}  // namespace locus::db_internal

#endif  // LOCUS_API_DB_DURABLE_FORMAT_H_
