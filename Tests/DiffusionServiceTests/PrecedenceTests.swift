import DiffusionPipeline
import DiffusionService
import Foundation
import Testing

/// Docs/SPEC.md §2's precedence: the first field given wins; the others are reported as ignored.
@Suite struct PrecedenceTests {
    private let environment: TestEnvironment

    init() throws {
        environment = try TestEnvironment.shared()
    }

    /// `minimalBody` without its control image, plus `fields`.
    private func resolveControl(_ fields: String) throws -> ResolvedRequest {
        try environment.resolve(adding: #""controlImage": null\#(fields.isEmpty ? "" : ", " + fields)"#)
    }

    /// `minimalBody` without its IP-Adapter image, plus `fields`.
    private func resolveIPAdapter(_ fields: String) throws -> ResolvedRequest {
        try environment.resolve(adding: #""ipAdapterImage": null\#(fields.isEmpty ? "" : ", " + fields)"#)
    }

    @Test func controlImageBeatsEveryOtherField() throws {
        let id = environment.controlAsset
        let resolved = try environment.resolve(adding: #"""
            "controlImageId": "\#(id)", "image": "\#(id)", "imageId": "\#(id)"
            """#)
        #expect(resolved.controlImage == ImageInput(.dataURL(pngDataURL), field: "controlImage"))
        #expect(resolved.warnings == [
            "controlImageId is ignored: controlImage takes precedence",
            "image is ignored: controlImage takes precedence",
            "imageId is ignored: controlImage takes precedence",
        ])
    }

    @Test func controlImageIdThenImageThenImageId() throws {
        let id = environment.controlAsset, other = environment.styleAsset
        let byId = try resolveControl(#""controlImageId": "\#(id)", "image": "\#(other)", "imageId": "\#(other)""#)
        #expect(byId.controlImage == ImageInput(.asset(id: id), field: "controlImageId"))
        let byImage = try resolveControl(#""image": "\#(id)", "imageId": "\#(other)""#)
        #expect(byImage.controlImage == ImageInput(.asset(id: id), field: "image"))
        #expect(byImage.warnings == ["imageId is ignored: image takes precedence"])
        let byImageId = try resolveControl(#""imageId": "\#(id)""#)
        #expect(byImageId.controlImage == ImageInput(.asset(id: id), field: "imageId"))
        #expect(byImageId.controlImage.assetId == id)
    }

    @Test func imageTakesADataURLOrAnAssetId() throws {
        let dataURL = try resolveControl(#""image": "\#(pngDataURL)""#)
        #expect(dataURL.controlImage == ImageInput(.dataURL(pngDataURL), field: "image"))
        let failure = error { try resolveControl(#""image": "https://example.com/a.png""#) }
        #expect(failure?.status == 400 && failure?.field == "image")
    }

    @Test func emptyStringsCountAsAbsent() throws {
        let resolved = try resolveControl(#""controlImage": "", "imageId": "\#(environment.controlAsset)""#)
        #expect(resolved.controlImage.field == "imageId")
        #expect(resolved.warnings.isEmpty)
    }

    @Test func controlImageErrors() throws {
        #expect(error { try resolveControl("") }
            == .badRequest("an image is required: give one of controlImage, controlImageId, image, imageId", field: "controlImage"))
        let notDataURL = error { try environment.resolve(adding: #""controlImage": "\#(environment.controlAsset)""#) }
        #expect(notDataURL?.status == 400 && notDataURL?.field == "controlImage")
        let missing = error { try resolveControl(#""controlImageId": "asset_nothere""#) }
        #expect(missing?.status == 404 && missing?.field == "controlImageId")
        let traversal = error { try resolveControl(#""imageId": "../../etc/passwd""#) }
        #expect(traversal?.status == 400 && traversal?.field == "imageId")
    }

    @Test func ipAdapterImagesPrecedence() throws {
        let id = environment.controlAsset, other = environment.styleAsset
        let all = try environment.resolve(adding: #"""
            "ipAdapterImages": ["\#(pngDataURL)", "\#(pngDataURL)"], "ipAdapterImageIds": ["\#(id)"],
            "ipAdapterImageId": "\#(id)"
            """#)
        #expect(all.ipAdapterImages == Array(repeating: ImageInput(.dataURL(pngDataURL), field: "ipAdapterImages"), count: 2))
        #expect(all.ipAdapterScales == [0.9, 0.9])
        #expect(all.warnings == [
            "ipAdapterImageIds is ignored: ipAdapterImages takes precedence",
            "ipAdapterImage is ignored: ipAdapterImages takes precedence",
            "ipAdapterImageId is ignored: ipAdapterImages takes precedence",
        ])
        let ids = try resolveIPAdapter(#""ipAdapterImageIds": ["\#(id)", "\#(other)"], "ipAdapterImageId": "\#(id)""#)
        #expect(ids.ipAdapterImages.map(\.assetId) == [id, other])
        #expect(ids.ipAdapterImages.allSatisfy { $0.field == "ipAdapterImageIds" })
        let single = try environment.resolve(adding: #""ipAdapterImageId": "\#(id)""#)
        #expect(single.ipAdapterImages == [ImageInput(.dataURL(pngDataURL), field: "ipAdapterImage")])
        let byId = try resolveIPAdapter(#""ipAdapterImageId": "\#(id)""#)
        #expect(byId.ipAdapterImages == [ImageInput(.asset(id: id), field: "ipAdapterImageId")])
        let emptyList = try environment.resolve(adding: #""ipAdapterImages": []"#)
        #expect(emptyList.ipAdapterImages.map(\.field) == ["ipAdapterImage"])
    }

    @Test func ipAdapterImageErrors() throws {
        let none = error { try resolveIPAdapter("") }
        #expect(none?.status == 400 && none?.field == "ipAdapterImages")
        let notDataURL = error { try resolveIPAdapter(#""ipAdapterImages": ["\#(pngDataURL)", ""]"#) }
        #expect(notDataURL?.status == 400 && notDataURL?.field == "ipAdapterImages")
        let missing = error { try resolveIPAdapter(#""ipAdapterImageIds": ["\#(environment.styleAsset)", "asset_gone"]"#) }
        #expect(missing?.status == 404 && missing?.field == "ipAdapterImageIds")
        let badId = error { try resolveIPAdapter(#""ipAdapterImageId": "asset_a/b""#) }
        #expect(badId?.status == 400 && badId?.field == "ipAdapterImageId")
    }

    @Test func scalesPrecedence() throws {
        let two = #""ipAdapterImages": ["\#(pngDataURL)", "\#(pngDataURL)"]"#
        #expect(try environment.resolve(adding: two).ipAdapterScales == [0.9, 0.9])
        #expect(try environment.resolve(adding: two + #", "ipAdapterScale": 0.4"#).ipAdapterScales == [0.4, 0.4])
        let both = try environment.resolve(adding: two + #", "ipAdapterScales": [0.2, 0.7], "ipAdapterScale": 0.4"#)
        #expect(both.ipAdapterScales == [0.2, 0.7])
        #expect(both.warnings.last == "ipAdapterScale is ignored: ipAdapterScales takes precedence")
        // An empty list counts as absent.
        #expect(try environment.resolve(adding: two + #", "ipAdapterScales": [], "ipAdapterScale": 0.4"#).ipAdapterScales
            == [0.4, 0.4])
    }

    @Test(arguments: [#"[0.5]"#, #"[0.5, 0.5, 0.5]"#])
    func scalesLengthMismatch(_ scales: String) throws {
        let failure = error {
            try environment.resolve(adding: #""ipAdapterImages": ["\#(pngDataURL)", "\#(pngDataURL)"], "ipAdapterScales": \#(scales)"#)
        }
        #expect(failure?.status == 400 && failure?.field == "ipAdapterScales")
        #expect(failure?.message.contains("for 2 IP-Adapter images") == true)
    }
}
