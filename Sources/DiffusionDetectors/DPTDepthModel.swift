// Follows controlnet_aux/midas/midas/dpt_depth.py (DPT, DPTDepthModel), blocks.py
// (FeatureFusionBlock_custom, ResidualConvUnit_custom) and vit.py (_make_vit_b_rn50_backbone,
// ProjectReadout, forward_vit) for backbone vitb_rn50_384, readout "project", no batch norm.
import DiffusionCore

/// MiDaS DPT-Hybrid: an inverse-depth map (larger is nearer) at the input's resolution.
///
/// Four feature maps feed the decoder: the ResNet's first two stages (strides 4 and 8) and the
/// tokens after transformer blocks 8 and 11, their class token projected into every token
/// (`ProjectReadout`), laid out on the grid (stride 16) and brought to 768 channels, the last
/// one also downsampled (stride 32). Each is mapped to the decoder's width (`scratch.layerN_rn`)
/// and fused from the coarsest up (`refinenet4` to `refinenet1`, each upsampling 2x), then the
/// head upsamples 2x more to the input's size.
struct DPTDepthModel: Sendable {
    /// The transformer blocks whose outputs are features 3 and 4 (`hooks[2:]` of vitb_rn50_384).
    static let hooks = [8, 11]

    let vit: VisionTransformerHybrid
    let readouts: [Linear]
    let postprocess3: Conv2D
    let postprocess4: (Conv2D, Conv2D)
    let layerRN: [Conv2D]
    let refinenets: [FeatureFusionBlock]
    let head: (Conv2D, Conv2D, Conv2D)

    /// Keys of the published file the forward pass never reads: the ViT's final norm and
    /// classifier, and refinenet4's first unit (the coarsest fusion has nothing to fuse).
    static func isUnused(_ key: String) -> Bool {
        key.hasPrefix("pretrained.model.norm.") || key.hasPrefix("pretrained.model.head.")
            || key.hasPrefix("scratch.refinenet4.resConfUnit1.")
    }

    init(_ w: DetectorWeights.Scope, heads: Int?) throws {
        let pretrained = w["pretrained"]
        vit = try VisionTransformerHybrid(pretrained["model"], heads: heads)
        let width = vit.width
        readouts = try [3, 4].map { n in
            let scope = pretrained["act_postprocess\(n)"][0]["project"][0]
            return Linear(weight: try scope.tensor("weight", shape: [width, 2 * width]), bias: try scope.tensor("bias", shape: [width]))
        }
        func conv(_ scope: DetectorWeights.Scope, in inChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0,
                  bias: Bool = true) throws -> Conv2D {
            let out = try scope.shape("weight").first ?? 0
            return Conv2D(weight: try scope.tensor("weight", shape: [out, inChannels, kernel, kernel]),
                          bias: bias ? try scope.tensor("bias", shape: [out]) : nil, stride: stride, padding: padding)
        }
        postprocess3 = try conv(pretrained["act_postprocess3"][3], in: width, kernel: 1)
        let project4 = try conv(pretrained["act_postprocess4"][3], in: width, kernel: 1)
        postprocess4 = (project4, try conv(pretrained["act_postprocess4"][4], in: project4.outChannels, kernel: 3, stride: 2, padding: 1))
        let scratch = w["scratch"]
        let stageChannels = vit.backbone.stages.prefix(2).map { $0.last?.outChannels ?? 0 }
        guard stageChannels.count == 2 else { throw w.weights.fail("the ResNet has fewer than two stages") }
        let inputs = stageChannels + [postprocess3.outChannels, postprocess4.1.outChannels]
        layerRN = try (1...4).map { try conv(scratch["layer\($0)_rn"], in: inputs[$0 - 1], kernel: 3, padding: 1, bias: false) }
        let features = layerRN[0].outChannels
        refinenets = try (1...4).map { try FeatureFusionBlock(scratch["refinenet\($0)"], features: features, fuses: $0 != 4) }
        let head0 = try conv(scratch["output_conv"][0], in: features, kernel: 3, padding: 1)
        let head2 = try conv(scratch["output_conv"][2], in: head0.outChannels, kernel: 3, padding: 1)
        head = (head0, head2, try conv(scratch["output_conv"][4], in: head2.outChannels, kernel: 1))
    }

    /// The prediction `[1, h, w, 1]` for an NHWC image `[1, h, w, 3]` scaled to [-1, 1], sides
    /// multiples of 64 (the ViT's grid is h/16 x w/16; the decoder halves it once more).
    func callAsFunction(_ x: Tensor) -> Tensor {
        let (stages, tokens) = vit(x, hooks: Self.hooks)
        let (gh, gw) = (x.shape[1] / 16, x.shape[2] / 16)
        let layer3 = postprocess3(readout(tokens[0], readouts[0], height: gh, width: gw))
        let layer4 = postprocess4.1(postprocess4.0(readout(tokens[1], readouts[1], height: gh, width: gw)))
        let layers = [stages[0], stages[1], layer3, layer4].enumerated().map { layerRN[$0.offset]($0.element) }
        var path = refinenets[3](layers[3])
        for i in (0..<3).reversed() { path = refinenets[i](path, layers[i]) }
        var y = head.0(path)
        y = y.resizedBilinear(height: 2 * y.shape[1], width: 2 * y.shape[2], alignCorners: true)
        return head.2(head.1(y).relu()).relu()
    }

    /// `ProjectReadout` then the grid layout: each token concatenated with the class token,
    /// projected back to the width and through GELU, as an NHWC `[1, height, width, C]` map.
    private func readout(_ tokens: Tensor, _ project: Linear, height: Int, width: Int) -> Tensor {
        let c = tokens.shape[2], count = tokens.shape[1] - 1
        var features = Tensor(uninitializedShape: [1, count, 2 * c])
        let source = tokens.storage.pointer
        features.withUnsafeMutableBufferPointer { f in
            for t in 0..<count {
                (f.baseAddress! + t * 2 * c).update(from: source + (t + 1) * c, count: c)
                (f.baseAddress! + t * 2 * c + c).update(from: source, count: c)
            }
        }
        return project(features).applying(.geluErf).reshaped([1, height, width, c])
    }
}

/// `FeatureFusionBlock_custom` (no batch norm, no expansion): the skip input through a residual
/// unit added to the coarser path, a second residual unit, a 2x bilinear upsampling (corners
/// aligned) and a 1x1 convolution.
struct FeatureFusionBlock: Sendable {
    let resConfUnit1: ResidualConvUnit?
    let resConfUnit2: ResidualConvUnit
    let outConv: Conv2D

    init(_ w: DetectorWeights.Scope, features: Int, fuses: Bool) throws {
        resConfUnit1 = fuses ? try ResidualConvUnit(w["resConfUnit1"], features: features) : nil
        resConfUnit2 = try ResidualConvUnit(w["resConfUnit2"], features: features)
        outConv = Conv2D(weight: try w["out_conv"].tensor("weight", shape: [features, features, 1, 1]),
                         bias: try w["out_conv"].tensor("bias", shape: [features]))
    }

    func callAsFunction(_ path: Tensor, _ skip: Tensor? = nil) -> Tensor {
        var output = path
        if let skip, let resConfUnit1 { output.add(resConfUnit1(skip)) }
        output = resConfUnit2(output)
        return outConv(output.resizedBilinear(height: 2 * output.shape[1], width: 2 * output.shape[2], alignCorners: true))
    }
}

/// `ResidualConvUnit_custom`: `x + conv2(relu(conv1(relu(x))))`, 3x3 convolutions with bias.
struct ResidualConvUnit: Sendable {
    let conv1: Conv2D, conv2: Conv2D

    init(_ w: DetectorWeights.Scope, features: Int) throws {
        func conv(_ scope: DetectorWeights.Scope) throws -> Conv2D {
            Conv2D(weight: try scope.tensor("weight", shape: [features, features, 3, 3]),
                   bias: try scope.tensor("bias", shape: [features]), padding: 1)
        }
        conv1 = try conv(w["conv1"])
        conv2 = try conv(w["conv2"])
    }

    func callAsFunction(_ x: Tensor) -> Tensor {
        var y = conv2(conv1(x.relu()).relu())
        y.add(x)
        return y
    }
}
