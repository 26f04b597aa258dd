import Foundation

/// The body of `POST /generate/controlnet-ip-adapter`: exactly the fields of the request
/// schema (`controlnet-ip-adapter.openapi.json`), as sent.
///
/// Nothing here is validated or defaulted; `ResolvedRequest` does that once (Docs/SPEC.md §2).
/// Numbers are `Double` because the schema types them `number`; validation checks that the
/// counts and sizes are whole. Decode a JSON body with `init(json:)`, which also lists the
/// fields the schema does not know in `unknownFields`.
public struct GenerationRequest: Codable, Equatable, Sendable {
    /// A LoRA to apply: `loras/<family>/<modelId>.safetensors` at `scale` (Docs/REQUEST.md).
    public struct Concept: Codable, Equatable, Sendable {
        public var modelId: String
        public var modelEpoch: String?
        public var scale: Double

        public init(modelId: String, modelEpoch: String? = nil, scale: Double) {
            self.modelId = modelId
            self.modelEpoch = modelEpoch
            self.scale = scale
        }
    }

    // Required.
    public var modelId: String
    public var prompt: String
    /// `name[:value]` list or `preset[:value]` (Docs/SPEC.md §2).
    public var modality: String

    // Generation.
    public var negativePrompt: String?
    public var numSamples: Double?
    public var numInferenceSteps: Double?
    public var guidance: Double?
    public var width: Double?
    public var height: Double?
    public var scheduler: String?
    /// A decimal integer in [0, 2^64); a JSON number is accepted too and kept as its decimal string.
    public var seed: String?

    // ControlNet.
    public var controlImage: String?
    public var controlImageId: String?
    public var image: String?
    public var imageId: String?
    public var imageParentId: String?
    public var imageHide: Bool?
    public var controlStart: Double?
    public var controlEnd: Double?
    public var disableModalityDetection: Bool?

    // IP-Adapter.
    public var ipAdapterImages: [String]?
    public var ipAdapterImageIds: [String]?
    public var ipAdapterImage: String?
    public var ipAdapterImageId: String?
    public var ipAdapterScales: [Double]?
    public var ipAdapterScale: Double?
    public var ipAdapterType: String?

    // Outputs.
    public var hideResults: Bool?
    public var intermediateImages: Bool?

    // Accepted for compatibility: Flux-only (ignored, warned); and the LoRAs.
    public var negativePromptStrength: Double?
    public var baseModelId: String?
    public var modelEpoch: String?
    public var concepts: [Concept]?

    /// Body fields that are not in the schema, sorted; filled by decoding, reported in the
    /// response's `warnings`, never encoded.
    public var unknownFields: [String] = []

    /// A request with its three required fields; set the others as needed.
    public init(modelId: String, prompt: String, modality: String) {
        self.modelId = modelId
        self.prompt = prompt
        self.modality = modality
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case modelId, prompt, modality
        case negativePrompt, numSamples, numInferenceSteps, guidance, width, height, scheduler, seed
        case controlImage, controlImageId, image, imageId, imageParentId, imageHide
        case controlStart, controlEnd, disableModalityDetection
        case ipAdapterImages, ipAdapterImageIds, ipAdapterImage, ipAdapterImageId
        case ipAdapterScales, ipAdapterScale, ipAdapterType
        case hideResults, intermediateImages
        case negativePromptStrength, baseModelId, modelEpoch, concepts
    }
}
