// Child processes for tests (child_process.h).
#include "tests/testing/child_process.h"

#include <fcntl.h>
#include <grp.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/testing/loopback.h"

namespace locus::testing {

Result<std::string> MakeTempDir(const std::string& prefix) {
  const char* tmp = std::getenv("TMPDIR");
  std::string templ = std::string(tmp && *tmp ? tmp : "/tmp") + "/" + prefix + "XXXXXX";
  std::vector<char> buf(templ.begin(), templ.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr) {
    return IoError("mkdtemp(" + templ + "): " + std::strerror(errno));
  }
  return std::string(buf.data());
}

Result<pid_t> SpawnChild(const std::vector<std::string>& args, const std::string& log_path,
                         const RunAs& who) {
  std::vector<std::string> copy = args;
  std::vector<char*> argv;
  for (std::string& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  const int out_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (out_fd < 0 || null_fd < 0) {
    const int err = errno;
    if (out_fd >= 0) ::close(out_fd);
    if (null_fd >= 0) ::close(null_fd);
    return IoError("open " + log_path + " or /dev/null: " + std::strerror(err));
  }
  if (who.switch_user && ::fchown(out_fd, who.uid, who.gid) != 0) {
    const int err = errno;
    ::close(out_fd);
    ::close(null_fd);
    return IoError("fchown " + log_path + ": " + std::strerror(err));
  }
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) {
    // Child: only async-signal-safe calls until exec.
    ::dup2(null_fd, 0);
    ::dup2(out_fd, 1);
    ::dup2(out_fd, 2);
    if (who.switch_user) {
      const gid_t groups[1] = {who.gid};
      if (::setgroups(1, groups) != 0 || ::setgid(who.gid) != 0 || ::setuid(who.uid) != 0) {
        static const char kMsg[] = "locus test child: cannot switch user\n";
        [[maybe_unused]] const ssize_t n = ::write(2, kMsg, sizeof(kMsg) - 1);
        ::_exit(126);
      }
    }
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    ::execv(argv[0], argv.data());
    static const char kMsg[] = "locus test child: execv failed\n";
    [[maybe_unused]] const ssize_t n = ::write(2, kMsg, sizeof(kMsg) - 1);
    ::_exit(127);
  }
  const int fork_err = errno;
  ::close(out_fd);
  ::close(null_fd);
  if (pid < 0) return IoError(std::string("fork: ") + std::strerror(fork_err));
  return pid;
}

void StopChild(pid_t* pid, int signal, int seconds) {
  if (*pid <= 0) return;
  ::kill(*pid, signal);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    if (::waitpid(*pid, nullptr, WNOHANG) == *pid) {
      *pid = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ::kill(*pid, SIGKILL);
  ::waitpid(*pid, nullptr, 0);
  *pid = -1;
}

Startup WaitUntilAccepting(pid_t* pid, uint16_t port, int seconds, int* wstatus) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(*pid, &status, WNOHANG) == *pid) {
      *pid = -1;
      if (wstatus != nullptr) *wstatus = status;
      return Startup::kExited;
    }
    if (Accepts(port)) return Startup::kAccepting;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return Startup::kTimedOut;
}

std::string ReadFileOrEmpty(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace locus::testing
