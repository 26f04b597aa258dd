// Follows controlnet_aux 0.0.10's open_pose/model.py (bodypose_model).
import DiffusionCore
import Foundation

/// The OpenPose body network (CMU's, `body_pose_model.pth`): a VGG-19 trunk (ten 3x3
/// convolutions and three 2x2 max pools, stride 8) ending in two CPM convolutions, then six
/// stages of two branches: part affinity fields (38 channels, `L1`) and part heatmaps (19,
/// `L2`). Each later stage sees the previous stage's two outputs beside the trunk's features.
///
/// The weights' names are the checkpoint's (`conv1_1.weight`, `Mconv1_stage2_L1.weight`, ...);
/// channel counts are read from them. As in controlnet_aux, every convolution is followed by
/// ReLU except each stage's last; but `Mconv7_stage6_L2`, the final heatmaps, keeps its ReLU
/// (the class lists `Mconv7_stage6_L1` twice instead).
struct BodyPoseModel: Sendable {
    static let fileName = "body_pose_model.pth"

    /// One layer of a sequential block: a convolution (ReLU after it or not) or a max pool.
    enum Layer: Sendable {
        case conv(Conv2D, relu: Bool)
        case pool
    }

    let trunk: [Layer]
    /// Per stage, the PAF branch then the heatmap branch.
    let stages: [(pafs: [Layer], heatmaps: [Layer])]

    init(weights: DetectorWeights) throws {
        var channels = 3
        trunk = try Self.block(weights, names: [
            "conv1_1", "conv1_2", "pool", "conv2_1", "conv2_2", "pool", "conv3_1", "conv3_2", "conv3_3", "conv3_4", "pool",
            "conv4_1", "conv4_2", "conv4_3_CPM", "conv4_4_CPM",
        ], channels: &channels, lastHasReLU: true)
        let features = channels
        var stages: [(pafs: [Layer], heatmaps: [Layer])] = []
        var stageInput = features
        for stage in 1...6 {
            var branches: [[Layer]] = []
            var outputs = 0
            for branch in ["L1", "L2"] {
                let names = stage == 1
                    ? (1...5).map { "conv5_\($0)_CPM_\(branch)" }
                    : (1...7).map { "Mconv\($0)_stage\(stage)_\(branch)" }
                var c = stageInput
                branches.append(try Self.block(weights, names: names, channels: &c, lastHasReLU: stage == 6 && branch == "L2"))
                outputs += c
            }
            stages.append((branches[0], branches[1]))
            stageInput = outputs + features
        }
        self.stages = stages
    }

    /// Reads the convolutions `names` (`"pool"` for a max pool), chaining channel counts.
    private static func block(_ weights: DetectorWeights, names: [String], channels: inout Int, lastHasReLU: Bool) throws -> [Layer] {
        try names.enumerated().map { index, name in
            guard name != "pool" else { return .pool }
            let conv = try weights.conv(name, inChannels: channels)
            channels = conv.outChannels
            return .conv(conv, relu: index < names.count - 1 || lastHasReLU)
        }
    }

    /// The last stage's PAFs `[1, h/8, w/8, 38]` and heatmaps `[1, h/8, w/8, 19]` for an NHWC
    /// input `[1, h, w, 3]` (BGR, `pixel / 256 - 0.5`, sides multiples of 8).
    func callAsFunction(_ x: Tensor) -> (pafs: Tensor, heatmaps: Tensor) {
        let features = Self.run(trunk, x)
        var pafs = Self.run(stages[0].pafs, features), heatmaps = Self.run(stages[0].heatmaps, features)
        for stage in stages.dropFirst() {
            let input = Tensor.concatenate([pafs, heatmaps, features], axis: 3)
            pafs = Self.run(stage.pafs, input)
            heatmaps = Self.run(stage.heatmaps, input)
        }
        return (pafs, heatmaps)
    }

    private static func run(_ layers: [Layer], _ x: Tensor) -> Tensor {
        layers.reduce(x) { h, layer in
            switch layer {
            case .pool: return MaxPool2D(kernelSize: 2)(h)
            case .conv(let conv, let relu): return relu ? conv(h).map { max($0, 0) } : conv(h)
            }
        }
    }
}
