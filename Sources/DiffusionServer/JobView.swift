import DiffusionService
import Foundation

/// A job as `GET /jobs/{jobId}` shows it: the schema's job object (`jobId`, `status`,
/// `progress`, `statusHistory`, `metadata.assetIds`) plus `error` on failure and, with
/// `intermediateImages`, each sample's latest preview in `metadata.output.intermediateImages`.
struct JobView: Encodable {
    struct StatusChange: Encodable {
        var date: String
        var status: String
    }

    struct Preview: Encodable {
        var assetId: String
        var url: String
        var outputIndex: Int
        var step: Int
    }

    struct Output: Encodable {
        var intermediateImages: [Preview]
    }

    struct Metadata: Encodable {
        var assetIds: [String]
        var output: Output?
    }

    var jobId: String
    var jobType = "inference"
    var status: String
    var progress: Double
    var createdAt: String
    var updatedAt: String
    var statusHistory: [StatusChange]
    var metadata: Metadata
    var error: GenerationError.Detail?

    init(_ job: JobRecord, links: AssetLinks) {
        jobId = job.id
        status = job.status.rawValue
        progress = job.progress
        createdAt = job.createdAt
        updatedAt = job.updatedAt
        // queued when submitted, in-progress when (last) claimed, then how it ended.
        statusHistory = [StatusChange(date: job.createdAt, status: JobRecord.Status.queued.rawValue)]
        if let started = job.startedAt { statusHistory.append(StatusChange(date: started, status: JobRecord.Status.inProgress.rawValue)) }
        if let finished = job.finishedAt, job.isFinished { statusHistory.append(StatusChange(date: finished, status: job.status.rawValue)) }
        let previews = job.previews.map {
            Preview(assetId: $0.assetId, url: links.image($0.assetId), outputIndex: $0.outputIndex, step: $0.step)
        }
        metadata = Metadata(assetIds: job.assetIds, output: previews.isEmpty ? nil : Output(intermediateImages: previews))
        error = job.error
    }
}

/// The `{"job": ...}` of `GET /jobs/{jobId}` and the cancel route.
struct JobResponse: Encodable {
    var job: JobView
}

/// What `POST /generate/controlnet-ip-adapter` answers: the queued job and the resolved
/// parameters, as the endpoint's response schema (`job`, `inference`).
struct SubmitResponse: Encodable {
    var job: JobView
    var inference: GenerationResponse.Inference
    var warnings: [String]
}

/// The URLs of assets as this server serves them.
struct AssetLinks: Sendable {
    /// `http://host:port`, as the client reached the server.
    let base: String

    func image(_ id: String) -> String { "\(base)/assets/\(id)/image" }
}
