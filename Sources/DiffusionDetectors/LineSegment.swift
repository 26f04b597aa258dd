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

    /// OpenCV's `clipLine` on the image rectangle (`OpenCVDrawing.clip`); nil when nothing is inside.
    func clipped(width: Int, height: Int) -> (Int, Int, Int, Int)? {
        guard width > 0, height > 0, let (a, b) = OpenCVDrawing.clip((x0, y0), (x1, y1), width: width, height: height) else { return nil }
        return (a.x, a.y, b.x, b.y)
    }
}
