import DiffusionCore
import DiffusionFormats
import Foundation
import Testing

/// Tensor.resizedBilinear against torch's `F.interpolate(mode="bilinear")`
/// (Tests/Goldens/core/bilinear.py).
@Suite struct BilinearResizeTests {
    static let file: SafeTensorsFile? = try? SafeTensorsFile(contentsOf: URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Goldens/core/bilinear.safetensors"))

    @Test(arguments: ["up2x", "up_odd", "down", "mixed", "to_one", "from_one", "same"])
    func matchesTorch(name: String) throws {
        let file = try #require(Self.file)
        let x = try file.tensor(named: "\(name).x").nchwToNHWC()
        for (role, align) in [("align", true), ("half", false)] {
            let expected = try file.tensor(named: "\(name).\(role)").nchwToNHWC()
            let resized = x.resizedBilinear(height: expected.shape[1], width: expected.shape[2], alignCorners: align)
            // torch's float32 weights, but its vectorized kernel groups the four products in
            // another order: measured up to 1.1e-6 on values of magnitude ~3 (5 ulps).
            expectClose(resized, expected, tolerance: 2e-6, "\(name) align_corners=\(align)")
        }
    }
}
