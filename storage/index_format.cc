// The canonical tree-chunk shape (index_format.h), shared by the writer and the validator so
// that what is written is exactly what is accepted.
#include "storage/index_format.h"

#include "engine/rtree_layout.h"

namespace locus::storage::internal {

Result<TreeShape> DeriveTreeShape(uint64_t num_items, uint32_t node_size, int dims,
                                  uint64_t coord_size) {
  const std::string at =
      " for " + std::to_string(num_items) + " items at node size " + std::to_string(node_size);
  if (node_size < 2 || node_size > engine::kMaxNodeSize) {
    return CorruptionError("tree chunk: node_size = " + std::to_string(node_size) +
                           ": must be in [2, " + std::to_string(engine::kMaxNodeSize) + "]");
  }
  if (num_items >= engine::kNoId) {
    return CorruptionError("tree chunk: num_items = " + std::to_string(num_items) +
                           ": at most 4294967294 items per tree");
  }
  TreeShape s;
  s.num_items = num_items;
  s.node_size = node_size;
  s.dims = dims;
  s.coord_size = coord_size;
  const uint64_t ns = node_size;
  s.level_begin.push_back(0);
  if (num_items > 0) {
    uint64_t real = num_items;
    for (;;) {
      if (s.level_begin.size() > engine::kMaxLevels) {
        return CorruptionError("tree chunk: more than " + std::to_string(engine::kMaxLevels) +
                               " levels" + at);
      }
      uint64_t padded, end;
      // padded = max(1, ceil(real / ns)) * ns; real <= 2^32 so none of this can overflow,
      // but the checks cost nothing and keep the argument local.
      if (!Mul((real + ns - 1) / ns, ns, &padded) || !Add(s.level_begin.back(), padded, &end)) {
        return CorruptionError("tree chunk: level size overflows" + at);
      }
      s.real_per_level.push_back(real);
      s.level_begin.push_back(end);
      if (real <= ns) break;
      real = (real + ns - 1) / ns;
    }
  }
  s.num_slots = s.level_begin.back();
  s.num_leaf_slots = num_items == 0 ? 0 : s.level_begin[1];

  // Header, array table, level_begin; then each array at a 64-byte aligned offset followed
  // by at least kArrayTailPad zero bytes (the kernels' over-read allowance).
  const uint64_t num_arrays = 2 * static_cast<uint64_t>(dims) + 1;
  uint64_t pos = kTreeHeaderSize + 16 * num_arrays + 8 * s.level_begin.size();
  if (!RoundUp(pos, kAlign, &pos)) return CorruptionError("tree chunk: size overflows" + at);
  for (uint64_t i = 0; i < num_arrays; ++i) {
    TreeShape::Array a;
    a.offset = pos;
    const bool ids = i + 1 == num_arrays;
    if (!Mul(ids ? s.num_leaf_slots : s.num_slots, ids ? 4 : coord_size, &a.length) ||
        !Add(pos, a.length, &pos) || !Add(pos, kArrayTailPad, &pos) ||
        !RoundUp(pos, kAlign, &pos)) {
      return CorruptionError("tree chunk: array size overflows" + at);
    }
    s.arrays.push_back(a);
  }
  s.chunk_length = pos;
  return s;
}

}  // namespace locus::storage::internal
