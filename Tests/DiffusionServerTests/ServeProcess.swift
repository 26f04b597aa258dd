import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A `diffuse serve` process (the built binary) on a free loopback port.
final class ServeProcess: @unchecked Sendable {
    let process = Process()
    private let output = Pipe()
    private let log = LockedText()
    private(set) var port = 0

    /// The `diffuse` binary beside the test bundle (`swift test` builds it with the tests).
    static var binary: URL? {
        let candidates = [
            Bundle.main.executableURL?.deletingLastPathComponent().appendingPathComponent("diffuse"),
            Bundle(for: ServeProcess.self).bundleURL.deletingLastPathComponent().appendingPathComponent("diffuse"),
            Fixtures.root.appendingPathComponent(".build/release/diffuse"),
        ].compactMap { $0 }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    /// Starts `binary` (the built one by default) with `serve` and `arguments`.
    init(arguments: [String], environment: [String: String] = [:], binary: URL? = ServeProcess.binary) throws {
        guard let binary else { throw CocoaError(.fileNoSuchFile) }
        process.executableURL = binary
        process.arguments = ["serve", "--host", "127.0.0.1", "--port", "0"] + arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardOutput = output
        process.standardError = output
        output.fileHandleForReading.readabilityHandler = { [log] handle in log.append(handle.availableData) }
        try process.run()
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, process.isRunning {
            let marker = "listening on http://127.0.0.1:"
            if let range = log.text.range(of: marker), let port = Int(log.text[range.upperBound...].prefix { $0.isNumber }) {
                self.port = port
                return
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        process.terminate()
        throw CocoaError(.executableLoad, userInfo: [NSLocalizedDescriptionKey: "diffuse serve did not start: \(log.text)"])
    }

    var pid: Int32 { process.processIdentifier }
    var text: String { log.text }

    /// kill -9: the process dies at once, mid-job, without a word to the queue.
    func kill9() {
        kill(pid, SIGKILL)
        process.waitUntilExit()
    }

    /// SIGTERM: a graceful stop.
    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }

    deinit {
        if process.isRunning { kill(pid, SIGKILL) }
    }
}

/// Text appended from a reading thread and read from the test's.
final class LockedText: @unchecked Sendable {
    private var data = Data()
    private let lock = NSLock()

    func append(_ chunk: Data) {
        lock.lock()
        data.append(chunk)
        lock.unlock()
    }

    var text: String {
        lock.lock()
        defer { lock.unlock() }
        return String(decoding: data, as: UTF8.self)
    }
}
