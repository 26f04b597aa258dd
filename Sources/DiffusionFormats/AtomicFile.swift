import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes files so that readers see either the old file or the complete new one: the bytes
/// go to a temporary file in the destination's folder (same file system, so `rename` is
/// atomic), which then replaces the destination.
enum AtomicFile {
    /// Creates the temporary file, lets `body` stream into it with `write`, then renames it
    /// into place. On any failure the temporary file is removed and the destination is
    /// untouched. Failures are reported as `makeError(reason)`.
    static func write(
        to url: URL,
        makeError: @escaping (String) -> Error,
        _ body: (_ write: (UnsafeRawBufferPointer) throws -> Void) throws -> Void
    ) throws {
        let folder = url.deletingLastPathComponent()
        let temporary = folder.appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp")
        let descriptor = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw makeError("cannot create \(temporary.path): \(errnoDescription())") }
        do {
            try body { bytes in try writeAll(bytes, to: descriptor, makeError: makeError) }
            guard close(descriptor) == 0 else { throw makeError("cannot close \(temporary.path): \(errnoDescription())") }
        } catch {
            close(descriptor)
            unlink(temporary.path)
            throw error
        }
        guard rename(temporary.path, url.path) == 0 else {
            let reason = errnoDescription()
            unlink(temporary.path)
            throw makeError("cannot rename \(temporary.path) to \(url.path): \(reason)")
        }
    }

    private static func writeAll(_ bytes: UnsafeRawBufferPointer, to descriptor: Int32, makeError: (String) -> Error) throws {
        var offset = 0
        while offset < bytes.count {
            let written = posixWrite(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { throw makeError("write failed: \(errnoDescription())") }
            offset += written
        }
    }
}

func errnoDescription() -> String { String(cString: strerror(errno)) }

// At file scope, so that `write` is the system call and not `AtomicFile.write`.
private func posixWrite(_ descriptor: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
    write(descriptor, bytes, count)
}
