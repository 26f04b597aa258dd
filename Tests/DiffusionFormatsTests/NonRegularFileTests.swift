import DiffusionCore
import DiffusionFormats
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A FIFO, directory or device where a weights, config or image file should be is an error
/// naming the path, returned at once: reading a FIFO used to wait for a writer forever.
struct NonRegularFileTests {
    /// Runs `body` on another thread and fails the test if it has not returned within 10
    /// seconds (it would hang the suite otherwise); `unblock` then releases the thread.
    private func returnsPromptly(_ what: String, unblock: () -> Void = {}, _ body: @escaping @Sendable () -> Void) {
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            body()
            done.signal()
        }
        if done.wait(timeout: .now() + 10) == .timedOut {
            Issue.record("\(what) did not return within 10 seconds")
            unblock()
            _ = done.wait(timeout: .now() + 10)
        }
    }

    /// A FIFO in `folder`; opening it for writing without blocking releases a reader stuck in open.
    private func fifo(in folder: TemporaryFolder, named name: String) throws -> (URL, () -> Void) {
        let url = folder.url.appendingPathComponent(name)
        try #require(mkfifo(url.path, 0o644) == 0)
        return (url, {
            let writer = open(url.path, O_WRONLY | O_NONBLOCK)
            if writer >= 0 { close(writer) }
        })
    }

    @Test func safetensorsFIFOIsAnError() throws {
        let folder = try TemporaryFolder()
        let (url, unblock) = try fifo(in: folder, named: "diffusion_pytorch_model.safetensors")
        returnsPromptly("opening a FIFO as safetensors", unblock: unblock) {
            #expect {
                _ = try SafeTensorsFile(contentsOf: url)
            } throws: { error in
                let error = error as? SafeTensorsError
                return error?.kind == .unreadableFile && error?.description == "\(url.path): not a regular file (it is a FIFO)"
            }
        }
    }

    @Test func imageFIFOIsAnError() throws {
        let folder = try TemporaryFolder()
        let (url, unblock) = try fifo(in: folder, named: "control.png")
        returnsPromptly("decoding a FIFO as an image", unblock: unblock) {
            #expect(throws: FileReadError(path: url.path, reason: "not a regular file (it is a FIFO)")) {
                _ = try ImageDecoder.decode(contentsOf: url)
            }
            #expect(throws: FileReadError.self) { _ = try PNG.decode(contentsOf: url) }
            #expect(throws: FileReadError.self) { _ = try JPEG.decode(contentsOf: url) }
        }
    }

    /// /dev/zero would read without end; a directory cannot be read at all.
    @Test func directoryAndDeviceAreErrors() throws {
        let folder = try TemporaryFolder()
        returnsPromptly("reading a device") {
            #expect(throws: FileReadError(path: "/dev/zero", reason: "not a regular file (it is a character device)")) {
                _ = try RegularFile.read(URL(fileURLWithPath: "/dev/zero"))
            }
        }
        #expect(throws: FileReadError(path: folder.url.path, reason: "not a regular file (it is a directory)")) {
            _ = try RegularFile.read(folder.url)
        }
        #expect {
            _ = try SafeTensorsFile(contentsOf: folder.url)
        } throws: { error in
            (error as? SafeTensorsError)?.reason == "not a regular file (it is a directory)"
        }
    }

    @Test func readsRegularFilesWhole() throws {
        let folder = try TemporaryFolder()
        let bytes = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 * 7) }
        let url = try folder.write(bytes, named: "data.bin")
        #expect(try RegularFile.read(url) == Data(bytes))
        #expect(try RegularFile.read(try folder.write([], named: "empty.bin")).isEmpty)
        #expect(throws: FileReadError(path: url.path, reason: "it is 100000 bytes, more than the limit of 99999")) {
            _ = try RegularFile.read(url, maximumSize: 99_999)
        }
        let missing = folder.url.appendingPathComponent("missing.json")
        #expect(throws: FileReadError(path: missing.path, reason: "cannot open: No such file or directory")) {
            _ = try RegularFile.read(missing)
        }
    }

    /// A symbolic link is read through by default and refused on request.
    @Test func symbolicLinksAreRefusedOnRequest() throws {
        let folder = try TemporaryFolder()
        let target = try folder.write([1, 2, 3], named: "target.png")
        let link = folder.url.appendingPathComponent("asset.png")
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: target)
        #expect(try RegularFile.read(link) == Data([1, 2, 3]))
        #expect(throws: FileReadError(path: link.path, reason: "it is a symbolic link, which is not followed here")) {
            _ = try RegularFile.read(link, followingSymlinks: false)
        }
        #expect(try RegularFile.read(target, followingSymlinks: false) == Data([1, 2, 3]))
    }

    /// Non-finite weights are data, not a reason to trap: every dtype that can hold or
    /// overflow to NaN and infinity converts to the float32 NaN and infinities.
    @Test func nonFiniteWeightsConvert() throws {
        let folder = try TemporaryFolder()
        let f64 = [Double.nan, .infinity, 1e300, -1e300].flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) }
        let bf16: [UInt8] = [0xC0, 0x7F, 0x80, 0x7F, 0x80, 0xFF]  // NaN, +inf, -inf
        let f32 = f32Bytes([.nan, -.infinity])
        let header = #"{"f64":{"dtype":"F64","shape":[4],"data_offsets":[0,32]},"#
            + #""bf16":{"dtype":"BF16","shape":[3],"data_offsets":[32,38]},"#
            + #""f32":{"dtype":"F32","shape":[2],"data_offsets":[38,46]}}"#
        let url = try folder.write(safetensorsBytes(header: header, data: f64 + bf16 + f32), named: "nan.safetensors")
        let file = try SafeTensorsFile(contentsOf: url)
        let converted = try file.tensor(named: "f64").scalars
        #expect(converted[0].isNaN)
        #expect(Array(converted[1...]) == [.infinity, .infinity, -.infinity])
        let widened = try file.tensor(named: "bf16").scalars
        #expect(widened[0].isNaN && Array(widened[1...]) == [.infinity, -.infinity])
        let copied = try file.weights(named: "f32")
        #expect(copied.count == 2)
    }
}
