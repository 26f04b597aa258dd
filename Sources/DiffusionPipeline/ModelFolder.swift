import DiffusionSchedulers
import Foundation

/// A diffusers pipeline folder of the models directory, checked complete (SPEC §1).
public struct ModelFolder: Equatable, Sendable {
    /// The folder's name under the models directory (the request's `modelId`).
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

    static let schedulerConfigPath = "scheduler/scheduler_config.json"

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

/// Which IP-Adapter a request uses (`ipAdapterType`).
public enum IPAdapterType: String, Codable, CaseIterable, Sendable {
    case style, character
}

/// An IP-Adapter folder, `ip-adapters/<family>/<type>/` (SPEC §1).
public struct IPAdapterFolder: Equatable, Sendable {
    public let type: IPAdapterType
    public let url: URL

    /// The original IP-Adapter layout: `image_proj.*` and `ip_adapter.<id>.to_k_ip/to_v_ip`.
    public var weights: URL { url.appendingPathComponent("ip-adapter.safetensors") }
    /// The CLIPVisionModelWithProjection folder.
    public var imageEncoder: URL { url.appendingPathComponent("image_encoder", isDirectory: true) }

    public static let requiredFiles = ["ip-adapter.safetensors", "image_encoder/config.json", "image_encoder/model.safetensors"]
}
