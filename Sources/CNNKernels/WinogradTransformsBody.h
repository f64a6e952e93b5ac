// The Winograd F(2×2, 3×3) transforms, written once and compiled twice by WinogradTransforms.c:
// with KERNEL_ATTRIBUTES empty (the portable build) and with target("avx2,fma"). The vectors
// are clang's vector extensions, 8 or 4 tiles of a row of tiles at a time; the compiler lowers
// them to one 256-bit or two 128-bit instructions.

/// `Bᵀ d` (or `d B`) of four values: `d₀ − d₂, d₁ + d₂, d₂ − d₁, d₁ − d₃`.
#define INPUT_COMBINE(t, d0, d1, d2, d3) do { (t)[0] = (d0) - (d2); (t)[1] = (d1) + (d2); (t)[2] = (d2) - (d1); (t)[3] = (d1) - (d3); } while (0)

/// Tiles `tx ..< tx + lanes` of the tile row whose four padded rows start at `r0`: the rows'
/// even and odd columns, `d B` along each row, `Bᵀ (d B)` down the columns, 16 stores.
#define INPUT_TILES(V, lanes, LOAD_ROW)                                                      \
    do {                                                                                     \
        V t[4][4];                                                                           \
        const float *rows[4] = {r0, r1, r2, r3};                                             \
        for (int i = 0; i < 4; i++) {                                                        \
            V d0, d1, d2, d3;                                                                \
            LOAD_ROW(rows[i] + 2 * tx, d0, d1);                                              \
            LOAD_ROW(rows[i] + 2 * tx + 2, d2, d3);                                          \
            INPUT_COMBINE(t[i], d0, d1, d2, d3);                                             \
        }                                                                                    \
        for (int j = 0; j < 4; j++) {                                                        \
            V column[4];                                                                     \
            INPUT_COMBINE(column, t[0][j], t[1][j], t[2][j], t[3][j]);                       \
            for (int k = 0; k < 4; k++) store_##V(out + (k * 4 + j) * positionStride + tx, column[k]); \
        }                                                                                    \
    } while (0)

static KERNEL_ATTRIBUTES void KERNEL_NAME(input_plane)(const float *plane, long height, long width, float *padded,
                                                       float *v, long positionStride) {
    const long tilesY = (height + 1) / 2, tilesX = (width + 1) / 2, rowLength = 2 * tilesX + 2;
    for (long y = 0; y < height; y++) memcpy(padded + (y + 1) * rowLength + 1, plane + y * width, (size_t)width * sizeof(float));
    for (long ty = 0; ty < tilesY; ty++) {
        const float *r0 = padded + 2 * ty * rowLength, *r1 = r0 + rowLength, *r2 = r1 + rowLength, *r3 = r2 + rowLength;
        float *out = v + ty * tilesX;
        long tx = 0;
        // A row of 8 tiles reads columns 2·tx ..< 2·tx + 18, inside the padded row's 2·tilesX + 2.
        for (; tx + 8 <= tilesX; tx += 8) INPUT_TILES(f8, 8, load_even_odd_f8);
        for (; tx + 4 <= tilesX; tx += 4) INPUT_TILES(f4, 4, load_even_odd_f4);
        for (; tx < tilesX; tx++) {
            float t[4][4];
            const float *rows[4] = {r0, r1, r2, r3};
            for (int i = 0; i < 4; i++) {
                const float *d = rows[i] + 2 * tx;
                INPUT_COMBINE(t[i], d[0], d[1], d[2], d[3]);
            }
            for (int j = 0; j < 4; j++) {
                float column[4];
                INPUT_COMBINE(column, t[0][j], t[1][j], t[2][j], t[3][j]);
                for (int k = 0; k < 4; k++) out[(k * 4 + j) * positionStride + tx] = column[k];
            }
        }
    }
}

static KERNEL_ATTRIBUTES void KERNEL_NAME(input)(const float *image, long channels, long height, long width, float *padded,
                                                 float *v, long channelStride, long positionStride) {
    for (long c = 0; c < channels; c++)
        KERNEL_NAME(input_plane)(image + c * height * width, height, width, padded, v + c * channelStride, positionStride);
}

/// `Aᵀ M A` for `lanes` tiles from their 16 positions `m[p]`: the 2×2 outputs `y[row][column]`.
#define OUTPUT_COMBINE(m, y) do {                                                            \
        __typeof__(m[0]) a0[4], a1[4];                                                      \
        for (int j = 0; j < 4; j++) { a0[j] = m[j] + m[4 + j] + m[8 + j]; a1[j] = m[4 + j] - m[8 + j] - m[12 + j]; } \
        y[0][0] = a0[0] + a0[1] + a0[2]; y[0][1] = a0[1] - a0[2] - a0[3];                 \
        y[1][0] = a1[0] + a1[1] + a1[2]; y[1][1] = a1[1] - a1[2] - a1[3];                 \
    } while (0)

#define OUTPUT_TILES(V, lanes, STORE_PAIR, RECTIFY)                                          \
    do {                                                                                     \
        V mv[16], y[2][2];                                                                   \
        for (int p = 0; p < 16; p++) mv[p] = load_##V(source + p * positionStride + tx);    \
        OUTPUT_COMBINE(mv, y);                                                               \
        for (int r = 0; r < 2; r++) for (int c = 0; c < 2; c++) y[r][c] = RECTIFY(y[r][c] + shift); \
        STORE_PAIR(top + 2 * tx, y[0][0], y[0][1]);                                          \
        if (hasBottom) STORE_PAIR(bottom + 2 * tx, y[1][0], y[1][1]);                        \
    } while (0)

/// Each tile's 2×2 outputs max-pooled to one value (tile `t` is pooling window `t`).
#define OUTPUT_POOLED_TILES(V, MAX, RECTIFY)                                                 \
    do {                                                                                     \
        V mv[16], y[2][2];                                                                   \
        for (int p = 0; p < 16; p++) mv[p] = load_##V(source + p * positionStride + tx);    \
        OUTPUT_COMBINE(mv, y);                                                               \
        const V pooled = MAX(MAX(y[0][0], y[0][1]), MAX(y[1][0], y[1][1])) + shift;          \
        store_##V(target + tx, RECTIFY(pooled));                                             \
    } while (0)

/// The output transform with a 2×2, stride-2 max-pool (even height and width): one value per tile.
static KERNEL_ATTRIBUTES void KERNEL_NAME(output_pooled)(const float *m, long positionStride, long rowStride, long channels,
                                                         long height, long width, const float *bias, int rectifies,
                                                         float *output) {
    const long tilesY = height / 2, tilesX = width / 2;
    for (long o = 0; o < channels; o++) {
        const float shift = bias ? bias[o] : 0.0f;
        for (long ty = 0; ty < tilesY; ty++) {
            const float *source = m + o * rowStride + ty * tilesX;
            float *target = output + (o * tilesY + ty) * tilesX;
            long tx = 0;
            if (rectifies) {
                for (; tx + 8 <= tilesX; tx += 8) OUTPUT_POOLED_TILES(f8, max_f8, rectify_f8);
                for (; tx + 4 <= tilesX; tx += 4) OUTPUT_POOLED_TILES(f4, max_f4, rectify_f4);
            } else {
                for (; tx + 8 <= tilesX; tx += 8) OUTPUT_POOLED_TILES(f8, max_f8, );
                for (; tx + 4 <= tilesX; tx += 4) OUTPUT_POOLED_TILES(f4, max_f4, );
            }
            for (; tx < tilesX; tx++) {
                float mv[16], y[2][2];
                for (int p = 0; p < 16; p++) mv[p] = source[p * positionStride + tx];
                OUTPUT_COMBINE(mv, y);
                const float top = y[0][0] > y[0][1] ? y[0][0] : y[0][1], bottom = y[1][0] > y[1][1] ? y[1][0] : y[1][1];
                const float pooled = (top > bottom ? top : bottom) + shift;
                target[tx] = rectifies && pooled < 0 ? 0 : pooled;
            }
        }
    }
}

static KERNEL_ATTRIBUTES void KERNEL_NAME(output)(const float *m, long positionStride, long rowStride, long channels,
                                                  long height, long width, const float *bias, int rectifies, int pools,
                                                  float *output) {
    if (pools) {
        KERNEL_NAME(output_pooled)(m, positionStride, rowStride, channels, height, width, bias, rectifies, output);
        return;
    }
    const long tilesY = (height + 1) / 2, tilesX = (width + 1) / 2, plane = height * width;
    // Tiles whose two columns both lie inside the output.
    const long fullTiles = width / 2;
    for (long o = 0; o < channels; o++) {
        const float shift = bias ? bias[o] : 0.0f;
        for (long ty = 0; ty < tilesY; ty++) {
            const float *source = m + o * rowStride + ty * tilesX;
            float *top = output + o * plane + 2 * ty * width;
            const int hasBottom = 2 * ty + 1 < height;
            float *bottom = hasBottom ? top + width : top;
            long tx = 0;
            if (rectifies) {
                for (; tx + 8 <= fullTiles; tx += 8) OUTPUT_TILES(f8, 8, store_pair_f8, rectify_f8);
                for (; tx + 4 <= fullTiles; tx += 4) OUTPUT_TILES(f4, 4, store_pair_f4, rectify_f4);
            } else {
                for (; tx + 8 <= fullTiles; tx += 8) OUTPUT_TILES(f8, 8, store_pair_f8, );
                for (; tx + 4 <= fullTiles; tx += 4) OUTPUT_TILES(f4, 4, store_pair_f4, );
            }
            for (; tx < tilesX; tx++) {
                float mv[16], y[2][2];
                for (int p = 0; p < 16; p++) mv[p] = source[p * positionStride + tx];
                OUTPUT_COMBINE(mv, y);
                for (int r = 0; r < 2; r++) for (int c = 0; c < 2; c++) {
                    const float value = y[r][c] + shift;
                    y[r][c] = rectifies && value < 0 ? 0 : value;
                }
                const long x = 2 * tx;
                top[x] = y[0][0];
                if (tx < fullTiles) top[x + 1] = y[0][1];
                if (hasBottom) {
                    bottom[x] = y[1][0];
                    if (tx < fullTiles) bottom[x + 1] = y[1][1];
                }
            }
        }
    }
}

/// `G g Gᵀ` of one filter into `t[p]`, `G = [[1, 0, 0], [½, ½, ½], [½, −½, ½], [0, 0, 1]]`.
static inline __attribute__((always_inline)) void KERNEL_NAME(weight_tile)(const float *g, float t[16]) {
    float r[4][3];
    for (int j = 0; j < 3; j++) {
        r[0][j] = g[j];
        r[1][j] = 0.5f * (g[j] + g[3 + j] + g[6 + j]);
        r[2][j] = 0.5f * (g[j] - g[3 + j] + g[6 + j]);
        r[3][j] = g[6 + j];
    }
    for (int i = 0; i < 4; i++) {
        t[i * 4 + 0] = r[i][0];
        t[i * 4 + 1] = 0.5f * (r[i][0] + r[i][1] + r[i][2]);
        t[i * 4 + 2] = 0.5f * (r[i][0] - r[i][1] + r[i][2]);
        t[i * 4 + 3] = r[i][2];
    }
}

static KERNEL_ATTRIBUTES void KERNEL_NAME(weights)(const float *weight, long outputs, long channels, float *u, long positionStride) {
    for (long o = 0; o < outputs; o++) {
        long c = 0;
        // Eight filters at a time, so that each position's stores are one contiguous run.
        for (; c + 8 <= channels; c += 8) {
            float t[8][16];
            for (int l = 0; l < 8; l++) KERNEL_NAME(weight_tile)(weight + (o * channels + c + l) * 9, t[l]);
            for (int p = 0; p < 16; p++) {
                float *target = u + p * positionStride + o * channels + c;
                for (int l = 0; l < 8; l++) target[l] = t[l][p];
            }
        }
        for (; c < channels; c++) {
            float t[16];
            KERNEL_NAME(weight_tile)(weight + (o * channels + c) * 9, t);
            for (int p = 0; p < 16; p++) u[p * positionStride + o * channels + c] = t[p];
        }
    }
}

#undef INPUT_TILES
#undef OUTPUT_TILES
#undef OUTPUT_POOLED_TILES
#undef OUTPUT_COMBINE
#undef INPUT_COMBINE
