// Internal to storage/: the fast "is it all valid?" passes over a tree chunk's arrays
// (docs/FORMAT.md, "Validation", steps 4 and 5). They answer only yes or no: the loader
// runs them first and, only when one says no, re-runs its exact per-slot checks to produce
// the Corruption message. So they must never say yes where the per-slot checks would
// reject (tests/storage/index_file_test.cc corrupts every kind of field and compares
// messages); saying no for a valid tree would only cost time (the slow checks then pass).
//
// Box pass: one sweep over every array, per target (Highway, dynamic dispatch), split
// across threads with oneTBB above a size threshold. Containment implies finiteness below
// a finite root (see index_validate.cc). Ids pass: every real id < num_items and used once,
// as a bitmap whose population count must be num_items; or, with payloads, the
// id -> position map, which must end up with every entry written.
//
// Thread safety: pure functions (they read the arrays and write only their outputs).
#ifndef LOCUS_STORAGE_INDEX_VALIDATE_H_
#define LOCUS_STORAGE_INDEX_VALIDATE_H_

#include <cstdint>
#include <vector>

#include "engine/rtree_layout.h"
#include "storage/index_format.h"

namespace locus::storage::internal {

// Returns true when every box check of step 4 passes on `l` (whose arrays have the extent
// of `shape`): real slots finite with min <= max, padding slots the empty box, real nodes
// containing their real children. Then *points says whether every real leaf is a point.
// REQUIRES: l's arrays and level_begin match `shape` (checked by the caller before).
template <int kDims, typename T>
bool BoxesValid(const engine::RTreeLayout<kDims, T>& l, const TreeShape& shape, bool* points);

// Returns true when ids[0, n) is a permutation of [0, n) and ids[n, num_leaf_slots) are
// all kNoId. When `position` is not null it is resized to n and, on success, holds
// position[id] = leaf slot of id.
bool IdsValid(const uint32_t* ids, uint64_t n, uint64_t num_leaf_slots,
              std::vector<uint32_t>* position);

struct ArrayChecks {
  bool boxes_ok = false;  // BoxesValid
  bool points = false;    // its *points (meaningful when boxes_ok)
  bool ids_ok = false;    // IdsValid
};
// Runs BoxesValid and IdsValid(l.ids, num_items, num_leaf_slots, position), side by side
// on two threads for large trees: the box sweep is bound by memory bandwidth, the id
// bitmap by cache traffic, so they overlap well.
template <int kDims, typename T>
ArrayChecks CheckArrays(const engine::RTreeLayout<kDims, T>& l, const TreeShape& shape,
                        std::vector<uint32_t>* position);

}  // namespace locus::storage::internal

#endif  // LOCUS_STORAGE_INDEX_VALIDATE_H_
