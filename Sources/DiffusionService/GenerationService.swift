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
            try assets.add(image, kind: .image, metadata: AssetMetadata(request: resolved, sample: i, parentId: inputs.controlImage),
                           hidden: resolved.hideResults, outputIndex: i)
        }
        let response = GenerationResponse(
            request: resolved, assetIds: outputs.map(\.id), inputAssets: inputs, assets: assets, startedAt: started)
        return Result(images: images, assets: outputs, response: response)
    }

    /// The samples in batches of `samplesPerBatch`, each image the same as in a one-batch run.
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
        for first in stride(from: 0, to: request.numSamples, by: Self.samplesPerBatch) {
            let batch = first..<min(request.numSamples, first + Self.samplesPerBatch)
            images += try denoiser.run(batch) { step, steps, previews in
                try previews?.enumerated().forEach { k, preview in
                    let metadata = AssetMetadata(request: request, sample: batch.lowerBound + k, step: step + 1)
                    try assets.add(preview, kind: .intermediate, metadata: metadata, hidden: true, outputIndex: batch.lowerBound + k)
                }
                progress?(report(step: step + 1, of: steps, done: images.count, batch: batch.count,
                                 total: request.numSamples, started: started))
            }
        }
        return images
    }

    /// Samples denoised together: one. On a CPU a sample's matrix products already have thousands
    /// of rows (pixels), so batching samples buys little speed, while it changes which BLAS kernel
    /// handles the edge rows and so the last bit of some sums: measured, one value in 12,288 of a
    /// 64x64 image moved by one level. One sample at a time (both guidance halves together) keeps
    /// every image bit-identical whatever `numSamples` is, and bounds memory to one sample's
    /// activations at any size.
    static let samplesPerBatch = 1

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
}
