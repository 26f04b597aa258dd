// Follows OpenCV's modules/imgproc/src/canny.cpp (cv::Canny, 3x3 Sobel aperture, L1 gradient norm).
import DiffusionCore
import Foundation

/// Canny edge detection, pixel for pixel `cv2.Canny(rgb, low, high)` on the HWC uint8 RGB array.
///
/// This is what controlnet_aux's `CannyDetector()(image, low_threshold, high_threshold)` returns
/// when it does not resize (the image's short side equals `detect_resolution` and both sides are
/// multiples of 64, or `detect_resolution=0` in the versions that pad): Canny on the three-channel
/// image, the one-channel result repeated into R, G and B (`HWC3`).
///
/// The steps are OpenCV's: a 3x3 Sobel per channel with replicated borders; per pixel, the
/// channel of largest `|dx| + |dy|` (the first on a tie) gives the magnitude and direction;
/// non-maximum suppression in four sectors using OpenCV's fixed-point tangent of 22.5 degrees;
/// then hysteresis: pixels above `high` seed edges that grow through 8-connected pixels above
/// `low`. Magnitudes outside the image count as zero.
public struct CannyDetector: Detector {
    public let modality = "canny"
    /// The lower hysteresis threshold on `|dx| + |dy|` (compared after flooring, as OpenCV).
    public let lowThreshold: Double
    /// The upper hysteresis threshold; pixels above it start an edge.
    public let highThreshold: Double

    /// A detector with OpenCV's threshold semantics: the smaller value is the low threshold
    /// whichever order they come in.
    public init(low: Double = 100, high: Double = 200) {
        precondition(low.isFinite && high.isFinite, "Canny thresholds must be finite")
        lowThreshold = min(low, high)
        highThreshold = max(low, high)
    }

    /// White edges on black, in all three channels, the size of `image`.
    public func detect(_ image: RGBImage) -> RGBImage {
        RGBImage(width: image.width, height: image.height, pixels: edges(image, channels: 3))
    }

    /// The one-channel edge map, row-major, 255 on edges and 0 elsewhere: `cv2.Canny`'s output.
    public func edgeMap(_ image: RGBImage) -> [UInt8] {
        edges(image, channels: 1)
    }

    /// The edge map with each pixel's value repeated `channels` times.
    private func edges(_ image: RGBImage, channels: Int) -> [UInt8] {
        guard image.width > 0, image.height > 0 else { return [] }
        let edges = CannyEdges(width: image.width, height: image.height,
                               low: Self.integerThreshold(lowThreshold), high: Self.integerThreshold(highThreshold))
        image.pixels.withUnsafeBufferPointer { edges.suppressNonMaxima(source: $0.baseAddress!) }
        edges.growEdges()
        return edges.output(channels: channels)
    }

    /// OpenCV floors the thresholds to integers. A 3x3 Sobel L1 magnitude lies in 0...2040, so
    /// clamping to -1...4096 changes no comparison and keeps the conversion in range.
    private static func integerThreshold(_ value: Double) -> Int {
        Int(min(max(value, -1), 4096).rounded(.down))
    }
}

/// The working state of one Canny run: the edge map with a one-pixel frame, and the strong pixels.
///
/// Map values follow OpenCV: 1 cannot be an edge (and frames the image), 0 is a weak candidate,
/// 2 is an edge.
private final class CannyEdges {
    let width: Int
    let height: Int
    let low: Int
    let high: Int
    /// Distance between map rows: the image width plus the frame's two columns.
    let mapStride: Int
    let map: UnsafeMutablePointer<UInt8>
    /// Map indices of the pixels above `high`, where hysteresis starts.
    var seeds: [Int] = []
    private let lock = NSLock()

    init(width: Int, height: Int, low: Int, high: Int) {
        self.width = width
        self.height = height
        self.low = low
        self.high = high
        mapStride = width + 2
        map = .allocate(capacity: mapStride * (height + 2))
        map.initialize(repeating: 1, count: mapStride * (height + 2))
    }

    deinit { map.deallocate() }

    /// Marks every local maximum above `low` as 0 or 2, in bands of rows run in parallel.
    /// Each band recomputes the gradient of the rows just outside it, so bands share nothing
    /// but disjoint rows of the map.
    func suppressNonMaxima(source: UnsafePointer<UInt8>) {
        let kernels = Kernels.current
        Parallel.forEachRange(height, minimumPerThread: 64) { rows in
            let band = GradientRows(source: source, width: width, height: height, kernels: kernels)
            var strong: [Int] = []
            band.load(row: rows.lowerBound - 1, into: 0)
            band.load(row: rows.lowerBound, into: 1)
            for y in rows {
                band.load(row: y + 1, into: (y - rows.lowerBound + 2) % 3)
                suppress(row: y, band: band, center: (y - rows.lowerBound + 1) % 3, strong: &strong)
            }
            lock.lock()
            seeds.append(contentsOf: strong)
            lock.unlock()
        }
    }

    /// Non-maximum suppression of image row `y`, whose gradient sits in slot `center` of `band`
    /// (the previous row in the slot before, the next row in the slot after).
    private func suppress(row y: Int, band: GradientRows, center: Int, strong: inout [Int]) {
        let previous = band.magnitude(slot: (center + 2) % 3)
        let current = band.magnitude(slot: center)
        let next = band.magnitude(slot: (center + 1) % 3)
        let dx = band.dx(slot: center), dy = band.dy(slot: center)
        let mapRow = (y + 1) * mapStride + 1
        // tan(22.5 degrees) in Q15, as OpenCV rounds it; tan(67.5) = tan(22.5) + 2 exactly.
        let tan22 = 13573
        for j in 0..<width {
            let m = Int(current[j])
            guard m > low else { continue }
            let xs = Int(dx[j]), ys = Int(dy[j])
            let x = abs(xs), yShifted = abs(ys) << 15
            let tan22x = x * tan22
            let isMaximum: Bool
            if yShifted < tan22x {
                // Near horizontal gradient: compare with the left and right neighbours.
                isMaximum = m > Int(current[j - 1]) && m >= Int(current[j + 1])
            } else if yShifted > tan22x + (x << 16) {
                // Near vertical: compare with the pixels above and below.
                isMaximum = m > Int(previous[j]) && m >= Int(next[j])
            } else {
                // Diagonal: the neighbours along the gradient, whose side depends on the signs.
                let s = (xs ^ ys) < 0 ? -1 : 1
                isMaximum = m > Int(previous[j - s]) && m > Int(next[j + s])
            }
            guard isMaximum else { continue }
            if m > high {
                map[mapRow + j] = 2
                strong.append(mapRow + j)
            } else {
                map[mapRow + j] = 0
            }
        }
    }

    /// Hysteresis: grows edges from the strong pixels through 8-connected weak candidates.
    /// The frame's value 1 stops the growth at the image border.
    func growEdges() {
        var stack = seeds
        stack.reserveCapacity(max(1024, width * height / 10))
        let s = mapStride
        let neighbours = [-s - 1, -s, -s + 1, -1, 1, s - 1, s, s + 1]
        while let pixel = stack.popLast() {
            for offset in neighbours where map[pixel + offset] == 0 {
                map[pixel + offset] = 2
                stack.append(pixel + offset)
            }
        }
    }

    /// The final map as OpenCV's output, 255 where an edge was found and 0 elsewhere, each
    /// value written `channels` times.
    func output(channels: Int) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: width * height * channels) { out, count in
            var i = 0
            for y in 0..<height {
                let mapRow = map + (y + 1) * mapStride + 1
                for j in 0..<width {
                    let value: UInt8 = mapRow[j] == 2 ? 255 : 0
                    for _ in 0..<channels {
                        out[i] = value
                        i += 1
                    }
                }
            }
            count = i
        }
    }
}
