// Hilbert keys over column batches (kernel family 6): 2D keys on flatbush's curve and 3D
// keys on Skilling's curve, from quantised integer coordinates or from float/double centres
// quantised against an extent.
//
// Common contract for every function here:
// - Columns: separate columns of n values (x, y[, z]); uint32 for the *FromInts entries,
//   float or double otherwise. Outputs: n keys, uint32 (2D) or uint64 (3D).
// - Padding: every input column must be readable kColumnPaddingElements (16) elements past
//   n (kernels/column.h); the padding values never affect a result. No alignment is
//   required. n == 0 is allowed. The kernels write exactly out[0, n) (tails go through a
//   stack buffer) and never read outputs. Outputs must not alias inputs.
// - Exactness: keys are integers computed with integer operations, and quantisation is
//   IEEE arithmetic in T in a fixed order with no fused multiply-add, so every target
//   returns exactly what the scalar reference in namespace `reference` returns, bit for
//   bit (the tests check this on every compiled target).
//
// 2D curve. HilbertKeys2FromInts maps (x, y), 16 bits each, to a 32-bit key with the
// branch-free "fast Hilbert curve" routine by rawrunprotected (hilbert_curves, public
// domain) that mourner/flatbush ports in index.js. Its curve IS the textbook one: the key
// equals the classic rotate-and-flip xy2d loop (Wikipedia "Hilbert curve") at order 16 with
// the same (x, y) argument order, no swap or flip (reference::HilbertKey2 is that loop; the
// tests check both against a transcription of flatbush's routine). The curve starts at
// (0, 0) and ends at (65535, 0); the top level visits the quadrants (low x, low y) ->
// (low x, high y) -> (high x, high y) -> (high x, low y), and since the orientation
// alternates per level, the first unit steps are (0, 0) -> (1, 0) -> (1, 1) -> (0, 1).
// flatbush stores the same number: older releases in a Uint32Array (`key >>> 0`), its current
// index.js in an Int32Array as `key - 2^31`, which orders identically.
//
// 3D curve. HilbertKeys3FromInts maps (x, y, z), 16 bits each, to a 48-bit key (bits 48..63
// are zero) with Skilling's transform ("Programming the Hilbert curve", AIP Conf. Proc. 707,
// 2004: AxesToTranspose with n = 3 dims, b = 16 bits) followed by interleaving the transposed
// bits most significant first, x's bit above y's above z's. The curve starts at (0, 0, 0).
//
// Properties both curves have (tested independently of any implementation): on the 2^k grid
// placed in the top k bits of each axis, key >> (bits - dims * k) is a bijection onto
// [0, 2^(dims * k)) and cells with consecutive keys are unit neighbours; the same holds for
// the 2^k grid at the low corner (coordinates 0 .. 2^k - 1) with the keys themselves.
//
// Integer inputs: only the low 16 bits of each coordinate are used (REQUIRES, in spirit:
// coordinates < 2^16; higher bits are masked off, never mixed into the key).
//
// Quantisation (the float/double entries), per axis, as flatbush does it (index.js finish()):
//   width = extent.max - extent.min, replaced by 1 when it is 0 (or NaN), as flatbush's `|| 1`
//   scale = 65535 / width                              (computed once, in T)
//   q     = (c - extent.min) * scale                   (in T, no FMA)
//   q     = NaN -> 0; then clamped to [0, 65535]; then truncated toward zero.
// So: a centre NaN maps to 0 (the extent minimum, like flatbush's `NaN | 0`), -inf and anything
// below the extent maps to 0, +inf and anything above maps to 65535, extent.min maps to 0, and
// extent.max maps to floor(scale * width), which is 65535 or, when 65535 / width rounded down,
// 65534 (flatbush has the same quirk). With a zero-width axis every centre on that axis maps to
// (c - min) * 65535 clamped, i.e. 0 for c == min. For double inputs this reproduces flatbush
// bit for bit given the same centres and extent (flatbush's current code computes
// `(sx * (centre - minX)) | 0` with `sx = 65535 / width`; older releases computed
// `floor(65535 * (centre - minX) / width)`, which can differ by one quantum at rounding
// boundaries; the multiply was kept because it needs no division per coordinate). For float inputs
// the same formula runs in float, so a float key can differ by one quantum from a key computed from
// the same values in double. REQUIRES: the extent is finite with min <= max per axis (otherwise
// keys are still defined by the formula above, clamped, but meaningless).
//
// Thread safety: pure functions; safe to call concurrently.
#ifndef LOCUS_KERNELS_HILBERT_H_
#define LOCUS_KERNELS_HILBERT_H_

#include <cstddef>
#include <cstdint>

#include "kernels/types.h"

namespace locus::kernels {

// The largest quantised coordinate: keys use 16 bits per axis.
inline constexpr uint32_t kHilbertMaxCoord = 65535;

// Returns the per-axis quantisation scale 65535 / width, with width 0 (or NaN) replaced by 1.
// Shared by the kernels and the reference so that both use the very same scale.
template <typename T>
inline T HilbertScale(T min, T max) {
  T width = max - min;
  if (width == T(0) || width != width) width = T(1);
  return T(kHilbertMaxCoord) / width;
}

// Writes the 2D Hilbert key of (xq[i], yq[i]) to out[i] for i < n.
void HilbertKeys2FromInts(const uint32_t* xq, const uint32_t* yq, size_t n, uint32_t* out);

// Quantises the centres (cx[i], cy[i]) against `extent` (see above) and writes their 2D keys.
void HilbertKeys2(const float* cx, const float* cy, size_t n, const Box2T<float>& extent,
                  uint32_t* out);
void HilbertKeys2(const double* cx, const double* cy, size_t n, const Box2T<double>& extent,
                  uint32_t* out);

// Writes the 48-bit 3D Hilbert key of (xq[i], yq[i], zq[i]) to out[i] for i < n.
void HilbertKeys3FromInts(const uint32_t* xq, const uint32_t* yq, const uint32_t* zq, size_t n,
                          uint64_t* out);

// Quantises the centres (cx[i], cy[i], cz[i]) against `extent` and writes their 3D keys.
void HilbertKeys3(const float* cx, const float* cy, const float* cz, size_t n,
                  const Box3T<float>& extent, uint64_t* out);
void HilbertKeys3(const double* cx, const double* cy, const double* cz, size_t n,
                  const Box3T<double>& extent, uint64_t* out);

// Scalar references: the test oracles, written for clarity.
namespace reference {

// Returns the 2D key of (x, y) (low 16 bits of each) by the textbook rotate-and-flip loop.
uint32_t HilbertKey2(uint32_t x, uint32_t y);
// Returns the 3D key of (x, y, z) (low 16 bits of each) by Skilling's loops, with branches.
uint64_t HilbertKey3(uint32_t x, uint32_t y, uint32_t z);
// Returns the quantised coordinate of c (see "Quantisation" above); scale from HilbertScale.
template <typename T>
uint32_t HilbertQuantize(T c, T min, T scale);

// The batch entry points, with the same signatures and contracts as above.
void HilbertKeys2FromInts(const uint32_t* xq, const uint32_t* yq, size_t n, uint32_t* out);
template <typename T>
void HilbertKeys2(const T* cx, const T* cy, size_t n, const Box2T<T>& extent, uint32_t* out);
void HilbertKeys3FromInts(const uint32_t* xq, const uint32_t* yq, const uint32_t* zq, size_t n,
                          uint64_t* out);
template <typename T>
void HilbertKeys3(const T* cx, const T* cy, const T* cz, size_t n, const Box3T<T>& extent,
                  uint64_t* out);

}  // namespace reference

}  // namespace locus::kernels

#endif  // LOCUS_KERNELS_HILBERT_H_
