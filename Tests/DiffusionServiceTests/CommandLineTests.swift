import DiffusionFormats
import DiffusionPipeline
import Foundation
import Testing

/// `diffuse generate` as a user runs it: the built binary, its flags and its streams.
@Suite(.serialized) struct CommandLineTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let binary = root.appendingPathComponent(".build/release/diffuse")

    struct Run {
        let status: Int32
        let output: String
    }

    /// Runs `diffuse` with `arguments` from `folder`; `stdin`/`stdout`/`stderr` nil closes that stream.
    static func run(
        _ arguments: [String], in folder: URL, stdin: FileHandle? = FileHandle.nullDevice, stdout: Bool = true,
        stderr: FileHandle? = FileHandle.nullDevice
    ) throws -> Run {
        // A shell closes the streams asked closed (`<&-`, `>&-`, `2>&-`) before exec.
        let quoted = ([binary.path] + arguments).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }
        let redirections = (stdin == nil ? " <&-" : "") + (stdout ? "" : " >&-") + (stderr == nil ? " 2>&-" : "")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "exec " + quoted.joined(separator: " ") + redirections]
        process.currentDirectoryURL = folder
        let pipe = Pipe()
        process.standardOutput = pipe
        if let stdin { process.standardInput = stdin }
        if let stderr { process.standardError = stderr }
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(status: process.terminationStatus, output: String(decoding: output, as: UTF8.self))
    }

    /// The example request's images as files, in a fresh folder.
    static func inputs() throws -> TemporaryFolder {
        let folder = try TemporaryFolder()
        for name in ["control", "style"] {
            try FileManager.default.copyItem(
                at: root.appendingPathComponent("Examples/images/\(name).png"), to: folder.url.appendingPathComponent("\(name).png"))
        }
        return folder
    }

    static func flags(_ folder: TemporaryFolder) -> [String] {
        ["generate", "--prompt", "a red house", "--control-image", "control.png", "--reference", "style.png",
         "--width", "64", "--height", "64", "--steps", "3", "--seed", "11", "--assets", folder.url.appendingPathComponent("Assets").path]
    }

    /// The flags build the same request as the JSON body: same images, bit for bit; -o writes them
    /// where asked, from any working directory, with the package's Weights/ as the default models.
    @Test func flagsAndRequestBodyGiveTheSameImages() throws {
        let folder = try Self.inputs()
        let flagged = try Self.run(Self.flags(folder) + ["--samples", "2", "-o", "out.png"], in: folder.url)
        #expect(flagged.status == 0, "\(flagged.output)")
        let first = try PNG.decode(Data(contentsOf: folder.url.appendingPathComponent("out-0.png")))
        #expect(FileManager.default.fileExists(atPath: folder.url.appendingPathComponent("out-1.png").path))

        let body: [String: Any] = [
            "modelId": "shapes-sd15", "prompt": "a red house", "modality": "canny",
            "controlImage": try RequestFlagsData.dataURL(folder.url.appendingPathComponent("control.png")),
            "ipAdapterImages": [try RequestFlagsData.dataURL(folder.url.appendingPathComponent("style.png"))],
            "width": 64, "height": 64, "numInferenceSteps": 3, "seed": "11", "numSamples": 1,
        ]
        try JSONSerialization.data(withJSONObject: body).write(to: folder.url.appendingPathComponent("body.json"))
        let requested = try Self.run(
            ["generate", "--request", "body.json", "--assets", folder.url.appendingPathComponent("Assets").path, "-o", "one.png"],
            in: folder.url)
        #expect(requested.status == 0, "\(requested.output)")
        #expect(try PNG.decode(Data(contentsOf: folder.url.appendingPathComponent("one.png"))) == first)
    }

    @Test func closedOrDirectoryStandardInputIsAnError() throws {
        let folder = try Self.inputs()
        for (stdin, label) in [(nil as FileHandle?, "closed"), (try FileHandle(forReadingFrom: folder.url), "a directory")] {
            let run = try Self.run(["generate", "--request", "-"], in: folder.url, stdin: stdin)
            #expect(run.status == 1, "stdin \(label)")
            #expect(run.output.contains("\"status\" : 400") && run.output.contains("cannot read the request"), "stdin \(label): \(run.output)")
        }
    }

    @Test func fifoAsTheRequestIsRefusedNotWaitedOn() throws {
        let folder = try Self.inputs()
        let fifo = folder.url.appendingPathComponent("body.json")
        #expect(mkfifo(fifo.path, 0o600) == 0)
        let run = try Self.run(["generate", "--request", "body.json"], in: folder.url)
        #expect(run.status == 1 && run.output.contains("not a regular file"), "\(run.output)")
    }

    @Test func closedStandardErrorStillSucceedsAndClosedStandardOutputFails() throws {
        let folder = try Self.inputs()
        let quiet = try Self.run(Self.flags(folder), in: folder.url, stderr: nil)
        #expect(quiet.status == 0 && quiet.output.contains("\"status\" : \"success\""), "\(quiet.output)")
        // The response cannot be written: the job's images exist, but the caller lost the answer.
        let lost = try Self.run(Self.flags(folder), in: folder.url, stdout: false)
        #expect(lost.status != 0)
    }

    /// `diffuse detect` writes the detector's map: the same pixels as the detector run in
    /// process, for canny and for the neural depth and lines detectors.
    @Test(arguments: ["canny", "depth", "lines"])
    func detectWritesTheDetectorsMap(_ modality: String) throws {
        let folder = try Self.inputs()
        let models = try DepthLinesDetectionTests.models(detectors: true)
        let run = try Self.run(
            ["detect", "--modality", modality, "--image", "control.png", "--output", "map.png", "--models", models.url.path], in: folder.url)
        #expect(run.status == 0)
        let written = try PNG.decode(Data(contentsOf: folder.url.appendingPathComponent("map.png")))
        let detector = try #require(try Modality(rawValue: modality)?.detector(modelsDirectory: models.url))
        let control = try ImageDecoder.decode(Data(contentsOf: folder.url.appendingPathComponent("control.png")))
        #expect(written == (try detector.detect(control)))
    }

    /// Without the detector's weights, `diffuse detect` fails naming the file to install, and
    /// writes no map.
    @Test func detectWithoutTheWeightsNamesTheFile() throws {
        let folder = try Self.inputs()
        let models = try DepthLinesDetectionTests.models(detectors: false)
        let errors = folder.url.appendingPathComponent("errors.txt")
        #expect(FileManager.default.createFile(atPath: errors.path, contents: nil))
        let run = try Self.run(
            ["detect", "--modality", "depth", "--image", "control.png", "--output", "map.png", "--models", models.url.path], in: folder.url,
            stderr: try FileHandle(forWritingTo: errors))
        #expect(run.status != 0)
        let message = try String(contentsOf: errors, encoding: .utf8)
        #expect(message.contains("detectors/depth/dpt_hybrid-midas-501f0c75.pt"), "\(message)")
        #expect(!FileManager.default.fileExists(atPath: folder.url.appendingPathComponent("map.png").path))
    }

    /// `diffuse generate` killed with SIGKILL while it writes its assets (when its first
    /// temporary file, its commit record, then its first sidecar appears), then the next start
    /// (`diffuse assets list`): no temporary file or commit record is left, every PNG has its
    /// sidecar, and the job's assets are listed all (when the kill came after the commit record)
    /// or none.
    @Test func killedWhileWritingAssetsLeavesAllOrNothing() throws {
        let folder = try Self.inputs()
        let assets = folder.url.appendingPathComponent("Assets")
        let contents = { ((try? FileManager.default.contentsOfDirectory(atPath: assets.path)) ?? []).sorted() }
        let list = { () throws -> [[String: Any]] in
            let run = try Self.run(["assets", "list", "--assets", assets.path], in: folder.url)
            #expect(run.status == 0, "\(run.output)")
            return try #require(try JSONSerialization.jsonObject(with: Data(run.output.utf8)) as? [[String: Any]])
        }
        #expect(try Self.run(Self.flags(folder), in: folder.url).status == 0)
        let finished = try list().count
        #expect(finished == 3, "the output and the two uploaded inputs")

        let triggers: [(String, (String) -> Bool)] = [
            ("temporary file", AtomicFile.isTemporary), ("commit record", { $0.hasPrefix(".commit-") }),
            ("sidecar", { $0.hasPrefix("asset_") && $0.hasSuffix(".json") }),
        ]
        var caught: [String] = []
        for (label, trigger) in triggers {
            try FileManager.default.removeItem(at: assets)
            let process = Process()
            process.executableURL = Self.binary
            process.arguments = Self.flags(folder)
            process.currentDirectoryURL = folder.url
            (process.standardOutput, process.standardError) = (FileHandle.nullDevice, FileHandle.nullDevice)
            try process.run()
            let deadline = Date(timeIntervalSinceNow: 300)
            while process.isRunning && Date() < deadline {
                if contents().contains(where: trigger) {
                    kill(process.processIdentifier, SIGKILL)
                    break
                }
            }
            process.waitUntilExit()
            let left = contents()
            // Killed between creating a temporary file and locking it: recovery leaves an empty
            // unlocked file alone until it is `emptyFileGrace` old (a live writer's looks the same).
            let empty = left.filter { AtomicFile.isTemporary($0) && (try? Data(contentsOf: assets.appendingPathComponent($0)))?.isEmpty == true }
            if !empty.isEmpty { Thread.sleep(forTimeInterval: AbandonedFile.emptyFileGrace + 1) }
            let state = "\(label): \(process.terminationReason == .uncaughtSignal ? "killed" : "finished") leaving \(left)"
            caught.append(state)
            let listed = try list().count
            let after = contents()
            #expect(!after.contains { AtomicFile.isTemporary($0) || $0.hasPrefix(".commit-") }, "\(state) -> \(after)")
            let stems = { (suffix: String) in Set(after.filter { $0.hasSuffix(suffix) }.map { $0.dropLast(suffix.count) }) }
            #expect(stems(".png") == stems(".json"), "\(state) -> \(after)")
            #expect(listed == 0 || listed == finished, "\(state) -> \(listed) listed")
            if left.contains(where: { $0.hasPrefix(".commit-") }) { #expect(listed == finished, "\(state)") }
        }
        // The test means something only if some kill landed while files were half written.
        #expect(caught.contains { $0.contains(".tmp") || $0.contains(".commit-") }, "\(caught)")
    }
}

/// The CLI's data URL form of an image file, rebuilt here to build the equivalent body.
enum RequestFlagsData {
    static func dataURL(_ file: URL) throws -> String {
        "data:image/png;base64," + (try Data(contentsOf: file)).base64EncodedString()
    }
}
