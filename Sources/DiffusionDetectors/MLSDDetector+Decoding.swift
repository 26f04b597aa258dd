// Follows controlnet_aux/mlsd/utils.py (deccode_output_score_and_ptss and pred_lines).
import DiffusionCore
import Foundation

extension MLSDDetector {
    /// The line candidates kept from the centre map: its 200 highest local maxima.
    static let candidates = 200

    /// The segments of M-LSD's output `[1, h, w, 5]` (centre logit, then start and end
    /// displacements), in the coordinates of an input of twice its size (none for another shape).
    ///
    /// As pred_lines: the centre map's sigmoid, kept where it equals the maximum of its 3x3
    /// neighbourhood; the 200 highest; of those, the ones scoring above `valueThreshold` whose
    /// start and end lie farther apart than `distanceThreshold`, each `2 * (centre + displacement)`.
    /// Scores and lengths are float32 as torch and numpy compute them, the ends float64 as numpy's
    /// integer-plus-float32 sum.
    public static func segments(_ output: Tensor, valueThreshold: Float, distanceThreshold: Float) -> [[Double]] {
        guard output.rank == 4, output.shape[0] == 1, output.shape[3] >= 5 else { return [] }
        let (h, w, channels) = (output.shape[1], output.shape[2], output.shape[3])
        let values = output.storage.pointer
        let heat = (0..<h * w).map { 1 / (1 + expf(-values[$0 * channels])) }
        var peaks: [(score: Float, index: Int)] = []
        for y in 0..<h {
            for x in 0..<w where isLocalMaximum(heat, y: y, x: x, h: h, w: w) {
                peaks.append((heat[y * w + x], y * w + x))
            }
        }
        // torch.topk: highest first (ties by position, which only matters at the 200th place).
        peaks.sort { $0.score != $1.score ? $0.score > $1.score : $0.index < $1.index }
        var segments: [[Double]] = []
        for (score, index) in peaks.prefix(candidates) where score > valueThreshold {
            let d = (1...4).map { values[index * channels + $0] }
            let (ex, ey) = (d[0] - d[2], d[1] - d[3])
            guard (ex * ex + ey * ey).squareRoot() > distanceThreshold else { continue }
            let (y, x) = (Double(index / w), Double(index % w))
            segments.append([2 * (x + Double(d[0])), 2 * (y + Double(d[1])), 2 * (x + Double(d[2])), 2 * (y + Double(d[3]))])
        }
        return segments
    }

    /// Whether `heat[y, x]` equals the maximum of its 3x3 neighbourhood (the pool's padding never wins).
    private static func isLocalMaximum(_ heat: [Float], y: Int, x: Int, h: Int, w: Int) -> Bool {
        let value = heat[y * w + x]
        for ny in max(y - 1, 0)...min(y + 1, h - 1) {
            for nx in max(x - 1, 0)...min(x + 1, w - 1) where heat[ny * w + nx] > value { return false }
        }
        return true
    }

    /// The map MLSDdetector draws: each segment's ends truncated to integers and drawn 1 pixel
    /// wide in white on black (`cv2.line`). A segment whose end is not a finite 32-bit integer
    /// makes cv2 raise, which MLSDdetector catches, keeping the lines drawn before it.
    public static func draw(_ segments: [[Double]], width: Int, height: Int) -> [UInt8] {
        var pixels = [UInt8](repeating: 0, count: width * height)
        for segment in segments {
            let ends = segment.compactMap { $0.isFinite && abs($0) < 2_147_483_648 ? Int($0) : nil }
            guard ends.count == 4 else { break }
            LineSegment(x0: ends[0], y0: ends[1], x1: ends[2], y1: ends[3]).draw(into: &pixels, width: width, height: height)
        }
        return pixels
    }
}
