// Child processes for tests that run real servers (redis-server, locusd): a fresh temporary
// directory, a spawned child whose stdout and stderr go to a log file (an inherited pipe,
// ctest's, would stay open as long as the child lives) and which the kernel kills if the
// spawning thread dies first (PR_SET_PDEATHSIG), and a bounded stop.
#ifndef LOCUS_TESTS_TESTING_CHILD_PROCESS_H_
#define LOCUS_TESTS_TESTING_CHILD_PROCESS_H_

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "locus/status.h"

namespace locus::testing {

// A new directory under $TMPDIR (or /tmp) named <prefix>XXXXXX.
Result<std::string> MakeTempDir(const std::string& prefix);

// The identity a child runs as: unchanged, or another user (a server that refuses to run as
// root, like PostgreSQL's).
struct RunAs {
  bool switch_user = false;
  uid_t uid = 0;
  gid_t gid = 0;
};

// Runs argv[0] with argv (stdin from /dev/null, stdout and stderr appended to log_path, the
// log owned by `who`), as `who`. The child dies with the calling thread (PR_SET_PDEATHSIG,
// set after the identity change, which would clear it).
Result<pid_t> SpawnChild(const std::vector<std::string>& argv, const std::string& log_path,
                         const RunAs& who = {});

// Sends `signal`, waits up to `seconds` for the child to exit, then SIGKILLs it; reaps it and
// sets *pid to -1. Nothing when *pid <= 0.
void StopChild(pid_t* pid, int signal, int seconds);

// Waits up to `seconds` for the child to accept connections on 127.0.0.1:port. kExited: it
// exited first (reaped, *pid set to -1, its wait status in *wstatus when given).
enum class Startup { kAccepting, kExited, kTimedOut };
Startup WaitUntilAccepting(pid_t* pid, uint16_t port, int seconds, int* wstatus = nullptr);

// A file's contents ("" when unreadable).
std::string ReadFileOrEmpty(const std::string& path);

}  // namespace locus::testing

#endif  // LOCUS_TESTS_TESTING_CHILD_PROCESS_H_
