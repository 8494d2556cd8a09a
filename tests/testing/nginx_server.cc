// NginxServer (tests/testing/nginx_server.h): config generation, spawn, readiness wait, stop.
#include "tests/testing/nginx_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include "tests/testing/child_process.h"
#include "tests/testing/loopback.h"

namespace locus::testing {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Config(const std::string& dir, uint16_t port) {
  std::ostringstream c;
  c << "daemon off;\n"
    << "master_process off;\n"
    << "pid " << dir << "/nginx.pid;\n"
    << "error_log " << dir << "/error.log notice;\n"
    << "events { worker_connections 1024; }\n"
    << "http {\n"
    // One line per request: connection serial (tells keep-alive reuse), status, request,
    // the Range header and the X-Locus-Test header (tells extra headers arrive).
    << "  log_format locus '$connection $status \"$request\" \"$http_range\" "
       "\"$http_x_locus_test\"';\n"
    << "  access_log " << dir << "/access.log locus;\n"
    << "  client_body_temp_path " << dir << "/tmp/client_body;\n"
    << "  proxy_temp_path " << dir << "/tmp/proxy;\n"
    << "  fastcgi_temp_path " << dir << "/tmp/fastcgi;\n"
    << "  uwsgi_temp_path " << dir << "/tmp/uwsgi;\n"
    << "  scgi_temp_path " << dir << "/tmp/scgi;\n"
    << "  default_type application/octet-stream;\n"
    << "  keepalive_requests 100000;\n"
    << "  server {\n"
    << "    listen 127.0.0.1:" << port << ";\n"
    << "    root " << dir << "/www;\n"
    << "    location /norange/ { alias " << dir << "/www/; max_ranges 0; }\n"
    << "    location /fail500/ { return 500; }\n"
    << "  }\n"
    << "}\n";
  return c.str();
}

}  // namespace

std::string NginxServer::BinaryPath() {
  if (const char* env = std::getenv("LOCUS_NGINX"); env && *env) return env;
  return "/usr/sbin/nginx";
}

Result<std::unique_ptr<NginxServer>> NginxServer::Start() {
  const std::string binary = BinaryPath();
  if (::access(binary.c_str(), X_OK) != 0) {
    return NotFoundError("nginx binary " + binary + ": " + std::strerror(errno));
  }
  std::string last_error;
  for (int attempt = 0; attempt < 5; ++attempt) {
    const char* tmp = std::getenv("TMPDIR");
    std::string templ = std::string(tmp && *tmp ? tmp : "/tmp") + "/locus_nginx_XXXXXX";
    std::vector<char> buf(templ.begin(), templ.end());
    buf.push_back('\0');
    if (::mkdtemp(buf.data()) == nullptr) {
      return IoError("mkdtemp(" + templ + "): " + std::strerror(errno));
    }
    const std::string dir(buf.data());
    ::chmod(dir.c_str(), 0755);  // readable if nginx ever drops to an unprivileged user
    std::error_code ec;
    std::filesystem::create_directories(dir + "/www", ec);
    std::filesystem::create_directories(dir + "/tmp", ec);
    if (ec) return IoError("mkdir under " + dir + ": " + ec.message());

    LOCUS_ASSIGN_OR_RETURN(const uint16_t port, FreePort());
    {
      std::ofstream conf(dir + "/nginx.conf");
      conf << Config(dir, port);
      if (!conf) return IoError("writing " + dir + "/nginx.conf");
    }
    const std::string conf_path = dir + "/nginx.conf", log_path = dir + "/error.log";
    std::vector<std::string> args = {binary, "-p", dir + "/", "-c", conf_path, "-e", log_path};
    // nginx's own stdout/stderr go to a file (SpawnChild): an inherited pipe (ctest's, a
    // shell's) would otherwise stay open as long as nginx lives.
    const std::string out_path = dir + "/stderr.log";
    auto spawned = SpawnChild(args, out_path);
    if (!spawned.ok()) {
      std::filesystem::remove_all(dir, ec);
      return spawned.status();
    }
    const pid_t pid = *spawned;
    // From here the object owns the process and the directory, whatever happens.
    std::unique_ptr<NginxServer> server(new NginxServer(dir, port, pid));

    int wstatus = 0;
    const Startup started = WaitUntilAccepting(&server->pid_, port, 10, &wstatus);
    if (started == Startup::kAccepting) return server;
    const bool exited = started == Startup::kExited;
    const std::string log = server->ErrorLog() + ReadAll(dir + "/stderr.log");
    if (exited && log.find("Address already in use") != std::string::npos) {
      last_error = log;
      continue;  // lost the race for the port: try another
    }
    return UnavailableError(binary + " on 127.0.0.1:" + std::to_string(port) +
                            (exited ? " exited with status " + std::to_string(wstatus)
                                    : std::string(" did not accept connections within 10 s")) +
                            "; error log:\n" + log);
  }
  return UnavailableError("nginx: no free port after 5 attempts; last error log:\n" + last_error);
}

NginxServer::~NginxServer() {
  Stop();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

void NginxServer::Stop() { StopChild(&pid_, SIGQUIT, 5); }

Status NginxServer::WriteFile(const std::string& name, const std::string& bytes) const {
  std::ofstream out(www_ + "/" + name, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), std::streamsize(bytes.size()));
  out.close();
  if (!out) return IoError("writing " + www_ + "/" + name);
  return Status();
}

void NginxServer::SyncLog() const {
  // nginx writes a request's log line after its last response byte, so a client can hold
  // the whole response before the line exists. nginx is one process handling events in
  // order: once it has answered a later request on a new connection, every earlier
  // request's line is written.
  if (pid_ <= 0) return;  // stopped: everything was written before exit
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port_);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    const char request[] = "GET /__locus_log_sync HTTP/1.0\r\n\r\n";
    if (::send(fd, request, sizeof(request) - 1, MSG_NOSIGNAL) == ssize_t(sizeof(request) - 1)) {
      char buf[4096];
      while (::recv(fd, buf, sizeof(buf), 0) > 0) {
      }  // HTTP/1.0: nginx closes after the response
    }
  }
  ::close(fd);
}

size_t NginxServer::CountRequests(const std::string& needle) const {
  SyncLog();
  std::ifstream in(access_log_path());
  size_t n = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.find(needle) != std::string::npos) ++n;
  }
  return n;
}

size_t NginxServer::CountConnections(const std::string& needle) const {
  SyncLog();
  std::ifstream in(access_log_path());
  std::set<std::string> serials;
  for (std::string line; std::getline(in, line);) {
    if (line.find(needle) != std::string::npos) serials.insert(line.substr(0, line.find(' ')));
  }
  return serials.size();
}

std::string NginxServer::ErrorLog() const { return ReadAll(dir_ + "/error.log"); }

}  // namespace locus::testing
