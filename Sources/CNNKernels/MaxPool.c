// 2×2 max-pooling (see MaxPoolBody.h), built twice: portable, and with AVX2 for x86-64
// processors that have it.
#include "CNNKernels.h"
#include "VectorOps.h"

#define KERNEL_BODY "MaxPoolBody.h"
#include "BothBuilds.h"

void cnnk_maxpool2x2(const float *input, long planes, long height, long width, int rectified, float *output,
                     int32_t *argmax, int avx2) {
    DISPATCH(avx2 && cnnk_processor_has_avx2, maxpool, input, planes, height, width, rectified, output, argmax);
}

void cnnk_maxpool2x2_backward(const float *outputGradient, const float *pooled, const int32_t *argmax, long planes,
                              long height, long width, int rectified, float *inputGradient, int avx2) {
    DISPATCH(avx2 && cnnk_processor_has_avx2, maxpool_backward, outputGradient, pooled, argmax, planes, height, width,
             rectified, inputGradient);
}
