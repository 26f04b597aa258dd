import DiffusionCore
import DiffusionFormats
import DiffusionServer
import Foundation
import Testing

/// The asset endpoints over HTTP: upload a data URL, list (hidden left out, paginated),
/// details, rename, delete, and the image bytes.
@Suite(.serialized) struct AssetRouteTests {
    /// A 3x2 image with distinct bytes, so a round trip that swaps or drops any fails.
    private let image = RGBImage(width: 3, height: 2, pixels: (0..<18).map { UInt8($0 * 13) })

    private func dataURL() throws -> String {
        let folder = try TemporaryFolder()
        let file = folder.url.appendingPathComponent("image.png")
        try PNG.write(image, to: file)
        return "data:image/png;base64," + (try Data(contentsOf: file)).base64EncodedString()
    }

    @Test func uploadListRenameDeleteAndDownload() async throws {
        let folder = try TemporaryFolder()
        let server = try await TestServer(assets: folder.url)
        let client = server.client
        var ids: [String] = []
        for (name, hide) in [("a.png", false), ("b.png", false), ("c.png", true), ("d.png", false)] {
            let reply = try await client.post("/assets", json: ["image": try dataURL(), "name": name, "hide": hide])
            #expect(reply.status == 200)
            let asset = try #require(reply.json["asset"] as? [String: Any])
            #expect(asset["kind"] as? String == "image" && asset["mimeType"] as? String == "image/png")
            #expect((asset["metadata"] as? [String: Any])?["name"] as? String == name)
            #expect((asset["metadata"] as? [String: Any])?["type"] as? String == "uploaded")
            #expect((asset["properties"] as? [String: Any])?["width"] as? Int == 3)
            ids.append(try #require(asset["id"] as? String))
        }
        // The bytes round-trip exactly.
        let download = try await client.get("/assets/\(ids[0])/image")
        #expect(download.status == 200 && download.headers["content-type"] == "image/png")
        #expect(try PNG.decode(download.body) == image)

        // Pages of 2, oldest first, the hidden one left out; then newest first.
        let first = try await client.get("/assets?pageSize=2")
        let firstIds = (first.json["assets"] as? [[String: Any]])?.compactMap { $0["id"] as? String }
        #expect(firstIds == [ids[0], ids[1]])
        let token = try #require(first.json["nextPaginationToken"] as? String)
        let second = try await client.get("/assets?pageSize=2&paginationToken=\(token)")
        #expect((second.json["assets"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == [ids[3]])
        #expect(second.json["nextPaginationToken"] == nil)
        let descending = try await client.get("/assets?sortDirection=desc")
        #expect((descending.json["assets"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == [ids[3], ids[1], ids[0]])
        // A hidden asset is still found by id.
        #expect(try await client.get("/assets/\(ids[2])").status == 200)

        let renamed = try await client.send("PUT", "/assets/\(ids[1])", body: try JSONSerialization.data(withJSONObject: ["name": "renamed"]))
        #expect(((renamed.json["asset"] as? [String: Any])?["metadata"] as? [String: Any])?["name"] as? String == "renamed")
        #expect(try await client.send("PUT", "/assets/\(ids[1])", body: Data(#"{"canvas": "x"}"#.utf8)).status == 400)

        let deleted = try await client.send("DELETE", "/assets", body: try JSONSerialization.data(withJSONObject: ["assetIds": [ids[0], ids[2]]]))
        #expect(deleted.status == 200)
        #expect(try await client.get("/assets/\(ids[0])").status == 404)
        #expect(try await client.get("/assets/\(ids[0])/image").status == 404)
        #expect(folder.assetIds == [ids[1], ids[3]])
        try await server.stop()
    }

    @Test func badAssetRequestsAre400Or404() async throws {
        let folder = try TemporaryFolder()
        let server = try await TestServer(assets: folder.url)
        let client = server.client
        let bad: [([String: Any], String)] = [
            (["image": "data:image/png;base64,AAAA", "name": "x"], "image"), (["image": try dataURL()], "name"),
            (["name": "x"], "image"), (["image": try dataURL(), "name": "x", "hide": "yes"], "hide"),
        ]
        for (body, field) in bad {
            let reply = try await client.post("/assets", json: body)
            #expect(reply.status == 400)
            #expect((reply.json["error"] as? [String: Any])?["field"] as? String == field)
        }
        #expect(try await client.get("/assets?pageSize=0").status == 400)
        #expect(try await client.get("/assets?pageSize=101").status == 400)
        #expect(try await client.get("/assets/asset_missing").status == 404)
        #expect(try await client.get("/assets/not-an-id").status == 400)
        #expect(try await client.send("DELETE", "/assets", body: Data(#"{"assetIds": ["../x"]}"#.utf8)).status == 400)
        #expect(folder.assetIds.isEmpty)
        try await server.stop()
    }
}
