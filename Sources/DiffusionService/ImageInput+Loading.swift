import DiffusionCore
import DiffusionFormats
import Foundation

extension ImageInput {
    /// The source a request field's value denotes: a data URL when written as one
    /// (`data:` in any case), an asset id otherwise.
    static func source(of value: String) -> Source {
        DataURL.isDataURL(value) ? .dataURL(value) : .asset(id: value)
    }

    /// Decodes the image: the data URL's PNG or JPEG, or the asset's PNG.
    ///
    /// - Throws: `GenerationError` 400 naming `field` for a bad data URL or undecodable image
    ///   (bad base64, corrupt or truncated file, 0 pixels, over 64 megapixels), 404 for an
    ///   asset that has gone.
    public func load(from assets: AssetStore) throws -> RGBImage {
        do {
            switch source {
            case .dataURL(let url): return try DataURL.decodeImage(url)
            case .asset(let id): return try ImageDecoder.decode(assets.imageData(id, field: field))
            }
        } catch {
            throw GenerationError(error, field: field)
        }
    }
}

/// The decoded pixels of a request's images so far, held to `RequestLimits.totalPixels`.
struct PixelBudget {
    private(set) var pixels = 0

    /// Decodes `input`, refusing it when it takes the request past the limit.
    mutating func load(_ input: ImageInput, from assets: AssetStore) throws -> RGBImage {
        let image = try input.load(from: assets)
        pixels += image.width * image.height
        guard pixels <= RequestLimits.totalPixels else {
            throw GenerationError.badRequest(
                "the request's images hold more than \(RequestLimits.totalPixels / 1_000_000) megapixels together "
                    + "(the limit per request); \(input.field) takes it to \(pixels / 1_000_000)",
                field: input.field)
        }
        return image
    }
}
