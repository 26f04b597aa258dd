import DiffusionCore
import DiffusionFormats
import Foundation

/// A folder of images (Docs/SPEC.md §2, §5): each asset is `<folder>/<id>.png` plus its metadata,
/// `<folder>/<id>.json`.
///
/// Both files are written atomically (a temporary file in the folder, then a rename), the
/// PNG first: the sidecar is what makes an asset exist, so an interrupted write leaves at
/// most an orphan PNG that no lookup or listing sees, never a half-written asset.
public struct AssetStore: Sendable {
    public let url: URL

    /// A store over `url`; the folder is created by the first write.
    public init(url: URL) {
        self.url = url
    }

    /// Stores `image` as a new asset and returns its metadata.
    ///
    /// - Parameter id: the asset's id; a new random one by default. A given id that exists is
    ///   replaced, so a job that stores its outputs under ids derived from its own
    ///   (`jobAssetId`) stores them once however often it runs.
    /// - Throws: the encoder's or file system's error; nothing is left behind then.
    @discardableResult
    public func add(
        _ image: RGBImage, kind: Asset.Kind, metadata: AssetMetadata = AssetMetadata(),
        hidden: Bool = false, outputIndex: Int? = nil, id: String? = nil
    ) throws -> Asset {
        let asset = Asset(
            id: id ?? Self.makeId(), kind: kind, mimeType: "image/png", createdAt: timestamp(), hidden: hidden,
            outputIndex: outputIndex, properties: Asset.Properties(width: image.width, height: image.height),
            metadata: metadata)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        try PNG.write(image, to: imageURL(asset.id))
        do {
            try writeSidecar(asset)
        } catch {
            try? FileManager.default.removeItem(at: imageURL(asset.id))
            throw error
        }
        return asset
    }

    /// Gives asset `id` the name `name` (its `metadata.name`) and returns it.
    ///
    /// - Throws: as `asset(_:field:)`, or the file system's error (the asset is unchanged then).
    @discardableResult
    public func rename(_ id: String, to name: String) throws -> Asset {
        var asset = try asset(id)
        asset.metadata.name = name
        try writeSidecar(asset)
        return asset
    }

    private func writeSidecar(_ asset: Asset) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(asset).write(to: sidecarURL(asset.id), options: .atomic)
    }

    /// Removes asset `id` (its sidecar first, so it stops being listed before its PNG goes);
    /// an asset that is not there is no error.
    public func remove(_ id: String) {
        guard Self.isValidId(id) else { return }
        try? FileManager.default.removeItem(at: sidecarURL(id))
        try? FileManager.default.removeItem(at: imageURL(id))
    }

    /// The asset `id`.
    ///
    /// - Throws: `GenerationError` 400 naming `field` for a malformed id (checked before the
    ///   file system is touched), 404 when there is no such asset, 500 for an unreadable sidecar.
    public func asset(_ id: String, field: String? = nil) throws -> Asset {
        guard Self.isValidId(id) else {
            throw GenerationError.badRequest("'\(id)' is not an asset id (asset_ followed by letters, digits, '-' or '_')",
                                             field: field)
        }
        guard FileManager.default.fileExists(atPath: sidecarURL(id).path) else {
            throw GenerationError.notFound("asset '\(id)' not found in \(url.path)", field: field)
        }
        return try decodeJSON(at: sidecarURL(id))
    }

    /// The PNG bytes of asset `id`; throws as `asset(_:field:)`.
    public func imageData(_ id: String, field: String? = nil) throws -> Data {
        _ = try asset(id, field: field)
        do {
            return try Data(contentsOf: imageURL(id))
        } catch {
            throw GenerationError.internalError("cannot read \(imageURL(id).path): \(error)", field: field)
        }
    }

    /// The decoded image of asset `id`; throws as `asset(_:field:)`, or the decoder's error.
    public func image(_ id: String, field: String? = nil) throws -> RGBImage {
        try PNG.decode(imageData(id, field: field))
    }

    /// The visible (not hidden) assets, oldest first.
    public func list() throws -> [Asset] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
        let ids = names.filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }.filter(Self.isValidId)
        return try ids.map { try asset($0) }
            .filter { !$0.hidden }
            .sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
    }

    /// Where the PNG of asset `id` is (whether or not it exists).
    public func imageURL(_ id: String) -> URL { url.appendingPathComponent("\(id).png") }

    func sidecarURL(_ id: String) -> URL { url.appendingPathComponent("\(id).json") }

    static let idPrefix = "asset_"

    /// A new random id: `asset_` and 22 URL-safe characters from the system's secure generator.
    public static func makeId() -> String { randomId(prefix: idPrefix) }

    /// What a job stores: its output images and each sample's latest preview.
    public enum JobAssetRole: String, Sendable {
        case output = "o", preview = "p"
    }

    /// The id of the `index`th asset of `role` that job `jobId` stores: `asset_<job suffix>-o0`.
    /// The same job always names the same asset, so a job run twice (its worker lost, the job
    /// claimed again) writes its assets once.
    public static func jobAssetId(jobId: String, role: JobAssetRole, index: Int) -> String {
        let suffix = jobId.split(separator: "_", maxSplits: 1).last.map(String.init) ?? jobId
        return "\(idPrefix)\(suffix)-\(role.rawValue)\(index)"
    }

    /// Whether `id` is `asset_` followed by 1 to 64 URL-safe characters, hence a safe file name.
    public static func isValidId(_ id: String) -> Bool {
        guard id.hasPrefix(idPrefix) else { return false }
        let suffix = id.dropFirst(idPrefix.count)
        return (1...64).contains(suffix.count) && suffix.allSatisfy { $0.isASCII && randomIdAlphabet.contains($0) }
    }
}
