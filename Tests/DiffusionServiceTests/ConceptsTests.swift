import DiffusionCore
import DiffusionFormats
import DiffusionService
import Foundation
import DiffusionTestSupport
import Testing

/// `concepts` (LoRA) end to end, against diffusers' load_lora_weights + set_adapters
/// (Tests/Goldens/pipeline/concepts.py), and their validation.
@Suite(.serialized) struct ConceptsTests {
    static let root = JobOutcomeTests.root
    static let goldens = root.appendingPathComponent("Tests/Goldens/pipeline/concepts")

    /// Tests/Fixtures/Weights/ with the LoRA fixtures of Tests/Goldens/lora in loras/sd-1_5/, and one in loras/sd-xl/.
    static func models() throws -> TemporaryFolder {
        let folder = try TemporaryFolder()
        let manager = FileManager.default
        for entry in ["tiny-sd15", "controlnets/sd-1_5", "ip-adapters/sd-1_5"] {
            try link(folder.url.appendingPathComponent(entry), root.appendingPathComponent("Tests/Fixtures/Weights/\(entry)"))
        }
        for entry in ["tiny-sdxl", "controlnets/sd-xl", "ip-adapters/sd-xl"] {
            try link(folder.url.appendingPathComponent(entry), root.appendingPathComponent("Tests/Goldens/pipeline/models/\(entry)"))
        }
        let loras = root.appendingPathComponent("Tests/Goldens/lora")
        for (file, path) in [
            ("kohya", "sd-1_5/kohya"), ("peft", "sd-1_5/peft"), ("lcm_shaped", "sd-1_5/lcm_shaped"),
            ("sdxl_kohya", "sd-1_5/for_sdxl"), ("sdxl_kohya", "sd-xl/only_xl"), ("sdxl_kohya", "sd-xl/sdxl_kohya"),
        ] {
            let target = folder.url.appendingPathComponent("loras/\(path).safetensors")
            try manager.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
            try manager.copyItem(at: loras.appendingPathComponent("\(file).safetensors"), to: target)
        }
        return folder
    }

    static func link(_ at: URL, _ destination: URL) throws {
        try FileManager.default.createDirectory(at: at.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(at: at, withDestinationURL: destination)
    }

    func body(_ name: String, _ changes: [String: Any?] = [:]) throws -> GenerationRequest {
        var body = try JSONSerialization.jsonObject(
            with: Data(contentsOf: Self.goldens.appendingPathComponent("\(name)/request.json"))) as! [String: Any]
        for (key, value) in changes { body[key] = value }
        return try GenerationRequest(json: JSONSerialization.data(withJSONObject: body))
    }

    @Test(arguments: ["kohya_and_peft", "lcm_four_steps", "sdxl_kohya_sgm"]) func imagesMatchDiffusersWithLoRAs(_ name: String) throws {
        let (models, assets) = (try Self.models(), try TemporaryFolder())
        let service = GenerationService(models: models.url, assets: assets.url)
        let expected = try PNG.decode(Data(contentsOf: Self.goldens.appendingPathComponent("\(name)/expected_0.png")))
        let image = try #require(try service.generate(try body(name)).images.first)
        GoldenImageBar.expectClose(image, expected, name)
        // The LoRAs change the image, and the base model stays as it was for requests without them.
        let plain = try #require(try service.generate(try body(name, ["concepts": nil])).images.first)
        #expect(plain != image)
        let fresh = GenerationService(models: models.url, assets: assets.url)
        #expect(try fresh.generate(try body(name, ["concepts": nil])).images.first == plain)
    }

    @Test(arguments: [
        ([["modelId": "missing", "scale": 1]], 404, "no LoRA 'missing'"),
        ([["modelId": "kohya", "scale": 2.5]], 400, "concepts[0] must be in [-2, 2]"),
        ([["modelId": "only_xl", "scale": 1]], 400, "is for sd-xl models"),
        ([["modelId": "../kohya", "scale": 1]], 400, "must name a LoRA file"),
        ([["modelId": "for_sdxl", "scale": 1]], 400, "LoRA 'for_sdxl'"),
    ] as [([[String: Any]], Int, String)])
    func badConceptsAreRefusedByName(_ c: ([[String: Any]], Int, String)) throws {
        let (models, assets) = (try Self.models(), try TemporaryFolder())
        let service = GenerationService(models: models.url, assets: assets.url)
        let error = #expect(throws: GenerationError.self) { try service.generate(try body("kohya_and_peft", ["concepts": c.0])) }
        #expect(error?.status == c.1 && error?.field == "concepts", "\(String(describing: error))")
        #expect(error?.message.contains(c.2) == true, "\(String(describing: error))")
        #expect(assets.contents().isEmpty)
    }
}
