import DiffusionCore
import DiffusionFormats
import Foundation
import Testing

/// A part of a resize is exactly that part of the whole resize, and its cost follows the part.
@Suite struct ResizedPartTests {
    static func image(width: Int, height: Int, seed: UInt64) -> RGBImage {
        var random = SeededGenerator(state: seed)
        return RGBImage(width: width, height: height, pixels: (0..<3 * width * height).map { _ in UInt8.random(in: 0...255, using: &random) })
    }

    static func crop(_ image: RGBImage, columns: Range<Int>, rows: Range<Int>) -> RGBImage {
        var pixels: [UInt8] = []
        for y in rows { pixels += image.pixels[3 * (y * image.width + columns.lowerBound)..<3 * (y * image.width + columns.upperBound)] }
        return RGBImage(width: columns.count, height: rows.count, pixels: pixels)
    }

    /// Both pass orders, each axis grown, shrunk or kept, and parts at the edges and inside.
    @Test(arguments: [
        (30, 20, 50, 33), (50, 40, 20, 12), (40, 40, 40, 25), (17, 90, 60, 90), (64, 64, 20, 64), (9, 300, 224, 224),
    ]) func partIsTheCropOfTheWhole(_ sizes: (Int, Int, Int, Int)) throws {
        let (inWidth, inHeight, width, height) = sizes
        let source = Self.image(width: inWidth, height: inHeight, seed: UInt64(inWidth * 1000 + inHeight))
        for filter in [ResampleFilter.bicubic, .lanczos, .bilinear] {
            let whole = try source.resized(width: width, height: height, filter: filter)
            for (columns, rows) in [(0..<width, 0..<height), (0..<1, height - 1..<height), (width / 3..<width - width / 4, height / 2..<height)] {
                let part = try source.resized(width: width, height: height, filter: filter, columns: columns, rows: rows)
                #expect(part == Self.crop(whole, columns: columns, rows: rows), "\(sizes) \(filter) \(columns) \(rows)")
            }
        }
    }

    /// A 1 x 100,000 reference image: the resize for CLIP's 224 crop would be 224 x 22,400,000
    /// pixels (15 GB); only the crop's 224 x 224 is computed.
    @Test func extremeAspectRatioCostsOnlyTheCrop() throws {
        let tall = Self.image(width: 1, height: 100_000, seed: 5)
        let crop = try CLIPImagePreprocessing.resizeAndCenterCrop(tall, shortestEdge: 224, cropWidth: 224, cropHeight: 224)
        #expect(crop.width == 224 && crop.height == 224)
        // Every column of an upscaled 1-pixel-wide image is the same.
        #expect((0..<224).allSatisfy { y in crop.pixels[3 * y * 224..<3 * (y * 224 + 1)] == crop.pixels[3 * (y * 224 + 223)..<3 * (y * 224 + 224)] })
    }

    @Test func partOutsideTheImageIsRefused() {
        let source = Self.image(width: 8, height: 8, seed: 1)
        #expect(throws: ResampleError.self) { try source.resized(width: 4, height: 4, filter: .bicubic, columns: 0..<5, rows: 0..<4) }
        #expect(throws: ResampleError.self) { try source.resized(width: 4, height: 4, filter: .bicubic, columns: 0..<0, rows: 0..<4) }
    }
}
