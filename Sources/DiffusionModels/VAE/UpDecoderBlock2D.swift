// Follows diffusers' models/unets/unet_2d_blocks.py (UpDecoderBlock2D).
import DiffusionCore

/// The VAE decoder's level: `resnets` then, except at the last level, `upsamplers.0` (2x nearest + conv).
public struct UpDecoderBlock2D: Sendable {
    let resnets: [ResnetBlock2D]
    let upsampler: Upsample2D?

    init(_ w: WeightScope, inChannels: Int, outChannels: Int, layers: Int, groups: Int, activation: Activation, addUpsample: Bool) throws {
        resnets = try ResnetBlock2D.stack(
            w, inChannels: inChannels, outChannels: outChannels, layers: layers, tembChannels: nil, groups: groups,
            epsilon: 1e-6, activation: activation)
        upsampler = addUpsample ? try Upsample2D(w["upsamplers"][0], channels: outChannels) : nil
    }

    func callAsFunction(_ x: Tensor) -> Tensor {
        let h = resnets.reduce(x) { $1($0, temb: nil) }
        return upsampler.map { $0(h) } ?? h
    }
}
