// The direct 3×3, stride-1, padding-1 convolution of layers with few input channels, written
// once and compiled twice by DirectConvolution.c (portable, and with AVX2 and FMA).
//
// Per output row: blocks of 6 (or 4) output channels × 16 (or 8) positions held in 12 (or 6)
// vector accumulators, summed over the C·9 taps: per tap, two loads of the zero-framed input row
// and one broadcast weight per channel feed 12 multiply-adds; the output channels do not need a
// product deep enough for a matrix library to be efficient (C·9 = 27 for an RGB layer).

/// `OB` output channels from `first` (those at or past `outputs` are computed from the last
/// channel's weights and dropped) × `XB` vectors of 8 positions from `x`, of output row `y`.
#define DIRECT_BLOCK(OB, XB)                                                                        \
    do {                                                                                            \
        f8 acc[OB][XB];                                                                             \
        const float *filters[OB];                                                                   \
        for (int j = 0; j < OB; j++) {                                                              \
            const long o = first + j < outputs ? first + j : outputs - 1;                           \
            filters[j] = weight + o * channels * 9;                                                 \
            const float shift = bias ? bias[o] : 0.0f;                                              \
            for (int v = 0; v < XB; v++) acc[j][v] = (f8){shift, shift, shift, shift, shift, shift, shift, shift}; \
        }                                                                                           \
        for (long c = 0; c < channels; c++) {                                                       \
            for (int ky = 0; ky < 3; ky++) {                                                        \
                const float *row = padded + (c * (height + 2) + y + ky) * rowLength + x;            \
                for (int kx = 0; kx < 3; kx++) {                                                    \
                    f8 in[XB];                                                                      \
                    for (int v = 0; v < XB; v++) in[v] = load_f8(row + kx + 8 * v);                 \
                    const long tap = c * 9 + ky * 3 + kx;                                           \
                    for (int j = 0; j < OB; j++) {                                                  \
                        const float w = filters[j][tap];                                            \
                        const f8 wv = {w, w, w, w, w, w, w, w};                                     \
                        for (int v = 0; v < XB; v++) acc[j][v] = acc[j][v] + wv * in[v];            \
                    }                                                                               \
                }                                                                                   \
            }                                                                                       \
        }                                                                                           \
        for (int j = 0; j < OB && first + j < outputs; j++) {                                       \
            float *target = output + ((first + j) * height + y) * width + x;                        \
            for (int v = 0; v < XB; v++) store_f8(target + 8 * v, rectifies ? rectify_f8(acc[j][v]) : acc[j][v]); \
        }                                                                                           \
    } while (0)

/// `OB` output channels from `first` × rows `y` and `y + 1` × 8 positions from `x`, max-pooled
/// over 2×2 windows into 4 values per channel of pooled row `y / 2`.
#define DIRECT_POOLED_BLOCK(OB)                                                                     \
    do {                                                                                            \
        f8 acc[OB][2];                                                                              \
        const float *filters[OB];                                                                   \
        for (int j = 0; j < OB; j++) {                                                              \
            const long o = first + j < outputs ? first + j : outputs - 1;                           \
            filters[j] = weight + o * channels * 9;                                                 \
            const float shift = bias ? bias[o] : 0.0f;                                              \
            acc[j][0] = acc[j][1] = splat_f8(shift);                                                \
        }                                                                                           \
        for (long c = 0; c < channels; c++) {                                                       \
            const float *rows = padded + (c * (height + 2) + y) * rowLength + x;                    \
            for (int ky = 0; ky < 3; ky++) {                                                        \
                for (int kx = 0; kx < 3; kx++) {                                                    \
                    const f8 upper = load_f8(rows + ky * rowLength + kx);                           \
                    const f8 lower = load_f8(rows + (ky + 1) * rowLength + kx);                     \
                    const long tap = c * 9 + ky * 3 + kx;                                           \
                    for (int j = 0; j < OB; j++) {                                                  \
                        const f8 wv = splat_f8(filters[j][tap]);                                    \
                        acc[j][0] = acc[j][0] + wv * upper;                                         \
                        acc[j][1] = acc[j][1] + wv * lower;                                         \
                    }                                                                               \
                }                                                                                   \
            }                                                                                       \
        }                                                                                           \
        for (int j = 0; j < OB && first + j < outputs; j++) {                                       \
            const f8 column = max_f8(acc[j][0], acc[j][1]);                                         \
            const f4 even = __builtin_shufflevector(column, column, 0, 2, 4, 6);                    \
            const f4 odd = __builtin_shufflevector(column, column, 1, 3, 5, 7);                     \
            const f4 pooled = max_f4(even, odd);                                                    \
            float *target = output + ((first + j) * (height / 2) + y / 2) * (width / 2) + x / 2;    \
            store_f4(target, rectifies ? rectify_f4(pooled) : pooled);                              \
        }                                                                                           \
    } while (0)

/// One output value of the direct convolution, in scalar arithmetic (the edges the blocks leave).
static inline __attribute__((always_inline)) float KERNEL_NAME(direct_sum)(const float *weight, const float *bias, const float *padded,
                                                                         long channels, long height, long rowLength, long o,
                                                                         long y, long x) {
    float sum = bias ? bias[o] : 0.0f;
    for (long c = 0; c < channels; c++)
        for (int ky = 0; ky < 3; ky++)
            for (int kx = 0; kx < 3; kx++)
                sum += weight[(o * channels + c) * 9 + ky * 3 + kx] * padded[(c * (height + 2) + y + ky) * rowLength + x + kx];
    return sum;
}

/// The convolution with a 2×2, stride-2 max-pool after it (even height and width).
static KERNEL_ATTRIBUTES void KERNEL_NAME(direct3x3_pooled)(long channels, long height, long width, const float *weight,
                                                            const float *bias, long outputs, int rectifies,
                                                            const float *padded, float *output) {
    const long rowLength = width + 2;
    for (long y = 0; y < height; y += 2) {
        for (long first = 0; first < outputs; first += first + 6 <= outputs || outputs - first > 4 ? 6 : 4) {
            const int wide = first + 6 <= outputs || outputs - first > 4;
            long x = 0;
            for (; x + 8 <= width; x += 8) {
                if (wide) DIRECT_POOLED_BLOCK(6); else DIRECT_POOLED_BLOCK(4);
            }
            for (; x < width; x += 2) {
                for (long o = first; o < first + 6 && o < outputs; o++) {
                    float best = -__builtin_inff();
                    for (int dy = 0; dy < 2; dy++)
                        for (int dx = 0; dx < 2; dx++) {
                            const float value = KERNEL_NAME(direct_sum)(weight, bias, padded, channels, height, rowLength, o, y + dy, x + dx);
                            best = value > best ? value : best;
                        }
                    output[(o * (height / 2) + y / 2) * (width / 2) + x / 2] = rectifies && best < 0 ? 0 : best;
                }
            }
        }
    }
}

static KERNEL_ATTRIBUTES void KERNEL_NAME(direct3x3)(const float *image, long channels, long height, long width,
                                                     const float *weight, const float *bias, long outputs, int rectifies,
                                                     int pools, float *padded, float *output) {
    const long rowLength = width + 2, paddedPlane = (height + 2) * rowLength;
    for (long c = 0; c < channels; c++) {
        float *framed = padded + c * paddedPlane;
        memset(framed, 0, (size_t)rowLength * sizeof(float));
        memset(framed + (height + 1) * rowLength, 0, (size_t)rowLength * sizeof(float));
        for (long y = 0; y < height; y++) {
            float *row = framed + (y + 1) * rowLength;
            row[0] = 0;
            memcpy(row + 1, image + (c * height + y) * width, (size_t)width * sizeof(float));
            row[width + 1] = 0;
        }
    }
    if (pools) {
        KERNEL_NAME(direct3x3_pooled)(channels, height, width, weight, bias, outputs, rectifies, padded, output);
        return;
    }
    for (long y = 0; y < height; y++) {
        long first = 0;
        for (; first < outputs; first += first + 6 <= outputs || outputs - first > 4 ? 6 : 4) {
            const int wide = first + 6 <= outputs || outputs - first > 4;
            long x = 0;
            // Reads reach column x + 17 of the framed row, its last (width + 1) at most.
            for (; x + 16 <= width; x += 16) {
                if (wide) DIRECT_BLOCK(6, 2); else DIRECT_BLOCK(4, 2);
            }
            for (; x + 8 <= width; x += 8) DIRECT_BLOCK(6, 1);
            for (; x < width; x++) {
                for (long o = first; o < first + 6 && o < outputs; o++) {
                    const float sum = KERNEL_NAME(direct_sum)(weight, bias, padded, channels, height, rowLength, o, y, x);
                    output[(o * height + y) * width + x] = rectifies && sum < 0 ? 0 : sum;
                }
            }
        }
    }
}

#undef DIRECT_BLOCK
#undef DIRECT_POOLED_BLOCK
