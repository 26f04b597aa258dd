import Foundation

/// One stored image's metadata: the JSON sidecar `<assets>/<id>.json` beside `<id>.png`.
///
/// Field names mirror the asset object of `jobs-and-assets.openapi.json` where it has one
/// (`id`, `kind`, `mimeType`, `createdAt`, `outputIndex`, `properties`, `metadata.parentId`,
/// `metadata.seed`, ...); `hidden` is the store's own flag (the API's `hide` on upload).
public struct Asset: Codable, Equatable, Sendable {
    /// What made the image.
    public enum Kind: String, Codable, Sendable {
        /// An image a generation produced.
        case image
        /// An image given to the runtime (`diffuse assets add`, or a request's data URL).
        case uploaded
        /// A preview of the predicted image after one denoising step (`intermediateImages`).
        case intermediate
    }

    /// The image's size.
    public struct Properties: Codable, Equatable, Sendable {
        public var width: Int
        public var height: Int

        public init(width: Int, height: Int) {
            self.width = width
            self.height = height
        }
    }

    /// `asset_` followed by URL-safe characters.
    public var id: String
    public var kind: Kind
    public var mimeType: String
    /// ISO 8601 with milliseconds, UTC (`2023-02-03T11:19:41.579Z`).
    public var createdAt: String
    /// Hidden assets are not listed (`hideResults`, `imageHide`), but can still be looked up.
    public var hidden: Bool
    /// The sample index within its generation, for generated images.
    public var outputIndex: Int?
    public var properties: Properties
    public var metadata: AssetMetadata
}

/// How an asset was made: the parameters of its generation (named as in the request), or
/// the upload's origin.
public struct AssetMetadata: Codable, Equatable, Sendable {
    /// `inference-controlnet-ip-adapter` for generated and intermediate images, `uploaded` for uploads.
    public var type: String?
    /// The asset this one derives from (`imageParentId` for uploaded request images).
    public var parentId: String?
    /// The file name an uploaded image had.
    public var name: String?
    public var modelId: String?
    /// The seed of this image's own generator, `(seed + outputIndex) mod 2^64`: a request with
    /// this seed and `numSamples` 1 makes the same image.
    public var seed: String?
    public var prompt: String?
    public var negativePrompt: String?
    public var modality: String?
    public var guidance: Double?
    public var numInferenceSteps: Int?
    public var scheduler: String?
    public var width: Int?
    public var height: Int?
    public var controlStart: Double?
    public var controlEnd: Double?
    public var ipAdapterType: String?
    public var ipAdapterScales: [Double]?
    /// For intermediate images: the denoising step (0-based) after which the preview was taken.
    public var step: Int?

    public init(type: String? = nil, parentId: String? = nil, name: String? = nil) {
        self.type = type
        self.parentId = parentId
        self.name = name
    }
}

/// The current time as the API writes dates: ISO 8601, UTC, milliseconds.
func timestamp(_ date: Date = Date()) -> String {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return formatter.string(from: date)
}
