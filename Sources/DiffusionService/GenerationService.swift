import DiffusionCore
import DiffusionFormats
import DiffusionModels
import DiffusionPipeline
import Foundation

/// The endpoint `POST /generate/controlnet-ip-adapter` as a library: request body, validation,
/// the typed pipeline, the asset store and the response. The command line and the HTTP server
/// are thin layers over it.
///
/// ```swift
/// let service = GenerationService(models: URL(fileURLWithPath: "Weights"), assets: URL(fileURLWithPath: "Assets"))
/// let result = try service.generate(try GenerationRequest(json: body)) { print($0); return .proceed }
/// result.images      // the pixels, in sample order
/// result.response    // the endpoint's response ({"job": ..., "inference": ...})
/// ```
public final class GenerationService: Sendable {
    public let models: ModelsDirectory
    public let assets: AssetStore
    /// The loaded models, shared by every request this service runs.
    public let store: ModelStore

    /// A service over the two folders; what writers killed earlier left in the assets folder
    /// is carried out or removed first (`AssetStore.recover()`).
    public init(models: URL, assets: URL, store: ModelStore = ModelStore()) {
        self.models = ModelsDirectory(url: models)
        self.assets = AssetStore(url: assets)
        self.store = store
        self.assets.recover()
    }

    /// What one request produced.
    public struct Result: Sendable {
        /// The generated images, in sample order; none when the job failed or was canceled.
        public let images: [RGBImage]
        /// Their assets (PNG + sidecar in the asset store), in the same order.
        public let assets: [Asset]
        public let response: GenerationResponse
    }

    /// Runs `request` (Docs/SPEC.md §3) and stores its images as assets.
    ///
    /// Validation and image decoding happen before any work or write: a bad request throws
    /// `GenerationError` and leaves the asset store untouched. Once it runs, the job's outcome
    /// is the response's: `success` with its assets, `failure` with the error, or `canceled` when
    /// `progress` answered `.stop`; a job that does not succeed stores nothing.
    ///
    /// With `jobId`, the outputs and previews are stored under ids derived from it
    /// (`AssetStore.jobAssetId`): each sample's preview is replaced at every step, and a job run
    /// again stores its images once.
    public func generate(
        _ request: GenerationRequest, jobId: String? = nil, progress: ((GenerationProgress) -> ProgressAction)? = nil
    ) throws -> Result {
        let started = Date()
        let resolved = try ResolvedRequest(request, models: models, assets: assets)
        var budget = PixelBudget()
        let controlImage = try budget.load(resolved.controlImage, from: assets)
        let references = try resolved.ipAdapterImages.map { try budget.load($0, from: assets) }
        // A LoRA whose keys fit no weight of the model is the request's fault, found before the job runs.
        do { _ = try store.loraSet(resolved.loras, for: resolved.model) } catch let error as LoRAError {
            throw GenerationError.badRequest(error.message, field: "concepts")
        }
        try assets.checkWritable()
        var previews: [Asset] = []
        do {
            let images = try run(resolved, controlImage: controlImage, references: references) { report in
                if let images = report.previews {
                    previews += try zip(report.samples, images).map { sample, image in
                        try self.assets.add(
                            image, kind: .intermediate, metadata: AssetMetadata(request: resolved, sample: sample, step: report.step),
                            hidden: true, outputIndex: sample, id: jobId.map { AssetStore.jobAssetId(jobId: $0, role: .preview, index: sample) })
                    }
                }
                return progress?(report) ?? .proceed
            }
            return try store(images, of: resolved, controlImage: controlImage, references: references, started: started, jobId: jobId)
        } catch {
            previews.forEach { assets.remove($0.id) }
            let failure = GenerationError(error)
            let status: GenerationResponse.Job.Status = (error as? PipelineError) == .stopped ? .canceled : .failure
            let response = GenerationResponse(
                request: resolved, assetIds: [], inputAssets: .given(resolved), assets: assets, startedAt: started,
                status: status, error: status == .failure ? failure : nil)
            return Result(images: [], assets: [], response: response)
        }
    }

    /// A request accepted to run later (a queued job): validated, its images decoded, and those
    /// sent as data URLs stored as assets. `request` names every image by asset id and pins the
    /// seed, so it runs later, on any host and as often as needed, to the same images.
    public struct StagedRequest: Sendable {
        public let request: GenerationRequest
        /// The response's `inference` for the request.
        public let inference: GenerationResponse.Inference
        public let warnings: [String]
        /// The assets staging stored (the data-URL images), for a caller that gives the job up.
        public let storedAssetIds: [String]
    }

    /// Validates `request` and stores its data-URL images (SPEC §2), as `generate` does before
    /// it runs; throws `GenerationError` for a bad request, having stored nothing.
    public func stage(_ request: GenerationRequest) throws -> StagedRequest {
        let resolved = try ResolvedRequest(request, models: models, assets: assets)
        let controlImage = try resolved.controlImage.load(from: assets)
        let references = try resolved.ipAdapterImages.map { try $0.load(from: assets) }
        let (inputs, uploads) = inputAssets(resolved, controlImage: controlImage, references: references)
        do { try assets.add(uploads) } catch { throw GenerationError(error) }
        var pinned = request
        pinned.seed = String(resolved.seed)
        (pinned.controlImage, pinned.controlImageId, pinned.image, pinned.imageId) = (nil, nil, nil, inputs.controlImage)
        (pinned.ipAdapterImages, pinned.ipAdapterImage, pinned.ipAdapterImageId) = (nil, nil, nil)
        pinned.ipAdapterImageIds = inputs.ipAdapterImages
        return StagedRequest(
            request: pinned, inference: GenerationResponse.Inference(resolved, inputAssets: inputs, assets: assets),
            warnings: resolved.warnings, storedAssetIds: uploads.map(\.id))
    }

    /// The typed pipeline's run of `request`; `onStep` may throw to fail it.
    private func run(
        _ request: ResolvedRequest, controlImage: RGBImage, references: [RGBImage],
        onStep: @escaping (GenerationProgress) throws -> ProgressAction
    ) throws -> [RGBImage] {
        let pipeline = StableDiffusionPipeline(model: request.model, store: store, modelsDirectory: models.url)
        let controlNets = request.controlNets.map {
            ControlNetInput(
                folder: $0.folder, image: controlImage, scale: $0.modality.scale,
                detect: request.disableModalityDetection ? nil : Modality(rawValue: $0.modality.name))
        }
        // An error of `onStep` (a preview that cannot be stored) stops the run and is its outcome.
        var failure: Error?
        do {
            return try pipeline.generate(
                request.parameters, controlNets: controlNets,
                    ipAdapter: IPAdapterInput(folder: request.ipAdapter.url, images: references, scales: request.ipAdapterScales),
                loras: request.loras
            ) { report in
                do { return try onStep(report) } catch {
                    failure = error
                    return .stop
                }
            }
        } catch {
            throw failure ?? error
        }
    }

    /// Stores the outputs and the inputs given as data URLs as one batch: all or none, so a
    /// failed or killed job leaves nothing listed.
    private func store(
        _ images: [RGBImage], of request: ResolvedRequest, controlImage: RGBImage, references: [RGBImage], started: Date,
        jobId: String?
    ) throws -> Result {
        let (inputs, uploads) = inputAssets(request, controlImage: controlImage, references: references)
        let outputs = images.enumerated().map { i, image in
            AssetStore.NewAsset(
                image, kind: .image, metadata: AssetMetadata(request: request, sample: i, parentId: inputs.controlImage),
                hidden: request.hideResults, outputIndex: i, id: jobId.map { AssetStore.jobAssetId(jobId: $0, role: .output, index: i) })
        }
        let stored = try assets.add(outputs + uploads).prefix(outputs.count)
        let response = GenerationResponse(
            request: request, assetIds: stored.map(\.id), inputAssets: inputs, assets: assets, startedAt: started)
        return Result(images: images, assets: Array(stored), response: response)
    }

    /// The request's input images as assets: those given by id are kept as they are, those sent
    /// as data URLs become new assets to store (kind `uploaded`, hidden when `imageHide`).
    private func inputAssets(
        _ request: ResolvedRequest, controlImage: RGBImage, references: [RGBImage]
    ) -> (GenerationResponse.Inference.InputAssets, [AssetStore.NewAsset]) {
        var uploads: [AssetStore.NewAsset] = []
        func asset(_ input: ImageInput, _ image: RGBImage, parent: String?) -> String {
            if let id = input.assetId { return id }
            let upload = AssetStore.NewAsset(image, kind: .uploaded, metadata: AssetMetadata(parentId: parent), hidden: request.imageHide)
            uploads.append(upload)
            return upload.id
        }
        let inputs = GenerationResponse.Inference.InputAssets(
            controlImage: asset(request.controlImage, controlImage, parent: request.imageParentId),
            ipAdapterImages: zip(request.ipAdapterImages, references).map { asset($0, $1, parent: nil) })
        return (inputs, uploads)
    }
}
