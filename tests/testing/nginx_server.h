// NginxServer: a real HTTP server on loopback for tests of remote readers. Starts Debian's
// nginx binary (/usr/sbin/nginx, or $LOCUS_NGINX) as a child process in the foreground
// (`daemon off; master_process off;`) with a generated config in a fresh temporary
// directory, on a free port of 127.0.0.1, and stops it (SIGQUIT, then SIGKILL) when
// destroyed; if the thread that started it dies first (a crashed test), the kernel kills
// nginx (PR_SET_PDEATHSIG), so start it from a thread that outlives it (the test body).
// Tests put files into www_dir(); nginx serves them as they are on disk.
//
// Locations (for a file www_dir()/<name>):
//   Url(name)         /<name>          static file, honours Range (206 + Content-Range)
//   NoRangeUrl(name)  /norange/<name>  the same file with `max_ranges 0`: always 200 + body
//   FailUrl(name)     /fail500/<name>  always 500 (for retries and Unavailable)
// Every request is logged to access_log_path(), one unbuffered line each (the Count*
// methods first wait until every request answered so far has its line):
//   <connection serial> <status> "<request line>" "<Range header>" "<X-Locus-Test header>"
// so a test can count the requests a reader made and the connections it used.
//
// Thread safety: the object is not thread-safe; the server it runs serves any number of
// concurrent clients.
#ifndef LOCUS_TESTS_TESTING_NGINX_SERVER_H_
#define LOCUS_TESTS_TESTING_NGINX_SERVER_H_

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>

#include "locus/status.h"

namespace locus::testing {

class NginxServer {
 public:
  // Returns the nginx binary to run: $LOCUS_NGINX when set, else /usr/sbin/nginx.
  static std::string BinaryPath();

  // Starts a server, retrying with another port when the chosen one was taken in between.
  // Fails (naming the binary, the port and the error log's contents) when nginx is missing,
  // exits early, or does not accept connections within 10 seconds.
  static Result<std::unique_ptr<NginxServer>> Start();

  NginxServer(const NginxServer&) = delete;
  NginxServer& operator=(const NginxServer&) = delete;
  ~NginxServer();  // Stop(), then removes the temporary directory

  // Stops the server (SIGQUIT, waits up to 5 s, then SIGKILL) and reaps it. Idempotent.
  void Stop();

  const std::string& www_dir() const { return www_; }
  uint16_t port() const { return port_; }
  std::string Url(const std::string& name) const { return Base() + "/" + name; }
  std::string NoRangeUrl(const std::string& name) const { return Base() + "/norange/" + name; }
  std::string FailUrl(const std::string& name) const { return Base() + "/fail500/" + name; }
  std::string access_log_path() const { return dir_ + "/access.log"; }
  // Writes `bytes` to www_dir()/name.
  Status WriteFile(const std::string& name, const std::string& bytes) const;
  // The access log's lines that contain `needle`.
  size_t CountRequests(const std::string& needle) const;
  // The distinct connections (serials) of the access log's lines that contain `needle`.
  size_t CountConnections(const std::string& needle) const;
  std::string ErrorLog() const;

 private:
  NginxServer(std::string dir, uint16_t port, pid_t pid)
      : dir_(std::move(dir)), www_(dir_ + "/www"), port_(port), pid_(pid) {}
  // Returns once every request answered so far is in the access log (see the .cc).
  void SyncLog() const;
  std::string Base() const { return "http://127.0.0.1:" + std::to_string(port_); }

  std::string dir_, www_;
  uint16_t port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace locus::testing

// Starts nginx into `var` (a std::unique_ptr<NginxServer>) inside a test or SetUp(): a missing
// binary FAILS the test with a hint to run .ci/deps, unless LOCUS_SKIP_NGINX_TESTS=1, which
// skips it instead.
#define LOCUS_START_NGINX_OR_RETURN(var)                                                  \
  do {                                                                                    \
    auto locus_nginx_ = ::locus::testing::NginxServer::Start();                           \
    if (!locus_nginx_.ok()) {                                                             \
      const char* locus_skip_ = std::getenv("LOCUS_SKIP_NGINX_TESTS");                    \
      if (locus_skip_ && std::string(locus_skip_) == "1") {                               \
        GTEST_SKIP() << "LOCUS_SKIP_NGINX_TESTS=1: " << locus_nginx_.status().ToString(); \
      }                                                                                   \
      FAIL() << locus_nginx_.status().ToString()                                          \
             << "\n(the HTTP reader tests need Debian's nginx: run .ci/deps, or set "     \
                "LOCUS_SKIP_NGINX_TESTS=1 to skip them)";                                 \
    }                                                                                     \
    var = std::move(locus_nginx_).value();                                                \
  } while (false)

#endif  // LOCUS_TESTS_TESTING_NGINX_SERVER_H_
