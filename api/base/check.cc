// Implements the abort path of LOCUS_CHECK; kept out of line so checks stay small.
#include "locus/check.h"

#include <cstdio>
#include <cstdlib>

namespace locus::internal {

void CheckFailed(const char* file, int line, const char* condition, const char* message) {
  std::fprintf(stderr, "locus: CHECK failed at %s:%d: %s%s%s%s\n", file, line, condition,
               (message && *message) ? " (" : "", message ? message : "",
               (message && *message) ? ")" : "");
  std::fflush(stderr);
  std::abort();
}

}  // namespace locus::internal
