// W8's PostGIS peer (perf/history_postgis.h): the COPY encoding, the load, the SQL, the decoders.
#include "perf/history_postgis.h"

#include <charconv>
#include <cstring>

namespace locus::perf {
namespace {

using testing::PgResult;

// The SQL spells out kW8StartMs (1700000000000: a time parameter's Z is
// (t - 1700000000000) / 1000.0, seconds since it) and kW8StepMs (10000 ms, 10 s).
static_assert(kW8StartMs == 1'700'000'000'000 && kW8StepMs == 10'000);

// One object's samples in a 1-hour window (the B-tree on (object, t)).
constexpr char kTrajectorySql[] = R"sql(
SELECT t, ST_X(geom), ST_Y(geom) FROM samples
WHERE object = $1::int AND t BETWEEN $2::bigint AND $3::bigint
ORDER BY t)sql";

// $1..$4: the box (min lon, min lat, max lon, max lat); $5, $6: the window (ms). The n-D GiST
// finds the samples in the box x window; samples only, no interpolation between them (which
// favours the peer: it answers an easier question).
constexpr char kPassedThroughSql[] = R"sql(
SELECT object, min(t) FROM samples
WHERE geom &&& ST_3DMakeBox(
        ST_MakePoint($1::float8, $2::float8, ($5::bigint - 1700000000000) / 1000.0::float8),
        ST_MakePoint($3::float8, $4::float8, ($6::bigint - 1700000000000) / 1000.0::float8))
  AND t BETWEEN $5::bigint AND $6::bigint
  AND ST_X(geom) BETWEEN $1::float8 AND $3::float8
  AND ST_Y(geom) BETWEEN $2::float8 AND $4::float8
GROUP BY object ORDER BY object)sql";

// $1..$4: the region; $5: t (ms); $6..$9: the region grown by a step's top distance (the last
// sample of an object now inside the region is at most that far outside it). Each object's
// last sample at or before t (DISTINCT ON over the GiST's candidates in the grown box and the
// step before t), its next sample by the B-tree (LATERAL ... LIMIT 1), the position
// interpolated to t, kept if inside the region.
constexpr char kSliceSql[] = R"sql(
WITH last AS (
  SELECT DISTINCT ON (object) object, t, geom FROM samples
  WHERE geom &&& ST_3DMakeBox(
          ST_MakePoint($6::float8, $7::float8,
                       ($5::bigint - 10000 - 1700000000000) / 1000.0::float8),
          ST_MakePoint($8::float8, $9::float8, ($5::bigint - 1700000000000) / 1000.0::float8))
    AND t > $5::bigint - 10000 AND t <= $5::bigint
  ORDER BY object, t DESC
), at AS (
  SELECT l.object,
         CASE WHEN n.t IS NULL THEN ST_X(l.geom)
              ELSE ST_X(l.geom) + (ST_X(n.geom) - ST_X(l.geom))
                   * (($5::bigint - l.t)::float8 / (n.t - l.t)::float8) END AS lon,
         CASE WHEN n.t IS NULL THEN ST_Y(l.geom)
              ELSE ST_Y(l.geom) + (ST_Y(n.geom) - ST_Y(l.geom))
                   * (($5::bigint - l.t)::float8 / (n.t - l.t)::float8) END AS lat
  FROM last l
  LEFT JOIN LATERAL (
    SELECT s.t, s.geom FROM samples s
    WHERE s.object = l.object AND s.t > $5::bigint
    ORDER BY s.t LIMIT 1) n ON true
)
SELECT object, lon, lat FROM at
WHERE lon BETWEEN $1::float8 AND $3::float8 AND lat BETWEEN $2::float8 AND $4::float8
ORDER BY object)sql";

// $1, $2: the window (ms); $3: the distance (m); $4, $5: the distance in degrees of longitude
// and latitude (with a margin). A self-join: for each sample a in the window, the GiST finds
// the samples b within the distance's box and one step of time (&&& ST_Expand in x, y, z);
// then the exact conditions, with the distance on the sphere (geography, use_spheroid false:
// the sphere is what locus measures on, and cheaper than the spheroid).
constexpr char kEncountersSql[] = R"sql(
SELECT a.object, b.object, min(least(a.t, b.t)), max(greatest(a.t, b.t))
FROM samples a
JOIN samples b
  ON b.geom &&& ST_Expand(a.geom, $4::float8, $5::float8, 10)
 AND b.object > a.object
 AND b.t > a.t - 10000 AND b.t < a.t + 10000
 AND b.t BETWEEN $1::bigint AND $2::bigint
 AND ST_DWithin(a.geom::geography, b.geom::geography, $3::float8, false)
WHERE a.geom &&& ST_3DMakeBox(
        ST_MakePoint(-180, -90, ($1::bigint - 1700000000000) / 1000.0::float8),
        ST_MakePoint(180, 90, ($2::bigint - 1700000000000) / 1000.0::float8))
  AND a.t BETWEEN $1::bigint AND $2::bigint
GROUP BY a.object, b.object
ORDER BY a.object, b.object)sql";

const char* StatementName(W8Row row) {
  switch (row) {
    case W8Row::kTrajectory:
      return "w8_trajectory";
    case W8Row::kPassedThrough:
      return "w8_passed_through";
    case W8Row::kSlice:
      return "w8_slice";
    case W8Row::kEncounters:
      return "w8_encounters";
  }
  return "";
}

std::string Text(double v) {
  char buf[32];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  return std::string(buf, end);
}

template <typename T>
T Parse(std::string_view s) {
  T v{};
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

void PutBigEndian(std::string& out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>(v >> (8 * i)));
}

void PutLittleEndian(std::string& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
}

void PutDoubleLE(std::string& out, double d) {
  uint64_t bits;
  std::memcpy(&bits, &d, 8);
  PutLittleEndian(out, bits, 8);
}

}  // namespace

Result<std::unique_ptr<W8Postgis>> W8Postgis::Start(const testing::PostgresOptions& options) {
  LOCUS_ASSIGN_OR_RETURN(auto server, testing::PostgresServer::Start(options));
  LOCUS_ASSIGN_OR_RETURN(auto conn, server->Connect());
  LOCUS_RETURN_IF_ERROR(conn->Exec("CREATE EXTENSION postgis").status());
  return std::unique_ptr<W8Postgis>(new W8Postgis(std::move(server), std::move(conn)));
}

std::string W8Postgis::EncodeCopy(std::span<const HistorySample> data) {
  constexpr size_t kTuple = 2 + (4 + 4) + (4 + 8) + (4 + 29);
  std::string out;
  out.reserve(19 + kTuple * data.size() + 2);
  out.append("PGCOPY\n\xff\r\n\0", 11);
  PutBigEndian(out, 0, 4);  // flags
  PutBigEndian(out, 0, 4);  // header extension length
  for (const HistorySample& s : data) {
    PutBigEndian(out, 3, 2);  // fields
    PutBigEndian(out, 4, 4);
    PutBigEndian(out, s.object, 4);
    PutBigEndian(out, 8, 4);
    PutBigEndian(out, static_cast<uint64_t>(s.t_ms), 8);
    PutBigEndian(out, 29, 4);
    out.push_back(1);                      // EWKB: little-endian
    PutLittleEndian(out, 0x80000001u, 4);  // Point with the Z flag, no SRID
    PutDoubleLE(out, s.lon);
    PutDoubleLE(out, s.lat);
    PutDoubleLE(out, W8TimeZ(s.t_ms));
  }
  PutBigEndian(out, 0xffff, 2);  // trailer
  return out;
}

Result<uint64_t> W8Postgis::Load(std::string_view copy) {
  auto in_transaction = [&]() -> Result<uint64_t> {
    LOCUS_RETURN_IF_ERROR(conn_->Exec("DROP TABLE IF EXISTS samples").status());
    LOCUS_RETURN_IF_ERROR(conn_
                              ->Exec("CREATE TABLE samples (object int NOT NULL, "
                                     "t bigint NOT NULL, geom geometry(PointZ) NOT NULL)")
                              .status());
    return conn_->CopyIn("COPY samples (object, t, geom) FROM STDIN (FORMAT binary, FREEZE)", copy);
  };
  LOCUS_RETURN_IF_ERROR(conn_->Exec("BEGIN").status());
  Result<uint64_t> copied = in_transaction();
  if (!copied.ok()) {
    conn_->Exec("ROLLBACK").status().IgnoreError();
    return copied.status();
  }
  LOCUS_RETURN_IF_ERROR(conn_->Exec("COMMIT").status());
  LOCUS_RETURN_IF_ERROR(
      conn_->Exec("CREATE INDEX samples_geom_nd ON samples USING gist (geom gist_geometry_ops_nd)")
          .status());
  LOCUS_RETURN_IF_ERROR(
      conn_->Exec("CREATE INDEX samples_object_t ON samples (object, t)").status());
  LOCUS_RETURN_IF_ERROR(conn_->Exec("ANALYZE samples").status());
  return copied;
}

Status W8Postgis::Prewarm() {
  LOCUS_RETURN_IF_ERROR(conn_->Exec("CREATE EXTENSION IF NOT EXISTS pg_prewarm").status());
  return conn_
      ->Exec(
          "SELECT pg_prewarm('samples'), pg_prewarm('samples_geom_nd'), "
          "pg_prewarm('samples_object_t')")
      .status();
}

const std::string& W8Postgis::Sql(W8Row row) {
  static const std::string kSql[] = {kTrajectorySql, kPassedThroughSql, kSliceSql, kEncountersSql};
  return kSql[static_cast<int>(row)];
}

Status W8Postgis::Prepare() {
  for (W8Row row : {W8Row::kTrajectory, W8Row::kPassedThrough, W8Row::kSlice, W8Row::kEncounters}) {
    LOCUS_RETURN_IF_ERROR(conn_->Prepare(StatementName(row), Sql(row)));
  }
  return Status();
}

std::vector<std::string> W8Postgis::Params(const W8TrajectoryQuery& q) {
  return {std::to_string(q.object), std::to_string(q.begin_ms), std::to_string(q.end_ms)};
}

std::vector<std::string> W8Postgis::Params(const W8PassedThroughQuery& q) {
  return {Text(q.box.min_lon), Text(q.box.min_lat),        Text(q.box.max_lon),
          Text(q.box.max_lat), std::to_string(q.begin_ms), std::to_string(q.end_ms)};
}

std::vector<std::string> W8Postgis::Params(const W8SliceQuery& q) {
  // 5% over the top step: rounding, and the walk's projection scale across the area.
  const LonLatBox grown = ExpandBox(q.region, 1.05 * kW8MaxStepMetres);
  return {Text(q.region.min_lon), Text(q.region.min_lat), Text(q.region.max_lon),
          Text(q.region.max_lat), std::to_string(q.t_ms), Text(grown.min_lon),
          Text(grown.min_lat),    Text(grown.max_lon),    Text(grown.max_lat)};
}

std::vector<std::string> W8Postgis::Params(const W8EncounterQuery& q) {
  // The distance in degrees where a metre spans the most longitude in the area, plus 1%.
  const LonLatBox area = W8Area();
  const LonLatBox grown = ExpandBox({0, area.max_lat, 0, area.max_lat}, 1.01 * q.distance_metres);
  return {std::to_string(q.begin_ms), std::to_string(q.end_ms), Text(q.distance_metres),
          Text(grown.max_lon), Text(grown.max_lat - area.max_lat)};
}

Result<PgResult> W8Postgis::Run(W8Row row, const std::vector<std::string>& params) {
  return conn_->ExecPrepared(StatementName(row), params);
}

std::vector<HistorySample> W8Postgis::DecodeTrajectory(const PgResult& r, uint32_t object) {
  std::vector<HistorySample> out;
  for (int i = 0; i < r.rows(); ++i) {
    out.push_back({object, Parse<int64_t>(r.Get(i, 0)), Parse<double>(r.Get(i, 1)),
                   Parse<double>(r.Get(i, 2))});
  }
  return out;
}

std::vector<W8Passed> W8Postgis::DecodePassedThrough(const PgResult& r) {
  std::vector<W8Passed> out;
  for (int i = 0; i < r.rows(); ++i) {
    out.push_back({Parse<uint32_t>(r.Get(i, 0)), Parse<int64_t>(r.Get(i, 1))});
  }
  return out;
}

std::vector<HistorySample> W8Postgis::DecodeSlice(const PgResult& r, int64_t t_ms) {
  std::vector<HistorySample> out;
  for (int i = 0; i < r.rows(); ++i) {
    out.push_back({Parse<uint32_t>(r.Get(i, 0)), t_ms, Parse<double>(r.Get(i, 1)),
                   Parse<double>(r.Get(i, 2))});
  }
  return out;
}

std::vector<W8Encounter> W8Postgis::DecodeEncounters(const PgResult& r) {
  std::vector<W8Encounter> out;
  for (int i = 0; i < r.rows(); ++i) {
    out.push_back({Parse<uint32_t>(r.Get(i, 0)), Parse<uint32_t>(r.Get(i, 1)),
                   Parse<int64_t>(r.Get(i, 2)), Parse<int64_t>(r.Get(i, 3))});
  }
  return out;
}

}  // namespace locus::perf
