import DiffusionCore
import DiffusionFormats
import DiffusionPipeline
import DiffusionService
import Foundation
import Testing

/// Malformed requests through the library's whole path (`GenerationService.generate`) on the
/// default models directory: each is refused with its status and field, and the asset store is
/// left exactly as it was (nothing half-written, no uploaded inputs kept).
@Suite struct MalformedRequestTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let png = try! Data(contentsOf: root.appendingPathComponent("Tests/Goldens/pipeline/cases/sd15_canny_pndm/expected_0.png"))
    static let pngURL = "data:image/png;base64," + png.base64EncodedString()

    /// A valid request body with `overrides` merged in (a nil value removes the field).
    static func body(_ overrides: [String: Any?]) -> Data {
        var fields: [String: Any] = [
            "modelId": "tiny-sd15", "prompt": "a house", "modality": "canny", "controlImage": pngURL,
            "ipAdapterImages": [pngURL], "numSamples": 1, "numInferenceSteps": 1, "width": 64, "height": 64, "seed": "1",
        ]
        for (key, value) in overrides { fields[key] = value ?? nil }
        return try! JSONSerialization.data(withJSONObject: fields)
    }

    static func dataURL(_ bytes: Data, type: String = "image/png") -> String {
        "data:\(type);base64," + bytes.base64EncodedString()
    }

    /// A PNG header claiming `width` x `height`, with no pixels behind it.
    static func pngHeader(width: UInt32, height: UInt32) -> Data {
        var bytes: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]
        for value in [width, height] { bytes += withUnsafeBytes(of: value.bigEndian, Array.init) }
        bytes += [8, 2, 0, 0, 0, 0, 0, 0, 0]
        return Data(bytes)
    }

    static let cases: [(name: String, body: Data, status: Int, field: String?)] = [
        ("not JSON", Data("{".utf8), 400, nil),
        ("a JSON array", Data("[]".utf8), 400, nil),
        ("prompt missing", body(["prompt": nil]), 400, "prompt"),
        ("prompt a number", body(["prompt": 3]), 400, "prompt"),
        ("modelId missing", body(["modelId": nil]), 400, "modelId"),
        ("modelId traversal", body(["modelId": "../Weights"]), 400, "modelId"),
        ("modelId with slash", body(["modelId": "controlnets/sd-1_5"]), 400, "modelId"),
        ("modelId hidden", body(["modelId": ".git"]), 400, "modelId"),
        ("unknown model", body(["modelId": "no-such-model"]), 404, "modelId"),
        ("width not a multiple of 8", body(["width": 68]), 400, "width"),
        ("width too large for sd-1_5", body(["width": 1032]), 400, "width"),
        ("height too small", body(["height": 56]), 400, "height"),
        ("height a string", body(["height": "64"]), 400, "height"),
        ("numSamples zero", body(["numSamples": 0]), 400, "numSamples"),
        ("numSamples over 128", body(["numSamples": 129]), 400, "numSamples"),
        ("numInferenceSteps over 150", body(["numInferenceSteps": 151]), 400, "numInferenceSteps"),
        ("guidance negative", body(["guidance": -1]), 400, "guidance"),
        ("guidance over 20", body(["guidance": 20.5]), 400, "guidance"),
        ("controlStart over 0.9", body(["controlStart": 0.95]), 400, "controlStart"),
        ("controlEnd not after controlStart", body(["controlStart": 0.5, "controlEnd": 0.5]), 400, "controlEnd"),
        ("ipAdapterScale over 1", body(["ipAdapterScale": 1.5]), 400, "ipAdapterScale"),
        ("ipAdapterScales of the wrong length", body(["ipAdapterScales": [0.5, 0.5]]), 400, "ipAdapterScales"),
        ("ipAdapterType unknown", body(["ipAdapterType": "face"]), 400, "ipAdapterType"),
        ("scheduler unknown", body(["scheduler": "FancyScheduler"]), 400, "scheduler"),
        ("seed not a number", body(["seed": "12a"]), 400, "seed"),
        ("seed past 2^64", body(["seed": "18446744073709551616"]), 400, "seed"),
        ("seed negative", body(["seed": -1]), 400, "seed"),
        ("modality unknown", body(["modality": "sketchy"]), 400, "modality"),
        ("modality value zero", body(["modality": "canny:0"]), 400, "modality"),
        ("modality value over 1", body(["modality": "canny:1.5"]), 400, "modality"),
        ("modality repeated", body(["modality": "canny,canny"]), 400, "modality"),
        ("four modalities", body(["modality": "canny,depth,pose,seg"]), 400, "modality"),
        ("preset mixed with a modality", body(["modality": "character,canny"]), 400, "modality"),
        ("modality with no ControlNet installed", body(["modality": "lines"]), 404, "modality"),
        ("modality of the other family only", body(["modality": "tile"]), 400, "modality"),
        ("concepts given", body(["concepts": [["modelId": "x"]]]), 400, "concepts"),
        ("control image missing", body(["controlImage": nil]), 400, "controlImage"),
        ("control image bad base64", body(["controlImage": "data:image/png;base64,@@@@"]), 400, "controlImage"),
        ("control image not an image", body(["controlImage": dataURL(Data("hello".utf8))]), 400, "controlImage"),
        ("control image truncated PNG", body(["controlImage": dataURL(png.prefix(png.count / 2))]), 400, "controlImage"),
        ("control image truncated JPEG", body(["controlImage": dataURL(Data([0xFF, 0xD8, 0xFF, 0xE0, 0, 16]), type: "image/jpeg")]), 400, "controlImage"),
        ("control image of zero width", body(["controlImage": dataURL(pngHeader(width: 0, height: 8))]), 400, "controlImage"),
        ("control image over 64 megapixels", body(["controlImage": dataURL(pngHeader(width: 10000, height: 7000))]), 400, "controlImage"),
        ("control image asset missing", body(["controlImage": nil, "controlImageId": "asset_doesnotexist"]), 404, "controlImageId"),
        ("control image asset id malformed", body(["controlImage": nil, "controlImageId": "asset_../x"]), 400, "controlImageId"),
        ("IP-Adapter images missing", body(["ipAdapterImages": nil]), 400, "ipAdapterImages"),
        ("IP-Adapter image corrupt", body(["ipAdapterImages": [dataURL(Data(repeating: 7, count: 100))]]), 400, "ipAdapterImages"),
    ]

    @Test(arguments: cases) func isRefusedAndWritesNothing(_ c: (name: String, body: Data, status: Int, field: String?)) throws {
        let assets = FileManager.default.temporaryDirectory.appendingPathComponent("malformed-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: assets) }
        let pipeline = GenerationService(models: Self.root.appendingPathComponent("Tests/Fixtures/Weights"), assets: assets)
        do {
            _ = try pipeline.generate(try GenerationRequest(json: c.body))
            Issue.record("\(c.name): accepted")
        } catch let error as GenerationError {
            #expect(error.status == c.status, "\(c.name): \(error)")
            if let field = c.field { #expect(error.field == field, "\(c.name): \(error)") }
        }
        let written = (try? FileManager.default.contentsOfDirectory(atPath: assets.path)) ?? []
        #expect(written.isEmpty, "\(c.name): wrote \(written)")
    }
}
