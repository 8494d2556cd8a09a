// RTreeView's raycast methods (Raycast, RaycastClosest and their *Exact variants):
// validation, the f64 kernel ray, one call into the per-target ray walk (rtree_ray_walk.h),
// and for f32 trees the exact re-test of candidates against the caller's boxes.
//
// Thread safety: every method is const and touches only the immutable tree and its
// arguments; safe to call concurrently.
#include <algorithm>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "engine/rtree_ray_walk.h"
#include "engine/rtree_view.h"

namespace locus::engine {
namespace {

kernels::Ray2T<double> ToKernelRay(const Ray2& r) {
  return {r.origin.x, r.origin.y, r.direction.x, r.direction.y, 0.0, r.t_max};
}
kernels::Ray3T<double> ToKernelRay(const Ray3& r) {
  return {r.origin.x,    r.origin.y,    r.origin.z, r.direction.x,
          r.direction.y, r.direction.z, 0.0,        r.t_max};
}

bool ExactHit(const Box2& b, const kernels::Ray2T<double>& r, double* t) {
  return kernels::reference::RayHitsBox2<double>(b.min.x, b.min.y, b.max.x, b.max.y, r, t);
}
bool ExactHit(const Box3& b, const kernels::Ray3T<double>& r, double* t) {
  return kernels::reference::RayHitsBox3<double>(b.min.x, b.min.y, b.min.z, b.max.x, b.max.y,
                                                 b.max.z, r, t);
}

void SortHits(std::vector<RayHit>* hits) {
  std::sort(hits->begin(), hits->end(), [](const RayHit& a, const RayHit& b) {
    return a.t < b.t || (a.t == b.t && a.id < b.id);
  });
}

Status CheckItems(size_t got, size_t want) {
  if (got == want) return Status();
  return InvalidArgumentError("items.size() = " + std::to_string(got) +
                              ": must equal the tree's size " + std::to_string(want));
}

}  // namespace

template <int kDims, typename T>
Status RTreeView<kDims, T>::Raycast(const Ray& ray, std::vector<RayHit>* out) const {
  out->clear();
  LOCUS_RETURN_IF_ERROR(ValidateRay(ray, "ray"));
  internal::RayAll(layout(), ToKernelRay(ray), out);
  SortHits(out);
  return Status();
}

template <int kDims, typename T>
Result<std::optional<RayHit>> RTreeView<kDims, T>::RaycastClosest(const Ray& ray) const {
  LOCUS_RETURN_IF_ERROR(ValidateRay(ray, "ray"));
  RayHit hit;
  if (!internal::RayFirst(layout(), ToKernelRay(ray), nullptr, &hit)) {
    return std::optional<RayHit>();
  }
  return std::optional<RayHit>(hit);
}

template <int kDims, typename T>
Status RTreeView<kDims, T>::RaycastExact(const Ray& ray, std::span<const Box> items,
                                         std::vector<RayHit>* out) const {
  out->clear();
  LOCUS_RETURN_IF_ERROR(CheckItems(items.size(), size()));
  LOCUS_RETURN_IF_ERROR(ValidateRay(ray, "ray"));
  const auto kray = ToKernelRay(ray);
  internal::RayAll(layout(), kray, out);
  if constexpr (std::is_same_v<T, float>) {
    std::erase_if(*out, [&](RayHit& h) { return !ExactHit(items[h.id], kray, &h.t); });
  }
  SortHits(out);
  return Status();
}

template <int kDims, typename T>
Result<std::optional<RayHit>> RTreeView<kDims, T>::RaycastClosestExact(
    const Ray& ray, std::span<const Box> items) const {
  LOCUS_RETURN_IF_ERROR(CheckItems(items.size(), size()));
  LOCUS_RETURN_IF_ERROR(ValidateRay(ray, "ray"));
  RayHit hit;
  const Box* exact = std::is_same_v<T, float> ? items.data() : nullptr;
  if (!internal::RayFirst(layout(), ToKernelRay(ray), exact, &hit)) {
    return std::optional<RayHit>();
  }
  return std::optional<RayHit>(hit);
}

#define LOCUS_RTREE_RAY_INSTANTIATE(D, T)                                                   \
  template Status RTreeView<D, T>::Raycast(const Ray&, std::vector<RayHit>*) const;         \
  template Result<std::optional<RayHit>> RTreeView<D, T>::RaycastClosest(const Ray&) const; \
  template Status RTreeView<D, T>::RaycastExact(const Ray&, std::span<const Box>,           \
                                                std::vector<RayHit>*) const;                \
  template Result<std::optional<RayHit>> RTreeView<D, T>::RaycastClosestExact(              \
      const Ray&, std::span<const Box>) const;
LOCUS_RTREE_RAY_INSTANTIATE(2, double)
LOCUS_RTREE_RAY_INSTANTIATE(2, float)
LOCUS_RTREE_RAY_INSTANTIATE(3, double)
LOCUS_RTREE_RAY_INSTANTIATE(3, float)
#undef LOCUS_RTREE_RAY_INSTANTIATE

}  // namespace locus::engine
