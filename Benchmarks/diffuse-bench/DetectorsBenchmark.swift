import ArgumentParser
import DiffusionCore
import DiffusionDetectors
import DiffusionFormats
import DiffusionPipeline
import Foundation

/// `diffuse-bench detectors`: seconds per neural detector on one image, weights read from a
/// models directory (Benchmarks/detectors/benchmark.py writes full-size random ones and times
/// controlnet_aux on the same image).
struct DetectorsBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "detectors", abstract: "Time the pose and scribble detectors on an image (seconds).")

    @Option(help: ArgumentHelp("The models directory holding detectors/<modality>/ weights.", valueName: "dir"))
    var models: String

    @Option(help: ArgumentHelp("The image, PNG or JPEG.", valueName: "file"))
    var image: String

    @Option(help: "Modalities to time, comma-separated.")
    var modalities = "pose,scribble"

    @Option(help: "Timed repetitions after one warm-up; the best is reported.")
    var repeats = 3

    @Option(help: "Worker threads (default: all cores).")
    var threads: Int?

    func run() throws {
        if let threads { Parallel.threadCount = threads }
        let input = try ImageDecoder.decode(Data(contentsOf: URL(fileURLWithPath: image)))
        Machine.announce()
        print("threads: \(Parallel.threadCount), image \(input.width)x\(input.height)")
        for name in modalities.split(separator: ",").map(String.init) {
            guard let modality = Modality(rawValue: name) else { throw ValidationError("--modalities: unknown modality '\(name)'") }
            guard let detector = try modality.detector(modelsDirectory: URL(fileURLWithPath: models, isDirectory: true)) else { continue }
            _ = try detector.detect(input)
            var best = Double.infinity
            for _ in 0..<repeats {
                let start = Date()
                _ = try detector.detect(input)
                best = min(best, Date().timeIntervalSince(start))
            }
            print(String(format: "%@: %.3f s", name, best))
        }
    }
}
