// Follows diffusers' _maybe_map_sgm_blocks_to_diffusers and _convert_unet_lora_key (loaders/
// lora_conversion_utils.py), run the other way: from the model's diffusers keys to sgm names.

extension LoRATargets {
    /// The sgm (Stability's original UNet) spelling kohya gives SDXL modules, for each UNet weight key
    /// that has one: `down_blocks.1.attentions.0.proj_in.weight` is `input_blocks_4_1_proj_in` with
    /// two layers per block. The blocks are numbered as sgm builds them: `input_blocks` 0 is
    /// `conv_in`, then each level's resnet (+ attention) layers and its downsampler; the middle block
    /// is resnet, attention, resnet; `output_blocks` are each up block's layers, the upsampler riding
    /// on the last (at index 2 behind an attention, else 1).
    static func sgmNames(_ keys: Dictionary<String, [Int]>.Keys, config: UNet2DConditionConfig) throws -> [(String, String)] {
        let layers = try config.layout().layersPerBlock
        let levels = layers.count
        var inputStart: [Int] = [], start = 1
        for level in 0..<levels {
            inputStart.append(start)
            start += layers[level] + (level < levels - 1 ? 1 : 0)
        }
        var outputStart: [Int] = [], next = 0
        for block in 0..<levels {
            outputStart.append(next)
            next += layers[levels - 1 - block] + 1
        }
        return keys.compactMap { key in
            let parts = key.dropLast(".weight".count).split(separator: ".").map(String.init)
            guard let sgm = sgmModule(parts, layers: layers, inputStart: inputStart, outputStart: outputStart, config: config)
            else { return nil }
            return (key, sgm.joined(separator: "_"))
        }
    }

    private static let topLevel: [String: [String]] = [
        "conv_in": ["input_blocks", "0", "0"], "conv_out": ["out", "2"],
        "time_embedding.linear_1": ["time_embed", "0"], "time_embedding.linear_2": ["time_embed", "2"],
        "add_embedding.linear_1": ["label_emb", "0", "0"], "add_embedding.linear_2": ["label_emb", "0", "2"],
    ]

    private static let resnetLayers: [String: [String]] = [
        "conv1": ["in_layers", "2"], "time_emb_proj": ["emb_layers", "1"], "conv2": ["out_layers", "3"],
        "conv_shortcut": ["skip_connection"],
    ]

    /// The sgm path of one diffusers module path, or nil for modules sgm names otherwise (norms).
    private static func sgmModule(
        _ parts: [String], layers: [Int], inputStart: [Int], outputStart: [Int], config: UNet2DConditionConfig
    ) -> [String]? {
        if let top = topLevel[parts.joined(separator: ".")] { return top }
        guard parts.count >= 3 else { return nil }
        /// A resnet's layers are renamed; an attention's keep diffusers' names.
        func inner(_ kind: String, _ rest: ArraySlice<String>) -> [String]? {
            guard kind == "resnets" else { return Array(rest) }
            return rest.count == 1 ? resnetLayers[rest[rest.startIndex]] : nil
        }
        switch parts[0] {
        case "down_blocks", "up_blocks":
            guard parts.count >= 4, let block = Int(parts[1]), block < layers.count, let index = Int(parts[3]) else { return nil }
            let down = parts[0] == "down_blocks"
            let layerCount = down ? layers[block] : layers[layers.count - 1 - block] + 1
            let first = down ? inputStart[block] : outputStart[block]
            let name = down ? "input_blocks" : "output_blocks"
            switch parts[2] {
            case "resnets", "attentions":
                guard let rest = inner(parts[2], parts[4...]) else { return nil }
                return [name, String(first + index), parts[2] == "resnets" ? "0" : "1"] + rest
            case "downsamplers" where parts[4...] == ["conv"]:
                return [name, String(first + layerCount), "0", "op"]
            case "upsamplers" where parts[4...] == ["conv"]:
                let attention = config.upBlockTypes[block].hasPrefix("CrossAttn")
                return [name, String(first + layerCount - 1), attention ? "2" : "1", "conv"]
            default:
                return nil
            }
        case "mid_block":
            guard let index = Int(parts[2]) else { return nil }
            let position = parts[1] == "attentions" ? 1 : index == 0 ? 0 : 2
            guard let rest = inner(parts[1], parts[3...]) else { return nil }
            return ["middle_block", String(position)] + rest
        default:
            return nil
        }
    }
}
