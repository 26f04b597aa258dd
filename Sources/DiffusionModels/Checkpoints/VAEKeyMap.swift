// Follows diffusers' loaders/single_file_utils.py (convert_ldm_vae_checkpoint, conv_attn_to_linear).
import DiffusionFormats
import Foundation

/// The names of Stable Diffusion's original autoencoder (`ldm/modules/diffusionmodules/model.py`:
/// `encoder.down.<i>.block.<j>`, `mid.block_1`, `mid.attn_1` with 1x1-convolution `q`/`k`/`v`/
/// `proj_out`, the decoder's `up.<i>` numbered from the lowest resolution) in diffusers' terms.
enum VAEKeyMap {
    private static let renamed = ["norm_out.": "conv_norm_out."]
    private static let attention = ["norm.": "group_norm.", "q.": "to_q.", "k.": "to_k.", "v.": "to_v.", "proj_out.": "to_out.0."]

    /// Each diffusers name and the original key it reads (with `[c, c, 1, 1]` attention weights read
    /// as `[c, c]`), for every key of `file` under `prefix`; unknown keys keep their original name.
    static func sources(_ file: any TensorFile, prefix: String) -> [String: RemappedTensorFile.Source] {
        let local = file.names.filter { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) }
        let upLevels = Set(local.compactMap { key -> Int? in
            let parts = key.split(separator: ".")
            return parts.count > 2 && parts[0] == "decoder" && parts[1] == "up" ? Int(parts[2]) : nil
        }).count
        var sources: [String: RemappedTensorFile.Source] = [:]
        for key in local {
            guard let name = diffusersName(key, upLevels: upLevels) else {
                sources[key] = RemappedTensorFile.Source(prefix + key)
                continue
            }
            let shape = file.info(prefix + key)?.shape ?? []
            let flatten = name.contains(".attentions.0.") && name.hasSuffix(".weight") && shape.count > 2
            sources[name] = RemappedTensorFile.Source(prefix + key, flatten ? .reshaped(Array(shape.prefix(2))) : .stored)
        }
        return sources
    }

    static func diffusersName(_ key: String, upLevels: Int) -> String? {
        let parts = key.split(separator: ".").map(String.init)
        guard parts.count >= 2 else { return nil }
        if parts[0] == "quant_conv" || parts[0] == "post_quant_conv" { return key }
        guard parts[0] == "encoder" || parts[0] == "decoder" else { return nil }
        let part = parts[0], rest = parts.dropFirst(1).joined(separator: ".")
        if let (old, new) = renamed.first(where: { rest.hasPrefix($0.key) }) { return "\(part).\(new)" + rest.dropFirst(old.count) }
        if rest.hasPrefix("conv_in.") || rest.hasPrefix("conv_out.") { return key }
        guard parts.count >= 5 else { return nil }
        switch (parts[1], parts[2]) {
        case ("mid", "attn_1"):
            let tail = parts.dropFirst(3).joined(separator: ".")
            guard let (old, new) = attention.first(where: { tail.hasPrefix($0.key) }) else { return nil }
            return "\(part).mid_block.attentions.0.\(new)" + tail.dropFirst(old.count)
        case ("mid", let block) where block.hasPrefix("block_"):
            guard let index = Int(block.dropFirst(6)), index >= 1 else { return nil }
            return "\(part).mid_block.resnets.\(index - 1)." + shortcut(parts.dropFirst(3))
        case ("down", let level), ("up", let level):
            guard var index = Int(level) else { return nil }
            let blocks = parts[1] == "down" ? "down_blocks" : "up_blocks"
            if parts[1] == "up" { index = upLevels - 1 - index }  // the decoder's up.0 is its last block
            let tail = parts.dropFirst(3)
            if parts[3] == "block", let layer = Int(parts[4]) {
                return "\(part).\(blocks).\(index).resnets.\(layer)." + shortcut(tail.dropFirst(2))
            }
            if parts[3] == "downsample" || parts[3] == "upsample" {
                return "\(part).\(blocks).\(index).\(parts[3])rs.0." + tail.dropFirst().joined(separator: ".")
            }
            return nil
        default:
            return nil
        }
    }

    /// A resnet sublayer: `nin_shortcut` is diffusers' `conv_shortcut`; the rest share names.
    private static func shortcut(_ tail: ArraySlice<String>) -> String {
        tail.first == "nin_shortcut" ? (["conv_shortcut"] + tail.dropFirst()).joined(separator: ".") : tail.joined(separator: ".")
    }
}
