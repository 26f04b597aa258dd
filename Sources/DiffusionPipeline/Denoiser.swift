// Follows the denoising loop of diffusers' StableDiffusionControlNetPipeline.__call__ and
// StableDiffusionXLControlNetPipeline.__call__ (pipelines/controlnet/).
import DiffusionCore
import DiffusionModels
import DiffusionSchedulers
import Foundation

/// Denoises a batch of a generation's samples and decodes them (Docs/SPEC.md §3 steps 4-6).
///
/// Each sample owns its random generator (seeded `seed + i`) and its scheduler, and keeps its
/// latent in PyTorch's NCHW order, so that every noise draw lands on the element torch's would:
/// image i is the same whatever batch it runs in.
struct Denoiser {
    let parameters: GenerationParameters
    let scheduler: SchedulerKind
    let schedulerConfig: SchedulerConfig
    let conditioning: Conditioning
    let unet: UNet2DConditionModel
    let vae: AutoencoderKL

    /// One sample's state through the loop.
    private struct Sample {
        var scheduler: any Scheduler
        var random: TorchRandomSource
        /// `[4, h, w]` flattened, as torch lays out one sample's latent.
        var latent: [Float]

        mutating func step(modelOutput: [Float], timestep: Double) {
            latent = scheduler.step(modelOutput: modelOutput, timestep: timestep, sample: latent, random: &random)
        }
    }

    var latentShape: (channels: Int, height: Int, width: Int) {
        let scale = 1 << (vae.config.blockOutChannels.count - 1)
        return (unet.config.inChannels, parameters.height / scale, parameters.width / scale)
    }

    /// Runs the samples `indices`, calling `onStep` after every step with the step's index, the number
    /// of steps (twice the inference steps less one for the second-order Heun and KDPM2) and,
    /// with `parameters.previews`, the decoded current latents; `onStep` answering `.stop` ends
    /// the run with `PipelineError.stopped`.
    ///
    /// - Throws: `PipelineError.nonFinite` when the UNet's guided output or the decoded image
    ///   holds NaN or infinity (broken weights or configs), before it reaches the 8-bit conversion.
    func run(
        _ indices: Range<Int>, onStep: (_ step: Int, _ steps: Int, _ previews: [RGBImage]?) throws -> ProgressAction
    ) throws -> [RGBImage] {
        var samples = try indices.map(makeSample)
        let timesteps = samples[0].scheduler.timesteps
        let batch = samples.count
        let text = conditioning.encoderHiddenStates(batch: batch)
        let added = conditioning.addedConditions(batch: batch)
        let ipTokens = conditioning.ipAdapterTokens(batch: batch)
        let controlImages = conditioning.controlImages(batch: batch)
        for (step, t) in timesteps.enumerated() {
            let scaled = samples.indices.map { samples[$0].scheduler.scaleModelInput(samples[$0].latent, timestep: t) }
            var input = nhwc(scaled)
            if conditioning.guidance != nil { input = Tensor.concatenate([input, input], axis: 0) }
            let residuals = try controlNetResiduals(
                input, timestep: Float(t), text: text, added: added, images: controlImages, step: step, of: timesteps.count)
            let prediction = try unet(
                input, timesteps: [Float(t)], encoderHiddenStates: text, addedConditions: added,
                controlNetResiduals: residuals, ipAdapterTokens: ipTokens)
            let outputs = guided(prediction, batch: batch)
            guard outputs.allSatisfy({ $0.allSatisfy(\.isFinite) }) else { throw PipelineError.nonFinite(stage: "UNet", step: step + 1) }
            for k in samples.indices { samples[k].step(modelOutput: outputs[k], timestep: t) }
            let previews = parameters.previews ? try decode(samples.map(\.latent)) : nil
            if try onStep(step, timesteps.count, previews) == .stop { throw PipelineError.stopped }
        }
        return try decode(samples.map(\.latent))
    }

    /// Sample i's scheduler and generator, and its initial latent `randn(1, 4, h, w) * init_noise_sigma`.
    private func makeSample(_ index: Int) throws -> Sample {
        var scheduler = try scheduler.make(config: schedulerConfig, options: .controlNetPipeline)
        try scheduler.setTimesteps(parameters.steps)
        var random = TorchRandomSource(seed: parameters.seed(ofSample: index))
        let (c, h, w) = latentShape
        let sigma = scheduler.initNoiseSigma
        // Drawn before the generator is stored: the scheduler's noise continues the stream after it.
        let latent = random.randn(c * h * w).map { $0 * sigma }
        return Sample(scheduler: scheduler, random: random, latent: latent)
    }

    /// The summed residuals of the ControlNets active at `step` (diffusers' `controlnet_keep`: a
    /// ControlNet acts iff `step / N >= controlStart` and `(step + 1) / N <= controlEnd`), or nil.
    private func controlNetResiduals(
        _ input: Tensor, timestep: Float, text: Tensor, added: SDXLAddedConditions?, images: [Tensor], step: Int, of count: Int
    ) throws -> ControlNetResiduals? {
        let n = Double(count)
        guard !conditioning.controls.isEmpty, Double(step) / n >= parameters.controlStart,
              Double(step + 1) / n <= parameters.controlEnd
        else { return nil }
        let parts = try zip(conditioning.controls, images).map { control, image in
            try control.net(
                input, timesteps: [timestep], encoderHiddenStates: text, controlImage: image,
                conditioningScale: control.scale, addedConditions: added)
        }
        return ControlNetResiduals.sum(parts)
    }

    /// Each sample's model output in NCHW order, after classifier-free guidance
    /// `uncond + g * (cond - uncond)` when it is on.
    private func guided(_ prediction: Tensor, batch: Int) -> [[Float]] {
        let perSample = nchw(prediction)
        guard let g = conditioning.guidance else { return perSample }
        return (0..<batch).map { k in
            zip(perSample[k], perSample[batch + k]).map { uncond, cond in uncond + g * (cond - uncond) }
        }
    }

    /// Latents `/ scaling_factor` through the VAE, then `(x / 2 + 0.5)` clamped to [0, 1], times 255,
    /// rounded half to even (numpy's rounding in diffusers' `numpy_to_pil`). One sample at a time
    /// keeps the decoder's activations to one image.
    func decode(_ latents: [[Float]]) throws -> [RGBImage] {
        try latents.map { latent in
            let scaled = nhwc([latent.map { $0 / vae.scalingFactor }])
            let image = try vae.decode(scaled)
            guard image.scalars.allSatisfy(\.isFinite) else { throw PipelineError.nonFinite(stage: "VAE decoder", step: nil) }
            let (height, width) = (image.shape[1], image.shape[2])
            let pixels = image.scalars.map { x -> UInt8 in
                UInt8((min(max(x / 2 + 0.5, 0), 1) * 255).rounded(.toNearestOrEven))
            }
            return RGBImage(width: width, height: height, pixels: pixels)
        }
    }

    /// Flat NCHW samples as one NHWC batch.
    private func nhwc(_ samples: [[Float]]) -> Tensor {
        let (c, h, w) = latentShape
        return Tensor(shape: [samples.count, c, h, w], values: samples.flatMap { $0 }).nchwToNHWC()
    }

    /// An NHWC batch as flat NCHW samples.
    private func nchw(_ batch: Tensor) -> [[Float]] {
        let values = batch.nhwcToNCHW().scalars
        let size = values.count / batch.shape[0]
        return (0..<batch.shape[0]).map { Array(values[$0 * size..<($0 + 1) * size]) }
    }
}
