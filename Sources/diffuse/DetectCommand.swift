import ArgumentParser
import DiffusionCore
import DiffusionDetectors
import DiffusionFormats
import DiffusionPipeline
import Foundation

/// `diffuse detect`: runs one modality's detector on an image, as the pipeline does when
/// `disableModalityDetection` is false, and saves the map as a PNG.
struct DetectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "detect",
        abstract: "Turn a control image into a modality's map (canny: white edges on black).",
        discussion: """
            canny is cv2.Canny(image, 100, 200) as controlnet_aux computes it; illusion has no \
            detector and writes the image unchanged; the others run controlnet_aux's detectors \
            (Docs/DETECTORS.md) with the weights file the models directory holds for them
            (lineart reads sk_model2.pth instead with --coarse):

            \(weightsFiles)

            The output is written atomically: on any error no file is left.
            """)

    /// One line per neural detector: its modality and where its weights go.
    private static var weightsFiles: String {
        Modality.allCases.compactMap { modality in
            modality.detectorWeightsFile.map { "  \(modality.rawValue): <models>/detectors/\(modality.rawValue)/\($0)" }
        }.joined(separator: "\n")
    }

    @Option(help: "The modality whose map to make, e.g. canny, pose or scribble.")
    var modality: Modality

    @Option(help: ArgumentHelp("The control image, a PNG or JPEG file.", valueName: "file"),
            completion: .file(extensions: ["png", "jpg", "jpeg"]))
    var image: String

    @Option(help: ArgumentHelp("Where to write the map, a .png file (replaced if it exists).", valueName: "file.png"),
            completion: .file(extensions: ["png"]))
    var output: String

    @Option(help: ArgumentHelp("The models directory, where neural detectors find their weights.", valueName: "dir"))
    var models: String = PackagePaths.defaultFolder("Weights")

    @Flag(help: "lineart only: the coarse model (detectors/lineart/sk_model2.pth), controlnet_aux's coarse=True.")
    var coarse = false

    func validate() throws {
        guard !coarse || modality == .lineart else {
            throw ValidationError("--coarse applies to --modality lineart only, not \(modality.rawValue)")
        }
        guard URL(fileURLWithPath: output).pathExtension.lowercased() == "png" else {
            throw ValidationError("--output '\(output)' must name a .png file: the map is written as a PNG")
        }
    }

    func run() throws {
        // The modality is checked first, so an unavailable one fails before any file is read.
        let detector: Detector?
        do {
            let folder = URL(fileURLWithPath: models, isDirectory: true)
            detector = coarse ? try LineartDetector(weightsDirectory: modality.weightsDirectory(modelsDirectory: folder), coarse: true)
                : try modality.detector(modelsDirectory: folder)
        } catch {
            throw CommandFailure("\(error)")
        }
        let destination = try outputURL()
        let input = try readImage()
        // No detector (illusion): the image is its own map.
        let map = try failing("\(modality.rawValue) detection on '\(image)' failed") { try detector?.detect(input) ?? input }
        try failing("cannot write '\(output)'") { try PNG.write(map, to: destination) }
    }

    private func readImage() throws -> RGBImage {
        if let problem = pathProblem(image, expectingFolder: false) {
            throw CommandFailure("cannot read --image '\(image)': \(problem)")
        }
        let data = try failing("cannot read --image '\(image)'") { try Data(contentsOf: URL(fileURLWithPath: image)) }
        return try failing("cannot use --image '\(image)'") { try ImageDecoder.decode(data) }
    }

    /// The output file, once its folder is known to exist (the atomic write creates a
    /// temporary file there, whose name would otherwise be the one in the error).
    private func outputURL() throws -> URL {
        let url = URL(fileURLWithPath: output)
        let folder = url.deletingLastPathComponent().path
        if let problem = pathProblem(folder, expectingFolder: true) {
            throw CommandFailure("cannot write '\(output)' (folder '\(folder)'): \(problem)")
        }
        return url
    }
}

extension Modality: ExpressibleByArgument {}
