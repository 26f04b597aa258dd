import DiffusionCore
import DiffusionPipeline
import DiffusionService
import Foundation
import Testing

/// `AssetStore`: ids, PNG + sidecar round trip, atomic writes, hidden assets.
@Suite struct AssetStoreTests {
    private let folder: TemporaryFolder
    private let store: AssetStore

    init() throws {
        folder = try TemporaryFolder()
        store = AssetStore(url: folder.url.appendingPathComponent("assets"))
    }

    /// A 3x2 image with distinct bytes, so a round trip that swaps or drops any fails.
    private let image = RGBImage(width: 3, height: 2, pixels: (0..<18).map { UInt8($0 * 13) })

    @Test func idsAreAssetPrefixedURLSafeAndRandom() {
        let ids = (0..<1000).map { _ in AssetStore.makeId() }
        #expect(Set(ids).count == 1000)
        let alphabet = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        for id in ids {
            #expect(id.hasPrefix("asset_") && id.count == 28)
            #expect(id.dropFirst(6).allSatisfy { alphabet.contains($0) })
            #expect(AssetStore.isValidId(id))
        }
    }

    @Test(arguments: [
        ("asset_GTrL3mq4SXWyMxkOHRxlpw", true), ("asset_a", true), ("asset_-_", true),
        ("asset_" + String(repeating: "a", count: 64), true), ("asset_" + String(repeating: "a", count: 65), false),
        ("asset_", false), ("asset", false), ("model_abc", false), ("asset_../x", false), ("asset_a/b", false),
        ("asset_a\\b", false), ("asset_a.png", false), ("asset_é", false), ("asset_a b", false), ("", false),
        ("../asset_a", false), ("ASSET_a", false),
    ])
    func idValidation(_ id: String, _ valid: Bool) {
        #expect(AssetStore.isValidId(id) == valid)
    }

    @Test func roundTrip() throws {
        var metadata = AssetMetadata(type: "inference-controlnet-ip-adapter", parentId: "asset_parent")
        metadata.seed = "43"
        metadata.prompt = "a cat"
        metadata.guidance = 7.5
        let asset = try store.add(image, kind: .image, metadata: metadata, outputIndex: 1)
        #expect(asset.kind == .image && asset.mimeType == "image/png" && asset.outputIndex == 1 && !asset.hidden)
        #expect(asset.properties == Asset.Properties(width: 3, height: 2))
        #expect(try store.asset(asset.id) == asset)
        #expect(try store.image(asset.id) == image)
        #expect(try store.imageData(asset.id).prefix(8) == Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
        #expect(store.imageURL(asset.id).lastPathComponent == "\(asset.id).png")
        // ISO 8601 with milliseconds, as the API writes dates.
        #expect(asset.createdAt.range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"#, options: .regularExpression) != nil)
    }

    /// A generated image records the parameters and its own seed: with `numSamples` 1 that
    /// seed makes the same image.
    @Test func generatedImageMetadata() throws {
        let environment = try TestEnvironment.shared()
        let request = try environment.resolve(adding: #""seed": "18446744073709551615", "guidance": 3, "modality": "character:0.5""#)
        let metadata = AssetMetadata(request: request, sample: 2, step: 7, parentId: environment.controlAsset)
        #expect(metadata.seed == "1" && metadata.step == 7 && metadata.modelId == "sd15")
        #expect(metadata.parentId == environment.controlAsset)
        #expect(metadata.type == "inference-controlnet-ip-adapter" && metadata.modality == "depth:0.5,pose:0.5")
        #expect(metadata.guidance == 3 && metadata.numInferenceSteps == 30 && metadata.scheduler == "PNDMScheduler")
        #expect(metadata.width == 512 && metadata.ipAdapterScales == [0.9] && metadata.ipAdapterType == "style")
        let asset = try store.add(image, kind: .intermediate, metadata: metadata, hidden: true, outputIndex: 2)
        #expect(try store.asset(asset.id).metadata == metadata)
    }

    @Test func sidecarMirrorsTheAPIsAssetFields() throws {
        let asset = try store.add(image, kind: .uploaded, metadata: AssetMetadata(type: "uploaded", parentId: "asset_p", name: "a.jpg"),
                                  hidden: true)
        let data = try Data(contentsOf: folder.url.appendingPathComponent("assets/\(asset.id).json"))
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(object.keys.sorted() == ["createdAt", "hidden", "id", "kind", "metadata", "mimeType", "properties"])
        #expect(object["kind"] as? String == "uploaded" && object["hidden"] as? Bool == true)
        let metadata = try #require(object["metadata"] as? [String: Any])
        #expect(metadata["parentId"] as? String == "asset_p" && metadata["type"] as? String == "uploaded")
    }

    @Test func writesLeaveExactlyThePNGAndTheSidecar() throws {
        let first = try store.add(image, kind: .image)
        let second = try store.add(image, kind: .intermediate)
        #expect(folder.contents(of: "assets") == ["\(first.id).json", "\(first.id).png", "\(second.id).json", "\(second.id).png"].sorted())
    }

    @Test func failedWriteLeavesNothing() throws {
        #expect(throws: (any Error).self) { try store.add(RGBImage(width: 0, height: 0), kind: .image) }
        #expect(folder.contents(of: "assets").isEmpty)
        #expect(try store.list().isEmpty)
    }

    /// An interrupted write can leave at most a PNG without its sidecar: not an asset.
    @Test func orphanPNGIsNoAsset() throws {
        let asset = try store.add(image, kind: .image)
        try folder.remove("assets/\(asset.id).json")
        #expect(error { try store.asset(asset.id) }?.status == 404)
        #expect(try store.list().isEmpty)
    }

    @Test func listingSkipsHiddenAssetsAndStrayFiles() throws {
        let visible = try store.add(image, kind: .image)
        let hidden = try store.add(image, kind: .image, hidden: true)
        let uploaded = try store.add(image, kind: .uploaded)
        try folder.write("{}", at: "assets/notes.json")
        try folder.write("x", at: "assets/.asset_x.json.tmp")
        #expect(Set(try store.list().map(\.id)) == [visible.id, uploaded.id])
        // Hidden assets stay reachable by id.
        #expect(try store.asset(hidden.id).hidden)
    }

    @Test func listingIsOldestFirst() throws {
        let ids = try (0..<3).map { _ in try store.add(image, kind: .image).id }
        let listed = try store.list()
        #expect(Set(listed.map(\.id)) == Set(ids))
        #expect(listed.map(\.createdAt) == listed.map(\.createdAt).sorted())
    }

    @Test func lookupErrors() throws {
        #expect(error { try store.asset("asset_missing", field: "imageId") }
            == .notFound("asset 'asset_missing' not found in \(store.url.path)", field: "imageId"))
        let traversal = error { try store.asset("asset_../../x", field: "imageId") }
        #expect(traversal?.status == 400 && traversal?.field == "imageId")
        #expect(error { try store.imageData("nope") }?.status == 400)
        #expect(try store.list().isEmpty, "listing a store whose folder does not exist yet")
    }
}
