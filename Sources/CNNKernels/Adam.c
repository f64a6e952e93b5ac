// Adam's update (see AdamBody.h), built twice: portable, and with AVX2 for x86-64 processors
// that have it. No multiply-add is fused (`fp contract(off)`), so both builds, and the Swift
// formula they replace, give the same floats.
#include "CNNKernels.h"
#include "VectorOps.h"
#include <math.h>

#pragma clang fp contract(off)

#define KERNEL_BODY "AdamBody.h"
#include "BothBuilds.h"

void cnnk_adam(float *p, const float *g, float *m, float *v, long count, float beta1, float beta2, float epsilon,
               float stepSize, float inverseCorrection2Root, float decay, float shrink, int avx2) {
    DISPATCH(avx2 && cnnk_processor_has_avx2, adam, p, g, m, v, count, beta1, beta2, epsilon, stepSize,
             inverseCorrection2Root, decay, shrink);
}
