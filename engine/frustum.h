// Builds an engine::Frustum (engine/convex_region.h) from an Eigen view-projection matrix. Kept
// apart from packed_rtree.h so that only callers who use Eigen include it.
//
// Thread safety: pure function.
#ifndef LOCUS_ENGINE_FRUSTUM_H_
#define LOCUS_ENGINE_FRUSTUM_H_

#include <Eigen/Core>

#include "engine/convex_region.h"

namespace locus::engine {

// Returns the frustum of `view_projection` (clip = M * [x y z 1]^T, OpenGL clip convention:
// visible iff -w <= x, y, z <= w; see Frustum::FromColumnMajor). Planes are normalised.
inline Frustum FrustumFromViewProjection(const Eigen::Matrix4d& view_projection) {
  return Frustum::FromColumnMajor(view_projection.data());  // Matrix4d is column-major
}

}  // namespace locus::engine

#endif  // LOCUS_ENGINE_FRUSTUM_H_
