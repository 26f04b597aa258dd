import DiffusionFormats
import DiffusionPipeline
import DiffusionService
import Foundation
import Hummingbird

/// `POST /detect`: the map a modality's detector makes of a control image, as a generation with
/// `disableModalityDetection: false` gives it to the ControlNet (the image resized to the output
/// size with Lanczos, then detected; Docs/SPEC.md §3 step 2), so that a client can show it first.
extension APIRoutes {
    struct DetectBody: Decodable {
        var image: String?
        var imageId: String?
        var modality: String?
        var width: Int?
        var height: Int?
    }

    /// `{"image": data URL, or "imageId": asset id, "modality": "canny", "width": 512, "height": 512}`;
    /// the map as a PNG.
    func detect(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let body: DetectBody = try decode(try await self.body(of: request))
        guard let name = body.modality, let modality = Modality(rawValue: name) else {
            throw GenerationError.badRequest(
                "modality must be one of \(Modality.allCases.map(\.rawValue).joined(separator: ", ")), not \(body.modality ?? "none")",
                field: "modality")
        }
        let input = try Self.detectInput(body)
        for (field, value) in [("width", body.width), ("height", body.height)] {
            if let value, !(8...2048).contains(value) || value % 8 != 0 {
                throw GenerationError.badRequest("\(field) must be a multiple of 8 in [8, 2048], not \(value)", field: field)
            }
        }
        let png = try await offload { [service] in
            let image = try input.load(from: service.assets)
            var map = try image.resized(width: body.width ?? image.width, height: body.height ?? image.height, filter: .lanczos)
            do {
                if let detector = try modality.detector(modelsDirectory: service.models.url) { map = try detector.detect(map) }
            } catch {
                throw GenerationError(error, field: "modality")
            }
            return try PNG.encode(map)
        }
        return Response(status: .ok, headers: [.contentType: "image/png"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: png)))
    }

    private static func detectInput(_ body: DetectBody) throws -> ImageInput {
        if let image = body.image { return ImageInput(.dataURL(image), field: "image") }
        guard let id = body.imageId else { throw GenerationError.badRequest("image (a data URL) or imageId is required", field: "image") }
        guard AssetStore.isValidId(id) else { throw GenerationError.badRequest("'\(id)' is not an asset id", field: "imageId") }
        return ImageInput(.asset(id: id), field: "imageId")
    }
}
