import DiffusionCore
import DiffusionFormats
import Foundation
import Testing

/// MaxPool2D against torch's `F.max_pool2d` (Tests/Goldens/core/pooling.py).
@Suite struct MaxPool2DTests {
    static let file: SafeTensorsFile? = try? SafeTensorsFile(contentsOf: URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Goldens/core/pooling.safetensors"))

    // (case, kernel, stride, padding, ceil mode), as in pooling.py.
    @Test(arguments: [
        ("vgg_2x2", 2, 2, 0, false), ("odd_floor", 2, 2, 0, false), ("odd_ceil", 2, 2, 0, true),
        ("k3_s2_p1", 3, 2, 1, false), ("k3_s2_p1_ceil", 3, 2, 1, true), ("k3_s1_p1", 3, 1, 1, false),
        ("ceil_drop_last", 3, 2, 1, true), ("k2_s1", 2, 1, 0, false),
    ])
    func matchesTorch(name: String, kernel: Int, stride: Int, padding: Int, ceil: Bool) throws {
        let file = try #require(Self.file)
        let x = try file.tensor(named: "\(name).x").nchwToNHWC()
        let expected = try file.tensor(named: "\(name).out").nchwToNHWC()
        let pooled = MaxPool2D(kernelSize: kernel, stride: stride, padding: padding, ceilMode: ceil)(x)
        // A maximum is one of the inputs, copied: exact equality.
        #expect(pooled.shape == expected.shape)
        #expect(pooled.scalars == expected.scalars)
    }

    @Test func sizesFollowTorchRounding() {
        // Hand-computed from torch's pooling_output_shape: (9 - 2) / 2 + 1 = 4 floor, 5 ceil;
        // (6 + 2 - 3) / 2 + 1 = 3 floor; ceil would give 4 but its window starts at 6 >= 6 + 1 - 1.
        #expect(MaxPool2D(kernelSize: 2).outputSize(9) == 4)
        #expect(MaxPool2D(kernelSize: 2, ceilMode: true).outputSize(9) == 5)
        #expect(MaxPool2D(kernelSize: 3, stride: 2, padding: 1, ceilMode: true).outputSize(6) == 3)
        #expect(MaxPool2D(kernelSize: 3, stride: 2, padding: 1).outputSize(7) == 4)
    }
}
