// Follows Pillow's src/libImaging/Resample.c (ImagingResampleInner and the 8bpc passes).
import DiffusionCore
import Foundation

/// Why an image cannot be resized.
public struct ResampleError: Error, CustomStringConvertible, Sendable {
    public let message: String

    public var description: String { "cannot resize image: \(message)" }
}

extension RGBImage {
    /// The image resized to `width` x `height` exactly as Pillow's
    /// `Image.resize((width, height), filter)` does on an 8-bit RGB image (no box, no
    /// `reducing_gap`): per-axis convolution coefficients in double, rounded to 22-bit
    /// fixed point, then one pass per axis whose size changes, each rounding and clamping
    /// to 8 bits.
    ///
    /// The order of the passes changes the rounding, so it is Pillow's: the pinned Pillow
    /// (13.0) runs the vertical pass first when the height shrinks by more than twice what
    /// the width shrinks (`h < H && H - h > 2 * (W - w)`), the horizontal one first
    /// otherwise. That rule is not in a public Pillow source this project could read; it
    /// was measured against the pinned wheel on 544 random size pairs with no exception
    /// (see Docs/IMAGES.md), and the goldens cover both orders.
    ///
    /// - Throws: `ResampleError` when either image is empty.
    public func resized(width: Int, height: Int, filter: ResampleFilter) throws -> RGBImage {
        try resized(width: width, height: height, filter: filter, columns: 0..<width, rows: 0..<height)
    }

    /// The pixels `columns` x `rows` of `resized(width:height:filter:)`, computed alone: the
    /// time and memory follow the window, not the whole resize (a 1 x 1,000,000 image whose
    /// short side becomes 224 would otherwise make 224 x 224,000,000 pixels).
    ///
    /// - Throws: `ResampleError` when either image is empty or the window is not inside the
    ///   resized image.
    public func resized(
        width: Int, height: Int, filter: ResampleFilter, columns: Range<Int>, rows: Range<Int>
    ) throws -> RGBImage {
        guard width > 0, height > 0, self.width > 0, self.height > 0 else {
            throw ResampleError(message: "cannot resize \(self.width)x\(self.height) to \(width)x\(height)")
        }
        guard !columns.isEmpty, !rows.isEmpty, columns.clamped(to: 0..<width) == columns, rows.clamped(to: 0..<height) == rows
        else {
            throw ResampleError(message: "the window \(columns) x \(rows) is not inside \(width)x\(height)")
        }
        let horizontal = width != self.width
            ? ResampleCoefficients(inputSize: self.width, outputSize: width, outputs: columns, filter: filter) : nil
        let vertical = height != self.height
            ? ResampleCoefficients(inputSize: self.height, outputSize: height, outputs: rows, filter: filter) : nil
        // An axis that keeps its size is not resampled, so its window is a plain crop.
        let source = cropped(columns: horizontal == nil ? columns : 0..<self.width, rows: vertical == nil ? rows : 0..<self.height)
        let verticalFirst = height < self.height && self.height - height > 2 * (self.width - width)
        if verticalFirst, let vertical {
            let shorter = source.resampledVertically(vertical, rowOffset: 0)
            return horizontal.map { shorter.resampledHorizontally(rows: 0..<rows.count, $0) } ?? shorter
        }
        guard let horizontal else { return vertical.map { source.resampledVertically($0, rowOffset: 0) } ?? source }
        // Only the source rows some output row reads go through the horizontal pass.
        let sourceRows = Self.rowsRead(by: vertical, height: source.height)
        let narrower = source.resampledHorizontally(rows: sourceRows, horizontal)
        return vertical.map { narrower.resampledVertically($0, rowOffset: sourceRows.lowerBound) } ?? narrower
    }

    /// The pixels `columns` x `rows` of this image.
    private func cropped(columns: Range<Int>, rows: Range<Int>) -> RGBImage {
        guard columns != 0..<width || rows != 0..<height else { return self }
        var out = [UInt8]()
        out.reserveCapacity(columns.count * rows.count * 3)
        for y in rows {
            let start = 3 * (y * width + columns.lowerBound)
            out += pixels[start..<start + 3 * columns.count]
        }
        return RGBImage(width: columns.count, height: rows.count, pixels: out)
    }

    private static func rowsRead(by vertical: ResampleCoefficients?, height: Int) -> Range<Int> {
        guard let vertical, let last = vertical.first.indices.last else { return 0..<height }
        return vertical.first[0]..<(vertical.first[last] + vertical.count[last])
    }

    /// `_ImagingResampleHorizontal_8bpc` over the source rows `rows`.
    private func resampledHorizontally(rows: Range<Int>, _ coefficients: ResampleCoefficients) -> RGBImage {
        let outWidth = coefficients.first.count, inWidth = width
        var out = [UInt8](repeating: 0, count: outWidth * rows.count * 3)
        pixels.withUnsafeBufferPointer { source in
            out.withUnsafeMutableBufferPointer { out in
                coefficients.weights.withUnsafeBufferPointer { weights in
                    let out = out.baseAddress!
                    Parallel.forEachRange(rows.count, minimumPerThread: 16) { range in
                        for row in range {
                            let line = source.baseAddress! + (rows.lowerBound + row) * inWidth * 3
                            let outLine = out + row * outWidth * 3
                            for x in 0..<outWidth {
                                let k = weights.baseAddress! + x * coefficients.kernelSize
                                let start = line + coefficients.first[x] * 3
                                var r = ResampleCoefficients.rounding, g = r, b = r
                                for tap in 0..<coefficients.count[x] {
                                    r &+= Int32(start[3 * tap]) &* k[tap]
                                    g &+= Int32(start[3 * tap + 1]) &* k[tap]
                                    b &+= Int32(start[3 * tap + 2]) &* k[tap]
                                }
                                outLine[3 * x] = ResampleCoefficients.clip8(r)
                                outLine[3 * x + 1] = ResampleCoefficients.clip8(g)
                                outLine[3 * x + 2] = ResampleCoefficients.clip8(b)
                            }
                        }
                    }
                }
            }
        }
        return RGBImage(width: outWidth, height: rows.count, pixels: out)
    }

    /// `_ImagingResampleVertical_8bpc`; this image's row 0 is source row `rowOffset`.
    private func resampledVertically(_ coefficients: ResampleCoefficients, rowOffset: Int) -> RGBImage {
        let outHeight = coefficients.first.count, stride = width * 3
        var out = [UInt8](repeating: 0, count: outHeight * stride)
        pixels.withUnsafeBufferPointer { source in
            out.withUnsafeMutableBufferPointer { out in
                coefficients.weights.withUnsafeBufferPointer { weights in
                    let out = out.baseAddress!
                    Parallel.forEachRange(outHeight, minimumPerThread: 16) { range in
                        var sums = [Int32](repeating: 0, count: stride)
                        for y in range {
                            let k = weights.baseAddress! + y * coefficients.kernelSize
                            let top = source.baseAddress! + (coefficients.first[y] - rowOffset) * stride
                            for i in 0..<stride { sums[i] = ResampleCoefficients.rounding }
                            // Row by row, so the inner loop runs over contiguous samples.
                            for tap in 0..<coefficients.count[y] {
                                let line = top + tap * stride, weight = k[tap]
                                for i in 0..<stride { sums[i] &+= Int32(line[i]) &* weight }
                            }
                            let outLine = out + y * stride
                            for i in 0..<stride { outLine[i] = ResampleCoefficients.clip8(sums[i]) }
                        }
                    }
                }
            }
        }
        return RGBImage(width: width, height: outHeight, pixels: out)
    }
}
