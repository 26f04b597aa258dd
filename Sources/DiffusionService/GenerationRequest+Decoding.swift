import DiffusionFormats
import Foundation

extension GenerationRequest {
    /// Decodes a JSON request body.
    ///
    /// - Throws: `GenerationError` 400 when the body is not a JSON object, a key appears twice
    ///   in an object, a required field is missing, or a field has the wrong JSON type or (for
    ///   `negativePromptStrength`) a value outside the schema's range, naming the field. A
    ///   field set to `null` counts as absent.
    public init(json: Data) throws {
        do {
            self = try JSONDecoder().decode(GenerationRequest.self, from: json)
        } catch let error as GenerationError {
            throw error
        } catch DecodingError.typeMismatch {
            throw GenerationError.badRequest("the request body must be a JSON object")
        } catch DecodingError.valueNotFound {
            throw GenerationError.badRequest("the request body must be a JSON object, not null")
        } catch {
            throw GenerationError.badRequest("the request body is not valid JSON")
        }
        // Checked once the body is known to be JSON, so a body that is not gets that message.
        if let (key, path) = JSONDuplicateKeys.first(in: json) {
            let place = path.isEmpty ? "the request body" : path
            let field = String(path.prefix { $0 != "." && $0 != "[" })
            throw GenerationError.badRequest(
                "\(place) has the key '\(key)' more than once", field: field.isEmpty ? key : field)
        }
    }

    /// At most this many unknown fields are named in the warnings; the rest are counted.
    public static let maximumUnknownFieldWarnings = 20

    /// The response's warnings for `unknownFields`: the first `maximumUnknownFieldWarnings`
    /// by name, then one line counting the others, so that a body of 100,000 unknown fields
    /// does not make a response of 100,000 warnings.
    public var unknownFieldWarnings: [String] {
        let named = unknownFields.prefix(Self.maximumUnknownFieldWarnings).map { "unknown field '\($0)' ignored" }
        let others = unknownFields.count - named.count
        return others > 0 ? named + ["\(others) more unknown fields ignored"] : named
    }

    public init(from decoder: Decoder) throws {
        let fields = FieldReader(container: try decoder.container(keyedBy: CodingKeys.self))
        modelId = try fields.required(.modelId)
        prompt = try fields.required(.prompt)
        modality = try fields.required(.modality)

        negativePrompt = try fields.optional(.negativePrompt, "a string")
        numSamples = try fields.optional(.numSamples, "a number")
        numInferenceSteps = try fields.optional(.numInferenceSteps, "a number")
        guidance = try fields.optional(.guidance, "a number")
        width = try fields.optional(.width, "a number")
        height = try fields.optional(.height, "a number")
        scheduler = try fields.optional(.scheduler, "a string")
        seed = try fields.seed()

        controlImage = try fields.optional(.controlImage, "a string")
        controlImageId = try fields.optional(.controlImageId, "a string")
        image = try fields.optional(.image, "a string")
        imageId = try fields.optional(.imageId, "a string")
        imageParentId = try fields.optional(.imageParentId, "a string")
        imageHide = try fields.optional(.imageHide, "a boolean")
        controlStart = try fields.optional(.controlStart, "a number")
        controlEnd = try fields.optional(.controlEnd, "a number")
        disableModalityDetection = try fields.optional(.disableModalityDetection, "a boolean")

        ipAdapterImages = try fields.optional(.ipAdapterImages, "an array of strings")
        ipAdapterImageIds = try fields.optional(.ipAdapterImageIds, "an array of strings")
        ipAdapterImage = try fields.optional(.ipAdapterImage, "a string")
        ipAdapterImageId = try fields.optional(.ipAdapterImageId, "a string")
        ipAdapterScales = try fields.optional(.ipAdapterScales, "an array of numbers")
        ipAdapterScale = try fields.optional(.ipAdapterScale, "a number")
        ipAdapterType = try fields.optional(.ipAdapterType, "a string")

        hideResults = try fields.optional(.hideResults, "a boolean")
        intermediateImages = try fields.optional(.intermediateImages, "a boolean")

        negativePromptStrength = try fields.optional(.negativePromptStrength, "a number")
        if let strength = negativePromptStrength, !(0...10).contains(strength) {
            throw GenerationError.badRequest(
                "negativePromptStrength must be a number in [0, 10], not \(strength)", field: "negativePromptStrength")
        }
        baseModelId = try fields.optional(.baseModelId, "a string")
        modelEpoch = try fields.optional(.modelEpoch, "a string")
        concepts = try fields.optional(.concepts, "an array of {modelId, modelEpoch, scale} objects")

        let allKeys = try decoder.container(keyedBy: AnyKey.self).allKeys.map(\.stringValue)
        unknownFields = allKeys.filter { CodingKeys(stringValue: $0) == nil }.sorted()
    }
}

/// Reads one field at a time so that every failure names its field: the decoder's own
/// errors lose the path for some (a number too large for its type reports none).
private struct FieldReader {
    let container: KeyedDecodingContainer<GenerationRequest.CodingKeys>

    func optional<T: Decodable>(_ key: GenerationRequest.CodingKeys, _ expected: String) throws -> T? {
        do {
            return try container.decodeIfPresent(T.self, forKey: key)
        } catch {
            throw GenerationError.badRequest("\(key.stringValue) must be \(expected)", field: key.stringValue)
        }
    }

    func required(_ key: GenerationRequest.CodingKeys) throws -> String {
        guard let value: String = try optional(key, "a string") else {
            throw GenerationError.badRequest("\(key.stringValue) is required", field: key.stringValue)
        }
        return value
    }

    /// The schema types `seed` as a string, but clients send numbers too; both become the
    /// decimal string, which validation parses.
    func seed() throws -> String? {
        guard container.contains(.seed), try !container.decodeNil(forKey: .seed) else { return nil }
        if let text = try? container.decode(String.self, forKey: .seed) { return text }
        if let number = try? container.decode(UInt64.self, forKey: .seed) { return String(number) }
        throw GenerationError.badRequest(ResolvedRequest.seedRule, field: "seed")
    }
}

/// Any key, to list the body's fields.
private struct AnyKey: CodingKey {
    let stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}
