// The direct 3×3 convolution of thin input layers (see DirectConvolutionBody.h), built twice:
// portable, and with AVX2 and FMA for x86-64 processors that have them.
#include "CNNKernels.h"
#include "VectorOps.h"

#define KERNEL_BODY "DirectConvolutionBody.h"
#include "BothBuilds.h"

void cnnk_direct3x3(const float *image, long channels, long height, long width, const float *weight, const float *bias,
                    long outputs, int rectifies, int pools, float *padded, float *output, int avx2) {
    DISPATCH(avx2 && cnnk_processor_has_avx2, direct3x3, image, channels, height, width, weight, bias, outputs, rectifies,
             pools, padded, output);
}
