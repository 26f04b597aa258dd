import DiffusionCore
import DiffusionFormats
import Foundation
import Testing

/// A window of a resize, computed alone, is exactly that window of the whole resize (every
/// output pixel depends only on its own position), so CLIP preprocessing can resize just the
/// crop and its cost follows the crop size, not the input's aspect ratio.
struct ResizeWindowTests {
    /// A deterministic pseudo-random image.
    private func image(width: Int, height: Int, seed: UInt64) -> RGBImage {
        var state = seed
        let pixels = (0..<width * height * 3).map { _ -> UInt8 in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return UInt8(truncatingIfNeeded: state >> 56)
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    private func crop(_ image: RGBImage, columns: Range<Int>, rows: Range<Int>) -> RGBImage {
        var pixels: [UInt8] = []
        for y in rows { pixels += image.pixels[3 * (y * image.width + columns.lowerBound)..<3 * (y * image.width + columns.upperBound)] }
        return RGBImage(width: columns.count, height: rows.count, pixels: pixels)
    }

    /// Both pass orders (vertical first when the height shrinks much more), up- and
    /// downscaling, unchanged axes, every filter; windows at the edges and inside.
    @Test(arguments: ResampleFilter.allCases)
    func windowEqualsTheCropOfTheWholeResize(_ filter: ResampleFilter) throws {
        let sizes = [(17, 23, 9, 31), (40, 11, 40, 5), (13, 60, 7, 12), (25, 25, 25, 40), (30, 8, 64, 8), (9, 50, 9, 50)]
        for (index, (width, height, outWidth, outHeight)) in sizes.enumerated() {
            let source = image(width: width, height: height, seed: UInt64(index + 1))
            let whole = try source.resized(width: outWidth, height: outHeight, filter: filter)
            for (columns, rows) in [(0..<outWidth, 0..<outHeight), (1..<outWidth, 0..<1), (outWidth / 3..<outWidth / 3 + 2, outHeight / 2..<outHeight)]
            where !columns.isEmpty && !rows.isEmpty {
                let window = try source.resized(width: outWidth, height: outHeight, filter: filter, columns: columns, rows: rows)
                #expect(window == crop(whole, columns: columns, rows: rows), "\(filter) \(width)x\(height) -> \(outWidth)x\(outHeight) \(columns) \(rows)")
            }
        }
    }

    @Test func windowOutsideTheImageIsAnError() throws {
        let source = image(width: 4, height: 4, seed: 9)
        #expect(throws: ResampleError.self) { try source.resized(width: 8, height: 8, filter: .bicubic, columns: 4..<9, rows: 0..<8) }
        #expect(throws: ResampleError.self) { try source.resized(width: 8, height: 8, filter: .bicubic, columns: 2..<2, rows: 0..<8) }
    }

    /// A 1 x 1,000,000 reference image (a 4 KB PNG can hold one): the short side becomes 224,
    /// the long side 224,000,000, but only the 224 x 224 crop is made. Made whole, the resize
    /// would need 150 GB. A one-colour column resizes to that colour.
    @Test func tallImagePreprocessesWithinTheCrop() throws {
        let column = RGBImage(width: 1, height: 1_000_000, pixels: [UInt8](repeating: 0, count: 3_000_000).enumerated().map { [200, 100, 50][$0.offset % 3] })
        let crop = try CLIPImagePreprocessing.resizeAndCenterCrop(column, shortestEdge: 224, cropWidth: 224, cropHeight: 224)
        #expect(crop.width == 224 && crop.height == 224)
        #expect(crop.pixels == [UInt8]((0..<224 * 224).flatMap { _ in [200, 100, 50] as [UInt8] }))
    }
}
