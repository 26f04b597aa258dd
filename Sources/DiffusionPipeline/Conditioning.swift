import DiffusionCore
import DiffusionFormats
import DiffusionModels
import Foundation

/// What every step of a request's denoising is conditioned on, prepared once per request
/// (Docs/SPEC.md §3 steps 1-3). Batches are built from it: with classifier-free guidance the rows are
/// the negative copies first, then the positive ones, as diffusers concatenates them.
struct Conditioning {
    /// One ControlNet with the map it reads (`[1, height, width, 3]` in [0, 1]) and its scale.
    struct Control {
        let net: ControlNetModel
        let image: Tensor
        let scale: Float
    }

    /// One IP-Adapter image's tokens `[1, tokens, cross_attention_dim]`, its scale and its adapter's projections.
    struct ImagePrompt {
        let positive: Tensor
        let negative: Tensor
        let scale: Float
        let layers: [IPAdapterProjection]
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
                scale: $0.scale, layers: $0.layers)
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
    /// Prepares the conditioning of a generation: the prompt embeddings, the control maps (each
    /// image resized to the output size with Lanczos, then its detector when it names one) and
    /// the reference images' tokens with their adapter's projections.
    init(
        _ parameters: GenerationParameters, guidance: Float?, controlNets: [ControlNetInput], ipAdapter: IPAdapterInput?,
        loras: [LoRAInput], model: ModelFolder, store: ModelStore, modelsDirectory: URL
    ) throws {
        let encoder = try store.promptEncoder(model, loras: loras)
        let text = try encoder.encode(
            prompt: parameters.prompt, negativePrompt: parameters.negativePrompt, classifierFreeGuidance: guidance != nil,
            syntax: parameters.promptSyntax)
        let (w, h) = (Float(parameters.width), Float(parameters.height))
        self.init(
            text: text, timeIds: model.family == .sdxl ? Tensor(shape: [1, 6], values: [h, w, 0, 0, h, w]) : nil,
            controls: try controlNets.map {
                try Self.control($0, parameters: parameters, model: model, store: store, modelsDirectory: modelsDirectory)
            },
            imagePrompts: try ipAdapter.map { try Self.imagePrompts($0, model: model, store: store) } ?? [],
            guidance: guidance)
    }

    private static func control(
        _ input: ControlNetInput, parameters: GenerationParameters, model: ModelFolder, store: ModelStore, modelsDirectory: URL
    ) throws -> Control {
        var map = try input.image.resized(width: parameters.width, height: parameters.height, filter: .lanczos)
        if let modality = input.detect, let detector = try store.detector(modality, modelsDirectory: modelsDirectory) {
            map = try detector.detect(map)
        }
        return Control(
            net: try store.controlNet(input.folder, for: model),
            image: Tensor(shape: [1, map.height, map.width, 3], values: map.pixels.map { Float($0) / 255 }),
            scale: Float(input.scale))
    }

    private static func imagePrompts(_ input: IPAdapterInput, model: ModelFolder, store: ModelStore) throws -> [ImagePrompt] {
        guard input.scales.count == input.images.count else {
            throw PipelineError.invalidParameter(
                "IP-Adapter scales", "one per image (\(input.images.count)), not \(input.scales.count)")
        }
        let adapter = try store.ipAdapter(input.folder, for: model)
        return try zip(input.images, input.scales).map { image, scale in
            let pixels = try CLIPImagePreprocessing.pixelValues(image, imageSize: adapter.imageEncoder.config.imageSize)
            let tokens = try adapter.imageTokens(pixels)
            return ImagePrompt(positive: tokens.positive, negative: tokens.negative, scale: Float(scale), layers: adapter.layers)
        }
    }
}
