// The key layouts of LoRA files: kohya's (`lora_unet_..._to_q.lora_down.weight`) and diffusers' and
// PEFT's (`unet.....to_q.lora_A.weight`, the older `attn1.processor.to_q_lora.down.weight`).

/// A LoRA key's module as the file names it, before it is resolved against a model.
enum LoRAModuleName: Hashable, Sendable {
    /// kohya: the component and the module with every `.` written `_` (`down_blocks_0_..._to_q`, or
    /// the sgm spelling `input_blocks_4_1_..._to_q` of SDXL files).
    case kohya(LoRAComponent, String)
    /// diffusers/PEFT: the component and the dotted module name (`down_blocks.0.....to_q`).
    case diffusers(LoRAComponent, String)
}

extension LoRA {
    /// kohya's prefixes: `lora_te_` is SD1.5's text encoder, `lora_te1_`/`lora_te2_` SDXL's two.
    private static let kohyaPrefixes: [(String, LoRAComponent)] = [
        ("lora_unet_", .unet), ("lora_te_", .textEncoder), ("lora_te1_", .textEncoder), ("lora_te2_", .textEncoder2),
    ]

    /// diffusers' suffixes and the part each names; `alpha` is kohya's and diffusers' alpha.
    private static let diffusersSuffixes: [(String, String)] = [
        (".lora_A.weight", "down"), (".lora_B.weight", "up"), (".lora.down.weight", "down"), (".lora.up.weight", "up"),
        (".lora_linear_layer.down.weight", "down"), (".lora_linear_layer.up.weight", "up"),
        (".down.weight", "down"), (".up.weight", "up"), (".alpha", "alpha"),
        (".lora_magnitude_vector", "lora_magnitude_vector"), (".lora_A.bias", "lora_A.bias"), (".lora_B.bias", "lora_B.bias"),
    ]

    /// The module a key belongs to and which of its tensors it is (`down`, `up`, `alpha`, `hada_w1_a`, ...).
    static func split(_ key: String, lora: String) throws -> (LoRAModuleName, String) {
        if let (prefix, component) = kohyaPrefixes.first(where: { key.hasPrefix($0.0) }),
            let dot = key.firstIndex(of: ".")
        {
            let module = String(key[key.index(key.startIndex, offsetBy: prefix.count)..<dot])
            let part = String(key[key.index(after: dot)...])
            let normalized = ["lora_down.weight": "down", "lora_up.weight": "up"][part] ?? part
            return (.kohya(component, module), normalized)
        }
        var rest = key.hasPrefix("base_model.model.") ? String(key.dropFirst("base_model.model.".count)) : key
        var component = LoRAComponent.unet
        for candidate in [LoRAComponent.textEncoder2, .textEncoder, .unet] where rest.hasPrefix(candidate.rawValue + ".") {
            component = candidate
            rest.removeFirst(candidate.rawValue.count + 1)
            break
        }
        guard let (suffix, part) = diffusersSuffixes.first(where: { rest.hasSuffix($0.0) }) else {
            throw LoRAError("LoRA '\(lora)': key '\(key)' is not a LoRA tensor this runtime knows")
        }
        rest.removeLast(suffix.count)
        return (.diffusers(component, legacyModule(rest, component)), part)
    }

    /// diffusers' first LoRA layout kept the attention processors' names: `attn1.processor.to_q_lora`
    /// is `attn1.to_q` (`to_out_lora` is `to_out.0`; in a text encoder, `q_proj` ... `out_proj`).
    private static func legacyModule(_ module: String, _ component: LoRAComponent) -> String {
        var parts = module.split(separator: ".").map(String.init)
        guard let last = parts.last, last.hasPrefix("to_"), last.hasSuffix("_lora") else { return module }
        let projection = String(last.dropFirst(3).dropLast(5))  // q, k, v, out
        parts.removeLast()
        if parts.last == "processor" { parts.removeLast() }
        if component == .unet {
            parts.append(projection == "out" ? "to_out.0" : "to_" + projection)
        } else {
            parts.append(projection + "_proj")
        }
        return parts.joined(separator: ".")
    }
}
