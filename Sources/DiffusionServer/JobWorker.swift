import DiffusionPipeline
import DiffusionService
import Foundation
import Logging
import ServiceLifecycle

/// One worker: claims a job, runs it through the shared `GenerationService` (so models stay
/// loaded between jobs), reports its progress after every step, and records how it ended.
/// On shutdown it stops claiming and puts its running job back in the queue.
final class JobWorker: Service, Sendable {
    let name: String
    private let queue: JobQueue
    private let service: GenerationService
    private let limits: ServerConfiguration.Limits
    private let running: RunningJobs
    private let logger: Logger
    private let stopping = Locked(false)

    init(name: String, queue: JobQueue, service: GenerationService, limits: ServerConfiguration.Limits,
         running: RunningJobs, logger: Logger) {
        self.name = name
        self.queue = queue
        self.service = service
        self.limits = limits
        self.running = running
        self.logger = logger
    }

    func run() async throws {
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await loop()
            } onGracefulShutdown: {
                self.stop()
            }
        } onCancel: {
            self.stop()
        }
    }

    private func stop() {
        stopping.withLock { $0 = true }
        running.stopAll(of: name, reason: .shutdown)
    }

    private func loop() async {
        while !stopping.current {
            do {
                if let job = try await queue.claim(worker: name, lease: limits.leaseSeconds) {
                    await execute(job)
                    continue
                }
            } catch {
                logger.error("\(name): cannot claim a job: \(error)")
            }
            try? await Task.sleep(for: .seconds(limits.pollInterval))
        }
    }

    /// Runs `job` to its end, or until it is canceled, times out, is lost or the worker stops.
    private func execute(_ job: JobRecord) async {
        logger.info("\(name): running \(job.id) (attempt \(job.attempts))")
        let control = running.start(job.id, worker: name)
        defer { running.finish(job.id) }
        // A step can take longer than a lease (real models on a CPU): the heartbeat keeps it.
        let heartbeat = Task { [queue, name, limits] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(limits.leaseSeconds / 3))
                guard !Task.isCancelled else { break }
                if let answer = try? await queue.report(job.id, worker: name, lease: limits.leaseSeconds) { control.apply(answer) }
            }
        }
        let outcome: Result<GenerationService.Result, Error>
        do {
            let request = try GenerationRequest(json: job.request)
            outcome = .success(try await offload { [self] in
                try service.generate(request, jobId: job.id) { report in self.step(job, report, control) }
            })
        } catch {
            outcome = .failure(error)
        }
        heartbeat.cancel()
        // Detached from this task: a worker cancelled at shutdown still records its job.
        await Task { await self.record(job, outcome, control.reason) }.value
    }

    /// After each step: the time limit, the progress report (which also brings a cancel), and
    /// whether to go on.
    private func step(_ job: JobRecord, _ report: GenerationProgress, _ control: JobControl) -> ProgressAction {
        if control.elapsed > limits.jobTimeLimit { control.stop(.timeLimit) }
        let previews = report.previews.map { _ in
            control.previews(report.samples.map {
                JobRecord.Preview(
                    assetId: AssetStore.jobAssetId(jobId: job.id, role: .preview, index: $0), outputIndex: $0, step: report.step)
            })
        }
        do {
            let answer = try blockingWait { [queue, name, limits] in
                try await queue.report(job.id, worker: name, progress: report.fraction, previews: previews, lease: limits.leaseSeconds)
            }
            control.apply(answer)
        } catch {
            logger.warning("\(name): cannot report \(job.id)'s progress: \(error)")
        }
        return control.reason == nil ? .proceed : .stop
    }

    /// Writes how `job` ended, as far as it is still this worker's.
    private func record(_ job: JobRecord, _ outcome: Result<GenerationService.Result, Error>, _ reason: JobControl.Reason?) async {
        do {
            switch (outcome, reason) {
            case (.success(let result), _) where result.response.job.status == .success:
                try await queue.finish(job.id, worker: name, status: .success, assetIds: result.response.job.metadata.assetIds)
            case (_, .lost?):
                logger.warning("\(name): \(job.id) was claimed by another worker; left to it")
            case (_, .shutdown?):
                try await queue.requeue(job.id, worker: name)
            case (_, .canceled?):
                try await queue.finish(job.id, worker: name, status: .canceled)
            case (_, .timeLimit?):
                try await queue.finish(
                    job.id, worker: name, status: .failure,
                    error: .internalError("the job ran longer than the time limit of \(Int(limits.jobTimeLimit)) s"))
            case (.success(let result), nil):
                let detail = result.response.job.error
                try await queue.finish(
                    job.id, worker: name, status: .failure,
                    error: GenerationError(status: detail?.status ?? 500, message: detail?.message ?? "the job failed", field: detail?.field))
            case (.failure(let error), nil):
                try await queue.finish(job.id, worker: name, status: .failure, error: GenerationError(error))
            }
            logger.info("\(name): \(job.id) done (\(reason.map { "\($0)" } ?? "ran to its end"))")
        } catch {
            logger.error("\(name): cannot record how \(job.id) ended: \(error)")
        }
    }
}
