// Target introspection and the read-bandwidth baseline loop (see dispatch.h).
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/dispatch.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include "hwy/highway.h"
#include "kernels/dispatch.h"

HWY_BEFORE_NAMESPACE();
namespace locus::kernels {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

const char* TargetNameHere() { return hwy::TargetName(HWY_TARGET); }
size_t LanesF32Here() { return hn::Lanes(hn::ScalableTag<float>()); }
size_t LanesF64Here() { return hn::Lanes(hn::ScalableTag<double>()); }

// Two independent accumulators per column hide the add latency; more do not help a loop
// that is bound by memory (measured: 4 and 8 give the same 10M-point bandwidth).
template <typename T>
T ReadLoop(const T* const* columns, size_t num_columns, size_t n) {
  const hn::ScalableTag<T> d;
  const size_t N = hn::Lanes(d);
  auto acc0 = hn::Zero(d);
  auto acc1 = hn::Zero(d);
  size_t i = 0;
  for (; i + 2 * N <= n; i += 2 * N) {
    for (size_t c = 0; c < num_columns; ++c) {
      acc0 = hn::Add(acc0, hn::LoadU(d, columns[c] + i));
      acc1 = hn::Add(acc1, hn::LoadU(d, columns[c] + i + N));
    }
  }
  for (; i < n; i += N) {
    const auto valid = hn::FirstN(d, n - i);  // padding contract: the load stays in bounds
    for (size_t c = 0; c < num_columns; ++c) {
      acc0 = hn::Add(acc0, hn::IfThenElseZero(valid, hn::LoadU(d, columns[c] + i)));
    }
  }
  return hn::GetLane(hn::SumOfLanes(d, hn::Add(acc0, acc1)));
}

float ReadLoopF32Here(const float* const* c, size_t k, size_t n) { return ReadLoop(c, k, n); }
double ReadLoopF64Here(const double* const* c, size_t k, size_t n) { return ReadLoop(c, k, n); }

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

float ReadLoopF32(const float* const* columns, size_t num_columns, size_t n) {
  return HWY_DYNAMIC_DISPATCH(ReadLoopF32Here)(columns, num_columns, n);
}
double ReadLoopF64(const double* const* columns, size_t num_columns, size_t n) {
  return HWY_DYNAMIC_DISPATCH(ReadLoopF64Here)(columns, num_columns, n);
}

}  // namespace locus::kernels
#endif  // HWY_ONCE
