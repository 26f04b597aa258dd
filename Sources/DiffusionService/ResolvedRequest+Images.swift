import Foundation

extension ResolvedRequest {
    /// What a request field may hold.
    private enum Accepts {
        case dataURL, assetId, dataURLOrAssetId
    }

    /// One of the fields that can give the same images, with its values (a single-image field
    /// holds one). An absent field, an empty string or an empty array counts as not given.
    private struct Candidate {
        let field: String
        let values: [String]
        let accepts: Accepts

        init(_ field: String, _ values: [String]?, _ accepts: Accepts) {
            self.field = field
            self.values = values ?? []
            self.accepts = accepts
        }

        init(_ field: String, _ value: String?, _ accepts: Accepts) {
            self.init(field, value.map { $0.isEmpty ? [] : [$0] }, accepts)
        }
    }

    /// The control image: `controlImage`, `controlImageId`, `image`, `imageId`, the first given wins.
    static func controlImage(_ request: GenerationRequest, assets: AssetStore, warnings: inout [String]) throws -> ImageInput {
        let candidates = [
            Candidate("controlImage", request.controlImage, .dataURL),
            Candidate("controlImageId", request.controlImageId, .assetId),
            Candidate("image", request.image, .dataURLOrAssetId),
            Candidate("imageId", request.imageId, .assetId),
        ]
        return try images(from: candidates, assets: assets, warnings: &warnings)[0]
    }

    /// The IP-Adapter images: `ipAdapterImages`, `ipAdapterImageIds`, `ipAdapterImage`,
    /// `ipAdapterImageId`, the first given wins.
    static func ipAdapterImages(_ request: GenerationRequest, assets: AssetStore, warnings: inout [String]) throws -> [ImageInput] {
        let candidates = [
            Candidate("ipAdapterImages", request.ipAdapterImages, .dataURL),
            Candidate("ipAdapterImageIds", request.ipAdapterImageIds, .assetId),
            Candidate("ipAdapterImage", request.ipAdapterImage, .dataURL),
            Candidate("ipAdapterImageId", request.ipAdapterImageId, .assetId),
        ]
        return try images(from: candidates, assets: assets, warnings: &warnings)
    }

    /// The scales: `ipAdapterScales` (one per image), else `ipAdapterScale` for all, else 0.9.
    static func ipAdapterScales(_ request: GenerationRequest, count: Int, warnings: inout [String]) throws -> [Double] {
        guard let scales = request.ipAdapterScales, !scales.isEmpty else {
            let scale = try number(request.ipAdapterScale, "ipAdapterScale", default: 0.9, in: 0...1)
            return Array(repeating: scale, count: count)
        }
        guard scales.count == count else {
            throw GenerationError.badRequest(
                "ipAdapterScales has \(scales.count) values for \(count) IP-Adapter image\(count == 1 ? "" : "s")",
                field: "ipAdapterScales")
        }
        for (index, scale) in scales.enumerated() {
            _ = try number(scale, "ipAdapterScales", default: 0, in: 0...1, element: index)
        }
        if request.ipAdapterScale != nil { warnings.append("ipAdapterScale is ignored: ipAdapterScales takes precedence") }
        return scales
    }

    /// The images of the first candidate given; a warning for each later one also given.
    private static func images(from candidates: [Candidate], assets: AssetStore, warnings: inout [String]) throws -> [ImageInput] {
        let given = candidates.filter { !$0.values.isEmpty }
        guard let chosen = given.first else {
            let names = candidates.map(\.field)
            throw GenerationError.badRequest(
                "an image is required: give one of \(names.joined(separator: ", "))", field: names[0])
        }
        warnings += given.dropFirst().map { "\($0.field) is ignored: \(chosen.field) takes precedence" }
        return try chosen.values.map { try input($0, field: chosen.field, accepts: chosen.accepts, assets: assets) }
    }

    /// A data URL is kept as sent (`ImageInput.load` decodes it); an asset id must exist.
    private static func input(_ value: String, field: String, accepts: Accepts, assets: AssetStore) throws -> ImageInput {
        let source = ImageInput.source(of: value)
        switch (accepts, source) {
        case (.dataURL, .dataURL), (.dataURLOrAssetId, .dataURL):
            return ImageInput(source, field: field)
        case (.assetId, _), (.dataURLOrAssetId, .asset):
            _ = try assets.asset(value, field: field)
            return ImageInput(.asset(id: value), field: field)
        case (.dataURL, .asset):
            throw GenerationError.badRequest(
                "\(field) must be a data URL (data:image/png;base64,... or data:image/jpeg;base64,...)", field: field)
        }
    }
}
