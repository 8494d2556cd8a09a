// Geographic coordinates on the unit sphere: the geometry that lets the database answer
// great-circle queries with the engine's plain 3D scans (DESIGN.md, "Geographic coordinates
// without trigonometry in the hot loop").
//
// A geographic namespace indexes each object's unit vector (UnitVector). A great-circle
// radius of r metres is then the chord 2 sin(r / 2R) (IndexRadiusSq) and a squared chord
// found by a scan converts back to metres (MetresOfSquaredChord). A lon/lat box becomes one
// or two 3D boxes around its piece of the sphere (SphereBoxes), which the index can prune
// with; the caller refines the candidates with the exact lon/lat test (InLonLatBox).
//
// Thread safety: pure functions.
#ifndef LOCUS_ENGINE_SPHERE_H_
#define LOCUS_ENGINE_SPHERE_H_

#include <array>
#include <cstddef>

namespace locus::engine {

// The unit vector of (lon, lat) in degrees, as kernels::LonLatToUnit computes it for a batch
// (bit-identical, so a point indexed by the batch kernel and one converted here agree).
std::array<double, 3> UnitVector(double lon, double lat);

// A great-circle distance in metres as the squared chord between the two unit vectors.
double SquaredChordOfMetres(double metres);
// The inverse: the great-circle metres of a squared chord.
double MetresOfSquaredChord(double chord_sq);

// The 3D box (on the unit sphere) holding every point of the lon/lat rectangle
// [west, east] x [south, north] (REQUIRES: west <= east, south <= north, degrees), padded
// for the rounding of the unit vectors (1e-12 per axis, far above it).
void SphereBox(double west, double east, double south, double north, std::array<double, 3>* lo,
               std::array<double, 3>* hi);

// A lon/lat box as the pieces the index can search: one piece, or two when west > east (a
// box across the antimeridian, as GeoJSON bounding boxes): [west, 180] and [-180, east].
struct SpherePiece {
  double west, east;             // the piece's longitude range (west <= east)
  std::array<double, 3> lo, hi;  // its SphereBox
};
// Writes the pieces of [west, east] x [south, north] to out[0..n) and returns n (1 or 2).
// REQUIRES: south <= north.
size_t SphereBoxes(double west, double east, double south, double north, SpherePiece out[2]);

// Whether (lon, lat) lies in the closed piece [west, east] x [south, north].
inline bool InLonLatBox(double lon, double lat, double west, double east, double south,
                        double north) {
  return lat >= south && lat <= north && lon >= west && lon <= east;
}

}  // namespace locus::engine

#endif  // LOCUS_ENGINE_SPHERE_H_
