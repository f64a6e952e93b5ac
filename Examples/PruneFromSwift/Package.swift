// swift-tools-version:6.0
import PackageDescription

/// An app outside the cnnprune package that uses its libraries the way any other package would:
/// by version, from a URL. `CNNPRUNE_URL` points the dependency at another copy (CI sets it to
/// a tagged clone: scripts/example_check.sh); without it, the public repository is used.
let cnnpruneURL = Context.environment["CNNPRUNE_URL"] ?? "https://github.com/cnnprune/cnnprune"

let package = Package(
    name: "PruneFromSwift",
    dependencies: [
        .package(url: cnnpruneURL, from: "1.0.0"),
    ],
    targets: [
        .executableTarget(
            name: "PruneFromSwift",
            dependencies: [
                .product(name: "CNNEngine", package: "cnnprune"),
                .product(name: "CNNPruning", package: "cnnprune"),
            ]
        ),
    ]
)
