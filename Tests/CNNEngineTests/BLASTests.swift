import CNNEngine
import Testing

/// Every matrix-product backend this process can load against a naïve triple loop in float64,
/// over the transposes, leading dimensions, alpha and beta the layers use.
@Suite struct BLASTests {
    /// Row-major `alpha · op(A) · op(B) + beta · C` in float64.
    static func naive(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                      a: [Float], lda: Int, b: [Float], ldb: Int, beta: Float, c: [Float], ldc: Int) -> [Double] {
        var result = c.map(Double.init)
        for i in 0..<m {
            for j in 0..<n {
                var sum = 0.0
                for p in 0..<k {
                    let x = transposeA ? a[p * lda + i] : a[i * lda + p]
                    let y = transposeB ? b[j * ldb + p] : b[p * ldb + j]
                    sum += Double(x) * Double(y)
                }
                result[i * ldc + j] = Double(alpha) * sum + Double(beta) * Double(c[i * ldc + j])
            }
        }
        return result
    }

    static func values(_ count: Int, seed: UInt64) -> [Float] {
        var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        return (0..<count).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int(state >> 40) % 2001 - 1000) / 1000
        }
    }

    @Test(arguments: BLAS.availableBackends)
    func productsMatchNaiveLoops(backend: BLAS.Backend) {
        // (m, n, k) from tiny to the layers' thin shapes, with padded leading dimensions.
        let shapes = [(1, 1, 1), (3, 5, 7), (16, 1024, 27), (32, 256, 144), (10, 64, 2048), (144, 64, 16), (17, 4, 300)]
        for (m, n, k) in shapes {
            for transposeA in [false, true] {
                for transposeB in [false, true] {
                    for (alpha, beta) in [(Float(1), Float(0)), (1, 1), (-1, 1), (0.5, 0.25)] {
                        let lda = (transposeA ? m : k) + 3, ldb = (transposeB ? k : n) + 2, ldc = n + 1
                        let a = Self.values((transposeA ? k : m) * lda, seed: UInt64(m * 31 + k))
                        let b = Self.values((transposeB ? n : k) * ldb, seed: UInt64(n * 17 + k))
                        var c = Self.values(m * ldc, seed: UInt64(m + n))
                        let expected = Self.naive(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
                                                  a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
                        a.withUnsafeBufferPointer { a in
                            b.withUnsafeBufferPointer { b in
                                c.withUnsafeMutableBufferPointer { c in
                                    BLAS.gemm(on: backend, transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
                                              a: a.baseAddress!, lda: lda, b: b.baseAddress!, ldb: ldb, beta: beta, c: c.baseAddress!, ldc: ldc)
                                }
                            }
                        }
                        var worst = 0.0
                        for i in 0..<m {
                            for j in 0..<n { worst = max(worst, abs(Double(c[i * ldc + j]) - expected[i * ldc + j])) }
                            // The padding between rows is never written.
                            for j in n..<ldc { #expect(c[i * ldc + j] == Self.values(m * ldc, seed: UInt64(m + n))[i * ldc + j]) }
                        }
                        // Entries are sums of k products of values in [−1, 1].
                        #expect(worst <= 1e-6 * Double(k) + 1e-6, "\(backend) m \(m) n \(n) k \(k) tA \(transposeA) tB \(transposeB): \(worst)")
                    }
                }
            }
        }
    }

    @Test func backendIsOneOfTheAvailable() {
        #expect(BLAS.availableBackends.contains(BLAS.backend))
    }
}
