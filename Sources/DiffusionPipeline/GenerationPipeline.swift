import DiffusionCore
import DiffusionFormats
import DiffusionModels
import Foundation

/// The runtime as a library: a models directory and an asset store, loaded models kept for reuse.
///
/// ```swift
/// let pipeline = GenerationPipeline(models: URL(fileURLWithPath: "Weights"), assets: URL(fileURLWithPath: "Assets"))
/// let result = try pipeline.generate(try GenerationRequest(json: body)) { print($0) }
/// result.images      // the pixels, in sample order
/// result.response    // the endpoint's response ({"job": ..., "inference": ...})
/// ```
public final class GenerationPipeline: @unchecked Sendable {
    public let models: ModelsDirectory
    public let assets: AssetStore
    private let cache = ModelCache()

    public init(models: URL, assets: URL) {
        self.models = ModelsDirectory(url: models)
        self.assets = AssetStore(url: assets)
    }

    /// What one request produced.
    public struct Result: Sendable {
        /// The generated images, in sample order.
        public let images: [RGBImage]
        /// Their assets (PNG + sidecar in the asset store), in the same order.
        public let assets: [Asset]
        public let response: GenerationResponse
    }

    /// Runs `request` (SPEC §3) and stores its images as assets.
    ///
    /// Validation and image decoding happen before any work or write: a bad request throws
    /// `GenerationError` and leaves the asset store untouched.
    public func generate(_ request: GenerationRequest, progress: ((GenerationProgress) -> Void)? = nil) throws -> Result {
        let started = Date()
        let resolved = try ResolvedRequest(request, models: models, assets: assets)
        let controlImage = try resolved.controlImage.load(from: assets)
        let references = try resolved.ipAdapterImages.map { try $0.load(from: assets) }
        let images: [RGBImage]
        do {
            images = try denoise(resolved, controlImage: controlImage, references: references, started: started, progress: progress)
        } catch {
            throw GenerationError(error)
        }
        let inputs = try storeInputs(resolved, controlImage: controlImage, references: references)
        let outputs = try images.enumerated().map { i, image in
            try assets.add(image, kind: .image, metadata: metadata(resolved, sample: i, parent: inputs.controlImage),
                           hidden: resolved.hideResults, outputIndex: i)
        }
        let response = GenerationResponse(
            request: resolved, assetIds: outputs.map(\.id), inputAssets: inputs, assets: assets, startedAt: started)
        return Result(images: images, assets: outputs, response: response)
    }

    /// The samples in batches of at most `batchSize(for:)`, each image the same as in a one-batch run.
    private func denoise(
        _ request: ResolvedRequest, controlImage: RGBImage, references: [RGBImage], started: Date,
        progress: ((GenerationProgress) -> Void)?
    ) throws -> [RGBImage] {
        let conditioning = try Conditioning(
            request, controlImage: controlImage, referenceImages: references, models: cache, modelsDirectory: models.url)
        let unet = try cache.unet(request.model)
        unet.attach(Array(repeating: try cache.ipAdapter(request.ipAdapter, for: request.model), count: references.count))
        let denoiser = Denoiser(request: request, conditioning: conditioning, unet: unet, vae: try cache.vae(request.model))
        var images: [RGBImage] = []
        let batchSize = Self.batchSize(for: request)
        for first in stride(from: 0, to: request.numSamples, by: batchSize) {
            let batch = first..<min(request.numSamples, first + batchSize)
            images += try denoiser.run(batch) { step, steps, previews in
                try previews?.enumerated().forEach { k, preview in
                    var metadata = metadata(request, sample: batch.lowerBound + k, parent: nil)
                    metadata.step = step + 1
                    try assets.add(preview, kind: .intermediate, metadata: metadata, hidden: true, outputIndex: batch.lowerBound + k)
                }
                progress?(report(step: step + 1, of: steps, done: images.count, batch: batch.count,
                                 total: request.numSamples, started: started))
            }
        }
        return images
    }

    /// Samples denoised together: as many 512x512-equivalents as two, so a batch's activations
    /// stay near those of SD1.5 at 512x512 with guidance, whatever the size.
    static func batchSize(for request: ResolvedRequest) -> Int {
        max(1, min(request.numSamples, 2 * 512 * 512 / (request.width * request.height)))
    }

    private func report(step: Int, of steps: Int, done: Int, batch: Int, total: Int, started: Date) -> GenerationProgress {
        let elapsed = Date().timeIntervalSince(started)
        let finished = Double(done * steps + step * batch) / Double(max(1, total * steps))
        return GenerationProgress(
            step: step, steps: steps, imagesDone: done, images: total, elapsed: elapsed,
            remaining: finished > 0 ? elapsed * (1 - finished) / finished : 0, batch: batch)
    }

    /// Input images sent as data URLs become assets (kind `uploaded`, hidden when `imageHide`);
    /// asset ids are kept as they are.
    private func storeInputs(
        _ request: ResolvedRequest, controlImage: RGBImage, references: [RGBImage]
    ) throws -> GenerationResponse.Inference.InputAssets {
        func store(_ input: ImageInput, _ image: RGBImage, parent: String?) throws -> String {
            if let id = input.assetId { return id }
            return try assets.add(image, kind: .uploaded, metadata: AssetMetadata(parentId: parent), hidden: request.imageHide).id
        }
        return .init(
            controlImage: try store(request.controlImage, controlImage, parent: request.imageParentId),
            ipAdapterImages: try zip(request.ipAdapterImages, references).map { try store($0, $1, parent: nil) })
    }

    /// The parameters and seed that made sample `sample` (its asset's sidecar).
    private func metadata(_ request: ResolvedRequest, sample: Int, parent: String?) -> AssetMetadata {
        var metadata = AssetMetadata(type: "controlnet_ip_adapter", parentId: parent)
        metadata.modelId = request.model.id
        metadata.seed = String(request.seed(ofSample: sample))
        metadata.prompt = request.prompt
        metadata.negativePrompt = request.negativePrompt
        metadata.modality = request.modality
        metadata.guidance = request.guidance
        metadata.numInferenceSteps = request.numInferenceSteps
        metadata.scheduler = request.scheduler
        metadata.width = request.width
        metadata.height = request.height
        metadata.controlStart = request.controlStart
        metadata.controlEnd = request.controlEnd
        metadata.ipAdapterType = request.ipAdapter.type.rawValue
        metadata.ipAdapterScales = request.ipAdapterScales
        return metadata
    }
}
