// RTreeView's range methods (Search, Visit, Any, Count, SearchExact): validation, the query
// box rounded outward to the tree's type (round_outward.h), and one call into the per-target
// range walk (rtree_range_walk.h).
//
// Thread safety: every method is const and safe to call from many threads at once.
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "engine/round_outward.h"
#include "engine/rtree_range_walk.h"
#include "engine/rtree_view.h"

namespace locus::engine {

using internal::ToKernelBox;

template <int kDims, typename T>
Result<bool> RTreeView<kDims, T>::Visit(const Box& query, IdBatchSink sink) const {
  LOCUS_RETURN_IF_ERROR(ValidateBox(query, "query"));
  return internal::RangeQuery(layout(), ToKernelBox<T>(query), internal::RangeMode::kVisit, &sink)
      .completed;
}

template <int kDims, typename T>
Status RTreeView<kDims, T>::Search(const Box& query, std::vector<uint32_t>* out) const {
  out->clear();
  auto append = [out](std::span<const uint32_t> ids) {
    out->insert(out->end(), ids.begin(), ids.end());
    return true;
  };
  return Visit(query, append).status();
}

template <int kDims, typename T>
Result<bool> RTreeView<kDims, T>::Any(const Box& query) const {
  LOCUS_RETURN_IF_ERROR(ValidateBox(query, "query"));
  return !internal::RangeQuery(layout(), ToKernelBox<T>(query), internal::RangeMode::kAny, nullptr)
              .completed;
}

template <int kDims, typename T>
Result<size_t> RTreeView<kDims, T>::Count(const Box& query) const {
  LOCUS_RETURN_IF_ERROR(ValidateBox(query, "query"));
  return static_cast<size_t>(
      internal::RangeQuery(layout(), ToKernelBox<T>(query), internal::RangeMode::kCount, nullptr)
          .count);
}

template <int kDims, typename T>
Status RTreeView<kDims, T>::SearchExact(const Box& query, std::span<const Box> items,
                                        std::vector<uint32_t>* out) const {
  if (items.size() != size()) {
    return InvalidArgumentError("items.size() = " + std::to_string(items.size()) +
                                ": must equal the tree's size " + std::to_string(size()));
  }
  LOCUS_RETURN_IF_ERROR(Search(query, out));
  if constexpr (std::is_same_v<T, float>) {
    std::erase_if(*out, [&](uint32_t id) { return !Intersects(items[id], query); });
  }
  return Status();
}

// Member-wise explicit instantiation (rtree_view.cc holds the class's).
#define LOCUS_INSTANTIATE_RANGE(D, T)                                                \
  template Status RTreeView<D, T>::Search(const Box&, std::vector<uint32_t>*) const; \
  template Result<bool> RTreeView<D, T>::Visit(const Box&, IdBatchSink) const;       \
  template Result<bool> RTreeView<D, T>::Any(const Box&) const;                      \
  template Result<size_t> RTreeView<D, T>::Count(const Box&) const;                  \
  template Status RTreeView<D, T>::SearchExact(const Box&, std::span<const Box>,     \
                                               std::vector<uint32_t>*) const;
LOCUS_INSTANTIATE_RANGE(2, double)
LOCUS_INSTANTIATE_RANGE(3, double)
LOCUS_INSTANTIATE_RANGE(2, float)
LOCUS_INSTANTIATE_RANGE(3, float)
#undef LOCUS_INSTANTIATE_RANGE

}  // namespace locus::engine
