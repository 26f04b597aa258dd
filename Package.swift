// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "Diffuse",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "DiffusionPipeline", targets: ["DiffusionPipeline"]),
        .library(name: "DiffusionService", targets: ["DiffusionService"]),
        .library(name: "DiffusionServer", targets: ["DiffusionServer"]),
        .library(name: "DiffusionCore", targets: ["DiffusionCore"]),
        .executable(name: "diffuse", targets: ["diffuse"]),
        .executable(name: "diffuse-bench", targets: ["diffuse-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // The HTTP server (`diffuse serve`): Hummingbird 2 is a small router on SwiftNIO; without
        // its default traits it does not build swift-configuration, which the server does not use.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        // Graceful shutdown: the job workers run as services beside the HTTP server, logging
        // as the server does (both already in Hummingbird's graph: no extra build).
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        // The embedded job queue: SQLite on the same SwiftNIO as the server, SQLite itself vendored,
        // so `diffuse serve` needs no system library and no other server.
        .package(url: "https://github.com/vapor/sqlite-nio", from: "1.13.2"),
        // The shared job queue of several hosts: PostgreSQL.
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        // System libraries and C shims.
        // cpuid, and OpenBLAS loaded at run time so its core can be chosen before it initializes.
        .target(name: "CPlatform", path: "Sources/CPlatform", linkerSettings: [.linkedLibrary("dl", .when(platforms: [.linux]))]),
        // The runtime's hot kernels, built once per instruction set and chosen at start-up (Sources/DiffusionCore/ISA.swift).
        .target(name: "CKernels", path: "Sources/CKernels"),
        .target(name: "CPNG", path: "Sources/CPNG", linkerSettings: [.linkedLibrary("png16")]),
        // libjpeg-turbo (Debian's libjpeg62-turbo-dev) behind a shim, for the same longjmp reason as libpng.
        .target(name: "CJPEG", path: "Sources/CJPEG", linkerSettings: [.linkedLibrary("jpeg")]),

        // Kernels: tensors, BLAS matmul, SIMD convolution, norms, attention, threading.
        .target(name: "DiffusionCore", dependencies: ["CPlatform", "CKernels"]),
        // File formats: safetensors, PNG, image resampling.
        .target(name: "DiffusionFormats", dependencies: ["DiffusionCore", "CPNG", "CJPEG"]),
        // Models: CLIP, UNet, VAE, ControlNet, IP-Adapter.
        .target(name: "DiffusionModels", dependencies: ["DiffusionCore", "DiffusionFormats"]),
        // The 15 diffusers schedulers and the torch-compatible random source.
        .target(name: "DiffusionSchedulers"),
        // Control-image detectors: canny, and the neural ones reading their published weights.
        .target(name: "DiffusionDetectors", dependencies: ["DiffusionCore", "DiffusionFormats"]),
        // The typed pipeline: models in, images out (model store, conditioning, denoising loop).
        .target(
            name: "DiffusionPipeline",
            dependencies: ["DiffusionCore", "DiffusionFormats", "DiffusionModels", "DiffusionSchedulers", "DiffusionDetectors"],
            // The tokenizers and scheduler configs single-file checkpoints lack (Resources/SingleFile/README.md).
            resources: [.copy("Resources/SingleFile")]),
        // The endpoint: request body, validation, models directory, assets, responses.
        .target(
            name: "DiffusionService",
            dependencies: [
                "DiffusionPipeline", "DiffusionCore", "DiffusionFormats", "DiffusionModels", "DiffusionSchedulers", "DiffusionDetectors",
            ]),
        // The HTTP service: routes, authentication, the job queues (SQLite, PostgreSQL) and workers.
        .target(
            name: "DiffusionServer",
            dependencies: [
                "DiffusionService", "DiffusionPipeline", "DiffusionCore", "DiffusionFormats", "DiffusionSchedulers",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SQLiteNIO", package: "sqlite-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            // The web page served at `GET /` (Docs/SERVER.md), compiled into the binary so that a
            // copied `diffuse` serves it with no resources folder beside it.
            resources: [.embedInCode("Page/index.html"), .embedInCode("Page/page.css"), .embedInCode("Page/page.js")]),

        .executableTarget(
            name: "diffuse",
            dependencies: [
                "DiffusionService", "DiffusionServer", "DiffusionPipeline", "DiffusionCore", "DiffusionFormats", "DiffusionDetectors",
                "DiffusionSchedulers", .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        .executableTarget(
            name: "diffuse-bench",
            dependencies: [
                "DiffusionCore", "DiffusionModels", "DiffusionPipeline", "DiffusionService", "DiffusionDetectors", "DiffusionFormats",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Benchmarks/diffuse-bench"),

        // What the test targets share: tensor comparison and the whole-image bar.
        .target(name: "DiffusionTestSupport", dependencies: ["DiffusionCore"], path: "Tests/DiffusionTestSupport"),
        .testTarget(name: "DiffusionCoreTests", dependencies: ["DiffusionCore", "DiffusionFormats", "DiffusionTestSupport"]),
        .testTarget(name: "DiffusionFormatsTests", dependencies: ["DiffusionFormats"]),
        .testTarget(name: "DiffusionModelsTests", dependencies: ["DiffusionModels", "DiffusionCore", "DiffusionFormats", "DiffusionTestSupport"]),
        .testTarget(name: "DiffusionSchedulersTests", dependencies: ["DiffusionSchedulers"]),
        .testTarget(name: "DiffusionDetectorsTests", dependencies: ["DiffusionDetectors", "DiffusionCore", "DiffusionFormats", "DiffusionTestSupport"]),
        .testTarget(
            name: "DiffusionPipelineTests",
            dependencies: ["DiffusionPipeline", "DiffusionCore", "DiffusionFormats", "DiffusionDetectors", "DiffusionSchedulers", "DiffusionTestSupport"]),
        .testTarget(
            name: "DiffusionServiceTests",
            dependencies: [
                "DiffusionService", "DiffusionPipeline", "DiffusionCore", "DiffusionFormats", "DiffusionModels",
                "DiffusionSchedulers", "DiffusionDetectors", "DiffusionTestSupport",
            ]),
        .testTarget(
            name: "DiffusionServerTests",
            dependencies: [
                "DiffusionServer", "DiffusionService", "DiffusionCore", "DiffusionFormats",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ]),
    ],
    // Swift 5 mode: the kernels share raw buffers across worker threads by design.
    swiftLanguageModes: [.v5]
)
