import DiffusionPipeline
import DiffusionSchedulers
import Foundation

/// A request validated against the models directory and the asset store, every default
/// filled in (Docs/SPEC.md §2): what a generation runs. Build one with
/// `init(_:models:assets:)`; nothing downstream reads the raw request.
public struct ResolvedRequest: Equatable, Sendable {
    /// One ControlNet to run: its modality and scale, and its folder.
    public struct ControlNet: Equatable, Sendable {
        public var modality: ControlNetModality
        /// `controlnets/<family>/<modality>/`.
        public var folder: URL
    }

    public var model: ModelFolder
    public var prompt: String
    /// Nil when absent: sd-xl models with `forceZerosForEmptyPrompt` then use zero negative
    /// embeddings; otherwise it is the empty prompt.
    public var negativePrompt: String?

    /// The ControlNets, in the order the `modality` string (or its preset) lists them.
    public var controlNets: [ControlNet]
    public var controlImage: ImageInput
    /// Fraction of the steps before which the ControlNets are off (diffusers' `control_guidance_start`).
    public var controlStart: Double
    /// Fraction of the steps after which the ControlNets are off (diffusers' `control_guidance_end`).
    public var controlEnd: Double
    /// False: each modality's detector turns the control image into its map first.
    public var disableModalityDetection: Bool
    /// For a control image given as a data URL and stored as an asset: its parent asset.
    public var imageParentId: String?
    /// For a control image given as a data URL and stored as an asset: whether it is hidden.
    public var imageHide: Bool

    public var ipAdapter: IPAdapterFolder
    /// One IP-Adapter instance per image, in request order.
    public var ipAdapterImages: [ImageInput]
    /// One scale per image of `ipAdapterImages`.
    public var ipAdapterScales: [Double]

    public var numSamples: Int
    public var numInferenceSteps: Int
    public var guidance: Double
    public var width: Int
    public var height: Int
    public var scheduler: SchedulerKind
    /// The seed of sample 0; sample i uses `seed(ofSample: i)`.
    public var seed: UInt64

    public var hideResults: Bool
    public var intermediateImages: Bool

    /// The `concepts`: LoRA files with their scales, in request order.
    public var loras: [LoRAInput]

    /// What the response's `warnings` reports: ignored fields, unknown fields, ...
    public var warnings: [String]

    /// Classifier-free guidance (a negative pass) runs only when `guidance > 1`, as in diffusers.
    public var doClassifierFreeGuidance: Bool { guidance > 1 }

    /// The seed of sample `index`'s generator: `(seed + index) mod 2^64` (Docs/SPEC.md §3).
    public func seed(ofSample index: Int) -> UInt64 { parameters.seed(ofSample: index) }

    /// What the typed pipeline runs.
    public var parameters: GenerationParameters {
        GenerationParameters(
            prompt: prompt, negativePrompt: negativePrompt, width: width, height: height, steps: numInferenceSteps,
            guidance: guidance, scheduler: scheduler, seed: seed, numSamples: numSamples,
            controlStart: controlStart, controlEnd: controlEnd, previews: intermediateImages, promptSyntax: .weighted)
    }

    /// The ControlNets as a canonical `modality` string (`depth:0.5,pose:0.5`).
    public var modality: String { modalityString(controlNets.map(\.modality)) }

    /// The rule `seed` must follow, for error messages.
    static let seedRule = "seed must be an integer in [0, 2^64), as a decimal string or a JSON number"
}
