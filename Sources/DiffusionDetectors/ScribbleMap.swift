// Follows controlnet_aux 0.0.10's util.py (nms) and hed/__init__.py (HEDdetector, scribble=True).
import Foundation

/// What HEDdetector does to its edge map with `scribble=True`, making the thick, binary strokes
/// the scribble ControlNets were trained on: `nms(map, 127, 3.0)` (thin the edges to ridges
/// above 127), `cv2.GaussianBlur(map, (0, 0), 3.0)` (thicken them again), then every pixel
/// above 4 becomes 255 and the rest 0.
enum ScribbleMap {
    /// The scribble map of a one-channel edge map (the three channels of HEDdetector's map are
    /// equal, so each gets this).
    static func scribble(_ edges: [UInt8], width: Int, height: Int) -> [UInt8] {
        let thin = nms(edges, width: width, height: height, threshold: 127, sigma: 3)
        return OpenCVGaussianBlur.blur(thin, width: width, height: height, sigma: 3).map { $0 > 4 ? 255 : 0 }
    }

    /// controlnet_aux's `nms`: the map blurred (float32), then 255 where the blurred value is
    /// above `threshold` and a maximum along at least one of the four directions (horizontal,
    /// vertical, both diagonals: `cv2.dilate` with a 3-pixel line equals the value), else 0.
    static func nms(_ edges: [UInt8], width: Int, height: Int, threshold: Float, sigma: Double) -> [UInt8] {
        let x = OpenCVGaussianBlur.blur(edges.map(Float.init), width: width, height: height, sigma: sigma)
        // (dy, dx) of one end of each line; the other end is opposite.
        let directions = [(0, 1), (1, 0), (1, 1), (1, -1)]
        var out = [UInt8](repeating: 0, count: x.count)
        for row in 0..<height {
            for column in 0..<width {
                let value = x[row * width + column]
                guard value > threshold else { continue }
                // Dilation ignores pixels past the border (OpenCV pads with the lowest value).
                func sample(_ r: Int, _ c: Int) -> Float {
                    r >= 0 && r < height && c >= 0 && c < width ? x[r * width + c] : -.infinity
                }
                let isRidge = directions.contains { dy, dx in
                    max(value, sample(row - dy, column - dx), sample(row + dy, column + dx)) == value
                }
                if isRidge { out[row * width + column] = 255 }
            }
        }
        return out
    }
}
