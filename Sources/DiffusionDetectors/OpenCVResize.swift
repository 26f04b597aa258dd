// Follows OpenCV's modules/imgproc/src/resize.cpp (cv::resize: resizeGeneric_, resizeArea_,
// resizeAreaFast_), as the pinned opencv-python runs it; Docs/DETECTORS.md states the tolerance.
import DiffusionCore
import Foundation

/// `cv2.resize` with the interpolations controlnet_aux uses, on 8-bit RGB images and on float32
/// NHWC tensors (one image, any number of channels).
///
/// Linear and Lanczos-4 are separable: per output pixel a few source pixels along each axis
/// (replicated past the border) and their weights, applied along rows then columns. On 8-bit
/// images the weights are OpenCV's 11-bit fixed point and the sums integers; on floats the
/// weights and sums are float32. Area averages each output pixel's footprint (fractional at its
/// edges); when both scales are whole numbers it averages whole blocks. Area upscaling, as
/// OpenCV, is linear with weights that keep the source pixels sharp.
public enum OpenCVResize {
    public enum Interpolation: Sendable {
        /// `cv2.INTER_LINEAR`.
        case linear
        /// `cv2.INTER_AREA`.
        case area
        /// `cv2.INTER_LANCZOS4`.
        case lanczos4
    }

    /// `cv2.resize(image, (width, height), interpolation=...)` on the HWC uint8 array.
    public static func resize(_ image: RGBImage, width: Int, height: Int, interpolation: Interpolation) -> RGBImage {
        precondition(width > 0 && height > 0 && image.width > 0 && image.height > 0, "resize to \(width)x\(height)")
        if width == image.width && height == image.height { return image }
        let plane = Plane(width: image.width, height: image.height, channels: 3, values: image.pixels.map(Float.init))
        let out: [UInt8]
        if let block = wholeBlock(from: plane, width: width, height: height, interpolation: interpolation) {
            // OpenCV's vector path for 2x2 blocks rounds half up; its scalar path, `sum * (1 / area)`, to even.
            let area = block.width * block.height
            out = averagedBlocks(plane, blockWidth: block.width, blockHeight: block.height).map { mean in
                area == 4 ? UInt8((Int(mean * 4) + 2) >> 2) : UInt8(clamping: Int((mean).rounded(.toNearestOrEven)))
            }
        } else if interpolation == .area, width <= image.width, height <= image.height {
            out = areaAveraged(plane, width: width, height: height).map { UInt8(clamping: Int($0.rounded(.toNearestOrEven))) }
        } else {
            out = fixedPointSeparable(image, width: width, height: height, interpolation: interpolation)
        }
        return RGBImage(width: width, height: height, pixels: out)
    }

    /// `cv2.resize(array, (width, height), interpolation=...)` on a float32 HWC array, given as
    /// an NHWC tensor with batch 1.
    public static func resize(_ tensor: Tensor, width: Int, height: Int, interpolation: Interpolation) -> Tensor {
        precondition(tensor.rank == 4 && tensor.shape[0] == 1 && width > 0 && height > 0, "resize \(tensor.shape)")
        let (h, w, c) = (tensor.shape[1], tensor.shape[2], tensor.shape[3])
        if width == w && height == h { return tensor }
        let plane = Plane(width: w, height: h, channels: c, values: tensor.scalars)
        let out: [Float]
        if let block = wholeBlock(from: plane, width: width, height: height, interpolation: interpolation) {
            out = averagedBlocks(plane, blockWidth: block.width, blockHeight: block.height)
        } else if interpolation == .area, width <= w, height <= h {
            out = areaAveraged(plane, width: width, height: height)
        } else {
            out = floatSeparable(plane, width: width, height: height, interpolation: interpolation)
        }
        return Tensor(shape: [1, height, width, c], values: out)
    }
}

/// An HWC array of float32 samples.
struct Plane {
    let width: Int
    let height: Int
    let channels: Int
    let values: [Float]
}

extension OpenCVResize {
    /// The block size when OpenCV's fast area path applies: area interpolation and both scales
    /// whole numbers.
    static func wholeBlock(from plane: Plane, width: Int, height: Int, interpolation: Interpolation) -> (width: Int, height: Int)? {
        guard interpolation == .area, plane.width % width == 0, plane.height % height == 0 else { return nil }
        return (plane.width / width, plane.height / height)
    }

    /// `resizeAreaFast_`: each block's float32 sum times `1 / area` (on bytes the sums are exact
    /// integers, so the caller can recover them).
    static func averagedBlocks(_ plane: Plane, blockWidth: Int, blockHeight: Int) -> [Float] {
        let (w, h, c) = (plane.width / blockWidth, plane.height / blockHeight, plane.channels)
        let scale = Float(1) / Float(blockWidth * blockHeight)
        var out = [Float](repeating: 0, count: w * h * c)
        for y in 0..<h {
            for x in 0..<w {
                for k in 0..<c {
                    var sum: Float = 0
                    for dy in 0..<blockHeight {
                        for dx in 0..<blockWidth {
                            sum += plane.values[((y * blockHeight + dy) * plane.width + x * blockWidth + dx) * c + k]
                        }
                    }
                    out[(y * w + x) * c + k] = sum * scale
                }
            }
        }
        return out
    }

    /// `resizeArea_`: each output pixel the float32 mean of its footprint, source pixels cut by
    /// its edges weighted by the part inside; rows are summed along, then down.
    static func areaAveraged(_ plane: Plane, width: Int, height: Int) -> [Float] {
        let columns = AreaTaps(inSize: plane.width, outSize: width)
        let rows = AreaTaps(inSize: plane.height, outSize: height)
        let c = plane.channels, rowLength = width * c
        var out = [Float](repeating: 0, count: height * rowLength)
        plane.values.withUnsafeBufferPointer { source in
            out.withUnsafeMutableBufferPointer { out in
                let source = source.baseAddress!, out = out.baseAddress!
                Parallel.forEachRange(height, minimumPerThread: 8) { range in
                    var row = [Float](repeating: 0, count: rowLength)
                    for y in range {
                        let sums = out + y * rowLength
                        for (sy, beta) in rows.taps[y] {
                            for i in 0..<rowLength { row[i] = 0 }
                            let line = source + sy * plane.width * c
                            for x in 0..<width {
                                for (sx, alpha) in columns.taps[x] {
                                    for k in 0..<c { row[x * c + k] += alpha * line[sx * c + k] }
                                }
                            }
                            for i in 0..<rowLength { sums[i] += beta * row[i] }
                        }
                    }
                }
            }
        }
        return out
    }

    /// `resizeGeneric_` on floats: weighted float32 sums along rows, then down columns.
    static func floatSeparable(_ plane: Plane, width: Int, height: Int, interpolation: Interpolation) -> [Float] {
        let area = interpolation == .area
        let columns = InterpolationTaps(inSize: plane.width, outSize: width, interpolation: interpolation, areaMode: area, columns: true)
        let rows = InterpolationTaps(inSize: plane.height, outSize: height, interpolation: interpolation, areaMode: area, columns: false)
        let c = plane.channels, rowLength = width * c
        var horizontal = [Float](repeating: 0, count: plane.height * rowLength)
        var out = [Float](repeating: 0, count: height * rowLength)
        plane.values.withUnsafeBufferPointer { source in
            horizontal.withUnsafeMutableBufferPointer { horizontal in
                let source = source.baseAddress!, horizontal = horizontal.baseAddress!
                Parallel.forEachRange(plane.height, minimumPerThread: 8) { range in
                    for sy in range {
                        let line = source + sy * plane.width * c, target = horizontal + sy * rowLength
                        for x in 0..<width {
                            let sum = target + x * c
                            for (sx, weight) in zip(columns.sources[x], columns.weights[x]) {
                                let pixel = line + sx * c
                                for k in 0..<c { sum[k] += pixel[k] * weight }
                            }
                        }
                    }
                }
            }
        }
        horizontal.withUnsafeBufferPointer { horizontal in
            out.withUnsafeMutableBufferPointer { out in
                let horizontal = horizontal.baseAddress!, out = out.baseAddress!
                Parallel.forEachRange(height, minimumPerThread: 8) { range in
                    for y in range {
                        let target = out + y * rowLength
                        for (sy, weight) in zip(rows.sources[y], rows.weights[y]) {
                            let line = horizontal + sy * rowLength
                            for i in 0..<rowLength { target[i] += line[i] * weight }
                        }
                    }
                }
            }
        }
        return out
    }

    /// `resizeGeneric_` on bytes: weights rounded to multiples of 1/2048, integer sums, the
    /// result shifted back by 22 bits (linear, where OpenCV's vector code runs: each row's sum
    /// first shifted by 4 and each product by 16, then `(a + b + 2) >> 2`).
    static func fixedPointSeparable(_ image: RGBImage, width: Int, height: Int, interpolation: Interpolation) -> [UInt8] {
        let area = interpolation == .area
        let columns = InterpolationTaps(inSize: image.width, outSize: width, interpolation: interpolation, areaMode: area, columns: true)
        let rows = InterpolationTaps(inSize: image.height, outSize: height, interpolation: interpolation, areaMode: area, columns: false)
        let columnWeights = columns.weights.map { $0.map(fixed) }, rowWeights = rows.weights.map { $0.map(fixed) }
        let rowLength = width * 3
        var horizontal = [Int](repeating: 0, count: image.height * rowLength)
        for sy in 0..<image.height {
            let line = sy * image.width * 3, target = sy * rowLength
            for x in 0..<width {
                for (sx, weight) in zip(columns.sources[x], columnWeights[x]) {
                    for k in 0..<3 { horizontal[target + x * 3 + k] += Int(image.pixels[line + sx * 3 + k]) * weight }
                }
            }
        }
        var out = [UInt8](repeating: 0, count: height * rowLength)
        for y in 0..<height {
            for i in 0..<rowLength {
                var value = 0
                if interpolation == .lanczos4 {
                    for (sy, weight) in zip(rows.sources[y], rowWeights[y]) { value += horizontal[sy * rowLength + i] * weight }
                    value = (value + (1 << 21)) >> 22
                } else {
                    for (sy, weight) in zip(rows.sources[y], rowWeights[y]) { value += ((horizontal[sy * rowLength + i] >> 4) * weight) >> 16 }
                    value = (value + 2) >> 2
                }
                out[y * rowLength + i] = UInt8(clamping: value)
            }
        }
        return out
    }

    /// A weight in OpenCV's 11-bit fixed point (`saturate_cast<short>(w * 2048)`).
    static func fixed(_ weight: Float) -> Int { Int((weight * 2048).rounded(.toNearestOrEven)) }
}

/// Per output pixel of one axis, the source pixels (clamped to the axis) and float32 weights of
/// linear or Lanczos-4 interpolation, as `resizeGeneric_` sets them up.
struct InterpolationTaps {
    var sources: [[Int]] = []
    var weights: [[Float]] = []

    /// `columns`: OpenCV moves a linear tap that starts outside the axis onto the edge pixel
    /// with weight 1; for rows it only clamps the pixels read, keeping both weights.
    init(inSize: Int, outSize: Int, interpolation: OpenCVResize.Interpolation, areaMode: Bool, columns: Bool) {
        let inverseScale = Double(outSize) / Double(inSize), scale = 1 / inverseScale
        let lanczos = interpolation == .lanczos4
        for d in 0..<outSize {
            var s: Int, f: Float
            if areaMode {
                s = Int((Double(d) * scale).rounded(.down))
                let fraction = Float(Double(d + 1) - Double(s + 1) * inverseScale)
                f = fraction <= 0 ? 0 : fraction - fraction.rounded(.down)
            } else {
                let position = Float((Double(d) + 0.5) * scale - 0.5)
                s = Int(position.rounded(.down))
                f = position - Float(s)
            }
            if !lanczos && columns {
                if s < 0 { (s, f) = (0, 0) }
                if s >= inSize - 1 { (s, f) = (inSize - 1, 0) }
            }
            let coefficients = lanczos ? Self.lanczos4(f) : [1 - f, f]
            let first = lanczos ? s - 3 : s
            sources.append(coefficients.indices.map { min(max(first + $0, 0), inSize - 1) })
            weights.append(coefficients)
        }
    }

    /// OpenCV's `interpolateLanczos4`: the 8 weights of a source offset `x` in 0..<1, from
    /// sines by the angle-addition table, normalized to sum to 1.
    static func lanczos4(_ x: Float) -> [Float] {
        if x < Float.ulpOfOne { return [0, 0, 0, 1, 0, 0, 0, 0] }
        let s45 = 0.70710678118654752440084436210485
        let cs: [(Double, Double)] = [(1, 0), (-s45, -s45), (0, 1), (s45, -s45), (-1, 0), (s45, s45), (0, -1), (-s45, s45)]
        let y0 = -(Double(x) + 3) * Double.pi * 0.25, s0 = sin(y0), c0 = cos(y0)
        var coefficients = [Float](repeating: 0, count: 8), sum: Float = 0
        for i in 0..<8 {
            let y = -(Double(x) + 3 - Double(i)) * Double.pi * 0.25
            coefficients[i] = Float((cs[i].0 * s0 + cs[i].1 * c0) / (y * y))
            sum += coefficients[i]
        }
        let inverse = 1 / sum
        return coefficients.map { $0 * inverse }
    }
}

/// Per output pixel of one axis, the source pixels of its footprint and the float32 share of
/// each (`computeResizeAreaTab`).
struct AreaTaps {
    var taps: [[(Int, Float)]] = []

    init(inSize: Int, outSize: Int) {
        let scale = Double(inSize) / Double(outSize)
        for d in 0..<outSize {
            let start = Double(d) * scale, end = start + scale
            let cell = min(scale, Double(inSize) - start)
            var first = Int(start.rounded(.up)), last = Int(end.rounded(.down))
            last = min(last, inSize - 1)
            first = min(first, last)
            var row: [(Int, Float)] = []
            if Double(first) - start > 1e-3 { row.append((first - 1, Float((Double(first) - start) / cell))) }
            for s in first..<last { row.append((s, Float(1 / cell))) }
            if end - Double(last) > 1e-3 { row.append((last, Float(min(min(end - Double(last), 1), cell) / cell))) }
            taps.append(row)
        }
    }
}
