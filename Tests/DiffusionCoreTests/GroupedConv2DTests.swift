import DiffusionCore
import DiffusionFormats
import Foundation
import DiffusionTestSupport
import Testing

/// GroupedConv2D and BatchNorm folding against PyTorch (Tests/Goldens/core/grouped_conv.py).
/// Tolerance 1e-4 relative, the convolution tolerance of OpsTests: sums of up to 108 products
/// of F16-exact inputs, in another order than torch's.
struct GroupedConv2DTests {
    static let file: SafeTensorsFile? = try? SafeTensorsFile(contentsOf: URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Goldens/core/grouped_conv.safetensors"))

    static func tensor(_ name: String) throws -> Tensor {
        guard let file else { throw CocoaError(.fileReadNoSuchFile) }
        return try file.tensor(named: name)
    }

    struct Case: Sendable, CustomStringConvertible {
        let name: String, stride: Int, padding: Int, dilation: Int, groups: Int, hasBias: Bool
        var description: String { name }
    }

    @Test(arguments: [
        Case(name: "depthwise", stride: 1, padding: 1, dilation: 1, groups: 24, hasBias: true),
        Case(name: "depthwise_stride2", stride: 2, padding: 0, dilation: 1, groups: 20, hasBias: false),
        Case(name: "dilated", stride: 1, padding: 5, dilation: 5, groups: 1, hasBias: true),
        Case(name: "grouped", stride: 2, padding: 1, dilation: 1, groups: 4, hasBias: true),
        Case(name: "dilated_grouped", stride: 1, padding: 2, dilation: 2, groups: 2, hasBias: false),
    ])
    func matchesTorch(_ c: Case) throws {
        let bias = c.hasBias ? try Self.tensor("\(c.name).bias") : nil
        let conv = GroupedConv2D(weight: try Self.tensor("\(c.name).weight"), bias: bias, stride: c.stride,
                                 padding: c.padding, dilation: c.dilation, groups: c.groups)
        expectClose(conv(try Self.tensor("\(c.name).x").nchwToNHWC()), try Self.tensor("\(c.name).out").nchwToNHWC(),
                    tolerance: 1e-4, c.name)
    }

    @Test func batchNormFoldsIntoTheConvolution() throws {
        let norm = BatchNorm(weight: try Self.tensor("batchnorm.bn_weight"), bias: try Self.tensor("batchnorm.bn_bias"),
                             runningMean: try Self.tensor("batchnorm.bn_mean"), runningVar: try Self.tensor("batchnorm.bn_var"))
        let (weight, bias) = norm.folded(weight: try Self.tensor("batchnorm.weight"), bias: try Self.tensor("batchnorm.bias"))
        let conv = Conv2D(weight: weight, bias: bias, padding: 1)
        expectClose(conv(try Self.tensor("batchnorm.x").nchwToNHWC()), try Self.tensor("batchnorm.out").nchwToNHWC(),
                    tolerance: 1e-4, "conv + batch norm")
    }
}
