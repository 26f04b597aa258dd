import DiffusionCore
import DiffusionPipeline
import DiffusionService
import Foundation
import Testing

/// A model in the forms users download gives the same images as the diffusers folder: a
/// single-file checkpoint with configs and the tiny model's tokenizer beside it (built-in
/// scheduler), and a folder whose weights are fp16 variants. Tests/Goldens/pipeline/single_file.py
/// wrote the single file from Tests/Fixtures/Weights/tiny-sd15 with diffusers' key tables.
@Suite(.serialized) struct ModelFormTests {
    static let root = JobOutcomeTests.root

    static func models() throws -> TemporaryFolder {
        let folder = try TemporaryFolder()
        for entry in ["tiny-sd15", "controlnets", "ip-adapters"] {
            try ConceptsTests.link(folder.url.appendingPathComponent(entry), root.appendingPathComponent("Tests/Fixtures/Weights/\(entry)"))
        }
        try ConceptsTests.link(
            folder.url.appendingPathComponent("tiny-sd15-single"),
            root.appendingPathComponent("Tests/Goldens/pipeline/single_file/tiny-sd15-single"))
        // The folder form again, its weights renamed as fp16-variant downloads name them.
        let variants = folder.url.appendingPathComponent("tiny-sd15-fp16")
        try FileManager.default.copyItem(at: root.appendingPathComponent("Tests/Fixtures/Weights/tiny-sd15"), to: variants)
        for (component, stem) in [("unet", "diffusion_pytorch_model"), ("vae", "diffusion_pytorch_model"), ("text_encoder", "model")] {
            let plain = variants.appendingPathComponent("\(component)/\(stem).safetensors")
            try FileManager.default.moveItem(at: plain, to: plain.deletingPathExtension().appendingPathExtension("fp16.safetensors"))
        }
        return folder
    }

    func request(_ model: String) throws -> GenerationRequest {
        var request = try PromptSyntaxTests().request("a red house by a lake")
        request.modelId = model
        return request
    }

    @Test func singleFileAndVariantsGiveTheFolderImages() throws {
        let (models, assets) = (try Self.models(), try TemporaryFolder())
        let service = GenerationService(models: models.url, assets: assets.url)
        let folder = try service.generate(try request("tiny-sd15")).images
        #expect(try service.generate(try request("tiny-sd15-single")).images == folder)
        #expect(try service.generate(try request("tiny-sd15-fp16")).images == folder)
        let single = try ModelFolder(url: models.url.appendingPathComponent("tiny-sd15-single"))
        #expect(single.checkpoint?.lastPathComponent == "tiny-sd15-single.safetensors" && single.family == .sd15)
        #expect(single.defaultScheduler == .pndm)
    }

    /// Without a tokenizer beside it, a single file reads the built-in one (Resources/SingleFile, CLIP's
    /// 49,408 ids): the tiny model's 2,514-row embedding then refuses its start token, 49406, and the
    /// job fails naming it.
    @Test func aSingleFileWithoutATokenizerReadsTheBuiltInOne() throws {
        let (models, assets) = (try Self.models(), try TemporaryFolder())
        let bare = models.url.appendingPathComponent("tiny-sd15-bare")
        try FileManager.default.createDirectory(at: bare, withIntermediateDirectories: true)
        let single = Self.root.appendingPathComponent("Tests/Goldens/pipeline/single_file/tiny-sd15-single")
        for entry in try FileManager.default.contentsOfDirectory(atPath: single.path) where entry != "tokenizer" {
            try ConceptsTests.link(bare.appendingPathComponent(entry), single.appendingPathComponent(entry))
        }
        let service = GenerationService(models: models.url, assets: assets.url)
        let failure = try service.generate(try request("tiny-sd15-bare")).response.job.error
        #expect(failure?.message == "sequence 0 holds id 49406, outside the vocabulary of 2514", "\(String(describing: failure))")
    }

    @Test func aFolderWithNeitherFormIsNamed() throws {
        let models = try TemporaryFolder()
        try models.write("{}", at: "empty/notes.txt")
        let error = #expect(throws: GenerationError.self) { try ModelsDirectory(url: models.url).model("empty") }
        #expect(error?.status == 404)
    }
}
