import Foundation
import Testing

/// `diffuse` copied alone into another folder, as a user installs it: the web page is compiled
/// into the binary, so it is served with no resources folder beside it.
@Suite struct InstalledBinaryTests {
    @Test func aCopiedBinaryServesTheWebPage() async throws {
        let built = try #require(ServeProcess.binary, "the diffuse binary is not built")
        let folder = try TemporaryFolder()
        let copy = folder.url.appendingPathComponent("diffuse")
        try FileManager.default.copyItem(at: built, to: copy)
        let server = try ServeProcess(arguments: ["--models", Fixtures.models.path, "--assets", folder.url.appendingPathComponent("assets").path], binary: copy)
        defer { server.stop() }
        let client = HTTPClient(port: server.port)
        let sources = Fixtures.root.appendingPathComponent("Sources/DiffusionServer/Page")
        for (path, file) in [("/", "index.html"), ("/page.css", "page.css"), ("/page.js", "page.js")] {
            let reply = try await client.get(path)
            #expect(reply.status == 200, "\(path)")
            #expect(reply.body == (try Data(contentsOf: sources.appendingPathComponent(file))), "\(path)")
        }
    }
}
