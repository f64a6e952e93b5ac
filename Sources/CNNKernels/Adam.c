// Adam's update (see AdamBody.h), built twice: portable, and with AVX2 for x86-64 processors
// that have it. No multiply-add is fused (`fp contract(off)`), so both builds, and the Swift
// formula they replace, give the same floats.
#include "CNNKernels.h"
#include "VectorOps.h"
#include <math.h>

#pragma clang fp contract(off)

#define KERNEL_ATTRIBUTES
#define KERNEL_SUFFIX _portable
#include "AdamBody.h"
#undef KERNEL_ATTRIBUTES
#undef KERNEL_SUFFIX

#if defined(__x86_64__)
#define KERNEL_ATTRIBUTES __attribute__((target("avx2,fma")))
#define KERNEL_SUFFIX _avx2
#include "AdamBody.h"
#undef KERNEL_ATTRIBUTES
#undef KERNEL_SUFFIX
#endif

void cnnk_adam(float *p, const float *g, float *m, float *v, long count, float beta1, float beta2, float epsilon,
               float stepSize, float inverseCorrection2Root, float decay, float shrink, int avx2) {
    DISPATCH(avx2 && cnnk_processor_has_avx2, adam, p, g, m, v, count, beta1, beta2, epsilon, stepSize,
             inverseCorrection2Root, decay, shrink);
}
