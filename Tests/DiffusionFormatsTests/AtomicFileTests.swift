import DiffusionCore
import DiffusionFormats
import Foundation
import Testing

/// A full disk while writing: the error names the file and the cause, and nothing is left behind.
@Suite(.enabled(if: getuid() == 0, "mounts a 64 KB tmpfs, which needs root (CI runs as root)"))
struct AtomicFileTests {
    @Test func fullDiskNamesTheFileAndLeavesNothing() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("full-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer {
            _ = Process.run("/bin/umount", [folder.path])
            try? FileManager.default.removeItem(at: folder)
        }
        try #require(Process.run("/bin/mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", folder.path]) == 0)
        var random = SeededGenerator(state: 9)
        // 200 x 200 random pixels compress to about 120 KB: more than the file system holds.
        let noise = RGBImage(width: 200, height: 200, pixels: (0..<120_000).map { _ in UInt8.random(in: 0...255, using: &random) })
        let error = #expect(throws: ImageEncodingError.self) { try PNG.write(noise, to: folder.appendingPathComponent("asset_x.png")) }
        let message = String(describing: error!)
        #expect(message.contains("asset_x.png") && message.contains("No space left on device"), "\(message)")
        #expect(!message.contains(folder.path), "\(message)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty)
    }

    @Test func temporaryNamesAreRecognised() {
        #expect(AtomicFile.isTemporary(".asset_x.png.6F9A.tmp"))
        #expect(!AtomicFile.isTemporary("asset_x.png") && !AtomicFile.isTemporary(".hidden"))
    }
}

extension Process {
    /// Runs `path` with `arguments` and returns its exit status (-1 when it cannot start).
    static func run(_ path: String, _ arguments: [String]) -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return -1 }
        process.waitUntilExit()
        return process.terminationStatus
    }
}
