// Follows OpenCV's modules/imgproc/src/drawing.cpp (cv::line with thickness 1, LINE_8: clipLine and LineIterator).

/// A line segment between two pixel positions, drawn as `cv2.line(image, start, end, colour, 1)`
/// draws it: clipped to the image, then the 8-connected Bresenham walk from its left end.
public struct LineSegment: Equatable, Sendable {
    public var x0: Int, y0: Int, x1: Int, y1: Int

    public init(x0: Int, y0: Int, x1: Int, y1: Int) {
        (self.x0, self.y0, self.x1, self.y1) = (x0, y0, x1, y1)
    }

    /// Sets every pixel of the segment inside a `width` x `height` one-channel image to `value`.
    public func draw(into pixels: inout [UInt8], width: Int, height: Int, value: UInt8 = 255) {
        guard let ends = clipped(width: width, height: height) else { return }
        var (x0, y0) = (ends.0, ends.1)
        let (x1, y1) = (ends.2, ends.3)
        var dx = x1 - x0, dy = y1 - y0
        if dx < 0 {  // walk from the left end, as OpenCV's left_to_right
            (dx, dy) = (-dx, -dy)
            (x0, y0) = (x1, y1)
        }
        let yStep = dy < 0 ? -width : width
        dy = abs(dy)
        // The major axis steps every pixel (minusStep); the minor one when the error goes negative.
        var (major, minor) = (1, yStep)
        if dy > dx {
            (dx, dy) = (dy, dx)
            (major, minor) = (minor, major)
        }
        var error = dx - 2 * dy
        var index = y0 * width + x0
        for _ in 0...dx {
            pixels[index] = value
            let negative = error < 0
            error += -2 * dy + (negative ? 2 * dx : 0)
            index += major + (negative ? minor : 0)
        }
    }

    /// OpenCV's `clipLine` on the image rectangle: each end outside moves to the border along the
    /// line, with its integer arithmetic (the offset truncated toward zero); nil when nothing is inside.
    func clipped(width: Int, height: Int) -> (Int, Int, Int, Int)? {
        guard width > 0, height > 0 else { return nil }
        let (right, bottom) = (width - 1, height - 1)
        var (x1, y1, x2, y2) = (x0, y0, x1, y1)
        func code(_ x: Int, _ y: Int) -> Int {
            (x < 0 ? 1 : 0) + (x > right ? 2 : 0) + (y < 0 ? 4 : 0) + (y > bottom ? 8 : 0)
        }
        func offset(_ a: Int, _ b: Int, _ num: Int, _ den: Int) -> Int { Int(Double(a - b) * Double(num) / Double(den)) }
        var c1 = code(x1, y1), c2 = code(x2, y2)
        if c1 & c2 == 0 && c1 | c2 != 0 {
            if c1 & 12 != 0 {
                let a = c1 < 8 ? 0 : bottom
                x1 += offset(a, y1, x2 - x1, y2 - y1)
                y1 = a
                c1 = (x1 < 0 ? 1 : 0) + (x1 > right ? 2 : 0)
            }
            if c2 & 12 != 0 {
                let a = c2 < 8 ? 0 : bottom
                x2 += offset(a, y2, x2 - x1, y2 - y1)
                y2 = a
                c2 = (x2 < 0 ? 1 : 0) + (x2 > right ? 2 : 0)
            }
            if c1 & c2 == 0 && c1 | c2 != 0 {
                if c1 != 0 {
                    let a = c1 == 1 ? 0 : right
                    y1 += offset(a, x1, y2 - y1, x2 - x1)
                    x1 = a
                    c1 = 0
                }
                if c2 != 0 {
                    let a = c2 == 1 ? 0 : right
                    y2 += offset(a, x2, y2 - y1, x2 - x1)
                    x2 = a
                    c2 = 0
                }
            }
        }
        return c1 | c2 == 0 ? (x1, y1, x2, y2) : nil
    }
}
