// Target introspection and the read-bandwidth baseline loop (see dispatch.h).
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/dispatch.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include <algorithm>

#include "hwy/highway.h"
#include "kernels/dispatch.h"

HWY_BEFORE_NAMESPACE();
namespace locus::kernels {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

const char* TargetNameHere() { return hwy::TargetName(HWY_TARGET); }
size_t LanesF32Here() { return hn::Lanes(hn::ScalableTag<float>()); }
size_t LanesF64Here() { return hn::Lanes(hn::ScalableTag<double>()); }

// Folds every bit of every element into 4 independent XOR accumulators. XOR has one cycle of
// latency and 4 chains are in flight, so the loop is limited by loads alone (an FP-add sum is
// not: its add latency caps it below cache bandwidth, which would flatter the kernels). The
// column count is a template parameter so the per-row body is fully unrolled, reading the
// columns in step exactly as the kernels do.
template <size_t kCols, typename T>
uint64_t ReadLoopN(const T* const* columns, size_t n) {
  const hn::ScalableTag<T> d;
  const hn::RebindToUnsigned<decltype(d)> du;
  const size_t N = hn::Lanes(d);
  const T* HWY_RESTRICT col[kCols];
  for (size_t c = 0; c < kCols; ++c) col[c] = columns[c];
  auto acc0 = hn::Zero(du), acc1 = hn::Zero(du), acc2 = hn::Zero(du), acc3 = hn::Zero(du);
  size_t i = 0;
  for (; i + 4 * N <= n; i += 4 * N) {
    for (size_t c = 0; c < kCols; ++c) {  // unrolled: kCols is a constant
      acc0 = hn::Xor(acc0, hn::BitCast(du, hn::LoadU(d, col[c] + i)));
      acc1 = hn::Xor(acc1, hn::BitCast(du, hn::LoadU(d, col[c] + i + N)));
      acc2 = hn::Xor(acc2, hn::BitCast(du, hn::LoadU(d, col[c] + i + 2 * N)));
      acc3 = hn::Xor(acc3, hn::BitCast(du, hn::LoadU(d, col[c] + i + 3 * N)));
    }
  }
  for (; i < n; i += N) {
    const auto valid = hn::FirstN(du, n - i);  // padding contract: the load stays in bounds
    for (size_t c = 0; c < kCols; ++c) {
      acc0 = hn::Xor(acc0, hn::IfThenElseZero(valid, hn::BitCast(du, hn::LoadU(d, col[c] + i))));
    }
  }
  HWY_ALIGN hn::TFromD<decltype(du)> lanes[hn::MaxLanes(du)];
  hn::Store(hn::Xor(hn::Xor(acc0, acc1), hn::Xor(acc2, acc3)), du, lanes);
  uint64_t folded = 0;
  for (size_t l = 0; l < N; ++l) folded ^= static_cast<uint64_t>(lanes[l]);
  return folded;
}

template <typename T>
uint64_t ReadLoop(const T* const* columns, size_t num_columns, size_t n) {
  uint64_t folded = 0;
  // Groups of up to 6 columns (the widest SoA layout, 3D boxes), each fully unrolled.
  for (size_t c = 0; c < num_columns; c += 6) {
    switch (std::min<size_t>(6, num_columns - c)) {
      case 1: folded ^= ReadLoopN<1>(columns + c, n); break;
      case 2: folded ^= ReadLoopN<2>(columns + c, n); break;
      case 3: folded ^= ReadLoopN<3>(columns + c, n); break;
      case 4: folded ^= ReadLoopN<4>(columns + c, n); break;
      case 5: folded ^= ReadLoopN<5>(columns + c, n); break;
      default: folded ^= ReadLoopN<6>(columns + c, n); break;
    }
  }
  return folded;
}

uint64_t ReadLoopF32Here(const float* const* c, size_t k, size_t n) { return ReadLoop(c, k, n); }
uint64_t ReadLoopF64Here(const double* const* c, size_t k, size_t n) { return ReadLoop(c, k, n); }

}  // namespace HWY_NAMESPACE
}  // namespace locus::kernels
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace locus::kernels {

HWY_EXPORT(TargetNameHere);
HWY_EXPORT(LanesF32Here);
HWY_EXPORT(LanesF64Here);
HWY_EXPORT(ReadLoopF32Here);
HWY_EXPORT(ReadLoopF64Here);

const char* DispatchedTargetName() { return HWY_DYNAMIC_DISPATCH(TargetNameHere)(); }

std::vector<int64_t> CompiledTargets() {
  std::vector<int64_t> out = hwy::SupportedAndGeneratedTargets();
  // SupportedAndGeneratedTargets lists lowest bit first, which on x86 is the best target.
  return out;
}

const char* TargetName(int64_t target) { return hwy::TargetName(target); }

void SetTargetForTest(int64_t target) { hwy::SetSupportedTargetsForTest(target); }

size_t LanesF32() { return HWY_DYNAMIC_DISPATCH(LanesF32Here)(); }
size_t LanesF64() { return HWY_DYNAMIC_DISPATCH(LanesF64Here)(); }

uint64_t ReadLoopF32(const float* const* columns, size_t num_columns, size_t n) {
  return HWY_DYNAMIC_DISPATCH(ReadLoopF32Here)(columns, num_columns, n);
}
uint64_t ReadLoopF64(const double* const* columns, size_t num_columns, size_t n) {
  return HWY_DYNAMIC_DISPATCH(ReadLoopF64Here)(columns, num_columns, n);
}

}  // namespace locus::kernels
#endif  // HWY_ONCE
