// Follows controlnet_aux/normalbae/nets/NNET.py and submodules/encoder.py (controlnet_aux 0.0.10).
import DiffusionCore

/// NormalBae's network: the EfficientNet-B5 encoder and the decoder that predicts, per pixel, a
/// unit surface normal and a concentration (`kappa`), refined from 1/8 of the input's resolution
/// to all of it.
///
/// The published `scannet.pt` is a training checkpoint, `{"model": state_dict, "iter": n}`, its
/// keys prefixed `module.` when it was saved from a (Distributed)DataParallel model;
/// `DetectorWeights` unwraps both, as controlnet_aux's `load_checkpoint` does.
struct NNET: Sendable {
    let encoder: GenEfficientNet
    let decoder: Decoder

    init(_ w: DetectorWeights.Scope) throws {
        encoder = try GenEfficientNet(w["encoder"]["original_model"])
        decoder = try Decoder(w["decoder"], features: encoder.blocks.map { $0.last?.outChannels ?? 0 },
                              head: encoder.convHead.outChannels)
    }

    /// Keys of the published file the forward pass never reads: the encoder's final BatchNorm
    /// (NormalBae takes `conv_head`'s output before it) and BatchNorm's step counters.
    static func isUnused(_ key: String) -> Bool {
        key.hasSuffix("num_batches_tracked") || key.hasPrefix("encoder.original_model.bn2.")
    }

    /// The normals `[1, h, w, 3]` (out_res1's first three channels) of an NHWC image
    /// `[1, h, w, 3]` normalized with ImageNet's mean and deviation, sides multiples of 32.
    func callAsFunction(_ x: Tensor) -> Tensor {
        let (stages, head) = encoder(x)
        // encoder.py's features[4], [5], [6], [8] and [11]: blocks 0, 1, 2, 4 and conv_head.
        return decoder(blocks: [stages[0], stages[1], stages[2], stages[4]], head: head)
    }
}
