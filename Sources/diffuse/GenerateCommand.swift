import ArgumentParser
import DiffusionPipeline
import Foundation

/// `diffuse generate`: runs one request body of `POST /generate/controlnet-ip-adapter` (SPEC §5).
struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Run a /generate/controlnet-ip-adapter request body and store the images as assets.",
        discussion: """
            Prints the response JSON ({"job": ..., "inference": ...}) on standard output and the \
            progress (step k of N, images done, elapsed time, time left) on standard error. Each \
            image is <assets>/<assetId>.png with its metadata in <assetId>.json. On failure the \
            exit status is 1 and standard output holds {"error": {"status", "message", "field"}}; \
            nothing is written to the asset store for a request that fails validation.
            """)

    @Option(help: ArgumentHelp("The request body, a JSON file, or - for standard input.", valueName: "file|-"))
    var request: String

    @Option(help: ArgumentHelp("The models directory (SPEC §1).", valueName: "dir"))
    var models: String = "Weights"

    @Option(help: ArgumentHelp("The asset store: generated images and uploaded inputs.", valueName: "dir"))
    var assets: String = "Assets"

    func run() throws {
        let pipeline = GenerationPipeline(
            models: URL(fileURLWithPath: models, isDirectory: true), assets: URL(fileURLWithPath: assets, isDirectory: true))
        do {
            let body = try readBody()
            let result = try pipeline.generate(try GenerationRequest(json: body)) { progress in
                FileHandle.standardError.write(Data("\(progress)\n".utf8))
            }
            try printJSON(result.response)
        } catch {
            try printJSON(GenerationError(error))
            throw ExitCode.failure
        }
    }

    private func readBody() throws -> Data {
        do {
            return request == "-" ? FileHandle.standardInput.readDataToEndOfFile()
                : try Data(contentsOf: URL(fileURLWithPath: request))
        } catch {
            throw GenerationError.badRequest("cannot read the request '\(request)': \(error.localizedDescription)")
        }
    }
}

/// Writes `value` as pretty-printed JSON on standard output.
func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}
