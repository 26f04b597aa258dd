import DiffusionCore
import DiffusionFormats
import DiffusionService
import Foundation
import Hummingbird

/// The asset endpoints of `jobs-and-assets.openapi.json`: upload, list, details, rename,
/// delete, and the image bytes that `url` points at. Every asset is kept as stored, so
/// `originalAssets` changes nothing.
extension APIRoutes {
    private var store: AssetStore { service.assets }

    /// `POST /assets` `{"image": "data:image/png;base64,...", "name": "...", "hide": false, "parentId": "..."}`.
    func uploadAsset(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        struct Upload: Decodable {
            var image: String?
            var canvas: String?
            var name: String?
            var hide: Bool?
            var parentId: String?
        }
        let upload: Upload = try decode(try await body(of: request))
        guard upload.canvas == nil else { throw GenerationError.badRequest("canvas assets are not supported", field: "canvas") }
        guard let name = upload.name, !name.isEmpty else { throw GenerationError.badRequest("name is required", field: "name") }
        guard let image = upload.image else { throw GenerationError.badRequest("image is required (a data URL)", field: "image") }
        let asset = try await offload { [store] in
            let decoded: RGBImage
            do {
                decoded = try DataURL.decodeImage(image)
            } catch {
                throw GenerationError(error, field: "image")
            }
            return try store.add(decoded, kind: .uploaded, metadata: AssetMetadata(type: "uploaded", parentId: upload.parentId, name: name),
                                 hidden: upload.hide ?? false)
        }
        return try JSONResponse.make(AssetResponse(asset: AssetView(asset, store: store, links: Self.links(request, configuration))))
    }

    /// `GET /assets?pageSize=50&paginationToken=...&sortDirection=asc|desc`: the visible assets,
    /// oldest first unless `desc`.
    func listAssets(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        let pageSize = try query.get("pageSize").map { value in
            guard let size = Int(value), (1...100).contains(size) else {
                throw GenerationError.badRequest("pageSize must be an integer from 1 to 100", field: "pageSize")
            }
            return size
        } ?? 50
        // The token is the offset of the page in the listing, as the previous page gave it.
        let offset = try query.get("paginationToken").map { value in
            guard let offset = Int(value), offset >= 0 else {
                throw GenerationError.badRequest("paginationToken is not one this server gave", field: "paginationToken")
            }
            return offset
        } ?? 0
        let descending: Bool
        switch query.get("sortDirection") {
        case nil, "asc": descending = false
        case "desc": descending = true
        default: throw GenerationError.badRequest("sortDirection must be asc or desc", field: "sortDirection")
        }
        var assets = try await offload { [store] in try store.list() }
        if descending { assets.reverse() }
        let page = assets.dropFirst(offset).prefix(pageSize)
        let links = Self.links(request, configuration)
        let next = offset + page.count < assets.count ? String(offset + page.count) : nil
        return try JSONResponse.make(AssetListResponse(
            assets: page.map { AssetView($0, store: store, links: links) }, nextPaginationToken: next))
    }

    /// `GET /assets/{assetId}`: the details; hidden assets too (they are only left out of lists).
    func asset(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let id = try context.parameters.require("assetId")
        let asset = try await offload { [store] in try store.asset(id, field: "assetId") }
        return try JSONResponse.make(AssetResponse(asset: AssetView(asset, store: store, links: Self.links(request, configuration))))
    }

    /// `PUT /assets/{assetId}` `{"name": "..."}`: renames; the canvas fields do not apply to images.
    func updateAsset(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        struct Update: Decodable {
            var name: String?
            var description: String?
            var canvas: String?
            var thumbnail: String?
            var lockId: String?
        }
        let id = try context.parameters.require("assetId")
        let update: Update = try decode(try await body(of: request))
        for (field, value) in [("description", update.description), ("canvas", update.canvas), ("thumbnail", update.thumbnail),
                               ("lockId", update.lockId)] where value != nil {
            throw GenerationError.badRequest("\(field) cannot be changed: only name can", field: field)
        }
        guard let name = update.name, !name.isEmpty else { throw GenerationError.badRequest("name is required", field: "name") }
        let asset = try await offload { [store] in try store.rename(id, to: name) }
        return try JSONResponse.make(AssetResponse(asset: AssetView(asset, store: store, links: Self.links(request, configuration))))
    }

    /// `DELETE /assets` `{"assetIds": [...]}`: removes each (one that is not there is no error).
    func deleteAssets(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        struct Deletion: Decodable {
            var assetIds: [String]?
        }
        let deletion: Deletion = try decode(try await body(of: request))
        guard let ids = deletion.assetIds else { throw GenerationError.badRequest("assetIds is required", field: "assetIds") }
        if let bad = ids.first(where: { !AssetStore.isValidId($0) }) {
            throw GenerationError.badRequest("'\(bad)' is not an asset id", field: "assetIds")
        }
        try await offload { [store] in ids.forEach(store.remove) }
        return try JSONResponse.make([String: String]())
    }

    /// The image bytes, with the asset's content type; not cached, as a job's previews are
    /// replaced under the same id at every step.
    func assetImage(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let id = try context.parameters.require("assetId")
        let (asset, data) = try await offload { [store] in (try store.asset(id, field: "assetId"), try store.imageData(id, field: "assetId")) }
        return Response(
            status: .ok, headers: [.contentType: asset.mimeType, .cacheControl: "private, no-cache"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// A JSON body as `T`, or a 400 saying what is wrong with it.
    func decode<T: Decodable>(_ data: Data) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            let field = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw GenerationError.badRequest("\(field) has the wrong type", field: field)
        } catch {
            throw GenerationError.badRequest("the body is not a JSON object")
        }
    }
}
