// swift-tools-version:6.0
// Diffuse used as a library from another package: the examples of Docs/USAGE.md, built and run by
// `make examples` (or `swift run -c release` here) from any working directory.
import Foundation
import PackageDescription

// A path dependency is named after its folder, which is whatever the repository was cloned as.
let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized
let diffuse = repository.lastPathComponent

let package = Package(
    name: "LibraryUsage",
    platforms: [.macOS(.v13)],
    dependencies: [.package(path: repository.path)],
    targets: [
        .executableTarget(
            name: "LibraryUsage",
            dependencies: [
                .product(name: "DiffusionPipeline", package: diffuse),
                .product(name: "DiffusionService", package: diffuse),
            ]),
    ],
    swiftLanguageModes: [.v5]
)
