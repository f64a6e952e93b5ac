// Winograd F(2×2, 3×3)'s transforms (see WinogradTransformsBody.h), built twice: portable, and
// with AVX2 and FMA for x86-64 processors that have them (picked by the caller at run time).
#include "CNNKernels.h"
#include "VectorOps.h"

#define KERNEL_BODY "WinogradTransformsBody.h"
#include "BothBuilds.h"

void cnnk_winograd_input(const float *image, long channels, long height, long width, float *padded,
                         float *v, long channelStride, long positionStride, int avx2) {
    DISPATCH(avx2 && cnnk_processor_has_avx2, input, image, channels, height, width, padded, v, channelStride, positionStride);
}

void cnnk_winograd_output(const float *m, long positionStride, long rowStride, long channels, long height, long width,
                          const float *bias, int rectifies, int pools, float *output, int avx2) {
    DISPATCH(avx2 && cnnk_processor_has_avx2, output, m, positionStride, rowStride, channels, height, width, bias, rectifies,
             pools, output);
}

void cnnk_winograd_weights(const float *weight, long outputs, long channels, float *u, long positionStride, int avx2) {
    DISPATCH(avx2 && cnnk_processor_has_avx2, weights, weight, outputs, channels, u, positionStride);
}
