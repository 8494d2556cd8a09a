// History: the open part, sealed chunks, and the coverage invariant (history.h); chunk images
// are in history_image.cc, the chunk and object structs in history_chunk.h.
#include "engine/history.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "engine/history_chunk.h"
#include "locus/check.h"

namespace locus::engine {

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
  if (fix.t >= st.sealed_min && fix.t <= st.sealed_max) MarkOverlaps(object, fix.t, fix.t);
  NoteTail(object);
  if (open_samples_ >= config_.chunk_samples) Seal();
}

bool History::MarkOverlaps(uint32_t object, int64_t lo, int64_t hi) {
  bool any = false;
  for (uint32_t seq : objects_[object].chunks) {
    Chunk& c = *chunks_[seq];
    if (c.t_max < lo || c.t_min > hi) continue;
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
                               MarkOverlaps(object, tail.front().t, tail.back().t);
      if (interleaved) c->MarkOverlapped(c->objects.size());
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

}  // namespace locus::engine
