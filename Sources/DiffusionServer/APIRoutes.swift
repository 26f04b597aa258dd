import DiffusionFormats
import DiffusionService
import Foundation
import Hummingbird

/// The routes of `diffuse serve` (Docs/SERVER.md), each calling the asset store, the job queue
/// or the generation service.
struct APIRoutes: Sendable {
    let service: GenerationService
    let queue: JobQueue
    let running: RunningJobs
    let configuration: ServerConfiguration

    static let openPaths = Set(["/health", "/openapi.json"] + WebPage.files.keys)

    func register(on router: Router<BasicRequestContext>) {
        router.add(middleware: ErrorMiddleware())
        router.add(middleware: AuthenticationMiddleware(keys: configuration.apiKeys, openPaths: Self.openPaths))
        router.get("/health", use: health)
        router.get("/openapi.json") { _, _ in try JSONResponse.make(OpenAPIDocument.document) }
        WebPage.register(on: router)
        router.get("/models", use: models)
        router.post("/detect", use: detect)
        router.post("/generate/controlnet-ip-adapter", use: submit)
        router.get("/jobs/:jobId", use: job)
        router.post("/jobs/:jobId/cancel", use: cancel)
        router.post("/assets", use: uploadAsset)
        router.get("/assets", use: listAssets)
        router.delete("/assets", use: deleteAssets)
        router.get("/assets/:assetId", use: asset)
        router.put("/assets/:assetId", use: updateAsset)
        router.get("/assets/:assetId/image", use: assetImage)
    }

    /// The server's and the queue's state; open, for load balancers.
    func health(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        struct Health: Encodable {
            var status = "ok"
            var jobs: [String: Int]
        }
        return try JSONResponse.make(Health(jobs: try await queue.counts()))
    }

    /// What a request may name: the models, and per family the modalities, presets and adapters.
    func models(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        try JSONResponse.make(try await offload { [service] in try ModelCatalog(service.models) })
    }

    /// Validates the body at once (a bad one is a 400 and leaves nothing behind), stores its
    /// data-URL images, and queues the job; the answer is the queued job.
    func submit(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let body = try await self.body(of: request)
        // Looked at before anything is stored; `enqueue` checks again atomically.
        guard try await queue.queuedCount() < configuration.limits.maxQueuedJobs else { throw Self.queueFull }
        let staged = try await offload { [service] in
            do {
                return try service.stage(try GenerationRequest(json: body))
            } catch {
                throw GenerationError(error)
            }
        }
        let id = "job_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        guard let job = try await queue.enqueue(
            id: id, request: try JSONEncoder().encode(staged.request), maxQueued: configuration.limits.maxQueuedJobs)
        else {
            // Filled up since the look above: the job is given up, with its images.
            staged.storedAssetIds.forEach(service.assets.remove)
            throw Self.queueFull
        }
        let links = Self.links(request, configuration)
        var inference = staged.inference
        inference.image = links.image(inference.imageId)
        inference.ipAdapterImages = inference.ipAdapterImageIds.map(links.image)
        inference.ipAdapterImage = inference.ipAdapterImageId.map(links.image)
        return try JSONResponse.make(SubmitResponse(job: JobView(job, links: links), inference: inference, warnings: staged.warnings))
    }

    func job(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let id = try context.parameters.require("jobId")
        guard let job = try await queue.job(id) else { throw GenerationError.notFound("job '\(id)' not found") }
        return try JSONResponse.make(JobResponse(job: JobView(job, links: Self.links(request, configuration))))
    }

    /// Cancels a queued job at once and a running one within a step (it then stores nothing).
    func cancel(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let id = try context.parameters.require("jobId")
        guard let job = try await queue.cancel(id) else { throw GenerationError.notFound("job '\(id)' not found") }
        running.stop(id, reason: .canceled)
        return try JSONResponse.make(JobResponse(job: JobView(job, links: Self.links(request, configuration))))
    }

    static let queueFull = GenerationError(status: 429, message: "the job queue is full; try again later")

    /// The body, at most the configured size (413 above).
    func body(of request: Request) async throws -> Data {
        let buffer = try await request.body.collect(upTo: configuration.limits.maxBodyBytes)
        return Data(buffer.readableBytesView)
    }

    /// Where this request's client finds assets: the host it asked, else the configured one.
    static func links(_ request: Request, _ configuration: ServerConfiguration) -> AssetLinks {
        AssetLinks(base: "http://" + (request.head.authority ?? "\(configuration.host):\(configuration.port)"))
    }
}
