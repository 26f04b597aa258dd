// Follows annotator/uniformer/mmseg/models/segmentors/encoder_decoder.py (EncoderDecoder) of
// lllyasviel/ControlNet-v1-1-nightly, as exp/upernet_global_small/config.py builds it.
import DiffusionCore

/// mmseg's segmentor of the seg detector: the UniFormer backbone and the UperNet decode head.
/// The checkpoint's auxiliary FCN head is trained beside them and not run at inference.
struct EncoderDecoder: Sendable {
    let backbone: UniFormer
    let decodeHead: UPerHead

    init(_ w: DetectorWeights.Scope) throws {
        backbone = try UniFormer(w["backbone"])
        let widths = backbone.stages.map { $0.norm.weight.count }
        decodeHead = try UPerHead(w["decode_head"], inChannels: widths)
        guard decodeHead.classes == ADE20kPalette.colours.count else {
            throw w.weights.fail("'decode_head.conv_seg.weight' has \(decodeHead.classes) classes, not ADE20k's \(ADE20kPalette.colours.count)")
        }
    }

    /// Keys of the published file the detector does not read: the auxiliary head, and the
    /// BatchNorms' step counters.
    static func isUnused(_ key: String) -> Bool {
        key.hasPrefix("auxiliary_head.") || key.hasSuffix(".num_batches_tracked")
    }

    /// The decode head's logits `[1, h / 4, w / 4, classes]` of a normalized NHWC image.
    func callAsFunction(_ image: Tensor) -> Tensor {
        decodeHead(backbone(image))
    }
}
