#ifndef CNN_KERNELS_H
#define CNN_KERNELS_H

#include <stdint.h>

/// CNNKernels: the engine's few hand-written loops that need instructions Swift does not emit
/// for a baseline x86-64 build: 256-bit AVX2 vectors, chosen at run time (`cnnk_has_avx2`),
/// with a portable build of the same source beside them. Each function's `avx2` argument picks
/// the variant; it is ignored where AVX2 is absent, so callers and tests may pass either.
/// Every kernel has a naïve twin in the tests (CNNEngineTests, ReferenceTests).

/// Whether this processor has AVX2 and FMA (x86-64 only; 0 elsewhere).
int cnnk_has_avx2(void);

/// Winograd F(2×2, 3×3) input transform, `V = Bᵀ d B`, of the `channels` planes (`height` ×
/// `width`, contiguous) of one image: position `p` (0 ..< 16) of tile `t` of channel `c` goes
/// to `v[p · positionStride + c · channelStride + t]`, tiles row by row, `⌈height/2⌉ × ⌈width/2⌉`.
/// `padded` is working space of `(2·⌈height/2⌉ + 2) × (2·⌈width/2⌉ + 2)` floats whose frame
/// (everything but rows 1 ... height, columns 1 ... width) the caller has zeroed; only the
/// inside is written.
void cnnk_winograd_input(const float *image, long channels, long height, long width, float *padded,
                         float *v, long channelStride, long positionStride, int avx2);

/// Winograd F(2×2, 3×3) output transform, `Y = Aᵀ M A`, of one image's `channels` planes
/// (`height` × `width`) from the products `m[p · positionStride + o · rowStride + t]`, plus
/// `bias[o]` when `bias` is not null, through a ReLU when `rectifies` (a NaN stays NaN); tiles
/// that overhang an odd-sized output write only their inside. When `pools` (even height and
/// width only), each tile's four outputs are max-pooled into one (`[channels, height/2, width/2]`):
/// a 2×2, stride-2 max-pool after the convolution (and ReLU), in the same pass.
void cnnk_winograd_output(const float *m, long positionStride, long rowStride, long channels, long height, long width,
                          const float *bias, int rectifies, int pools, float *output, int avx2);

/// Winograd F(2×2, 3×3) filter transform, `U = G g Gᵀ`, of every 3×3 filter `g = w[o, c]` of
/// `weight` (`[outputs, channels, 3, 3]`): `u[p · positionStride + o · channels + c]`.
void cnnk_winograd_weights(const float *weight, long outputs, long channels, float *u, long positionStride, int avx2);

/// The direct 3×3, stride-1, padding-1 convolution of one image (`[channels, height, width]`)
/// by `weight` (`[outputs, channels, 3, 3]`), plus `bias[o]` when `bias` is not null, through a
/// ReLU when `rectifies`, into `output` (`[outputs, height, width]`). For layers with few input
/// channels (an RGB or grey input layer), whose products would be too thin for a matrix
/// library. `padded` is working space of `channels × (height + 2) × (width + 2)` floats. When
/// `pools` (even height and width only), a 2×2, stride-2 max-pool follows in the same pass and
/// `output` is `[outputs, height/2, width/2]`.
void cnnk_direct3x3(const float *image, long channels, long height, long width, const float *weight, const float *bias,
                    long outputs, int rectifies, int pools, float *padded, float *output, int avx2);

/// One step of Adam (PyTorch's formula) over `count` parameters: with `g += decay·p` (Adam's
/// weight decay, 0 for none) and `p *= shrink` (AdamW's, 1 for none),
/// `m = β₁m + (1 − β₁)g`, `v = β₂v + (1 − β₂)g²`, `p −= stepSize · m / (√v · inverseCorrection2Root + ε)`.
/// No multiply-add is fused: every build gives the same floats.
void cnnk_adam(float *p, const float *g, float *m, float *v, long count, float beta1, float beta2, float epsilon,
               float stepSize, float inverseCorrection2Root, float decay, float shrink, int avx2);

/// 2×2, stride-2 max-pooling (floor mode) of `planes` planes of `height` × `width`: each
/// window's first maximum in scan order (later values win only when strictly greater, as
/// PyTorch), raised to 0 when `rectified` (a ReLU before the pooling, fused). When `argmax` is
/// not null, each winner's index within its input plane goes there, for the backward pass.
void cnnk_maxpool2x2(const float *input, long planes, long height, long width, int rectified, float *output,
                     int32_t *argmax, int avx2);

/// The backward pass of `cnnk_maxpool2x2`: every cell of `inputGradient` written, the window's
/// gradient at its winner (`argmax`), zero elsewhere; when `rectified`, only where the pooled
/// value (`pooled`) is positive (the ReLU's gradient).
void cnnk_maxpool2x2_backward(const float *outputGradient, const float *pooled, const int32_t *argmax, long planes,
                              long height, long width, int rectified, float *inputGradient, int avx2);

#endif
