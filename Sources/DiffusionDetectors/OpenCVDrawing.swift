// Follows OpenCV's modules/imgproc/src/drawing.cpp (ellipse2Poly, FillConvexPoly, Line, Circle)
// for integer coordinates (shift 0) and 8-connected lines.
import DiffusionCore
import Foundation

/// The OpenCV drawing calls controlnet_aux's `draw_bodypose` makes, on an RGB canvas:
/// `cv2.ellipse2Poly`, `cv2.fillConvexPoly` and filled `cv2.circle`. Colours overwrite.
struct OpenCVDrawing {
    var canvas: RGBImage

    /// OpenCV's table of sines of whole degrees, 0...450, rounded to 7 decimals as printed there.
    static let sines: [Float] = (0...450).map { Float(String(format: "%.7f", sin(Double($0) * Double.pi / 180)))! }

    /// `cv2.ellipse2Poly(center, axes, angle, 0, 360, 1)`: points every degree of the rotated
    /// ellipse, in double from the float sine table, rounded half to even, consecutive
    /// duplicates dropped.
    static func ellipsePolygon(center: (x: Int, y: Int), axes: (width: Int, height: Int), angle: Int) -> [(x: Int, y: Int)] {
        var angle = angle
        while angle < 0 { angle += 360 }
        while angle > 360 { angle -= 360 }
        let alpha = Double(sines[450 - angle]), beta = Double(sines[angle])
        var points: [(x: Int, y: Int)] = []
        for degree in 0...360 {
            let x = Double(axes.width) * Double(sines[450 - degree]), y = Double(axes.height) * Double(sines[degree])
            let point = (x: Int((Double(center.x) + x * alpha - y * beta).rounded(.toNearestOrEven)),
                         y: Int((Double(center.y) + x * beta + y * alpha).rounded(.toNearestOrEven)))
            if let last = points.last, last == point { continue }
            points.append(point)
        }
        return points.count == 1 ? [center, center] : points
    }

    /// `cv2.fillConvexPoly(canvas, points, color)`: the outline drawn with 8-connected lines,
    /// then scanlines between the two edges walked down from the top vertex in 16.16 fixed point.
    mutating func fillConvexPolygon(_ points: [(x: Int, y: Int)], color: [UInt8]) {
        let n = points.count
        guard n > 0 else { return }
        var previous = points[n - 1]
        var imin = 0, ymin = points[0].y, ymax = points[0].y, xmin = points[0].x, xmax = points[0].x
        for (i, p) in points.enumerated() {
            if p.y < ymin { ymin = p.y; imin = i }
            ymax = max(ymax, p.y)
            xmax = max(xmax, p.x)
            xmin = min(xmin, p.x)
            line(from: previous, to: p, color: color)
            previous = p
        }
        guard n >= 3, xmax >= 0, ymax >= 0, xmin < canvas.width, ymin < canvas.height else { return }
        ymax = min(ymax, canvas.height - 1)
        let shift = 16, one = 1 << shift, half = one >> 1
        var edges = n
        var idx = [imin, imin], di = [1, n - 1], ex = [-one, -one], dx = [0, 0], ye = [ymin, ymin]
        var y = ymin
        repeat {
            for e in 0..<2 where y >= ye[e] {
                var idx0 = idx[e], i = idx0 + di[e]
                if i >= n { i -= n }
                // C's `for (; edges-- > 0; )`: the count drops even on the test that ends it.
                while true {
                    let more = edges > 0
                    edges -= 1
                    guard more else { break }
                    let ty = points[i].y
                    if ty > y {
                        let xs = points[idx0].x << shift, xe = points[i].x << shift
                        ye[e] = ty
                        // C's division truncates toward zero, as Swift's.
                        dx[e] = ((xe - xs) * 2 + (ty - y)) / (2 * (ty - y))
                        ex[e] = xs
                        idx[e] = i
                        break
                    }
                    idx0 = i
                    i += di[e]
                    if i >= n { i -= n }
                }
            }
            if edges < 0 { break }
            if y >= 0 {
                let (left, right) = ex[0] > ex[1] ? (1, 0) : (0, 1)
                var x1 = (ex[left] + half) >> shift, x2 = (ex[right] + half) >> shift
                if x2 >= 0 && x1 < canvas.width {
                    x1 = max(x1, 0)
                    x2 = min(x2, canvas.width - 1)
                    horizontalLine(y: y, from: x1, to: x2, color: color)
                }
            }
            ex[0] += dx[0]
            ex[1] += dx[1]
            y += 1
        } while y <= ymax
    }

    /// `cv::Line` with 8-connectivity: the segment clipped to the canvas (`clipLine`), then a
    /// Bresenham walk from its left end.
    mutating func line(from p1: (x: Int, y: Int), to p2: (x: Int, y: Int), color: [UInt8]) {
        guard let (c1, c2) = Self.clip(p1, p2, width: canvas.width, height: canvas.height) else { return }
        let (a, b) = c2.x < c1.x ? (c2, c1) : (c1, c2)
        var dx = b.x - a.x, dy = b.y - a.y
        let stepY = dy < 0 ? -1 : 1
        dy = abs(dy)
        let steep = dy > dx
        if steep { swap(&dx, &dy) }
        var err = dx - (dy + dy)
        let plusDelta = dx + dx, minusDelta = -(dy + dy)
        var x = a.x, y = a.y
        for _ in 0...dx {
            set(x: x, y: y, color: color)
            let diagonal = err < 0
            err += minusDelta + (diagonal ? plusDelta : 0)
            // The minor step is taken on a diagonal move; the major one always.
            if steep { y += stepY; if diagonal { x += 1 } } else { x += 1; if diagonal { y += stepY } }
        }
    }

    /// OpenCV's `clipLine`: an end outside the canvas moved along the segment onto its edge,
    /// rows first, then columns, in truncating double arithmetic; nil when nothing is inside.
    static func clip(_ p1: (x: Int, y: Int), _ p2: (x: Int, y: Int), width: Int, height: Int) -> ((x: Int, y: Int), (x: Int, y: Int))? {
        let right = width - 1, bottom = height - 1
        var (x1, y1, x2, y2) = (p1.x, p1.y, p2.x, p2.y)
        func code(_ x: Int, _ y: Int) -> Int {
            (x < 0 ? 1 : 0) + (x > right ? 2 : 0) + (y < 0 ? 4 : 0) + (y > bottom ? 8 : 0)
        }
        var c1 = code(x1, y1), c2 = code(x2, y2)
        if (c1 & c2) == 0 && (c1 | c2) != 0 {
            if (c1 & 12) != 0 {
                let a = c1 < 8 ? 0 : bottom
                x1 += Int(Double(a - y1) * Double(x2 - x1) / Double(y2 - y1))
                y1 = a
                c1 = (x1 < 0 ? 1 : 0) + (x1 > right ? 2 : 0)
            }
            if (c2 & 12) != 0 {
                let a = c2 < 8 ? 0 : bottom
                x2 += Int(Double(a - y2) * Double(x2 - x1) / Double(y2 - y1))
                y2 = a
                c2 = (x2 < 0 ? 1 : 0) + (x2 > right ? 2 : 0)
            }
            if (c1 & c2) == 0 && (c1 | c2) != 0 {
                if c1 != 0 {
                    let a = c1 == 1 ? 0 : right
                    y1 += Int(Double(a - x1) * Double(y2 - y1) / Double(x2 - x1))
                    x1 = a
                    c1 = 0
                }
                if c2 != 0 {
                    let a = c2 == 1 ? 0 : right
                    y2 += Int(Double(a - x2) * Double(y2 - y1) / Double(x2 - x1))
                    x2 = a
                    c2 = 0
                }
            }
        }
        guard (c1 | c2) == 0 else { return nil }
        return ((x: x1, y: y1), (x: x2, y: y2))
    }

    /// Filled `cv2.circle(canvas, center, radius, color, -1)` (OpenCV's midpoint circle, each
    /// step filling the four horizontal spans it reaches).
    mutating func fillCircle(center: (x: Int, y: Int), radius: Int, color: [UInt8]) {
        var err = 0, dx = radius, dy = 0, plus = 1, minus = (radius << 1) - 1
        while dx >= dy {
            for (y, x1, x2) in [(center.y - dy, center.x - dx, center.x + dx), (center.y + dy, center.x - dx, center.x + dx),
                                (center.y - dx, center.x - dy, center.x + dy), (center.y + dx, center.x - dy, center.x + dy)]
            where y >= 0 && y < canvas.height && x2 >= 0 && x1 < canvas.width {
                horizontalLine(y: y, from: max(x1, 0), to: min(x2, canvas.width - 1), color: color)
            }
            dy += 1
            err += plus
            plus += 2
            if err > 0 {
                err -= minus
                dx -= 1
                minus -= 2
            }
        }
    }

    private mutating func horizontalLine(y: Int, from x1: Int, to x2: Int, color: [UInt8]) {
        guard x1 <= x2 else { return }
        for x in x1...x2 { set(x: x, y: y, color: color) }
    }

    private mutating func set(x: Int, y: Int, color: [UInt8]) {
        guard x >= 0, x < canvas.width, y >= 0, y < canvas.height else { return }
        let i = (y * canvas.width + x) * 3
        canvas.pixels[i] = color[0]
        canvas.pixels[i + 1] = color[1]
        canvas.pixels[i + 2] = color[2]
    }
}
