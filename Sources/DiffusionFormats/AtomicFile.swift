import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes files so that readers see either the old file or the complete new one: the bytes
/// go to a temporary file in the destination's folder (same file system, so `rename` is
/// atomic), which is flushed to the disk and then replaces the destination; the folder is
/// flushed too, so the new name survives a crash. Temporary files are named
/// `.<name>.<uuid>.tmp`, so a killed writer's leftovers can be found and removed.
public enum AtomicFile {
    /// Writes the file with `body` streaming into `write`, then renames it into place. On any
    /// failure the temporary file is removed and the destination is untouched. Failures are
    /// reported as `makeError(reason)`. Temporary files of earlier writes to the same name
    /// whose writers died are removed first (`removeStaleTemporaries`).
    static func write(
        to url: URL,
        makeError: @escaping (String) -> Error,
        _ body: (_ write: (UnsafeRawBufferPointer) throws -> Void) throws -> Void
    ) throws {
        removeStaleTemporaries(in: url.deletingLastPathComponent(), of: url.lastPathComponent)
        let staged = try stage(to: url, makeError: makeError, body)
        defer { staged.close() }
        try staged.commit()
    }

    /// Creates the temporary file, locks it, lets `body` stream into it with `write` and
    /// flushes it to the disk; the caller commits it (or closes it, which removes it). On any
    /// failure the temporary file is removed. Failures are reported as `makeError(reason)`.
    public static func stage(
        to url: URL,
        makeError: @escaping (String) -> Error,
        _ body: (_ write: (UnsafeRawBufferPointer) throws -> Void) throws -> Void
    ) throws -> StagedFile {
        let folder = url.deletingLastPathComponent()
        let temporary = folder.appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp")
        let descriptor = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        // Messages name the file, not the folder: they may reach a client of the server.
        let name = url.lastPathComponent
        guard descriptor >= 0 else { throw makeError("cannot create a file beside \(name): \(errnoDescription())") }
        // Locked before the first byte: a cleaner removes an unlocked temporary file with bytes
        // in it at once, an empty one only when old (`removeStaleTemporaries`).
        flock(descriptor, LOCK_EX)
        let staged = StagedFile(temporary: temporary, destination: url, descriptor: descriptor, makeError: makeError)
        do {
            try body { bytes in try writeAll(bytes, to: descriptor, makeError: { makeError("cannot write \(name): \($0)") }) }
            guard fsync(descriptor) == 0 else { throw makeError("cannot flush \(name) to the disk: \(errnoDescription())") }
        } catch {
            staged.close()
            throw error
        }
        return staged
    }

    /// Flushes a folder's entries (a rename) to the disk; a file system that cannot is no error.
    static func syncFolder(_ folder: URL) {
        let descriptor = open(folder.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        fsync(descriptor)
        close(descriptor)
    }

    /// Whether `name` is a temporary file of an unfinished write.
    public static func isTemporary(_ name: String) -> Bool {
        name.hasPrefix(".") && name.hasSuffix(".tmp")
    }

    private static func writeAll(_ bytes: UnsafeRawBufferPointer, to descriptor: Int32, makeError: (String) -> Error) throws {
        var offset = 0
        while offset < bytes.count {
            let written = posixWrite(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { throw makeError(errnoDescription()) }
            offset += written
        }
    }
}

func errnoDescription() -> String { String(cString: strerror(errno)) }

// At file scope, so that `write` is the system call and not `AtomicFile.write`.
private func posixWrite(_ descriptor: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
    write(descriptor, bytes, count)
}
