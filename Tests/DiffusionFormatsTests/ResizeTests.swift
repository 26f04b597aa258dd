import DiffusionCore
import DiffusionFormats
import Foundation
import Testing

/// `RGBImage.resized` against Pillow's `Image.resize` (Tests/Goldens/images/resize.safetensors):
/// every filter, upscaling, downscaling, one axis only, extreme ratios.
@Suite struct ResizeTests {
    let goldens: SafeTensorsFile

    init() throws {
        goldens = try SafeTensorsFile(contentsOf: imageGoldens.appendingPathComponent("resize.safetensors"))
    }

    /// The same double-precision coefficients, the same 22-bit fixed point and the same
    /// integer passes as Pillow's 8-bit path, so the result is bit-exact: no tolerance.
    @Test func matchesPillowExactlyForEveryFilterAndSize() throws {
        let filters: [String: ResampleFilter] = [
            "lanczos": .lanczos, "bicubic": .bicubic, "bilinear": .bilinear, "box": .box, "hamming": .hamming,
        ]
        let cases = goldens.names.filter { !$0.hasPrefix("source/") }
        #expect(cases.count >= 90)
        var sources: [String: RGBImage] = [:]
        var samples = 0
        for name in cases {
            let parts = name.split(separator: "/").map(String.init)
            let size = parts[2].split(separator: "x").compactMap { Int($0) }
            let filter = try #require(filters[parts[1]], "\(name)")
            let source = try sources[parts[0]] ?? source(named: parts[0])
            sources[parts[0]] = source
            let resized = try source.resized(width: size[0], height: size[1], filter: filter)
            let expected = try goldenImage(goldens, name)
            #expect(resized.width == expected.width && resized.height == expected.height, "\(name)")
            guard resized.width == expected.width, resized.height == expected.height else { continue }
            let comparison = PixelComparison(resized, expected)
            #expect(comparison.maximumDifference == 0, "\(name): \(comparison)")
            samples += comparison.samples
        }
        #expect(samples > 200_000)
    }

    @Test func keepsAnAxisWhoseSizeDoesNotChange() throws {
        let image = patternImage(width: 5, height: 4)
        #expect(try image.resized(width: 5, height: 4, filter: .lanczos) == image)
        let wider = try image.resized(width: 9, height: 4, filter: .bicubic)
        let widerRows = try RGBImage(width: 5, height: 1, pixels: Array(image.pixels[15..<30]))
            .resized(width: 9, height: 1, filter: .bicubic)
        #expect(Array(wider.pixels[27..<54]) == widerRows.pixels)
    }

    @Test func refusesEmptySizes() {
        let image = patternImage(width: 3, height: 3)
        #expect(throws: ResampleError.self) { try image.resized(width: 0, height: 3, filter: .lanczos) }
        #expect(throws: ResampleError.self) { try RGBImage(width: 0, height: 0).resized(width: 2, height: 2, filter: .box) }
    }

    private func source(named name: String) throws -> RGBImage {
        if name.hasPrefix("pattern_") {
            let size = name.dropFirst("pattern_".count).split(separator: "x").compactMap { Int($0) }
            return patternImage(width: size[0], height: size[1])
        }
        return try goldenImage(goldens, "source/\(name)")
    }
}
