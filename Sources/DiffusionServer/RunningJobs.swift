import Foundation

/// What a running job's worker is told between steps: whether to stop and why.
final class JobControl: Sendable {
    enum Reason: Sendable, CustomStringConvertible {
        case canceled, timeLimit, shutdown, lost

        var description: String {
            switch self {
            case .canceled: "canceled"
            case .timeLimit: "stopped at its time limit"
            case .shutdown: "put back in the queue at shutdown"
            case .lost: "lost to another worker"
            }
        }
    }

    let worker: String
    private let started = Date()
    private let stopReason = Locked<Reason?>(nil)
    /// Each sample's latest preview, by sample index.
    private let latestPreviews = Locked<[Int: JobRecord.Preview]>([:])

    init(worker: String) {
        self.worker = worker
    }

    var reason: Reason? { stopReason.current }
    var elapsed: Double { Date().timeIntervalSince(started) }

    /// Asks the job to stop; the first reason given is the one kept.
    func stop(_ reason: Reason) {
        stopReason.withLock { $0 = $0 ?? reason }
    }

    /// Acts on the queue's answer to a report.
    func apply(_ answer: JobQueue.Control) {
        switch answer {
        case .proceed: break
        case .cancel: stop(.canceled)
        case .lost: stop(.lost)
        }
    }

    /// Records `previews` and returns the latest of every sample so far, in sample order.
    func previews(_ previews: [JobRecord.Preview]) -> [JobRecord.Preview] {
        latestPreviews.withLock { latest in
            for preview in previews { latest[preview.outputIndex] = preview }
            return latest.keys.sorted().compactMap { latest[$0] }
        }
    }
}

/// The jobs this process runs, so a cancel or a shutdown reaches them before the next report.
final class RunningJobs: Sendable {
    private let jobs = Locked<[String: JobControl]>([:])

    func start(_ id: String, worker: String) -> JobControl {
        let control = JobControl(worker: worker)
        jobs.withLock { $0[id] = control }
        return control
    }

    func finish(_ id: String) {
        _ = jobs.withLock { $0.removeValue(forKey: id) }
    }

    func stop(_ id: String, reason: JobControl.Reason) {
        jobs.current[id]?.stop(reason)
    }

    func stopAll(of worker: String, reason: JobControl.Reason) {
        jobs.current.values.filter { $0.worker == worker }.forEach { $0.stop(reason) }
    }
}
