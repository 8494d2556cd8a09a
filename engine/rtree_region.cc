// RTreeView's region methods (SearchPolygon, SearchFrustum): validation of the region
// (convex_region.h) and one call into the per-target region walk (rtree_region_walk.h).
//
// Thread safety: every method is const and touches only the immutable tree and its
// arguments; safe to call concurrently.
#include <span>
#include <vector>

#include "engine/convex_region.h"
#include "engine/rtree_region_walk.h"
#include "engine/rtree_view.h"

namespace locus::engine {

template <int kDims, typename T>
Status RTreeView<kDims, T>::SearchPolygon(std::span<const Point2> convex_polygon,
                                          std::vector<uint32_t>* out) const requires(kDims == 2) {
  out->clear();
  LOCUS_ASSIGN_OR_RETURN(const ConvexPolygon poly, ConvexPolygon::Make(convex_polygon));
  internal::RegionSearch(layout(), poly, out);
  return Status();
}

template <int kDims, typename T>
Status RTreeView<kDims, T>::SearchPolygon(const ConvexPolygon& polygon,
                                          std::vector<uint32_t>* out) const requires(kDims == 2) {
  out->clear();
  internal::RegionSearch(layout(), polygon, out);
  return Status();
}

template <int kDims, typename T>
Status RTreeView<kDims, T>::SearchFrustum(const Frustum& frustum, std::vector<uint32_t>* out) const
    requires(kDims == 3) {
  out->clear();
  LOCUS_RETURN_IF_ERROR(frustum.Validate("frustum"));
  internal::RegionSearch(layout(), frustum, out);
  return Status();
}

template Status RTreeView<2, double>::SearchPolygon(std::span<const Point2>,
                                                    std::vector<uint32_t>*) const;
template Status RTreeView<2, float>::SearchPolygon(std::span<const Point2>,
                                                   std::vector<uint32_t>*) const;
template Status RTreeView<2, double>::SearchPolygon(const ConvexPolygon&,
                                                    std::vector<uint32_t>*) const;
template Status RTreeView<2, float>::SearchPolygon(const ConvexPolygon&,
                                                   std::vector<uint32_t>*) const;
template Status RTreeView<3, double>::SearchFrustum(const Frustum&, std::vector<uint32_t>*) const;
template Status RTreeView<3, float>::SearchFrustum(const Frustum&, std::vector<uint32_t>*) const;

}  // namespace locus::engine
