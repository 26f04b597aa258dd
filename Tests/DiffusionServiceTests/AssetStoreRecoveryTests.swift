import DiffusionCore
import DiffusionFormats
import DiffusionService
import Foundation
import Testing

/// The assets folder after failures (Docs/RELIABILITY.md, "The assets folder"): batches all or
/// nothing, what a killed writer leaves at each step carried out or removed by `recover()`,
/// live writers' files left alone, planted symbolic links and corrupt sidecars not served.
@Suite struct AssetStoreRecoveryTests {
    private let folder: TemporaryFolder
    private let store: AssetStore

    init() throws {
        folder = try TemporaryFolder()
        store = AssetStore(url: folder.url.appendingPathComponent("assets"))
        try FileManager.default.createDirectory(at: store.url, withIntermediateDirectories: true)
    }

    private let image = RGBImage(width: 3, height: 2, pixels: (0..<18).map { UInt8($0 * 13) })

    private func file(_ name: String) -> URL { store.url.appendingPathComponent(name) }

    private func write(_ data: Data, _ name: String) throws { try data.write(to: file(name)) }

    /// A sidecar as the store writes it, for an asset never added.
    private func sidecar(_ id: String) throws -> Data {
        let asset = try AssetStore(url: folder.url.appendingPathComponent("scratch")).add(image, kind: .image, id: id)
        return try JSONEncoder().encode(asset)
    }

    @Test func batchIsAllOrNothing() throws {
        let good = AssetStore.NewAsset(image, kind: .image)
        let bad = AssetStore.NewAsset(RGBImage(width: 0, height: 0), kind: .image)
        #expect(throws: (any Error).self) { try store.add([good, bad]) }
        #expect(folder.contents(of: "assets").isEmpty)
        let stored = try store.add([good, AssetStore.NewAsset(image, kind: .uploaded, hidden: true)])
        #expect(folder.contents(of: "assets") == stored.flatMap { ["\($0.id).json", "\($0.id).png"] }.sorted())
        #expect(try store.list().map(\.id) == [good.id])
    }

    /// Killed before its commit record: temporary PNGs with bytes in them, unlocked. Removed,
    /// and nothing listed.
    @Test func temporaryFilesOfADeadWriterAreRemoved() throws {
        try write(PNG.encode(image), ".asset_a.png.\(UUID().uuidString).tmp")
        try write(Data("{".utf8), ".asset_a.json.\(UUID().uuidString).tmp")
        store.recover()
        #expect(folder.contents(of: "assets").isEmpty)
    }

    /// A live writer's files (locked, in this process as in any other) stay, and so does an
    /// empty unlocked one younger than the grace period (its writer may not have locked it yet).
    @Test func liveWritersFilesStay() throws {
        let staged = try AtomicFile.stage(to: file("asset_live.png"), makeError: { GenerationError.internalError($0) }) { write in
            try PNG.encode(image).withUnsafeBytes { try write($0) }
        }
        defer { staged.close() }
        let fresh = ".asset_new.png.\(UUID().uuidString).tmp"
        try write(Data(), fresh)
        store.recover()
        #expect(folder.contents(of: "assets") == [fresh, staged.temporary.lastPathComponent].sorted())
        // An old empty one is a writer that died between creating and locking it.
        let old = Date(timeIntervalSinceNow: -AbandonedFile.emptyFileGrace - 5)
        try FileManager.default.setAttributes([.modificationDate: old], ofItemAtPath: file(fresh).path)
        store.recover()
        #expect(folder.contents(of: "assets") == [staged.temporary.lastPathComponent])
    }

    /// Killed after its commit record, with one PNG renamed and its sidecar written and the
    /// other still temporary: the batch is finished, both listed, no debris.
    @Test func committedBatchOfADeadWriterIsFinished() throws {
        let done = try sidecar("asset_done"), pending = try sidecar("asset_pending")
        try write(PNG.encode(image), "asset_done.png")
        try write(done, "asset_done.json")
        let temporary = ".asset_pending.png.\(UUID().uuidString).tmp"
        try write(PNG.encode(image), temporary)
        let record = "{\"assets\": [\(String(decoding: done, as: UTF8.self)), \(String(decoding: pending, as: UTF8.self))], "
            + "\"images\": [\".asset_done.png.0.tmp\", \"\(temporary)\"]}"
        try write(Data(record.utf8), ".commit-\(UUID().uuidString).json")
        store.recover()
        #expect(folder.contents(of: "assets") == ["asset_done.json", "asset_done.png", "asset_pending.json", "asset_pending.png"])
        #expect(Set(try store.list().map(\.id)) == ["asset_done", "asset_pending"])
        #expect(try store.image("asset_pending") == image)
    }

    /// A commit record whose writer lives (locked) is its writer's to finish.
    @Test func liveCommitRecordStays() throws {
        let staged = try AtomicFile.stage(to: file(".commit-live.json"), makeError: { GenerationError.internalError($0) }) { write in
            try Data(#"{"assets": [], "images": []}"#.utf8).withUnsafeBytes { try write($0) }
        }
        defer { staged.close() }
        try staged.commit()
        store.recover()
        #expect(folder.contents(of: "assets") == [".commit-live.json"])
    }

    /// A `remove` cut between the sidecar and the PNG leaves a PNG no sidecar names.
    @Test func orphanPNGIsRemoved() throws {
        let kept = try store.add(image, kind: .image)
        try write(PNG.encode(image), "asset_orphan.png")
        try write(Data("notes".utf8), "notes.png")
        store.recover()
        #expect(folder.contents(of: "assets") == ["\(kept.id).json", "\(kept.id).png", "notes.png"])
    }

    /// A symbolic link planted in the folder is not followed: the asset it would make is not
    /// found, not listed (with a warning), and its target is never read.
    @Test func symbolicLinksAreNotServed() throws {
        let outside = folder.url.appendingPathComponent("secret.png")
        try PNG.encode(image).write(to: outside)
        try write(sidecar("asset_png"), "asset_png.json")
        try FileManager.default.createSymbolicLink(at: file("asset_png.png"), withDestinationURL: outside)
        let real = try store.add(image, kind: .image)
        try FileManager.default.createSymbolicLink(at: file("asset_json.json"), withDestinationURL: store.url.appendingPathComponent("\(real.id).json"))
        try FileManager.default.createSymbolicLink(at: file("asset_json.png"), withDestinationURL: outside)

        #expect(error { try store.imageData("asset_png") }?.status == 404)
        #expect(error { try store.asset("asset_json") }?.status == 404)
        #expect(error { try store.imageData("asset_json") }?.status == 404)
        var warnings: [String] = []
        #expect(try store.list { warnings.append($0) }.map(\.id) == [real.id])
        #expect(warnings.count == 2 && warnings.contains { $0.contains("asset_png") } && warnings.contains { $0.contains("asset_json") },
                "\(warnings)")
    }

    /// One corrupt sidecar is a warning naming it; the other assets are still listed, and
    /// looking it up is a 500 naming its file, not the folder.
    @Test func corruptSidecarIsSkippedWithAWarning() throws {
        let good = try store.add(image, kind: .image)
        let bad = try store.add(image, kind: .image)
        try write(Data(#"{"id": "asset_x", "kind": 7"#.utf8), "\(bad.id).json")
        var warnings: [String] = []
        #expect(try store.list { warnings.append($0) }.map(\.id) == [good.id])
        #expect(warnings.count == 1 && warnings[0].contains("asset '\(bad.id)' is not listed"), "\(warnings)")
        let lookup = error { try store.asset(bad.id) }
        #expect(lookup?.status == 500 && lookup?.message.contains("\(bad.id).json") == true, "\(String(describing: lookup))")
        #expect(lookup?.message.contains(store.url.path) == false)
    }
}

/// A read-only assets folder fails a job before it runs, naming the cause.
@Suite(.enabled(if: getuid() == 0, "mounts a read-only tmpfs, which needs root (CI runs as root)"))
struct ReadOnlyAssetsTests {
    @Test func readOnlyFolderFailsBeforeTheFirstStep() throws {
        let folder = try TemporaryFolder()
        let assets = folder.url.appendingPathComponent("assets")
        try FileManager.default.createDirectory(at: assets, withIntermediateDirectories: true)
        try #require(run("/bin/mount", ["-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", assets.path]) == 0)
        defer { _ = run("/bin/umount", [assets.path]) }
        let service = GenerationService(models: JobOutcomeTests.root.appendingPathComponent("Tests/Fixtures/Weights"), assets: assets)
        var steps = 0
        let error = #expect(throws: GenerationError.self) {
            try service.generate(try PromptSyntaxTests().request("a red house")) { _ in
                steps += 1
                return .proceed
            }
        }
        #expect(steps == 0)
        #expect(error?.status == 500 && error?.message.contains("the assets folder cannot be written") == true
            && error?.message.contains("Read-only file system") == true, "\(String(describing: error))")
    }
}

/// Runs `path` with `arguments` and returns its exit status (-1 when it cannot start).
private func run(_ path: String, _ arguments: [String]) -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    process.standardError = FileHandle.nullDevice
    guard (try? process.run()) != nil else { return -1 }
    process.waitUntilExit()
    return process.terminationStatus
}
