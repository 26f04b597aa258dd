import Foundation

/// The answer to a generation (Docs/SPEC.md §4), shaped as the response schema:
/// `{"job": {...}, "inference": {...}, "warnings": [...]}`.
public struct GenerationResponse: Codable, Equatable, Sendable {
    public var job: Job
    public var inference: Inference
    /// Fields ignored and why (unknown fields, Flux-only fields, fields overridden by precedence).
    public var warnings: [String]

    /// The job of a generation that ran, or that failed after its request was resolved.
    public struct Job: Codable, Equatable, Sendable {
        /// The schema's job statuses; a finished generation is `success` or `failure`.
        public enum Status: String, Codable, Sendable {
            case canceled, failure, finalizing, pending, queued, success
            case inProgress = "in-progress"
            case warmingUp = "warming-up"
        }

        public struct StatusChange: Codable, Equatable, Sendable {
            /// ISO 8601.
            public var date: String
            public var status: Status
        }

        public struct Metadata: Codable, Equatable, Sendable {
            /// The produced images, in sample order.
            public var assetIds: [String]
        }

        /// `job_` followed by URL-safe characters.
        public var jobId: String
        /// Always `inference`.
        public var jobType: String
        public var status: Status
        /// 1 once the job has finished.
        public var progress: Double
        public var createdAt: String
        public var updatedAt: String
        public var statusHistory: [StatusChange]
        public var metadata: Metadata
        /// Why a `failure` failed.
        public var error: GenerationError.Detail?
    }

    /// A finished job's response: `success`, or `failure` with `error`, or `canceled`.
    ///
    /// - Parameters:
    ///   - request: the resolved request that ran.
    ///   - assetIds: the produced images, in sample order.
    ///   - inputAssets: the asset ids of the input images (those given as data URLs stored as assets).
    ///   - assets: the store, for the images' URLs.
    ///   - startedAt: when the generation started; it finished now.
    ///   - status: how the job ended; by default `failure` when there is an `error`, else `success`.
    ///   - error: why it failed.
    public init(
        request: ResolvedRequest, assetIds: [String], inputAssets: Inference.InputAssets, assets: AssetStore,
        startedAt: Date, status: Job.Status? = nil, error: GenerationError? = nil
    ) {
        let created = timestamp(startedAt), updated = timestamp()
        let status = status ?? (error == nil ? .success : .failure)
        job = Job(
            jobId: randomId(prefix: "job_"), jobType: "inference", status: status, progress: 1,
            createdAt: created, updatedAt: updated,
            statusHistory: [
                Job.StatusChange(date: created, status: .inProgress), Job.StatusChange(date: updated, status: status),
            ],
            metadata: Job.Metadata(assetIds: assetIds), error: error?.detail)
        inference = Inference(request, inputAssets: inputAssets, assets: assets)
        warnings = request.warnings
    }
}
