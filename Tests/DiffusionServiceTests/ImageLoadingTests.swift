import DiffusionCore
import DiffusionPipeline
import DiffusionService
import Foundation
import Testing

/// `ImageInput.load`: a resolved request's images decoded, bad ones refused naming their field.
@Suite struct ImageLoadingTests {
    @Test func loadsDataURLsAndAssets() throws {
        let environment = try TestEnvironment.shared()
        let resolved = try environment.resolve(adding: #""ipAdapterImage": null, "ipAdapterImageIds": ["\#(environment.styleAsset)"]"#)
        // The schema's example data URL: one 8-bit gray pixel of value 0.
        #expect(try resolved.controlImage.load(from: environment.assets) == RGBImage(width: 1, height: 1))
        #expect(try resolved.ipAdapterImages[0].load(from: environment.assets) == RGBImage(width: 3, height: 1))
    }

    @Test func dataURLInAnyCaseIsADataURL() throws {
        let environment = try TestEnvironment.shared()
        let upper = "DATA:" + pngDataURL.dropFirst(5)
        let resolved = try environment.resolve(adding: #""controlImage": null, "image": "\#(upper)""#)
        #expect(resolved.controlImage.source == .dataURL(upper))
        #expect(try resolved.controlImage.load(from: environment.assets) == RGBImage(width: 1, height: 1))
    }

    @Test(arguments: [
        "data:image/png;base64,!!!!", "data:image/png;base64,", "data:image/gif;base64,R0lGODlhAQABAAAAACw=",
        "data:image/png,iVBORw0KGgo=", "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVQYV2Ng",
        "data:image/png;base64,SGVsbG8=",
    ])
    func badDataURLIs400NamingTheField(_ url: String) throws {
        let environment = try TestEnvironment.shared()
        let resolved = try environment.resolve(adding: #""ipAdapterImages": ["\#(pngDataURL)", "\#(url)"]"#)
        let failure = error { try resolved.ipAdapterImages[1].load(from: environment.assets) }
        #expect(failure?.status == 400 && failure?.field == "ipAdapterImages", "\(failure?.description ?? "no error")")
        #expect(try resolved.ipAdapterImages[0].load(from: environment.assets).width == 1)
    }

    @Test func assetRemovedAfterResolutionIs404() throws {
        let environment = try TestEnvironment()
        let resolved = try environment.resolve(adding: #""controlImage": null, "imageId": "\#(environment.controlAsset)""#)
        try environment.folder.remove("assets/\(environment.controlAsset).json")
        let failure = error { try resolved.controlImage.load(from: environment.assets) }
        #expect(failure?.status == 404 && failure?.field == "imageId")
    }

    @Test func corruptAssetPNGIs400() throws {
        let environment = try TestEnvironment()
        let resolved = try environment.resolve(adding: #""controlImage": null, "imageId": "\#(environment.controlAsset)""#)
        try environment.folder.write("not a png", at: "assets/\(environment.controlAsset).png")
        let failure = error { try resolved.controlImage.load(from: environment.assets) }
        #expect(failure?.status == 400 && failure?.field == "imageId")
    }
}
