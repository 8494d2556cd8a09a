// Scalar references for kernels/hilbert.h: the textbook algorithms, written for clarity
// rather than speed, independent of the bit-twiddling the SIMD kernels use. Compiled with
// -ffp-contract=off like the kernels, so quantisation is bit-identical to them.
#include <cstddef>
#include <cstdint>
#include <utility>

#include "kernels/hilbert.h"

namespace locus::kernels::reference {

// The classic xy2d loop: at each scale s (top bit first) the quadrant (rx, ry) contributes
// s^2 * ((3 * rx) ^ ry) to the index, then the remaining low bits are rotated/flipped into
// the quadrant's frame so the sub-curve is entered at its start. At order 16 this is exactly
// the curve of rawrunprotected's branch-free routine (and so flatbush's).
uint32_t HilbertKey2(uint32_t x, uint32_t y) {
  x &= kHilbertMaxCoord;
  y &= kHilbertMaxCoord;
  uint64_t d = 0;
  for (uint32_t s = 1u << 15; s > 0; s >>= 1) {
    const uint32_t rx = (x & s) ? 1 : 0;
    const uint32_t ry = (y & s) ? 1 : 0;
    d += uint64_t{s} * s * ((3 * rx) ^ ry);
    if (ry == 0) {
      if (rx == 1) {  // flip the lower bits
        x = (s - 1) - (x & (s - 1));
        y = (s - 1) - (y & (s - 1));
      }
      std::swap(x, y);
    }
  }
  return static_cast<uint32_t>(d);
}

// Skilling's AxesToTranspose for n = 3, b = 16, then the transposed bits read out most
// significant first (x[0]'s bit, x[1]'s, x[2]'s per level).
uint64_t HilbertKey3(uint32_t x, uint32_t y, uint32_t z) {
  constexpr int kDims = 3;
  uint32_t X[kDims] = {x & kHilbertMaxCoord, y & kHilbertMaxCoord, z & kHilbertMaxCoord};
  const uint32_t m = 1u << 15;
  // Inverse undo.
  for (uint32_t q = m; q > 1; q >>= 1) {
    const uint32_t p = q - 1;
    for (int i = 0; i < kDims; ++i) {
      if (X[i] & q) {
        X[0] ^= p;  // invert
      } else {      // exchange
        const uint32_t t = (X[0] ^ X[i]) & p;
        X[0] ^= t;
        X[i] ^= t;
      }
    }
  }
  // Gray encode.
  for (int i = 1; i < kDims; ++i) X[i] ^= X[i - 1];
  uint32_t t = 0;
  for (uint32_t q = m; q > 1; q >>= 1) {
    if (X[kDims - 1] & q) t ^= q - 1;
  }
  for (int i = 0; i < kDims; ++i) X[i] ^= t;
  // Transpose -> key.
  uint64_t key = 0;
  for (int bit = 15; bit >= 0; --bit) {
    for (int i = 0; i < kDims; ++i) key = (key << 1) | ((X[i] >> bit) & 1u);
  }
  return key;
}

template <typename T>
uint32_t HilbertQuantize(T c, T min, T scale) {
  const T q = (c - min) * scale;
  if (!(q == q)) return 0;  // NaN
  if (q <= T(0)) return 0;
  if (q >= T(kHilbertMaxCoord)) return kHilbertMaxCoord;
  return static_cast<uint32_t>(q);  // truncation
}

void HilbertKeys2FromInts(const uint32_t* xq, const uint32_t* yq, size_t n, uint32_t* out) {
  for (size_t i = 0; i < n; ++i) out[i] = HilbertKey2(xq[i], yq[i]);
}

template <typename T>
void HilbertKeys2(const T* cx, const T* cy, size_t n, const Box2T<T>& e, uint32_t* out) {
  const T sx = HilbertScale(e.min_x, e.max_x);
  const T sy = HilbertScale(e.min_y, e.max_y);
  for (size_t i = 0; i < n; ++i) {
    out[i] = HilbertKey2(HilbertQuantize(cx[i], e.min_x, sx), HilbertQuantize(cy[i], e.min_y, sy));
  }
}

void HilbertKeys3FromInts(const uint32_t* xq, const uint32_t* yq, const uint32_t* zq, size_t n,
                          uint64_t* out) {
  for (size_t i = 0; i < n; ++i) out[i] = HilbertKey3(xq[i], yq[i], zq[i]);
}

template <typename T>
void HilbertKeys3(const T* cx, const T* cy, const T* cz, size_t n, const Box3T<T>& e,
                  uint64_t* out) {
  const T sx = HilbertScale(e.min_x, e.max_x);
  const T sy = HilbertScale(e.min_y, e.max_y);
  const T sz = HilbertScale(e.min_z, e.max_z);
  for (size_t i = 0; i < n; ++i) {
    out[i] = HilbertKey3(HilbertQuantize(cx[i], e.min_x, sx), HilbertQuantize(cy[i], e.min_y, sy),
                         HilbertQuantize(cz[i], e.min_z, sz));
  }
}

#define LOCUS_INSTANTIATE(T)                                                             \
  template uint32_t HilbertQuantize<T>(T, T, T);                                         \
  template void HilbertKeys2<T>(const T*, const T*, size_t, const Box2T<T>&, uint32_t*); \
  template void HilbertKeys3<T>(const T*, const T*, const T*, size_t, const Box3T<T>&, uint64_t*);
LOCUS_INSTANTIATE(float)
LOCUS_INSTANTIATE(double)
#undef LOCUS_INSTANTIATE

}  // namespace locus::kernels::reference
