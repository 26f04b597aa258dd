// Follows controlnet_aux 0.0.10's open_pose/util.py (draw_bodypose) and __init__.py (draw_poses).
import DiffusionCore
import Foundation

/// controlnet_aux's `draw_bodypose` on a black canvas: each of 17 limbs an ellipse (half its
/// length by 4 pixels, rotated along it) filled with 60% of its colour, then each keypoint a
/// disc of radius 4 in its colour. Coordinates take controlnet_aux's round trip through
/// normalized positions (`x / W * W`), truncated to integers where it truncates.
public enum BodyPoseDrawing {
    static let colors: [[Int]] = [
        [255, 0, 0], [255, 85, 0], [255, 170, 0], [255, 255, 0], [170, 255, 0], [85, 255, 0], [0, 255, 0],
        [0, 255, 85], [0, 255, 170], [0, 255, 255], [0, 170, 255], [0, 85, 255], [0, 0, 255], [85, 0, 255],
        [170, 0, 255], [255, 0, 255], [255, 0, 170], [255, 0, 85],
    ]
    static let stickWidth = 4

    /// The people's skeletons, each keypoint a candidate peak (in pixels), as detect_poses
    /// hands them to the drawing: normalized by the canvas size.
    public static func draw(_ people: [BodyPoseDecoder.Person], candidates: [BodyPoseDecoder.Peak], width: Int, height: Int) -> RGBImage {
        let keypoints = people.map { person in
            person.parts.map { index -> (x: Double, y: Double)? in
                guard index != -1 else { return nil }
                let peak = candidates[Int(index)]
                return (Double(peak.x) / Double(width), Double(peak.y) / Double(height))
            }
        }
        return draw(keypoints: keypoints, width: width, height: height)
    }

    /// `draw_bodypose` of each person's 18 normalized keypoints (nil when missing) on one canvas.
    public static func draw(keypoints people: [[(x: Double, y: Double)?]], width: Int, height: Int) -> RGBImage {
        var drawing = OpenCVDrawing(canvas: RGBImage(width: width, height: height))
        let (w, h) = (Double(width), Double(height))
        for keypoints in people {
            precondition(keypoints.count == 18, "a body pose has 18 keypoints, not \(keypoints.count)")
            for (limb, color) in zip(BodyPoseDecoder.limbs.prefix(17), colors) {
                guard let k1 = keypoints[limb.0 - 1], let k2 = keypoints[limb.1 - 1] else { continue }
                let y0 = k1.x * w, y1 = k2.x * w, x0 = k1.y * h, x1 = k2.y * h
                let meanX = (x0 + x1) / 2, meanY = (y0 + y1) / 2
                // numpy's `** 0.5` is C's pow; `math.degrees` multiplies by a rounded 180 / pi.
                let length = pow((x0 - x1) * (x0 - x1) + (y0 - y1) * (y0 - y1), 0.5)
                let angle = atan2(x0 - x1, y0 - y1) * (180 / Double.pi)
                let polygon = OpenCVDrawing.ellipsePolygon(center: (Int(meanY), Int(meanX)), axes: (Int(length / 2), stickWidth),
                                                           angle: Int(angle))
                drawing.fillConvexPolygon(polygon, color: color.map { UInt8(Int(Double($0) * 0.6)) })
            }
            for (keypoint, color) in zip(keypoints, colors) {
                guard let keypoint else { continue }
                drawing.fillCircle(center: (Int(keypoint.x * w), Int(keypoint.y * h)), radius: 4, color: color.map(UInt8.init))
            }
        }
        return drawing.canvas
    }
}
