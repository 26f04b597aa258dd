// swift-tools-version:6.0
import PackageDescription

// libFuzzer harnesses for the parsers that read untrusted bytes (Docs/RELIABILITY.md).
// A package of its own so that the main Package.swift stays free of sanitizer builds;
// run.sh builds it with `-sanitize=fuzzer,address -enable-testing` (the harnesses reach
// internal parsers through `@testable import`).
let diffuse: [Target.Dependency] = [
    .product(name: "DiffusionPipeline", package: "Diffuse"), .product(name: "DiffusionService", package: "Diffuse"),
]

/// One executable per harness, in Targets/<name>/, started by libFuzzer's driver (FuzzDriver).
func harness(_ name: String) -> Target {
    .executableTarget(name: name, dependencies: diffuse + ["FuzzDriver"], path: "Targets/\(name)")
}

let package = Package(
    name: "DiffuseFuzz",
    dependencies: [.package(name: "Diffuse", path: "..")],
    targets: [
        .target(name: "FuzzDriver", path: "Targets/FuzzDriver"),
        harness("FuzzSafeTensors"),
        harness("FuzzImage"),
        harness("FuzzDataURL"),
        harness("FuzzExif"),
        harness("FuzzRequest"),
        harness("FuzzModality"),
        harness("FuzzSchedulerConfig"),
        harness("FuzzPickle"),
    ],
    swiftLanguageModes: [.v5]
)
