import DiffusionCore
import DiffusionModels
import DiffusionSchedulers
import Foundation

/// What one generation computes, typed (Docs/SPEC.md §3): the prompts, size, steps, guidance, scheduler,
/// seed and sample count. ControlNets and IP-Adapter images come beside it, as
/// `ControlNetInput` and `IPAdapterInput`.
public struct GenerationParameters: Equatable, Sendable {
    public var prompt: String
    /// Nil: the empty prompt, or zero embeddings for SDXL models with `force_zeros_for_empty_prompt`.
    public var negativePrompt: String?
    /// Output size in pixels, multiples of 8.
    public var width: Int
    public var height: Int
    public var steps: Int
    /// Classifier-free guidance scale; nil: the family's default (7.5 for SD1.5, 6 for SDXL).
    /// At most 1 turns guidance off (one pass, the negative prompt unused).
    public var guidance: Double?
    /// Nil: the scheduler of the model's `scheduler_config.json`.
    public var scheduler: SchedulerKind?
    /// The seed of sample 0; sample i draws from `(seed + i) mod 2^64`.
    public var seed: UInt64
    public var numSamples: Int
    /// The fractions of the steps between which the ControlNets act (diffusers'
    /// `control_guidance_start` and `control_guidance_end`).
    public var controlStart: Double
    public var controlEnd: Double
    /// Decode each sample's predicted image after every step and hand it to the progress callback.
    public var previews: Bool
    /// How the prompts are read: `.plain` as diffusers does (cut at 77 tokens), `.weighted` with
    /// A1111's emphasis syntax and chunks of 75 tokens past 77 (Docs/TEXT.md).
    public var promptSyntax: PromptSyntax

    public init(
        prompt: String, negativePrompt: String? = nil, width: Int = 512, height: Int = 512, steps: Int = 30,
        guidance: Double? = nil, scheduler: SchedulerKind? = nil, seed: UInt64 = 0, numSamples: Int = 1,
        controlStart: Double = 0, controlEnd: Double = 1, previews: Bool = false, promptSyntax: PromptSyntax = .plain
    ) {
        self.prompt = prompt
        self.negativePrompt = negativePrompt
        self.width = width
        self.height = height
        self.steps = steps
        self.guidance = guidance
        self.scheduler = scheduler
        self.seed = seed
        self.numSamples = numSamples
        self.controlStart = controlStart
        self.controlEnd = controlEnd
        self.previews = previews
        self.promptSyntax = promptSyntax
    }

    /// The seed of sample `index`'s generator: `(seed + index) mod 2^64` (Docs/SPEC.md §3).
    public func seed(ofSample index: Int) -> UInt64 { seed &+ UInt64(index) }

    /// Checks what the pipeline cannot run with; the endpoint's narrower ranges are the service's.
    func validate() throws {
        func check(_ ok: Bool, _ name: String, _ rule: String) throws {
            if !ok { throw PipelineError.invalidParameter(name, rule) }
        }
        try check(width > 0 && width % 8 == 0, "width", "a positive multiple of 8, not \(width)")
        try check(height > 0 && height % 8 == 0, "height", "a positive multiple of 8, not \(height)")
        try check(steps >= 1, "steps", "at least 1, not \(steps)")
        try check(numSamples >= 1, "numSamples", "at least 1, not \(numSamples)")
        try check(guidance.map { $0.isFinite && $0 >= 0 } ?? true, "guidance", "a finite number >= 0")
        try check((0...1).contains(controlStart) && (0...1).contains(controlEnd) && controlStart < controlEnd,
                  "controlStart/controlEnd", "0 <= controlStart < controlEnd <= 1")
    }
}
