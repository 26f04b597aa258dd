import Foundation
import Testing

/// A fresh HOME for running Weights/README.md's walkthrough (WalkthroughTests): `~/.local/bin` holds
/// copies of the built `diffuse` and its resources folder, as a user installs them, and the stand-in
/// `hf`, which serves the hub folder the session was made with.
final class WalkthroughSession {
    struct Run {
        let status: Int32
        let output: String
        let errors: String
    }

    private let homeFolder: TemporaryFolder
    private let hubFolder: TemporaryFolder
    var home: URL { homeFolder.url }
    var hub: URL { hubFolder.url }
    var bin: URL { home.appendingPathComponent(".local/bin") }

    /// A session whose hub `writeHub` fills, with the example's images as `~/edges.png` and `~/style.png`.
    init(hub writeHub: (URL) throws -> Void) throws {
        homeFolder = try TemporaryFolder()
        hubFolder = try TemporaryFolder()
        try writeHub(hubFolder.url)
        try install()
        for (name, file) in [("edges.png", "control.png"), ("style.png", "style.png")] {
            try FileManager.default.copyItem(
                at: WalkthroughTests.root.appendingPathComponent("Examples/images/\(file)"), to: home.appendingPathComponent(name))
        }
    }

    /// Runs `script` with `sh -eu` in `folder`, with HOME this session's (or `home`), its `bin` first
    /// on PATH and its hub; no other variable of the test's environment is passed on.
    func run(_ script: String, in folder: URL, home: URL? = nil) throws -> Run {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-euc", script]
        process.currentDirectoryURL = folder
        process.environment = ["HOME": (home ?? self.home).path, "PATH": "\(bin.path):/usr/bin:/bin", "WALKTHROUGH_HUB": hub.path, "LANG": "C.UTF-8"]
        let output = Pipe()
        // Standard error to a file, so that reading the output cannot block on a full error pipe.
        let errors = hub.appendingPathComponent("errors-\(UUID().uuidString).txt")
        try #require(FileManager.default.createFile(atPath: errors.path, contents: nil))
        defer { try? FileManager.default.removeItem(at: errors) }
        process.standardOutput = output
        process.standardError = try FileHandle(forWritingTo: errors)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(status: process.terminationStatus, output: String(decoding: outputData, as: UTF8.self),
                   errors: try String(contentsOf: errors, encoding: .utf8))
    }

    /// Copies the built `diffuse`, its resources folder and the stand-in `hf` into `bin`.
    private func install() throws {
        let built = WalkthroughTests.root.appendingPathComponent(".build/release")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        // `cp` in another process: no process the other tests start meanwhile inherits a descriptor
        // open for writing on the copy (its exec would fail with "Text file busy").
        let copy = Process()
        copy.executableURL = URL(fileURLWithPath: "/bin/cp")
        copy.arguments = ["-R", built.appendingPathComponent("diffuse").path, built.appendingPathComponent("Diffuse_DiffusionPipeline.resources").path,
                          WalkthroughTests.fixtures.appendingPathComponent("hf").path, bin.path]
        try copy.run()
        copy.waitUntilExit()
        try #require(copy.terminationStatus == 0, "cannot copy the built diffuse from \(built.path): build it first")
    }
}
