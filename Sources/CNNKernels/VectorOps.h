// The vector types and moves the kernels share: clang's vector extensions, which compile to
// 256-bit instructions in functions built for AVX2 and to pairs of 128-bit ones elsewhere.
#ifndef CNN_KERNELS_VECTOR_OPS_H
#define CNN_KERNELS_VECTOR_OPS_H
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

/// `mask ? a : b` lane by lane, `mask` a comparison's result (all bits set or clear).
#define select_f8(mask, a, b) ({ const i8 m_ = (mask); (f8)((m_ & (i8)(a)) | (~m_ & (i8)(b))); })
#define select_f4(mask, a, b) ({ const i4 m_ = (mask); (f4)((m_ & (i4)(a)) | (~m_ & (i4)(b))); })
/// The larger of `a` and `b` lane by lane (`b` where they are equal or unordered).
#define max_f8(a, b) ({ const f8 x_ = (a), y_ = (b); select_f8((i8)(x_ > y_), x_, y_); })
#define max_f4(a, b) ({ const f4 x_ = (a), y_ = (b); select_f4((i4)(x_ > y_), x_, y_); })
#define splat_i8(x) ((i8){(x), (x), (x), (x), (x), (x), (x), (x)})

/// Every lane `x`, and the square root of each lane (IEEE, as `sqrtf`).
#define splat_f8(x) ((f8){(x), (x), (x), (x), (x), (x), (x), (x)})
#define sqrt_f8(v) __builtin_elementwise_sqrt(v)

/// `max(v, 0)` lane by lane, a NaN staying NaN (as `ReLU` does): the lanes below zero cleared.
#define rectify_f8(v) ({ const f8 r_ = (v), zero_ = {0}; (f8)((i8)r_ & ~(i8)(r_ < zero_)); })
#define rectify_f4(v) ({ const f4 r_ = (v), zero_ = {0}; (f4)((i4)r_ & ~(i4)(r_ < zero_)); })

#if defined(__x86_64__)
#define DISPATCH(avx2, name, ...) do { if (avx2) name##_avx2(__VA_ARGS__); else name##_portable(__VA_ARGS__); } while (0)
#else
#define DISPATCH(avx2, name, ...) do { (void)(avx2); name##_portable(__VA_ARGS__); } while (0)
#endif


/// Whether the processor has AVX2 and FMA, set when the library loads (CPUFeatures.c).
extern int cnnk_processor_has_avx2;

#endif
