// Loopback helpers for tests that start real servers (nginx, PostgreSQL, redis-server,
// locusd): a free port, and whether a port accepts connections yet.
#ifndef LOCUS_TESTS_TESTING_LOOPBACK_H_
#define LOCUS_TESTS_TESTING_LOOPBACK_H_

#include <cstdint>

#include "locus/status.h"

namespace locus::testing {

// Asks the kernel for a free port of 127.0.0.1. Another process may take it before the
// server binds it: callers retry with another.
Result<uint16_t> FreePort();

// Whether 127.0.0.1:port accepts a TCP connection now.
bool Accepts(uint16_t port);

}  // namespace locus::testing

#endif  // LOCUS_TESTS_TESTING_LOOPBACK_H_
