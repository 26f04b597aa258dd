/// Where one input image of a request comes from, not yet decoded (decoding belongs to the
/// generation, which reports a bad image against `field`).
public struct ImageInput: Equatable, Codable, Sendable {
    public enum Source: Equatable, Codable, Sendable {
        /// A `data:image/...;base64,...` URL, as sent.
        case dataURL(String)
        /// An asset of the asset store, checked to exist when the request was resolved.
        case asset(id: String)
    }

    public var source: Source
    /// The request field that gave the image (`controlImage`, `ipAdapterImageIds`, ...).
    public var field: String

    public init(_ source: Source, field: String) {
        self.source = source
        self.field = field
    }

    /// The asset id when the image is an asset.
    public var assetId: String? {
        if case .asset(let id) = source { return id }
        return nil
    }
}
