import DiffusionCore
import DiffusionDetectors
import DiffusionFormats
import DiffusionModels
import Foundation

/// What every step of a request's denoising is conditioned on, prepared once per request
/// (SPEC §3 steps 1-3). Batches are built from it: with classifier-free guidance the rows are
/// the negative copies first, then the positive ones, as diffusers concatenates them.
struct Conditioning {
    /// One ControlNet with the map it reads (`[1, height, width, 3]` in [0, 1]) and its scale.
    struct Control {
        let net: ControlNetModel
        let image: Tensor
        let scale: Float
    }

    /// One IP-Adapter image's tokens `[1, tokens, cross_attention_dim]` and its scale.
    struct ImagePrompt {
        let positive: Tensor
        let negative: Tensor
        let scale: Float
    }

    let text: PromptEmbeddings
    /// SDXL's time ids `(height, width, 0, 0, height, width)`, `[1, 6]`.
    let timeIds: Tensor?
    let controls: [Control]
    let imagePrompts: [ImagePrompt]
    let guidance: Float?

    /// The UNet's text tokens for `batch` samples.
    func encoderHiddenStates(batch: Int) -> Tensor {
        rows(positive: text.promptEmbeds, negative: text.negativePromptEmbeds, batch: batch)
    }

    /// SDXL's added conditions for `batch` samples; nil for SD1.5.
    func addedConditions(batch: Int) -> SDXLAddedConditions? {
        guard let pooled = text.pooledPromptEmbeds, let timeIds else { return nil }
        return SDXLAddedConditions(
            textEmbeds: rows(positive: pooled, negative: text.negativePooledPromptEmbeds, batch: batch),
            timeIds: rows(positive: timeIds, negative: guidance == nil ? nil : timeIds, batch: batch))
    }

    /// The IP-Adapter tokens for `batch` samples, one entry per reference image.
    func ipAdapterTokens(batch: Int) -> [IPAdapterTokens] {
        imagePrompts.map {
            IPAdapterTokens(
                tokens: rows(positive: $0.positive, negative: guidance == nil ? nil : $0.negative, batch: batch),
                scale: $0.scale)
        }
    }

    /// Each ControlNet's map for `batch` samples (both guidance halves see the same map).
    func controlImages(batch: Int) -> [Tensor] {
        controls.map { rows(positive: $0.image, negative: guidance == nil ? nil : $0.image, batch: batch) }
    }

    /// `[negative x batch, positive x batch]` with guidance, `[positive x batch]` without.
    private func rows(positive: Tensor, negative: Tensor?, batch: Int) -> Tensor {
        let copies = Array(repeating: positive, count: batch)
        guard guidance != nil, let negative else { return Tensor.concatenate(copies, axis: 0) }
        return Tensor.concatenate(Array(repeating: negative, count: batch) + copies, axis: 0)
    }
}

extension Conditioning {
    /// Prepares the conditioning of `request`: the prompt embeddings, the control maps (the image
    /// resized to the output size with Lanczos, then each modality's detector when detection is
    /// on) and the reference images' tokens.
    init(_ request: ResolvedRequest, controlImage: RGBImage, referenceImages: [RGBImage], models: ModelCache,
         modelsDirectory: URL) throws {
        let guidance = request.doClassifierFreeGuidance ? Float(request.guidance) : nil
        let encoder = try models.promptEncoder(request.model)
        let text = try encoder.encode(
            prompt: request.prompt, negativePrompt: request.negativePrompt, classifierFreeGuidance: guidance != nil)
        let (w, h) = (Float(request.width), Float(request.height))
        self.init(
            text: text, timeIds: request.model.family == .sdxl ? Tensor(shape: [1, 6], values: [h, w, 0, 0, h, w]) : nil,
            controls: try Self.controls(request, image: controlImage, models: models, modelsDirectory: modelsDirectory),
            imagePrompts: try Self.imagePrompts(request, images: referenceImages, models: models),
            guidance: guidance)
    }

    private static func controls(
        _ request: ResolvedRequest, image: RGBImage, models: ModelCache, modelsDirectory: URL
    ) throws -> [Control] {
        let resized = try image.resized(width: request.width, height: request.height, filter: .lanczos)
        return try request.controlNets.map { controlNet in
            var map = resized
            if !request.disableModalityDetection,
               let detector = try DetectorRegistry.makeDetector(modality: controlNet.modality.name, modelsDirectory: modelsDirectory) {
                map = try detector.detect(resized)
            }
            let values = map.pixels.map { Float($0) / 255 }
            return Control(
                net: try models.controlNet(controlNet.folder, for: request.model),
                image: Tensor(shape: [1, map.height, map.width, 3], values: values),
                scale: Float(controlNet.modality.scale))
        }
    }

    private static func imagePrompts(_ request: ResolvedRequest, images: [RGBImage], models: ModelCache) throws -> [ImagePrompt] {
        let adapter = try models.ipAdapter(request.ipAdapter, for: request.model)
        return try zip(images, request.ipAdapterScales).map { image, scale in
            let pixels = try CLIPImagePreprocessing.pixelValues(image, imageSize: adapter.imageEncoder.config.imageSize)
            let tokens = try adapter.imageTokens(pixels)
            return ImagePrompt(positive: tokens.positive, negative: tokens.negative, scale: Float(scale))
        }
    }
}
