/* sgemm_shapes: single-thread sgemm GFLOP/s at the matrix shapes cnnprune's convolutions
 * produce (ResNet-20 and VGG-11 on 32x32 CIFAR images), one image per call against several
 * images per call, plus a large square product as the practical peak (on one thread and on
 * two), for OpenBLAS and for oneDNN's dnnl_sgemm (the engine's backend where libdnnl loads; see
 * Sources/CNNEngine/BLAS.swift). oneDNN is found at run time, as the engine finds it (dlopen of
 * libdnnl.so.2, so Debian's libdnnl2 is enough: no headers); without it, OpenBLAS only.
 *
 *   cc -O2 benchmarks/sgemm_shapes.c $(pkg-config --cflags --libs openblas) -ldl -o /tmp/sgemm_shapes
 *   /tmp/sgemm_shapes            # one line per shape: name, m n k, GFLOP/s per library (best of 5)
 *   /tmp/sgemm_shapes NT:9x16x1024 NN:32x2048x256   # only these shapes: op(A) op(B), m x n x k
 *
 * Row-major, as the engine calls it (BLAS.swift). The BLAS runs on one thread (the engine
 * splits batches over its own workers). Figures are the best of 5 timed repetitions of a
 * loop that runs for at least 0.2 s, so a shared machine's noise mostly shows as a lower best. */
#include <cblas.h>
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

/* oneDNN's dnnl_sgemm and its OpenMP runtime's omp_set_num_threads, when libdnnl loads. */
typedef int (*dnnl_sgemm_fn)(char, char, int64_t, int64_t, int64_t, float, const float *, int64_t,
                             const float *, int64_t, float, float *, int64_t);
static dnnl_sgemm_fn dnnl_sgemm;
static void (*omp_threads)(int);

/* GFLOP/s of C = op(A) op(B) with op(A) m x k, op(B) k x n. */
static int use_dnnl = 0;
static void gemm(int ta, int tb, int m, int n, int k, const float *a, int lda, const float *b, int ldb, float *c) {
    if (use_dnnl) { dnnl_sgemm(ta ? 'T' : 'N', tb ? 'T' : 'N', m, n, k, 1, a, lda, b, ldb, 0, c, n); return; }
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n, k, 1, a, lda, b, ldb, 0, c, n);
}
static double measure(int ta, int tb, int m, int n, int k) {
    float *a = malloc(sizeof(float) * (size_t)m * k), *b = malloc(sizeof(float) * (size_t)k * n);
    float *c = malloc(sizeof(float) * (size_t)m * n);
    for (size_t i = 0; i < (size_t)m * k; i++) a[i] = (float)((i * 7) % 13) * 0.1f - 0.6f;
    for (size_t i = 0; i < (size_t)k * n; i++) b[i] = (float)((i * 5) % 11) * 0.1f - 0.5f;
    memset(c, 0, sizeof(float) * (size_t)m * n);
    int lda = ta ? m : k, ldb = tb ? k : n;
    double flops = 2.0 * m * n * k, best = 0;
    long reps = 1;
    for (;;) { /* calibrate: at least 0.2 s per timing */
        double t0 = now();
        for (long r = 0; r < reps; r++)
            gemm(ta, tb, m, n, k, a, lda, b, ldb, c);
        if (now() - t0 > 0.2) break;
        reps *= 2;
    }
    for (int trial = 0; trial < 5; trial++) {
        double t0 = now();
        for (long r = 0; r < reps; r++)
            gemm(ta, tb, m, n, k, a, lda, b, ldb, c);
        double g = flops * reps / (now() - t0) / 1e9;
        if (g > best) best = g;
    }
    free(a); free(b); free(c);
    return best;
}

static void set_threads(int n) {
    openblas_set_num_threads(n);
    if (omp_threads) omp_threads(n);
}

int main(int argc, char **argv) {
    void *library = dlopen("libdnnl.so.2", RTLD_NOW | RTLD_LOCAL);
    if (!library) library = dlopen("libdnnl.so", RTLD_NOW | RTLD_LOCAL);
    if (library) {
        dnnl_sgemm = (dnnl_sgemm_fn)dlsym(library, "dnnl_sgemm");
        omp_threads = (void (*)(int))dlsym(library, "omp_set_num_threads");
    }
    const int libraries = dnnl_sgemm && omp_threads ? 2 : 1;
    set_threads(2);
    double peak2[2] = {0, 0};
    for (int l = 0; l < libraries; l++) { use_dnnl = l; peak2[l] = measure(0, 0, 1024, 1024, 1024); }
    set_threads(1);
    struct { const char *name; int ta, tb, m, n, k; } shapes[] = {
        {"square 1024 (peak)", 0, 0, 1024, 1024, 1024},
        /* SimpleCNN conv1: 3 -> 16 channels, 3x3, 32x32: one kernel row's shifted slice (k = 3 * 3), or the whole im2col (k = 27) */
        {"simple conv1 shifted row", 0, 0, 16, 1024, 9},
        {"simple conv1 im2col 1 img", 0, 0, 16, 1024, 27},
        {"simple conv1 im2col 8 img", 0, 0, 16, 8192, 27},
        /* SimpleCNN conv2: 16 -> 32 channels, 3x3, 16x16 */
        {"simple conv2 shifted row", 0, 0, 32, 256, 48},
        {"simple conv2 im2col 1 img", 0, 0, 32, 256, 144},
        {"simple conv2 im2col 8 img", 0, 0, 32, 2048, 144},
        {"simple conv2 winograd 128", 0, 0, 32, 128, 16},
        /* SimpleCNN fc1 on a batch of 64: x[64, 2048] x W^T[2048, 256] */
        {"simple fc1 batch 64", 0, 1, 64, 256, 2048},
        /* ResNet-20 stage 1: 16 -> 16 channels, 3x3, 32x32 output: W[16,144] x cols[144, 1024 * images] */
        {"r20 s1 fwd 1 img", 0, 0, 16, 1024, 144},
        {"r20 s1 fwd 8 img", 0, 0, 16, 8192, 144},
        {"r20 s1 fwd 64 img", 0, 0, 16, 65536, 144},
        /* the same as NHWC: cols^T[pixels, 144] x W^T[144, 16] */
        {"r20 s1 fwd nhwc 8 img", 0, 1, 8192, 16, 144},
        /* weight gradient: dY[16, pixels] x cols^T[pixels, 144] */
        {"r20 s1 dW 1 img", 0, 1, 16, 144, 1024},
        {"r20 s1 dW 8 img", 0, 1, 16, 144, 8192},
        {"r20 s1 dW 64 img", 0, 1, 16, 144, 65536},
        /* data gradient: W^T[144, 16] x dY[16, pixels] */
        {"r20 s1 dX 1 img", 1, 0, 144, 1024, 16},
        {"r20 s1 dX 8 img", 1, 0, 144, 8192, 16},
        /* the shifted-row path (Conv2D+ShiftedRows): one kernel row's slice W_ky[16, 48] x rows[48, 1024] (the engine reads it with ldb 1088; here ldb = n) */
        {"r20 s1 fwd shifted row", 0, 0, 16, 1024, 48},
        /* the Winograd F(2x2, 3x3) forward (Conv2DWinograd.swift): 16 products U[p][16, 16] x V[p][16, 128 tiles] */
        {"r20 s1 winograd 128 tiles", 0, 0, 16, 128, 16},
        /* stage 3: 64 -> 64 channels, 8x8 output */
        {"r20 s3 fwd 1 img", 0, 0, 64, 64, 576},
        {"r20 s3 fwd 8 img", 0, 0, 64, 512, 576},
        {"r20 s3 fwd 64 img", 0, 0, 64, 4096, 576},
        {"r20 s3 winograd 128 tiles", 0, 0, 64, 128, 64},
        {"r20 s3 dW 1 img", 0, 1, 64, 576, 64},
        {"r20 s3 dW 64 img", 0, 1, 64, 576, 4096},
        {"r20 s3 dX 1 img", 1, 0, 576, 64, 64},
        {"r20 s3 dX 64 img", 1, 0, 576, 4096, 64},
        /* VGG-11 features.4: 64 -> 128 channels, 16x16 output */
        {"vgg 64-128 fwd 1 img", 0, 0, 128, 256, 576},
        {"vgg 64-128 fwd 16 img", 0, 0, 128, 4096, 576},
        /* VGG-11 late layers: 512 -> 512, 4x4 and 2x2 outputs */
        {"vgg 512 4x4 fwd 1 img", 0, 0, 512, 16, 4608},
        {"vgg 512 4x4 fwd 64 img", 0, 0, 512, 1024, 4608},
        {"vgg 512 2x2 dW 1 img", 0, 1, 512, 4608, 4},
        {"vgg 512 2x2 dW 64 img", 0, 1, 512, 4608, 256},
    };
    size_t shapeCount = sizeof shapes / sizeof shapes[0];
    if (argc > 1) {
        /* Shapes from the command line, `NT:9x16x1024` (op(A) op(B): N or T; then m x n x k). */
        size_t count = 0;
        for (int i = 1; i < argc && count < sizeof shapes / sizeof shapes[0]; i++) {
            char ta, tb; int m, n, k;
            if (sscanf(argv[i], "%c%c:%dx%dx%d", &ta, &tb, &m, &n, &k) != 5 || (ta != 'N' && ta != 'T') || (tb != 'N' && tb != 'T')
                || m <= 0 || n <= 0 || k <= 0) {
                fprintf(stderr, "sgemm_shapes: %s is not a shape like NT:9x16x1024\n", argv[i]);
                return 2;
            }
            shapes[count].name = argv[i];
            shapes[count].ta = ta == 'T'; shapes[count].tb = tb == 'T';
            shapes[count].m = m; shapes[count].n = n; shapes[count].k = k;
            count++;
        }
        shapeCount = count;
    }
    printf("%-24s %6s %6s %6s %8s %8s\n", "shape", "m", "n", "k", "OpenBLAS", libraries > 1 ? "oneDNN" : "");
    if (libraries > 1) printf("%-24s %6d %6d %6d %8.1f %8.1f\n", "square 1024, 2 threads", 1024, 1024, 1024, peak2[0], peak2[1]);
    else printf("%-24s %6d %6d %6d %8.1f\n", "square 1024, 2 threads", 1024, 1024, 1024, peak2[0]);
    for (size_t i = 0; i < shapeCount; i++) {
        use_dnnl = 0; double g = measure(shapes[i].ta, shapes[i].tb, shapes[i].m, shapes[i].n, shapes[i].k);
        printf("%-24s %6d %6d %6d %8.1f", shapes[i].name, shapes[i].m, shapes[i].n, shapes[i].k, g);
        if (libraries > 1) { use_dnnl = 1; printf(" %8.1f", measure(shapes[i].ta, shapes[i].tb, shapes[i].m, shapes[i].n, shapes[i].k)); }
        printf("\n");
        fflush(stdout);
    }
    return 0;
}
