// PostgresServer and PgConnection (tests/testing/postgres_server.h): initdb, spawn (dropping to
// the `postgres` user under root), readiness wait, stop; the libpq calls and their errors.
#include "tests/testing/postgres_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>
#include <vector>

#include "tests/testing/child_process.h"
#include "tests/testing/loopback.h"

namespace locus::testing {
namespace {

using Clock = std::chrono::steady_clock;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The identity the server runs as (RunAs, child_process.h): the `postgres` user when we
// are root, else unchanged.

Result<RunAs> ChooseUser() {
  RunAs who;
  if (::geteuid() != 0) return who;
  const passwd* pw = ::getpwnam("postgres");
  if (pw == nullptr) {
    return FailedPreconditionError(
        "running as root: PostgreSQL refuses to run as root and there is no `postgres` user "
        "to run initdb and postgres as (the postgresql-15 package creates it: run .ci/deps)");
  }
  who.switch_user = true;
  who.uid = pw->pw_uid;
  who.gid = pw->pw_gid;
  return who;
}

std::string JoinArgs(const std::vector<std::string>& args) {
  std::string s;
  for (const std::string& a : args) s += (s.empty() ? "" : " ") + a;
  return s;
}

// Waits up to `timeout` for `pid` to exit, leaving it unreaped (so its pid cannot be reused
// while the caller still signals it); returns whether it exited.
bool WaitExit(pid_t pid, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (true) {
    siginfo_t info{};
    if (::waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT) != 0) return true;
    if (info.si_pid == pid) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

// The pids whose parent is `pid`, from /proc.
std::vector<pid_t> ChildrenOf(pid_t pid) {
  std::vector<pid_t> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
    // /proc/<pid>/stat: "pid (comm) state ppid ..."; comm may hold spaces and parentheses.
    const std::string stat = ReadAll(entry.path().string() + "/stat");
    const size_t close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(stat.substr(close + 1));
    std::string state;
    long ppid = 0;
    if (rest >> state >> ppid && ppid == pid) out.push_back(pid_t(std::stol(name)));
  }
  return out;
}

// SIGKILLs `pid` and its children: the postmaster is stopped first, so it cannot fork while its
// children are listed and killed (PostgreSQL puts each child in a session of its own, so a
// process-group kill would miss them).
void KillTree(pid_t pid) {
  ::kill(pid, SIGSTOP);
  for (pid_t child : ChildrenOf(pid)) ::kill(child, SIGKILL);
  ::kill(pid, SIGKILL);
}

// Reaps `pid` (which has exited or been killed); returns its wait status.
int Reap(pid_t pid) {
  int wstatus = 0;
  while (::waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  return wstatus;
}

std::string DescribeExit(int wstatus) {
  if (WIFEXITED(wstatus)) return "exited with status " + std::to_string(WEXITSTATUS(wstatus));
  if (WIFSIGNALED(wstatus)) return "was killed by signal " + std::to_string(WTERMSIG(wstatus));
  return "stopped (wait status " + std::to_string(wstatus) + ")";
}

Result<std::string> MakeTempDir(const PostgresOptions& options, const RunAs& who) {
  std::string parent = options.parent_dir;
  if (parent.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    parent = tmp && *tmp ? tmp : "/tmp";
  }
  std::string templ = parent + "/locus_pg_XXXXXX";
  if (::mkdtemp(templ.data()) == nullptr) {
    return IoError("mkdtemp(" + templ + "): " + std::strerror(errno));
  }
  if (who.switch_user && ::chown(templ.c_str(), who.uid, who.gid) != 0) {
    const int err = errno;
    std::error_code ec;
    std::filesystem::remove_all(templ, ec);
    return IoError("chown " + templ + " to postgres: " + std::strerror(err));
  }
  return templ;
}

std::string Tail(const std::string& s, size_t n) {
  return s.size() <= n ? s : "..." + s.substr(s.size() - n);
}

}  // namespace

std::string PostgresServer::BinDir() {
  if (const char* env = std::getenv("LOCUS_PG_BIN"); env && *env) return env;
  return "/usr/lib/postgresql/15/bin";
}

const std::vector<std::string>& PostgresServer::DefaultSettings() {
  static const std::vector<std::string> kSettings = {
      "fsync=off",
      "full_page_writes=off",
      "synchronous_commit=off",
      "wal_level=minimal",
      "max_wal_senders=0",
      "max_wal_size=16GB",
      "checkpoint_timeout=1h",
      "shared_buffers=3GB",
      "work_mem=64MB",
      "maintenance_work_mem=1GB",
      "effective_cache_size=8GB",
      "random_page_cost=1.1",
      "jit=off",
      "autovacuum=off",
  };
  return kSettings;
}

Result<std::unique_ptr<PostgresServer>> PostgresServer::Start(const PostgresOptions& options) {
  const std::string bin = BinDir();
  const std::string initdb = bin + "/initdb", postgres = bin + "/postgres";
  for (const std::string& b : {initdb, postgres}) {
    if (::access(b.c_str(), X_OK) != 0) {
      return NotFoundError("PostgreSQL binary " + b + ": " + std::strerror(errno) +
                           " (set $LOCUS_PG_BIN to the directory of initdb and postgres)");
    }
  }
  LOCUS_ASSIGN_OR_RETURN(const RunAs who, ChooseUser());
  LOCUS_ASSIGN_OR_RETURN(const std::string dir, MakeTempDir(options, who));
  // From here `server` owns the directory (and, once started, the process) whatever happens.
  std::unique_ptr<PostgresServer> server(new PostgresServer(dir, 0, -1));

  const std::string initdb_log = dir + "/initdb.log";
  // Superuser `postgres`, trust authentication, UTF8 in the C locale (byte-order collation).
  // clang-format off
  const std::vector<std::string> initdb_args = {
      initdb, "-D", dir + "/data", "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale",
      "--no-sync", "--no-instructions"};
  // clang-format on
  LOCUS_ASSIGN_OR_RETURN(const pid_t initdb_pid, SpawnChild(initdb_args, initdb_log, who));
  if (!WaitExit(initdb_pid, std::chrono::seconds(120))) {
    KillTree(initdb_pid);
    Reap(initdb_pid);
    return UnavailableError("`" + JoinArgs(initdb_args) + "` did not finish within 120 s; log:\n" +
                            Tail(ReadAll(initdb_log), 4000));
  }
  if (const int st = Reap(initdb_pid); !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
    return UnavailableError("`" + JoinArgs(initdb_args) + "` " + DescribeExit(st) + "; log:\n" +
                            Tail(ReadAll(initdb_log), 4000));
  }

  const std::string log_path = dir + "/postgres.log";
  std::string last_log;
  for (int attempt = 0; attempt < 5; ++attempt) {
    LOCUS_ASSIGN_OR_RETURN(const uint16_t port, FreePort());
    // -k: the Unix socket in our directory (the default, /var/run/postgresql, may not exist).
    // clang-format off
    std::vector<std::string> args = {
        postgres, "-D", dir + "/data", "-p", std::to_string(port), "-k", dir,
        "-c", "listen_addresses=127.0.0.1"};
    // clang-format on
    for (const auto* list : {&DefaultSettings(), &options.settings}) {
      for (const std::string& s : *list) {
        args.push_back("-c");
        args.push_back(s);
      }
    }
    const size_t log_start = ReadAll(log_path).size();
    LOCUS_ASSIGN_OR_RETURN(const pid_t pid, SpawnChild(args, log_path, who));
    server->pid_ = pid;
    server->port_ = port;

    const std::string conninfo = server->ConnInfo() + " connect_timeout=2";
    const auto deadline = Clock::now() + std::chrono::seconds(60);
    std::optional<int> exit_status;
    while (Clock::now() < deadline) {
      if (WaitExit(pid, std::chrono::milliseconds(0))) {
        KillTree(pid);  // a postmaster that died leaves children that exit on their own soon
        exit_status = Reap(pid);
        server->pid_ = -1;
        break;
      }
      if (PQping(conninfo.c_str()) == PQPING_OK) return server;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    const std::string log = ReadAll(log_path).substr(log_start);
    if (exit_status && log.find("Address already in use") != std::string::npos) {
      last_log = log;
      continue;  // lost the race for the port: try another
    }
    server->Stop();
    return UnavailableError(postgres + " on 127.0.0.1:" + std::to_string(port) +
                            (exit_status ? " " + DescribeExit(*exit_status)
                                         : std::string(" did not accept connections within 60 s")) +
                            (who.switch_user ? " (running as user postgres)" : "") + "; log " +
                            log_path + ":\n" + Tail(log, 4000));
  }
  return UnavailableError("postgres: no free port after 5 attempts; last log:\n" +
                          Tail(last_log, 4000));
}

PostgresServer::~PostgresServer() {
  Stop();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

void PostgresServer::Stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGINT);  // fast shutdown
  // After a fast shutdown every child has exited before the postmaster: nothing to kill.
  if (!WaitExit(pid_, std::chrono::seconds(10))) KillTree(pid_);
  Reap(pid_);
  pid_ = -1;
}

std::vector<pid_t> PostgresServer::Processes() const {
  if (pid_ <= 0) return {};
  std::vector<pid_t> out = ChildrenOf(pid_);
  out.insert(out.begin(), pid_);
  return out;
}

std::string PostgresServer::ConnInfo(const std::string& dbname) const {
  return "host=127.0.0.1 port=" + std::to_string(port_) + " user=postgres dbname=" + dbname;
}

Result<std::unique_ptr<PgConnection>> PostgresServer::Connect(const std::string& dbname) const {
  return PgConnection::Connect(ConnInfo(dbname));
}

std::string PostgresServer::Log() const { return ReadAll(dir_ + "/postgres.log"); }

// --- PgResult ---------------------------------------------------------------------------------

void PgResultDeleter::operator()(pg_result* result) const { PQclear(result); }

int PgResult::rows() const { return result_ ? PQntuples(result_.get()) : 0; }
int PgResult::columns() const { return result_ ? PQnfields(result_.get()) : 0; }

std::string_view PgResult::Get(int row, int column) const {
  return std::string_view(PQgetvalue(result_.get(), row, column),
                          size_t(PQgetlength(result_.get(), row, column)));
}

bool PgResult::IsNull(int row, int column) const {
  return PQgetisnull(result_.get(), row, column) != 0;
}

PgRows PgResult::ToRows() const {
  PgRows out(static_cast<size_t>(rows()));
  for (int r = 0; r < rows(); ++r) {
    out[r].reserve(size_t(columns()));
    for (int c = 0; c < columns(); ++c) out[r].emplace_back(Get(r, c));
  }
  return out;
}

// --- PgConnection -----------------------------------------------------------------------------

namespace {

// `sql` in backquotes, cut after 300 characters. (Appended piecewise: GCC 12 warns
// -Wrestrict, wrongly, about "`" + std::string + "`".)
std::string Quoted(const std::string& sql) {
  std::string out = "`";
  out.append(sql, 0, 300);
  if (sql.size() > 300) out += "...";
  out += '`';
  return out;
}

std::string Trimmed(const char* message) {
  std::string m = message ? message : "";
  while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
  return m;
}

Status ServerError(const std::string& sqlstate, const std::string& message) {
  const std::string cls = sqlstate.substr(0, 2);
  if (cls == "22" || cls == "42") return InvalidArgumentError(message);
  if (cls == "08") return UnavailableError(message);
  if (cls == "53") return ResourceExhaustedError(message);
  return InternalError(message);
}

}  // namespace

Result<std::unique_ptr<PgConnection>> PgConnection::Connect(const std::string& conninfo) {
  pg_conn* conn = PQconnectdb(conninfo.c_str());
  if (conn == nullptr) return ResourceExhaustedError("PQconnectdb(" + conninfo + "): no memory");
  if (PQstatus(conn) != CONNECTION_OK) {
    const std::string message = Trimmed(PQerrorMessage(conn));
    PQfinish(conn);
    return UnavailableError("connecting to PostgreSQL (" + conninfo + "): " + message);
  }
  // libpq prints every notice to stderr by default; NOTICEs (DROP ... IF EXISTS of a missing
  // table, implicit index names) are routine here, so only the rest is printed.
  PQsetNoticeProcessor(
      conn,
      [](void*, const char* message) {
        if (std::strncmp(message, "NOTICE:", 7) != 0) std::fputs(message, stderr);
      },
      nullptr);
  return std::unique_ptr<PgConnection>(new PgConnection(conn));
}

PgConnection::~PgConnection() { PQfinish(conn_); }

Status PgConnection::Check(pg_result* result, const std::string& what, PgResult* out) {
  PgResult owned(result);
  if (result == nullptr) {
    return UnavailableError(what + ": " + Trimmed(PQerrorMessage(conn_)));
  }
  const ExecStatusType st = PQresultStatus(result);
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
    if (out != nullptr) *out = std::move(owned);
    return Status();
  }
  if (st == PGRES_COPY_IN || st == PGRES_COPY_OUT) {
    // A COPY through Exec, or a COPY TO through CopyIn: end it, so the connection stays usable.
    if (st == PGRES_COPY_IN) {
      PQputCopyEnd(conn_, "COPY FROM STDIN needs PgConnection::CopyIn");
    } else {
      char* buf = nullptr;
      while (PQgetCopyData(conn_, &buf, 0) > 0) PQfreemem(buf);
    }
    while (pg_result* r = PQgetResult(conn_)) PQclear(r);
    return InvalidArgumentError(
        what + ": a COPY " + (st == PGRES_COPY_IN ? "FROM STDIN" : "TO STDOUT") +
        " is not supported here (PgConnection::CopyIn sends COPY FROM STDIN)");
  }
  const char* sqlstate = PQresultErrorField(result, PG_DIAG_SQLSTATE);
  const std::string state = sqlstate ? sqlstate : "";
  const std::string message = Trimmed(PQresultErrorMessage(result));
  return ServerError(state, what + ": PostgreSQL error " + (state.empty() ? "" : state + " ") +
                                (message.empty() ? PQresStatus(st) : message));
}

Result<PgRows> PgConnection::Exec(const std::string& sql) {
  PgResult result;
  LOCUS_RETURN_IF_ERROR(Check(PQexec(conn_, sql.c_str()), Quoted(sql), &result));
  return result.ToRows();
}

Status PgConnection::Prepare(const std::string& name, const std::string& sql) {
  return Check(PQprepare(conn_, name.c_str(), sql.c_str(), 0, nullptr),
               "preparing " + name + " as " + Quoted(sql), nullptr);
}

Result<PgResult> PgConnection::ExecPrepared(const std::string& name,
                                            const std::vector<std::string>& params) {
  std::vector<const char*> values(params.size());
  for (size_t i = 0; i < params.size(); ++i) values[i] = params[i].c_str();
  PgResult result;
  LOCUS_RETURN_IF_ERROR(Check(
      PQexecPrepared(conn_, name.c_str(), int(params.size()), values.data(), nullptr, nullptr, 0),
      "executing prepared statement " + name, &result));
  return result;
}

Result<uint64_t> PgConnection::CopyIn(const std::string& sql, std::string_view data) {
  const std::string what = Quoted(sql);
  pg_result* start = PQexec(conn_, sql.c_str());
  if (start != nullptr && PQresultStatus(start) == PGRES_COPY_IN) {
    PQclear(start);
  } else if (start != nullptr && (PQresultStatus(start) == PGRES_COMMAND_OK ||
                                  PQresultStatus(start) == PGRES_TUPLES_OK)) {
    PQclear(start);
    return InvalidArgumentError(what + ": not a COPY ... FROM STDIN");
  } else {
    return Check(start, what, nullptr);  // the server's error, a lost connection, COPY TO
  }
  constexpr size_t kMessage = size_t{1} << 20;
  std::string send_error;
  for (size_t off = 0; off < data.size() && send_error.empty(); off += kMessage) {
    const size_t n = std::min(kMessage, data.size() - off);
    if (PQputCopyData(conn_, data.data() + off, int(n)) != 1) {
      send_error = "sending COPY data: " + Trimmed(PQerrorMessage(conn_));
    }
  }
  if (PQputCopyEnd(conn_, send_error.empty() ? nullptr : "client could not send") != 1 &&
      send_error.empty()) {
    send_error = "ending COPY: " + Trimmed(PQerrorMessage(conn_));
  }
  // The COPY's outcome (a bad row is reported here), then the end of the command.
  pg_result* end = PQgetResult(conn_);
  uint64_t copied = 0;
  if (end != nullptr && PQresultStatus(end) == PGRES_COMMAND_OK) {
    copied = std::strtoull(PQcmdTuples(end), nullptr, 10);
  }
  Status status = Check(end, what, nullptr);
  while (pg_result* r = PQgetResult(conn_)) PQclear(r);
  if (!send_error.empty()) return UnavailableError(what + ": " + send_error);
  LOCUS_RETURN_IF_ERROR(status);
  return copied;
}

}  // namespace locus::testing
