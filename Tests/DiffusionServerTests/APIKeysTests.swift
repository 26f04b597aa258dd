import DiffusionServer
import Foundation
import Testing

/// API keys from a file or the environment, and the `Authorization` headers they accept.
@Suite struct APIKeysTests {
    private func basic(_ credentials: String) -> String { "Basic " + Data(credentials.utf8).base64EncodedString() }

    @Test func aFileOfPairsWithCommentsAndBlankLines() throws {
        let folder = try TemporaryFolder()
        let file = folder.url.appendingPathComponent("keys")
        try Data("# clients\nalpha:one\n\n  beta:two:with:colons  \n".utf8).write(to: file)
        let keys = try APIKeys.load(file: file.path, environment: ["DIFFUSE_API_KEYS": "ignored:when-a-file-is-given"])
        #expect(keys.count == 2)
        #expect(keys.accepts(authorization: basic("alpha:one")))
        // Only the first colon separates: a secret may hold colons.
        #expect(keys.accepts(authorization: basic("beta:two:with:colons")))
        #expect(keys.accepts(authorization: "basic " + Data("alpha:one".utf8).base64EncodedString()))
        for wrong in [basic("alpha:two"), basic("alpha:on"), basic("alpha:one "), basic("ignored:when-a-file-is-given"),
                      basic("alpha"), "Bearer alpha:one", "Basic", ""] {
            #expect(!keys.accepts(authorization: wrong), "\(wrong)")
        }
        #expect(!keys.accepts(authorization: nil))
    }

    @Test func theEnvironmentWhenNoFileIsGiven() throws {
        let keys = try APIKeys.load(file: nil, environment: ["DIFFUSE_API_KEYS": "a:1, b:2"])
        #expect(keys.count == 2 && keys.accepts(authorization: basic("b:2")))
        #expect(try APIKeys.load(file: nil, environment: [:]).isEmpty)
    }

    @Test func malformedEntriesAndMissingFilesAreErrorsNamingThem() throws {
        for text in ["alpha", ":secret", "alpha:"] {
            #expect(throws: APIKeys.Error.self) { try APIKeys(parsing: text, source: "keys.txt") }
        }
        do {
            _ = try APIKeys(parsing: "ok:1\nbroken", source: "keys.txt")
            Issue.record("a line without a colon should be refused")
        } catch let error as APIKeys.Error {
            #expect(error.message == "keys.txt: entry 2 is not 'key:secret'")
        }
        #expect(throws: APIKeys.Error.self) { try APIKeys.load(file: "/nonexistent/keys", environment: [:]) }
    }
}
