/// The model families this runtime runs, named as the API names them (`model.type`).
///
/// Each family fixes what a request may ask for (Docs/SPEC.md §2): its modalities, its image sizes and
/// its default guidance.
public enum ModelFamily: String, Codable, CaseIterable, Sendable {
    case sd15 = "sd-1_5"
    case sdxl = "sd-xl"

    /// The family of a diffusers pipeline class (`model_index.json`'s `_class_name`), nil for
    /// one this runtime does not run.
    public init?(pipelineClassName: String) {
        switch pipelineClassName {
        case "StableDiffusionPipeline", "StableDiffusionControlNetPipeline": self = .sd15
        case "StableDiffusionXLPipeline", "StableDiffusionXLControlNetPipeline": self = .sdxl
        default: return nil
        }
    }

    /// The modality names a request may list.
    public var modalities: [String] { Modality.allCases.filter { $0.families.contains(self) }.map(\.rawValue) }

    /// The allowed width and height (both also multiples of 8).
    public var sizeRange: ClosedRange<Int> {
        switch self {
        case .sd15: return 64...1024
        case .sdxl: return 512...2048
        }
    }

    /// The guidance scale when the request gives none.
    public var defaultGuidance: Double {
        switch self {
        case .sd15: return 7.5
        case .sdxl: return 6
        }
    }
}
