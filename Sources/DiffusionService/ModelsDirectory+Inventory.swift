import DiffusionDetectors
import DiffusionModels
import DiffusionPipeline
import Foundation

extension ModelsDirectory {
    /// What the models directory holds, as `diffuse models` lists it.
    public struct Inventory: Codable, Equatable, Sendable {
        public struct Model: Codable, Equatable, Sendable {
            public var id: String
            /// `sd-1_5` or `sd-xl`; nil when the folder cannot be used.
            public var family: String?
            /// `diffusers folder` or `single file <name>`.
            public var form: String?
            /// Why the folder cannot be used.
            public var problem: String?
        }

        public struct Family: Codable, Equatable, Sendable {
            public var family: String
            /// Modality to the ControlNet's form, for the modalities that have one.
            public var controlNets: [String: String]
            /// The modalities with no ControlNet folder.
            public var missingControlNets: [String]
            /// `style`, `character`: the adapter's weight file, or the problem.
            public var ipAdapters: [String: String]
            public var loras: [String]
        }

        public var models: [Model]
        public var families: [Family]
        /// Modality to the detector's state: `built in`, `no detector needed`, or what is missing.
        public var detectors: [String: String]
    }

    /// Lists every model, ControlNet, IP-Adapter, LoRA and detector, and what is missing.
    public func inventory() -> Inventory {
        Inventory(models: modelIds().map(inventoryModel), families: ModelFamily.allCases.map(inventoryFamily),
                  detectors: Dictionary(uniqueKeysWithValues: Modality.allCases.map { ($0.rawValue, detectorState($0)) }))
    }

    private func modelIds() -> [String] {
        let skipped: Set<String> = ["controlnets", "ip-adapters", "loras", "detectors"]
        return entries(url).filter { !skipped.contains($0) && !$0.hasPrefix(".") && isFolder(url.appendingPathComponent($0)) }
    }

    private func inventoryModel(_ id: String) -> Inventory.Model {
        do {
            let model = try ModelFolder(url: url.appendingPathComponent(id))
            let form = model.checkpoint.map { "single file \($0.lastPathComponent)" } ?? "diffusers folder"
            return .init(id: id, family: model.family.rawValue, form: form)
        } catch {
            return .init(id: id, problem: "\(error)")
        }
    }

    private func inventoryFamily(_ family: ModelFamily) -> Inventory.Family {
        var present: [String: String] = [:]
        for modality in family.modalities where isFolder(url.appendingPathComponent("controlnets/\(family.rawValue)/\(modality)")) {
            do {
                let folder = try controlNet(modality: modality, family: family)
                present[modality] = PublishedFiles.controlNetCheckpoint(in: folder).map { "single file \($0.lastPathComponent)" } ?? "diffusers folder"
            } catch {
                present[modality] = "unusable: " + ((error as? GenerationError)?.message ?? "\(error)")
            }
        }
        var adapters: [String: String] = [:]
        for type in IPAdapterType.allCases {
            do {
                let folder = try ipAdapter(type: type, family: family)
                adapters[type.rawValue] = PublishedFiles.ipAdapterWeights(in: folder.url)?.lastPathComponent ?? ""
            } catch {
                adapters[type.rawValue] = (error as? GenerationError)?.message ?? "\(error)"
            }
        }
        let loras = entries(url.appendingPathComponent("loras/\(family.rawValue)"))
            .filter { $0.hasSuffix(".safetensors") }.map { String($0.dropLast(".safetensors".count)) }
        return .init(family: family.rawValue, controlNets: present,
                     missingControlNets: family.modalities.filter { present[$0] == nil }, ipAdapters: adapters, loras: loras)
    }

    private func detectorState(_ modality: Modality) -> String {
        do {
            try modality.checkDetector(modelsDirectory: url)
        } catch DetectionError.missingWeights(_, let file) {
            return "needs detectors/\(modality.rawValue)/\(file) (Docs/DETECTORS.md says where to get it)"
        } catch {
            return "not available yet (its weights would go in detectors/\(modality.rawValue)/)"
        }
        switch modality {
        case .illusion: return "no detector needed"
        case .canny: return "built in"
        default: return "installed (detectors/\(modality.rawValue)/\(modality.detectorWeightsFile ?? ""))"
        }
    }

    private func entries(_ folder: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).sorted()
    }

    private func isFolder(_ folder: URL) -> Bool {
        var folderFlag: ObjCBool = false
        return FileManager.default.fileExists(atPath: folder.path, isDirectory: &folderFlag) && folderFlag.boolValue
    }
}
