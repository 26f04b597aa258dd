import Foundation
import Hummingbird

/// The web page of `diffuse serve` (Docs/SERVER.md, "The web page"): one HTML file, its style
/// sheet and its script, compiled into the binary. They hold no data (the page reads everything
/// through the API with the user's key), so they are served without credentials.
enum WebPage {
    /// Served path to the file's bytes and content type.
    static let files: [String: (bytes: [UInt8], type: String)] = [
        "/": (PackageResources.index_html, "text/html; charset=utf-8"),
        "/page.css": (PackageResources.page_css, "text/css; charset=utf-8"),
        "/page.js": (PackageResources.page_js, "text/javascript; charset=utf-8"),
    ]

    static func register(on router: Router<BasicRequestContext>) {
        for (path, file) in files {
            router.get(RouterPath(path)) { _, _ in
                Response(
                    status: .ok, headers: [.contentType: file.type, .cacheControl: "no-cache"],
                    body: ResponseBody(byteBuffer: ByteBuffer(bytes: file.bytes)))
            }
        }
    }
}
