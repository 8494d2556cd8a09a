// PostgresServer: a real PostgreSQL 15 server on loopback, for tests and for the PostGIS peer of
// benchmark W8 (perf/history_bench.cc); PgConnection: a small libpq client for it. Start()
// runs Debian's binaries (/usr/lib/postgresql/15/bin, or the directory $LOCUS_PG_BIN) in a
// fresh temporary cluster: `initdb` (superuser `postgres`, trust authentication, UTF8, C
// locale, --no-sync), then `postgres` in the foreground as a child process listening on a free
// port of 127.0.0.1 (its Unix socket in the temporary directory, never /var/run/postgresql),
// with the settings of DefaultSettings(). Stop() (or the destructor) shuts it down and the
// destructor removes the directory; if the thread that started the server dies first (a crashed
// test), the kernel kills the postmaster (PR_SET_PDEATHSIG) and its backends exit when they see
// it gone, so start it from a thread that outlives it (the test body, the benchmark's main).
//
// Root: PostgreSQL refuses to run as root. When geteuid() == 0 (CI runs as root) initdb and
// postgres run as the `postgres` system user, which the postgresql-15 package creates: the
// temporary directory is chown'ed to it and each child calls setgroups/setgid/setuid after
// fork, before exec. That user must be able to reach the directory, so a parent directory
// (PostgresOptions::parent_dir, default $TMPDIR, else /tmp) under a private home such as /root
// fails with a permission error in the server's log. Without root the server runs as the
// calling user. Either way clients connect as the database superuser `postgres` over TCP.
//
// Thread safety: PostgresServer is not thread-safe; the server serves any number of
// connections. A PgConnection is one libpq connection: use it from one thread at a time.
#ifndef LOCUS_TESTS_TESTING_POSTGRES_SERVER_H_
#define LOCUS_TESTS_TESTING_POSTGRES_SERVER_H_

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "locus/status.h"

// libpq's handles (libpq-fe.h: `typedef struct pg_conn PGconn; typedef struct pg_result
// PGresult;`), declared here so that users of this header need not see libpq's headers.
struct pg_conn;
struct pg_result;

namespace locus::testing {

class PgConnection;

struct PostgresOptions {
  // The directory in which the temporary cluster directory (locus_pg_XXXXXX) is made. Empty:
  // $TMPDIR, else /tmp. The cluster holds the data files: put it on the disk to be measured.
  std::string parent_dir;
  // More settings as "name=value", passed as `-c name=value` after DefaultSettings() (so a
  // setting named in both takes the value given here).
  std::vector<std::string> settings;
};

class PostgresServer {
 public:
  // Returns the directory of initdb and postgres: $LOCUS_PG_BIN when set, else
  // /usr/lib/postgresql/15/bin (Debian's postgresql-15).
  static std::string BinDir();

  // The server settings Start() passes (`-c name=value`), chosen so that the PostGIS peer of a
  // benchmark runs as a well-tuned server would on this machine (2 vCPUs, ~23 GiB):
  //   fsync=off, full_page_writes=off, synchronous_commit=off
  //       durability is not what W8 measures (W5 does): writes never wait for a disk;
  //   wal_level=minimal, max_wal_senders=0
  //       a table created in the transaction that COPYs into it writes no WAL (PostgreSQL's
  //       documented bulk-load path);
  //   max_wal_size=16GB, checkpoint_timeout=1h
  //       no checkpoint during a 10M-row load;
  //   shared_buffers=3GB
  //       the W8 table and its indexes (1.9 GB at 10M samples) all in PostgreSQL's own cache
  //       (the memory is only touched as pages are used: tests pay nothing for it);
  //   work_mem=64MB, maintenance_work_mem=1GB
  //       sorts, hashes and DISTINCT of a query in memory; index builds (GiST buffering build,
  //       B-tree sort) in memory;
  //   effective_cache_size=8GB, random_page_cost=1.1
  //       the planner told that the data is cached, so index scans are costed as such;
  //   jit=off
  //       LLVM compilation (tens to hundreds of ms) would be charged to queries that take
  //       milliseconds;
  //   autovacuum=off
  //       the benchmark ANALYZEs itself; a background VACUUM of the freshly loaded table would
  //       otherwise run during the timed queries.
  // Parallel query keeps PostgreSQL's defaults (2 workers per gather, 2 per index build).
  static const std::vector<std::string>& DefaultSettings();

  // Makes a cluster and starts a server on it, retrying with another port when the chosen one
  // was taken in between. Fails, naming the binary, the port and the log's contents, when a
  // binary is missing, initdb fails, postgres exits early, or it does not accept connections
  // within 60 seconds; when running as root without a `postgres` user, says so.
  static Result<std::unique_ptr<PostgresServer>> Start(const PostgresOptions& options = {});

  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;
  ~PostgresServer();  // Stop(), then removes the temporary directory

  // Stops the server: SIGINT (PostgreSQL's "fast" shutdown: open connections are closed and
  // every child process exits before the postmaster; SIGTERM, the "smart" one, would wait for
  // every client to disconnect), waits up to 10 s, then SIGKILLs the postmaster and its
  // children; reaps the postmaster. Idempotent. Connections still open afterwards get errors
  // from every call.
  void Stop();

  uint16_t port() const { return port_; }
  // The postmaster's pid; -1 once stopped.
  pid_t pid() const { return pid_; }
  // The postmaster and its child processes now (backends, background workers), from /proc;
  // empty once stopped.
  std::vector<pid_t> Processes() const;
  const std::string& dir() const { return dir_; }
  std::string data_dir() const { return dir_ + "/data"; }
  // The libpq connection string for `dbname`: TCP to 127.0.0.1:port() as user postgres.
  std::string ConnInfo(const std::string& dbname = "postgres") const;
  // Opens a connection to `dbname` (see PgConnection::Connect).
  Result<std::unique_ptr<PgConnection>> Connect(const std::string& dbname = "postgres") const;
  // The server's log (its stderr) so far, for error messages.
  std::string Log() const;

 private:
  PostgresServer(std::string dir, uint16_t port, pid_t pid)
      : dir_(std::move(dir)), port_(port), pid_(pid) {}

  std::string dir_;
  uint16_t port_ = 0;
  pid_t pid_ = -1;
};

// Frees a PGresult (PQclear).
struct PgResultDeleter {
  void operator()(pg_result* result) const;
};

// The rows of a query as strings (NULL reads as the empty string), in PostgreSQL's text format.
using PgRows = std::vector<std::vector<std::string>>;

// One query's result, owned (a PGresult): values are read in place, with no copy, so a
// benchmark's timed loop pays only for what it reads.
class PgResult {
 public:
  PgResult() = default;
  explicit PgResult(pg_result* result) : result_(result) {}

  int rows() const;
  int columns() const;
  // The value at (row, column) in text format; empty when NULL. REQUIRES: in range.
  std::string_view Get(int row, int column) const;
  bool IsNull(int row, int column) const;
  PgRows ToRows() const;

 private:
  std::unique_ptr<pg_result, PgResultDeleter> result_;
};

class PgConnection {
 public:
  // Connects with a libpq connection string; fails (Unavailable, with libpq's message and the
  // string) when the server cannot be reached or refuses. The server's NOTICE messages are
  // dropped; its warnings go to stderr.
  static Result<std::unique_ptr<PgConnection>> Connect(const std::string& conninfo);

  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;
  ~PgConnection();  // closes the connection (PQfinish)

  // Runs `sql` (one statement, or several separated by semicolons: the rows are the last
  // one's). An error names the SQL (its first 300 characters), PostgreSQL's SQLSTATE and
  // message: InvalidArgument for classes 22 (data) and 42 (syntax, undefined objects),
  // Unavailable for 08 (connection), ResourceExhausted for 53, Internal otherwise.
  Result<PgRows> Exec(const std::string& sql);
  // Prepares `sql` (parameters $1, $2, ...; their types inferred, or given by casts in the
  // SQL) as the statement `name` of this connection (PQprepare).
  Status Prepare(const std::string& name, const std::string& sql);
  // Runs the prepared statement `name` with `params` in text format (PQexecPrepared).
  Result<PgResult> ExecPrepared(const std::string& name, const std::vector<std::string>& params);
  // Runs `sql`, a `COPY ... FROM STDIN` in any format, and sends `data` as its input (in 1 MiB
  // messages); returns the number of rows copied. The data's format is the COPY's: text, CSV,
  // or binary (the PGCOPY header, tuples and trailer, all big-endian).
  Result<uint64_t> CopyIn(const std::string& sql, std::string_view data);

 private:
  explicit PgConnection(pg_conn* conn) : conn_(conn) {}
  // Turns a finished result into OK (returned in *out when given) or a Status naming `what`.
  Status Check(pg_result* result, const std::string& what, PgResult* out);

  pg_conn* conn_;
};

}  // namespace locus::testing

// Starts PostgreSQL into `var` (a std::unique_ptr<PostgresServer>) inside a test or SetUp(): a
// failure FAILS the test with a hint to run .ci/deps, unless LOCUS_SKIP_POSTGRES_TESTS=1, which
// skips it instead.
#define LOCUS_START_POSTGRES_OR_RETURN(var)                                                    \
  do {                                                                                         \
    auto locus_pg_ = ::locus::testing::PostgresServer::Start();                                \
    if (!locus_pg_.ok()) {                                                                     \
      const char* locus_skip_ = std::getenv("LOCUS_SKIP_POSTGRES_TESTS");                      \
      if (locus_skip_ && std::string(locus_skip_) == "1") {                                    \
        GTEST_SKIP() << "LOCUS_SKIP_POSTGRES_TESTS=1: " << locus_pg_.status().ToString();      \
      }                                                                                        \
      FAIL() << locus_pg_.status().ToString()                                                  \
             << "\n(these tests need Debian's postgresql-15 and postgresql-15-postgis-3: run " \
                ".ci/deps, or set LOCUS_SKIP_POSTGRES_TESTS=1 to skip them)";                  \
    }                                                                                          \
    var = std::move(locus_pg_).value();                                                        \
  } while (false)

#endif  // LOCUS_TESTS_TESTING_POSTGRES_SERVER_H_
