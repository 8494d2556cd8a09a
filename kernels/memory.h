// Huge pages for large in-memory structures (internal: used by kernels::Column, the engine's
// live index and the database's records; not a public header).
//
// The database's columns, records and id maps are hundreds of megabytes at a few million
// objects, read and written at random: with 4 KiB pages every access is a likely TLB miss
// (a page walk, itself a few memory reads) and every first touch a page fault. Debian's
// default transparent-huge-page mode is "madvise", so large blocks are advised explicitly.
// The advice is only a hint: where the kernel declines, nothing changes but speed.
#ifndef LOCUS_KERNELS_MEMORY_H_
#define LOCUS_KERNELS_MEMORY_H_

#include <cstddef>
#include <cstdint>
#include <memory>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace locus::kernels {

// Blocks at least this large are advised (smaller ones hold no whole 2 MiB page).
inline constexpr size_t kHugePageAdviseBytes = size_t{4} << 20;

// Advises the kernel to back the whole 2 MiB pages inside [p, p + bytes) with huge pages.
// Call before first touching the memory.
inline void AdviseHugePages(void* p, size_t bytes) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  if (bytes < kHugePageAdviseBytes) return;
  constexpr uintptr_t kHuge = uintptr_t{2} << 20;
  const uintptr_t begin = (reinterpret_cast<uintptr_t>(p) + kHuge - 1) & ~(kHuge - 1);
  const uintptr_t end = (reinterpret_cast<uintptr_t>(p) + bytes) & ~(kHuge - 1);
  if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
#else
  (void)p;
  (void)bytes;
#endif
}

// std::allocator that advises huge pages for large blocks (AdviseHugePages).
template <class T>
class HugePageAllocator {
 public:
  using value_type = T;
  HugePageAllocator() = default;
  template <class U>
  HugePageAllocator(const HugePageAllocator<U>&) {}  // NOLINT(runtime/explicit)
  T* allocate(size_t n) {
    T* p = std::allocator<T>().allocate(n);
    AdviseHugePages(p, n * sizeof(T));
    return p;
  }
  void deallocate(T* p, size_t n) { std::allocator<T>().deallocate(p, n); }
  template <class U>
  bool operator==(const HugePageAllocator<U>&) const { return true; }
};

}  // namespace locus::kernels

#endif  // LOCUS_KERNELS_MEMORY_H_
