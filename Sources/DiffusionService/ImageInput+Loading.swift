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
