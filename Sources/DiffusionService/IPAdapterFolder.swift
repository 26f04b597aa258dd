import Foundation

/// Which IP-Adapter a request uses (`ipAdapterType`).
public enum IPAdapterType: String, Codable, CaseIterable, Sendable {
    case style, character
}

/// An IP-Adapter folder, `ip-adapters/<family>/<type>/` (Docs/SPEC.md §1).
public struct IPAdapterFolder: Equatable, Sendable {
    public let type: IPAdapterType
    public let url: URL

    /// The original IP-Adapter layout: `image_proj.*` and `ip_adapter.<id>.to_k_ip/to_v_ip`.
    public var weights: URL { url.appendingPathComponent("ip-adapter.safetensors") }
    /// The CLIPVisionModelWithProjection folder.
    public var imageEncoder: URL { url.appendingPathComponent("image_encoder", isDirectory: true) }

    public static let requiredFiles = ["ip-adapter.safetensors", "image_encoder/config.json", "image_encoder/model.safetensors"]
}
