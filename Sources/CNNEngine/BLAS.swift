#if canImport(Accelerate)
import Accelerate
#else
import CBLAS
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
#endif

/// The one seam between the engine and the platform's matrix products: Accelerate on Apple
/// platforms; on Linux oneDNN's `dnnl_sgemm` when the oneDNN library is installed, OpenBLAS
/// otherwise. Everything else in the engine calls these functions only.
///
/// Why oneDNN: OpenBLAS is pinned to its Haswell (AVX2) kernels on these machines
/// (`OPENBLAS_CORETYPE`), while oneDNN picks AVX-512 kernels where the processor has them —
/// about twice OpenBLAS's speed on this project's products (`benchmarks/sgemm_shapes.c`).
/// oneDNN is loaded at run time (`libdnnl.so.2`), so it is not needed to build or link the
/// package; `CNNPRUNE_GEMM=openblas` (or `onednn`) chooses explicitly. With oneDNN, the few
/// shapes it runs at half OpenBLAS's speed still go to OpenBLAS (`oneDNNIsSlow`).
public enum BLAS {
    /// A library that computes the engine's matrix products.
    public enum Backend: String, Sendable, CaseIterable {
        /// OpenBLAS's `cblas_sgemm` (Linux).
        case openBLAS = "openblas"
        /// oneDNN's `dnnl_sgemm`, loaded at run time (Linux).
        case oneDNN = "onednn"
        /// Apple's Accelerate (macOS and iOS).
        case accelerate = "accelerate"
    }

    /// The backend this process uses: `CNNPRUNE_GEMM` if set (an unavailable choice falls back
    /// to OpenBLAS), else oneDNN where it loads, else OpenBLAS; Accelerate on Apple platforms.
    public static let backend: Backend = {
        #if canImport(Accelerate)
        return .accelerate
        #else
        let wanted = getenv("CNNPRUNE_GEMM").map { String(cString: $0).lowercased() }
        if wanted == Backend.openBLAS.rawValue { return .openBLAS }
        return OneDNN.library != nil ? .oneDNN : .openBLAS
        #endif
    }()

    /// The backends that can run in this process (for tests and benchmarks that compare them).
    public static var availableBackends: [Backend] {
        #if canImport(Accelerate)
        return [.accelerate]
        #else
        return OneDNN.library != nil ? [.openBLAS, .oneDNN] : [.openBLAS]
        #endif
    }

    /// Row-major single-precision matrix product `C = alpha · op(A) · op(B) + beta · C`,
    /// where `op(A)` is `m × k` and `op(B)` is `k × n`, on this process's `backend`.
    @inline(__always)
    public static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        gemm(on: backend, transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
             alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
    }

    /// The same product on a chosen backend (one of `availableBackends`; an unavailable one
    /// runs on OpenBLAS, or Accelerate).
    public static func gemm(
        on backend: Backend, transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        #if canImport(Accelerate)
        cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
        #else
        if backend == .oneDNN, let library = OneDNN.library, !oneDNNIsSlow(transposeA: transposeA, transposeB: transposeB, n: n, k: k) {
            library.setThreads(Int32(threadCount))
            _ = library.sgemm(transposeA ? 84 : 78, transposeB ? 84 : 78, Int64(m), Int64(n), Int64(k),
                              alpha, a, Int64(lda), b, Int64(ldb), beta, c, Int64(ldc))
            return
        }
        cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                    blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb), beta, c, blasint(ldc))
        #endif
    }

    /// Whether oneDNN 2.6's `dnnl_sgemm` runs this product at half OpenBLAS's speed or less, so
    /// that OpenBLAS takes it: untransposed products at least 1,024 columns wide and 64 deep
    /// (`benchmarks/sgemm_shapes.c`, one thread, AVX2: `[32, 256] · [256, 2048]`, a linear
    /// layer's input gradient, 31 against 69 GFLOP/s; `[16, 144] · [144, 1024]` 33 against 60;
    /// `[32, 512] · [512, 4096]` 31 against 66), whereas narrower or shallower ones run as fast
    /// or faster on oneDNN (`[32, 512] · [512, 512]` 77 against 71; `[256, 32] · [32, 2048]` 50
    /// against 55).
    @inline(__always)
    static func oneDNNIsSlow(transposeA: Bool, transposeB: Bool, n: Int, k: Int) -> Bool {
        !transposeA && !transposeB && n >= 1024 && k >= 64
    }

    /// Threads one product may use (`setThreadCount`); 1 until set otherwise.
    nonisolated(unsafe) private static var threadCount = 1

    /// Sets how many threads the BLAS itself may use. The engine parallelises over the batch with
    /// its own workers, so it asks for one BLAS thread to never run both kinds at once.
    public static func setThreadCount(_ count: Int) {
        threadCount = max(1, count)
        #if !canImport(Accelerate)
        openblas_set_num_threads(Int32(threadCount))
        #endif
    }
}

#if !canImport(Accelerate)
/// oneDNN's `dnnl_sgemm`, found with `dlopen` so that the package neither needs oneDNN to build
/// nor links it. oneDNN runs its products on OpenMP threads; the calling thread's OpenMP team
/// size is set before every product (a thread-local store), so each engine worker's products
/// run on that worker alone.
struct OneDNN: @unchecked Sendable {
    typealias SGEMM = @convention(c) (CChar, CChar, Int64, Int64, Int64, Float, UnsafePointer<Float>?, Int64,
                                      UnsafePointer<Float>?, Int64, Float, UnsafeMutablePointer<Float>?, Int64) -> Int32
    typealias SetThreads = @convention(c) (Int32) -> Void

    let sgemm: SGEMM
    let setThreads: SetThreads

    /// The loaded library, or nil when `libdnnl.so.2` (or its OpenMP runtime) is missing.
    static let library: OneDNN? = {
        guard let handle = dlopen("libdnnl.so.2", RTLD_NOW | RTLD_LOCAL) ?? dlopen("libdnnl.so", RTLD_NOW | RTLD_LOCAL),
              let sgemm = dlsym(handle, "dnnl_sgemm"),
              let setThreads = dlsym(handle, "omp_set_num_threads")
        else { return nil }
        return OneDNN(sgemm: unsafeBitCast(sgemm, to: SGEMM.self), setThreads: unsafeBitCast(setThreads, to: SetThreads.self))
    }()
}
#endif
