import ArgumentParser
import DiffusionPipeline
import DiffusionService
import Foundation

/// `diffuse generate`: runs one request of `POST /generate/controlnet-ip-adapter` (Docs/SPEC.md §5),
/// given as its JSON body or as flags.
struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Generate images from a request body (--request) or from flags (--prompt, --control-image, ...).",
        discussion: """
            Either --request FILE|- with a /generate/controlnet-ip-adapter JSON body, or the flags, \
            which build the same request from image files:

              diffuse generate --prompt "a red house" --control-image edges.png --modality canny \\
                  --reference style.png -o house.png

            Prints the response JSON ({"job": ..., "inference": ...}) on standard output and the \
            progress on standard error (a bar on a terminal, a line per step otherwise). Each image \
            is stored as <assets>/<assetId>.png with its metadata in <assetId>.json, and with -o also \
            written where you ask. Exit status 0 when the job succeeded; 1 with {"error": ...} for a \
            request that fails validation (nothing is written), or with the job's failure.
            """)

    @Option(help: ArgumentHelp("The request body, a JSON file, or - for standard input.", valueName: "file|-"))
    var request: String?

    @OptionGroup(title: "Request flags (instead of --request)")
    var flags: RequestFlags

    @Option(name: [.customShort("o"), .long],
            help: ArgumentHelp("Also write the images here: the path itself for one image, <name>-<i>.png for several.",
                               valueName: "file.png"))
    var output: String?

    @Option(help: ArgumentHelp("The models directory (Docs/SPEC.md §1; default: the package's Weights/).", valueName: "dir"))
    var models: String = PackagePaths.defaultFolder("Weights")

    @Option(help: ArgumentHelp("The asset store (default: the package's Assets/).", valueName: "dir"))
    var assets: String = PackagePaths.defaultFolder("Assets")

    func validate() throws {
        if request != nil && flags.isGiven { throw ValidationError("give either --request or the request flags, not both") }
        if request == nil && !flags.isGiven { throw ValidationError("give --request FILE|- or the request flags (--prompt, ...)") }
        if let output, URL(fileURLWithPath: output).pathExtension.lowercased() != "png" {
            throw ValidationError("-o '\(output)' must name a .png file")
        }
    }

    func run() throws {
        StandardStreams.ignoreBrokenPipes()
        let modelsURL = URL(fileURLWithPath: models, isDirectory: true)
        let service = GenerationService(models: modelsURL, assets: URL(fileURLWithPath: assets, isDirectory: true))
        let display = ProgressDisplay()
        let result: GenerationService.Result
        do {
            let body = try self.body(models: modelsURL)
            result = try service.generate(body) { progress in
                display.show(progress)
                return .proceed
            }
            display.finish()
        } catch {
            display.finish()
            try StandardStreams.writeOutput(json(GenerationError(error)))
            throw ExitCode.failure
        }
        try StandardStreams.writeOutput(json(result.response))
        guard result.response.job.status == .success else { throw ExitCode.failure }
        try writeImages(result, from: service.assets)
    }

    private func body(models: URL) throws -> GenerationRequest {
        guard let request else { return try flags.request(models: models) }
        let data: Data
        do {
            data = request == "-" ? try StandardStreams.readInput(limit: RequestLimits.bodyBytes) : try Self.readFile(request)
        } catch {
            throw GenerationError.badRequest("cannot read the request '\(request)': \(error)")
        }
        return try GenerationRequest(json: data)
    }

    private static func readFile(_ path: String) throws -> Data {
        if let problem = pathProblem(path, expectingFolder: false) { throw StreamError(problem) }
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        guard size <= RequestLimits.bodyBytes else { throw StreamError("it holds more than \(RequestLimits.bodyBytes >> 20) MB") }
        do { return try Data(contentsOf: URL(fileURLWithPath: path)) } catch { throw StreamError(error.localizedDescription) }
    }

    /// With -o: copies each image's PNG from the asset store to where the user asked.
    private func writeImages(_ result: GenerationService.Result, from store: AssetStore) throws {
        guard let output else { return }
        let base = URL(fileURLWithPath: output)
        for (i, asset) in result.assets.enumerated() {
            let destination = result.assets.count == 1 ? base
                : base.deletingLastPathComponent().appendingPathComponent("\(base.deletingPathExtension().lastPathComponent)-\(i).png")
            try failing("cannot write '\(destination.path)'") {
                try Data(contentsOf: store.imageURL(asset.id)).write(to: destination, options: .atomic)
            }
        }
    }
}

/// `value` as pretty-printed JSON and a newline.
func json<T: Encodable>(_ value: T) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    return String(decoding: try encoder.encode(value), as: UTF8.self) + "\n"
}

/// Writes `value` as pretty-printed JSON on standard output.
func printJSON<T: Encodable>(_ value: T) throws {
    try StandardStreams.writeOutput(json(value))
}
