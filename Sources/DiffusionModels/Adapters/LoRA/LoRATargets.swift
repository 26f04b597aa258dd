import DiffusionFormats
import Foundation

/// The weights LoRA files may change in one pipeline, read from the safetensors headers of its
/// `unet/`, `text_encoder/` and (SDXL) `text_encoder_2/` folders: each linear or convolution weight
/// with its shape, and the names kohya files give its module.
///
/// kohya names a module by its path with every `.` written `_`, which cannot be undone by string
/// rules (`transformer_blocks`, `to_q`, `proj_in` hold underscores), so the names are generated
/// from the model's own keys instead: the diffusers spelling (SD1.5 files) and, for the UNet, the
/// sgm block spelling of SDXL files (`input_blocks_4_1_...`, `LoRATargets+SGM.swift`).
public struct LoRATargets: Sendable {
    /// Per component: weight key (`....to_q.weight`; text encoders with `text_model.`) to its shape.
    let shapes: [LoRAComponent: [String: [Int]]]
    /// Per component: kohya's module name (without the `lora_unet_` prefix) to the weight key.
    let kohyaNames: [LoRAComponent: [String: String]]

    /// Reads the folders of a diffusers pipeline; a component whose folder is absent takes no LoRA.
    public init(modelDirectory: URL) throws {
        var shapes: [LoRAComponent: [String: [Int]]] = [:]
        var kohyaNames: [LoRAComponent: [String: String]] = [:]
        for component in LoRAComponent.allCases {
            let folder = modelDirectory.appendingPathComponent(component.rawValue)
            let url = folder.appendingPathComponent(component.weightsFile)
            guard FileManager.default.fileExists(atPath: url.path) else { continue }
            let file = try SafeTensorsFile(contentsOf: url)
            var table: [String: [Int]] = [:]
            for name in file.names where name.hasSuffix(".weight") && !name.contains("embeddings.") {
                guard let shape = file.info(name)?.shape, shape.count == 2 || shape.count == 4 else { continue }
                let canonical = component == .unet || name.hasPrefix("text_model.") || name.hasPrefix("text_projection")
                    ? name : "text_model." + name
                table[canonical] = shape
            }
            var names: [String: String] = [:]
            for key in table.keys {
                names[Self.kohyaName(key)] = key
            }
            if component == .unet {
                let config = try UNet2DConditionConfig.load(contentsOf: folder.appendingPathComponent("config.json"))
                for (key, sgm) in try Self.sgmNames(table.keys, config: config) { names[sgm] = key }
            }
            shapes[component] = table
            kohyaNames[component] = names
        }
        self.shapes = shapes
        self.kohyaNames = kohyaNames
    }

    /// kohya's spelling of a weight key's module: `a.b_c.0.weight` is `a_b_c_0`.
    static func kohyaName(_ weightKey: String) -> String {
        String(weightKey.dropLast(".weight".count)).replacingOccurrences(of: ".", with: "_")
    }

    /// The component and weight key a file's module names; an error naming the LoRA and the key when
    /// the model has no such weight.
    func resolve(_ module: LoRAModuleName, lora: String, key: String) throws -> LoRAModuleKey {
        let component: LoRAComponent, weightKey: String?
        switch module {
        case .kohya(let target, let name):
            component = target
            weightKey = kohyaNames[target]?[name]
        case .diffusers(let target, let name):
            component = target
            let table = shapes[target] ?? [:]
            let candidates = target == .unet ? [name] : [name, "text_model." + name]
            weightKey = candidates.map { $0 + ".weight" }.first { table[$0] != nil }
        }
        guard shapes[component] != nil else {
            throw LoRAError("LoRA '\(lora)': key '\(key)' is for \(component.rawValue), which this model does not have")
        }
        guard let weightKey else {
            throw LoRAError("LoRA '\(lora)': key '\(key)' maps to no weight of the model's \(component.rawValue)")
        }
        return LoRAModuleKey(component: component, weightKey: weightKey)
    }

    /// Throws when `factors` (read from `key` and its siblings) do not fit the weight they change.
    func check(_ factors: LoRAFactors, for module: LoRAModuleKey, lora: String, key: String) throws {
        guard let shape = shapes[module.component]?[module.weightKey] else { return }
        if let reason = factors.mismatch(for: shape) {
            throw LoRAError("LoRA '\(lora)': key '\(key)' (\(module.component.rawValue) \(module.weightKey)): \(reason)")
        }
    }
}
