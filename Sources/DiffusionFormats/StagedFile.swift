import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file written in full and flushed under a temporary name in its destination's folder,
/// waiting to be put in place (`AtomicFile.stage`).
///
/// It holds an exclusive `flock` on the file from before its first byte until `close()` (or
/// until the process dies: the kernel drops the lock of a killed process), so that a cleaner
/// in another process can tell a live writer's file from a dead one's
/// (`AtomicFile.removeStaleTemporaries`). The lock belongs to the file, not its name: it
/// stays held after `commit()` renames it.
public final class StagedFile: @unchecked Sendable {
    /// The temporary file, `.<destination name>.<uuid>.tmp`, until `commit()` renames it.
    public let temporary: URL
    public let destination: URL
    private var descriptor: Int32
    private var committed = false
    private let makeError: (String) -> Error

    init(temporary: URL, destination: URL, descriptor: Int32, makeError: @escaping (String) -> Error) {
        self.temporary = temporary
        self.destination = destination
        self.descriptor = descriptor
        self.makeError = makeError
    }

    /// Renames the file into place, replacing the destination, and flushes the folder so the
    /// new name survives a crash. The lock is kept until `close()`.
    public func commit() throws {
        guard !committed else { return }
        guard rename(temporary.path, destination.path) == 0 else {
            throw makeError("cannot put \(destination.lastPathComponent) in place: \(errnoDescription())")
        }
        committed = true
        AtomicFile.syncFolder(destination.deletingLastPathComponent())
    }

    /// Releases the lock; a file not committed is removed first.
    public func close() {
        guard descriptor >= 0 else { return }
        if !committed { unlink(temporary.path) }
        closeDescriptor(descriptor)
        descriptor = -1
    }

    deinit { close() }
}

/// POSIX `close`, which `StagedFile.close()` hides inside the type.
private func closeDescriptor(_ descriptor: Int32) {
    close(descriptor)
}
