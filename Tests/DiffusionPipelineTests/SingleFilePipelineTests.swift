import DiffusionCore
import DiffusionFormats
import DiffusionPipeline
import Foundation
import Testing

/// Whole pipelines from single files against diffusers' `from_single_file(config=<folder>)`
/// (Tests/Goldens/checkpoints/generate_pipelines.py): a tiny SD1.5 checkpoint as safetensors and
/// as a pickled A1111 `.ckpt`, and a tiny SDXL one, each in a folder of diffusers configs, a
/// tokenizer and a scheduler config with no weights.
@Suite(.serialized) struct SingleFilePipelineTests {
    struct Case: Decodable, CustomTestStringConvertible {
        let name, checkpoint, prompt, negativePrompt: String
        let width, height, steps: Int
        let guidance: Double
        let seed: UInt64
        let numSamples: Int
        var testDescription: String { name }
    }

    static let folder = GoldenImages.root.appendingPathComponent("Tests/Goldens/checkpoints/pipelines")

    static let cases: [Case] = (try? JSONDecoder().decode(
        [Case].self, from: Data(contentsOf: folder.appendingPathComponent("manifest.json")))) ?? []

    @Test func everyCaseIsRead() {
        #expect(Self.cases.map(\.name) == ["sd15-single", "sd15-ckpt", "sdxl-single"])
    }

    /// The images diffusers makes from the same file, within the pipeline goldens' bar
    /// (`GoldenImages.expectClose`: 6 levels at any pixel, 0.5 on average; float32 on both sides,
    /// only the summation order differs). The two samples of a case differ from each other by
    /// up to 14 levels, 2.5 on average, so a wrong seed, weight or tokenization would show.
    @Test(arguments: cases) func imagesMatchDiffusersFromSingleFile(_ c: Case) throws {
        let url = Self.folder.appendingPathComponent(c.name)
        let model = try ModelFolder(url: url)
        #expect(model.checkpoint?.lastPathComponent == c.checkpoint)
        let pipeline = try StableDiffusionPipeline(folder: url)
        let images = try pipeline.generate(GenerationParameters(
            prompt: c.prompt, negativePrompt: c.negativePrompt, width: c.width, height: c.height, steps: c.steps,
            guidance: c.guidance, seed: c.seed, numSamples: c.numSamples))
        #expect(images.count == c.numSamples)
        for (i, image) in images.enumerated() {
            let expected = try PNG.decode(Data(contentsOf: url.appendingPathComponent("expected_\(i).png")))
            GoldenImages.expectClose(image, expected, "\(c.name) sample \(i)")
        }
    }
}
