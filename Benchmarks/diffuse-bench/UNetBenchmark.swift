import ArgumentParser
import DiffusionCore
import DiffusionModels
import Foundation

/// `diffuse-bench unet`: one forward of a full-size UNet with random weights, after a warm-up.
///
/// The architecture is the family's real `unet/config.json` (Benchmarks/unet/<family>.json); the
/// weights are random values in the shapes diffusers gives that config (<family>.weights.json,
/// written by Benchmarks/reference_unet.py), saved as F16 to a temporary model folder and loaded
/// the way a real checkpoint is. With `--controlnet`, one full-size ControlNet
/// (Benchmarks/controlnet/<family>.json) runs first on a control image of the output size and its
/// residuals go into the UNet, timed together (issue 8's case (b)). Compare with
/// `reference_unet.py`, PyTorch on the same inputs.
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
    @Flag(help: "Run one full-size ControlNet first and add its residuals into the UNet (sd-1_5).") var controlnet = false
    @Option(help: "Worker threads (default: all cores).") var threads: Int?
    @Flag(help: "Also report the timed pass's seconds and GFLOP/s per layer kind (JSON \"profile\", table on stderr).")
    var profile = false
    @OptionGroup var manifests: ModelManifests

    func validate() throws {
        guard width > 0, height > 0, width % 8 == 0, height % 8 == 0, batch > 0 else {
            throw ValidationError("width and height must be positive multiples of 8, batch positive")
        }
    }

    func run() throws {
        if let threads { Parallel.threadCount = threads }
        Machine.announce()
        let controlNetFolder = controlnet ? try manifests.randomFolder("controlnet", family.rawValue) : nil
        defer { controlNetFolder?.remove() }
        let unetFolder = try manifests.randomFolder("unet", family.rawValue)
        defer { unetFolder.remove() }
        // Only the models' own memory counts: forget the high-water mark of writing the weights.
        PeakMemory.reset()
        let (models, loadSeconds) = try timed {
            (unet: try UNet2DConditionModel(folder: unetFolder.url),
             controlNet: try controlNetFolder.map { try ControlNetModel(folder: $0.url) })
        }

        let inputs = try UNetBenchmarkInputs(
            config: models.unet.config, width: width, height: height, batch: batch, controlNet: models.controlNet)
        _ = try inputs.run(models.unet)
        let (output, seconds, layers) = try timed(profiling: profile) { try inputs.run(models.unet) }
        var fields: [String: Any] = [
            "runtime": "diffuse", "family": family.rawValue, "width": width, "height": height, "batch": batch,
            "controlnet": controlnet, "threads": Parallel.threadCount, "seconds": seconds, "load_seconds": loadSeconds,
            "output_finite": output.scalars.allSatisfy(\.isFinite),
        ]
        fields["profile"] = layers
        try printResult(fields)
    }
}

/// Deterministic pseudo-random inputs of the right shapes (the values do not affect the timing).
struct UNetBenchmarkInputs {
    let sample: Tensor
    let context: Tensor
    let added: SDXLAddedConditions?
    /// A ControlNet run before the UNet, with its image `[batch, height, width, 3]`.
    let control: (net: ControlNetModel, image: Tensor)?

    init(config: UNet2DConditionConfig, width: Int, height: Int, batch: Int, controlNet: ControlNetModel? = nil) throws {
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
        control = controlNet.map { (net: $0, image: .pseudoRandom([batch, height, width, 3], seed: 4)) }
    }

    /// The UNet's forward, with the ControlNet's residuals (at conditioning scale 1) when there is one.
    func run(_ unet: UNet2DConditionModel) throws -> Tensor {
        let residuals = try control.map { net, image in
            try net(sample, timesteps: [500], encoderHiddenStates: context, controlImage: image,
                    conditioningScale: 1, addedConditions: added)
        }
        return try unet(sample, timesteps: [500], encoderHiddenStates: context, addedConditions: added,
                        controlNetResiduals: residuals)
    }
}
