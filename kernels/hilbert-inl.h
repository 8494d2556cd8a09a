// Per-target implementation of kernels/hilbert.h. Included once per Highway target by
// hilbert.cc; other kernels may include it for the vector cores (for example to key blocks
// while packing a tree) from namespace locus::kernels::HWY_NAMESPACE.
//
// Everything runs on 32-bit lanes: the 2D routine is pure shifts/xor/and/or on 16-bit values,
// and Skilling's 3D transform is 15 levels that are the same for every lane (its branches
// become per-lane selects), so a whole vector of Lanes(u32) points is keyed at once (two
// vectors at once in 3D, to hide latency). The 48-bit 3D key is produced as two u32 halves and
// widened to u64 only at the store. Float/double centres are quantised in T and narrowed to
// u32 lanes; for double, two f64 vectors fill one u32 vector so the integer work runs at full
// width.

#if defined(LOCUS_KERNELS_HILBERT_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef LOCUS_KERNELS_HILBERT_INL_H_
#undef LOCUS_KERNELS_HILBERT_INL_H_
#else
#define LOCUS_KERNELS_HILBERT_INL_H_
#endif

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "hwy/highway.h"
#include "kernels/hilbert.h"
#include "kernels/types.h"

HWY_BEFORE_NAMESPACE();
namespace locus::kernels {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// ---- 2D: the fast Hilbert routine on u32 lanes -------------------------------------------

// Spreads the low 16 bits of each lane to the even bits (bit i -> bit 2i).
template <class DU, class VU = hn::Vec<DU>>
HWY_INLINE VU SpreadBits2(DU du, VU v) {
  v = hn::And(hn::Or(v, hn::ShiftLeft<8>(v)), hn::Set(du, 0x00FF00FFu));
  v = hn::And(hn::Or(v, hn::ShiftLeft<4>(v)), hn::Set(du, 0x0F0F0F0Fu));
  v = hn::And(hn::Or(v, hn::ShiftLeft<2>(v)), hn::Set(du, 0x33333333u));
  v = hn::And(hn::Or(v, hn::ShiftLeft<1>(v)), hn::Set(du, 0x55555555u));
  return v;
}

// Returns the 2D keys of (x, y). REQUIRES: every lane of x and y < 2^16.
// The routine computes, for all 16 levels at once, the curve's state (whether the frame is
// swapped/flipped) with a parallel prefix over the bits (steps 1, 2, 4, 8), then the two bits
// of each level's digit, and interleaves them (i1 at odd, i0 at even bits).
template <class DU, class VU = hn::Vec<DU>>
HWY_INLINE VU HilbertKey2Vec(DU du, VU x, VU y) {
  const VU k16 = hn::Set(du, 0xFFFFu);
  VU a = hn::Xor(x, y);
  VU b = hn::Xor(k16, a);
  VU c = hn::Xor(k16, hn::Or(x, y));
  VU d = hn::AndNot(y, x);  // x & ~y == x & (y ^ 0xFFFF) for 16-bit y

  VU A = hn::Or(a, hn::ShiftRight<1>(b));
  VU B = hn::Xor(hn::ShiftRight<1>(a), a);
  VU C = hn::Xor(c, hn::Xor(hn::ShiftRight<1>(c), hn::And(b, hn::ShiftRight<1>(d))));
  VU D = hn::Xor(d, hn::Xor(hn::And(a, hn::ShiftRight<1>(c)), hn::ShiftRight<1>(d)));

  a = A, b = B, c = C, d = D;
  A = hn::Xor(hn::And(a, hn::ShiftRight<2>(a)), hn::And(b, hn::ShiftRight<2>(b)));
  B = hn::Xor(hn::And(a, hn::ShiftRight<2>(b)), hn::And(b, hn::ShiftRight<2>(hn::Xor(a, b))));
  C = hn::Xor(C, hn::Xor(hn::And(a, hn::ShiftRight<2>(c)), hn::And(b, hn::ShiftRight<2>(d))));
  D = hn::Xor(
      D, hn::Xor(hn::And(b, hn::ShiftRight<2>(c)), hn::And(hn::Xor(a, b), hn::ShiftRight<2>(d))));

  a = A, b = B, c = C, d = D;
  A = hn::Xor(hn::And(a, hn::ShiftRight<4>(a)), hn::And(b, hn::ShiftRight<4>(b)));
  B = hn::Xor(hn::And(a, hn::ShiftRight<4>(b)), hn::And(b, hn::ShiftRight<4>(hn::Xor(a, b))));
  C = hn::Xor(C, hn::Xor(hn::And(a, hn::ShiftRight<4>(c)), hn::And(b, hn::ShiftRight<4>(d))));
  D = hn::Xor(
      D, hn::Xor(hn::And(b, hn::ShiftRight<4>(c)), hn::And(hn::Xor(a, b), hn::ShiftRight<4>(d))));

  a = A, b = B, c = C, d = D;
  C = hn::Xor(C, hn::Xor(hn::And(a, hn::ShiftRight<8>(c)), hn::And(b, hn::ShiftRight<8>(d))));
  D = hn::Xor(
      D, hn::Xor(hn::And(b, hn::ShiftRight<8>(c)), hn::And(hn::Xor(a, b), hn::ShiftRight<8>(d))));

  a = hn::Xor(C, hn::ShiftRight<1>(C));
  b = hn::Xor(D, hn::ShiftRight<1>(D));

  const VU i0 = hn::Xor(x, y);
  const VU i1 = hn::Or(b, hn::Xor(k16, hn::Or(i0, a)));
  return hn::Or(hn::ShiftLeft<1>(SpreadBits2(du, i1)), SpreadBits2(du, i0));
}

// ---- 3D: Skilling's transform on u32 lanes ------------------------------------------------

// Spreads the low 8 bits of each lane to every third bit (bit i -> bit 3i, up to bit 21).
template <class DU, class VU = hn::Vec<DU>>
HWY_INLINE VU SpreadBits3Of8(DU du, VU v) {
  v = hn::And(v, hn::Set(du, 0xFFu));
  v = hn::And(hn::Or(v, hn::ShiftLeft<8>(v)), hn::Set(du, 0x0000F00Fu));
  v = hn::And(hn::Or(v, hn::ShiftLeft<4>(v)), hn::Set(du, 0x000C30C3u));
  v = hn::And(hn::Or(v, hn::ShiftLeft<2>(v)), hn::Set(du, 0x00249249u));
  return v;
}

// Returns yes where s is negative, else no. One blendvps on AVX2/SSE4 (a masked move on
// AVX3); on SCALAR it is spelled with bit operations, because the emulated select compiles to
// a branch, and these branches are on data bits (unpredictable: 3.6x slower, measured).
template <class VI>
HWY_INLINE VI SelectNegative(VI s, VI yes, VI no) {
#if HWY_TARGET == HWY_SCALAR
  const VI m = hn::ShiftRight<31>(s);  // arithmetic: all ones where negative
  return hn::Or(hn::And(m, yes), hn::AndNot(m, no));
#else
  return hn::IfNegativeThenElse(s, yes, no);
#endif
}

// One level q = 2^bit (1 <= bit <= 15; p = q - 1) of Skilling's "inverse undo": for each
// axis in order x, y, z, if the axis has bit q, invert x's bits below q, else exchange the
// bits below q of x and the axis. Each branch of the scalar loop becomes a per-lane select on
// the sign bit of the axis shifted so that bit q lands there (reference::HilbertKey3 keeps
// the branches); signed lanes, for IfNegativeThenElse. The shift count is a run-time value:
// a loop of 15 small bodies compiles quickly also under ASan, where the fully unrolled
// version took minutes, and runs as fast.
template <class VI>
HWY_INLINE void SkillingLevel(int up, VI p, VI& x, VI& y, VI& z) {
  // x: the exchange with itself is a no-op, so only the inversion remains.
  x = SelectNegative(hn::ShiftLeftSame(x, up), hn::Xor(x, p), x);
  const VI sy = hn::ShiftLeftSame(y, up);
  VI t = hn::And(hn::Xor(x, y), p);
  x = hn::Xor(x, SelectNegative(sy, p, t));
  y = SelectNegative(sy, y, hn::Xor(y, t));
  const VI sz = hn::ShiftLeftSame(z, up);
  t = hn::And(hn::Xor(x, z), p);
  x = hn::Xor(x, SelectNegative(sz, p, t));
  z = SelectNegative(sz, z, hn::Xor(z, t));
}

// Runs the 15 levels, top bit first, on one set of points.
template <class DI, class VI = hn::Vec<DI>>
HWY_INLINE void SkillingLevels(DI di, VI& x, VI& y, VI& z) {
  for (int bit = 15; bit >= 1; --bit) {
    SkillingLevel(31 - bit, hn::Set(di, (int32_t{1} << bit) - 1), x, y, z);
  }
}

// As SkillingLevels on two independent sets, level by level. Each set's 15 levels are one
// long dependency chain (every step feeds x to the next), so a single vector is
// latency-bound; interleaving two chains gave 1.8x the throughput (measured on AVX2 and
// AVX3). Explicit variables rather than arrays keep this valid for sizeless vector types
// (SVE, RVV).
template <class DI, class VI = hn::Vec<DI>>
HWY_INLINE void SkillingLevels2(DI di, VI& xa, VI& ya, VI& za, VI& xb, VI& yb, VI& zb) {
  for (int bit = 15; bit >= 1; --bit) {
    const VI p = hn::Set(di, (int32_t{1} << bit) - 1);
    SkillingLevel(31 - bit, p, xa, ya, za);
    SkillingLevel(31 - bit, p, xb, yb, zb);
  }
}

// The rest of Skilling's transform after the 15 levels (Gray encode), then the transposed
// bits interleaved into the key: *lo = key bits 0..31, *hi = key bits 32..47.
template <class DU, class VU = hn::Vec<DU>>
HWY_INLINE void SkillingFinish(DU du, VU x, VU y, VU z, VU* HWY_RESTRICT lo, VU* HWY_RESTRICT hi) {
  y = hn::Xor(y, x);
  z = hn::Xor(z, y);
  // t's bit k is the parity of z's bits above k (the scalar loop's t ^= q - 1 for each set
  // bit q > 1 of z): a prefix xor from the top over 15 bits.
  VU t = hn::ShiftRight<1>(z);
  t = hn::Xor(t, hn::ShiftRight<1>(t));
  t = hn::Xor(t, hn::ShiftRight<2>(t));
  t = hn::Xor(t, hn::ShiftRight<4>(t));
  t = hn::Xor(t, hn::ShiftRight<8>(t));
  x = hn::Xor(x, t);
  y = hn::Xor(y, t);
  z = hn::Xor(z, t);
  // Interleave: each byte of the transpose gives 24 key bits (x's bit above y's above z's).
  const VU lo24 = hn::Or(
      hn::Or(hn::ShiftLeft<2>(SpreadBits3Of8(du, x)), hn::ShiftLeft<1>(SpreadBits3Of8(du, y))),
      SpreadBits3Of8(du, z));
  const VU hi24 = hn::Or(hn::Or(hn::ShiftLeft<2>(SpreadBits3Of8(du, hn::ShiftRight<8>(x))),
                                hn::ShiftLeft<1>(SpreadBits3Of8(du, hn::ShiftRight<8>(y)))),
                         SpreadBits3Of8(du, hn::ShiftRight<8>(z)));
  *lo = hn::Or(lo24, hn::ShiftLeft<24>(hi24));
  *hi = hn::ShiftRight<8>(hi24);
}

// Computes the 48-bit 3D keys of (x, y, z): *lo = key bits 0..31, *hi = key bits 32..47.
// REQUIRES: every lane of x, y and z < 2^16.
template <class DU, class VU = hn::Vec<DU>>
HWY_INLINE void HilbertKey3Vec(DU du, VU x, VU y, VU z, VU* HWY_RESTRICT lo, VU* HWY_RESTRICT hi) {
  const hn::RebindToSigned<DU> di;
  auto sx = hn::BitCast(di, x), sy = hn::BitCast(di, y), sz = hn::BitCast(di, z);
  SkillingLevels(di, sx, sy, sz);
  SkillingFinish(du, hn::BitCast(du, sx), hn::BitCast(du, sy), hn::BitCast(du, sz), lo, hi);
}

// As HilbertKey3Vec for two independent vectors at once (see SkillingLevels2).
template <class DU, class VU = hn::Vec<DU>>
HWY_INLINE void HilbertKey3Vec2(DU du, VU xa, VU ya, VU za, VU xb, VU yb, VU zb,
                                VU* HWY_RESTRICT lo_a, VU* HWY_RESTRICT hi_a, VU* HWY_RESTRICT lo_b,
                                VU* HWY_RESTRICT hi_b) {
  const hn::RebindToSigned<DU> di;
  auto sxa = hn::BitCast(di, xa), sya = hn::BitCast(di, ya), sza = hn::BitCast(di, za);
  auto sxb = hn::BitCast(di, xb), syb = hn::BitCast(di, yb), szb = hn::BitCast(di, zb);
  SkillingLevels2(di, sxa, sya, sza, sxb, syb, szb);
  SkillingFinish(du, hn::BitCast(du, sxa), hn::BitCast(du, sya), hn::BitCast(du, sza), lo_a, hi_a);
  SkillingFinish(du, hn::BitCast(du, sxb), hn::BitCast(du, syb), hn::BitCast(du, szb), lo_b, hi_b);
}

// Stores the Lanes(du) keys lo | hi << 32 to out (Lanes(du) uint64).
template <class DU, class VU = hn::Vec<DU>>
HWY_INLINE void StoreKeys64(DU du, VU lo, VU hi, uint64_t* HWY_RESTRICT out) {
#if HWY_TARGET == HWY_SCALAR
  (void)du;
  out[0] = uint64_t{hn::GetLane(lo)} | (uint64_t{hn::GetLane(hi)} << 32);
#else
  const hn::Half<DU> dh;
  const hn::Repartition<uint64_t, DU> d64;  // Lanes(du) / 2 lanes
  const auto key_lo = hn::Or(hn::PromoteTo(d64, hn::LowerHalf(dh, lo)),
                             hn::ShiftLeft<32>(hn::PromoteTo(d64, hn::LowerHalf(dh, hi))));
  const auto key_hi = hn::Or(hn::PromoteTo(d64, hn::UpperHalf(dh, lo)),
                             hn::ShiftLeft<32>(hn::PromoteTo(d64, hn::UpperHalf(dh, hi))));
  hn::StoreU(key_lo, d64, out);
  hn::StoreU(key_hi, d64, out + hn::Lanes(d64));
#endif
}

// ---- quantisation --------------------------------------------------------------------------

// Returns (c - min) * scale with NaN -> 0, clamped to [0, 65535]; still in T. The clamp
// runs after the NaN is gone, so it does not depend on how a target's Min/Max treat NaN.
template <class D, class V = hn::Vec<D>>
HWY_INLINE V QuantizeClamped(D d, V c, V min, V scale) {
  using T = hn::TFromD<D>;
  V q = hn::Mul(hn::Sub(c, min), scale);
  q = hn::IfThenElseZero(hn::Eq(q, q), q);
  return hn::Min(hn::Max(q, hn::Zero(d)), hn::Set(d, static_cast<T>(kHilbertMaxCoord)));
}

// One axis of the quantiser: the extent's minimum and scale, broadcast.
template <typename T>
struct Axis {
  const T* HWY_RESTRICT c;
  T min, scale;
};

// Returns the quantised coordinates of the Lanes(du) centres at i, as u32 lanes.
template <class DU>
HWY_INLINE hn::Vec<DU> Quantize(DU du, const Axis<float>& a, size_t i) {
  const hn::Rebind<float, DU> df;
  const hn::RebindToSigned<DU> di;
  const auto q =
      QuantizeClamped(df, hn::LoadU(df, a.c + i), hn::Set(df, a.min), hn::Set(df, a.scale));
  return hn::BitCast(du, hn::ConvertTo(di, q));  // truncates; q is in [0, 65535]
}
template <class DU>
HWY_INLINE hn::Vec<DU> Quantize(DU du, const Axis<double>& a, size_t i) {
  const hn::RebindToSigned<DU> di;
#if HWY_TARGET == HWY_SCALAR
  const hn::Rebind<double, DU> dd;
  const auto q =
      QuantizeClamped(dd, hn::LoadU(dd, a.c + i), hn::Set(dd, a.min), hn::Set(dd, a.scale));
  return hn::BitCast(du, hn::DemoteTo(di, q));
#else
  const hn::Repartition<double, DU> dd;  // Lanes(du) / 2 lanes
  const hn::Rebind<int32_t, decltype(dd)> dih;
  const auto vmin = hn::Set(dd, a.min);
  const auto vscale = hn::Set(dd, a.scale);
  const auto q0 = QuantizeClamped(dd, hn::LoadU(dd, a.c + i), vmin, vscale);
  const auto q1 = QuantizeClamped(dd, hn::LoadU(dd, a.c + i + hn::Lanes(dd)), vmin, vscale);
  return hn::BitCast(du, hn::Combine(di, hn::DemoteTo(dih, q1), hn::DemoteTo(dih, q0)));
#endif
}

// ---- drivers -------------------------------------------------------------------------------

// Runs key(du, i) -> keys for the Lanes(du) points at i over n points and stores u32 keys.
// Full vectors are stored directly; the partial tail goes through a stack buffer so nothing
// past out[n - 1] is written. Inputs are read whole vectors at a time (padding contract).
template <class DU, class KeyFn>
HWY_INLINE void RunKeys2(DU du, size_t n, const KeyFn& key, uint32_t* HWY_RESTRICT out) {
  const size_t N = hn::Lanes(du);
  size_t i = 0;
  for (; i + N <= n; i += N) hn::StoreU(key(du, i), du, out + i);
  if (i < n) {
    HWY_ALIGN uint32_t buf[hn::MaxLanes(du)];
    hn::Store(key(du, i), du, buf);
    std::memcpy(out + i, buf, (n - i) * sizeof(uint32_t));
  }
}

// Runs load(du, i, &x, &y, &z) (the Lanes(du) quantised points at i) over n points and
// stores their 48-bit keys as u64, two vectors per step (HilbertKey3Vec2), then the rest one
// vector at a time, the partial tail through a stack buffer.
template <class DU, class LoadFn>
HWY_INLINE void RunKeys3(DU du, size_t n, const LoadFn& load, uint64_t* HWY_RESTRICT out) {
  using VU = hn::Vec<DU>;
  const size_t N = hn::Lanes(du);
  size_t i = 0;
  for (; i + 2 * N <= n; i += 2 * N) {
    VU xa, ya, za, xb, yb, zb, lo_a, hi_a, lo_b, hi_b;
    load(du, i, &xa, &ya, &za);
    load(du, i + N, &xb, &yb, &zb);
    HilbertKey3Vec2(du, xa, ya, za, xb, yb, zb, &lo_a, &hi_a, &lo_b, &hi_b);
    StoreKeys64(du, lo_a, hi_a, out + i);
    StoreKeys64(du, lo_b, hi_b, out + i + N);
  }
  for (; i < n; i += N) {
    VU x, y, z, lo, hi;
    load(du, i, &x, &y, &z);
    HilbertKey3Vec(du, x, y, z, &lo, &hi);
    if (i + N <= n) {
      StoreKeys64(du, lo, hi, out + i);
    } else {
      HWY_ALIGN uint64_t buf[hn::MaxLanes(du)];
      StoreKeys64(du, lo, hi, buf);
      std::memcpy(out + i, buf, (n - i) * sizeof(uint64_t));
    }
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace locus::kernels
HWY_AFTER_NAMESPACE();

#endif  // include guard
