import Foundation
import Testing

/// `diffuse` copied alone into another folder, as a user installs it: the web page is compiled
/// into the binary, so it is served with no resources folder beside it.
@Suite struct InstalledBinaryTests {
    @Test func aCopiedBinaryServesTheWebPage() async throws {
        let built = try #require(ServeProcess.binary, "the diffuse binary is not built")
        let folder = try TemporaryFolder()
        let copy = folder.url.appendingPathComponent("diffuse")
        try copyInAnotherProcess(built, to: copy)
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

    /// `cp`, so that no process the other tests start meanwhile inherits a descriptor open for
    /// writing on the copy (its exec would then fail with "Text file busy").
    private func copyInAnotherProcess(_ source: URL, to destination: URL) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/cp")
        process.arguments = [source.path, destination.path]
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
    }
}
