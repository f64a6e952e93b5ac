import CNNKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Which build of the engine's C loops (CNNKernels: Winograd's transforms, the direct 3×3
/// convolution of input layers, Adam's update) runs: the one with 256-bit AVX2 vectors, which
/// Swift does not emit for a baseline x86-64 build, or the portable one.
public enum KernelBuild {
    /// Whether the AVX2 build runs: where the processor has AVX2 and FMA, unless
    /// `CNNPRUNE_AVX2` is `0` (the portable build, and no direct 3×3 kernel, for comparisons).
    public static let usesAVX2: Bool = {
        if let value = getenv("CNNPRUNE_AVX2"), String(cString: value) == "0" { return false }
        return cnnk_has_avx2() != 0
    }()

    /// `usesAVX2` as the kernels' `avx2` argument.
    static var avx2: Int32 { usesAVX2 ? 1 : 0 }
}
