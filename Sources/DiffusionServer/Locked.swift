import Foundation

/// A value shared between threads (a job's generation thread and its reporting tasks), read
/// and written under a lock.
final class Locked<Value>: @unchecked Sendable {
    private var value: Value
    private let lock = NSLock()

    init(_ value: Value) {
        self.value = value
    }

    func withLock<T>(_ body: (inout Value) -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body(&value)
    }

    var current: Value { withLock { $0 } }
}

/// Runs blocking work (a generation, image decoding, file reads) on its own thread, off the
/// few threads that serve every request.
func offload<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread { continuation.resume(with: Result { try body() }) }
        // The pipeline's recursion is shallow, but its callers' frames hold images: room to spare.
        thread.stackSize = 8 << 20
        thread.start()
    }
}

/// Waits, on a thread that may block (never a task's), for `body` to run as a task.
func blockingWait<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
    let result = Locked<Result<T, Error>?>(nil)
    let done = DispatchSemaphore(value: 0)
    Task {
        let value: Result<T, Error>
        do { value = .success(try await body()) } catch { value = .failure(error) }
        result.withLock { $0 = value }
        done.signal()
    }
    done.wait()
    guard let value = result.current else { throw CancellationError() }
    return try value.get()
}
