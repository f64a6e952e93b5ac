// Compiles the kernel source named by KERNEL_BODY twice: portably (names ending `_portable`)
// and, on x86-64, with AVX2 and FMA (names ending `_avx2`), for DISPATCH to choose between.
// The body names its functions KERNEL_NAME(name) and marks them KERNEL_ATTRIBUTES.

#define KERNEL_CAT_(a, b) a##b
#define KERNEL_CAT(a, b) KERNEL_CAT_(a, b)
#define KERNEL_NAME(name) KERNEL_CAT(name, KERNEL_SUFFIX)

#define KERNEL_ATTRIBUTES
#define KERNEL_SUFFIX _portable
#include KERNEL_BODY
#undef KERNEL_ATTRIBUTES
#undef KERNEL_SUFFIX

#if defined(__x86_64__)
#define KERNEL_ATTRIBUTES __attribute__((target("avx2,fma")))
#define KERNEL_SUFFIX _avx2
#include KERNEL_BODY
#undef KERNEL_ATTRIBUTES
#undef KERNEL_SUFFIX
#endif
