import DiffusionCore
import Foundation

/// Changes to a model's weights applied as the model is built: `WeightStore` hands each layer weight
/// it reads to `patched(_:_:)`, which returns it merged with the LoRA deltas for its key. The base
/// model and its file stay untouched; the patched model holds its own copy of every patched weight
/// (Docs/LORA.md, "Cost").
public struct WeightPatches: Sendable {
    struct Term: Sendable {
        let factors: LoRAFactors
        let scale: Float
    }

    /// By weight key as the UNet names it, or for text encoders with the `text_model.` prefix.
    let terms: [String: [Term]]
    /// Whether a float16 weight is stored back as float16 once merged (half the memory, one rounding
    /// of the merged weight) instead of float32 (exactly the merge diffusers computes in float32).
    public let keepsFloat16: Bool
    private let applied = AppliedKeys()

    init(terms: [String: [Term]], keepsFloat16: Bool = false) {
        self.terms = terms
        self.keepsFloat16 = keepsFloat16
    }

    /// No change.
    public static let none = WeightPatches(terms: [:])

    public var isEmpty: Bool { terms.isEmpty }

    /// The weight `key` as the model reads it: `base` itself, or `base` plus its deltas, summed in
    /// float32 and kept so unless `keepsFloat16` and `base` is float16.
    public func patched(_ key: String, _ base: WeightArray) -> WeightArray {
        guard let terms = terms[key] ?? terms["text_model." + key] else { return base }
        var weight = base.widened()
        for term in terms { term.factors.add(to: &weight, scale: term.scale) }
        applied.insert(key)
        guard keepsFloat16, base.isFloat16 else { return WeightArray(weight) }
        var halves = [Float16](repeating: 0, count: weight.count)
        halves.withUnsafeMutableBytes { Kernels.current.narrow(weight.storage.pointer, into: $0.baseAddress!, count: weight.count) }
        return halves.withUnsafeBytes { WeightArray(float16Bytes: $0, shape: base.shape) }
    }

    /// Throws when a patched key was never read while building `model`: the model did not read the
    /// weight the LoRA was resolved against (a model built from another folder than the targets).
    public func checkAllApplied(model: String) throws {
        let missed = terms.keys.filter { key in
            !applied.contains(key) && !(key.hasPrefix("text_model.") && applied.contains(String(key.dropFirst("text_model.".count))))
        }
        guard missed.isEmpty else {
            throw LoRAError("\(model): \(missed.count) LoRA weight(s) were never read: \(missed.sorted().prefix(3).joined(separator: ", "))")
        }
    }
}

/// The keys patched so far, shared by the copies of a `WeightPatches` while a model loads.
private final class AppliedKeys: @unchecked Sendable {
    private var keys = Set<String>()
    private let lock = NSLock()

    func insert(_ key: String) {
        lock.lock()
        keys.insert(key)
        lock.unlock()
    }

    func contains(_ key: String) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        return keys.contains(key)
    }
}
