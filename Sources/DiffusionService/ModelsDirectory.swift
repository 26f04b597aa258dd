import DiffusionFormats
import DiffusionModels
import DiffusionPipeline
import Foundation

/// The folder every model is read from (Docs/SPEC.md §1): diffusers pipeline folders by model id,
/// `controlnets/<family>/<modality>/`, `ip-adapters/<family>/<type>/` and `presets.json`.
///
/// Resolving checks that the folders and files a generation will read are there, so a
/// request fails before any weight is loaded; loading the weights is the models' business.
public struct ModelsDirectory: Sendable {
    public let url: URL

    public init(url: URL) {
        self.url = url
    }

    /// The pipeline folder `<models>/<id>/`.
    ///
    /// - Throws: `GenerationError` 400 for an id that is not a plain folder name (checked
    ///   before the file system is touched) or a pipeline class this runtime does not run,
    ///   404 when there is no such model, 500 when its folder is incomplete or unreadable.
    public func model(_ id: String) throws -> ModelFolder {
        try Self.checkModelId(id)
        do {
            return try ModelFolder(url: url.appendingPathComponent(id, isDirectory: true))
        } catch let error as ModelFolderError {
            switch error {
            case .notAPipeline: throw GenerationError.notFound("model '\(id)' not found in the models directory", field: "modelId")
            case .unsupportedPipeline: throw GenerationError.badRequest(error.description, field: "modelId")
            case .incomplete(_, let missing): throw GenerationError.internalError("model '\(id)' is incomplete: \(id)/\(missing) is missing")
            case .unreadable(let file, let reason): throw GenerationError.internalError("cannot read \(relative(file)): \(reason)")
            }
        }
    }

    /// The ControlNet folder `controlnets/<family>/<modality>/`.
    ///
    /// - Throws: `GenerationError` 404 naming the modality and family when the folder is
    ///   missing, 500 when it lacks its config or weights.
    public func controlNet(modality: String, family: ModelFamily) throws -> URL {
        let folder = url.appendingPathComponent("controlnets/\(family.rawValue)/\(modality)", isDirectory: true)
        guard directoryExists(folder) else {
            throw GenerationError.notFound(
                "no ControlNet for modality '\(modality)' of family \(family.rawValue) (expected \(relative(folder))/ in the models directory)",
                field: "modality")
        }
        let what = "the \(family.rawValue) '\(modality)' ControlNet"
        if PublishedFiles.controlNetCheckpoint(in: folder) == nil {
            try requireFiles(["config.json"], in: folder, of: what)
            try require(WeightFile.diffusers, in: folder, of: what)
        }
        return folder
    }

    /// The LoRA file `loras/<family>/<id>.safetensors` (Docs/LORA.md).
    ///
    /// - Throws: `GenerationError` 400 for an unsafe id or a LoRA that is only there for the other
    ///   family, 404 naming the LoRA when it is not there at all.
    public func lora(_ id: String, family: ModelFamily) throws -> URL {
        guard (try? Self.checkModelId(id)) != nil else {
            throw GenerationError.badRequest(
                "concepts: '\(id)' must name a LoRA file in loras/\(family.rawValue)/ (no '/', '\\', '..' or leading '.')",
                field: "concepts")
        }
        let file = { (family: ModelFamily) in self.url.appendingPathComponent("loras/\(family.rawValue)/\(id).safetensors") }
        if FileManager.default.fileExists(atPath: file(family).path) { return file(family) }
        if let other = ModelFamily.allCases.first(where: { $0 != family && FileManager.default.fileExists(atPath: file($0).path) }) {
            throw GenerationError.badRequest(
                "concepts: the LoRA '\(id)' is for \(other.rawValue) models, not \(family.rawValue)", field: "concepts")
        }
        throw GenerationError.notFound(
            "concepts: no LoRA '\(id)' for family \(family.rawValue) (expected \(relative(file(family))) in the models directory)",
            field: "concepts")
    }

    /// The IP-Adapter folder `ip-adapters/<family>/<type>/`.
    ///
    /// - Throws: `GenerationError` 404 naming the type and family when the folder is missing,
    ///   500 when it lacks `ip-adapter.safetensors` or its image encoder.
    public func ipAdapter(type: IPAdapterType, family: ModelFamily) throws -> IPAdapterFolder {
        let folder = url.appendingPathComponent("ip-adapters/\(family.rawValue)/\(type.rawValue)", isDirectory: true)
        guard directoryExists(folder) else {
            throw GenerationError.notFound(
                "no \(type.rawValue) IP-Adapter for family \(family.rawValue) (expected \(relative(folder))/ in the models directory)",
                field: "ipAdapterType")
        }
        let what = "the \(family.rawValue) \(type.rawValue) IP-Adapter"
        guard PublishedFiles.ipAdapterWeights(in: folder) != nil else {
            throw GenerationError.internalError(
                "\(what) is incomplete: \(relative(folder)) holds neither ip-adapter.safetensors nor one published weight file")
        }
        let encoder = PublishedFiles.ipAdapterImageEncoder(for: folder)
        try requireFiles(["config.json"], in: encoder, of: what)
        try require(WeightFile.transformers, in: encoder, of: what)
        return IPAdapterFolder(type: type, url: folder)
    }

    /// Refuses ids that could leave `<models>` or name a hidden entry (Docs/SPEC.md §1).
    static func checkModelId(_ id: String) throws {
        guard !id.isEmpty, !id.contains("/"), !id.contains("\\"), !id.contains(".."), !id.hasPrefix("."),
              !id.contains("\0")
        else {
            throw GenerationError.badRequest(
                "modelId '\(id)' must name a folder directly under the models directory "
                    + "(no '/', '\\', '..' or leading '.')",
                field: "modelId")
        }
    }

    /// A component's weights under any of their names (a variant, the pickled `.bin`).
    private func require(_ weights: WeightFile, in folder: URL, of what: String) throws {
        guard !weights.exists(in: folder) else { return }
        throw GenerationError.internalError(
            "\(what) is incomplete: \(relative(folder.appendingPathComponent(weights.plainName))) is missing (nor a variant or .bin)")
    }

    private func requireFiles(_ paths: [String], in folder: URL, of what: String) throws {
        for path in paths where !FileManager.default.fileExists(atPath: folder.appendingPathComponent(path).path) {
            throw GenerationError.internalError("\(what) is incomplete: \(relative(folder.appendingPathComponent(path))) is missing")
        }
    }

    /// `url` relative to the models directory: messages reach HTTP clients, who need not learn
    /// where the server keeps its files.
    func relative(_ url: URL) -> String {
        let base = self.url.standardizedFileURL.path, path = url.standardizedFileURL.path
        return path.hasPrefix(base + "/") ? String(path.dropFirst(base.count + 1)) : url.lastPathComponent
    }

    private func directoryExists(_ folder: URL) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory) && isDirectory.boolValue
    }
}

/// Decodes a JSON file of the models directory; an unreadable or malformed file is the
/// server's fault (500), named by its path.
func decodeJSON<T: Decodable>(at url: URL) throws -> T {
    do {
        return try JSONDecoder().decode(T.self, from: RegularFile.read(url, maximumSize: 16 << 20))
    } catch {
        throw GenerationError.internalError("cannot read \(url.lastPathComponent) of the models directory: \(error)")
    }
}
