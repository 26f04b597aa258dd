import Foundation

/// LoRAs with their scales, stacked: the patches of each component add every LoRA's delta weight,
/// `W' = W + sum(scale_i * ΔW_i)`, as diffusers' `set_adapters([...], adapter_weights=[...])` and
/// `fuse_lora` merge them.
public struct LoRASet: Sendable {
    public let entries: [(lora: LoRA, scale: Float)]

    public init(_ entries: [(lora: LoRA, scale: Float)]) {
        self.entries = entries
    }

    /// Reads each LoRA file against the models of the pipeline folder `modelDirectory` (the request's
    /// `concepts`, in order); the first file that cannot be applied throws its `LoRAError`.
    public init(files: [(url: URL, scale: Float)], modelDirectory: URL) throws {
        let targets = try LoRATargets(modelDirectory: modelDirectory)
        self.init(try files.map { (try LoRA(contentsOf: $0.url, targets: targets), $0.scale) })
    }

    public var isEmpty: Bool { entries.isEmpty }

    /// The LoRAs and scales in order (`name@scale+...`), for caching models patched with this set.
    public var cacheKey: String {
        entries.map { "\($0.lora.name)@\($0.scale)" }.joined(separator: "+")
    }

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
