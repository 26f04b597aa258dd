import DiffusionCore
import DiffusionFormats
import DiffusionTestSupport
import Foundation
import Testing

/// ConvTranspose2D against PyTorch's `F.conv_transpose2d` (Tests/Goldens/core/lineart_ops.py).
struct ConvTranspose2DTests {
    static let file = Result {
        try SafeTensorsFile(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Goldens/core/lineart_ops.safetensors"))
    }

    static func tensor(_ name: String) throws -> Tensor { try file.get().tensor(named: name) }

    struct Case: Sendable, CustomStringConvertible {
        let name: String, stride: Int, padding: Int, outputPadding: Int, dilation: Int, hasBias: Bool
        var description: String { name }
    }

    /// Tolerance 1e-4 relative, the convolution tolerance of OpsTests: sums of up to 360 products
    /// of F16-exact inputs, in another order than torch's.
    @Test(arguments: [
        Case(name: "generator", stride: 2, padding: 1, outputPadding: 1, dilation: 1, hasBias: true),
        Case(name: "stride1", stride: 1, padding: 0, outputPadding: 0, dilation: 1, hasBias: false),
        Case(name: "stride3", stride: 3, padding: 2, outputPadding: 1, dilation: 1, hasBias: true),
        Case(name: "dilated", stride: 2, padding: 1, outputPadding: 1, dilation: 2, hasBias: true),
        Case(name: "rectangular", stride: 2, padding: 0, outputPadding: 0, dilation: 1, hasBias: false),
        Case(name: "wide", stride: 2, padding: 1, outputPadding: 1, dilation: 1, hasBias: true),
    ])
    func matchesTorch(_ c: Case) throws {
        let conv = ConvTranspose2D(weight: try Self.tensor("convT.\(c.name).weight"),
                                   bias: c.hasBias ? try Self.tensor("convT.\(c.name).bias") : nil, stride: c.stride,
                                   padding: c.padding, outputPadding: c.outputPadding, dilation: c.dilation)
        let expected = try Self.tensor("convT.\(c.name).out").nchwToNHWC()
        let output = conv(try Self.tensor("convT.\(c.name).x").nchwToNHWC())
        expectClose(output, expected, tolerance: 1e-4, c.name)
    }

    /// By hand: two pixels 1 and 10 through the kernel [1, 2, 3] at stride 2 overlap in the middle
    /// output: [1, 2, 3 + 10, 20, 30].
    @Test func overlappingTapsAdd() {
        let conv = ConvTranspose2D(weight: Tensor(shape: [1, 1, 1, 3], values: [1, 2, 3]), bias: nil, stride: 2)
        let y = conv(Tensor(shape: [1, 1, 2, 1], values: [1, 10]))
        #expect(y.shape == [1, 1, 5, 1])
        #expect(y.scalars == [1, 2, 13, 20, 30])
    }

    /// Padding crops the full output and output padding gives back one row and column at the
    /// end: three rows of [1, 10] at padding 1 keep columns 1...4 of [1, 2, 13, 20, 30], and
    /// rows 1 and 3 (input rows 1 and 2 at `2 i - 1`; rows 0 and 2 get only the bias 0.5).
    @Test func paddingCropsAndOutputPaddingExtends() {
        let conv = ConvTranspose2D(weight: Tensor(shape: [1, 1, 1, 3], values: [1, 2, 3]), bias: Tensor(shape: [1], values: [0.5]),
                                   stride: 2, padding: 1, outputPadding: 1)
        let y = conv(Tensor(shape: [1, 3, 2, 1], values: [1, 10, 1, 10, 1, 10]))
        #expect(y.shape == [1, 4, 4, 1])
        let bias: [Float] = [0.5, 0.5, 0.5, 0.5], row: [Float] = [2.5, 13.5, 20.5, 30.5]
        #expect(y.scalars == bias + row + bias + row)
    }
}
