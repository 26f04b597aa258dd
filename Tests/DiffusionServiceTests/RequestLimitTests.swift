import DiffusionCore
import DiffusionFormats
import DiffusionService
import Foundation
import Testing

/// The per-request limits of Docs/REQUEST.md: each a 400 naming the field, nothing written.
@Suite struct RequestLimitTests {
    static let root = CommandLineTests.root

    func body(_ fields: [String: Any]) throws -> GenerationRequest {
        let url = Self.root.appendingPathComponent("Tests/Goldens/pipeline/cases/sd15_canny_pndm/request.json")
        var body = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        body.merge(fields) { $1 }
        return try GenerationRequest(json: JSONSerialization.data(withJSONObject: body))
    }

    func refusal(_ request: GenerationRequest) throws -> (GenerationError?, [String]) {
        let assets = try TemporaryFolder()
        let service = GenerationService(models: Self.root.appendingPathComponent("Tests/Fixtures/Weights"), assets: assets.url)
        do {
            _ = try service.generate(request)
            return (nil, assets.contents())
        } catch let error as GenerationError {
            return (error, assets.contents())
        }
    }

    @Test func tooManyReferenceImages() throws {
        let url = try body([:]).ipAdapterImages![0]
        let (error, written) = try refusal(try body(["ipAdapterImages": Array(repeating: url, count: RequestLimits.ipAdapterImages + 1)]))
        #expect(error?.status == 400 && error?.field == "ipAdapterImages", "\(String(describing: error))")
        #expect(error?.message.contains("at most 16") == true && written.isEmpty)
    }

    @Test(arguments: ["prompt", "negativePrompt"]) func promptTooLong(_ field: String) throws {
        let (error, written) = try refusal(try body([field: String(repeating: "a", count: RequestLimits.promptCharacters + 1)]))
        #expect(error?.status == 400 && error?.field == field && written.isEmpty, "\(String(describing: error))")
    }

    /// Two 8000 x 8000 images (64 megapixels each, the most one image may have) reach the 128
    /// megapixel total; a third, small one goes past it.
    @Test func imagesPastTheTotalPixels() throws {
        let big = "data:image/png;base64," + (try PNG.encode(RGBImage(width: 8000, height: 8000))).base64EncodedString()
        let small = "data:image/png;base64," + (try PNG.encode(RGBImage(width: 1000, height: 1000))).base64EncodedString()
        let (error, written) = try refusal(try body(["controlImage": big, "ipAdapterImages": [big, small]]))
        #expect(error?.status == 400 && error?.field == "ipAdapterImages", "\(String(describing: error))")
        #expect(error?.message.contains("128 megapixels") == true && written.isEmpty)
    }
}
