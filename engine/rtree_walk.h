// What the internal entry points of every per-target tree walk share: the modes and result of
// filter walks (range and radius queries), the f64 query box of the squared-gap-distance
// predicate (kNN, radius, within-distance joins), and the one macro set that writes every
// walk's 2D/3D x f32/f64 overloads and their dynamic-dispatch wrappers (LOCUS_RTREE_WALK_*).
// Each query family declares its entry points in its own rtree_<query>_walk.h on top of this
// file; this file includes none of them.
//
// RTreeView's methods validate and convert a query, then call an entry point: one dynamic
// dispatch per query, never per node. Entry points read only an RTreeLayout, so they serve
// owned trees and file views alike.
//
// Thread safety: plain value types and macros.
#ifndef LOCUS_ENGINE_RTREE_WALK_H_
#define LOCUS_ENGINE_RTREE_WALK_H_

#include <cstdint>

#include "engine/rtree_layout.h"
#include "engine/rtree_view.h"  // IdBatchSink

namespace locus::engine::internal {

// What a filter walk does with the items that match.
enum class RangeMode {
  kVisit,  // deliver every matching id to the sink
  kCount,  // count matches; fully covered subtrees are counted, not visited
  kAny,    // stop at the first match
};

struct RangeResult {
  // False when the sink stopped the query (kVisit) or a match was found (kAny).
  bool completed = true;
  uint64_t count = 0;  // matches seen (kCount: all; kAny: 0 or 1; kVisit: delivered)
};

// A query box in f64 for the squared gap distance (a point query has lo == hi), axes beyond
// kDims unused.
struct KnnQuery {
  double lo[3] = {0, 0, 0};
  double hi[3] = {0, 0, 0};
};

}  // namespace locus::engine::internal

// ---- the dispatch wrappers of every walk -------------------------------------------------
// A walk `Name` is one function per tree the engine compiles (2D and 3D, f32 and f64
// storage), each a single HWY_DYNAMIC_DISPATCH into the per-target template `Name##T` of its
// rtree_<query>_walk-inl.h. Highway's HWY_EXPORT needs one plain function name per entry, so
// each target also gets Name2F32, Name2F64, Name3F32 and Name3F64 (the kernels' .cc files do
// the same per type with LOCUS_DEFINE / LOCUS_EXPORT / LOCUS_ENTRY). A walk is described by:
//   Ret     its return type, spelled as it resolves from locus::engine (internal::RangeResult);
//   Name    its name;
//   PARAMS  a macro: PARAMS(D, T) is its parenthesised parameter list for RTreeLayout<D, T>,
//           types spelled as they resolve from locus::engine (internal::KnnQuery), defined
//           once in rtree_<query>_walk.h;
//   ARGS    its parameter names, parenthesised.
// Use, per walk:
//   rtree_<query>_walk.h, in namespace locus::engine::internal:
//     LOCUS_RTREE_WALK_DECLARE(Ret, Name, PARAMS)            the four overloads of internal::Name
//   rtree_<query>_walk.cc, in namespace locus::engine::HWY_NAMESPACE (compiled per target):
//     LOCUS_RTREE_WALK_TARGETS(Ret, Name, PARAMS, ARGS)      Name2F32 ... Name3F64 -> Name##T
//   rtree_<query>_walk.cc under HWY_ONCE, in namespace locus::engine:
//     LOCUS_RTREE_WALK_DISPATCH(Ret, Name, PARAMS, ARGS)     HWY_EXPORT of the four, and the
//                                                            definitions of internal::Name

// Applies X(D, Type, Suffix, Ret, Name, PARAMS, ARGS) to every tree the engine compiles.
#define LOCUS_RTREE_FOR_EACH_TREE(X, Ret, Name, PARAMS, ARGS) \
  X(2, float, 2F32, Ret, Name, PARAMS, ARGS)                  \
  X(2, double, 2F64, Ret, Name, PARAMS, ARGS)                 \
  X(3, float, 3F32, Ret, Name, PARAMS, ARGS)                  \
  X(3, double, 3F64, Ret, Name, PARAMS, ARGS)

#define LOCUS_RTREE_WALK_DECLARE_ONE(D, Type, S, Ret, Name, PARAMS, ARGS) Ret Name PARAMS(D, Type);
#define LOCUS_RTREE_WALK_DECLARE(Ret, Name, PARAMS) \
  LOCUS_RTREE_FOR_EACH_TREE(LOCUS_RTREE_WALK_DECLARE_ONE, Ret, Name, PARAMS, ())

#define LOCUS_RTREE_WALK_TARGET_ONE(D, Type, S, Ret, Name, PARAMS, ARGS) \
  Ret Name##S PARAMS(D, Type) { return Name##T ARGS; }
#define LOCUS_RTREE_WALK_TARGETS(Ret, Name, PARAMS, ARGS) \
  LOCUS_RTREE_FOR_EACH_TREE(LOCUS_RTREE_WALK_TARGET_ONE, Ret, Name, PARAMS, ARGS)

#define LOCUS_RTREE_WALK_DISPATCH_ONE(D, Type, S, Ret, Name, PARAMS, ARGS) \
  HWY_EXPORT(Name##S);                                                     \
  namespace internal {                                                     \
  Ret Name PARAMS(D, Type) { return HWY_DYNAMIC_DISPATCH(Name##S) ARGS; }  \
  }
#define LOCUS_RTREE_WALK_DISPATCH(Ret, Name, PARAMS, ARGS) \
  LOCUS_RTREE_FOR_EACH_TREE(LOCUS_RTREE_WALK_DISPATCH_ONE, Ret, Name, PARAMS, ARGS)

#endif  // LOCUS_ENGINE_RTREE_WALK_H_
