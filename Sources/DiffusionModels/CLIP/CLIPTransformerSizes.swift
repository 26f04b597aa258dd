// The sizes transformers' CLIPTextConfig and CLIPVisionConfig share (configuration_clip.py).
import DiffusionCore

/// What CLIP's encoder layers are built from; the text and the vision towers both provide it.
protocol CLIPTransformerSizes {
    var hiddenSize: Int { get }
    var intermediateSize: Int { get }
    var numHiddenLayers: Int { get }
    var numAttentionHeads: Int { get }
    var layerNormEps: Float { get }
    var activation: Activation { get throws }
}

extension CLIPTextConfig: CLIPTransformerSizes {}
