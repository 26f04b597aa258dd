import DiffusionCore
import DiffusionFormats
import Foundation

/// All-or-nothing batches and the recovery of what killed writers left (Docs/RELIABILITY.md,
/// "The assets folder").
///
/// A batch is written in four steps: (1) each PNG is encoded and flushed to a temporary file,
/// locked while its writer lives; (2) the commit record `.commit-<uuid>.json`, naming each
/// asset's sidecar and temporary PNG, is written and renamed into place: the commit point; (3)
/// the PNGs are renamed to `<id>.png` and the sidecars written; (4) the record is removed. A
/// writer killed before (2) leaves only temporary files, which `recover()` removes; one killed
/// after leaves a record, which `recover()` carries out.
extension AssetStore {
    /// What a batch commits: its assets' sidecars and, for each, its temporary PNG's file name.
    struct CommitRecord: Codable {
        var assets: [Asset]
        var images: [String]
    }

    static let commitPrefix = ".commit-"

    /// Stores `batch` as assets, all or none, and returns their metadata in the same order.
    ///
    /// - Throws: the encoder's or file system's error; no asset of the batch is stored then
    ///   (one whose id existed before is removed: its job failed).
    @discardableResult
    public func add(_ batch: [NewAsset]) throws -> [Asset] {
        let assets = batch.map { new in
            Asset(
                id: new.id, kind: new.kind, mimeType: "image/png", createdAt: timestamp(), hidden: new.hidden,
                outputIndex: new.outputIndex, properties: Asset.Properties(width: new.image.width, height: new.image.height),
                metadata: new.metadata)
        }
        guard !batch.isEmpty else { return [] }
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        let images = try zip(batch, assets).map { new, asset in
            let data = try PNG.encode(new.image)
            return try AtomicFile.stage(to: imageURL(asset.id), makeError: { ImageEncodingError(format: "PNG", message: $0) }) { write in
                try data.withUnsafeBytes { try write($0) }
            }
        }
        defer { images.forEach { $0.close() } }
        let record = CommitRecord(assets: assets, images: images.map(\.temporary.lastPathComponent))
        let recordURL = url.appendingPathComponent("\(Self.commitPrefix)\(UUID().uuidString).json")
        let journal = try AtomicFile.stage(to: recordURL, makeError: { GenerationError.internalError($0) }) { write in
            try JSONEncoder().encode(record).withUnsafeBytes { try write($0) }
        }
        // Closed (its lock released) only after the record is gone, so no recovery carries out
        // the record of a writer still at work.
        defer { journal.close() }
        try journal.commit()
        do {
            for (image, asset) in zip(images, assets) {
                try image.commit()
                try writeSidecar(asset)
            }
        } catch {
            assets.forEach { remove($0.id) }
            unlink(recordURL.path)
            throw error
        }
        unlink(recordURL.path)
        return assets
    }

    /// Checks that assets can be written here (the folder is created if missing; `access(W_OK)`,
    /// which sees permissions and read-only file systems, leaves no file behind if the process
    /// is killed), so that a job on a read-only folder fails before it runs, not after.
    ///
    /// - Throws: `GenerationError` 500 saying the assets folder cannot be written, and why.
    public func checkWritable() throws {
        let reason: String
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
            guard access(url.path, W_OK) != 0 else { return }
            reason = String(cString: strerror(errno))
        } catch {
            reason = (error as NSError).localizedFailureReason ?? "it cannot be created"
        }
        throw GenerationError.internalError("the assets folder cannot be written: \(reason)")
    }

    /// Carries out or removes what writers killed in this folder left, leaving what live
    /// writers (in this or other processes) are doing: call it when a process starts using the
    /// folder. Commit records whose writer died are carried out (their assets become listed);
    /// then temporary files whose writer died and no record names are removed, and PNGs without
    /// a sidecar that no record names (a `remove` cut short). Best effort: a file that cannot be
    /// removed stays, as it would without recovery.
    public func recover() {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
        for name in names where isCommitRecord(name) {
            guard let record = AbandonedFile(url.appendingPathComponent(name)) else { continue }
            if let commit = try? readRecord(name) { complete(commit) }
            record.remove()
        }
        // Locked first, then the records read: a writer that wrote its record after our first
        // look held its temporary files locked until then.
        let abandoned = names.filter(AtomicFile.isTemporary).compactMap { AbandonedFile(url.appendingPathComponent($0)) }
        let named = namedInRecords()
        for file in abandoned {
            if named.images.contains(file.url.lastPathComponent) { file.release() } else { file.remove() }
        }
        // A PNG without its sidecar in the first look and in no record read since: if a writer
        // was between the two, its sidecar exists by now.
        let orphans = names.filter { $0.hasSuffix(".png") }.map { String($0.dropLast(4)) }
            .filter { Self.isValidId($0) && !names.contains("\($0).json") }
        for id in orphans where !named.ids.contains(id) && !FileManager.default.fileExists(atPath: sidecarURL(id).path) {
            unlink(imageURL(id).path)
        }
    }

    /// Finishes a batch whose writer died after its commit point: each PNG still under its
    /// temporary name is renamed, and each asset whose PNG is in place gets its sidecar.
    private func complete(_ commit: CommitRecord) {
        for (asset, image) in zip(commit.assets, commit.images) where Self.isValidId(asset.id) && AtomicFile.isTemporary(image) {
            let temporary = url.appendingPathComponent(image)
            if Self.isRegularFile(temporary) { renameFile(temporary, to: imageURL(asset.id)) }
            if Self.isRegularFile(imageURL(asset.id)) { try? writeSidecar(asset) }
        }
    }

    /// The asset ids and temporary PNGs that the commit records now in the folder name.
    private func namedInRecords() -> (ids: Set<String>, images: Set<String>) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
        let records = names.filter(isCommitRecord).compactMap { try? readRecord($0) }
        return (Set(records.flatMap { $0.assets.map(\.id) }), Set(records.flatMap(\.images)))
    }

    private func isCommitRecord(_ name: String) -> Bool {
        name.hasPrefix(Self.commitPrefix) && name.hasSuffix(".json")
    }

    private func readRecord(_ name: String) throws -> CommitRecord {
        let data = try RegularFile.read(url.appendingPathComponent(name), maximumSize: Self.maximumFileSize, followingSymlinks: false)
        return try JSONDecoder().decode(CommitRecord.self, from: data)
    }
}

/// POSIX `rename`, which `AssetStore.rename(_:to:)` hides inside the type.
private func renameFile(_ source: URL, to destination: URL) {
    rename(source.path, destination.path)
}
