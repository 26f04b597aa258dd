// swift-tools-version:6.0
import PackageDescription

// Numeric kernels are written with Swift SIMD types; without a target CPU the compiler
// lowers them to SSE2 and loses FMA. Haswell (AVX2 + FMA) is the
// baseline every current x86 server meets.
let simdFlags: [SwiftSetting] = [.unsafeFlags(["-target-cpu", "haswell"])]

let package = Package(
    name: "Diffuse",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "DiffusionPipeline", targets: ["DiffusionPipeline"]),
        .library(name: "DiffusionService", targets: ["DiffusionService"]),
        .library(name: "DiffusionCore", targets: ["DiffusionCore"]),
        .executable(name: "diffuse", targets: ["diffuse"]),
        .executable(name: "diffuse-bench", targets: ["diffuse-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // System libraries and C shims.
        // cpuid, and OpenBLAS loaded at run time so its core can be chosen before it initializes.
        .target(name: "CPlatform", path: "Sources/CPlatform", linkerSettings: [.linkedLibrary("dl", .when(platforms: [.linux]))]),
        .target(name: "CPNG", path: "Sources/CPNG", linkerSettings: [.linkedLibrary("png16")]),
        // libjpeg-turbo (Debian's libjpeg62-turbo-dev) behind a shim, for the same longjmp reason as libpng.
        .target(name: "CJPEG", path: "Sources/CJPEG", linkerSettings: [.linkedLibrary("jpeg")]),

        // Kernels: tensors, BLAS matmul, SIMD convolution, norms, attention, threading.
        .target(name: "DiffusionCore", dependencies: ["CPlatform"], swiftSettings: simdFlags),
        // File formats: safetensors, PNG, image resampling.
        .target(name: "DiffusionFormats", dependencies: ["DiffusionCore", "CPNG", "CJPEG"], swiftSettings: simdFlags),
        // Models: CLIP, UNet, VAE, ControlNet, IP-Adapter.
        .target(name: "DiffusionModels", dependencies: ["DiffusionCore", "DiffusionFormats"], swiftSettings: simdFlags),
        // The 15 diffusers schedulers and the torch-compatible random source.
        .target(name: "DiffusionSchedulers", swiftSettings: simdFlags),
        // Control-image detectors (canny, ...).
        .target(name: "DiffusionDetectors", dependencies: ["DiffusionCore"], swiftSettings: simdFlags),
        // The typed pipeline: models in, images out (model store, conditioning, denoising loop).
        .target(
            name: "DiffusionPipeline",
            dependencies: ["DiffusionCore", "DiffusionFormats", "DiffusionModels", "DiffusionSchedulers", "DiffusionDetectors"],
            // The tokenizers and scheduler configs single-file checkpoints lack (Resources/SingleFile/README.md).
            resources: [.copy("Resources/SingleFile")],
            swiftSettings: simdFlags),
        // The endpoint: request body, validation, models directory, assets, responses.
        .target(
            name: "DiffusionService",
            dependencies: [
                "DiffusionPipeline", "DiffusionCore", "DiffusionFormats", "DiffusionModels", "DiffusionSchedulers", "DiffusionDetectors",
            ]),

        .executableTarget(
            name: "diffuse",
            dependencies: [
                "DiffusionService", "DiffusionPipeline", "DiffusionCore", "DiffusionFormats", "DiffusionDetectors",
                "DiffusionSchedulers", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .executableTarget(
            name: "diffuse-bench",
            dependencies: [
                "DiffusionCore", "DiffusionModels", "DiffusionPipeline", "DiffusionService",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Benchmarks/diffuse-bench", swiftSettings: simdFlags),

        .testTarget(name: "DiffusionCoreTests", dependencies: ["DiffusionCore", "DiffusionFormats"]),
        .testTarget(name: "DiffusionFormatsTests", dependencies: ["DiffusionFormats"]),
        .testTarget(name: "DiffusionModelsTests", dependencies: ["DiffusionModels", "DiffusionCore", "DiffusionFormats"]),
        .testTarget(name: "DiffusionSchedulersTests", dependencies: ["DiffusionSchedulers"]),
        .testTarget(name: "DiffusionDetectorsTests", dependencies: ["DiffusionDetectors", "DiffusionCore", "DiffusionFormats"]),
        .testTarget(
            name: "DiffusionPipelineTests",
            dependencies: ["DiffusionPipeline", "DiffusionCore", "DiffusionFormats", "DiffusionDetectors", "DiffusionSchedulers"]),
        .testTarget(
            name: "DiffusionServiceTests",
            dependencies: [
                "DiffusionService", "DiffusionPipeline", "DiffusionCore", "DiffusionFormats", "DiffusionModels",
                "DiffusionSchedulers", "DiffusionDetectors",
            ]),
    ],
    // Swift 5 mode: the kernels share raw buffers across worker threads by design.
    swiftLanguageModes: [.v5]
)
