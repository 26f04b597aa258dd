import DiffusionPipeline
import DiffusionSchedulers
import DiffusionService
import Foundation

/// `GET /models`: what a request may name on this server, so that a client (the web page) can
/// offer only what will validate: the models that load and, per family, the modality names
/// and presets Docs/REQUEST.md allows (each marked with whether its ControlNets are installed
/// and whether detection works for it), the IP-Adapter types installed, the LoRAs, the sizes.
struct ModelCatalog: Encodable {
    struct Model: Encodable {
        var id: String
        var family: String
        /// The scheduler a request without `scheduler` uses.
        var defaultScheduler: String?
    }

    struct Modality: Encodable {
        var name: String
        /// Its ControlNet folder is present and complete.
        var installed: Bool
        /// `disableModalityDetection: false` works with it (a built-in detector, or none needed).
        var detection: Bool
    }

    struct Preset: Encodable {
        var name: String
        /// Its ControlNets as a `modality` string writes them (`depth:1.0`).
        var members: [String]
        var installed: Bool
    }

    struct Family: Encodable {
        var family: String
        var modalities: [Modality]
        var presets: [Preset]
        var ipAdapterTypes: [String]
        var loras: [String]
        var minSize: Int
        var maxSize: Int
        var defaultGuidance: Double
    }

    var models: [Model]
    var families: [Family]
    var schedulers: [String]

    /// Reads the models directory as it is now (models may be added while the server runs).
    ///
    /// - Throws: `GenerationError` 500 for an unreadable `presets.json`.
    init(_ directory: ModelsDirectory) throws {
        let inventory = directory.inventory()
        models = inventory.models.compactMap { entry in
            (try? directory.model(entry.id)).map {
                Model(id: $0.id, family: $0.family.rawValue, defaultScheduler: $0.defaultScheduler?.rawValue)
            }
        }
        let presets = try directory.presets()
        families = ModelFamily.allCases.map { family in
            Family(
                family: family.rawValue, modalities: Self.modalities(family, directory),
                presets: Self.presets(family, presets, directory),
                ipAdapterTypes: IPAdapterType.allCases.filter { (try? directory.ipAdapter(type: $0, family: family)) != nil }.map(\.rawValue),
                loras: inventory.families.first { $0.family == family.rawValue }?.loras ?? [],
                minSize: family.sizeRange.lowerBound, maxSize: family.sizeRange.upperBound, defaultGuidance: family.defaultGuidance)
        }
        schedulers = schedulerNames
    }

    private static func modalities(_ family: ModelFamily, _ directory: ModelsDirectory) -> [Modality] {
        family.modalities.map { name in
            Modality(name: name, installed: isInstalled(name, family, directory), detection: detects(name, directory))
        }
    }

    /// Whether detection works for `name`: it has a detector, or needs none (`illusion`).
    private static func detects(_ name: String, _ directory: ModelsDirectory) -> Bool {
        guard let modality = DiffusionPipeline.Modality(rawValue: name) else { return false }
        do {
            _ = try modality.detector(modelsDirectory: directory.url)
            return true
        } catch {
            return false
        }
    }

    private static func presets(_ family: ModelFamily, _ presets: ModalityPresets, _ directory: ModelsDirectory) -> [Preset] {
        family.presets.compactMap { name in
            presets.members(of: name).map { members in
                Preset(name: name, members: members.map(\.description),
                       installed: members.allSatisfy { isInstalled($0.name, family, directory) })
            }
        }
    }

    private static func isInstalled(_ modality: String, _ family: ModelFamily, _ directory: ModelsDirectory) -> Bool {
        (try? directory.controlNet(modality: modality, family: family)) != nil
    }
}
