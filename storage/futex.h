// Sleeping on a 32-bit atomic word until it changes, and waking its sleepers: Linux's futex
// directly (no spinning first, no shared table of waiters), std::atomic's wait elsewhere.
// Callers re-check their condition after FutexWait returns: a return may be spurious, and a
// wake may reach a word whose owner already stopped waiting (harmless).
#ifndef LOCUS_STORAGE_FUTEX_H_
#define LOCUS_STORAGE_FUTEX_H_

#include <atomic>
#include <cstdint>

#if defined(__linux__)
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <climits>
#endif

namespace locus::storage {

// Sleeps while *word == expected (or until woken, or spuriously).
inline void FutexWait(std::atomic<uint32_t>* word, uint32_t expected) {
#if defined(__linux__)
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAIT_PRIVATE, expected, nullptr,
          nullptr, 0);
#else
  word->wait(expected);
#endif
}

// Wakes every thread sleeping on *word.
inline void FutexWakeAll(std::atomic<uint32_t>* word) {
#if defined(__linux__)
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAKE_PRIVATE, INT_MAX, nullptr,
          nullptr, 0);
#else
  word->notify_all();
#endif
}

}  // namespace locus::storage

#endif  // LOCUS_STORAGE_FUTEX_H_
