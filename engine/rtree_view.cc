// RTreeView's members that are not queries (bounds) and the class's one explicit
// instantiation definition for the four trees (rtree_view.h's extern template declarations
// point here). Each query family's methods live in their own file and are instantiated there,
// member by member: range in rtree_range.cc, kNN and radius in rtree_knn.cc, raycast and
// regions in rtree_ray.cc.
//
// Thread safety: every method is const and safe to call from many threads at once.
#include "engine/rtree_view.h"

#include <algorithm>
#include <limits>

#include "locus/check.h"

namespace locus::engine {

template <int kDims, typename T>
typename RTreeView<kDims, T>::Box RTreeView<kDims, T>::bounds() const {
  LOCUS_CHECK(!empty());
  // The union of the top level's slots (the children of the virtual root; padding slots are
  // the empty box and change nothing).
  const RTreeLayout<kDims, T>& l = layout_;
  double lo[kDims], hi[kDims];
  for (int a = 0; a < kDims; ++a) {
    lo[a] = std::numeric_limits<double>::infinity();
    hi[a] = -std::numeric_limits<double>::infinity();
    for (uint64_t s = l.level_begin[l.num_levels - 1]; s < l.level_begin[l.num_levels]; ++s) {
      lo[a] = std::min(lo[a], static_cast<double>(l.min[a][s]));
      hi[a] = std::max(hi[a], static_cast<double>(l.max[a][s]));
    }
  }
  Box b;
  if constexpr (kDims == 2) {
    b.min = {lo[0], lo[1]};
    b.max = {hi[0], hi[1]};
  } else {
    b.min = {lo[0], lo[1], lo[2]};
    b.max = {hi[0], hi[1], hi[2]};
  }
  return b;
}

template class RTreeView<2, double>;
template class RTreeView<3, double>;
template class RTreeView<2, float>;
template class RTreeView<3, float>;

}  // namespace locus::engine
