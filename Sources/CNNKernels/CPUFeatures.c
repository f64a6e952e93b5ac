// Which build of the kernels this processor can run.
#include "CNNKernels.h"
#include "VectorOps.h"

int cnnk_processor_has_avx2 = 0;

/// Runs when the library loads, so that the kernels' callers, on any thread, only read it.
__attribute__((constructor)) static void detect_avx2(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    cnnk_processor_has_avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
}

int cnnk_has_avx2(void) { return cnnk_processor_has_avx2; }
