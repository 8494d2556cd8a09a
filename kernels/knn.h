// Distances and top-k selection over SoA point columns (kernel family 3): squared distances
// from one query point to every point, and a top-k-smallest selection whose SIMD loop skips
// a whole vector of candidates with one compare against the current pruning bound. This is
// the brute-force kNN path and the R-tree's leaf step (the tree feeds one TopK leaf by leaf).
//
// Common contract for every kernel here:
// - Lanes: T is float or double; x/y/z are separate columns of n values of T; ids are
//   uint32 (REQUIRES: id_base + n <= 2^32). RowFilter columns are int64.
// - Padding: every input column must be readable kColumnPaddingElements (16) elements past
//   n (kernels/column.h); padding values are never part of a result. No alignment is
//   required. n == 0 is allowed.
// - Exactness: squared distances are dx*dx + dy*dy [+ dz*dz] with d = p - q, summed in that
//   order in T, with no fused multiply-add, so every target computes exactly what the scalar
//   reference in namespace `reference` computes, bit for bit; top-k results (ids and
//   distances) are therefore identical to the reference's on every target.
// - NaN: a point with a NaN coordinate has a NaN squared distance and never enters a TopK.
//   Query coordinates and max_dist_sq must not be NaN (a NaN query selects nothing;
//   validating queries is the caller's job). Infinite coordinates give +inf distances, which
//   enter only when max_dist_sq is +inf.
// - Aliasing: outputs must not alias inputs.
//
// Thread safety: the kernels are pure functions apart from the TopK they are handed; a TopK
// is a plain value that must not be shared between threads while one of them mutates it
// (give each query its own TopK).
#ifndef LOCUS_KERNELS_KNN_H_
#define LOCUS_KERNELS_KNN_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <utility>
#include <vector>

#include "kernels/types.h"

namespace locus::kernels {

// One selected point: its squared distance and its id.
template <typename T>
struct Neighbor {
  T dist_sq;
  uint32_t id;

  // The selection order: ascending distance, ties broken by the smaller id, so that a top-k
  // is one deterministic set regardless of the order candidates arrive in.
  friend bool operator<(const Neighbor& a, const Neighbor& b) {
    return a.dist_sq < b.dist_sq || (a.dist_sq == b.dist_sq && a.id < b.id);
  }
  friend bool operator==(const Neighbor& a, const Neighbor& b) {
    return a.dist_sq == b.dist_sq && a.id == b.id;
  }
};

// A caller-owned accumulator of the k smallest (dist_sq, id) pairs seen so far, in the order
// of Neighbor::operator<, among those with dist_sq <= max_dist_sq (inclusive). Reusable
// across many kernel calls (the R-tree pushes one leaf at a time, each with its own id_base)
// and across queries (Reset keeps the allocation). A max-heap: the worst kept pair is at the
// root, so Push is O(log k) and the pruning bound is O(1).
//
// Thread safety: a plain value; not safe to mutate concurrently.
template <typename T>
class TopK {
  static_assert(std::is_floating_point_v<T>, "float or double");

 public:
  static constexpr T kInf = std::numeric_limits<T>::infinity();

  TopK() { Reset(0); }
  explicit TopK(size_t k, T max_dist_sq = kInf) { Reset(k, max_dist_sq); }

  // Empties the accumulator and sets k and the inclusive max squared distance. k == 0 keeps
  // nothing. Keeps the allocation.
  void Reset(size_t k, T max_dist_sq = kInf) {
    k_ = k;
    max_dist_sq_ = max_dist_sq;
    heap_.clear();
    if (k_ <= kReserveLimit) heap_.reserve(k_);
    UpdateThreshold();
  }

  size_t k() const { return k_; }
  T max_dist_sq() const { return max_dist_sq_; }
  size_t size() const { return heap_.size(); }
  bool empty() const { return heap_.empty(); }
  // Returns whether k pairs are kept (then a candidate must beat worst() to enter).
  bool full() const { return heap_.size() >= k_; }

  // Returns the pruning bound: a candidate can enter only if dist_sq <= threshold(). It is
  // max_dist_sq while fewer than k pairs are kept, then the k-th best dist_sq (a candidate
  // equal to it enters only if its id is smaller than worst().id). -inf when k == 0.
  T threshold() const { return threshold_; }

  // Returns the worst kept pair. REQUIRES: !empty().
  const Neighbor<T>& worst() const { return heap_.front(); }

  // Offers one candidate; returns whether it was kept. NaN distances are never kept.
  bool Push(T dist_sq, uint32_t id) {
    if (!(dist_sq <= threshold_)) return false;  // also rejects NaN, and everything if k == 0
    const Neighbor<T> cand{dist_sq, id};
    if (heap_.size() < k_) {
      heap_.push_back(cand);
      SiftUp(heap_.size() - 1);
    } else {
      if (!(cand < heap_.front())) return false;  // a tie on dist_sq: the smaller id wins
      heap_.front() = cand;
      SiftDown(0);
    }
    UpdateThreshold();
    return true;
  }

  // Returns the kept pairs, ascending by (dist_sq, id). Leaves the accumulator unchanged.
  std::vector<Neighbor<T>> Sorted() const {
    std::vector<Neighbor<T>> out(heap_);
    std::sort(out.begin(), out.end());
    return out;
  }
  // Writes the kept pairs ascending by (dist_sq, id) to ids and dist_sq (either may be
  // null), size() entries each; returns size(). Leaves the accumulator unchanged.
  size_t CopySorted(uint32_t* ids, T* dist_sq) const {
    const std::vector<Neighbor<T>> sorted = Sorted();
    for (size_t i = 0; i < sorted.size(); ++i) {
      if (ids) ids[i] = sorted[i].id;
      if (dist_sq) dist_sq[i] = sorted[i].dist_sq;
    }
    return sorted.size();
  }
  // Returns the kept pairs in heap order (unsorted; the root is worst()).
  const std::vector<Neighbor<T>>& unsorted() const { return heap_; }

 private:
  // Reset reserves k up front only when k is small: k may legitimately be "all of them".
  static constexpr size_t kReserveLimit = 4096;

  void UpdateThreshold() {
    if (k_ == 0) {
      threshold_ = -kInf;
    } else {
      threshold_ = heap_.size() < k_ ? max_dist_sq_ : heap_.front().dist_sq;
    }
  }
  void SiftUp(size_t i) {
    const Neighbor<T> v = heap_[i];
    while (i > 0) {
      const size_t parent = (i - 1) / 2;
      if (!(heap_[parent] < v)) break;
      heap_[i] = heap_[parent];
      i = parent;
    }
    heap_[i] = v;
  }
  void SiftDown(size_t i) {
    const size_t n = heap_.size();
    const Neighbor<T> v = heap_[i];
    for (;;) {
      size_t child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && heap_[child] < heap_[child + 1]) ++child;
      if (!(v < heap_[child])) break;
      heap_[i] = heap_[child];
      i = child;
    }
    heap_[i] = v;
  }

  size_t k_ = 0;
  T max_dist_sq_ = kInf;
  T threshold_ = -kInf;
  std::vector<Neighbor<T>> heap_;  // max-heap by Neighbor::operator<
};

// Writes out[i] = squared distance from point i to (qx, qy[, qz]) for i in [0, n).
// out must have room for n elements; nothing outside [0, n) is written.
void SquaredDistances2(const float* x, const float* y, size_t n, float qx, float qy,
                       float* out);
void SquaredDistances2(const double* x, const double* y, size_t n, double qx, double qy,
                       double* out);
void SquaredDistances3(const float* x, const float* y, const float* z, size_t n, float qx,
                       float qy, float qz, float* out);
void SquaredDistances3(const double* x, const double* y, const double* z, size_t n,
                       double qx, double qy, double qz, double* out);

// Offers every point i in [0, n) that passes `rows` to `top` as (squared distance to
// (qx, qy[, qz]), id_base + i). The result is exactly what Push-ing them one by one would
// give (and what the reference gives). Vectors of points whose distances all exceed the
// pruning bound cost one compare; the row filter (see RowFilter in kernels/types.h) is read
// only for vectors that have a candidate. REQUIRES: top != nullptr.
void TopK2(const float* x, const float* y, size_t n, float qx, float qy, const RowFilter& rows,
           uint32_t id_base, TopK<float>* top);
void TopK2(const double* x, const double* y, size_t n, double qx, double qy,
           const RowFilter& rows, uint32_t id_base, TopK<double>* top);
void TopK3(const float* x, const float* y, const float* z, size_t n, float qx, float qy,
           float qz, const RowFilter& rows, uint32_t id_base, TopK<float>* top);
void TopK3(const double* x, const double* y, const double* z, size_t n, double qx, double qy,
           double qz, const RowFilter& rows, uint32_t id_base, TopK<double>* top);

// Offers (dist[i], id_base + i) for i in [0, n) to `top`: the same selection over distances
// computed elsewhere (another metric, point-to-box distances, a gathered subset). dist must
// be padded like a column. NaN distances never enter. REQUIRES: top != nullptr.
void TopKFromDistances(const float* dist, size_t n, uint32_t id_base, TopK<float>* top);
void TopKFromDistances(const double* dist, size_t n, uint32_t id_base, TopK<double>* top);

// Scalar references with the same signatures and contracts: the test oracles. The top-k
// references do not use the heap: they gather every candidate (plus what `top` already
// held), sort by (dist_sq, id) and keep the first k.
namespace reference {
template <typename T>
void SquaredDistances2(const T* x, const T* y, size_t n, T qx, T qy, T* out);
template <typename T>
void SquaredDistances3(const T* x, const T* y, const T* z, size_t n, T qx, T qy, T qz, T* out);
template <typename T>
void TopK2(const T* x, const T* y, size_t n, T qx, T qy, const RowFilter& rows, uint32_t id_base,
           TopK<T>* top);
template <typename T>
void TopK3(const T* x, const T* y, const T* z, size_t n, T qx, T qy, T qz, const RowFilter& rows,
           uint32_t id_base, TopK<T>* top);
template <typename T>
void TopKFromDistances(const T* dist, size_t n, uint32_t id_base, TopK<T>* top);
}  // namespace reference

}  // namespace locus::kernels

#endif  // LOCUS_KERNELS_KNN_H_
