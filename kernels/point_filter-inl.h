// Per-target implementation of kernels/point_filter.h (box, radius and row filters).
// Included once per Highway target by point_filter.cc; other kernels may include it to
// reuse the row-mask and id-emission helpers (namespace locus::kernels::HWY_NAMESPACE).
//
// Shape of every kernel: a predicate object produces a mask for the Lanes(d) rows at i
// (plus, for radius, the squared distances); the driver combines it with the row filter,
// then either counts (vector accumulator, 2x unrolled: this is the W1 hot loop) or
// left-packs ids with CompressStore. Full vectors use the fast compress path, which writes
// at most Lanes(d) entries starting at the current count (< i + Lanes(d) <= n); the one
// partial tail vector is emitted lane by lane so nothing past n is ever written.

#if defined(LOCUS_KERNELS_POINT_FILTER_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef LOCUS_KERNELS_POINT_FILTER_INL_H_
#undef LOCUS_KERNELS_POINT_FILTER_INL_H_
#else
#define LOCUS_KERNELS_POINT_FILTER_INL_H_
#endif

#include <cstddef>
#include <cstdint>

#include "hwy/highway.h"
#include "kernels/types.h"

HWY_BEFORE_NAMESPACE();
namespace locus::kernels {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Returns the int64 row-filter mask for the Lanes(d64) rows at i.
template <class D64>
HWY_INLINE hn::Mask<D64> RowMask64(D64 d64, const RowFilter& rows, size_t i) {
  auto m = hn::FirstN(d64, hn::Lanes(d64));  // all true
  if (rows.t) {
    // int64 has only < and > on every target: keep rows that are neither below nor above.
    const auto t = hn::LoadU(d64, rows.t + i);
    m = hn::AndNot(hn::Or(hn::Lt(t, hn::Set(d64, rows.t_min)), hn::Gt(t, hn::Set(d64, rows.t_max))),
                   m);
  }
  if (rows.expires) {
    m = hn::And(m, hn::Gt(hn::LoadU(d64, rows.expires + i), hn::Set(d64, rows.now)));
  }
  return m;
}

// Returns the row-filter mask for the Lanes(d) rows at i, as a mask over d's lanes.
// For 32-bit lanes this reads two int64 vectors and narrows their masks with ConcatEven.
template <class D>
HWY_INLINE hn::Mask<D> RowMask(D d, const RowFilter& rows, size_t i) {
  using T = hn::TFromD<D>;
  if constexpr (sizeof(T) == 8) {
    const hn::RebindToSigned<D> d64;
    return hn::RebindMask(d, RowMask64(d64, rows, i));
  } else {
    static_assert(sizeof(T) == 4, "32- or 64-bit lanes");
#if HWY_TARGET == HWY_SCALAR
    // One 32-bit lane cannot hold an int64: evaluate the single row directly.
    const bool pass =
        (!rows.t || (rows.t_min <= rows.t[i] && rows.t[i] <= rows.t_max)) &&
        (!rows.expires || rows.expires[i] > rows.now);
    return hn::FirstN(d, pass ? 1 : 0);
#else
    const hn::Repartition<int64_t, D> d64;
    const hn::RebindToSigned<D> d32;
    const size_t half = hn::Lanes(d64);
    const auto lo = hn::BitCast(d32, hn::VecFromMask(d64, RowMask64(d64, rows, i)));
    const auto hi = hn::BitCast(d32, hn::VecFromMask(d64, RowMask64(d64, rows, i + half)));
    return hn::RebindMask(d, hn::MaskFromVec(hn::ConcatEven(d32, hi, lo)));
#endif
  }
}

// Returns the lanes of `m` as bits, lane 0 in bit 0.
template <class D>
HWY_INLINE uint64_t MaskBits(D d, hn::Mask<D> m) {
  uint8_t bytes[8] = {0};
  hn::StoreMaskBits(d, m, bytes);
  uint64_t bits = 0;
  for (size_t b = 0; b < (hn::Lanes(d) + 7) / 8; ++b) bits |= uint64_t{bytes[b]} << (8 * b);
  return bits;
}

// Compress tables for vectors of N <= 8 lanes: entry `bits` holds, 4 bits per lane, the
// indices of the set lanes of `bits` in ascending order (the remaining lanes are don't-care).
// Why not hn::CompressStore: in Highway 1.0.3 its AVX2/SSE4 paths declare their index table
// as a non-static local constexpr array, which GCC copies onto the stack (1 KiB, rep movsq)
// on every call; that copy was 40% of an id-emitting scan. These tables are static.
template <size_t N>
struct CompressTable {
  uint32_t packed[size_t{1} << N];
};
template <size_t N>
constexpr CompressTable<N> MakeCompressTable() {
  CompressTable<N> table{};
  for (size_t bits = 0; bits < (size_t{1} << N); ++bits) {
    uint32_t packed = 0;
    size_t out = 0;
    for (size_t lane = 0; lane < N; ++lane) {
      if (bits & (size_t{1} << lane)) packed |= static_cast<uint32_t>(lane) << (4 * out++);
    }
    table.packed[bits] = packed;
  }
  return table;
}
template <size_t N>
inline constexpr CompressTable<N> kCompressTable = MakeCompressTable<N>();

// Stores the lanes of v selected by `bits` (lane 0 = bit 0) contiguously at out; may write
// Lanes(d) elements. Returns the number stored.
template <class D>
HWY_INLINE size_t CompressBitsStoreU(D d, hn::Vec<D> v, uint64_t bits,
                                     hn::TFromD<D>* HWY_RESTRICT out) {
  constexpr size_t kN = hn::MaxLanes(D());
  if constexpr (kN >= 2 && kN <= 8) {
    const hn::RebindToUnsigned<D> du;
    using TU = hn::TFromD<decltype(du)>;
    const auto packed = hn::Set(du, static_cast<TU>(kCompressTable<kN>.packed[bits]));
    const auto shifts = hn::ShiftLeft<2>(hn::Iota(du, 0));  // 4 bits per lane
    const auto idx = hn::And(hn::Shr(packed, shifts), hn::Set(du, TU{0xF}));
    hn::StoreU(hn::TableLookupLanes(v, hn::IndicesFromVec(d, idx)), d, out);
  } else {
    // AVX-512 (native compress, no table) and SCALAR.
    uint8_t bytes[8];
    for (size_t b = 0; b < 8; ++b) bytes[b] = static_cast<uint8_t>(bits >> (8 * b));
    hn::CompressStore(v, hn::LoadMaskBits(d, bytes), d, out);
  }
  return static_cast<size_t>(hwy::PopCount(bits));
}

// Writes id_base + i + lane for each true lane of `m` to out (and the lane's value of
// `values` to out_values when not null). Full-vector path: may write Lanes(d) entries
// starting at out. Returns the number of true lanes.
template <class D, class V>
HWY_INLINE size_t CompressIds(D d, hn::Mask<D> m, uint32_t first_id, V values,
                              uint32_t* HWY_RESTRICT out, hn::TFromD<D>* HWY_RESTRICT out_values) {
  const uint64_t bits = MaskBits(d, m);
  const hn::Rebind<uint32_t, D> du;  // same lane count (half width for f64 lanes)
  // Iota(du, 0) is loop-invariant and hoisted; Iota(du, first_id) would be rebuilt through
  // the stack on every call in Highway 1.0.3.
  const auto ids = hn::Add(hn::Iota(du, 0), hn::Set(du, first_id));
  const size_t written = CompressBitsStoreU(du, ids, bits, out);
  if (out_values) CompressBitsStoreU(d, values, bits, out_values);
  return written;
}

// Tail path: emits the true lanes of `m` one by one (never writes past the last true lane).
template <class D, class V>
HWY_INLINE size_t EmitIdsScalar(D d, hn::Mask<D> m, uint32_t first_id, V values,
                                uint32_t* HWY_RESTRICT out, hn::TFromD<D>* HWY_RESTRICT out_values) {
  HWY_ALIGN hn::TFromD<D> lanes[hn::MaxLanes(d)];
  if (out_values) hn::Store(values, d, lanes);
  size_t count = 0;
  for (uint64_t bits = MaskBits(d, m); bits != 0; bits &= bits - 1) {
    const size_t lane = static_cast<size_t>(hwy::Num0BitsBelowLS1Bit_Nonzero64(bits));
    if (out_values) out_values[count] = lanes[lane];
    out[count++] = first_id + static_cast<uint32_t>(lane);
  }
  return count;
}

// Drives `pred` (mask and values for the Lanes(d) rows at i) over n rows, writing ids.
template <bool kRows, class D, class Pred>
HWY_INLINE size_t FilterIds(D d, size_t n, const Pred& pred, const RowFilter& rows,
                            uint32_t id_base, uint32_t* HWY_RESTRICT out_ids,
                            hn::TFromD<D>* HWY_RESTRICT out_values) {
  const size_t N = hn::Lanes(d);
  size_t count = 0;
  size_t i = 0;
  for (; i + N <= n; i += N) {
    hn::Vec<D> values;
    auto m = pred(d, i, &values);
    if constexpr (kRows) m = hn::And(m, RowMask(d, rows, i));
    if (hn::AllFalse(d, m)) continue;
    count += CompressIds(d, m, id_base + static_cast<uint32_t>(i), values, out_ids + count,
                         out_values ? out_values + count : nullptr);
  }
  if (i < n) {
    hn::Vec<D> values;
    auto m = hn::And(pred(d, i, &values), hn::FirstN(d, n - i));
    if constexpr (kRows) m = hn::And(m, RowMask(d, rows, i));
    count += EmitIdsScalar(d, m, id_base + static_cast<uint32_t>(i), values, out_ids + count,
                           out_values ? out_values + count : nullptr);
  }
  return count;
}

// Drives `pred` over n rows, counting true lanes in vector accumulators (mask lanes are
// all-ones, i.e. -1 as integers, so subtracting them counts). Unrolled 4x, with independent
// accumulators, like the read loop it is measured against (2x left ~8% of DRAM bandwidth
// unused on box counts at 10M points).
template <bool kRows, class D, class Pred>
HWY_INLINE size_t FilterCount(D d, size_t n, const Pred& pred, const RowFilter& rows) {
  const hn::RebindToSigned<D> di;
  const size_t N = hn::Lanes(d);
  auto acc0 = hn::Zero(di);
  auto acc1 = hn::Zero(di);
  auto acc2 = hn::Zero(di);
  auto acc3 = hn::Zero(di);
  hn::Vec<D> unused;
  size_t i = 0;
  for (; i + 4 * N <= n; i += 4 * N) {
    auto m0 = pred(d, i, &unused);
    auto m1 = pred(d, i + N, &unused);
    auto m2 = pred(d, i + 2 * N, &unused);
    auto m3 = pred(d, i + 3 * N, &unused);
    if constexpr (kRows) {
      m0 = hn::And(m0, RowMask(d, rows, i));
      m1 = hn::And(m1, RowMask(d, rows, i + N));
      m2 = hn::And(m2, RowMask(d, rows, i + 2 * N));
      m3 = hn::And(m3, RowMask(d, rows, i + 3 * N));
    }
    acc0 = hn::Sub(acc0, hn::BitCast(di, hn::VecFromMask(d, m0)));
    acc1 = hn::Sub(acc1, hn::BitCast(di, hn::VecFromMask(d, m1)));
    acc2 = hn::Sub(acc2, hn::BitCast(di, hn::VecFromMask(d, m2)));
    acc3 = hn::Sub(acc3, hn::BitCast(di, hn::VecFromMask(d, m3)));
  }
  for (; i < n; i += N) {
    auto m = hn::And(pred(d, i, &unused), hn::FirstN(d, n - i));
    if constexpr (kRows) m = hn::And(m, RowMask(d, rows, i));
    acc0 = hn::Sub(acc0, hn::BitCast(di, hn::VecFromMask(d, m)));
  }
  acc0 = hn::Add(acc0, acc2);
  acc1 = hn::Add(acc1, acc3);
  // Per-lane counts fit their lane (each counts at most n / N rows); the total may not fit
  // an int32 lane, so sum the lanes in 64-bit scalars (once per call, at most 16 lanes).
  HWY_ALIGN hn::TFromD<decltype(di)> lanes[hn::MaxLanes(di)];
  hn::Store(hn::Add(acc0, acc1), di, lanes);
  uint64_t total = 0;
  for (size_t l = 0; l < N; ++l) total += static_cast<uint64_t>(lanes[l]);
  return static_cast<size_t>(total);
}

// ---- predicates ----------------------------------------------------------------------

// Loads a vector and keeps it in a register. A box test uses each coordinate in two
// compares, and GCC otherwise folds the load into one compare and loads again for the other:
// twice the load-queue entries per cache line, which cost ~8% of DRAM bandwidth at 10M points.
template <class D>
HWY_INLINE hn::Vec<D> LoadOnce(D d, const hn::TFromD<D>* HWY_RESTRICT p) {
  auto v = hn::LoadU(d, p);
#if HWY_ARCH_X86 && HWY_TARGET != HWY_SCALAR && HWY_TARGET != HWY_EMU128 && \
    (HWY_COMPILER_GCC || HWY_COMPILER_CLANG)
  asm("" : "+x"(v.raw));  // opaque to the optimiser: the register value is used as is
#endif
  return v;
}

template <typename T>
struct BoxPred2 {
  const T* HWY_RESTRICT x;
  const T* HWY_RESTRICT y;
  Box2T<T> b;
  template <class D>
  HWY_INLINE hn::Mask<D> operator()(D d, size_t i, hn::Vec<D>* /*values*/) const {
    const auto vx = LoadOnce(d, x + i);
    const auto vy = LoadOnce(d, y + i);
    const auto in_x = hn::And(hn::Le(hn::Set(d, b.min_x), vx), hn::Le(vx, hn::Set(d, b.max_x)));
    const auto in_y = hn::And(hn::Le(hn::Set(d, b.min_y), vy), hn::Le(vy, hn::Set(d, b.max_y)));
    return hn::And(in_x, in_y);
  }
};

template <typename T>
struct BoxPred3 {
  const T* HWY_RESTRICT x;
  const T* HWY_RESTRICT y;
  const T* HWY_RESTRICT z;
  Box3T<T> b;
  template <class D>
  HWY_INLINE hn::Mask<D> operator()(D d, size_t i, hn::Vec<D>* /*values*/) const {
    const auto vx = LoadOnce(d, x + i);
    const auto vy = LoadOnce(d, y + i);
    const auto vz = LoadOnce(d, z + i);
    const auto in_x = hn::And(hn::Le(hn::Set(d, b.min_x), vx), hn::Le(vx, hn::Set(d, b.max_x)));
    const auto in_y = hn::And(hn::Le(hn::Set(d, b.min_y), vy), hn::Le(vy, hn::Set(d, b.max_y)));
    const auto in_z = hn::And(hn::Le(hn::Set(d, b.min_z), vz), hn::Le(vz, hn::Set(d, b.max_z)));
    return hn::And(hn::And(in_x, in_y), in_z);
  }
};

// Squared distance summed as dx*dx + dy*dy (+ dz*dz), in that order, with separate
// multiply and add (the library is built with -ffp-contract=off) so it is exact w.r.t.
// the scalar reference.
template <typename T>
struct RadiusPred2 {
  const T* HWY_RESTRICT x;
  const T* HWY_RESTRICT y;
  T qx, qy, r2;
  template <class D>
  HWY_INLINE hn::Mask<D> operator()(D d, size_t i, hn::Vec<D>* values) const {
    const auto dx = hn::Sub(hn::LoadU(d, x + i), hn::Set(d, qx));
    const auto dy = hn::Sub(hn::LoadU(d, y + i), hn::Set(d, qy));
    const auto d2 = hn::Add(hn::Mul(dx, dx), hn::Mul(dy, dy));
    *values = d2;
    return hn::Le(d2, hn::Set(d, r2));
  }
};

template <typename T>
struct RadiusPred3 {
  const T* HWY_RESTRICT x;
  const T* HWY_RESTRICT y;
  const T* HWY_RESTRICT z;
  T qx, qy, qz, r2;
  template <class D>
  HWY_INLINE hn::Mask<D> operator()(D d, size_t i, hn::Vec<D>* values) const {
    const auto dx = hn::Sub(hn::LoadU(d, x + i), hn::Set(d, qx));
    const auto dy = hn::Sub(hn::LoadU(d, y + i), hn::Set(d, qy));
    const auto dz = hn::Sub(hn::LoadU(d, z + i), hn::Set(d, qz));
    const auto d2 = hn::Add(hn::Add(hn::Mul(dx, dx), hn::Mul(dy, dy)), hn::Mul(dz, dz));
    *values = d2;
    return hn::Le(d2, hn::Set(d, r2));
  }
};

// Always true: used by the row-filter-only kernels (over a float lane layout).
struct AllPred {
  template <class D>
  HWY_INLINE hn::Mask<D> operator()(D d, size_t /*i*/, hn::Vec<D>* /*values*/) const {
    return hn::FirstN(d, hn::Lanes(d));
  }
};

template <class D, class Pred>
HWY_INLINE size_t RunIds(D d, size_t n, const Pred& pred, const RowFilter& rows,
                         uint32_t id_base, uint32_t* out_ids, hn::TFromD<D>* out_values) {
  return rows.active() ? FilterIds<true>(d, n, pred, rows, id_base, out_ids, out_values)
                       : FilterIds<false>(d, n, pred, rows, id_base, out_ids, out_values);
}
template <class D, class Pred>
HWY_INLINE size_t RunCount(D d, size_t n, const Pred& pred, const RowFilter& rows) {
  return rows.active() ? FilterCount<true>(d, n, pred, rows)
                       : FilterCount<false>(d, n, pred, rows);
}

}  // namespace HWY_NAMESPACE
}  // namespace locus::kernels
HWY_AFTER_NAMESPACE();

#endif  // include guard
