// swift-tools-version:6.0
import PackageDescription

/// cnnprune: train small CNNs on CIFAR-10 and study structured channel pruning.
///
/// Modules, each readable on its own:
/// - `CNNEngine`: tensors, layers, losses, optimizers, the SimpleCNN, safetensors checkpoints.
/// - `CNNKernels` (C, internal to the engine): loops that want AVX2, chosen at run time.
/// - `CNNDatasets`: the data set readers (CIFAR-10/100, MNIST IDX, image folders), normalisation, downloads.
/// - `CNNPruning`: channel-importance criteria, masking, sweeps, sensitivity, removal.
/// - `CNNCharts`: line charts as SVG, PNG and terminal text.
/// - `CNNExport`: ONNX export (opset 17) of any network, through SwiftProtobuf's generated `onnx.proto` types.
/// - `CNNStatistics`: means, t and Welch tests, intervals, bootstrap, Holm, TOST (no dependencies).
/// - `CNNStudy`: the whole pruning study as a library — the exercise's loop, the corrected sweeps,
///   the ablation, sensitivity, removal with fine-tuning and timing, several models — with typed
///   results, and the Markdown report, JSON documents and charts made from them.
/// - `cnnprune`: the command-line tool.
///
/// Each library has a DocC catalog (`Sources/<Module>/<Module>.docc`); `Examples/PruneFromSwift`
/// is a separate package using them by version. scripts/docs_check.sh and
/// scripts/example_check.sh build both in CI.
///
/// No target uses `unsafeFlags`: the engine's hot loops use wrapping arithmetic (`&+`, `&*`) and
/// raw pointers where `-Ounchecked` used to drop the checks, and `swift test -c release` builds
/// with testable imports by default (`--enable-testable-imports`), which the chart tests need.
let package = Package(
    name: "cnnprune",
    products: [
        .executable(name: "cnnprune", targets: ["cnnprune"]),
        .library(name: "CNNEngine", targets: ["CNNEngine"]),
        .library(name: "CNNDatasets", targets: ["CNNDatasets"]),
        .library(name: "CNNPruning", targets: ["CNNPruning"]),
        .library(name: "CNNCharts", targets: ["CNNCharts"]),
        .library(name: "CNNExport", targets: ["CNNExport"]),
        .library(name: "CNNStatistics", targets: ["CNNStatistics"]),
        .library(name: "CNNStudy", targets: ["CNNStudy"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        // `swift package generate-documentation` (scripts/docs_check.sh): the DocC catalogs.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"]), .brew(["zlib"])]
        ),
        .systemLibrary(
            name: "CPNG",
            pkgConfig: "libpng",
            providers: [.apt(["libpng-dev"]), .brew(["libpng"])]
        ),
        .systemLibrary(
            name: "CJPEG",
            pkgConfig: "libjpeg",
            providers: [.apt(["libjpeg62-turbo-dev"]), .brew(["jpeg-turbo"])]
        ),
        // C: the Winograd transforms, portable and with AVX2 chosen at run time (Swift builds
        // for baseline x86-64 here, 128-bit vectors).
        .target(name: "CNNKernels"),
        .target(
            name: "CNNEngine",
            dependencies: [
                "CNNKernels",
                .target(name: "CBLAS", condition: .when(platforms: [.linux])),
            ]
        ),
        .target(name: "CNNDatasets", dependencies: ["CNNEngine", "CZlib", "CPNG", "CJPEG"]),
        .target(name: "CNNPruning", dependencies: ["CNNEngine", "CNNDatasets"]),
        .target(name: "CNNCharts", dependencies: ["CZlib"]),
        // Generated/onnx.pb.swift comes from Protos/onnx.proto (scripts/generate_onnx_proto.sh).
        .target(
            name: "CNNExport",
            dependencies: ["CNNEngine", "CNNDatasets", .product(name: "SwiftProtobuf", package: "swift-protobuf")]
        ),
        // Pure Swift, no dependencies: statistics of repeated runs (seeds), checked against SciPy.
        .target(name: "CNNStatistics"),
        // The study `cnnprune experiment` runs, as an API: typed results, report, JSON and charts.
        .target(name: "CNNStudy", dependencies: ["CNNEngine", "CNNDatasets", "CNNPruning", "CNNCharts", "CNNStatistics"]),
        .executableTarget(
            name: "cnnprune",
            dependencies: [
                "CNNEngine", "CNNDatasets", "CNNPruning", "CNNCharts", "CNNExport", "CNNStatistics", "CNNStudy",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "CNNEngineTests", dependencies: ["CNNEngine", "CNNKernels"]),
        .testTarget(name: "CNNDatasetsTests", dependencies: ["CNNDatasets", "CNNEngine", "CZlib", "CPNG", "CJPEG"]),
        .testTarget(name: "CNNChartsTests", dependencies: ["CNNCharts", "CZlib"]),
        .testTarget(name: "CNNPruningTests", dependencies: ["CNNPruning", "CNNEngine", "CNNDatasets"]),
        .testTarget(name: "CNNExportTests", dependencies: [
            "CNNExport", "CNNEngine", "CNNDatasets", .product(name: "SwiftProtobuf", package: "swift-protobuf"),
        ]),
        .testTarget(name: "CNNStudyTests", dependencies: ["CNNStudy", "CNNPruning", "CNNEngine", "CNNDatasets", "CNNCharts"]),
        .testTarget(name: "CNNStatisticsTests", dependencies: ["CNNStatistics"], exclude: ["make_reference.py"]),
        // The command line's own tests: they launch the built `cnnprune` (its output files,
        // messages and exit codes) on tiny data sets they write.
        .testTarget(name: "cnnpruneTests", dependencies: ["cnnprune", "CNNEngine", "CNNDatasets"]),
    ]
)
