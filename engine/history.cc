// History: the open part, sealed chunks, and the coverage invariant (history.h).
#include "engine/history.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "engine/round_outward.h"
#include "locus/check.h"

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
  std::vector<uint64_t> overlapped;  // bitmap over objects (history.h); empty while none is
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
    return !overlapped.empty() && (overlapped[slot >> 6] >> (slot & 63) & 1);
  }
  void MarkOverlapped(size_t slot) {
    if (overlapped.empty()) overlapped.assign((objects.size() + 63) / 64, 0);
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

History::History(HistoryConfig config) : config_(config) {
  LOCUS_CHECK(config_.run_samples >= 1);
  LOCUS_CHECK(config_.chunk_samples >= 1);
}
History::~History() = default;

uint32_t History::object_limit() const { return static_cast<uint32_t>(objects_.size()); }

History::ObjectState& History::State(uint32_t object) {
  if (object >= objects_.size()) objects_.resize(size_t{object} + 1);
  return objects_[object];
}

void History::NoteTail(uint32_t object) {
  ObjectState& st = objects_[object];
  if (!st.listed) {
    st.listed = true;
    tail_objects_.push_back(object);
  }
}

void History::Neighbours(uint32_t object, int64_t t, const Fix** pred, const Fix** succ,
                         Fix* pred_buf, Fix* succ_buf) const {
  *pred = *succ = nullptr;
  if (object >= objects_.size()) return;
  const ObjectState& st = objects_[object];
  auto consider = [&](const Fix& f) {
    if (f.t < t && (!*pred || f.t > (*pred)->t)) {
      *pred_buf = f;
      *pred = pred_buf;
    } else if (f.t > t && (!*succ || f.t < (*succ)->t)) {
      *succ_buf = f;
      *succ = succ_buf;
    }
  };
  auto it = std::lower_bound(st.tail.begin(), st.tail.end(), t,
                             [](const Fix& f, int64_t v) { return f.t < v; });
  if (it != st.tail.begin()) consider(*(it - 1));
  if (it != st.tail.end() && it->t == t) ++it;
  if (it != st.tail.end()) consider(*it);
  for (uint32_t seq : st.chunks) {
    const Chunk& c = *chunks_[seq];
    size_t b, e;
    if (!c.Rows(object, &b, &e)) continue;
    const size_t lb = static_cast<size_t>(
        std::lower_bound(c.t.begin() + b, c.t.begin() + e, t) - c.t.begin());
    for (size_t r = lb; r-- > b;) {
      if (!c.Erased(r)) {
        consider(c.At(r));
        break;
      }
    }
    for (size_t r = lb; r < e; ++r) {
      if (c.t[r] == t || c.Erased(r)) continue;
      consider(c.At(r));
      break;
    }
  }
}

void History::Add(uint32_t object, const Fix& fix, std::string_view metadata) {
  ObjectState& st = State(object);
  const bool in_order = !st.has_last || fix.t > st.last.t;
  if (in_order) {
    if (st.has_last) st.Extend(SegmentBox(st.last, fix, config_.space));
    st.Extend(PointBox(fix));
    st.tail.push_back(fix);
    if (config_.keep_metadata) st.tail_meta.emplace_back(metadata);
    st.last = fix;
    st.has_last = true;
    ++open_samples_;
  } else {
    // Replace a sample at the same t, wherever it is.
    auto it = std::lower_bound(st.tail.begin(), st.tail.end(), fix.t,
                               [](const Fix& f, int64_t v) { return f.t < v; });
    auto same = [&](const Fix& f, std::string_view m) {
      return f.x == fix.x && f.y == fix.y && f.z == fix.z &&
             (!config_.keep_metadata || m == metadata);
    };
    bool replaced = false;
    if (it != st.tail.end() && it->t == fix.t) {
      if (same(*it, config_.keep_metadata ? std::string_view(st.tail_meta[static_cast<size_t>(
                                                it - st.tail.begin())])
                                          : std::string_view())) {
        return;
      }
      replaced = true;
    } else {
      for (uint32_t seq : st.chunks) {
        Chunk& c = *chunks_[seq];
        if (fix.t < c.t_min || fix.t > c.t_max) continue;
        size_t b, e;
        if (!c.Rows(object, &b, &e)) continue;
        auto r = std::lower_bound(c.t.begin() + b, c.t.begin() + e, fix.t);
        if (r != c.t.begin() + e && *r == fix.t) {
          const size_t row = static_cast<size_t>(r - c.t.begin());
          if (!c.Erased(row)) {
            if (same(c.At(row), c.Meta(row))) return;
            c.Erase(row);
            --sealed_samples_;
          }
        }
      }
    }
    Fix pb, sb;
    const Fix *pred, *succ;
    Neighbours(object, fix.t, &pred, &succ, &pb, &sb);
    st.Extend(PointBox(fix));
    if (pred) st.Extend(SegmentBox(*pred, fix, config_.space));
    if (succ) st.Extend(SegmentBox(fix, *succ, config_.space));
    const size_t pos = static_cast<size_t>(it - st.tail.begin());
    if (replaced) {
      *it = fix;
      if (config_.keep_metadata) st.tail_meta[pos] = std::string(metadata);
    } else {
      st.tail.insert(it, fix);
      if (config_.keep_metadata) {
        st.tail_meta.insert(st.tail_meta.begin() + static_cast<ptrdiff_t>(pos),
                            std::string(metadata));
      }
      ++open_samples_;
    }
    if (fix.t == st.last.t) st.last = fix;
  }
  if (fix.t >= st.sealed_min && fix.t <= st.sealed_max) MarkOverlaps(object, fix.t, fix.t, kNoRow);
  NoteTail(object);
  if (open_samples_ >= config_.chunk_samples) Seal();
}

bool History::MarkOverlaps(uint32_t object, int64_t lo, int64_t hi, uint32_t except) {
  bool any = false;
  for (uint32_t seq : objects_[object].chunks) {
    Chunk& c = *chunks_[seq];
    if (seq == except || c.t_max < lo || c.t_min > hi) continue;
    size_t b, e, slot;
    if (!c.Rows(object, &b, &e, &slot) || c.t[b] > hi || c.t[e - 1] < lo) continue;
    c.MarkOverlapped(slot);
    any = true;
  }
  return any;
}

void History::Timeline(uint32_t object, int64_t t0, int64_t t1, bool neighbours,
                       std::vector<Fix>* out, std::vector<std::string_view>* meta) const {
  if (object >= objects_.size()) return;
  const ObjectState& st = objects_[object];
  const bool with_meta = meta && config_.keep_metadata;
  struct Item {
    Fix f;
    std::string_view m;
  };
  std::vector<Item> items;
  Item pred{}, succ{};
  bool has_pred = false, has_succ = false;
  auto before = [&](const Fix& f, std::string_view m) {
    if (!has_pred || f.t > pred.f.t) pred = {f, m}, has_pred = true;
  };
  auto after = [&](const Fix& f, std::string_view m) {
    if (!has_succ || f.t < succ.f.t) succ = {f, m}, has_succ = true;
  };
  // The chunks over the window, then (for the neighbours) those before it newest first and
  // those after it oldest first, each searched only while it may hold a nearer sample: an
  // object is in most chunks (they partition by arrival), so this keeps a short window's
  // timeline from searching every chunk.
  auto visit = [&](uint32_t seq) {
    const Chunk& c = *chunks_[seq];
    if (c.t_max < t0 && (!neighbours || (has_pred && c.t_max <= pred.f.t))) return;
    if (c.t_min > t1 && (!neighbours || (has_succ && c.t_min >= succ.f.t))) return;
    size_t b, e;
    if (!c.Rows(object, &b, &e)) return;
    size_t r = static_cast<size_t>(std::lower_bound(c.t.begin() + b, c.t.begin() + e, t0) -
                                   c.t.begin());
    if (neighbours) {
      for (size_t p = r; p-- > b;) {
        if (!c.Erased(p)) {
          before(c.At(p), with_meta ? c.Meta(p) : std::string_view());
          break;
        }
      }
    }
    for (; r < e && c.t[r] <= t1; ++r) {
      if (!c.Erased(r)) items.push_back({c.At(r), with_meta ? c.Meta(r) : std::string_view()});
    }
    if (neighbours) {
      for (; r < e; ++r) {
        if (!c.Erased(r)) {
          after(c.At(r), with_meta ? c.Meta(r) : std::string_view());
          break;
        }
      }
    }
  };
  for (uint32_t seq : st.chunks) {
    const Chunk& c = *chunks_[seq];
    if (c.t_max >= t0 && c.t_min <= t1) visit(seq);
  }
  if (neighbours) {
    for (auto it = st.chunks.rbegin(); it != st.chunks.rend(); ++it) {
      if (chunks_[*it]->t_max < t0) visit(*it);
    }
    for (uint32_t seq : st.chunks) {
      if (chunks_[seq]->t_min > t1) visit(seq);
    }
  }
  auto lo = std::lower_bound(st.tail.begin(), st.tail.end(), t0,
                             [](const Fix& f, int64_t v) { return f.t < v; });
  auto meta_of = [&](auto it) {
    return with_meta ? std::string_view(st.tail_meta[static_cast<size_t>(it - st.tail.begin())])
                     : std::string_view();
  };
  if (neighbours && lo != st.tail.begin()) before(*(lo - 1), meta_of(lo - 1));
  auto it = lo;
  for (; it != st.tail.end() && it->t <= t1; ++it) items.push_back({*it, meta_of(it)});
  if (neighbours && it != st.tail.end()) after(*it, meta_of(it));
  // Each source (a chunk's rows, the tail) is in order; with one source, all of it is.
  auto by_t = [](const Item& a, const Item& b) { return a.f.t < b.f.t; };
  if (!std::is_sorted(items.begin(), items.end(), by_t)) std::sort(items.begin(), items.end(), by_t);
  if (neighbours && has_pred) {
    out->push_back(pred.f);
    if (meta) meta->push_back(pred.m);
  }
  for (const Item& i : items) {
    out->push_back(i.f);
    if (meta) meta->push_back(i.m);
  }
  if (neighbours && has_succ) {
    out->push_back(succ.f);
    if (meta) meta->push_back(succ.m);
  }
}

bool History::Span(uint32_t object, int64_t* first, int64_t* last) const {
  if (object >= objects_.size()) return false;
  const ObjectState& st = objects_[object];
  bool any = false;
  auto take = [&](int64_t t) {
    if (!any) {
      *first = *last = t;
      any = true;
    } else {
      *first = std::min(*first, t);
      *last = std::max(*last, t);
    }
  };
  if (!st.tail.empty()) take(st.tail.front().t), take(st.tail.back().t);
  for (uint32_t seq : st.chunks) {
    const Chunk& c = *chunks_[seq];
    size_t b, e;
    if (!c.Rows(object, &b, &e)) continue;
    for (size_t r = b; r < e; ++r) {
      if (!c.Erased(r)) {
        take(c.t[r]);
        break;
      }
    }
    for (size_t r = e; r-- > b;) {
      if (!c.Erased(r)) {
        take(c.t[r]);
        break;
      }
    }
  }
  return any;
}

void History::RefreshLast(uint32_t object) {
  ObjectState& st = objects_[object];
  int64_t first, last;
  st.has_last = Span(object, &first, &last);
  if (!st.has_last) return;
  std::vector<Fix> one;
  Timeline(object, last, last, false, &one);
  st.last = one.back();
}

void History::Bridge(uint32_t object, int64_t t0, int64_t t1) {
  std::vector<Fix> around;
  Timeline(object, t0, t1, true, &around);
  if (around.size() < 2) return;
  ObjectState& st = objects_[object];
  for (size_t i = 0; i + 1 < around.size(); ++i) {
    const SpaceTimeBox b = SegmentBox(around[i], around[i + 1], config_.space);
    st.Extend(b);
    if (st.has_bridge) {
      st.bridge.Extend(b);
    } else {
      st.bridge = b;
      st.has_bridge = true;
    }
  }
  NoteTail(object);
}

size_t History::Erase(uint32_t object, int64_t t0, int64_t t1) {
  if (object >= objects_.size() || t0 > t1) return 0;
  ObjectState& st = objects_[object];
  size_t removed = 0;
  auto lo = std::lower_bound(st.tail.begin(), st.tail.end(), t0,
                             [](const Fix& f, int64_t v) { return f.t < v; });
  auto hi = std::upper_bound(st.tail.begin(), st.tail.end(), t1,
                             [](int64_t v, const Fix& f) { return v < f.t; });
  if (lo != hi) {
    removed += static_cast<size_t>(hi - lo);
    open_samples_ -= static_cast<size_t>(hi - lo);
    if (config_.keep_metadata) {
      st.tail_meta.erase(st.tail_meta.begin() + (lo - st.tail.begin()),
                         st.tail_meta.begin() + (hi - st.tail.begin()));
    }
    st.tail.erase(lo, hi);
  }
  for (uint32_t seq : st.chunks) {
    Chunk& c = *chunks_[seq];
    if (c.t_max < t0 || c.t_min > t1) continue;
    size_t b, e;
    if (!c.Rows(object, &b, &e)) continue;
    for (size_t r = static_cast<size_t>(std::lower_bound(c.t.begin() + b, c.t.begin() + e, t0) -
                                        c.t.begin());
         r < e && c.t[r] <= t1; ++r) {
      if (!c.Erased(r)) {
        c.Erase(r);
        ++removed;
        --sealed_samples_;
      }
    }
  }
  if (removed > 0) {
    Bridge(object, t0, t1);
    RefreshLast(object);
  }
  return removed;
}

size_t History::DropChunksBefore(int64_t cutoff) {
  size_t dropped = 0;
  for (size_t seq = 0; seq < chunks_.size(); ++seq) {
    if (!chunks_[seq] || chunks_[seq]->t_max >= cutoff) continue;
    std::unique_ptr<Chunk> c = std::move(chunks_[seq]);
    --live_chunks_;
    const size_t live = c->rows() - c->erased_count;
    dropped += live;
    sealed_samples_ -= live;
    for (size_t i = 0; i < c->objects.size(); ++i) {
      const uint32_t object = c->objects[i];
      ObjectState& st = objects_[object];
      st.chunks.erase(std::find(st.chunks.begin(), st.chunks.end(), static_cast<uint32_t>(seq)));
      Bridge(object, c->t[c->begin[i]], c->t[c->begin[i + 1] - 1]);
      RefreshLast(object);
    }
  }
  return dropped;
}

void History::Seal() {
  if (tail_objects_.empty()) return;
  std::sort(tail_objects_.begin(), tail_objects_.end());
  auto c = std::make_unique<Chunk>();
  const uint32_t seq = static_cast<uint32_t>(chunks_.size());
  c->t.reserve(open_samples_);
  c->x.reserve(open_samples_);
  c->y.reserve(open_samples_);
  bool any_z = false;
  std::vector<SpaceTimeBox> boxes;
  std::vector<double> zs;
  std::vector<bool> overlapped;  // per slot of the new chunk
  for (uint32_t object : tail_objects_) {
    ObjectState& st = objects_[object];
    if (st.has_bridge) {
      boxes.push_back(st.bridge);
      c->entry_object.push_back(object);
      c->entry_row.push_back(kNoRow);
    }
    if (!st.tail.empty()) {
      const std::vector<Fix>& tail = st.tail;
      const size_t n = tail.size();
      // Segments to samples outside the tail: the one before its first sample, the one after
      // its last, and (when sealed samples interleave with the tail's times) every tail
      // sample's two neighbours.
      Fix pb, sb, ignore;
      const Fix *pred, *succ, *none;
      Neighbours(object, tail.front().t, &pred, &none, &pb, &ignore);
      Neighbours(object, tail.back().t, &none, &succ, &ignore, &sb);
      // Sealed chunks whose times of the object meet the tail's interleave with it (they
      // were marked overlapped when the tail's samples arrived; the new chunk is, too).
      const bool interleaved = tail.front().t <= st.sealed_max &&
                               tail.back().t >= st.sealed_min &&
                               MarkOverlaps(object, tail.front().t, tail.back().t, kNoRow);
      if (interleaved) {
        if (overlapped.empty()) overlapped.resize(tail_objects_.size());
        overlapped[c->objects.size()] = true;
      }
      st.sealed_min = std::min(st.sealed_min, tail.front().t);
      st.sealed_max = std::max(st.sealed_max, tail.back().t);
      c->objects.push_back(object);
      c->begin.push_back(static_cast<uint32_t>(c->t.size()));
      for (size_t i = 0; i < n; ++i) {
        const Fix& f = tail[i];
        c->t.push_back(f.t);
        c->x.push_back(f.x);
        c->y.push_back(f.y);
        zs.push_back(f.z);
        any_z |= f.z != 0;
        if (config_.keep_metadata) {
          c->meta += st.tail_meta[i];
          c->meta_end.push_back(static_cast<uint32_t>(c->meta.size()));
        }
        c->t_min = std::min(c->t_min, f.t);
        c->t_max = std::max(c->t_max, f.t);
      }
      // Runs of run_samples samples: each covers its samples' segments to the next sample.
      for (size_t r = 0; r < n; r += config_.run_samples) {
        const size_t end = std::min(n, r + config_.run_samples);
        SpaceTimeBox b = PointBox(tail[r]);
        for (size_t i = r; i < end; ++i) {
          if (i + 1 < n) b.Extend(SegmentBox(tail[i], tail[i + 1], config_.space));
          if (interleaved) {
            Fix p2, s2b;
            const Fix *pp, *ss;
            Neighbours(object, tail[i].t, &pp, &ss, &p2, &s2b);
            if (pp) b.Extend(SegmentBox(*pp, tail[i], config_.space));
            if (ss) b.Extend(SegmentBox(tail[i], *ss, config_.space));
          }
        }
        if (r == 0 && pred) b.Extend(SegmentBox(*pred, tail[0], config_.space));
        if (end == n && succ) b.Extend(SegmentBox(tail[n - 1], *succ, config_.space));
        boxes.push_back(b);
        c->entry_object.push_back(object);
        c->entry_row.push_back(static_cast<uint32_t>(c->begin.back() + r));
      }
      st.chunks.push_back(seq);
    }
    st.tail.clear();
    st.tail.shrink_to_fit();
    st.tail_meta.clear();
    st.tail_meta.shrink_to_fit();
    st.has_box = st.has_bridge = false;
    st.listed = false;
  }
  c->begin.push_back(static_cast<uint32_t>(c->t.size()));
  if (any_z) c->z = std::move(zs);
  for (size_t i = 0; i < overlapped.size(); ++i) {
    if (overlapped[i]) c->MarkOverlapped(i);
  }
  tail_objects_.clear();
  sealed_samples_ += c->t.size();
  open_samples_ = 0;
  // The tree over the entries' (x, y, t) boxes.
  const Status built = c->BuildTree(boxes);
  LOCUS_CHECK(built.ok());
  c->x.shrink_to_fit();
  c->y.shrink_to_fit();
  c->t.shrink_to_fit();
  c->objects.shrink_to_fit();
  c->begin.shrink_to_fit();
  c->entry_object.shrink_to_fit();
  c->entry_row.shrink_to_fit();
  c->meta_end.shrink_to_fit();
  c->meta.shrink_to_fit();
  chunks_.push_back(std::move(c));
  ++live_chunks_;
}

void History::Candidates(const std::array<double, 4>& box, int64_t t0, int64_t t1,
                         std::vector<uint32_t>* out) const {
  const size_t start = out->size();
  const bool sphere = config_.space == Space::kSphere;
  const int shifts = sphere ? 2 : 1;
  for (int s = 0; s < shifts; ++s) {
    const double dx = s * 360.0;
    const double qx0 = box[0] + dx, qx1 = box[2] + dx;
    for (const auto& cp : chunks_) {
      if (!cp) continue;
      const Chunk& c = *cp;
      const SpaceTimeBox& b = c.bounds;
      if (b.max_t < t0 || b.min_t > t1 || b.max_x < qx0 || b.min_x > qx1 || b.max_y < box[1] ||
          b.min_y > box[3]) {
        continue;
      }
      const Box3 q = c.Relative({qx0, box[1], qx1, box[3], t0, t1});
      auto r = c.tree.Visit(q, [&](std::span<const uint32_t> ids) {
        for (uint32_t id : ids) out->push_back(c.entry_object[id]);
        return true;
      });
      LOCUS_CHECK(r.ok());
    }
    for (uint32_t object : tail_objects_) {
      const ObjectState& st = objects_[object];
      const SpaceTimeBox& b = st.box;
      if (!st.has_box || b.max_t < t0 || b.min_t > t1 || b.max_x < qx0 || b.min_x > qx1 ||
          b.max_y < box[1] || b.min_y > box[3]) {
        continue;
      }
      out->push_back(object);
    }
  }
  std::sort(out->begin() + static_cast<ptrdiff_t>(start), out->end());
  out->erase(std::unique(out->begin() + static_cast<ptrdiff_t>(start), out->end()), out->end());
}

void History::CandidateSpans(const std::array<double, 4>& box, int64_t t0, int64_t t1,
                             std::vector<HistorySpan>* out) const {
  const bool sphere = config_.space == Space::kSphere;
  auto whole = [&](uint32_t object) { out->push_back({object, t0, t1}); };
  const size_t start = out->size();
  for (int s = 0; s < (sphere ? 2 : 1); ++s) {
    const double qx0 = box[0] + s * 360.0, qx1 = box[2] + s * 360.0;
    const SpaceTimeBox q{qx0, box[1], qx1, box[3], t0, t1};
    for (uint32_t seq = 0; seq < chunks_.size(); ++seq) {
      if (!chunks_[seq]) continue;
      const Chunk& c = *chunks_[seq];
      const SpaceTimeBox& b = c.bounds;
      if (b.max_t < t0 || b.min_t > t1 || b.max_x < qx0 || b.min_x > qx1 || b.max_y < box[1] ||
          b.min_y > box[3]) {
        continue;
      }
      auto r = c.tree.Visit(c.Relative(q), [&](std::span<const uint32_t> ids) {
        for (uint32_t id : ids) {
          const uint32_t object = c.entry_object[id];
          const uint32_t row = c.entry_row.empty() ? kNoRow : c.entry_row[id];
          if (row == kNoRow) {
            whole(object);
            continue;
          }
          // The run's samples: its box covers their segments to their neighbours, which the
          // caller's timeline over [first, last] (with neighbours) holds.
          size_t b0, e0, slot;
          LOCUS_CHECK(c.Rows(object, &b0, &e0, &slot));
          const size_t last = std::min<size_t>(e0, size_t{row} + config_.run_samples) - 1;
          // Times come after the search: rows are scattered over the chunk's columns, and
          // the caller reads them next, so their cache lines are asked for now and loaded
          // while the search goes on.
          for (const auto* col : {c.t.data() + row, c.t.data() + last}) __builtin_prefetch(col);
          for (const auto* col : {c.x.data() + row, c.x.data() + last, c.y.data() + row,
                                  c.y.data() + last}) {
            __builtin_prefetch(col);
          }
          out->push_back({object, 0, 0, seq, static_cast<uint32_t>(slot), row,
                          static_cast<uint32_t>(last)});
        }
        return true;
      });
      LOCUS_CHECK(r.ok());
    }
    for (uint32_t object : tail_objects_) {
      const ObjectState& st = objects_[object];
      const SpaceTimeBox& b = st.box;
      if (!st.has_box || b.max_t < t0 || b.min_t > t1 || b.max_x < qx0 || b.min_x > qx1 ||
          b.max_y < box[1] || b.min_y > box[3]) {
        continue;
      }
      if (st.has_bridge || st.tail.empty()) {
        whole(object);
      } else {
        out->push_back({object, st.tail.front().t, st.tail.back().t});
      }
    }
  }
  for (size_t i = start; i < out->size(); ++i) {
    HistorySpan& sp = (*out)[i];
    if (sp.seq == kNoRow) continue;
    const Chunk& c = *chunks_[sp.seq];
    sp.t0 = c.t[sp.first_row];
    sp.t1 = c.t[sp.last_row];
  }
}

bool History::Stretch(const HistorySpan& s, std::vector<Fix>* out) const {
  if (s.seq < chunks_.size() && chunks_[s.seq] && s.t0 <= s.t1) {
    const Chunk& c = *chunks_[s.seq];
    if (s.slot < c.objects.size() && c.objects[s.slot] == s.object && !c.Overlapped(s.slot) &&
        s.first_row <= s.last_row && s.first_row >= c.begin[s.slot] &&
        s.last_row < c.begin[s.slot + 1] && c.t[s.first_row] <= s.t0 && s.t1 <= c.t[s.last_row]) {
      // The object's rows here are a stretch of its timeline: the window's rows lie within
      // the run's, its neighbours are the nearest live rows around them, when those exist
      // in the chunk (or, after the last row, when the object has nothing later).
      const size_t b = c.begin[s.slot], e = c.begin[s.slot + 1];
      const auto t = c.t.begin();
      const size_t lo = static_cast<size_t>(
          std::lower_bound(t + s.first_row, t + s.last_row + 1, s.t0) - t);
      const size_t hi = static_cast<size_t>(std::upper_bound(t + lo, t + s.last_row + 1, s.t1) - t);
      size_t p = lo, q = hi;
      while (p > b && c.Erased(p - 1)) --p;
      while (q < e && c.Erased(q)) ++q;
      const ObjectState& st = objects_[s.object];
      const bool none_after = q == e && st.has_last && st.last.t <= c.t[e - 1];
      if (p > b && (q < e || none_after)) {
        // (Sized once and filled: this is the inner loop of PassedThrough.)
        size_t n = out->size();
        out->resize(n + 1 + (hi - lo) + (q < e));
        Fix* f = out->data();
        f[n++] = c.At(p - 1);
        for (size_t r = lo; r < hi; ++r) {
          if (!c.Erased(r)) f[n++] = c.At(r);
        }
        if (q < e) f[n++] = c.At(q);
        out->resize(n);
        return true;
      }
    }
  }
  Timeline(s.object, s.t0, s.t1, true, out);
  return false;
}

void History::Entries(int64_t t0, int64_t t1,
                      std::vector<std::pair<uint32_t, SpaceTimeBox>>* out) const {
  for (const auto& cp : chunks_) {
    if (!cp || cp->bounds.max_t < t0 || cp->bounds.min_t > t1) continue;
    const auto& l = cp->tree.layout();
    for (uint64_t p = 0; p < l.num_items; ++p) {
      const SpaceTimeBox b = cp->EntryBox(p);
      if (b.max_t < t0 || b.min_t > t1) continue;
      out->push_back({cp->entry_object[l.ids[p]], b});
    }
  }
  for (uint32_t object : tail_objects_) {
    const ObjectState& st = objects_[object];
    if (st.has_box && st.box.max_t >= t0 && st.box.min_t <= t1) out->push_back({object, st.box});
  }
}

HistoryCounts History::Counts() const {
  HistoryCounts n;
  n.samples = sealed_samples_ + open_samples_;
  n.open_samples = open_samples_;
  n.chunks = live_chunks_;
  n.memory_bytes = objects_.capacity() * sizeof(ObjectState) + chunks_.capacity() * 8 +
                   tail_objects_.capacity() * 4;
  for (const ObjectState& st : objects_) {
    n.memory_bytes += st.chunks.capacity() * 4 + st.tail.capacity() * sizeof(Fix) +
                      st.tail_meta.capacity() * sizeof(std::string);
    for (const std::string& m : st.tail_meta) {
      if (m.capacity() > 15) n.memory_bytes += m.capacity() + 1;
    }
  }
  for (const auto& c : chunks_) {
    if (c) n.memory_bytes += sizeof(Chunk) + c->MemoryBytes();
  }
  return n;
}

// ---- images ----

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
    if ((lo <= st.sealed_max && hi >= st.sealed_min && MarkOverlaps(object, lo, hi, kNoRow)) ||
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
