// The inside of History (engine/history.h): a sealed chunk and one object's state, shared by
// history.cc (writes and reads) and history_image.cc (chunk images: export, checks, import).
// Not a public header: only those two files include it.
#ifndef LOCUS_ENGINE_HISTORY_CHUNK_H_
#define LOCUS_ENGINE_HISTORY_CHUNK_H_

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/history.h"
#include "engine/round_outward.h"

namespace locus::engine {

struct History::Chunk {
  int64_t t_min = std::numeric_limits<int64_t>::max();
  int64_t t_max = std::numeric_limits<int64_t>::min();
  SpaceTimeBox bounds{};  // of the entries
  std::vector<uint32_t> objects;  // sorted
  std::vector<uint32_t> begin;    // objects.size() + 1 row offsets
  std::vector<int64_t> t;
  std::vector<double> x, y, z;  // z empty when every z is 0
  std::vector<uint32_t> meta_end;  // when metadata is kept: row i's bytes end at meta_end[i]
  std::string meta;
  std::vector<uint64_t> erased;  // bitmap over rows; empty while none is erased
  size_t erased_count = 0;
  std::vector<uint64_t> overlapped;  // bitmap over objects (history.h), up to its last set bit
  std::vector<uint32_t> entry_object;  // tree item -> object
  // tree item -> the first row of its run (kNoRow: a bridge, or a run whose rows are unknown)
  std::vector<uint32_t> entry_row;
  PackedRTree3F tree;  // over Relative(entry boxes), in leaf order (BuildTree)

  size_t rows() const { return t.size(); }
  bool Erased(size_t row) const {
    return !erased.empty() && (erased[row >> 6] >> (row & 63) & 1);
  }
  void Erase(size_t row) {
    if (erased.empty()) erased.assign((rows() + 63) / 64, 0);
    erased[row >> 6] |= uint64_t{1} << (row & 63);
    ++erased_count;
  }
  bool Overlapped(size_t slot) const {
    return (slot >> 6) < overlapped.size() && (overlapped[slot >> 6] >> (slot & 63) & 1);
  }
  void MarkOverlapped(size_t slot) {
    if ((slot >> 6) >= overlapped.size()) overlapped.resize((slot >> 6) + 1, 0);
    overlapped[slot >> 6] |= uint64_t{1} << (slot & 63);
  }
  Fix At(size_t row) const { return {t[row], x[row], y[row], z.empty() ? 0.0 : z[row]}; }
  std::string_view Meta(size_t row) const {
    if (meta_end.empty()) return {};
    const uint32_t b = row == 0 ? 0 : meta_end[row - 1];
    return std::string_view(meta).substr(b, meta_end[row] - b);
  }
  // The rows of `object`: [*b, *e) (and its slot in `objects`); false when it has none here.
  bool Rows(uint32_t object, size_t* b, size_t* e, size_t* slot = nullptr) const {
    auto it = std::lower_bound(objects.begin(), objects.end(), object);
    if (it == objects.end() || *it != object) return false;
    const size_t i = static_cast<size_t>(it - objects.begin());
    *b = begin[i];
    *e = begin[i + 1];
    if (slot) *slot = i;
    return true;
  }
  // Builds the tree over the entries (entry i's box is boxes[i]; entry_object and entry_row
  // set) and `bounds`, renumbering the entries in the tree's leaf order first: a search then
  // reads the entries of one leaf from neighbouring slots of entry_object and entry_row, not
  // from all over. The tree is f32 over coordinates relative to the bounds' low corner,
  // rounded outward (engine/round_outward.h): half the bytes of f64 nodes, and relative
  // coordinates keep ~1e-7 of the chunk's extent (a few cm, a ms) where absolute f32
  // longitudes and epoch milliseconds would not.
  Status BuildTree(const std::vector<SpaceTimeBox>& boxes) {
    for (size_t i = 0; i < boxes.size(); ++i) {
      if (i == 0) {
        bounds = boxes[i];
      } else {
        bounds.Extend(boxes[i]);
      }
    }
    std::vector<Box3> rel(boxes.size());
    for (size_t i = 0; i < boxes.size(); ++i) rel[i] = Relative(boxes[i]);
    LOCUS_ASSIGN_OR_RETURN(tree, PackedRTree3F::Build(rel));
    const auto& l = tree.layout();
    bool leaf_order = true;
    for (uint64_t p = 0; p < l.num_items && leaf_order; ++p) leaf_order = l.ids[p] == p;
    if (leaf_order) return Status();
    std::vector<Box3> sorted_boxes(boxes.size());
    std::vector<uint32_t> sorted_object(boxes.size()), sorted_row(boxes.size());
    for (uint64_t p = 0; p < l.num_items; ++p) {
      sorted_boxes[p] = rel[l.ids[p]];
      sorted_object[p] = entry_object[l.ids[p]];
      sorted_row[p] = entry_row[l.ids[p]];
    }
    entry_object = std::move(sorted_object);
    entry_row = std::move(sorted_row);
    // (The Hilbert sort is stable: the same tree, its items now in slot order.)
    LOCUS_ASSIGN_OR_RETURN(tree, PackedRTree3F::Build(sorted_boxes));
    return Status();
  }
  // A box (entry or query) in the tree's coordinates. Subtracting the same origin is
  // monotone, so overlaps are kept; the tree rounds both sides outward to f32.
  Box3 Relative(const SpaceTimeBox& b) const {
    return {{b.min_x - bounds.min_x, b.min_y - bounds.min_y,
             static_cast<double>(b.min_t) - static_cast<double>(bounds.min_t)},
            {b.max_x - bounds.min_x, b.max_y - bounds.min_y,
             static_cast<double>(b.max_t) - static_cast<double>(bounds.min_t)}};
  }
  // Entry box p (a tree slot) back in absolute coordinates: a box holding the entry's exact
  // box (one more double step outward for the addition's rounding; whole milliseconds).
  SpaceTimeBox EntryBox(uint64_t p) const {
    const auto& l = tree.layout();
    const double t0 = static_cast<double>(bounds.min_t);
    return {internal::StepDown(bounds.min_x + l.min[0][p]),
            internal::StepDown(bounds.min_y + l.min[1][p]),
            internal::StepUp(bounds.min_x + l.max[0][p]),
            internal::StepUp(bounds.min_y + l.max[1][p]),
            static_cast<int64_t>(std::floor(t0 + l.min[2][p])),
            static_cast<int64_t>(std::ceil(t0 + l.max[2][p]))};
  }
  size_t MemoryBytes() const {
    size_t bytes = objects.capacity() * 4 + begin.capacity() * 4 + t.capacity() * 8 +
                   (x.capacity() + y.capacity() + z.capacity()) * 8 + meta_end.capacity() * 4 +
                   meta.capacity() + erased.capacity() * 8 + overlapped.capacity() * 8 +
                   entry_object.capacity() * 4 +
                   entry_row.capacity() * 4;
    const auto& l = tree.layout();
    if (l.num_levels > 0) {
      const uint64_t slots = l.level_begin[l.num_levels];
      bytes += slots * (6 * sizeof(float) + sizeof(uint32_t)) + (l.num_levels + 1) * 8;
    }
    return bytes;
  }
};

struct History::ObjectState {
  std::vector<uint32_t> chunks;  // sequences of the chunks holding samples of it, ascending
  std::vector<Fix> tail;         // open samples, sorted by t
  std::vector<std::string> tail_meta;
  SpaceTimeBox box{};  // covers the tail, its segments to neighbours, and the bridge
  bool has_box = false;
  SpaceTimeBox bridge{};  // the segments a removal joined (sealed as an entry of its own)
  bool has_bridge = false;
  bool listed = false;  // in tail_objects_
  bool has_last = false;
  Fix last;  // the latest sample (sealed or open)
  // Every time the object's sealed rows ever had (erased and dropped ones too; empty while
  // min > max): a sample outside it overlaps no chunk.
  int64_t sealed_min = std::numeric_limits<int64_t>::max();
  int64_t sealed_max = std::numeric_limits<int64_t>::min();

  void Extend(const SpaceTimeBox& b) {
    if (has_box) {
      box.Extend(b);
    } else {
      box = b;
      has_box = true;
    }
  }
};

}  // namespace locus::engine

#endif  // LOCUS_ENGINE_HISTORY_CHUNK_H_
