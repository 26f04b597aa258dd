import ArgumentParser
import DiffusionCore
import DiffusionPipeline
import DiffusionService
import Foundation

/// `diffuse-bench generate`: one whole generation through `GenerationPipeline` (issue 8's case (d)),
/// on a full-size models directory with random weights (`RandomModelsDirectory`) and the request
/// Benchmarks/generate/request.json: one canny ControlNet with detection off, the base IP-Adapter
/// with a ViT-H image encoder and one reference image, 512x512, 20 steps, 1 image, guidance 7.5 (so
/// every step runs a batch of 2). Compare with `reference_generate.py`. `--family sd-xl` runs the
/// same on SDXL base at 1024x1024 (generate/request-sdxl.json), for issue 8's 16 GiB memory target.
///
/// A warm-up generation at the family's smallest size (SD1.5 64x64, SDXL 512x512) in 1 step loads
/// every model first (`warmup_seconds`); `seconds` is the request's generation alone, from the
/// request body to the stored PNG: text encoding, the image encoder, every step's ControlNet and
/// UNet, the VAE decode.
struct GenerateBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Time one generation with a ControlNet and an IP-Adapter (random full-size weights).")

    @Option(help: "Model family: sd-1_5 or sd-xl.") var family: UNetBenchmark.Family = .sd15
    @Option(help: "Only write the random models directory to this new folder (SD1.5 4 GB, SDXL 11 GB), then exit.")
    var writeModels: String?
    @Option(help: "A models directory written by --write-models (default: write one to a temporary folder, deleted after).")
    var models: String?
    @Option(help: "The request body (default: Benchmarks/generate/request.json, request-sdxl.json for sd-xl).")
    var request: String?
    @Option(help: "Override the request's width.") var width: Int?
    @Option(help: "Override the request's height.") var height: Int?
    @Option(help: "Override the request's numInferenceSteps.") var steps: Int?
    @Option(help: "Worker threads (default: all cores).") var threads: Int?
    @Flag(help: "Also report the timed generation's seconds and GFLOP/s per layer kind (JSON \"profile\", table on stderr).")
    var profile = false
    @OptionGroup var manifests: ModelManifests

    func run() throws {
        if let writeModels {
            return try directory.write(to: URL(fileURLWithPath: writeModels), manifests: manifests)
        }
        if let threads { Parallel.threadCount = threads }
        Machine.announce()
        let body = try requestBody()
        if let models { return try measure(body, models: URL(fileURLWithPath: models)) }
        let temporary = newTemporaryFolder()
        defer { try? FileManager.default.removeItem(at: temporary) }
        try directory.write(to: temporary, manifests: manifests)
        try measure(body, models: temporary)
    }

    private var directory: RandomModelsDirectory { .of(family) }

    /// The request file with the command line's overrides.
    private func requestBody() throws -> GenerationRequest {
        let file = request.map { URL(fileURLWithPath: $0) } ?? manifests.url.appendingPathComponent(directory.request)
        var body = try GenerationRequest(json: Data(contentsOf: file))
        body.width = width.map(Double.init) ?? body.width
        body.height = height.map(Double.init) ?? body.height
        body.numInferenceSteps = steps.map(Double.init) ?? body.numInferenceSteps
        return body
    }

    private func measure(_ body: GenerationRequest, models: URL) throws {
        let assets = newTemporaryFolder()
        defer { try? FileManager.default.removeItem(at: assets) }
        // Only the models' own memory counts: forget the high-water mark of writing the weights.
        PeakMemory.reset()
        let pipeline = GenerationService(models: models, assets: assets)
        var warmUp = body
        let smallest = Double(try pipeline.models.model(body.modelId).family.sizeRange.lowerBound)
        (warmUp.width, warmUp.height, warmUp.numInferenceSteps) = (smallest, smallest, 1)
        let (_, warmupSeconds) = try timed { try pipeline.generate(warmUp) }
        let (result, seconds, layers) = try timed(profiling: profile) { try pipeline.generate(body) }
        let pixels = result.images[0].pixels, resolved = result.response.inference
        var fields: [String: Any] = [
            "runtime": "diffuse", "family": family.rawValue, "width": resolved.width, "height": resolved.height,
            "steps": resolved.numInferenceSteps, "guidance": resolved.guidance, "scheduler": resolved.scheduler,
            "threads": Parallel.threadCount, "seconds": seconds, "warmup_seconds": warmupSeconds,
            "image_mean": Double(pixels.reduce(0) { $0 + Int($1) }) / Double(pixels.count),
        ]
        fields["profile"] = layers
        try printResult(fields)
    }
}
