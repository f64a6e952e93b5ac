// 2×2 max-pooling (see MaxPoolBody.h), built twice: portable, and with AVX2 for x86-64
// processors that have it.
#include "CNNKernels.h"
#include "VectorOps.h"

#define KERNEL_ATTRIBUTES
#define KERNEL_SUFFIX _portable
#include "MaxPoolBody.h"
#undef KERNEL_ATTRIBUTES
#undef KERNEL_SUFFIX

#if defined(__x86_64__)
#define KERNEL_ATTRIBUTES __attribute__((target("avx2,fma")))
#define KERNEL_SUFFIX _avx2
#include "MaxPoolBody.h"
#undef KERNEL_ATTRIBUTES
#undef KERNEL_SUFFIX
#endif

void cnnk_maxpool2x2(const float *input, long planes, long height, long width, int rectified, float *output,
                     int32_t *argmax, int avx2) {
    DISPATCH(avx2 && cnnk_processor_has_avx2, maxpool, input, planes, height, width, rectified, output, argmax);
}

void cnnk_maxpool2x2_backward(const float *outputGradient, const float *pooled, const int32_t *argmax, long planes,
                              long height, long width, int rectified, float *inputGradient, int avx2) {
    DISPATCH(avx2 && cnnk_processor_has_avx2, maxpool_backward, outputGradient, pooled, argmax, planes, height, width,
             rectified, inputGradient);
}
