// libFuzzer target for GeoJSON import and the metadata JSON helpers (locus/db_json.h). Each
// input is read:
//   - as a GeoJSON document, into a geographic and into a planar 3D namespace (the latter
//     with a default timestamp). A rejection must be an InvalidArgument (anything else means
//     an exception escaped the parser's handling). An accepted document must export, and the
//     export (compact, and pretty-printed with every altitude) must import back to the same
//     objects, bit for bit;
//   - as GeoJSON trajectories (TrajectoriesFromGeoJson), geographic and planar, with the same
//     obligations: InvalidArgument or trajectories that export and import back bit for bit;
//   - as the metadata bytes of one object: export then import must give them back exactly,
//     and metadata that parses as JSON must survive SetMetadataJson -> MetadataJson.
// Nothing may crash, hang, or trip ASan/UBSan.
//
// Build and run: see .ci/run (clang, -DLOCUS_BUILD_FUZZERS=ON); seeds in corpus/geojson.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "locus/db_json.h"

namespace {

using locus::CoordinateSystem;
using locus::GeoJsonExportOptions;
using locus::GeoJsonImportOptions;
using locus::Object;
using locus::StatusCode;

bool SameBits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

bool Same(const Object& a, const Object& b) {
  return a.id == b.id && SameBits(a.pos.x, b.pos.x) && SameBits(a.pos.y, b.pos.y) &&
         SameBits(a.pos.z, b.pos.z) && a.timestamp == b.timestamp && a.metadata == b.metadata &&
         a.expires_at == b.expires_at && a.ttl_ms == b.ttl_ms;
}

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

bool SameTrajectory(const locus::ObjectTrajectory& a, const locus::ObjectTrajectory& b) {
  if (a.id != b.id || a.samples.size() != b.samples.size()) return false;
  for (size_t i = 0; i < a.samples.size(); ++i) {
    const locus::Sample& x = a.samples[i];
    const locus::Sample& y = b.samples[i];
    if (x.t != y.t || !SameBits(x.pos.x, y.pos.x) || !SameBits(x.pos.y, y.pos.y) ||
        !SameBits(x.pos.z, y.pos.z) || x.metadata != y.metadata) {
      return false;
    }
  }
  return true;
}

// Export `objects`, import the text back: the same objects.
void RoundTrip(const std::vector<Object>& objects, CoordinateSystem cs,
               const GeoJsonExportOptions& out) {
  auto text = locus::ToGeoJson(objects, out);
  Check(text.ok());
  GeoJsonImportOptions in;
  in.coordinates = cs;
  in.max_input_bytes = std::numeric_limits<size_t>::max();
  auto back = locus::FromGeoJson(*text, in);
  Check(back.ok());
  Check(back->size() == objects.size());
  for (size_t i = 0; i < objects.size(); ++i) Check(Same((*back)[i], objects[i]));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  for (CoordinateSystem cs : {CoordinateSystem::kGeographic, CoordinateSystem::kPlanar3D}) {
    GeoJsonImportOptions in;
    in.coordinates = cs;
    if (cs == CoordinateSystem::kPlanar3D) in.default_timestamp = 7;
    in.max_input_bytes = 1 << 20;
    auto objects = locus::FromGeoJson(text, in);
    if (!objects.ok()) {
      Check(objects.status().code() == StatusCode::kInvalidArgument);
      continue;
    }
    RoundTrip(*objects, cs, {});
    RoundTrip(*objects, cs, {.always_altitude = true, .indent = 2});
  }

  for (CoordinateSystem cs : {CoordinateSystem::kGeographic, CoordinateSystem::kPlanar2D}) {
    GeoJsonImportOptions in;
    in.coordinates = cs;
    in.max_input_bytes = 1 << 20;
    auto trajectories = locus::TrajectoriesFromGeoJson(text, in);
    if (!trajectories.ok()) {
      Check(trajectories.status().code() == StatusCode::kInvalidArgument);
      continue;
    }
    for (const GeoJsonExportOptions& out :
         {GeoJsonExportOptions{}, GeoJsonExportOptions{.always_altitude = true, .indent = 2}}) {
      auto exported = locus::ToGeoJson(*trajectories, out);
      Check(exported.ok());
      in.max_input_bytes = std::numeric_limits<size_t>::max();
      auto back = locus::TrajectoriesFromGeoJson(*exported, in);
      Check(back.ok() && back->size() == trajectories->size());
      for (size_t i = 0; i < back->size(); ++i) {
        Check(SameTrajectory((*back)[i], (*trajectories)[i]));
      }
    }
  }

  // The input as opaque metadata: "metadata", "metadata_text" or "metadata_base64".
  Object o;
  o.id = "m";
  o.pos = {1, 2, 0};
  o.timestamp = 3;
  o.metadata.assign(text);
  RoundTrip({o}, CoordinateSystem::kGeographic, {});

  auto meta = locus::MetadataJson(o);
  if (!meta.ok()) {
    Check(meta.status().code() == StatusCode::kInvalidArgument);
    return 0;
  }
  // dump() and operator== recurse: keep the value shallow enough for the stack.
  size_t brackets = 0;
  for (char c : text) brackets += c == '[' || c == '{';
  if (brackets > 512) return 0;
  Object again;
  again.id = "m";
  Check(locus::SetMetadataJson(again, *meta).ok());  // parsed JSON is always textable
  auto back = locus::MetadataJson(again);
  Check(back.ok());
  Check(*back == *meta);
  return 0;
}
