import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file whose writer is gone, held under this process's lock until released.
///
/// Writers that may leave files behind when killed (`AtomicFile.stage`) hold an exclusive
/// `flock` on them while they live, and the kernel drops it when the process dies, `kill -9`
/// included. So a file that can be locked is no live writer's, whichever process or worker
/// shares the folder (on one machine, or over NFS, where Linux maps `flock` to the server's
/// byte-range locks). Age alone would either wait hours or remove a slow writer's file.
public final class AbandonedFile: @unchecked Sendable {
    /// How long an empty file is left alone even when unlocked: its writer may be between
    /// creating it and locking it (two consecutive system calls), the only moment a live
    /// writer's file is unlocked. Were a writer stalled longer, removing its file would fail its
    /// rename with an error, never leave a wrong file.
    public static let emptyFileGrace: TimeInterval = 5

    public let url: URL
    private var descriptor: Int32

    /// Locks the file at `url` if its writer is gone; nil when it is locked by a live process,
    /// missing, a symbolic link or not a regular file, empty and younger than `emptyFileGrace`,
    /// or replaced under the same name while being locked.
    public init?(_ url: URL) {
        let descriptor = open(url.path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        var opened = stat(), named = stat()
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0, fstat(descriptor, &opened) == 0,
              opened.st_mode & S_IFMT == S_IFREG, lstat(url.path, &named) == 0,
              opened.st_ino == named.st_ino, opened.st_dev == named.st_dev,
              opened.st_size > 0 || Date().timeIntervalSince1970 - modificationTime(opened) > Self.emptyFileGrace
        else {
            closeDescriptor(descriptor)
            return nil
        }
        self.url = url
        self.descriptor = descriptor
    }

    /// Removes the file (under the lock, so no other cleaner acts on it at the same time).
    public func remove() {
        unlink(url.path)
        release()
    }

    /// Gives the lock back.
    public func release() {
        guard descriptor >= 0 else { return }
        closeDescriptor(descriptor)
        descriptor = -1
    }

    deinit { release() }
}

/// Seconds since 1970 of a file's last change.
private func modificationTime(_ status: stat) -> Double {
    #if canImport(Darwin)
    Double(status.st_mtimespec.tv_sec)
    #else
    Double(status.st_mtim.tv_sec)
    #endif
}

/// POSIX `close`, out of the class whose methods would shadow it.
private func closeDescriptor(_ descriptor: Int32) {
    close(descriptor)
}
