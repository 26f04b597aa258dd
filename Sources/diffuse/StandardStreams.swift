import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The process's standard streams, used so that a closed, full or vanished stream is an error
/// or is ignored, never a trap: SIGPIPE is ignored (a reader of standard error that exits does
/// not kill the run), standard input is read with a size limit, and a lost response is a
/// non-zero exit.
enum StandardStreams {
    /// Ignores SIGPIPE, so writes to a closed pipe fail with EPIPE instead of killing the process.
    static func ignoreBrokenPipes() {
        signal(SIGPIPE, SIG_IGN)
    }

    /// Reads standard input to its end, refusing more than `limit` bytes.
    static func readInput(limit: Int) throws -> Data {
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = read(0, &buffer, buffer.count)
            if count == 0 { return data }
            if count < 0 {
                if errno == EINTR { continue }
                throw StreamError("cannot read standard input: \(String(cString: strerror(errno)))")
            }
            data.append(buffer, count: count)
            if data.count > limit { throw StreamError("standard input holds more than \(limit / (1 << 20)) MB") }
        }
    }

    /// Writes `text` to standard output whole.
    ///
    /// - Throws: `StreamError` when standard output is closed or full, so the caller exits non-zero.
    static func writeOutput(_ text: String) throws {
        guard write(all: Array(text.utf8), to: 1) else {
            throw StreamError("cannot write the response to standard output: \(String(cString: strerror(errno)))")
        }
    }

    /// Writes `text` to standard error; a closed standard error is ignored (progress is optional).
    static func writeError(_ text: String) {
        _ = write(all: Array(text.utf8), to: 2)
    }

    /// Whether standard error is a terminal (progress is then a bar redrawn in place).
    static var errorIsTerminal: Bool { isatty(2) == 1 }

    private static func write(all bytes: [UInt8], to descriptor: Int32) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { return false }
            offset += written
        }
        return true
    }
}

/// A failure of a standard stream.
struct StreamError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) { self.description = description }
}
