// Which Highway target the kernels run on, and the plain read-bandwidth loop that every
// kernel's throughput is compared against.
//
// locus compiles each kernel for every attainable x86 target (AVX3, AVX2, SSE4, EMU128),
// or NEON/SVE on Arm, and picks one at run time with HWY_DYNAMIC_DISPATCH. Nothing here is
// per point: dispatch happens once per kernel call.
//
// Thread safety: all functions are safe to call concurrently. SetTargetForTest is not: it
// changes the process-wide dispatch choice and is meant for single-threaded tests/benches.
#ifndef LOCUS_KERNELS_DISPATCH_H_
#define LOCUS_KERNELS_DISPATCH_H_

#include <cstddef>
#include <cstdint>
#include <vector>

namespace locus::kernels {

// Returns the name of the target the next kernel call dispatches to ("AVX2", "EMU128").
const char* DispatchedTargetName();

// Returns the targets compiled into the kernels that this CPU supports, best first, as
// Highway target bits. Tests run every kernel on each of them.
std::vector<int64_t> CompiledTargets();

// Returns the Highway name of a target bit.
const char* TargetName(int64_t target);

// Restricts dispatch to `target` (a bit from CompiledTargets()); 0 restores the default.
void SetTargetForTest(int64_t target);

// Returns the lanes of one f32 / f64 vector on the dispatched target.
size_t LanesF32();
size_t LanesF64();

// The bandwidth baseline: reads every element of `columns` arrays of n floats (f32) or
// doubles and returns the XOR of all their bit patterns (within each lane width; the
// 32-bit lanes of f32 are folded into the low half), so nothing can be optimised out. One
// cycle of latency per vector and four independent chains: limited by loads alone. Same
// target and padding contract as the kernels. REQUIRES: padded columns.
uint64_t ReadLoopF32(const float* const* columns, size_t num_columns, size_t n);
uint64_t ReadLoopF64(const double* const* columns, size_t num_columns, size_t n);

}  // namespace locus::kernels

#endif  // LOCUS_KERNELS_DISPATCH_H_
