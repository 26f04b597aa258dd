// Follows controlnet_aux 0.0.10's open_pose/body.py (Body.__call__ after the network).
import DiffusionCore
import Foundation

/// Turns the body network's heatmaps and part affinity fields into people, as controlnet_aux's
/// `Body.__call__` does: peaks of the smoothed heatmaps are the candidate keypoints, the PAFs
/// score each candidate limb, and limbs are joined into people.
///
/// All arithmetic is float64 as numpy's (the maps themselves come from float32 resizes), so the
/// same maps give the same people.
public struct BodyPoseDecoder: Sendable {
    /// A candidate keypoint: position in pixels, heatmap value, and its index among all peaks.
    public struct Peak: Equatable, Sendable {
        public let x: Int
        public let y: Int
        public let score: Double
        public let id: Int
    }

    /// One person: per keypoint the index of its peak (nil when missing), the total score, and
    /// the number of keypoints.
    public struct Person: Equatable, Sendable {
        public var parts: [Double]
        public var score: Double
        public var count: Double
    }

    /// The limbs as pairs of keypoints (1-based, as controlnet_aux's `limbSeq`).
    static let limbs = [
        (2, 3), (2, 6), (3, 4), (4, 5), (6, 7), (7, 8), (2, 9), (9, 10), (10, 11), (2, 12), (12, 13), (13, 14),
        (2, 1), (1, 15), (15, 17), (1, 16), (16, 18), (3, 17), (6, 18),
    ]
    /// The PAF channels (x, y) of each limb, numbered from 19 as `mapIdx`.
    static let pafChannels = [
        (31, 32), (39, 40), (33, 34), (35, 36), (41, 42), (43, 44), (19, 20), (21, 22), (23, 24), (25, 26), (27, 28),
        (29, 30), (47, 48), (49, 50), (53, 54), (51, 52), (55, 56), (37, 38), (45, 46),
    ]
    static let peakThreshold = 0.1
    static let pafThreshold = 0.05
    static let samples = 10

    let width: Int
    let height: Int
    /// `[height, width, 19]` heatmaps and `[height, width, 38]` PAFs at the image's size.
    let heatmaps: [Double]
    let pafs: [Double]

    public init(width: Int, height: Int, heatmaps: [Double], pafs: [Double]) {
        precondition(heatmaps.count == width * height * 19 && pafs.count == width * height * 38, "pose maps of \(width)x\(height)")
        self.width = width
        self.height = height
        self.heatmaps = heatmaps
        self.pafs = pafs
    }

    /// The candidates of each of the 18 keypoints, and the people.
    public func decode() -> (peaks: [Peak], people: [Person]) {
        let peaks = self.peaks()
        let candidates = peaks.reduce(into: [Peak]()) { $0 += $1 }
        let connections = Self.limbs.indices.map { self.connections(limb: $0, peaks: peaks) }
        return (candidates, Self.people(connections, candidates: candidates))
    }

    /// Per keypoint, the pixels of its smoothed heatmap (`gaussian_filter`, sigma 3) at least
    /// as high as their four neighbours (zero past the border) and above 0.1, in row-major
    /// order, scored with the unsmoothed heatmap.
    func peaks() -> [[Peak]] {
        // Each keypoint's map is independent: found in parallel, numbered in order after.
        var found = [[(x: Int, y: Int, score: Double)]](repeating: [], count: 18)
        let lock = NSLock()
        Parallel.forEach(18) { part in
            let points = localMaxima(part: part)
            lock.lock()
            found[part] = points
            lock.unlock()
        }
        var all: [[Peak]] = [], next = 0
        for points in found {
            all.append(points.enumerated().map { Peak(x: $1.x, y: $1.y, score: $1.score, id: next + $0) })
            next += points.count
        }
        return all
    }

    private func localMaxima(part: Int) -> [(x: Int, y: Int, score: Double)] {
        let map = (0..<(width * height)).map { heatmaps[$0 * 19 + part] }
        let smooth = ScipyGaussianFilter.filter(map, width: width, height: height, sigma: 3)
        var found: [(x: Int, y: Int, score: Double)] = []
        for y in 0..<height {
            for x in 0..<width {
                let v = smooth[y * width + x]
                guard v > Self.peakThreshold else { continue }
                let up = y > 0 ? smooth[(y - 1) * width + x] : 0, down = y < height - 1 ? smooth[(y + 1) * width + x] : 0
                let left = x > 0 ? smooth[y * width + x - 1] : 0, right = x < width - 1 ? smooth[y * width + x + 1] : 0
                guard v >= up, v >= down, v >= left, v >= right else { continue }
                found.append((x, y, map[y * width + x]))
            }
        }
        return found
    }

    /// A limb's connections: (peak id of A, peak id of B, score, index in A's candidates,
    /// index in B's), best first, each candidate used once.
    struct Connection: Equatable {
        let a: Int, b: Int
        let score: Double
        let i: Int, j: Int
    }

    /// controlnet_aux's limb scoring: for each pair of candidates, the PAF sampled at 10 points
    /// from A to B (`np.linspace`, rounded half to even) and projected on the unit vector A->B;
    /// kept when more than 8 samples exceed 0.05 and the mean plus a penalty for limbs longer
    /// than half the image height is positive. nil when either keypoint has no candidate.
    func connections(limb k: Int, peaks: [[Peak]]) -> [Connection]? {
        let candA = peaks[Self.limbs[k].0 - 1], candB = peaks[Self.limbs[k].1 - 1]
        guard !candA.isEmpty, !candB.isEmpty else { return nil }
        let (cx, cy) = (Self.pafChannels[k].0 - 19, Self.pafChannels[k].1 - 19)
        var scored: [(i: Int, j: Int, score: Double)] = []
        for (i, a) in candA.enumerated() {
            for (j, b) in candB.enumerated() {
                let vx = Double(b.x - a.x), vy = Double(b.y - a.y)
                let norm = max(0.001, (vx * vx + vy * vy).squareRoot())
                let ux = vx / norm, uy = vy / norm
                let xs = Self.linspace(Double(a.x), Double(b.x)), ys = Self.linspace(Double(a.y), Double(b.y))
                var sum = 0.0, above = 0
                for s in 0..<Self.samples {
                    let px = Int(xs[s].rounded(.toNearestOrEven)), py = Int(ys[s].rounded(.toNearestOrEven))
                    let base = (py * width + px) * 38
                    let projected = pafs[base + cx] * ux + pafs[base + cy] * uy
                    sum += projected
                    if projected > Self.pafThreshold { above += 1 }
                }
                let score = sum / Double(Self.samples) + min(0.5 * Double(height) / norm - 1, 0)
                if Double(above) > 0.8 * Double(Self.samples), score > 0 { scored.append((i, j, score)) }
            }
        }
        // Python's sort is stable: equal scores keep their order.
        let sorted = scored.enumerated().sorted { ($0.element.score, -$0.offset) > ($1.element.score, -$1.offset) }.map(\.element)
        var chosen: [Connection] = []
        for c in sorted where !chosen.contains(where: { $0.i == c.i || $0.j == c.j }) {
            chosen.append(Connection(a: candA[c.i].id, b: candB[c.j].id, score: c.score, i: c.i, j: c.j))
            if chosen.count >= min(candA.count, candB.count) { break }
        }
        return chosen
    }

    /// `np.linspace(start, stop, 10)`: `start + i * step`, the last exactly `stop`.
    static func linspace(_ start: Double, _ stop: Double) -> [Double] {
        let step = (stop - start) / Double(samples - 1)
        return (0..<samples).map { $0 == samples - 1 ? stop : Double($0) * step + start }
    }
}
