// Tests of PostgresServer and PgConnection (tests/testing/postgres_server.h) against the real
// Debian PostgreSQL 15 + PostGIS 3.3: the server starts (as the `postgres` user when the test
// runs as root, as CI does), PostGIS's moving-point functions answer what the geometry says,
// COPY and prepared statements work, errors name the SQL and PostgreSQL's message, and Stop()
// leaves no process behind.
#include "tests/testing/postgres_server.h"

#include <gtest/gtest.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <string>

namespace locus::testing {
namespace {

// Whether `pid` is still a live process (a zombie awaiting its reaper counts as gone).
bool Alive(pid_t pid) {
  if (::kill(pid, 0) != 0) return false;
  std::FILE* f = std::fopen(("/proc/" + std::to_string(pid) + "/stat").c_str(), "r");
  if (f == nullptr) return false;
  char buf[512] = {};
  const size_t n = std::fread(buf, 1, sizeof(buf) - 1, f);
  std::fclose(f);
  const std::string stat(buf, n);
  const size_t close = stat.rfind(')');
  return close == std::string::npos || close + 2 >= stat.size() || stat[close + 2] != 'Z';
}

double Number(const PgRows& rows) {
  EXPECT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows.empty() ? 0u : rows[0].size(), 1u);
  return rows.empty() || rows[0].empty() ? NAN : std::stod(rows[0][0]);
}

TEST(PostgresServerTest, StartsWithPostGISAndItsMovingPointFunctions) {
  std::unique_ptr<PostgresServer> server;
  LOCUS_START_POSTGRES_OR_RETURN(server);
  auto conn = server->Connect();
  ASSERT_TRUE(conn.ok()) << conn.status().ToString() << "\n" << server->Log();
  PgConnection& c = **conn;
  auto created = c.Exec("CREATE EXTENSION postgis");
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  auto version = c.Exec("SELECT postgis_lib_version()");
  ASSERT_TRUE(version.ok()) << version.status().ToString();
  EXPECT_EQ((*version)[0][0].substr(0, 2), "3.") << (*version)[0][0];

  // Two parallel tracks 5 apart, moving together: 5 at every time.
  auto cpa = c.Exec(
      "SELECT ST_DistanceCPA('LINESTRINGM(0 0 0, 10 0 10)'::geometry, "
      "'LINESTRINGM(0 5 0, 10 5 10)'::geometry)");
  ASSERT_TRUE(cpa.ok()) << cpa.status().ToString();
  EXPECT_DOUBLE_EQ(Number(*cpa), 5.0);

  // a = (t, 0), b = (10, t - 4): |a - b|^2 = (10 - t)^2 + (t - 4)^2 is least at t = 7, where
  // the distance is sqrt(18).
  const std::string a = "'LINESTRINGM(0 0 0, 10 0 10)'::geometry";
  const std::string b = "'LINESTRINGM(10 -4 0, 10 6 10)'::geometry";
  auto when = c.Exec("SELECT ST_ClosestPointOfApproach(" + a + ", " + b + ")");
  ASSERT_TRUE(when.ok()) << when.status().ToString();
  EXPECT_NEAR(Number(*when), 7.0, 1e-9);
  auto dist = c.Exec("SELECT ST_DistanceCPA(" + a + ", " + b + ")");
  ASSERT_TRUE(dist.ok()) << dist.status().ToString();
  EXPECT_NEAR(Number(*dist), std::sqrt(18.0), 1e-9);
}

// W8 (perf/history_bench.cc) stores time as the Z of a point and measures distances on
// geography: the geography distance of two PointZ must be the 2D great-circle one, whatever
// their Z.
TEST(PostgresServerTest, GeographyDistanceOfPointZIgnoresZ) {
  std::unique_ptr<PostgresServer> server;
  LOCUS_START_POSTGRES_OR_RETURN(server);
  auto conn = server->Connect();
  ASSERT_TRUE(conn.ok()) << conn.status().ToString();
  ASSERT_TRUE((*conn)->Exec("CREATE EXTENSION postgis").ok());
  auto d = (*conn)->Exec(
      "SELECT ST_Distance(ST_MakePoint(2.35, 48.85, 0)::geography, "
      "ST_MakePoint(2.351, 48.85, 5000)::geography, false) - "
      "ST_Distance(ST_MakePoint(2.35, 48.85)::geography, "
      "ST_MakePoint(2.351, 48.85)::geography, false)");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(Number(*d), 0.0);
}

TEST(PostgresServerTest, CopyInAndPreparedStatements) {
  std::unique_ptr<PostgresServer> server;
  LOCUS_START_POSTGRES_OR_RETURN(server);
  auto conn = server->Connect();
  ASSERT_TRUE(conn.ok()) << conn.status().ToString();
  PgConnection& c = **conn;
  ASSERT_TRUE(c.Exec("CREATE TABLE t (id int, name text)").ok());
  auto copied = c.CopyIn("COPY t FROM STDIN", "1\tone\n2\ttwo\n3\t\\N\n");
  ASSERT_TRUE(copied.ok()) << copied.status().ToString();
  EXPECT_EQ(*copied, 3u);

  // Binary COPY: header, one tuple (int4 7, text "seven"), trailer.
  std::string bin("PGCOPY\n\xff\r\n\0", 11);
  bin += std::string(8, '\0');        // flags, header extension length
  bin += std::string("\x00\x02", 2);  // 2 fields
  bin += std::string("\x00\x00\x00\x04\x00\x00\x00\x07", 8);
  bin += std::string("\x00\x00\x00\x05", 4) + "seven";
  bin += std::string("\xff\xff", 2);  // trailer
  auto copied_bin = c.CopyIn("COPY t FROM STDIN (FORMAT binary)", bin);
  ASSERT_TRUE(copied_bin.ok()) << copied_bin.status().ToString();
  EXPECT_EQ(*copied_bin, 1u);

  ASSERT_TRUE(c.Prepare("by_id", "SELECT name FROM t WHERE id = $1::int").ok());
  auto two = c.ExecPrepared("by_id", {"2"});
  ASSERT_TRUE(two.ok()) << two.status().ToString();
  ASSERT_EQ(two->rows(), 1);
  ASSERT_EQ(two->columns(), 1);
  EXPECT_EQ(two->Get(0, 0), "two");
  auto seven = c.ExecPrepared("by_id", {"7"});
  ASSERT_TRUE(seven.ok()) << seven.status().ToString();
  EXPECT_EQ(seven->ToRows(), PgRows{{"seven"}});
  auto null = c.ExecPrepared("by_id", {"3"});
  ASSERT_TRUE(null.ok());
  EXPECT_TRUE(null->IsNull(0, 0));
  EXPECT_EQ(null->Get(0, 0), "");
  auto none = c.ExecPrepared("by_id", {"99"});
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->rows(), 0);
}

TEST(PostgresServerTest, ErrorsNameTheSqlAndPostgresMessage) {
  std::unique_ptr<PostgresServer> server;
  LOCUS_START_POSTGRES_OR_RETURN(server);
  auto conn = server->Connect();
  ASSERT_TRUE(conn.ok()) << conn.status().ToString();
  PgConnection& c = **conn;

  auto bad = c.Exec("SELEC 1");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument) << bad.status().ToString();
  EXPECT_NE(bad.status().ToString().find("SELEC 1"), std::string::npos) << bad.status().ToString();
  EXPECT_NE(bad.status().ToString().find("42601"), std::string::npos) << bad.status().ToString();
  EXPECT_NE(bad.status().ToString().find("syntax error"), std::string::npos)
      << bad.status().ToString();

  auto missing = c.Exec("SELECT * FROM no_such_table");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().ToString().find("no_such_table"), std::string::npos);

  const Status prep = c.Prepare("p", "SELECT ST_NoSuchFunction($1)");
  ASSERT_FALSE(prep.ok());
  EXPECT_NE(prep.ToString().find("preparing p"), std::string::npos) << prep.ToString();
  auto unknown = c.ExecPrepared("never_prepared", {});
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().ToString().find("never_prepared"), std::string::npos)
      << unknown.status().ToString();

  // A COPY whose data is bad: the row's error, not a hang; the connection stays usable.
  ASSERT_TRUE(c.Exec("CREATE TABLE n (x int)").ok());
  auto bad_copy = c.CopyIn("COPY n FROM STDIN", "1\nnot a number\n");
  ASSERT_FALSE(bad_copy.ok());
  EXPECT_NE(bad_copy.status().ToString().find("not a number"), std::string::npos)
      << bad_copy.status().ToString();
  auto not_copy = c.CopyIn("SELECT 1", "");
  ASSERT_FALSE(not_copy.ok());
  EXPECT_NE(not_copy.status().ToString().find("not a COPY"), std::string::npos);
  // COPY through the wrong call: an error naming the right one, and no stuck connection.
  auto copy_in_exec = c.Exec("COPY n FROM STDIN");
  ASSERT_FALSE(copy_in_exec.ok());
  EXPECT_NE(copy_in_exec.status().ToString().find("CopyIn"), std::string::npos)
      << copy_in_exec.status().ToString();
  auto copy_out = c.CopyIn("COPY (SELECT 1) TO STDOUT", "");
  ASSERT_FALSE(copy_out.ok());
  EXPECT_NE(copy_out.status().ToString().find("TO STDOUT"), std::string::npos)
      << copy_out.status().ToString();
  auto count = c.Exec("SELECT count(*) FROM n");
  ASSERT_TRUE(count.ok()) << count.status().ToString();
  EXPECT_EQ((*count)[0][0], "0");

  // A connection to a port nothing listens on names the connection string.
  auto refused = PgConnection::Connect("host=127.0.0.1 port=1 user=postgres connect_timeout=2");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(refused.status().ToString().find("port=1"), std::string::npos);
}

TEST(PostgresServerTest, RunsAsPostgresUserWhenRootElseAsCaller) {
  std::unique_ptr<PostgresServer> server;
  LOCUS_START_POSTGRES_OR_RETURN(server);
  struct stat st {};
  ASSERT_EQ(::stat(("/proc/" + std::to_string(server->pid())).c_str(), &st), 0);
  if (::geteuid() == 0) {
    const passwd* pw = ::getpwnam("postgres");
    ASSERT_NE(pw, nullptr);
    EXPECT_EQ(st.st_uid, pw->pw_uid) << "as root, the server must run as user postgres";
  } else {
    EXPECT_EQ(st.st_uid, ::geteuid());
  }
  auto conn = server->Connect();
  ASSERT_TRUE(conn.ok()) << conn.status().ToString();
  auto user = (*conn)->Exec(
      "SELECT current_user, current_setting('fsync'), "
      "current_setting('shared_buffers'), current_setting('jit')");
  ASSERT_TRUE(user.ok()) << user.status().ToString();
  EXPECT_EQ((*user)[0], (std::vector<std::string>{"postgres", "off", "3GB", "off"}));
}

TEST(PostgresServerTest, StopWithOpenConnectionLeavesNoProcess) {
  std::unique_ptr<PostgresServer> server;
  LOCUS_START_POSTGRES_OR_RETURN(server);
  auto conn = server->Connect();
  ASSERT_TRUE(conn.ok()) << conn.status().ToString();
  auto backend = (*conn)->Exec("SELECT pg_backend_pid()");
  ASSERT_TRUE(backend.ok());
  const pid_t backend_pid = std::stoi((*backend)[0][0]);
  const std::vector<pid_t> processes = server->Processes();
  ASSERT_GE(processes.size(), 3u);  // postmaster, our backend, background processes
  EXPECT_EQ(processes[0], server->pid());
  EXPECT_NE(std::find(processes.begin(), processes.end(), backend_pid), processes.end());
  const std::string dir = server->dir();
  const uint16_t port = server->port();

  const auto start = std::chrono::steady_clock::now();
  server->Stop();  // the connection is still open: a fast shutdown must not wait for it
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(8));
  EXPECT_EQ(server->pid(), -1);
  EXPECT_TRUE(server->Processes().empty());
  for (pid_t p : processes) EXPECT_FALSE(Alive(p)) << "pid " << p << " survived Stop()";
  auto after = (*conn)->Exec("SELECT 1");
  EXPECT_FALSE(after.ok());
  auto reconnect = PgConnection::Connect("host=127.0.0.1 port=" + std::to_string(port) +
                                         " user=postgres connect_timeout=2");
  EXPECT_FALSE(reconnect.ok());
  server->Stop();  // idempotent

  server.reset();
  struct stat st {};
  EXPECT_NE(::stat(dir.c_str(), &st), 0) << dir << " was not removed";
}

TEST(PostgresServerTest, MissingBinaryIsNamed) {
  ::setenv("LOCUS_PG_BIN", "/nonexistent/pg/bin", 1);
  auto server = PostgresServer::Start();
  ::unsetenv("LOCUS_PG_BIN");
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.status().code(), StatusCode::kNotFound);
  EXPECT_NE(server.status().ToString().find("/nonexistent/pg/bin/initdb"), std::string::npos)
      << server.status().ToString();
}

}  // namespace
}  // namespace locus::testing
