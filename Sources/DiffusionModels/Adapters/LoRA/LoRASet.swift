/// LoRAs with their scales, stacked: the patches of each component add every LoRA's delta weight,
/// `W' = W + sum(scale_i * ΔW_i)`, as diffusers' `set_adapters([...], adapter_weights=[...])` and
/// `fuse_lora` merge them.
public struct LoRASet: Sendable {
    public let entries: [(lora: LoRA, scale: Float)]

    public init(_ entries: [(lora: LoRA, scale: Float)]) {
        self.entries = entries
    }

    public var isEmpty: Bool { entries.isEmpty }

    /// The patches a `component` is built with (empty when no LoRA changes it); `keepingFloat16`
    /// stores merged float16 weights as float16 (`WeightPatches.keepsFloat16`).
    public func patches(for component: LoRAComponent, keepingFloat16: Bool = false) -> WeightPatches {
        var terms: [String: [WeightPatches.Term]] = [:]
        for (lora, scale) in entries {
            for (key, factors) in lora.modules[component] ?? [:] {
                terms[key, default: []].append(WeightPatches.Term(factors: factors, scale: scale))
            }
        }
        return WeightPatches(terms: terms, keepsFloat16: keepingFloat16)
    }
}
