import DiffusionService
import Foundation
import Hummingbird

/// The web page of `diffuse serve` (Docs/SERVER.md, "The web page"): one HTML file, its style
/// sheet and its script, read from the target's resources. They hold no data (the page reads
/// everything through the API with the user's key), so they are served without credentials.
enum WebPage {
    /// Served path to the resource's file name and content type.
    static let files: [String: (name: String, type: String)] = [
        "/": ("index.html", "text/html; charset=utf-8"),
        "/page.css": ("page.css", "text/css; charset=utf-8"),
        "/page.js": ("page.js", "text/javascript; charset=utf-8"),
    ]

    static func register(on router: Router<BasicRequestContext>) {
        for (path, file) in files {
            router.get(RouterPath(path)) { _, _ in try response(file.name, type: file.type) }
        }
    }

    /// The file's bytes; a 500 naming it when the resources were not installed beside the binary.
    private static func response(_ name: String, type: String) throws -> Response {
        guard let url = Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Page"),
              let data = try? Data(contentsOf: url)
        else {
            throw GenerationError.internalError("the web page's file \(name) is missing from the server's resources")
        }
        return Response(
            status: .ok, headers: [.contentType: type, .cacheControl: "no-cache"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}
