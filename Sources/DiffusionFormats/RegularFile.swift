import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a file could not be read: the path and what is wrong with it.
public struct FileReadError: Error, Equatable, CustomStringConvertible, LocalizedError, Sendable {
    public let path: String
    public let reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "\(path): \(reason)" }
    public var errorDescription: String? { description }
}

/// Reads model, config and image files only when they are regular files.
///
/// `Data(contentsOf:)` on a FIFO blocks until a writer comes, forever if none does, and a
/// directory or device gives an unhelpful error or an endless read. Here the file is opened
/// without blocking and its type checked on the open descriptor (so it cannot change between
/// the check and the read) before a byte is read.
public enum RegularFile {
    /// The whole file at `url`.
    ///
    /// `followingSymlinks: false` refuses a symbolic link as the last path component (a link
    /// planted in a folder this process writes, such as the asset store, could point anywhere).
    ///
    /// - Throws: `FileReadError` naming the path when it is missing, unreadable, not a regular
    ///   file (a FIFO, directory, device or socket), a refused symbolic link, or larger than
    ///   `maximumSize` bytes.
    public static func read(_ url: URL, maximumSize: Int = .max, followingSymlinks: Bool = true) throws -> Data {
        let (descriptor, size) = try openForReading(url, followingSymlinks: followingSymlinks)
        defer { close(descriptor) }
        guard size <= maximumSize else {
            throw FileReadError(path: url.path, reason: "it is \(size) bytes, more than the limit of \(maximumSize)")
        }
        var data = Data(count: size)
        var done = 0
        while done < size {
            let count = data.withUnsafeMutableBytes { readBytes(descriptor, $0.baseAddress! + done, size - done) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else {
                // A file shrinking under the read ends it early; an error says why.
                if count == 0 { break }
                throw FileReadError(path: url.path, reason: "cannot read: \(errnoDescription())")
            }
            done += count
        }
        return data.prefix(done)
    }

    /// Opens `url` for reading and checks it is a regular file; the caller closes the descriptor.
    ///
    /// - Returns: the descriptor and the file's size in bytes.
    static func openForReading(_ url: URL, followingSymlinks: Bool = true) throws -> (descriptor: Int32, size: Int) {
        // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer.
        let descriptor = open(url.path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | (followingSymlinks ? 0 : O_NOFOLLOW))
        guard descriptor >= 0 else {
            let reason = !followingSymlinks && errno == ELOOP
                ? "it is a symbolic link, which is not followed here" : "cannot open: \(errnoDescription())"
            throw FileReadError(path: url.path, reason: reason)
        }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            let reason = "cannot stat: \(errnoDescription())"
            close(descriptor)
            throw FileReadError(path: url.path, reason: reason)
        }
        guard let kind = kind(of: status.st_mode) else { return (descriptor, Int(status.st_size)) }
        close(descriptor)
        throw FileReadError(path: url.path, reason: "not a regular file (it is a \(kind))")
    }

    /// What a non-regular file is, or nil for a regular file.
    private static func kind(of mode: mode_t) -> String? {
        switch mode & S_IFMT {
        case S_IFREG: return nil
        case S_IFIFO: return "FIFO"
        case S_IFDIR: return "directory"
        case S_IFCHR: return "character device"
        case S_IFBLK: return "block device"
        case S_IFSOCK: return "socket"
        default: return "special file"
        }
    }
}

/// POSIX `read`, which `RegularFile.read` hides inside the type.
private func readBytes(_ descriptor: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
    read(descriptor, buffer, count)
}
