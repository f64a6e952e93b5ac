// Winograd F(2×2, 3×3)'s transforms (see WinogradTransformsBody.h), built twice: portable, and
// with AVX2 and FMA for x86-64 processors that have them (picked by the caller at run time).
#include "CNNKernels.h"
#include <string.h>

typedef float f8 __attribute__((vector_size(32)));
typedef float f4 __attribute__((vector_size(16)));
typedef int i8 __attribute__((vector_size(32)));
typedef int i4 __attribute__((vector_size(16)));

// Macros, not functions: a function taking or returning a 256-bit vector has another ABI with
// AVX than without, and clang refuses such calls from the portable build even when inlined.

/// Unaligned loads and stores (memcpy, which the compiler turns into one vector move).
#define load_f8(p) ({ f8 v_; memcpy(&v_, (p), sizeof v_); v_; })
#define load_f4(p) ({ f4 v_; memcpy(&v_, (p), sizeof v_); v_; })
#define store_f8(p, v) do { const f8 s_ = (v); memcpy((p), &s_, sizeof s_); } while (0)
#define store_f4(p, v) do { const f4 s_ = (v); memcpy((p), &s_, sizeof s_); } while (0)

/// The even and odd columns of the `2 · lanes` floats at `p`.
#define load_even_odd_f8(p, even, odd) do { const f8 lo_ = load_f8(p), hi_ = load_f8((p) + 8); \
        even = __builtin_shufflevector(lo_, hi_, 0, 2, 4, 6, 8, 10, 12, 14);                     \
        odd = __builtin_shufflevector(lo_, hi_, 1, 3, 5, 7, 9, 11, 13, 15); } while (0)
#define load_even_odd_f4(p, even, odd) do { const f4 lo_ = load_f4(p), hi_ = load_f4((p) + 4); \
        even = __builtin_shufflevector(lo_, hi_, 0, 2, 4, 6);                                    \
        odd = __builtin_shufflevector(lo_, hi_, 1, 3, 5, 7); } while (0)

/// `[a₀, b₀, a₁, b₁, …]` stored at `p`: a tile's two output columns, in row order.
#define store_pair_f8(p, a, b) do { const f8 a_ = (a), b_ = (b);                              \
        store_f8((p), __builtin_shufflevector(a_, b_, 0, 8, 1, 9, 2, 10, 3, 11));            \
        store_f8((p) + 8, __builtin_shufflevector(a_, b_, 4, 12, 5, 13, 6, 14, 7, 15)); } while (0)
#define store_pair_f4(p, a, b) do { const f4 a_ = (a), b_ = (b);                              \
        store_f4((p), __builtin_shufflevector(a_, b_, 0, 4, 1, 5));                          \
        store_f4((p) + 4, __builtin_shufflevector(a_, b_, 2, 6, 3, 7)); } while (0)

/// `max(v, 0)` lane by lane, a NaN staying NaN (as `ReLU` does): the lanes below zero cleared.
#define rectify_f8(v) ({ const f8 r_ = (v), zero_ = {0}; (f8)((i8)r_ & ~(i8)(r_ < zero_)); })
#define rectify_f4(v) ({ const f4 r_ = (v), zero_ = {0}; (f4)((i4)r_ & ~(i4)(r_ < zero_)); })

#define KERNEL_ATTRIBUTES
#define KERNEL_SUFFIX _portable
#include "WinogradTransformsBody.h"
#undef KERNEL_ATTRIBUTES
#undef KERNEL_SUFFIX

#if defined(__x86_64__)
#define KERNEL_ATTRIBUTES __attribute__((target("avx2,fma")))
#define KERNEL_SUFFIX _avx2
#include "WinogradTransformsBody.h"
#undef KERNEL_ATTRIBUTES
#undef KERNEL_SUFFIX
#endif

/// Set once, when the library loads, so that the kernels' callers on any thread only read it.
static int processor_has_avx2 = 0;

__attribute__((constructor)) static void detect_avx2(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    processor_has_avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
}

int cnnk_has_avx2(void) { return processor_has_avx2; }

#if defined(__x86_64__)
#define DISPATCH(avx2, name, ...) do { if (avx2) name##_avx2(__VA_ARGS__); else name##_portable(__VA_ARGS__); } while (0)
#else
#define DISPATCH(avx2, name, ...) do { (void)(avx2); name##_portable(__VA_ARGS__); } while (0)
#endif

void cnnk_winograd_input(const float *image, long channels, long height, long width, float *padded,
                         float *v, long channelStride, long positionStride, int avx2) {
    DISPATCH(avx2 && processor_has_avx2, input, image, channels, height, width, padded, v, channelStride, positionStride);
}

void cnnk_winograd_output(const float *m, long positionStride, long rowStride, long channels, long height, long width,
                          const float *bias, int rectifies, float *output, int avx2) {
    DISPATCH(avx2 && processor_has_avx2, output, m, positionStride, rowStride, channels, height, width, bias, rectifies, output);
}

void cnnk_winograd_weights(const float *weight, long outputs, long channels, float *u, long positionStride, int avx2) {
    DISPATCH(avx2 && processor_has_avx2, weights, weight, outputs, channels, u, positionStride);
}
