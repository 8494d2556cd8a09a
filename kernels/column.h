// Column<T>: an aligned, padded, growable array, the storage unit of every SoA layout.
//
// The padding contract (kernels/README.md) in one line: data() is kColumnAlignment-aligned
// and at least kColumnPaddingElements elements past the last one are allocated, initialised to
// zero and readable, so kernels may load a whole vector that starts at any element < size().
// The padding is never part of the data; a write through data() past size() is a bug that
// debug builds catch (CheckPadding() runs on every mutation and on each data() access).
//
// Thread safety: like std::vector. Concurrent const access is safe; mutation needs
// exclusive access.
#ifndef LOCUS_KERNELS_COLUMN_H_
#define LOCUS_KERNELS_COLUMN_H_

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <new>
#include <span>
#include <type_traits>
#include <utility>

#include "locus/check.h"
#include "kernels/memory.h"

namespace locus::kernels {

// Every column's data() is aligned to this many bytes (one cache line; one AVX-512 vector).
inline constexpr size_t kColumnAlignment = 64;
// Elements past the last one that are allocated, zeroed and readable, for every element
// type. Counted in rows, not bytes, because one kernel pass reads columns of different
// widths in step: an AVX-512 f32 vector covers 16 rows, so the int64 time column read
// beside it must also be readable 16 rows past its end (128 bytes).
inline constexpr size_t kColumnPaddingElements = 16;

template <typename T>
class Column {
  static_assert(std::is_trivially_copyable_v<T> && std::is_trivially_destructible_v<T>,
                "Column holds plain numbers");

 public:
  static constexpr size_t kPaddingElements = kColumnPaddingElements;

  Column() = default;
  explicit Column(size_t n) { resize(n); }
  Column(size_t n, T value) { resize(n, value); }
  Column(std::initializer_list<T> values) {
    reserve(values.size());
    for (const T& v : values) push_back(v);
  }
  ~Column() { std::free(data_); }

  Column(Column&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)),
        size_(std::exchange(other.size_, 0)),
        capacity_(std::exchange(other.capacity_, 0)) {}
  Column& operator=(Column&& other) noexcept {
    if (this != &other) {
      std::free(data_);
      data_ = std::exchange(other.data_, nullptr);
      size_ = std::exchange(other.size_, 0);
      capacity_ = std::exchange(other.capacity_, 0);
    }
    return *this;
  }
  // Copies are explicit (columns are large): use Clone().
  Column(const Column&) = delete;
  Column& operator=(const Column&) = delete;
  Column Clone() const {
    Column out;
    out.resize(size_);
    if (size_) std::memcpy(out.data_, data_, size_ * sizeof(T));
    return out;
  }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  size_t capacity() const { return capacity_; }
  // Bytes of the heap block the column holds (capacity plus padding, rounded to the
  // alignment), 0 when nothing is allocated: what memory accounting should count.
  size_t AllocatedBytes() const { return capacity_ == 0 ? 0 : BlockBytes(capacity_); }

  // Returns the first element; never null once anything was allocated. For an empty,
  // never-allocated column returns a pointer to a static zeroed, padded block so that
  // kernels called with n == 0 still get a readable, aligned pointer.
  T* data() {
    CheckPadding();
    return data_ ? data_ : EmptyBlock();
  }
  const T* data() const {
    CheckPadding();
    return data_ ? data_ : EmptyBlock();
  }
  std::span<T> span() { return {data(), size_}; }
  std::span<const T> span() const { return {data(), size_}; }

  T& operator[](size_t i) {
    LOCUS_DCHECK(i < size_);
    return data_[i];
  }
  const T& operator[](size_t i) const {
    LOCUS_DCHECK(i < size_);
    return data_[i];
  }

  void reserve(size_t n) {
    if (n > capacity_) Reallocate(n);
  }
  // Resizes to n elements; new elements are set to `value`.
  void resize(size_t n, T value = T()) {
    if (n > capacity_) Reallocate(Grow(n));
    for (size_t i = size_; i < n; ++i) data_[i] = value;
    if (n < size_ && data_) std::memset(data_ + n, 0, (size_ - n) * sizeof(T));  // re-zero padding
    size_ = n;
    CheckPadding();
  }
  void push_back(T value) {
    if (size_ == capacity_) Reallocate(Grow(size_ + 1));
    data_[size_++] = value;
  }
  void clear() { resize(0); }

  // Verifies the padding contract: aligned, and the padding elements are still zero.
  // Active only when LOCUS_DCHECK is; costs kPaddingElements compares.
  void CheckPadding() const {
#if LOCUS_DCHECK_IS_ON
    if (!data_) return;
    LOCUS_CHECK_MSG(reinterpret_cast<uintptr_t>(data_) % kColumnAlignment == 0,
                    "column data is misaligned");
    const unsigned char* pad = reinterpret_cast<const unsigned char*>(data_ + size_);
    for (size_t i = 0; i < kPaddingElements * sizeof(T); ++i) {
      LOCUS_CHECK_MSG(pad[i] == 0, "column padding was overwritten (write past size()?)");
    }
#endif
  }

 private:
  static size_t Grow(size_t n) {
    size_t grown = 16;
    while (grown < n) grown += grown / 2 + 16;
    return grown;
  }

  static size_t BlockBytes(size_t capacity) {
    const size_t bytes = (capacity + kPaddingElements) * sizeof(T);
    return (bytes + kColumnAlignment - 1) / kColumnAlignment * kColumnAlignment;
  }
  void Reallocate(size_t new_capacity) {
    const size_t bytes = BlockBytes(new_capacity);
    T* fresh = static_cast<T*>(std::aligned_alloc(kColumnAlignment, bytes));
    if (!fresh) throw std::bad_alloc();  // allocation failure is fatal, as for std::vector
    AdviseHugePages(fresh, bytes);  // before the first touch (kernels/memory.h)
    std::memset(fresh, 0, bytes);
    if (size_) std::memcpy(fresh, data_, size_ * sizeof(T));
    std::free(data_);
    data_ = fresh;
    capacity_ = new_capacity;
  }

  static T* EmptyBlock() {
    alignas(kColumnAlignment) static const unsigned char block[kColumnPaddingElements * 8] = {};
    return reinterpret_cast<T*>(const_cast<unsigned char*>(block));
  }

  T* data_ = nullptr;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

}  // namespace locus::kernels

#endif  // LOCUS_KERNELS_COLUMN_H_
