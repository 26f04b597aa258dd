import DiffusionCore
import DiffusionDetectors
import Foundation
import Testing

/// Times the lineart detector at 512x512 on the full-size random-weight Generator that
/// Tests/Goldens/detectors/lineart_benchmark.py writes (and times in PyTorch). Runs only when
/// LINEART_BENCH names that folder, so CI (no Python) skips it.
@Suite(.serialized) struct LineartSpeedTests {
    static let folder = ProcessInfo.processInfo.environment["LINEART_BENCH"].map { URL(fileURLWithPath: $0) }

    @Test(.enabled(if: folder != nil)) func lineartSpeed() throws {
        let folder = try #require(Self.folder)
        let pixels = try [UInt8](Data(contentsOf: folder.appendingPathComponent("image.rgb")))
        let image = RGBImage(width: 512, height: 512, pixels: pixels)
        let detector = try LineartDetector(weightsDirectory: folder)
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
            print("lineart 512x512, \(threads) thread(s): median \(String(format: "%.3f", times[2])) s, "
                  + "best \(String(format: "%.3f", times[0])) s")
        }
    }
}
