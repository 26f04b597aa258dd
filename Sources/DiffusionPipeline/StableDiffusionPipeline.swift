import DiffusionCore
import DiffusionModels
import DiffusionSchedulers
import Foundation

/// The typed diffusion pipeline over one model folder: diffusers' `StableDiffusionControlNetPipeline`
/// / `StableDiffusionXLControlNetPipeline` with IP-Adapters (Docs/SPEC.md §3), with zero or more
/// ControlNets and reference images. It knows nothing of JSON, assets or jobs, and writes nothing.
///
/// ```swift
/// let pipeline = try StableDiffusionPipeline(folder: URL(fileURLWithPath: "Weights/shapes-sd15"))
/// let images = try pipeline.generate(GenerationParameters(prompt: "a red circle", width: 64, height: 64, steps: 4))
/// ```
///
/// Models come from `store`, which loads each once and shares it between pipelines and threads;
/// any number of generations may run at once through one pipeline or several.
public struct StableDiffusionPipeline: Sendable {
    public let model: ModelFolder
    public let store: ModelStore
    /// Where detectors find their weights (`<models>/detectors/<modality>/`): by default the
    /// folder holding the model folder, the models directory of Docs/SPEC.md §1.
    public let modelsDirectory: URL

    public init(model: ModelFolder, store: ModelStore = ModelStore(), modelsDirectory: URL? = nil) {
        self.model = model
        self.store = store
        self.modelsDirectory = modelsDirectory ?? model.url.deletingLastPathComponent()
    }

    /// The pipeline of the diffusers folder at `folder`.
    ///
    /// - Throws: `ModelFolderError` when the folder is no complete SD1.5 or SDXL pipeline.
    public init(folder: URL, store: ModelStore = ModelStore(), modelsDirectory: URL? = nil) throws {
        self.init(model: try ModelFolder(url: folder), store: store, modelsDirectory: modelsDirectory)
    }

    /// Generates `parameters.numSamples` images, in sample order.
    ///
    /// - Parameters:
    ///   - controlNets: each ControlNet with its image and scale; none for plain text-to-image.
    ///   - ipAdapter: an IP-Adapter with its reference images, or nil.
    ///   - loras: LoRAs merged into the UNet and text encoders (not the ControlNets, as diffusers).
    ///   - progress: called after every step; answering `.stop` ends the generation.
    /// - Throws: `PipelineError` (`.stopped` when asked to stop), or the models' loading errors.
    public func generate(
        _ parameters: GenerationParameters, controlNets: [ControlNetInput] = [], ipAdapter: IPAdapterInput? = nil,
        loras: [LoRAInput] = [], progress: ((GenerationProgress) -> ProgressAction)? = nil
    ) throws -> [RGBImage] {
        let started = Date()
        try parameters.validate()
        let guidance = parameters.guidance ?? model.family.defaultGuidance
        let conditioning = try Conditioning(
            parameters, guidance: guidance > 1 ? Float(guidance) : nil, controlNets: controlNets, ipAdapter: ipAdapter,
            loras: loras, model: model, store: store, modelsDirectory: modelsDirectory)
        let denoiser = Denoiser(
            parameters: parameters, scheduler: try scheduler(parameters), schedulerConfig: model.schedulerConfig,
            conditioning: conditioning, unet: try store.unet(model, loras: loras), vae: try store.vae(model))
        var images: [RGBImage] = []
        for first in stride(from: 0, to: parameters.numSamples, by: Self.samplesPerBatch) {
            let batch = first..<min(parameters.numSamples, first + Self.samplesPerBatch)
            images += try denoiser.run(batch) { step, steps, previews in
                progress?(report(step: step + 1, of: steps, done: images.count, samples: batch, total: parameters.numSamples,
                                 started: started, previews: previews)) ?? .proceed
            }
        }
        return images
    }

    /// The parameters' scheduler, else the model's.
    private func scheduler(_ parameters: GenerationParameters) throws -> SchedulerKind {
        if let kind = parameters.scheduler ?? model.defaultScheduler { return kind }
        throw PipelineError.invalidParameter(
            "scheduler", "given: \(model.schedulerConfigURL.path) names '\(model.schedulerConfig.className ?? "")', "
                + "none of \(SchedulerKind.allCases.map(\.rawValue).joined(separator: ", "))")
    }

    /// Samples denoised together: one. On a CPU a sample's matrix products already have thousands
    /// of rows (pixels), so batching samples buys little speed, while it changes which BLAS kernel
    /// handles the edge rows and so the last bit of some sums: measured, one value in 12,288 of a
    /// 64x64 image moved by one level. One sample at a time (both guidance halves together) keeps
    /// every image bit-identical whatever `numSamples` is, and bounds memory to one sample's
    /// activations at any size.
    static let samplesPerBatch = 1

    private func report(
        step: Int, of steps: Int, done: Int, samples: Range<Int>, total: Int, started: Date, previews: [RGBImage]?
    ) -> GenerationProgress {
        let elapsed = Date().timeIntervalSince(started)
        let finished = Double(done * steps + step * samples.count) / Double(max(1, total * steps))
        return GenerationProgress(
            step: step, steps: steps, imagesDone: done, images: total, elapsed: elapsed,
            remaining: finished > 0 ? elapsed * (1 - finished) / finished : 0, samples: samples, previews: previews)
    }
}
