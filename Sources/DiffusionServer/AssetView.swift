import DiffusionService
import Foundation

/// An asset as the asset endpoints show it: the schema's asset object, filled from the asset
/// store's sidecar. Every asset here is a private PNG image; `url` serves its bytes.
struct AssetView: Encodable {
    struct Properties: Encodable {
        var size: Int
        var width: Int
        var height: Int
    }

    var id: String
    var url: String
    var mimeType: String
    var kind = "image"
    var source: String
    var privacy = "private"
    var status = "success"
    var ownerId = "local"
    var authorId = "local"
    var createdAt: String
    var updatedAt: String
    var editCapabilities: [String] = []
    var tags: [String] = []
    var collectionIds: [String] = []
    var properties: Properties
    var metadata: AssetMetadata
    var outputIndex: Int?

    init(_ asset: Asset, store: AssetStore, links: AssetLinks) {
        id = asset.id
        url = links.image(asset.id)
        mimeType = asset.mimeType
        var metadata = asset.metadata
        // The schema requires `metadata.type`; sidecars of uploads may leave it out.
        metadata.type = metadata.type ?? (asset.kind == .uploaded ? "uploaded" : "inference-controlnet-ip-adapter")
        source = metadata.type ?? "uploaded"
        self.metadata = metadata
        createdAt = asset.createdAt
        updatedAt = asset.createdAt
        let attributes = try? FileManager.default.attributesOfItem(atPath: store.imageURL(asset.id).path)
        properties = Properties(size: (attributes?[.size] as? NSNumber)?.intValue ?? 0, width: asset.properties.width, height: asset.properties.height)
        outputIndex = asset.outputIndex
    }
}

/// `{"asset": ...}`: the answer of `GET`, `POST` and `PUT` on one asset.
struct AssetResponse: Encodable {
    var asset: AssetView
}

/// `GET /assets`: one page, and the token of the next when there is one.
struct AssetListResponse: Encodable {
    var assets: [AssetView]
    var nextPaginationToken: String?
}
