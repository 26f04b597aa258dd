import DiffusionCore
import DiffusionDetectors
import Foundation
import Testing

/// Times the depth, lines, normal-map, lineart and seg detectors at 512x512 on the full-size random-weight networks that
/// Tests/Goldens/detectors/benchmark.py and seg_benchmark.py write (and time in PyTorch). Runs only when
/// DETECTOR_BENCH names that folder, so CI (no Python) skips it.
@Suite(.serialized) struct DetectorSpeedTests {
    static let folder = ProcessInfo.processInfo.environment["DETECTOR_BENCH"].map { URL(fileURLWithPath: $0) }

    @Test(.enabled(if: folder != nil), arguments: ["depth", "lines", "normal-map", "lineart", "seg"])
    func detectorSpeed(_ modality: String) throws {
        let folder = try #require(Self.folder)
        let pixels = try [UInt8](Data(contentsOf: folder.appendingPathComponent("image.rgb")))
        let image = RGBImage(width: 512, height: 512, pixels: pixels)
        let detectors: [String: Detector] = try [
            "depth": MidasDetector(weights: folder.appendingPathComponent("dpt_hybrid-midas-501f0c75.safetensors")),
            "lines": MLSDDetector(weights: folder.appendingPathComponent("mlsd_large_512_fp32.safetensors")),
            "normal-map": NormalBaeDetector(weights: folder.appendingPathComponent("scannet.safetensors")),
            "lineart": LineartDetector(weightsDirectory: folder),
            "seg": UniformerDetector(weights: folder.appendingPathComponent("upernet_global_small.safetensors")),
        ]
        let detector = try #require(detectors[modality])
        _ = try detector.detect(image)  // loads the weights
        for threads in [Parallel.threadCount, 1] {
            // Global, but only this opt-in test changes it, and no result depends on it.
            let saved = Parallel.threadCount
            Parallel.threadCount = threads
            defer { Parallel.threadCount = saved }
            var times: [Double] = []
            for _ in 0..<5 {
                let start = DispatchTime.now().uptimeNanoseconds
                _ = try detector.detect(image)
                times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            }
            times.sort()
            print("\(modality) 512x512, \(threads) thread(s): median \(String(format: "%.3f", times[2])) s, "
                  + "best \(String(format: "%.3f", times[0])) s")
        }
    }
}
