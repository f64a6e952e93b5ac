// 2×2, stride-2 max-pooling and its backward pass, written once and compiled twice by
// MaxPool.c (portable, and with AVX2). Eight windows at a time: the even and odd columns of
// two rows.

static KERNEL_ATTRIBUTES void KERNEL_NAME(maxpool)(const float *input, long planes, long height, long width, int rectified,
                                                   float *output, int32_t *argmax) {
    const long outputHeight = height / 2, outputWidth = width / 2;
    const float floor = rectified ? 0.0f : -__builtin_inff();
    const f8 floors = splat_f8(floor);
    const i8 lane = {0, 2, 4, 6, 8, 10, 12, 14}, ones = splat_i8(1), below = splat_i8((int)width), diagonal = splat_i8((int)width + 1);
    for (long plane = 0; plane < planes; plane++) {
        const float *source = input + plane * height * width;
        for (long oy = 0; oy < outputHeight; oy++) {
            const float *top = source + 2 * oy * width, *bottom = top + width;
            float *out = output + (plane * outputHeight + oy) * outputWidth;
            int32_t *outIndex = argmax ? argmax + (plane * outputHeight + oy) * outputWidth : 0;
            const int rowIndex = (int)(2 * oy * width);
            long ox = 0;
            for (; ox + 8 <= outputWidth; ox += 8) {
                f8 a, c, d, e;
                load_even_odd_f8(top + 2 * ox, a, c);
                load_even_odd_f8(bottom + 2 * ox, d, e);
                // The first maximum in scan order, as PyTorch: later values win only when strictly greater.
                f8 best = a;
                i8 offset = splat_i8(0), mask;
                mask = (i8)(c > best); best = select_f8(mask, c, best); offset = (mask & ones) | (~mask & offset);
                mask = (i8)(d > best); best = select_f8(mask, d, best); offset = (mask & below) | (~mask & offset);
                mask = (i8)(e > best); best = select_f8(mask, e, best); offset = (mask & diagonal) | (~mask & offset);
                best = select_f8((i8)(best < floors), floors, best);
                store_f8(out + ox, best);
                if (outIndex) {
                    const i8 index = splat_i8(rowIndex + (int)(2 * ox)) + lane + offset;
                    memcpy(outIndex + ox, &index, sizeof index);
                }
            }
            for (; ox < outputWidth; ox++) {
                const float a = top[2 * ox], c = top[2 * ox + 1], d = bottom[2 * ox], e = bottom[2 * ox + 1];
                float best = a;
                int offset = 0;
                if (c > best) { best = c; offset = 1; }
                if (d > best) { best = d; offset = (int)width; }
                if (e > best) { best = e; offset = (int)width + 1; }
                out[ox] = best < floor ? floor : best;
                if (outIndex) outIndex[ox] = rowIndex + (int)(2 * ox) + offset;
            }
        }
    }
}

static KERNEL_ATTRIBUTES void KERNEL_NAME(maxpool_backward)(const float *outputGradient, const float *pooled,
                                                            const int32_t *argmax, long planes, long height, long width,
                                                            int rectified, float *inputGradient) {
    const long outputHeight = height / 2, outputWidth = width / 2;
    const i8 lane = {0, 2, 4, 6, 8, 10, 12, 14}, below = splat_i8((int)width);
    const f8 zero = splat_f8(0.0f), one = splat_f8(1.0f);
    for (long plane = 0; plane < planes; plane++) {
        float *target = inputGradient + plane * height * width;
        for (long oy = 0; oy < outputHeight; oy++) {
            const long at = (plane * outputHeight + oy) * outputWidth;
            float *top = target + 2 * oy * width, *bottom = top + width;
            const int rowIndex = (int)(2 * oy * width);
            long ox = 0;
            for (; ox + 8 <= outputWidth; ox += 8) {
                f8 gradient = load_f8(outputGradient + at + ox);
                // `× 1` or `× 0`, as the scatter it replaces multiplied (a select would drop a NaN).
                if (rectified) gradient = gradient * select_f8((i8)(load_f8(pooled + at + ox) > zero), one, zero);
                i8 index;
                memcpy(&index, argmax + at + ox, sizeof index);
                const i8 first = splat_i8(rowIndex + (int)(2 * ox)) + lane;
                const f8 g0 = select_f8(index == first, gradient, zero), g1 = select_f8(index == first + 1, gradient, zero);
                const f8 g2 = select_f8(index == first + below, gradient, zero);
                const f8 g3 = select_f8(index == first + below + 1, gradient, zero);
                store_pair_f8(top + 2 * ox, g0, g1);
                store_pair_f8(bottom + 2 * ox, g2, g3);
            }
            for (; ox < outputWidth; ox++) {
                float gradient = outputGradient[at + ox];
                if (rectified) gradient *= pooled[at + ox] > 0 ? 1.0f : 0.0f;
                const int first = rowIndex + (int)(2 * ox), index = argmax[at + ox];
                top[2 * ox] = index == first ? gradient : 0;
                top[2 * ox + 1] = index == first + 1 ? gradient : 0;
                bottom[2 * ox] = index == first + (int)width ? gradient : 0;
                bottom[2 * ox + 1] = index == first + (int)width + 1 ? gradient : 0;
            }
            // An odd width's last column belongs to no window.
            if (width % 2) { top[width - 1] = 0; bottom[width - 1] = 0; }
        }
        // So does an odd height's last row.
        if (height % 2) memset(target + (height - 1) * width, 0, (size_t)width * sizeof(float));
    }
}
