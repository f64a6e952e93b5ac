#if canImport(Accelerate)
import Accelerate
#else
import CBLAS
#endif

/// The one seam between the engine and the platform's BLAS: Accelerate on Apple platforms,
/// OpenBLAS elsewhere. Everything else in the engine calls these two functions only.
public enum BLAS {
    /// Row-major single-precision matrix product `C = alpha · op(A) · op(B) + beta · C`,
    /// where `op(A)` is `m × k` and `op(B)` is `k × n`.
    @inline(__always)
    public static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        #if canImport(Accelerate)
        cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
        #else
        cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                    blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb), beta, c, blasint(ldc))
        #endif
    }

    /// Sets how many threads the BLAS itself may use. The engine parallelises over the batch with
    /// its own workers, so it asks for one BLAS thread to never run both kinds at once.
    public static func setThreadCount(_ count: Int) {
        #if !canImport(Accelerate)
        openblas_set_num_threads(Int32(max(1, count)))
        #endif
    }
}
