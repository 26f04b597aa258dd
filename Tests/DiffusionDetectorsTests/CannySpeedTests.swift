import DiffusionCore
import DiffusionDetectors
import DiffusionFormats
import Foundation
import Testing

/// Times CannyDetector on the photo-sized images written by Tests/Goldens/canny/benchmark.py,
/// and checks it agrees with OpenCV on them too (these sizes run the row bands in parallel).
/// Runs only when CANNY_BENCH names that script's output folder, so CI (no Python) skips it.
@Suite struct CannySpeedTests {
    static let folder = ProcessInfo.processInfo.environment["CANNY_BENCH"].map { URL(fileURLWithPath: $0) }

    @Test(.enabled(if: folder != nil), arguments: [512, 1024])
    func cannySpeed(size: Int) throws {
        let folder = try #require(Self.folder)
        let image = try PNG.decode(contentsOf: folder.appendingPathComponent("\(size).png"))
        let reference = try PNG.decode(contentsOf: folder.appendingPathComponent("\(size).edges.png"))
        let detector = CannyDetector(low: 100, high: 200)

        let edges = detector.edgeMap(image)
        // The edges PNG is one-channel; the decoder repeats it into R, G and B.
        #expect(edges == stride(from: 0, to: reference.pixels.count, by: 3).map { reference.pixels[$0] })

        for threads in [Parallel.threadCount, 1] {
            // Global, but only this opt-in test changes it, and no result depends on it.
            let saved = Parallel.threadCount
            Parallel.threadCount = threads
            defer { Parallel.threadCount = saved }
            let (best, median) = timings { _ = detector.detect(image) }
            print("CannyDetector.detect \(size)x\(size) on \(threads) thread(s): "
                  + "best \(String(format: "%.2f", best)) ms, median \(String(format: "%.2f", median)) ms")
        }
    }

    /// The best and median wall-clock time of 50 runs, in milliseconds.
    private func timings(_ body: () -> Void) -> (best: Double, median: Double) {
        var times: [Double] = []
        for _ in 0..<50 {
            let start = DispatchTime.now().uptimeNanoseconds
            body()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
        }
        times.sort()
        return (times[0], times[times.count / 2])
    }
}
