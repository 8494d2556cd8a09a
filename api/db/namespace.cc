// Namespace (namespace.h): objects in and out of a namespace's records, id map and index —
// the bulk path that builds the index in one pass, freeing keys, and the exact memory account.
#include "api/db/namespace.h"

#include <algorithm>

#include "kernels/column.h"
#include "kernels/geo.h"

namespace locus::db_internal {
namespace {

// Empties a freed key's record and frees its strings' buffers: assigning Record() would keep
// them (libstdc++ copies a short string into the existing buffer), leaving a deleted object's
// long metadata allocated until its key is reused.
void ClearRecord(Record* r) {
  Record old = std::move(*r);
  *r = Record();
}

// The heap bytes a std::string owns: none while its characters fit the buffer inside the
// object (the short-string optimisation), else capacity() + 1, which is what libstdc++
// allocates (room for the terminating NUL).
size_t HeapBytes(const std::string& s) {
  const auto* self = reinterpret_cast<const char*>(&s);
  const bool inline_buffer =
      std::less_equal<>()(self, s.data()) && std::less<>()(s.data(), self + sizeof(s));
  return inline_buffer ? 0 : s.capacity() + 1;
}

}  // namespace

Object MakeObject(std::string_view id, const Position& pos, int64_t timestamp,
                  std::string_view metadata, int64_t expires) {
  Object o;
  AssignObject(id, pos, timestamp, metadata, expires, &o);
  return o;
}

void AssignObject(std::string_view id, const Position& pos, int64_t timestamp,
                  std::string_view metadata, int64_t expires, Object* o) {
  o->id = id;
  o->pos = pos;
  o->timestamp = timestamp;
  o->metadata = metadata;
  o->expires_at.reset();
  o->ttl_ms.reset();
  if (expires != engine::kNeverExpires) o->expires_at = expires;
}

void Namespace::IndexRecords() {
  std::vector<uint32_t> keys;
  keys.reserve(key_of_id.size());
  for (uint32_t key = 0; key < records.size(); ++key) {
    if (!records[key].id.empty()) keys.push_back(key);
  }
  const size_t n = keys.size();
  std::vector<uint32_t> renumber;
  auto fill_times = [&](auto& rows) {
    rows.keys = keys;
    rows.t.resize(n);
    rows.expires.resize(n);
    for (size_t i = 0; i < n; ++i) {
      rows.t[i] = deferred_times[keys[i]].t;
      rows.expires[i] = deferred_times[keys[i]].expires;
    }
  };
  if (two_d()) {
    engine::LiveIndex<2>::RowSet rows;
    fill_times(rows);
    rows.pos[0].resize(n);
    rows.pos[1].resize(n);
    for (size_t i = 0; i < n; ++i) {
      rows.pos[0][i] = records[keys[i]].pos.x;
      rows.pos[1][i] = records[keys[i]].pos.y;
    }
    live2 = engine::LiveIndex<2>::Build(live2.options(), rows, &renumber);
  } else {
    engine::LiveIndex<3>::RowSet rows;
    fill_times(rows);
    for (auto& column : rows.pos) column.resize(n);
    if (geographic()) {  // unit vectors by the batch kernel (padded columns)
      kernels::Column<double> lon(n), lat(n), x(n), y(n), z(n);
      for (size_t i = 0; i < n; ++i) {
        lon[i] = records[keys[i]].pos.x;
        lat[i] = records[keys[i]].pos.y;
      }
      kernels::LonLatToUnit(lon.data(), lat.data(), n, x.data(), y.data(), z.data());
      std::copy(x.data(), x.data() + n, rows.pos[0].begin());
      std::copy(y.data(), y.data() + n, rows.pos[1].begin());
      std::copy(z.data(), z.data() + n, rows.pos[2].begin());
    } else {
      for (size_t i = 0; i < n; ++i) {
        const Position& p = records[keys[i]].pos;
        rows.pos[0][i] = p.x;
        rows.pos[1][i] = p.y;
        rows.pos[2][i] = p.z;
      }
    }
    live3 = engine::LiveIndex<3>::Build(live3.options(), rows, &renumber);
  }
  decltype(records) moved(n);
  for (uint32_t key : keys) moved[renumber[key]] = std::move(records[key]);
  records = std::move(moved);
  defer_index = false;
  std::vector<Times>().swap(deferred_times);  // (= {} would keep the capacity)
  key_of_id.Renumber(renumber);
  free_keys.clear();
}

void Namespace::FreeKey(uint32_t key) {
  Touch(key);
  key_of_id.Erase(key);
  ClearRecord(&records[key]);
  free_keys.push_back(key);
}

size_t Namespace::MemoryBytes() const {
  // What the namespace's containers allocated: vectors allocate exactly capacity() elements,
  // the map's allocator counted its arrays, and each string owns HeapBytes; plus the index's
  // own account (engine/live_index.h; it counts its columns by capacity, not the padding and
  // alignment kernels::Column adds).
  size_t bytes = WithIndex([](const auto& live) { return live.MemoryBytes(); });
  bytes += map_bytes;
  bytes += records.capacity() * sizeof(Record) + free_keys.capacity() * sizeof(uint32_t);
  bytes += deferred_times.capacity() * sizeof(Times);
  for (const Record& rec : records) {
    bytes += rec.id.HeapBytes();
    // A stored text: its string object and the characters it owns.
    if (const std::string* m = rec.metadata.text()) bytes += sizeof(std::string) + HeapBytes(*m);
  }
  if (history) bytes += history->MemoryBytes();
  return bytes;
}

}  // namespace locus::db_internal
