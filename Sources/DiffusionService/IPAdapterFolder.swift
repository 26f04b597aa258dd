import Foundation

/// Which IP-Adapter a request uses (`ipAdapterType`).
public enum IPAdapterType: String, Codable, CaseIterable, Sendable {
    case style, character
}

/// An IP-Adapter folder, `ip-adapters/<family>/<type>/` (Docs/SPEC.md §1): the adapter's weights
/// (`ip-adapter.safetensors`, or the file under its published name) and its image encoder (its own
/// `image_encoder/`, or the family's shared one; `PublishedFiles` finds them).
public struct IPAdapterFolder: Equatable, Sendable {
    public let type: IPAdapterType
    public let url: URL

    /// The plain layout's files (what the test fixtures write).
    public static let requiredFiles = ["ip-adapter.safetensors", "image_encoder/config.json", "image_encoder/model.safetensors"]
}
