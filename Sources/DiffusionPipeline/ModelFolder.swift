import DiffusionSchedulers
import Foundation

/// A diffusers pipeline folder (Docs/SPEC.md §1), checked complete: `model_index.json`, the UNet, VAE,
/// text encoders, tokenizers and scheduler config.
public struct ModelFolder: Equatable, Sendable {
    /// The folder's name (a request's `modelId`).
    public let id: String
    public let url: URL
    public let family: ModelFamily
    /// sd-xl: an absent negative prompt gives zero negative embeddings (model_index.json's
    /// `force_zeros_for_empty_prompt`, true when omitted, as diffusers). Always false for sd-1_5.
    public let forceZerosForEmptyPrompt: Bool
    /// `scheduler/scheduler_config.json`; its `_class_name` is the default scheduler.
    public let schedulerConfig: SchedulerConfig

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

    /// Reads and checks the pipeline folder at `url`, without loading any weight.
    ///
    /// - Throws: `ModelFolderError`: no `model_index.json`, a pipeline class this runtime does
    ///   not run, a missing file, or an unreadable JSON file, each naming the path.
    public init(url: URL) throws {
        let indexURL = url.appendingPathComponent("model_index.json")
        guard FileManager.default.fileExists(atPath: indexURL.path) else { throw ModelFolderError.notAPipeline(url) }
        let index: ModelIndex = try decodeModelJSON(at: indexURL)
        guard let family = ModelFamily(pipelineClassName: index.className) else {
            throw ModelFolderError.unsupportedPipeline(url, className: index.className)
        }
        for path in Self.requiredFiles(for: family)
        where !FileManager.default.fileExists(atPath: url.appendingPathComponent(path).path) {
            throw ModelFolderError.incomplete(url, missing: path)
        }
        self.id = url.lastPathComponent
        self.url = url
        self.family = family
        // diffusers' SDXL pipelines default this to true when model_index.json omits it.
        forceZerosForEmptyPrompt = family == .sdxl && (index.forceZerosForEmptyPrompt ?? true)
        schedulerConfig = try decodeModelJSON(at: url.appendingPathComponent(Self.schedulerConfigPath))
    }

    /// The files a generation reads, relative to the folder: what resolving checks.
    public static func requiredFiles(for family: ModelFamily) -> [String] {
        var files = [
            schedulerConfigPath,
            "unet/config.json", "unet/diffusion_pytorch_model.safetensors",
            "vae/config.json", "vae/diffusion_pytorch_model.safetensors",
            "text_encoder/config.json", "text_encoder/model.safetensors",
            "tokenizer/vocab.json", "tokenizer/merges.txt",
        ]
        if family == .sdxl {
            files += [
                "text_encoder_2/config.json", "text_encoder_2/model.safetensors",
                "tokenizer_2/vocab.json", "tokenizer_2/merges.txt",
            ]
        }
        return files
    }
}

/// Why a folder is not a usable pipeline folder.
public enum ModelFolderError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The folder has no `model_index.json`.
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
            return "\(url.path) has no model_index.json: it is not a diffusers pipeline folder"
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
        return try JSONDecoder().decode(T.self, from: Data(contentsOf: url))
    } catch {
        throw ModelFolderError.unreadable(url, reason: "\(error)")
    }
}

/// The keys of `model_index.json` the runtime reads.
private struct ModelIndex: Decodable {
    let className: String
    let forceZerosForEmptyPrompt: Bool?

    enum CodingKeys: String, CodingKey {
        case className = "_class_name"
        case forceZerosForEmptyPrompt = "force_zeros_for_empty_prompt"
    }
}
