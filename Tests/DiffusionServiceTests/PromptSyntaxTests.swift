import DiffusionCore
import DiffusionFormats
import DiffusionPipeline
import DiffusionService
import Foundation
import Testing

/// The endpoint reads prompts with A1111's emphasis and chunks (Docs/REQUEST.md); the typed
/// pipeline's default is diffusers' plain reading. The prompt weighting itself is tested against
/// the reference in DiffusionModelsTests.
@Suite(.serialized) struct PromptSyntaxTests {
    static let root = JobOutcomeTests.root
    static let longPrompt = (0..<50).map { "a red house number \($0)" }.joined(separator: ", ")

    func request(_ prompt: String, negative: String? = nil) throws -> GenerationRequest {
        let url = Self.root.appendingPathComponent("Tests/Goldens/pipeline/cases/sd15_canny_pndm/request.json")
        var body = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        body["prompt"] = prompt
        body["negativePrompt"] = negative
        body["numSamples"] = 1
        body["numInferenceSteps"] = 3
        return try GenerationRequest(json: JSONSerialization.data(withJSONObject: body))
    }

    /// The same generation through the typed pipeline with the given syntax.
    func typed(_ service: GenerationService, _ request: GenerationRequest, _ syntax: PromptSyntax) throws -> [RGBImage] {
        let resolved = try ResolvedRequest(request, models: service.models, assets: service.assets)
        var parameters = resolved.parameters
        parameters.promptSyntax = syntax
        let control = try resolved.controlImage.load(from: service.assets)
        return try StableDiffusionPipeline(model: resolved.model, store: service.store).generate(
            parameters,
            controlNets: resolved.controlNets.map { ControlNetInput(folder: $0.folder, image: control, scale: $0.modality.scale) },
            ipAdapter: IPAdapterInput(
                folder: resolved.ipAdapter.url, images: try resolved.ipAdapterImages.map { try $0.load(from: service.assets) },
                scales: resolved.ipAdapterScales))
    }

    @Test(arguments: [("a ((red)) house [by] a (lake:1.4)", "((ugly face))"), (longPrompt, nil)])
    func requestsReadPromptsAsA1111(_ prompts: (String, String?)) throws {
        let assets = try TemporaryFolder()
        let service = GenerationService(models: Self.root.appendingPathComponent("Tests/Fixtures/Weights"), assets: assets.url)
        let request = try request(prompts.0, negative: prompts.1)
        let served = try service.generate(request).images
        #expect(served == (try typed(service, request, .weighted)))
        // Emphasis and the tokens past 75 change the image: the plain reading is another image.
        #expect(served != (try typed(service, request, .plain)))
    }
}
