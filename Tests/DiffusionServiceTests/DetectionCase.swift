import DiffusionCore
import DiffusionPipeline
import DiffusionService
import Foundation
import Testing

/// What the end-to-end detection tests share: a pipeline golden's request cut to one sample and
/// two steps, and the exact check that with `disableModalityDetection: false` every ControlNet
/// saw its own detector's map.
enum DetectionCase {
    static let root = GenerationBehaviourTests.root

    /// The request of pipeline golden `case`, one sample, two steps, with `extra` merged in.
    static func request(_ case: String, _ extra: [String: Any] = [:]) throws -> GenerationRequest {
        let url = root.appendingPathComponent("Tests/Goldens/pipeline/cases/\(`case`)/request.json")
        var body = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        body["numSamples"] = 1
        body["numInferenceSteps"] = 2
        body.merge(extra) { $1 }
        return try GenerationRequest(json: JSONSerialization.data(withJSONObject: body))
    }

    /// The service's images of `request` with detection on, and the typed pipeline's with each
    /// ControlNet given its modality's map of the control image at the output size; also the
    /// maps, by modality.
    static func detectedAndGiven(_ service: GenerationService, _ request: GenerationRequest)
        throws -> (detected: [RGBImage], given: [RGBImage], maps: [String: RGBImage]) {
        var detecting = request
        detecting.disableModalityDetection = false
        let detected = try service.generate(detecting).images
        let resolved = try ResolvedRequest(request, models: service.models, assets: service.assets)
        let control = try resolved.controlImage.load(from: service.assets)
            .resized(width: resolved.parameters.width, height: resolved.parameters.height, filter: .lanczos)
        var maps: [String: RGBImage] = [:]
        for net in resolved.controlNets {
            let modality = try #require(Modality(rawValue: net.modality.name))
            maps[net.modality.name] = try modality.detector(modelsDirectory: service.models.url)?.detect(control) ?? control
        }
        let given = try StableDiffusionPipeline(model: resolved.model, store: service.store).generate(
            resolved.parameters,
            controlNets: resolved.controlNets.map { ControlNetInput(folder: $0.folder, image: maps[$0.modality.name] ?? control, scale: $0.modality.scale) },
            ipAdapter: IPAdapterInput(
                folder: resolved.ipAdapter.url, images: try resolved.ipAdapterImages.map { try $0.load(from: service.assets) },
                scales: resolved.ipAdapterScales))
        return (detected, given, maps)
    }
}
