import ArgumentParser
import DiffusionCore
import DiffusionModels
import Foundation

/// `diffuse-bench unet`: one forward of a full-size UNet with random weights, after a warm-up.
///
/// The architecture is the family's real `unet/config.json` (Benchmarks/unet/<family>.json); the
/// weights are random values in the shapes diffusers gives that config (<family>.weights.json,
/// written by Benchmarks/reference_unet.py), saved as F16 to a temporary model folder and loaded
/// the way a real checkpoint is. Compare with `reference_unet.py`, PyTorch on the same inputs.
struct UNetBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unet", abstract: "Time one UNet forward pass at full size (random weights).")

    enum Family: String, ExpressibleByArgument, CaseIterable {
        case sd15 = "sd-1_5", sdxl = "sd-xl"
    }

    @Option(help: "Model family: sd-1_5 or sd-xl.") var family: Family = .sd15
    @Option(help: "Image width in pixels (latent width x 8).") var width = 512
    @Option(help: "Image height in pixels.") var height = 512
    @Option(help: "Batch size (2 = one classifier-free-guidance step).") var batch = 2
    @Option(help: "Worker threads (default: all cores).") var threads: Int?
    @Option(help: "The folder of <family>.json and <family>.weights.json.")
    var configs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("unet").path

    func validate() throws {
        guard width > 0, height > 0, width % 8 == 0, height % 8 == 0, batch > 0 else {
            throw ValidationError("width and height must be positive multiples of 8, batch positive")
        }
    }

    func run() throws {
        if let threads { Parallel.threadCount = threads }
        let folder = try RandomModelFolder(
            config: URL(fileURLWithPath: configs).appendingPathComponent("\(family.rawValue).json"),
            shapes: URL(fileURLWithPath: configs).appendingPathComponent("\(family.rawValue).weights.json"))
        defer { folder.remove() }
        // Only the model's own memory counts: forget the high-water mark of writing the weights.
        PeakMemory.reset()
        let loadStart = Date()
        let unet = try UNet2DConditionModel(folder: folder.url)
        let loadSeconds = Date().timeIntervalSince(loadStart)

        let inputs = try UNetBenchmarkInputs(config: unet.config, width: width, height: height, batch: batch)
        _ = try inputs.run(unet)
        let start = Date()
        let output = try inputs.run(unet)
        let seconds = Date().timeIntervalSince(start)

        let result: [String: Any] = [
            "runtime": "diffuse", "family": family.rawValue, "width": width, "height": height, "batch": batch,
            "threads": Parallel.threadCount, "seconds": (seconds * 1000).rounded() / 1000,
            "load_seconds": (loadSeconds * 1000).rounded() / 1000, "peak_rss_bytes": PeakMemory.bytes,
            "output_finite": output.scalars.allSatisfy(\.isFinite),
        ]
        let json = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys])
        print(String(decoding: json, as: UTF8.self))
    }
}

/// Deterministic pseudo-random inputs of the right shapes (the values do not affect the timing).
struct UNetBenchmarkInputs {
    let sample: Tensor
    let context: Tensor
    let added: SDXLAddedConditions?

    init(config: UNet2DConditionConfig, width: Int, height: Int, batch: Int) throws {
        guard case .all(let crossDim) = config.crossAttentionDim else {
            throw ValidationError("per-block cross_attention_dim is not benchmarked")
        }
        sample = .pseudoRandom([batch, height / 8, width / 8, config.inChannels], seed: 1)
        context = .pseudoRandom([batch, 77, crossDim], seed: 2)
        if let timeDim = config.additionTimeEmbedDim, let inputDim = config.projectionClassEmbeddingsInputDim {
            let ids = (0..<batch).flatMap { _ in [height, width, 0, 0, height, width].map(Float.init) }
            added = SDXLAddedConditions(
                textEmbeds: .pseudoRandom([batch, inputDim - 6 * timeDim], seed: 3), timeIds: Tensor(shape: [batch, 6], values: ids))
        } else {
            added = nil
        }
    }

    func run(_ unet: UNet2DConditionModel) throws -> Tensor {
        try unet(sample, timesteps: [500], encoderHiddenStates: context, addedConditions: added)
    }
}

/// The process's peak resident memory, from Linux's /proc (VmHWM).
enum PeakMemory {
    static var bytes: Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
              // "VmHWM:\t 7174844 kB": the number is padded to 8 columns, so the separator may be a lone tab.
              let kilobytes = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first.flatMap({ Int($0) })
        else { return 0 }
        return kilobytes * 1024
    }

    /// Restarts the high-water mark at the current resident size (Linux: "5" to clear_refs).
    static func reset() {
        try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
    }
}
