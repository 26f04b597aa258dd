import DiffusionCore
import DiffusionFormats
import Foundation

/// A folder of images (Docs/SPEC.md §2, §5): each asset is `<folder>/<id>.png` plus its metadata,
/// `<folder>/<id>.json`.
///
/// The sidecar is what makes an asset exist. A batch of assets (a job's outputs and inputs) is
/// written all or nothing (`add(_:)`, Docs/RELIABILITY.md): every PNG flushed under a temporary
/// name, then a commit record, then the PNGs renamed and the sidecars written; `recover()`
/// finishes a batch whose writer died after its commit record and removes what one that died
/// before it left. Files are only read when they are regular files, never through a symbolic
/// link planted in the folder.
public struct AssetStore: Sendable {
    public let url: URL

    /// A store over `url`; the folder is created by the first write. Call `recover()` when a
    /// process starts using the folder.
    public init(url: URL) {
        self.url = url
    }

    /// An image to store, with what its asset records.
    public struct NewAsset: Sendable {
        public var image: RGBImage
        public var kind: Asset.Kind
        public var metadata: AssetMetadata
        public var hidden: Bool
        public var outputIndex: Int?
        /// The asset's id: a new random one by default. A given id that exists is replaced, so a
        /// job that stores its outputs under ids derived from its own (`jobAssetId`) stores them
        /// once however often it runs.
        public var id: String

        public init(
            _ image: RGBImage, kind: Asset.Kind, metadata: AssetMetadata = AssetMetadata(), hidden: Bool = false,
            outputIndex: Int? = nil, id: String? = nil
        ) {
            self.image = image
            self.kind = kind
            self.metadata = metadata
            self.hidden = hidden
            self.outputIndex = outputIndex
            self.id = id ?? AssetStore.makeId()
        }
    }

    /// Stores `image` as a new asset and returns its metadata (`add(_:)` of one `NewAsset`).
    ///
    /// - Throws: the encoder's or file system's error; nothing is left behind then.
    @discardableResult
    public func add(
        _ image: RGBImage, kind: Asset.Kind, metadata: AssetMetadata = AssetMetadata(),
        hidden: Bool = false, outputIndex: Int? = nil, id: String? = nil
    ) throws -> Asset {
        try add([NewAsset(image, kind: kind, metadata: metadata, hidden: hidden, outputIndex: outputIndex, id: id)])[0]
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

    /// Writes the sidecar of `asset` in place, atomically.
    func writeSidecar(_ asset: Asset) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try writeAtomically(encoder.encode(asset), to: sidecarURL(asset.id))
    }

    /// Writes `data` to `file` through a temporary file renamed into place, flushed to the disk.
    func writeAtomically(_ data: Data, to file: URL) throws {
        let staged = try AtomicFile.stage(to: file, makeError: { GenerationError.internalError($0) }) { write in
            try data.withUnsafeBytes { try write($0) }
        }
        defer { staged.close() }
        try staged.commit()
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
    ///   file system is touched), 404 when there is no such asset (or its sidecar is not a
    ///   regular file: a symbolic link is not followed), 500 for an unreadable sidecar.
    public func asset(_ id: String, field: String? = nil) throws -> Asset {
        guard Self.isValidId(id) else {
            throw GenerationError.badRequest("'\(id)' is not an asset id (asset_ followed by letters, digits, '-' or '_')",
                                             field: field)
        }
        let data = try read(sidecarURL(id), of: id, field: field)
        do {
            return try JSONDecoder().decode(Asset.self, from: data)
        } catch {
            throw GenerationError.internalError("the metadata of asset '\(id)' (\(id).json) is not valid: \(describeDecodingError(error))",
                                                field: field)
        }
    }

    /// The PNG bytes of asset `id`; throws as `asset(_:field:)`.
    public func imageData(_ id: String, field: String? = nil) throws -> Data {
        _ = try asset(id, field: field)
        return try read(imageURL(id), of: id, field: field)
    }

    /// The bytes of one of asset `id`'s files: 404 when it is missing or not a regular file
    /// (a symbolic link, a FIFO), 500 naming the file (not the folder) when it cannot be read.
    private func read(_ file: URL, of id: String, field: String?) throws -> Data {
        guard Self.isRegularFile(file) else {
            throw GenerationError.notFound("asset '\(id)' not found in \(url.path)", field: field)
        }
        do {
            return try RegularFile.read(file, maximumSize: Self.maximumFileSize, followingSymlinks: false)
        } catch let error as FileReadError {
            throw GenerationError.internalError("cannot read \(file.lastPathComponent): \(error.reason)", field: field)
        }
    }

    /// The decoded image of asset `id`; throws as `asset(_:field:)`, or the decoder's error.
    public func image(_ id: String, field: String? = nil) throws -> RGBImage {
        try PNG.decode(imageData(id, field: field))
    }

    /// The visible (not hidden) assets, oldest first. An asset that cannot be read (a corrupt
    /// sidecar, a symbolic link in place of a file, its PNG missing) is left out and named to
    /// `warning`, so one damaged file does not hide the others.
    public func list(warning: (String) -> Void = AssetStore.printWarning) throws -> [Asset] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
        let ids = names.filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }.filter(Self.isValidId)
        return ids.compactMap { id -> Asset? in
            do {
                let asset = try asset(id)
                guard Self.isRegularFile(imageURL(id)) else {
                    throw GenerationError.notFound("its image \(id).png is missing or not a regular file")
                }
                return asset
            } catch {
                warning("asset '\(id)' is not listed: \(GenerationError(error).message)")
                return nil
            }
        }
        .filter { !$0.hidden }
        .sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
    }

    /// Writes `message` to the standard error as a warning line.
    public static func printWarning(_ message: String) {
        FileHandle.standardError.write(Data("warning: \(message)\n".utf8))
    }

    /// Sidecars and PNGs are read whole; no asset the runtime writes comes near this.
    static let maximumFileSize = 1 << 30

    /// Whether `file` is a regular file itself (not a symbolic link to one).
    static func isRegularFile(_ file: URL) -> Bool {
        var status = stat()
        return lstat(file.path, &status) == 0 && status.st_mode & S_IFMT == S_IFREG
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
