// Follows the LoRA loaders of diffusers (loaders/lora_conversion_utils.py) and A1111's Lora extension
// (kohya and LyCORIS keys); Docs/LORA.md lists the formats.
import DiffusionCore
import DiffusionFormats
import Foundation

/// A LoRA file read against the models it changes: every module of the file resolved to the
/// diffusers weight it changes, with the factors of its delta weight.
///
/// Reading checks everything up front: a module that maps to no weight of the model, a tensor kind
/// this runtime does not apply, or factors whose shapes do not fit the weight are `LoRAError`s naming
/// the file and the key. Nothing is merged here; `LoRASet` gives the patches a model is built with.
public struct LoRA: Sendable {
    /// The file's name without extension (the request's `modelId`).
    public let name: String
    /// The changes by component and by the weight key they change (`down_blocks.0....to_q.weight`).
    let modules: [LoRAComponent: [String: LoRAFactors]]

    /// Reads `url` for the models described by `targets`.
    public init(contentsOf url: URL, targets: LoRATargets) throws {
        name = url.deletingPathExtension().lastPathComponent
        let file: SafeTensorsFile
        do { file = try SafeTensorsFile(contentsOf: url) } catch { throw LoRAError("LoRA '\(name)': \(error)") }
        var groups: [LoRAModuleKey: [String: String]] = [:]
        for key in file.names {
            let (module, part) = try Self.split(key, lora: name)
            let resolved = try targets.resolve(module, lora: name, key: key)
            guard groups[resolved]?[part] == nil else {
                throw LoRAError("LoRA '\(name)': '\(key)' changes \(resolved.weightKey) a second time")
            }
            groups[resolved, default: [:]][part] = key
        }
        var modules: [LoRAComponent: [String: LoRAFactors]] = [:]
        for (module, parts) in groups {
            let factors = try Self.factors(parts, file: file, lora: name)
            try targets.check(factors, for: module, lora: name, key: parts.values.sorted().first ?? "")
            modules[module.component, default: [:]][module.weightKey] = factors
        }
        self.modules = modules
    }

    /// The number of weights the LoRA changes in `component`.
    public func moduleCount(_ component: LoRAComponent) -> Int { modules[component]?.count ?? 0 }

    /// The factors of one module from its tensors (`part` name to file key), by the parts present.
    private static func factors(_ parts: [String: String], file: SafeTensorsFile, lora: String) throws -> LoRAFactors {
        let anyKey = parts.values.sorted().first ?? ""
        func tensor(_ part: String) throws -> Tensor {
            guard let key = parts[part] else {
                throw LoRAError("LoRA '\(lora)': '\(anyKey)' has no matching '\(part)' tensor")
            }
            return try file.tensor(named: key)
        }
        let alpha = try parts["alpha"].map { try file.tensor(named: $0).scalars.first ?? 0 }
        if let unsupported = parts.keys.first(where: { Self.unsupportedParts.contains($0) }) {
            throw LoRAError("LoRA '\(lora)': '\(parts[unsupported] ?? anyKey)' (\(unsupported)) is not supported")
        }
        if parts["down"] != nil || parts["up"] != nil {
            return .lowRank(up: try tensor("up"), down: try tensor("down"), alpha: alpha)
        }
        if parts.keys.contains(where: { $0.hasPrefix("hada_") }) {
            return .hadamard(
                w1a: try tensor("hada_w1_a"), w1b: try tensor("hada_w1_b"), w2a: try tensor("hada_w2_a"),
                w2b: try tensor("hada_w2_b"), alpha: alpha)
        }
        if parts.keys.contains(where: { $0.hasPrefix("lokr_") }) {
            func factor(_ name: String) throws -> LoRAFactors.KroneckerFactor {
                if parts[name] != nil { return .full(try tensor(name)) }
                return .lowRank(a: try tensor(name + "_a"), b: try tensor(name + "_b"))
            }
            return .kronecker(w1: try factor("lokr_w1"), w2: try factor("lokr_w2"), alpha: alpha)
        }
        throw LoRAError("LoRA '\(lora)': '\(anyKey)' holds no lora_down/lora_up, hada_* or lokr_* tensors")
    }

    /// Tensor kinds of real files this runtime recognises but does not apply.
    static let unsupportedParts: Set<String> = [
        "hada_t1", "hada_t2", "lokr_t2", "lora_mid", "dora_scale", "lora_magnitude_vector", "diff", "diff_b",
        "bias", "lora_A.bias", "lora_B.bias",
    ]
}

/// A module of a LoRA resolved to its model: the component and the diffusers weight key it changes.
struct LoRAModuleKey: Hashable, Sendable {
    let component: LoRAComponent
    let weightKey: String
}
