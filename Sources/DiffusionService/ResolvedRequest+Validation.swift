import DiffusionDetectors
import DiffusionPipeline
import DiffusionSchedulers
import Foundation

extension ResolvedRequest {
    /// Validates `request` and fills in its defaults (Docs/SPEC.md §2).
    ///
    /// Checks the model, ControlNets, IP-Adapter and asset ids exist, without loading any
    /// weight or decoding any image. A missing `seed` becomes a random one.
    ///
    /// - Throws: `GenerationError`: 400 naming the field for a value out of range or
    ///   malformed (never clamped), 404 for a model, ControlNet, IP-Adapter or asset that is
    ///   not there, 500 for a broken models directory.
    public init(_ request: GenerationRequest, models: ModelsDirectory, assets: AssetStore) throws {
        try Self.checkLength(request.prompt, "prompt")
        try Self.checkLength(request.negativePrompt, "negativePrompt")
        let model = try models.model(request.modelId)
        let family = model.family
        var warnings = request.unknownFieldWarnings
        warnings += Self.fluxOnlyWarnings(request)

        let modalities = try ControlNetModality.parse(request.modality, family: family, presets: models.presets())
        let controlNets = try modalities.map {
            ControlNet(modality: $0, folder: try models.controlNet(modality: $0.name, family: family))
        }
        let disableModalityDetection = request.disableModalityDetection ?? true
        if !disableModalityDetection { try Self.checkDetectors(modalities, models: models) }

        let controlImage = try Self.controlImage(request, assets: assets, warnings: &warnings)
        let ipAdapterImages = try Self.ipAdapterImages(request, assets: assets, warnings: &warnings)
        guard ipAdapterImages.count <= RequestLimits.ipAdapterImages else {
            throw GenerationError.badRequest(
                "at most \(RequestLimits.ipAdapterImages) IP-Adapter images per request, not \(ipAdapterImages.count)",
                field: "ipAdapterImages")
        }
        let ipAdapterScales = try Self.ipAdapterScales(request, count: ipAdapterImages.count, warnings: &warnings)
        let ipAdapterType = try Self.ipAdapterType(request.ipAdapterType)

        let guidance = try Self.number(request.guidance, "guidance", default: family.defaultGuidance, in: 0...20)
        if request.negativePrompt != nil && guidance <= 1 {
            warnings.append("negativePrompt is ignored: guidance <= 1 turns classifier-free guidance off")
        }
        let controlStart = try Self.number(request.controlStart, "controlStart", default: 0, in: 0...0.9)
        let controlEnd = try Self.number(request.controlEnd, "controlEnd", default: 1, in: 0.1...1)
        guard controlEnd > controlStart else {
            throw GenerationError.badRequest(
                "controlEnd (\(controlEnd)) must be greater than controlStart (\(controlStart))", field: "controlEnd")
        }
        if let parent = request.imageParentId { _ = try assets.asset(parent, field: "imageParentId") }
        let loras = try Self.loras(request.concepts ?? [], family: family, models: models, warnings: &warnings)

        self.init(
            model: model, prompt: request.prompt, negativePrompt: request.negativePrompt,
            controlNets: controlNets, controlImage: controlImage,
            controlStart: controlStart, controlEnd: controlEnd, disableModalityDetection: disableModalityDetection,
            imageParentId: request.imageParentId, imageHide: request.imageHide ?? false,
            ipAdapter: try models.ipAdapter(type: ipAdapterType, family: family),
            ipAdapterImages: ipAdapterImages, ipAdapterScales: ipAdapterScales,
            numSamples: try Self.integer(request.numSamples, "numSamples", default: 4, in: 1...128),
            numInferenceSteps: try Self.integer(request.numInferenceSteps, "numInferenceSteps", default: 30, in: 1...150),
            guidance: guidance,
            width: try Self.size(request.width, "width", family: family),
            height: try Self.size(request.height, "height", family: family),
            scheduler: try Self.scheduler(request.scheduler, model: model, steps: request.numInferenceSteps),
            seed: try Self.seed(request.seed),
            hideResults: request.hideResults ?? false, intermediateImages: request.intermediateImages ?? false,
            loras: loras, warnings: warnings)
    }

    /// `concepts`: each a LoRA of the family's folder with its scale in -2...2, in request order.
    private static func loras(
        _ concepts: [GenerationRequest.Concept], family: ModelFamily, models: ModelsDirectory, warnings: inout [String]
    ) throws -> [LoRAInput] {
        if concepts.contains(where: { $0.modelEpoch != nil }) {
            warnings.append("concepts[].modelEpoch applies to trained models of the hosted API only and is ignored")
        }
        return try concepts.enumerated().map { index, concept in
            let scale = try number(concept.scale, "concepts", default: 1, in: -2...2, element: index)
            return LoRAInput(file: try models.lora(concept.modelId, family: family), scale: scale)
        }
    }

    private static func checkLength(_ text: String?, _ field: String) throws {
        guard let text, text.count > RequestLimits.promptCharacters else { return }
        throw GenerationError.badRequest(
            "\(field) has more than \(RequestLimits.promptCharacters) characters (the limit per prompt)", field: field)
    }

    /// Flux-only fields are accepted and ignored (Docs/SPEC.md §2).
    private static func fluxOnlyWarnings(_ request: GenerationRequest) -> [String] {
        let present: [(String, Bool)] = [
            ("negativePromptStrength", request.negativePromptStrength != nil),
            ("baseModelId", request.baseModelId != nil),
            ("modelEpoch", request.modelEpoch != nil),
        ]
        return present.filter(\.1).map { "\($0.0) applies to Flux models only and is ignored" }
    }

    /// With detection on, every modality needs a detector (or none, like `illusion`) and its
    /// weights file; the weights load later, once, in the model store.
    private static func checkDetectors(_ modalities: [ControlNetModality], models: ModelsDirectory) throws {
        for modality in modalities {
            do {
                try Modality(rawValue: modality.name)?.checkDetector(modelsDirectory: models.url)
            } catch let error as DetectionError {
                throw GenerationError.badRequest(error.description, field: "disableModalityDetection")
            }
        }
    }

    private static func ipAdapterType(_ value: String?) throws -> IPAdapterType {
        guard let value else { return .style }
        guard let type = IPAdapterType(rawValue: value) else {
            throw GenerationError.badRequest("ipAdapterType must be style or character, not '\(value)'", field: "ipAdapterType")
        }
        return type
    }

    /// The scheduler, checked to build from the model's config and make a schedule of the requested
    /// steps: a config it cannot run is the models directory's fault (500), a step count it cannot
    /// schedule the request's (400).
    private static func scheduler(_ value: String?, model: ModelFolder, steps: Double?) throws -> SchedulerKind {
        let kind = try schedulerKind(value, model: model)
        do {
            var scheduler = try kind.make(config: model.schedulerConfig)
            try scheduler.setTimesteps(try integer(steps, "numInferenceSteps", default: 30, in: 1...150))
        } catch let error as SchedulerError {
            switch error {
            case .invalidStepCount, .repeatedFirstTimestep, .timestepOutOfRange:
                throw GenerationError.badRequest(error.description, field: "numInferenceSteps")
            default:
                throw GenerationError.internalError("model '\(model.id)': scheduler/scheduler_config.json: \(error)")
            }
        }
        return kind
    }

    private static func schedulerKind(_ value: String?, model: ModelFolder) throws -> SchedulerKind {
        if let value {
            guard let kind = SchedulerKind(rawValue: value) else {
                throw GenerationError.badRequest(
                    "scheduler '\(value)' is not one of \(schedulerNames.joined(separator: ", "))", field: "scheduler")
            }
            return kind
        }
        guard let kind = model.defaultScheduler else {
            throw GenerationError.internalError(
                "model '\(model.id)': scheduler/scheduler_config.json names scheduler '\(model.schedulerConfig.className ?? "")', "
                    + "which is not supported; give `scheduler` in the request")
        }
        return kind
    }

    /// The request's seed, or a random one.
    static func seed(_ value: String?) throws -> UInt64 {
        guard let value else {
            var generator = SystemRandomNumberGenerator()
            return generator.next()
        }
        // UInt64.init accepts a leading "+"; the rule is digits only.
        guard !value.isEmpty, value.allSatisfy({ $0.isASCII && $0.isNumber }), let seed = UInt64(value) else {
            throw GenerationError.badRequest("\(seedRule), not '\(value)'", field: "seed")
        }
        return seed
    }
}
