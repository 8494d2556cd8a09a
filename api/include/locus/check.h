// LOCUS_CHECK / LOCUS_DCHECK: invariants whose violation is a bug in locus.
//
// A broken invariant aborts with file, line and condition (never undefined behaviour).
// Bad *input* is never checked with these: it gets a Status naming the field and value.
// LOCUS_DCHECK is active in debug builds and in builds configured with
// LOCUS_ENABLE_DCHECK (the sanitizer builds turn it on); otherwise it compiles to nothing
// and its condition is not evaluated.
#ifndef LOCUS_CHECK_H_
#define LOCUS_CHECK_H_

namespace locus::internal {
// Prints "locus: CHECK failed at file:line: condition (message)" to stderr and aborts.
[[noreturn]] void CheckFailed(const char* file, int line, const char* condition,
                              const char* message);
}  // namespace locus::internal

#define LOCUS_CHECK_MSG(cond, msg)                                      \
  do {                                                                  \
    if (!(cond)) [[unlikely]] {                                         \
      ::locus::internal::CheckFailed(__FILE__, __LINE__, #cond, (msg)); \
    }                                                                   \
  } while (false)
#define LOCUS_CHECK(cond) LOCUS_CHECK_MSG(cond, "")

#if !defined(NDEBUG) || defined(LOCUS_ENABLE_DCHECK)
#define LOCUS_DCHECK_IS_ON 1
#define LOCUS_DCHECK(cond) LOCUS_CHECK(cond)
#define LOCUS_DCHECK_MSG(cond, msg) LOCUS_CHECK_MSG(cond, msg)
#else
#define LOCUS_DCHECK_IS_ON 0
#define LOCUS_DCHECK(cond) \
  do {                     \
    if (false) (void)(cond); \
  } while (false)
#define LOCUS_DCHECK_MSG(cond, msg) LOCUS_DCHECK(cond)
#endif

#endif  // LOCUS_CHECK_H_
