// Follows diffusers' models/unets/unet_2d_blocks.py (DownEncoderBlock2D).
import DiffusionCore

/// The VAE encoder's level: `resnets` then, except at the last level, `downsamplers.0`
/// (stride 2 after padding one zero row and column at the bottom and right).
public struct DownEncoderBlock2D: Sendable {
    let resnets: [ResnetBlock2D]
    let downsampler: Downsample2D?

    init(_ w: WeightScope, inChannels: Int, outChannels: Int, layers: Int, groups: Int, activation: Activation, addDownsample: Bool) throws {
        resnets = try ResnetBlock2D.stack(
            w, inChannels: inChannels, outChannels: outChannels, layers: layers, tembChannels: nil, groups: groups,
            epsilon: 1e-6, activation: activation)
        downsampler = addDownsample ? try Downsample2D(w["downsamplers"][0], channels: outChannels, padding: 0) : nil
    }

    func callAsFunction(_ x: Tensor) -> Tensor {
        let h = resnets.reduce(x) { $1($0, temb: nil) }
        return downsampler.map { $0(h) } ?? h
    }
}
