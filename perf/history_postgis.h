// W8's PostGIS peer (PostGIS 3.3 on PostgreSQL 15, Debian): the schema, the load and the SQL of
// each query row, shared by the benchmark (perf/history_bench.cc) and by the test that checks
// every query's answer against perf/history_data.h's references
// (tests/perf/history_postgis_test.cc). The server is a tests/testing/postgres_server.h
// PostgresServer: a temporary cluster on loopback, reached over TCP.
//
// Schema: samples(object int, t bigint (Unix ms), geom geometry(PointZ)), geom = (lon, lat, z)
// with z the sample's time in seconds since kW8StartMs (W8TimeZ). Not Unix seconds: the n-D GiST
// index keeps float4 boxes, and at ~1.7e9 s a float4 is 128 s coarse, which would make the
// time axis of the index nearly useless for 10-s questions; seconds since the data set's start
// are exact to ~1 ms, which is the choice a careful PostGIS user would make and favours the
// peer. Indexes, as a PostGIS user would create them for these questions:
//   samples_geom_nd     GiST (geom gist_geometry_ops_nd): box-in-space-and-time (&&&)
//   samples_object_t    B-tree (object, t): one object's samples in a time range, and an
//                       object's next sample (SliceAtRegion)
// Load: in one transaction, DROP + CREATE TABLE + binary COPY ... (FREEZE), then both indexes,
// then ANALYZE. With wal_level=minimal (PostgresServer::DefaultSettings) the COPY into a table
// created in its transaction writes no WAL, and FREEZE writes the rows already frozen and
// all-visible, so no later VACUUM (or hint-bit write during a timed query) is owed.
//
// The n-D GiST is the weak point. PostGIS 3.3 has no sorted build for gist_geometry_ops_nd
// (only the 2-D opclass has one), so the index is built by inserting the samples in heap order,
// by object then time, and at 10M samples a 100 m x 100 m x 20 s probe of the encounter join
// reads ~215 index pages (~2 ms) where a packed tree would read a handful. Measured here
// (10M samples, a 1-minute encounter window, 60,000 probes; the machine shared with builds):
//   heap by object then time (as loaded)    215 pages/probe; 500 m x 1 h box query ~41 ms
//   heap by time (CREATE TABLE AS ORDER BY t) 29 pages/probe; box query ~178 ms
//   WITH (buffering = on)                   241 pages/probe; box query ~47 ms
//   time axis in units of 10^4 s            320 pages/probe; box query ~48 ms
//   SP-GiST (spgist_geometry_ops_nd)        slower still (stopped after 8 minutes)
// So the schema stays as PERF.md states it, loaded in the ingest order; the encounter row
// then takes minutes per query at 10M.
//
// Queries are prepared once per connection (PQprepare) and run with PQexecPrepared, so the
// peer is not charged for parsing; parameters are text, formatted before any timed loop
// (Params). Results are read in place (PgResult). Every query is exact: the &&& operator
// compares float4 boxes (rounded outward, so it never loses a row), and exact predicates on t,
// ST_X and ST_Y follow it.
//
// Thread safety: a W8Postgis is one connection; use it from one thread.
#ifndef LOCUS_PERF_HISTORY_POSTGIS_H_
#define LOCUS_PERF_HISTORY_POSTGIS_H_

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "locus/status.h"
#include "perf/history_data.h"
#include "tests/testing/postgres_server.h"

namespace locus::perf {

class W8Postgis {
 public:
  // Starts a PostgreSQL server (options: where its cluster lives, extra settings), connects
  // and creates the postgis extension.
  static Result<std::unique_ptr<W8Postgis>> Start(const testing::PostgresOptions& options = {});

  // Returns `data` as a binary COPY stream (PGCOPY header, one tuple per sample: int4 object,
  // int8 t, geometry as little-endian EWKB PointZ, all field headers big-endian): the client's
  // share of a load, made before the timed part.
  static std::string EncodeCopy(std::span<const HistorySample> data);

  // (Re)creates `samples` from `copy` (EncodeCopy's output), builds its indexes and ANALYZEs
  // it: the Ingest row's timed work. Returns the rows copied. Prepared statements made before
  // stay valid (PostgreSQL re-plans them against the new table).
  Result<uint64_t> Load(std::string_view copy);
  // Reads the table and both indexes into PostgreSQL's buffer cache (pg_prewarm), as a tuned
  // server is before it serves queries: not part of a load's time. REQUIRES: a Load() before.
  Status Prewarm();
  // Prepares the four query statements on this connection. REQUIRES: a Load() before.
  Status Prepare();

  // The SQL of each row (parameters in the order of Params).
  static const std::string& Sql(W8Row row);
  // A query's parameters, in text, formatted exactly (shortest round-trip doubles).
  static std::vector<std::string> Params(const W8TrajectoryQuery& q);
  static std::vector<std::string> Params(const W8PassedThroughQuery& q);
  static std::vector<std::string> Params(const W8SliceQuery& q);
  static std::vector<std::string> Params(const W8EncounterQuery& q);

  // Runs row's prepared statement with `params`. REQUIRES: Prepare().
  Result<testing::PgResult> Run(W8Row row, const std::vector<std::string>& params);
  // Runs any SQL (EXPLAIN, sizes, settings) on this connection.
  Result<testing::PgRows> Exec(const std::string& sql) { return conn_->Exec(sql); }

  // Decodes results into perf/history_data.h's answer types, for comparison with the
  // references. Trajectory rows get the query's object.
  static std::vector<HistorySample> DecodeTrajectory(const testing::PgResult& r, uint32_t object);
  static std::vector<W8Passed> DecodePassedThrough(const testing::PgResult& r);
  static std::vector<HistorySample> DecodeSlice(const testing::PgResult& r, int64_t t_ms);
  static std::vector<W8Encounter> DecodeEncounters(const testing::PgResult& r);

  testing::PostgresServer& server() { return *server_; }

 private:
  W8Postgis(std::unique_ptr<testing::PostgresServer> server,
            std::unique_ptr<testing::PgConnection> conn)
      : server_(std::move(server)), conn_(std::move(conn)) {}

  std::unique_ptr<testing::PostgresServer> server_;
  std::unique_ptr<testing::PgConnection> conn_;  // destroyed first (members in reverse order)
};

// The Z of a sample at t_ms in the samples table: seconds since kW8StartMs.
inline double W8TimeZ(int64_t t_ms) { return static_cast<double>(t_ms - kW8StartMs) / 1000.0; }

}  // namespace locus::perf

#endif  // LOCUS_PERF_HISTORY_POSTGIS_H_
