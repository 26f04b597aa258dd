import DiffusionCore
import DiffusionFormats
import DiffusionPipeline
import DiffusionSchedulers
import Foundation
import DiffusionTestSupport
import Testing

/// The typed pipeline through its public API: text-to-image and ControlNet + IP-Adapter
/// generations against diffusers, stopping, and two generations at once through one pipeline.
@Suite(.serialized) struct StableDiffusionPipelineTests {
    struct TextToImageCase: Decodable, CustomTestStringConvertible {
        let name, model, prompt: String
        let negativePrompt: String?
        let width, height, steps: Int
        let guidance: Double
        let scheduler: String?
        let seed: UInt64
        let numSamples: Int
        var testDescription: String { name }
    }

    static let textToImage: [TextToImageCase] = try! JSONDecoder().decode(
        [TextToImageCase].self,
        from: Data(contentsOf: GoldenImages.pipeline.appendingPathComponent("text_to_image/manifest.json")))

    static let weights = GoldenImages.root.appendingPathComponent("Tests/Fixtures/Weights")
    static let sd15 = weights.appendingPathComponent("tiny-sd15")

    /// diffusers' StableDiffusionPipeline / StableDiffusionXLPipeline with no ControlNet and no adapter
    /// (Tests/Goldens/pipeline/text_to_image.py).
    @Test(arguments: textToImage) func textToImageMatchesDiffusers(_ c: TextToImageCase) throws {
        let pipeline = try StableDiffusionPipeline(folder: GoldenImages.root.appendingPathComponent(c.model))
        let parameters = GenerationParameters(
            prompt: c.prompt, negativePrompt: c.negativePrompt, width: c.width, height: c.height, steps: c.steps,
            guidance: c.guidance, scheduler: c.scheduler.map { try! #require(SchedulerKind(rawValue: $0)) }, seed: c.seed,
            numSamples: c.numSamples)
        let images = try pipeline.generate(parameters)
        #expect(images.count == c.numSamples)
        for (i, image) in images.enumerated() {
            GoldenImageBar.expectClose(image, try GoldenImages.png("text_to_image/\(c.name)/expected_\(i).png"), "\(c.name) sample \(i)")
        }
    }

    /// Two golden requests of Tests/Goldens/pipeline/cases, as typed inputs: different ControlNets
    /// (canny + depth in a window, or the character preset's depth + pose), different adapters
    /// (two base images, or one Plus image), different schedulers.
    struct Run {
        let name: String
        let parameters: GenerationParameters
        let controlNets: [(modality: String, scale: Double)]
        let adapter: String
        let scales: [Double]

        func inputs() throws -> (controlNets: [ControlNetInput], ipAdapter: IPAdapterInput) {
            let body = try JSONSerialization.jsonObject(
                with: Data(contentsOf: GoldenImages.pipeline.appendingPathComponent("cases/\(name)/request.json"))) as! [String: Any]
            let control = try DataURL.decodeImage(body["controlImage"] as! String)
            let references = try (body["ipAdapterImages"] as! [String]).map(DataURL.decodeImage)
            let nets = StableDiffusionPipelineTests.weights.appendingPathComponent("controlnets/sd-1_5")
            return (
                controlNets.map { ControlNetInput(folder: nets.appendingPathComponent($0.modality), image: control, scale: $0.scale) },
                IPAdapterInput(
                    folder: StableDiffusionPipelineTests.weights.appendingPathComponent("ip-adapters/sd-1_5/\(adapter)"),
                    images: references, scales: scales))
        }

        func generate(_ pipeline: StableDiffusionPipeline) throws -> [RGBImage] {
            let (controlNets, ipAdapter) = try inputs()
            return try pipeline.generate(parameters, controlNets: controlNets, ipAdapter: ipAdapter)
        }
    }

    static let prompt = "a red house by a lake, oil painting"
    static let twoNets = Run(
        name: "sd15_two_nets_window_dpmpp",
        parameters: GenerationParameters(
            prompt: prompt, width: 96, height: 64, steps: 8, guidance: 7.5, scheduler: .dpmSolverMultistep, seed: 1234,
            numSamples: 1, controlStart: 0.2, controlEnd: 0.8),
        controlNets: [("canny", 0.5), ("depth", 0.8)], adapter: "style", scales: [0.5, 0.9])
    static let characterPlus = Run(
        name: "sd15_character_plus_euler_a",
        parameters: GenerationParameters(
            prompt: prompt, negativePrompt: "blurry, dark", width: 64, height: 96, steps: 5, guidance: 7.5,
            scheduler: .eulerAncestralDiscrete, seed: 7, numSamples: 2),
        controlNets: [("depth", 0.8), ("pose", 0.8)], adapter: "character", scales: [0.9])

    @Test func controlNetsAndAdaptersMatchDiffusers() throws {
        let pipeline = try StableDiffusionPipeline(folder: Self.sd15)
        for run in [Self.twoNets, Self.characterPlus] {
            for (i, image) in try run.generate(pipeline).enumerated() {
                GoldenImageBar.expectClose(image, try GoldenImages.png("cases/\(run.name)/expected_\(i).png"), "\(run.name) sample \(i)")
            }
        }
    }

    /// Each generation gets bit for bit the images it gets alone, while the other runs beside it
    /// through the same pipeline and the same loaded UNet (with other adapters and ControlNets).
    @Test func twoGenerationsAtOnceGiveTheirOwnImages() throws {
        let pipeline = try StableDiffusionPipeline(folder: Self.sd15)
        let alone = try [Self.twoNets, Self.characterPlus].map { try $0.generate(pipeline) }
        var together: [[RGBImage]?] = [nil, nil]
        var failures: [Error] = []
        let lock = NSLock()
        DispatchQueue.concurrentPerform(iterations: 2) { k in
            do {
                let images = try [Self.twoNets, Self.characterPlus][k].generate(pipeline)
                lock.withLock { together[k] = images }
            } catch {
                lock.withLock { failures.append(error) }
            }
        }
        #expect(failures.isEmpty, "\(failures)")
        #expect(together[0] == alone[0])
        #expect(together[1] == alone[1])
    }

    @Test func stopEndsTheRunWithinOneStep() throws {
        let pipeline = try StableDiffusionPipeline(folder: Self.sd15)
        var steps: [Int] = []
        let error = #expect(throws: PipelineError.self) {
            try pipeline.generate(GenerationParameters(prompt: "x", width: 64, height: 64, steps: 6, numSamples: 2)) { report in
                steps.append(report.step)
                return report.step == 2 ? .stop : .proceed
            }
        }
        #expect(error == .stopped)
        #expect(steps == [1, 2])
    }

    @Test func progressCoversEveryStepOfEverySampleWithPreviews() throws {
        let pipeline = try StableDiffusionPipeline(folder: Self.sd15)
        var reports: [GenerationProgress] = []
        let images = try pipeline.generate(
            GenerationParameters(prompt: "x", width: 64, height: 64, steps: 3, scheduler: .eulerDiscrete, numSamples: 2, previews: true)
        ) { reports.append($0); return .proceed }
        #expect(reports.map(\.step) == [1, 2, 3, 1, 2, 3])
        #expect(reports.map(\.samples) == [0..<1, 0..<1, 0..<1, 1..<2, 1..<2, 1..<2])
        #expect(reports.map(\.fraction) == [1, 2, 3, 4, 5, 6].map { Double($0) / 6 })
        // The last preview of each sample is the decoded final latent: the image itself.
        #expect(reports[2].previews == [images[0]] && reports[5].previews == [images[1]])
    }

    @Test func parametersThePipelineCannotRunAreNamed() throws {
        let pipeline = try StableDiffusionPipeline(folder: Self.sd15)
        for (parameters, name) in [
            (GenerationParameters(prompt: "x", width: 60), "width"), (GenerationParameters(prompt: "x", steps: 0), "steps"),
            (GenerationParameters(prompt: "x", numSamples: 0), "numSamples"),
            (GenerationParameters(prompt: "x", guidance: .nan), "guidance"),
            (GenerationParameters(prompt: "x", controlStart: 0.5, controlEnd: 0.5), "controlStart/controlEnd"),
        ] {
            let error = #expect(throws: PipelineError.self) { try pipeline.generate(parameters) }
            guard case .invalidParameter(let field, _) = error else { Issue.record("\(String(describing: error))"); continue }
            #expect(field == name)
        }
    }

    @Test func aFolderThatIsNoPipelineIsNamed() {
        let folder = Self.weights.appendingPathComponent("controlnets")
        #expect(throws: ModelFolderError.notAPipeline(folder)) { try StableDiffusionPipeline(folder: folder) }
        // The message says what was expected and what is there.
        let message = ModelFolderError.notAPipeline(folder).description
        #expect(message.contains("no model_index.json and no single-file checkpoint") && message.hasSuffix("it holds: sd-1_5"),
                "\(message)")
    }
}
