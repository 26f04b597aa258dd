import DiffusionCore
import DiffusionFormats
import DiffusionTestSupport
import Testing

/// InstanceNorm2D and reflection padding against PyTorch (Tests/Goldens/core/lineart_ops.py).
struct InstanceNorm2DTests {
    static func tensor(_ name: String) throws -> Tensor { try ConvTranspose2DTests.tensor(name) }

    /// Two images of five channels with means up to 100 and scales from 0.01 to 10: statistics
    /// per image and channel, and a constant channel (variance 0). Tolerance 1e-4 relative: torch's
    /// float32 statistics lose about |mean| / std ulps (here up to 500): its outputs are up to
    /// 2.8e-5 off a float64 computation of the same inputs, and -1.5e-5 where the channel is
    /// constant (exactly 0 here). Measured 4.4e-6, 1.2e-7 and 1.5e-5.
    @Test(arguments: ["plain", "affine", "constant"])
    func matchesTorch(_ name: String) throws {
        let x = try Self.tensor("instance.\(name).x").nchwToNHWC()
        let affine = name == "affine"
        let norm = InstanceNorm2D(channels: x.shape[3], weight: affine ? try Self.tensor("instance.affine.weight") : nil,
                                  bias: affine ? try Self.tensor("instance.affine.bias") : nil)
        expectClose(norm(x), try Self.tensor("instance.\(name).out").nchwToNHWC(), tolerance: 1e-4, name)
    }

    /// A copy: equal to torch's `F.pad(mode="reflect")` in every value.
    @Test(arguments: [1, 3])
    func reflectionPadMatchesTorch(_ padding: Int) throws {
        let padded = try Self.tensor("reflect.\(padding).x").nchwToNHWC().reflectionPadded(padding)
        let expected = try Self.tensor("reflect.\(padding).out").nchwToNHWC()
        #expect(padded.shape == expected.shape)
        #expect(padded.scalars == expected.scalars)
    }

    /// By hand: [1, 2, 3] padded by 2 mirrors about the edge values: [3, 2, 1, 2, 3, 2, 1].
    @Test func reflectionMirrorsAboutTheEdge() {
        let row = Tensor(shape: [1, 3, 3, 1], values: [1, 2, 3, 1, 2, 3, 1, 2, 3]).reflectionPadded(2)
        #expect(row.shape == [1, 7, 7, 1])
        #expect(Array(row.scalars[0..<7]) == [3, 2, 1, 2, 3, 2, 1])
    }
}
