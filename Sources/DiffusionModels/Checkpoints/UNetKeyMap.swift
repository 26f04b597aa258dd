// Follows diffusers' loaders/single_file_utils.py (convert_ldm_unet_checkpoint, convert_controlnet_checkpoint).
import Foundation

/// The names of Stable Diffusion's original UNet (`openaimodel.py`: `input_blocks`, `middle_block`,
/// `output_blocks`, and a ControlNet's `zero_convs`, `middle_block_out`, `input_hint_block`) in
/// diffusers' terms. `input_blocks.<i>` counts every resnet, attention and downsampler in order, so
/// its level and index follow from `layers_per_block`, itself read from where the first downsampler sits.
enum UNetKeyMap {
    /// Layers whose original prefix maps whole.
    private static let layers = [
        "time_embed.0.": "time_embedding.linear_1.", "time_embed.2.": "time_embedding.linear_2.",
        "label_emb.0.0.": "add_embedding.linear_1.", "label_emb.0.2.": "add_embedding.linear_2.",
        "input_blocks.0.0.": "conv_in.", "out.0.": "conv_norm_out.", "out.2.": "conv_out.",
        "middle_block_out.0.": "controlnet_mid_block.",
    ]
    /// A resnet's original sublayers (`ResBlock`) and diffusers' (`ResnetBlock2D`).
    private static let resnet = [
        "in_layers.0": "norm1", "in_layers.2": "conv1", "out_layers.0": "norm2", "out_layers.3": "conv2",
        "emb_layers.1": "time_emb_proj", "skip_connection": "conv_shortcut",
    ]

    /// Each diffusers name and the original key (after `prefix`) it reads, for every key of `keys`
    /// under `prefix`. A key that fits no rule keeps its original name, so strict loading reports it.
    static func sources(_ keys: [String], prefix: String) -> [String: RemappedTensorFile.Source] {
        let local = keys.filter { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) }
        let perBlock = layersPerBlock(local)
        let lastHint = local.compactMap { hintIndex($0) }.max() ?? 0
        var sources: [String: RemappedTensorFile.Source] = [:]
        for key in local {
            let name = diffusersName(key, layersPerBlock: perBlock, lastHint: lastHint) ?? key
            sources[name] = RemappedTensorFile.Source(prefix + key)
        }
        return sources
    }

    /// `layers_per_block`: the first downsampler is `input_blocks.<L + 1>.0.op`; a one-level UNet has
    /// none, and its input blocks after `conv_in` are all resnets.
    static func layersPerBlock(_ keys: [String]) -> Int {
        let blocks = keys.compactMap { key -> (Int, Bool)? in
            let parts = key.split(separator: ".")
            guard parts.count > 3, parts[0] == "input_blocks", let index = Int(parts[1]) else { return nil }
            return (index, parts[2] == "0" && parts[3] == "op")
        }
        if let firstDownsampler = blocks.filter(\.1).map(\.0).min() { return firstDownsampler - 1 }
        return blocks.map(\.0).max() ?? 1
    }

    private static func hintIndex(_ key: String) -> Int? {
        let parts = key.split(separator: ".")
        return parts.count > 1 && parts[0] == "input_hint_block" ? Int(parts[1]) : nil
    }

    /// The diffusers name of one original key, or nil when no rule fits.
    static func diffusersName(_ key: String, layersPerBlock perBlock: Int, lastHint: Int) -> String? {
        if let (old, new) = layers.first(where: { key.hasPrefix($0.key) }) { return new + key.dropFirst(old.count) }
        let parts = key.split(separator: ".").map(String.init)
        guard parts.count >= 3, let index = Int(parts[1]) else { return nil }
        let rest = parts.dropFirst(2).joined(separator: ".")
        switch parts[0] {
        case "input_blocks" where index > 0:
            let (block, layer) = ((index - 1) / (perBlock + 1), (index - 1) % (perBlock + 1))
            return downBlockName(rest, block: block, layer: layer)
        case "middle_block":
            switch index {
            case 0, 2: return resnetName(rest, under: "mid_block.resnets.\(index / 2)")
            case 1: return "mid_block.attentions.0." + rest
            default: return nil
            }
        case "output_blocks":
            let (block, layer) = (index / (perBlock + 1), index % (perBlock + 1))
            return upBlockName(rest, block: block, layer: layer)
        case "zero_convs" where parts[2] == "0":
            return "controlnet_down_blocks.\(index)." + parts.dropFirst(3).joined(separator: ".")
        case "input_hint_block":
            let tail = parts.dropFirst(2).joined(separator: ".")
            if index == 0 { return "controlnet_cond_embedding.conv_in." + tail }
            if index == lastHint { return "controlnet_cond_embedding.conv_out." + tail }
            return index % 2 == 0 ? "controlnet_cond_embedding.blocks.\(index / 2 - 1)." + tail : nil
        default:
            return nil
        }
    }

    /// `input_blocks.<i>.0` is a resnet or (`.op`) the level's downsampler; `.1` its attention.
    private static func downBlockName(_ rest: String, block: Int, layer: Int) -> String? {
        let parts = rest.split(separator: ".", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { return nil }
        switch parts[0] {
        case "0" where parts[1].hasPrefix("op."): return "down_blocks.\(block).downsamplers.0.conv." + parts[1].dropFirst(3)
        case "0": return resnetName(parts[1], under: "down_blocks.\(block).resnets.\(layer)")
        case "1": return "down_blocks.\(block).attentions.\(layer)." + parts[1]
        default: return nil
        }
    }

    /// `output_blocks.<i>.0` is a resnet; `.1` its attention, or (`.1.conv`/`.2.conv`) the upsampler.
    private static func upBlockName(_ rest: String, block: Int, layer: Int) -> String? {
        let parts = rest.split(separator: ".", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { return nil }
        if parts[0] != "0", parts[1].hasPrefix("conv.") { return "up_blocks.\(block).upsamplers.0." + parts[1] }
        switch parts[0] {
        case "0": return resnetName(parts[1], under: "up_blocks.\(block).resnets.\(layer)")
        case "1": return "up_blocks.\(block).attentions.\(layer)." + parts[1]
        default: return nil
        }
    }

    /// A resnet sublayer (`in_layers.0.weight`) under its diffusers name (`<prefix>.norm1.weight`).
    private static func resnetName(_ tail: String, under prefix: String) -> String? {
        guard let (old, new) = resnet.first(where: { tail.hasPrefix($0.key + ".") }) else { return nil }
        return "\(prefix).\(new)" + tail.dropFirst(old.count)
    }
}
