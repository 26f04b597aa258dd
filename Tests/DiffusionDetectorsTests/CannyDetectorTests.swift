import DiffusionCore
import DiffusionDetectors
import DiffusionFormats
import Foundation
import Testing

/// CannyDetector's interface: thresholds, the 3-channel map, and the file-to-file path that
/// `diffuse detect` takes.
@Suite struct CannyDetectorTests {
    @Test func thresholdsInEitherOrderMeanTheSame() throws {
        let swapped = CannyDetector(low: 200, high: 100)
        #expect(swapped.lowThreshold == 100 && swapped.highThreshold == 200)
        // OpenCV swaps them too; the fixture's edges come from cv2.Canny(rgb, 100, 200).
        let entry = try CannyFixtures.entry(named: "threshold_steps")
        #expect(swapped.edgeMap(try CannyFixtures.image(entry)) == (try CannyFixtures.edges(entry)))
    }

    /// A vertical step of 25 between two gray halves: Sobel dx is 4 * 25 = 100 on the two
    /// columns beside it, dy is 0. OpenCV floors thresholds and compares with a strict `>`.
    /// The expected maps were checked with cv2.Canny on the same image.
    @Test(arguments: [
        (low: 99.9, high: 99.9, edge: true),    // both floor to 99: 100 > 99, a strong pixel
        (low: 100.0, high: 100.0, edge: false), // 100 is not above 100
        (low: 99.0, high: 100.7, edge: false),  // a weak candidate, but nothing strong to link it to
        (low: 99.5, high: 50.0, edge: true),    // swapped: low 50, high floor(99.5) = 99
    ])
    func thresholdsFloorAndCompareStrictly(low: Double, high: Double, edge: Bool) {
        let edges = CannyDetector(low: low, high: high).edgeMap(step(width: 8, height: 4, from: 100, by: 25))
        // NMS keeps the left of the two equal columns (x 3 and 4): `m > left && m >= right`.
        let row = edge ? [0, 0, 0, 255, 0, 0, 0, 0] as [UInt8] : [UInt8](repeating: 0, count: 8)
        #expect(edges == Array([[UInt8]](repeating: row, count: 4).joined()))
    }

    @Test func detectRepeatsTheEdgeMapInAllThreeChannels() throws {
        let entry = try CannyFixtures.entry(named: "astronaut")
        let image = try CannyFixtures.image(entry)
        let map = CannyDetector().detect(image)
        #expect(map.width == image.width && map.height == image.height)
        #expect(map.pixels == (try CannyFixtures.edges(entry)).flatMap { [$0, $0, $0] })
    }

    @Test func emptyImageGivesAnEmptyMap() {
        #expect(CannyDetector().detect(RGBImage(width: 0, height: 0)) == RGBImage(width: 0, height: 0))
    }

    /// What `diffuse detect --modality canny` does, through the library: decode a PNG,
    /// run the registry's detector, write the map as a PNG, and read it back.
    @Test func detectPathFromFileToFile() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("canny-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let entry = try CannyFixtures.entry(named: "chelsea")
        let input = folder.appendingPathComponent("chelsea.png"), output = folder.appendingPathComponent("edges.png")
        try PNG.write(try CannyFixtures.image(entry), to: input)

        let detector = CannyDetector(low: 100, high: 200)
        try PNG.write(try detector.detect(try ImageDecoder.decode(contentsOf: input)), to: output)

        let written = try ImageDecoder.decode(contentsOf: output)
        #expect(written.pixels == (try CannyFixtures.edges(entry)).flatMap { [$0, $0, $0] })
        // The atomic write leaves no temporary file behind.
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: folder.path)) == ["chelsea.png", "edges.png"])
    }

    /// A gray image whose columns from `width / 2` on are `by` brighter.
    private func step(width: Int, height: Int, from base: UInt8, by rise: UInt8) -> RGBImage {
        let row = (0..<width).flatMap { x in [UInt8](repeating: x < width / 2 ? base : base + rise, count: 3) }
        return RGBImage(width: width, height: height, pixels: Array([[UInt8]](repeating: row, count: height).joined()))
    }
}
