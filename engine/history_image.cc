// History's chunk images (engine/history.h, "images"): what the database writes to a file per
// sealed chunk and reads back at recovery, and the open part's export and restore. Every
// image is checked before anything changes.
#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "engine/history.h"
#include "engine/history_chunk.h"
#include "locus/check.h"

namespace locus::engine {

std::vector<HistoryChunkInfo> History::LiveChunks() const {
  std::vector<HistoryChunkInfo> out;
  out.reserve(live_chunks_);
  for (size_t seq = 0; seq < chunks_.size(); ++seq) {
    if (chunks_[seq]) out.push_back({static_cast<uint32_t>(seq), chunks_[seq]->erased_count});
  }
  return out;
}

HistoryChunkImage History::ExportChunk(uint32_t seq) const {
  LOCUS_CHECK(seq < chunks_.size() && chunks_[seq]);
  const Chunk& c = *chunks_[seq];
  HistoryChunkImage im;
  if (c.erased_count == 0) {
    im.objects = c.objects;
    im.begin = c.begin;
    im.t = c.t;
    im.x = c.x;
    im.y = c.y;
    im.z = c.z;
    im.meta_end = c.meta_end;
    im.meta = c.meta;
  } else {
    // Erased rows are left out (a data-protection erasure leaves no trace in the files); the
    // entries stay as they are (they cover the bridges over the rows gone).
    im.begin.push_back(0);
    for (size_t i = 0; i < c.objects.size(); ++i) {
      for (size_t r = c.begin[i]; r < c.begin[i + 1]; ++r) {
        if (c.Erased(r)) continue;
        im.t.push_back(c.t[r]);
        im.x.push_back(c.x[r]);
        im.y.push_back(c.y[r]);
        if (!c.z.empty()) im.z.push_back(c.z[r]);
        if (!c.meta_end.empty()) {
          im.meta += c.Meta(r);
          im.meta_end.push_back(static_cast<uint32_t>(im.meta.size()));
        }
      }
      if (im.t.size() > im.begin.back()) {
        im.objects.push_back(c.objects[i]);
        im.begin.push_back(static_cast<uint32_t>(im.t.size()));
      }
    }
  }
  // The entries in item order (the tree stores them in leaf order with their item ids).
  const auto& l = c.tree.layout();
  im.entry_object = c.entry_object;
  // Row numbers hold only for the rows as they are: a compacted image's runs are unknown.
  if (c.erased_count == 0 && c.entry_row.size() == c.entry_object.size()) {
    im.entry_row = c.entry_row;
  } else {
    im.entry_row.assign(c.entry_object.size(), kNoRow);
  }
  im.entries.resize(l.num_items);
  for (uint64_t p = 0; p < l.num_items; ++p) {
    im.entries[l.ids[p]] = c.EntryBox(p);
  }
  return im;
}

std::vector<HistoryOpenObject> History::ExportOpen() const {
  std::vector<HistoryOpenObject> out;
  out.reserve(tail_objects_.size());
  for (uint32_t object : tail_objects_) {
    const ObjectState& st = objects_[object];
    HistoryOpenObject o;
    o.object = object;
    o.tail = st.tail;
    if (config_.keep_metadata) o.meta = st.tail_meta;
    o.has_bridge = st.has_bridge;
    o.bridge = st.bridge;
    out.push_back(std::move(o));
  }
  std::sort(out.begin(), out.end(), [](const HistoryOpenObject& a, const HistoryOpenObject& b) {
    return a.object < b.object;
  });
  return out;
}

namespace {

bool BoxOk(const SpaceTimeBox& b) {
  return std::isfinite(b.min_x) && std::isfinite(b.min_y) && std::isfinite(b.max_x) &&
         std::isfinite(b.max_y) && b.min_x <= b.max_x && b.min_y <= b.max_y && b.min_t <= b.max_t;
}

// Entries' times are stored as doubles in the tree: they must convert back exactly.
bool TimeOk(int64_t t) { return t > -(int64_t{1} << 53) && t < (int64_t{1} << 53); }

Status CheckImage(const HistoryChunkImage& im, uint32_t object_limit, bool keep_metadata) {
  auto bad = [](const std::string& what) { return InvalidArgumentError("history chunk: " + what); };
  const size_t rows = im.t.size();
  if (rows == 0 && im.entries.empty()) return bad("no rows and no entries");
  if (im.x.size() != rows || im.y.size() != rows || (!im.z.empty() && im.z.size() != rows)) {
    return bad("columns of different lengths (t " + std::to_string(rows) + ", x " +
               std::to_string(im.x.size()) + ", y " + std::to_string(im.y.size()) + ", z " +
               std::to_string(im.z.size()) + ")");
  }
  if (im.begin.size() != im.objects.size() + 1 || im.begin.front() != 0 ||
      im.begin.back() != rows) {
    return bad("row offsets do not cover the rows");
  }
  for (size_t i = 0; i < im.objects.size(); ++i) {
    if (im.objects[i] >= object_limit) {
      return bad("object " + std::to_string(im.objects[i]) + " beyond the " +
                 std::to_string(object_limit) + " known");
    }
    if (i > 0 && im.objects[i] <= im.objects[i - 1]) return bad("objects not ascending");
    if (im.begin[i + 1] <= im.begin[i]) return bad("an object with no rows");
    for (size_t r = im.begin[i]; r < im.begin[i + 1]; ++r) {
      if (r > im.begin[i] && im.t[r] <= im.t[r - 1]) {
        return bad("times of object " + std::to_string(im.objects[i]) + " not ascending");
      }
      if (!TimeOk(im.t[r])) return bad("time " + std::to_string(im.t[r]) + " out of range");
      if (!std::isfinite(im.x[r]) || !std::isfinite(im.y[r]) ||
          (!im.z.empty() && !std::isfinite(im.z[r]))) {
        return bad("row " + std::to_string(r) + " has a non-finite coordinate");
      }
    }
  }
  if (!im.meta_end.empty() || !im.meta.empty()) {
    if (!keep_metadata) return bad("metadata in a history that keeps none");
    if (im.meta_end.size() != rows) return bad("metadata offsets do not match the rows");
    for (size_t r = 0; r < rows; ++r) {
      if (im.meta_end[r] < (r == 0 ? 0 : im.meta_end[r - 1]) || im.meta_end[r] > im.meta.size()) {
        return bad("metadata offset " + std::to_string(r) + " out of order");
      }
    }
    if (rows > 0 && im.meta_end.back() != im.meta.size()) return bad("metadata bytes left over");
  } else if (keep_metadata && rows > 0) {
    return bad("no metadata offsets in a history that keeps metadata");
  }
  if (!im.erased.empty()) {
    if (im.erased.size() != (rows + 63) / 64) return bad("erased bitmap of the wrong size");
    if (rows % 64 != 0 && (im.erased.back() >> (rows % 64)) != 0) {
      return bad("erased bits past the last row");
    }
  }
  if (im.entry_object.size() != im.entries.size()) return bad("entries without objects");
  if (!im.entry_row.empty() && im.entry_row.size() != im.entries.size()) {
    return bad("entry rows do not match the entries");
  }
  for (size_t j = 0; j < im.entry_row.size(); ++j) {
    const uint32_t row = im.entry_row[j];
    if (row == kNoRow) continue;
    // The run's first row must be a row of the entry's object.
    auto it = std::lower_bound(im.objects.begin(), im.objects.end(), im.entry_object[j]);
    if (row >= rows || it == im.objects.end() || *it != im.entry_object[j]) {
      return bad("entry " + std::to_string(j) + "'s row is not one of its object's");
    }
    const size_t i = static_cast<size_t>(it - im.objects.begin());
    if (row < im.begin[i] || row >= im.begin[i + 1]) {
      return bad("entry " + std::to_string(j) + "'s row is not one of its object's");
    }
  }
  for (size_t j = 0; j < im.entries.size(); ++j) {
    if (im.entry_object[j] >= object_limit) return bad("entry of an unknown object");
    if (!BoxOk(im.entries[j]) || !TimeOk(im.entries[j].min_t) || !TimeOk(im.entries[j].max_t)) {
      return bad("entry " + std::to_string(j) + " is not a box");
    }
  }
  return Status();
}

}  // namespace

Result<uint32_t> History::ImportChunk(HistoryChunkImage im, uint32_t object_limit) {
  LOCUS_RETURN_IF_ERROR(CheckImage(im, object_limit, config_.keep_metadata));
  auto c = std::make_unique<Chunk>();
  c->entry_object = std::move(im.entry_object);
  c->entry_row = std::move(im.entry_row);
  if (c->entry_row.empty()) c->entry_row.assign(c->entry_object.size(), kNoRow);
  LOCUS_RETURN_IF_ERROR(c->BuildTree(im.entries));
  c->objects = std::move(im.objects);
  c->begin = std::move(im.begin);
  c->t = std::move(im.t);
  c->x = std::move(im.x);
  c->y = std::move(im.y);
  c->z = std::move(im.z);
  c->meta_end = std::move(im.meta_end);
  c->meta = std::move(im.meta);
  c->erased = std::move(im.erased);
  for (uint64_t w : c->erased) c->erased_count += static_cast<size_t>(__builtin_popcountll(w));
  if (c->erased_count == 0) c->erased.clear();
  for (int64_t t : c->t) {
    c->t_min = std::min(c->t_min, t);
    c->t_max = std::max(c->t_max, t);
  }
  const uint32_t seq = static_cast<uint32_t>(chunks_.size());
  sealed_samples_ += c->rows() - c->erased_count;
  for (size_t i = 0; i < c->objects.size(); ++i) {
    const uint32_t object = c->objects[i];
    ObjectState& st = State(object);
    // Overlaps with the chunks imported before (and open samples, though ImportOpen comes
    // last): marked on both sides.
    const int64_t lo = c->t[c->begin[i]], hi = c->t[c->begin[i + 1] - 1];
    if ((lo <= st.sealed_max && hi >= st.sealed_min && MarkOverlaps(object, lo, hi)) ||
        (!st.tail.empty() && lo <= st.tail.back().t && hi >= st.tail.front().t)) {
      c->MarkOverlapped(i);
    }
    st.sealed_min = std::min(st.sealed_min, lo);
    st.sealed_max = std::max(st.sealed_max, hi);
    st.chunks.push_back(seq);
    for (size_t r = c->begin[i + 1]; r-- > c->begin[i];) {
      if (c->Erased(r)) continue;
      if (!st.has_last || c->t[r] > st.last.t) {
        st.last = c->At(r);
        st.has_last = true;
      }
      break;
    }
  }
  for (uint32_t object : c->entry_object) State(object);
  chunks_.push_back(std::move(c));
  ++live_chunks_;
  return seq;
}

Status History::ImportOpen(const std::vector<HistoryOpenObject>& open, uint32_t object_limit) {
  for (const HistoryOpenObject& o : open) {
    auto bad = [&](const std::string& what) {
      return InvalidArgumentError("history open object " + std::to_string(o.object) + ": " + what);
    };
    if (o.object >= object_limit) return bad("beyond the " + std::to_string(object_limit) + " known");
    if (!o.meta.empty() && (o.meta.size() != o.tail.size() || !config_.keep_metadata)) {
      return bad("metadata does not match the samples");
    }
    if (o.has_bridge && (!BoxOk(o.bridge) || !TimeOk(o.bridge.min_t) || !TimeOk(o.bridge.max_t))) {
      return bad("bridge is not a box");
    }
    for (size_t i = 0; i < o.tail.size(); ++i) {
      const Fix& f = o.tail[i];
      if ((i > 0 && f.t <= o.tail[i - 1].t) || !TimeOk(f.t) || !std::isfinite(f.x) ||
          !std::isfinite(f.y) || !std::isfinite(f.z)) {
        return bad("sample " + std::to_string(i) + " out of order or not finite");
      }
    }
  }
  for (const HistoryOpenObject& o : open) {
    ObjectState& st = State(o.object);
    if (o.has_bridge) {
      st.Extend(o.bridge);
      if (st.has_bridge) {
        st.bridge.Extend(o.bridge);
      } else {
        st.bridge = o.bridge;
        st.has_bridge = true;
      }
      NoteTail(o.object);
    }
    for (size_t i = 0; i < o.tail.size(); ++i) {
      Add(o.object, o.tail[i], o.meta.empty() ? std::string_view() : std::string_view(o.meta[i]));
    }
  }
  return Status();
}

}  // namespace locus::engine
