import DiffusionCore
import DiffusionFormats
import Foundation
import Testing

/// The two routes the web page needs beyond the public schemas: `GET /models` and `POST /detect`.
@Suite(.serialized) struct CatalogRouteTests {
    /// Weights/ holds tiny-sd15 (PNDMScheduler), the canny, depth and pose ControlNets of sd-1_5
    /// and both adapter types; Docs/REQUEST.md's tables give the names and presets allowed.
    @Test func modelsListsWhatARequestMayName() async throws {
        let folder = try TemporaryFolder()
        let server = try await TestServer(assets: folder.url)
        #expect(try await server.client.with(credentials: nil).get("/models").status == 401)
        let catalog = try await server.client.get("/models").json
        let models = try #require(catalog["models"] as? [[String: Any]])
        #expect(models.map { $0["id"] as? String } == ["tiny-sd15"])
        #expect(models.first?["family"] as? String == "sd-1_5" && models.first?["defaultScheduler"] as? String == "PNDMScheduler")
        let families = try #require(catalog["families"] as? [[String: Any]])
        let sd15 = try #require(families.first { $0["family"] as? String == "sd-1_5" })
        let modalities = try #require(sd15["modalities"] as? [[String: Any]])
        #expect(modalities.compactMap { $0["name"] as? String }
            == ["canny", "pose", "depth", "lines", "seg", "scribble", "lineart", "normal-map", "illusion"])
        #expect(modalities.filter { $0["installed"] as? Bool == true }.compactMap { $0["name"] as? String } == ["canny", "pose", "depth"])
        // canny has its detector; illusion needs none; the neural ones are not available yet.
        #expect(modalities.filter { $0["detection"] as? Bool == true }.compactMap { $0["name"] as? String } == ["canny", "illusion"])
        let presets = try #require(sd15["presets"] as? [[String: Any]])
        #expect(presets.compactMap { $0["name"] as? String } == ["character", "landscape", "city", "interior"])
        #expect(presets.filter { $0["installed"] as? Bool == true }.compactMap { $0["name"] as? String } == ["character", "landscape"])
        #expect(presets.first?["members"] as? [String] == ["depth:1.0", "pose:1.0"])
        #expect(sd15["ipAdapterTypes"] as? [String] == ["style", "character"])
        #expect(sd15["minSize"] as? Int == 64 && sd15["maxSize"] as? Int == 1024 && sd15["defaultGuidance"] as? Double == 7.5)
        let sdxl = try #require(families.first { $0["family"] as? String == "sd-xl" })
        #expect((sdxl["presets"] as? [[String: Any]])?.compactMap { $0["name"] as? String } == ["character", "landscape"])
        #expect(sdxl["ipAdapterTypes"] as? [String] == [])
        #expect((catalog["schedulers"] as? [String])?.count == 15)
        try await server.stop()
    }

    /// The map of an image at its own size (no resize) is OpenCV's `cv2.Canny(rgb, 100, 200)`
    /// exactly, the fixture of Tests/Goldens/canny, in all three channels.
    @Test func detectGivesTheCannyMapOfOpenCV() async throws {
        let folder = try TemporaryFolder()
        let server = try await TestServer(assets: folder.url)
        let canny = Fixtures.root.appendingPathComponent("Tests/Goldens/canny")
        let (width, height) = (128, 96)
        let rgb = try Data(contentsOf: canny.appendingPathComponent("gradient_shapes.rgb"))
        let edges = try [UInt8](Data(contentsOf: canny.appendingPathComponent("gradient_shapes.edges")))
        let png = try PNG.encode(RGBImage(width: width, height: height, pixels: [UInt8](rgb)))
        let reply = try await server.client.post(
            "/detect", json: ["image": "data:image/png;base64," + png.base64EncodedString(), "modality": "canny"])
        #expect(reply.status == 200 && reply.headers["content-type"] == "image/png")
        let map = try PNG.decode(reply.body)
        #expect(map.width == width && map.height == height)
        #expect(map.pixels == edges.flatMap { [$0, $0, $0] })
        try await server.stop()
    }

    /// Each bad body is a 400 naming its field, or a 404 for an asset that is not there.
    @Test func detectNamesTheFieldAtFault() async throws {
        let folder = try TemporaryFolder()
        let server = try await TestServer(assets: folder.url)
        let image = "data:image/png;base64," + (try PNG.encode(RGBImage(width: 8, height: 8))).base64EncodedString()
        let cases: [([String: Any], Int, String)] = [
            (["image": image, "modality": "sketch"], 400, "modality"),
            (["image": image, "modality": "depth"], 400, "modality"),
            (["image": image, "modality": "canny", "width": 65], 400, "width"),
            (["modality": "canny"], 400, "image"),
            (["image": "data:image/png;base64,AAAA", "modality": "canny"], 400, "image"),
            (["imageId": "asset_missing", "modality": "canny"], 404, "imageId"),
        ]
        for (body, status, field) in cases {
            let reply = try await server.client.post("/detect", json: body)
            let error = reply.json["error"] as? [String: Any]
            #expect(reply.status == status, "\(body.keys.sorted())")
            #expect(error?["field"] as? String == field, "\(error ?? [:])")
        }
        try await server.stop()
    }
}
