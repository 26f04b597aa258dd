import DiffusionFormats
import DiffusionModels
import DiffusionSchedulers
import Foundation

/// A model of the models directory (Docs/SPEC.md §1, Docs/MODELS.md), checked complete: a diffusers
/// pipeline folder (`model_index.json`, the UNet, VAE, text encoders, tokenizers, scheduler config;
/// weights under any of their names), or a single-file checkpoint (A1111/civitai), alone or in a
/// folder with diffusers config files beside it.
public struct ModelFolder: Equatable, Sendable {
    /// Where the weights are.
    public enum Source: Equatable, Sendable {
        /// A diffusers pipeline folder: one subfolder per component.
        case diffusers
        /// One checkpoint file holding every component; the folder's configs, tokenizers and
        /// scheduler config, where present, win over the built-in ones.
        case singleFile(URL)
    }

    /// The folder's name (a request's `modelId`).
    public let id: String
    /// The folder (for a lone checkpoint file: the file).
    public let url: URL
    public let source: Source
    public let family: ModelFamily
    /// sd-xl: an absent negative prompt gives zero negative embeddings (model_index.json's
    /// `force_zeros_for_empty_prompt`, true when omitted, as diffusers). Always false for sd-1_5.
    public let forceZerosForEmptyPrompt: Bool
    /// `scheduler/scheduler_config.json`; its `_class_name` is the default scheduler.
    public let schedulerConfig: SchedulerConfig

    /// The checkpoint of a single-file model, nil for a diffusers folder.
    public var checkpoint: URL? {
        if case .singleFile(let file) = source { return file }
        return nil
    }

    public var unet: URL { url.appendingPathComponent("unet", isDirectory: true) }
    public var vae: URL { url.appendingPathComponent("vae", isDirectory: true) }
    public var textEncoder: URL { url.appendingPathComponent("text_encoder", isDirectory: true) }
    public var tokenizer: URL { url.appendingPathComponent("tokenizer", isDirectory: true) }
    /// sd-xl's second text encoder (CLIPTextModelWithProjection); nil for sd-1_5.
    public var textEncoder2: URL? { family == .sdxl ? url.appendingPathComponent("text_encoder_2", isDirectory: true) : nil }
    /// sd-xl's second tokenizer; nil for sd-1_5.
    public var tokenizer2: URL? { family == .sdxl ? url.appendingPathComponent("tokenizer_2", isDirectory: true) : nil }
    public var schedulerConfigURL: URL { url.appendingPathComponent(Self.schedulerConfigPath) }

    /// The scheduler `scheduler_config.json` names, nil when it names none of the 15.
    public var defaultScheduler: SchedulerKind? { schedulerConfig.className.flatMap(SchedulerKind.init(rawValue:)) }

    static let schedulerConfigPath = "scheduler/scheduler_config.json"
    /// The most bytes a config file of a model may have.
    static let maximumJSONSize = 16 << 20

    /// Reads and checks the pipeline folder at `url`, without loading any weight.
    ///
    /// - Throws: `ModelFolderError`: no `model_index.json`, a pipeline class this runtime does
    ///   not run, a missing file, or an unreadable JSON file, each naming the path.
    public init(url: URL) throws {
        let manager = FileManager.default
        var isFolder: ObjCBool = false
        guard manager.fileExists(atPath: url.path, isDirectory: &isFolder) else { throw ModelFolderError.notAPipeline(url) }
        let index: ModelIndex? = manager.fileExists(atPath: url.appendingPathComponent("model_index.json").path)
            ? try decodeModelJSON(at: url.appendingPathComponent("model_index.json")) : nil
        let checkpoint = isFolder.boolValue ? Self.checkpoint(in: url, index: index) : url
        guard index != nil || checkpoint != nil else { throw ModelFolderError.notAPipeline(url) }
        let family = try Self.family(index: index, checkpoint: checkpoint, url: url)
        self.id = isFolder.boolValue ? url.lastPathComponent : url.deletingPathExtension().lastPathComponent
        self.url = url
        self.family = family
        source = checkpoint.map { .singleFile($0) } ?? .diffusers
        if checkpoint == nil { try Self.checkComplete(url, family: family) }
        // diffusers' SDXL pipelines default this to true when model_index.json omits it.
        forceZerosForEmptyPrompt = family == .sdxl && (index?.forceZerosForEmptyPrompt ?? true)
        let folderScheduler = url.appendingPathComponent(Self.schedulerConfigPath)
        let schedulerFile = manager.fileExists(atPath: folderScheduler.path) || checkpoint == nil
            ? folderScheduler : Self.builtIn("\(family.rawValue)/\(Self.schedulerConfigPath)")
        // SchedulerConfig's own parser: diffusers writes `-Infinity` (JSON5), which JSONDecoder refuses.
        do {
            schedulerConfig = try SchedulerConfig(json: RegularFile.read(schedulerFile, maximumSize: Self.maximumJSONSize))
        } catch {
            throw ModelFolderError.unreadable(schedulerFile, reason: "\(error)")
        }
    }

    /// The checkpoint file of a single-file model folder: `<id>.<ext>`, else the one checkpoint
    /// file there, when the folder has no UNet weights of its own.
    static func checkpoint(in folder: URL, index: ModelIndex?) -> URL? {
        guard !WeightFile.diffusers.exists(in: folder.appendingPathComponent("unet")) else { return nil }
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).sorted()
            .filter { checkpointExtensions.contains(URL(fileURLWithPath: $0).pathExtension.lowercased()) }
        let named = files.first { URL(fileURLWithPath: $0).deletingPathExtension().lastPathComponent == folder.lastPathComponent }
        return (named ?? (files.count == 1 ? files[0] : nil)).map { folder.appendingPathComponent($0) }
    }

    static let checkpointExtensions: Set<String> = ["safetensors", "ckpt", "pt", "pth", "bin"]

    /// The family: model_index.json's pipeline class, else the checkpoint's keys.
    private static func family(index: ModelIndex?, checkpoint: URL?, url: URL) throws -> ModelFamily {
        if let index {
            guard let family = ModelFamily(pipelineClassName: index.className) else {
                throw ModelFolderError.unsupportedPipeline(url, className: index.className)
            }
            return family
        }
        guard let checkpoint else { throw ModelFolderError.notAPipeline(url) }
        do {
            return try SingleFileCheckpoint(contentsOf: checkpoint).family == .stableDiffusionXL ? .sdxl : .sd15
        } catch {
            throw ModelFolderError.unreadable(checkpoint, reason: "\(error)")
        }
    }

    /// A diffusers folder has every component's config and weights (any of their names) and tokenizers.
    private static func checkComplete(_ url: URL, family: ModelFamily) throws {
        func require(_ path: String, _ present: Bool) throws {
            if !present { throw ModelFolderError.incomplete(url, missing: path) }
        }
        let manager = FileManager.default
        try require(schedulerConfigPath, manager.fileExists(atPath: url.appendingPathComponent(schedulerConfigPath).path))
        let components: [(String, WeightFile)] = [("unet", .diffusers), ("vae", .diffusers), ("text_encoder", .transformers)]
            + (family == .sdxl ? [("text_encoder_2", .transformers)] : [])
        for (name, weights) in components {
            let folder = url.appendingPathComponent(name)
            try require("\(name)/config.json", manager.fileExists(atPath: folder.appendingPathComponent("config.json").path))
            try require("\(name)/\(weights.plainName)", weights.exists(in: folder))
        }
        for name in family == .sdxl ? ["tokenizer", "tokenizer_2"] : ["tokenizer"] {
            if let missing = CLIPTokenizer.missingFiles(in: url.appendingPathComponent(name)).first {
                throw ModelFolderError.incomplete(url, missing: "\(name)/\(missing)")
            }
        }
    }

    /// The files of a complete diffusers folder under their plain names (variants and
    /// `tokenizer.json` also do), relative to the folder.
    public static func requiredFiles(for family: ModelFamily) -> [String] {
        let second = family == .sdxl
            ? ["text_encoder_2/config.json", "text_encoder_2/model.safetensors", "tokenizer_2/vocab.json", "tokenizer_2/merges.txt",
               "tokenizer_2/tokenizer_config.json"]
            : []
        return [
            schedulerConfigPath, "unet/config.json", "unet/diffusion_pytorch_model.safetensors", "vae/config.json",
            "vae/diffusion_pytorch_model.safetensors", "text_encoder/config.json", "text_encoder/model.safetensors",
            "tokenizer/vocab.json", "tokenizer/merges.txt", "tokenizer/tokenizer_config.json",
        ] + second
    }

    /// A built-in file of Resources/SingleFile: what single-file checkpoints lack.
    static func builtIn(_ path: String) -> URL {
        resources.appendingPathComponent("SingleFile").appendingPathComponent(path)
    }

    /// This target's resources folder, looked up where SwiftPM's `Bundle.module` looks (beside the
    /// binary, or beside the file a symlinked binary points to) but without its fatal error: when
    /// the folder was not installed, the first built-in file read fails naming its path.
    static let resources: URL = {
        let name = "Diffuse_DiffusionPipeline.resources"
        let places = [Bundle.main.bundleURL, Bundle.main.executableURL?.resolvingSymlinksInPath().deletingLastPathComponent()]
        let candidates = places.compactMap { $0?.appendingPathComponent(name) }
        return candidates.first { FileManager.default.fileExists(atPath: $0.path) } ?? candidates[0]
    }()

    /// The tokenizer folder `name` (`tokenizer`, `tokenizer_2`): the model's, else the built-in one.
    func tokenizerFolder(_ name: String) -> URL {
        let own = url.appendingPathComponent(name)
        return source == .diffusers || CLIPTokenizer.missingFiles(in: own).isEmpty ? own : Self.builtIn(name)
    }

    /// The folder whose `<component>/config.json` files win over a checkpoint's inferred configs.
    var configFolder: URL? {
        var isFolder: ObjCBool = false
        return FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder) && isFolder.boolValue ? url : nil
    }
}

/// Why a folder is not a usable pipeline folder.
public enum ModelFolderError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The folder has neither a `model_index.json` nor a single-file checkpoint (or does not exist).
    case notAPipeline(URL)
    /// `model_index.json` names a pipeline class this runtime does not run.
    case unsupportedPipeline(URL, className: String)
    /// A file a generation reads is missing (its path relative to the folder).
    case incomplete(URL, missing: String)
    /// A JSON file of the folder cannot be read or decoded.
    case unreadable(URL, reason: String)

    public var description: String {
        switch self {
        case .notAPipeline(let url):
            guard let found = try? FileManager.default.contentsOfDirectory(atPath: url.path) else {
                return "\(url.path) does not exist: expected a diffusers pipeline folder or a single-file checkpoint"
            }
            return "\(url.path) is not a model: it has no model_index.json and no single-file checkpoint "
                + "(.safetensors, .ckpt, .pt, .pth or .bin) named after the folder or alone in it; it holds: "
                + (found.isEmpty ? "nothing" : found.sorted().joined(separator: ", "))
        case .unsupportedPipeline(let url, let className):
            return "model '\(url.lastPathComponent)' is a \(className); only Stable Diffusion 1.5 and SDXL pipelines are supported"
        case .incomplete(let url, let missing):
            return "model '\(url.lastPathComponent)' is incomplete: \(url.appendingPathComponent(missing).path) is missing"
        case .unreadable(let url, let reason):
            return "cannot read \(url.path): \(reason)"
        }
    }
}

/// Decodes a JSON file of a model folder, naming the file when it cannot.
func decodeModelJSON<T: Decodable>(at url: URL) throws -> T {
    do {
        return try JSONDecoder().decode(T.self, from: RegularFile.read(url, maximumSize: ModelFolder.maximumJSONSize))
    } catch {
        throw ModelFolderError.unreadable(url, reason: "\(error)")
    }
}

/// The keys of `model_index.json` the runtime reads.
struct ModelIndex: Decodable {
    let className: String
    let forceZerosForEmptyPrompt: Bool?

    enum CodingKeys: String, CodingKey {
        case className = "_class_name"
        case forceZerosForEmptyPrompt = "force_zeros_for_empty_prompt"
    }
}

extension ModelFolder {
    /// The single-file checkpoint opened, nil for a diffusers folder.
    func openCheckpoint() throws -> SingleFileCheckpoint? {
        try checkpoint.map { try SingleFileCheckpoint(contentsOf: $0) }
    }
}
