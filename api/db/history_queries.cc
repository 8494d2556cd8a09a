// The spatio-temporal queries over many objects' history: SliceAt, PassedThrough, NearestAt,
// ClosestApproach and Encounters. Each finds candidate objects (or pairs) with the history's
// index (engine::History::Candidates / Entries: a superset) and decides each candidate
// exactly on its path by the motion rule (engine/motion.h), so the answer is the brute-force
// answer over all samples. Encounters joins index entries with the engine's packed-tree
// self-join and decides the candidate pairs in parallel (oneTBB); its output is sorted, so it
// does not depend on the thread count. Locks: the namespace's rw, shared (Impl::HistoryRead).
#include <algorithm>
#include <cmath>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <tbb/parallel_for.h>

#include "api/db/db_impl.h"
#include "api/db/history_path.h"
#include "engine/rtree_join.h"
#include "kernels/geo.h"

namespace locus {

using db_internal::HistoryNumber;
using db_internal::PathAt;
using db_internal::PositionOf;

namespace {

constexpr double kDegPerMetre = 180 / (3.14159265358979323846 * kernels::kEarthRadiusMetres);

// Candidate objects for a region over [t0, t1] (every object for kEverywhere).
std::vector<uint32_t> RegionCandidates(const db_internal::HistoryState& h,
                                       const engine::MotionRegion* region, engine::Space space,
                                       int64_t t0, int64_t t1) {
  std::vector<uint32_t> out;
  if (!region) {
    out.resize(h.names.size());
    for (uint32_t i = 0; i < out.size(); ++i) out[i] = i;
    return out;
  }
  std::array<double, 4> boxes[2];
  const int n = engine::RegionBoxes(*region, space, boxes);
  for (int i = 0; i < n; ++i) h.store.Candidates(boxes[i], t0, t1, &out);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

// The position of `object` at t, when its history spans t.
std::optional<engine::Fix> ObjectAt(const db_internal::HistoryState& h, uint32_t object, int64_t t,
                                    engine::Space space) {
  std::vector<engine::Fix> path;
  h.store.Timeline(object, t, t, true, &path);
  return PathAt(path, static_cast<double>(t), space);
}

// Two paths over their common time within [t0, t1], cut at every sample of either: calls
// piece(ApproachPiece) in time order. Returns false when they share no time.
template <class F>
bool ForEachPiece(const std::vector<engine::Fix>& a, const std::vector<engine::Fix>& b, int64_t t0,
                  int64_t t1, engine::Space space, F&& piece) {
  if (a.empty() || b.empty()) return false;
  const int64_t lo = std::max({t0, a.front().t, b.front().t});
  const int64_t hi = std::min({t1, a.back().t, b.back().t});
  if (lo > hi) return false;
  std::vector<int64_t> cuts = {lo, hi};
  for (const auto* path : {&a, &b}) {
    auto it = std::upper_bound(path->begin(), path->end(), lo,
                               [](int64_t v, const engine::Fix& f) { return v < f.t; });
    for (; it != path->end() && it->t < hi; ++it) cuts.push_back(it->t);
  }
  std::sort(cuts.begin(), cuts.end());
  cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
  if (cuts.size() == 1) cuts.push_back(cuts[0]);  // one instant in common
  for (size_t i = 0; i + 1 < cuts.size(); ++i) {
    const double u = static_cast<double>(cuts[i]), v = static_cast<double>(cuts[i + 1]);
    engine::ApproachPiece p{*PathAt(a, u, space), *PathAt(a, v, space), *PathAt(b, u, space),
                            *PathAt(b, v, space)};
    p.a0.t = p.b0.t = cuts[i];
    p.a1.t = p.b1.t = cuts[i + 1];
    piece(p);
  }
  return true;
}

// The (x, y, t) box widened by `d` in space (metres on the sphere, converted to degrees at the
// box's most poleward latitude; near a pole, every longitude).
engine::SpaceTimeBox Widen(engine::SpaceTimeBox b, double d, engine::Space space) {
  if (space != engine::Space::kSphere) {
    b.min_x -= d, b.min_y -= d, b.max_x += d, b.max_y += d;
    return b;
  }
  const double dlat = d * kDegPerMetre * (1 + 1e-9) + 1e-9;
  b.min_y = std::max(-90.0, b.min_y - dlat);
  b.max_y = std::min(90.0, b.max_y + dlat);
  const double lat = std::max(std::abs(b.min_y), std::abs(b.max_y));
  if (lat >= 89.9) {
    b.min_x = -180, b.max_x = 540;
  } else {
    const double dlon = dlat / std::cos(lat * 3.14159265358979323846 / 180);
    b.min_x -= dlon, b.max_x += dlon;
  }
  return b;
}

// A cheap (x, y, t) box holding the segment a -> b. Planar: the endpoints' box (exact). Sphere:
// the endpoints' lon range (an arc is monotone in longitude) and lat range widened by a bound
// on the arc's poleward bulge; arcs longer than 90 degrees of longitude, across the
// antimeridian or near a pole take engine::SegmentBox (exact, slower; x may exceed 180).
engine::SpaceTimeBox QuickBox(const engine::Fix& a, const engine::Fix& b, engine::Space space) {
  engine::SpaceTimeBox box{std::min(a.x, b.x), std::min(a.y, b.y), std::max(a.x, b.x),
                           std::max(a.y, b.y), std::min(a.t, b.t), std::max(a.t, b.t)};
  if (space != engine::Space::kSphere) return box;
  if (box.max_x - box.min_x > 90 || std::max(std::abs(box.min_y), std::abs(box.max_y)) > 80) {
    return engine::SegmentBox(a, b, space);
  }
  constexpr double kRad = 3.14159265358979323846 / 180;
  const double theta = std::hypot((box.max_x - box.min_x) * std::cos(box.min_y * kRad),
                                  box.max_y - box.min_y) * kRad * 1.5;
  const double bulge = theta * theta * (1 + std::tan(80 * kRad)) / 8 / kRad + 1e-9;
  box.min_y -= bulge, box.max_y += bulge, box.min_x -= 1e-9, box.max_x += 1e-9;
  return box;
}

// Whether the segment a -> b may meet one of the region's x/y boxes (RegionBoxes, x within
// [-180, 180]): false only when it certainly does not.
bool MayMeet(const engine::Fix& a, const engine::Fix& b, const std::array<double, 4>* boxes,
             int n, engine::Space space) {
  // Most segments of a candidate's window are far from the region: reject those on their
  // endpoints' box first, without trigonometry. Padded by 1e-3 degrees, that box holds a
  // great-circle arc spanning at most 0.1 degrees in each axis below 80 degrees of latitude
  // (the bulge is at most tan(80) (pi / 2 * 0.1 * sqrt(2) * pi / 180)^2 / 8 rad, 6e-4 degrees;
  // engine/motion.cc, SegmentBox).
  const double x0 = std::min(a.x, b.x), x1 = std::max(a.x, b.x);
  const double y0 = std::min(a.y, b.y), y1 = std::max(a.y, b.y);
  if (space != engine::Space::kSphere ||
      (x1 - x0 <= 0.1 && y1 - y0 <= 0.1 && std::max(std::abs(y0), std::abs(y1)) <= 80)) {
    const double pad = space == engine::Space::kSphere ? 1e-3 : 0;
    bool near = false;
    for (int i = 0; i < n && !near; ++i) {
      const auto& q = boxes[i];
      for (double shift : {0.0, space == engine::Space::kSphere ? -360.0 : 0.0}) {
        near |= x1 + pad + shift >= q[0] && x0 - pad + shift <= q[2] && y1 + pad >= q[1] &&
                y0 - pad <= q[3];
      }
    }
    if (!near) return false;
    if (space != engine::Space::kSphere) return true;  // the planar box is exact
  }
  const engine::SpaceTimeBox s = QuickBox(a, b, space);
  for (int i = 0; i < n; ++i) {
    const auto& q = boxes[i];
    for (double shift : {0.0, space == engine::Space::kSphere ? -360.0 : 0.0}) {
      if (s.max_x + shift >= q[0] && s.min_x + shift <= q[2] && s.max_y >= q[1] &&
          s.min_y <= q[3]) {
        return true;
      }
    }
  }
  return false;
}

}  // namespace

Result<QueryResult> Db::SliceAt(std::string_view ns_name, int64_t t, const Region& region,
                                const QueryOptions& options) const {
  LOCUS_RETURN_IF_ERROR(db_internal::CheckQuery(options));
  return impl_->HistoryRead<QueryResult>(
      ns_name,
      [&](const Impl::Namespace& ns, const db_internal::HistoryState& h) -> Result<QueryResult> {
        const engine::Space space = db_internal::SpaceOf(ns.options.coordinates);
        engine::MotionRegion r;
        std::optional<engine::Polygon> polygon;
        LOCUS_RETURN_IF_ERROR(db_internal::CheckRegion(ns.options.coordinates, region, &r, &polygon));
        const bool everywhere = region.kind == Region::Kind::kEverywhere;
        QueryResult out;
        for (uint32_t object : RegionCandidates(h, everywhere ? nullptr : &r, space, t, t)) {
          auto p = ObjectAt(h, object, t, space);
          if (!p || (!everywhere && !engine::InRegion(r, *p, space))) continue;
          Hit hit;
          hit.id = h.names[object];
          hit.pos = PositionOf(*p);
          hit.timestamp = t;
          out.hits.push_back(std::move(hit));
        }
        std::sort(out.hits.begin(), out.hits.end(),
                  [](const Hit& a, const Hit& b) { return a.id < b.id; });
        if (out.hits.size() > options.limit) {
          out.hits.resize(options.limit);
          out.truncated = true;
        }
        return out;
      });
}

Result<PassageResult> Db::PassedThrough(std::string_view ns_name, const Region& region, int64_t t0,
                                        int64_t t1, const QueryOptions& options) const {
  LOCUS_RETURN_IF_ERROR(db_internal::CheckQuery(options));
  LOCUS_RETURN_IF_ERROR(db_internal::CheckWindow(t0, t1));
  if (region.kind == Region::Kind::kEverywhere) {
    return InvalidArgumentError("region.kind = kEverywhere: PassedThrough needs a box, circle "
                                "or polygon");
  }
  return impl_->HistoryRead<PassageResult>(
      ns_name,
      [&](const Impl::Namespace& ns, const db_internal::HistoryState& h) -> Result<PassageResult> {
        const engine::Space space = db_internal::SpaceOf(ns.options.coordinates);
        engine::MotionRegion r;
        std::optional<engine::Polygon> polygon;
        LOCUS_RETURN_IF_ERROR(db_internal::CheckRegion(ns.options.coordinates, region, &r, &polygon));
        PassageResult out;
        std::vector<engine::Fix> path;
        std::array<double, 4> region_boxes[2];
        const int nb = engine::RegionBoxes(r, space, region_boxes);
        // The stretches of path the index entries that met the region hold (clipped to the
        // window, merged per object, in time order): the first instant inside is on one of
        // them, so the first stretch with a hit gives it.
        std::vector<engine::HistorySpan> spans;
        for (int i = 0; i < nb; ++i) h.store.CandidateSpans(region_boxes[i], t0, t1, &spans);
        // Clipped into the window: a run wholly before it (or after it) met the window only on
        // its segment to the next sample (from the previous one), which the window's first
        // (last) instant and its neighbours hold.
        for (auto& sp : spans) sp.t0 = std::clamp(sp.t0, t0, t1), sp.t1 = std::clamp(sp.t1, t0, t1);
        std::sort(spans.begin(), spans.end(),
                  [](const engine::HistorySpan& a, const engine::HistorySpan& b) {
                    return a.object != b.object ? a.object < b.object : a.t0 < b.t0;
                  });
        for (size_t s = 0; s < spans.size();) {
          const uint32_t object = spans[s].object;
          std::optional<double> first;
          for (; s < spans.size() && spans[s].object == object; ) {
            // Stretches closer than their own length are read as one: one read is cheaper
            // than two. Runs of one chunk stay a run of rows (read in place); others become
            // a time window. (Unsigned: a window may span the whole int64 range.)
            engine::HistorySpan cur = spans[s];
            auto same_run_chunk = [&](const engine::HistorySpan& next) {
              return cur.seq != engine::kNoRow && next.seq == cur.seq;
            };
            auto near = [&](const engine::HistorySpan& next) {
              if (next.object != object) return false;
              if (same_run_chunk(next)) {
                return next.first_row <= cur.last_row ||
                       next.first_row - cur.last_row <=
                           std::max<uint32_t>(cur.last_row - cur.first_row, 1);
              }
              if (next.t0 <= cur.t1) return true;
              const uint64_t gap = static_cast<uint64_t>(next.t0) - static_cast<uint64_t>(cur.t1);
              const uint64_t len = static_cast<uint64_t>(cur.t1) - static_cast<uint64_t>(cur.t0);
              return gap <= std::max<uint64_t>(len, 1);
            };
            for (++s; s < spans.size() && near(spans[s]); ++s) {
              const engine::HistorySpan& next = spans[s];
              if (same_run_chunk(next)) {
                cur.last_row = std::max(cur.last_row, next.last_row);
              } else {
                cur.seq = engine::kNoRow;
              }
              cur.t1 = std::max(cur.t1, next.t1);
            }
            if (first) continue;
            path.clear();
            h.store.Stretch(cur, &path);
            if (path.size() == 1) {
              if (path[0].t >= t0 && path[0].t <= t1 && engine::InRegion(r, path[0], space)) {
                first = static_cast<double>(path[0].t);
              }
            }
            for (size_t i = 0; i + 1 < path.size() && !first; ++i) {
              if (path[i + 1].t < t0 || path[i].t > t1 ||
                  !MayMeet(path[i], path[i + 1], region_boxes, nb, space)) {
                continue;
              }
              first = engine::FirstInside(path[i], path[i + 1], static_cast<double>(t0),
                                          static_cast<double>(t1), r, space);
            }
            if (first) {
              out.passages.push_back(
                  {h.names[object], *first, PositionOf(*PathAt(path, *first, space))});
            }
          }
        }
        std::sort(out.passages.begin(), out.passages.end(),
                  [](const Passage& a, const Passage& b) { return a.id < b.id; });
        if (out.passages.size() > options.limit) {
          out.passages.resize(options.limit);
          out.truncated = true;
        }
        return out;
      });
}

Result<QueryResult> Db::NearestAt(std::string_view ns_name, const Position& center, int64_t t,
                                  size_t k, const QueryOptions& options) const {
  LOCUS_RETURN_IF_ERROR(db_internal::CheckK(k));
  LOCUS_RETURN_IF_ERROR(db_internal::CheckQuery(options));
  return impl_->HistoryRead<QueryResult>(
      ns_name,
      [&](const Impl::Namespace& ns, const db_internal::HistoryState& h) -> Result<QueryResult> {
        const engine::Space space = db_internal::SpaceOf(ns.options.coordinates);
        LOCUS_RETURN_IF_ERROR(db_internal::CheckPosition(ns.options.coordinates, center, "center"));
        const engine::Fix c{t, center.x, center.y, center.z};
        // Circles of doubling radius until k objects lie within one (or the circle holds
        // everything): every object within the radius is a candidate of its boxes.
        double radius = space == engine::Space::kSphere ? 1000 : 1;
        const double world = space == engine::Space::kSphere
                                 ? 3.14159265358979323846 * kernels::kEarthRadiusMetres
                                 : 1e300;
        std::vector<std::pair<double, uint32_t>> found;
        for (int round = 0;; ++round) {
          engine::MotionRegion r;
          r.kind = engine::MotionRegion::Kind::kCircle;
          r.cx = center.x, r.cy = center.y, r.radius = radius;
          const bool last = radius >= world || round > 2000;
          found.clear();
          for (uint32_t object : RegionCandidates(h, last ? nullptr : &r, space, t, t)) {
            auto p = ObjectAt(h, object, t, space);
            if (!p) continue;
            const double d = engine::MotionDistance(c, *p, space);
            if (last || d <= radius) found.push_back({d, object});
          }
          if (found.size() >= k || last) break;
          radius *= 4;
        }
        std::sort(found.begin(), found.end(), [&](const auto& a, const auto& b) {
          return a.first != b.first ? a.first < b.first : h.names[a.second] < h.names[b.second];
        });
        QueryResult out;
        for (size_t i = 0; i < found.size() && i < k && i < options.limit; ++i) {
          Hit hit;
          hit.id = h.names[found[i].second];
          hit.pos = PositionOf(*ObjectAt(h, found[i].second, t, space));
          hit.timestamp = t;
          hit.distance = found[i].first;
          out.hits.push_back(std::move(hit));
        }
        out.truncated = k > options.limit && found.size() > options.limit;
        return out;
      });
}

Result<Approach> Db::ClosestApproach(std::string_view ns_name, std::string_view id_a,
                                     std::string_view id_b, int64_t t0, int64_t t1) const {
  LOCUS_RETURN_IF_ERROR(impl_->CheckId(id_a));
  LOCUS_RETURN_IF_ERROR(impl_->CheckId(id_b));
  LOCUS_RETURN_IF_ERROR(db_internal::CheckWindow(t0, t1));
  return impl_->HistoryRead<Approach>(
      ns_name,
      [&](const Impl::Namespace& ns, const db_internal::HistoryState& h) -> Result<Approach> {
        const engine::Space space = db_internal::SpaceOf(ns.options.coordinates);
        LOCUS_ASSIGN_OR_RETURN(uint32_t a, HistoryNumber(h, ns_name, id_a));
        LOCUS_ASSIGN_OR_RETURN(uint32_t b, HistoryNumber(h, ns_name, id_b));
        std::vector<engine::Fix> pa, pb;
        h.store.Timeline(a, t0, t1, true, &pa);
        h.store.Timeline(b, t0, t1, true, &pb);
        Approach best;
        bool any = false;
        const bool shared = ForEachPiece(pa, pb, t0, t1, space, [&](const engine::ApproachPiece& p) {
          const auto [t, d] = engine::ClosestInPiece(p, space);
          if (!any || d < best.distance) {
            best.t = t, best.distance = d, any = true;
          }
        });
        if (!shared) {
          return NotFoundError("objects '" + std::string(id_a) + "' and '" + std::string(id_b) +
                               "' have no time in common within [" + std::to_string(t0) + ", " +
                               std::to_string(t1) + "]");
        }
        best.a = PositionOf(*PathAt(pa, best.t, space));
        best.b = PositionOf(*PathAt(pb, best.t, space));
        return best;
      });
}

Result<EncounterResult> Db::Encounters(std::string_view ns_name, double distance, int64_t t0,
                                       int64_t t1, const QueryOptions& options) const {
  LOCUS_RETURN_IF_ERROR(db_internal::CheckNonNegative(distance, "distance"));
  LOCUS_RETURN_IF_ERROR(db_internal::CheckWindow(t0, t1));
  LOCUS_RETURN_IF_ERROR(db_internal::CheckQuery(options));
  return impl_->HistoryRead<EncounterResult>(
      ns_name, [&](const Impl::Namespace& ns,
                   const db_internal::HistoryState& h) -> Result<EncounterResult> {
        const engine::Space space = db_internal::SpaceOf(ns.options.coordinates);
        // Candidate pairs: the objects the index has in the window; their paths over it; one
        // box per segment (or lone sample) widened by the distance; a self-join of those
        // boxes on (x, y, t). On the sphere a box that reaches past +-180 also joins as its
        // copy shifted by 360.
        std::vector<std::pair<uint32_t, engine::SpaceTimeBox>> entries;
        h.store.Entries(t0, t1, &entries);
        std::vector<uint32_t> objects;
        for (const auto& e : entries) objects.push_back(e.first);
        std::sort(objects.begin(), objects.end());
        objects.erase(std::unique(objects.begin(), objects.end()), objects.end());
        std::vector<std::vector<engine::Fix>> paths(objects.size());
        for (size_t i = 0; i < objects.size(); ++i) {
          h.store.Timeline(objects[i], t0, t1, true, &paths[i]);
        }
        std::vector<Box3> boxes;
        std::vector<uint32_t> owner;  // index into objects
        std::vector<std::pair<int64_t, int64_t>> box_time;  // each box's time range
        auto add = [&](uint32_t o, const engine::SpaceTimeBox& b, double shift) {
          const int64_t lo = std::max(b.min_t, t0), hi = std::min(b.max_t, t1);
          boxes.push_back({{b.min_x + shift, b.min_y, static_cast<double>(lo)},
                           {b.max_x + shift, b.max_y, static_cast<double>(hi)}});
          owner.push_back(o);
          box_time.push_back({lo, hi});
        };
        auto add_box = [&](uint32_t o, const engine::SpaceTimeBox& box) {
          const engine::SpaceTimeBox w = Widen(box, distance, space);
          add(o, w, 0);
          if (space == engine::Space::kSphere) {
            if (w.max_x > 180) add(o, w, -360);
            if (w.min_x < -180) add(o, w, 360);
          }
        };
        for (uint32_t o = 0; o < objects.size(); ++o) {
          const std::vector<engine::Fix>& p = paths[o];
          if (p.size() == 1 && p[0].t >= t0 && p[0].t <= t1) add_box(o, engine::PointBox(p[0]));
          for (size_t i = 0; i + 1 < p.size(); ++i) {
            if (p[i + 1].t < t0 || p[i].t > t1) continue;
            add_box(o, QuickBox(p[i], p[i + 1], space));
          }
        }
        // Each candidate pair with the times its boxes met (merged): outside them the two
        // are farther apart than `distance`, so only those stretches are decided.
        struct Stretch {
          uint32_t a, b;
          int64_t lo, hi;
        };
        std::vector<Stretch> stretches;
        std::vector<std::pair<uint32_t, uint32_t>> pairs;
        std::vector<size_t> pair_begin;  // pairs[i]'s stretches: [pair_begin[i], pair_begin[i + 1])
        if (!boxes.empty()) {
          LOCUS_ASSIGN_OR_RETURN(auto tree, engine::PackedRTree3D::Build(boxes));
          std::vector<engine::IdPair> hits;
          LOCUS_RETURN_IF_ERROR(engine::SelfJoin(tree.view(), &hits));
          for (const engine::IdPair& p : hits) {
            uint32_t a = owner[p.a], b = owner[p.b];
            if (a == b) continue;
            if (a > b) std::swap(a, b);
            const int64_t lo = std::max(box_time[p.a].first, box_time[p.b].first);
            const int64_t hi = std::min(box_time[p.a].second, box_time[p.b].second);
            if (lo <= hi) stretches.push_back({a, b, lo, hi});
          }
          std::sort(stretches.begin(), stretches.end(), [](const Stretch& x, const Stretch& y) {
            if (x.a != y.a) return x.a < y.a;
            if (x.b != y.b) return x.b < y.b;
            return x.lo < y.lo;
          });
          size_t kept = 0;
          for (size_t i = 0; i < stretches.size(); ++i) {
            const Stretch& s = stretches[i];
            if (kept > 0) {
              Stretch& last = stretches[kept - 1];
              if (last.a == s.a && last.b == s.b && s.lo <= last.hi) {
                last.hi = std::max(last.hi, s.hi);
                continue;
              }
            }
            if (kept == 0 || stretches[kept - 1].a != s.a || stretches[kept - 1].b != s.b) {
              pairs.push_back({s.a, s.b});
              pair_begin.push_back(kept);
            }
            stretches[kept++] = s;
          }
          stretches.resize(kept);
          pair_begin.push_back(kept);
        }
        // Decide each pair on the two paths, in parallel; each pair writes its own slot.
        std::vector<std::vector<Encounter>> per_pair(pairs.size());
        tbb::parallel_for(size_t{0}, pairs.size(), [&](size_t i) {
          const std::vector<engine::Fix>& pa = paths[pairs[i].first];
          const std::vector<engine::Fix>& pb = paths[pairs[i].second];
          std::string na = h.names[objects[pairs[i].first]];
          std::string nb = h.names[objects[pairs[i].second]];
          if (nb < na) std::swap(na, nb);
          std::vector<Encounter>& out = per_pair[i];
          for (size_t k = pair_begin[i]; k < pair_begin[i + 1]; ++k) {
          bool open = false;
          ForEachPiece(pa, pb, stretches[k].lo, stretches[k].hi, space,
                       [&](const engine::ApproachPiece& p) {
            // The gap at the piece's start less both travels bounds the gap throughout it
            // (triangle inequality): most pieces of a candidate pair end here.
            const double gap = engine::MotionDistance(p.a0, p.b0, space);
            const double travel = engine::MotionDistance(p.a0, p.a1, space) +
                                  engine::MotionDistance(p.b0, p.b1, space);
            if (gap - travel > distance * (1 + 1e-9) + 1e-6) {
              open = false;
              return;
            }
            const auto within = engine::WithinInPiece(p, distance, space);
            if (!within) {
              open = false;
              return;
            }
            const auto [tc, dc] = engine::ClosestInPiece(p, space);
            if (open && within->first <= out.back().t_end) {
              Encounter& e = out.back();
              e.t_end = within->second;
              if (dc < e.min_distance) e.min_distance = dc, e.t_closest = tc;
            } else {
              out.push_back({na, nb, within->first, within->second, dc, tc});
            }
            // The interval continues into the next piece only when it reaches this one's end.
            open = within->second >= static_cast<double>(p.a1.t);
          });
          }
        });
        EncounterResult result;
        for (auto& v : per_pair) {
          for (auto& e : v) result.encounters.push_back(std::move(e));
        }
        std::sort(result.encounters.begin(), result.encounters.end(),
                  [](const Encounter& a, const Encounter& b) {
                    if (a.id_a != b.id_a) return a.id_a < b.id_a;
                    if (a.id_b != b.id_b) return a.id_b < b.id_b;
                    return a.t_start < b.t_start;
                  });
        if (result.encounters.size() > options.limit) {
          result.encounters.resize(options.limit);
          result.truncated = true;
        }
        return result;
      });
}

}  // namespace locus
