import ArgumentParser
import Foundation

/// A full-size models directory (Docs/SPEC.md §1) with random F16 weights, what `diffuse-bench generate`
/// (and, for SD1.5, `reference_generate.py`) runs: one pipeline folder, one canny ControlNet and the
/// base `style` IP-Adapter with a ViT-H image encoder, each model's config and weight shapes read
/// from Benchmarks/<kind>/<name>.json and .weights.json, and the files without weights (tokenizers,
/// scheduler config, model_index.json) copied from a tiny model of the same family.
struct RandomModelsDirectory {
    /// The pipeline folder's name, the request's `modelId`.
    let modelId: String
    /// Each model's folder in the directory, its config and manifest `<kind>/<name>`, and its weights file.
    let models: [(folder: String, kind: String, name: String, weightsFile: String)]
    /// The tiny model of the family, relative to the package, and the pipeline files taken from it as they are.
    let tinyModel: String
    let copied: [String]
    /// The benchmark's request on this directory, relative to Benchmarks/.
    let request: String

    private static let diffusers = RandomModelFolder.diffusersWeights, transformers = "model.safetensors"
    private static let sd15Id = "stable-diffusion-v1-5", sdxlId = "stable-diffusion-xl-base-1.0"

    /// SD1.5 (about 4 GB): UNet, VAE, CLIP ViT-L text encoder; a ControlNet shaped like lllyasviel's;
    /// the base IP-Adapter in ip-adapter_sd15's layout.
    static let sd15 = RandomModelsDirectory(
        modelId: sd15Id,
        models: [
            ("\(sd15Id)/unet", "unet", "sd-1_5", diffusers),
            ("\(sd15Id)/vae", "vae", "sd-1_5", diffusers),
            ("\(sd15Id)/text_encoder", "text_encoder", "sd-1_5", transformers),
            ("controlnets/sd-1_5/canny", "controlnet", "sd-1_5", diffusers),
            ("ip-adapters/sd-1_5/style", "ip-adapter", "sd-1_5", "ip-adapter.safetensors"),
            ("ip-adapters/sd-1_5/style/image_encoder", "image_encoder", "vit-h", transformers),
        ],
        tinyModel: "Tests/Fixtures/Weights/tiny-sd15", copied: pipelineFiles(tokenizers: ["tokenizer"]),
        request: "generate/request.json")

    /// SDXL base (about 11 GB): UNet, VAE, CLIP ViT-L and OpenCLIP bigG text encoders; a ControlNet
    /// `from_unet` of the UNet (diffusers/controlnet-canny-sdxl-1.0's shape); the base IP-Adapter in
    /// ip-adapter_sdxl_vit-h's layout.
    static let sdxl = RandomModelsDirectory(
        modelId: sdxlId,
        models: [
            ("\(sdxlId)/unet", "unet", "sd-xl", diffusers),
            ("\(sdxlId)/vae", "vae", "sd-xl", diffusers),
            ("\(sdxlId)/text_encoder", "text_encoder", "sd-xl", transformers),
            ("\(sdxlId)/text_encoder_2", "text_encoder_2", "sd-xl", transformers),
            ("controlnets/sd-xl/canny", "controlnet", "sd-xl", diffusers),
            ("ip-adapters/sd-xl/style", "ip-adapter", "sd-xl", "ip-adapter.safetensors"),
            ("ip-adapters/sd-xl/style/image_encoder", "image_encoder", "vit-h", transformers),
        ],
        tinyModel: "Tests/Goldens/pipeline/models/tiny-sdxl",
        copied: pipelineFiles(tokenizers: ["tokenizer", "tokenizer_2"]), request: "generate/request-sdxl.json")

    static func of(_ family: UNetBenchmark.Family) -> RandomModelsDirectory {
        family == .sdxl ? sdxl : sd15
    }

    /// model_index.json, the scheduler config and each tokenizer's files.
    private static func pipelineFiles(tokenizers: [String]) -> [String] {
        let tokenizerFiles = ["vocab.json", "merges.txt", "special_tokens_map.json", "tokenizer_config.json"]
        return ["model_index.json", "scheduler/scheduler_config.json"]
            + tokenizers.flatMap { tokenizer in tokenizerFiles.map { "\(tokenizer)/\($0)" } }
    }

    /// Writes the directory to `url`, which must not exist yet.
    func write(to url: URL, manifests: ModelManifests) throws {
        guard !FileManager.default.fileExists(atPath: url.path) else {
            throw ValidationError("\(url.path) already exists; give a new folder")
        }
        for model in models {
            _ = try manifests.randomFolder(
                model.kind, model.name, at: url.appendingPathComponent(model.folder), weightsFile: model.weightsFile)
        }
        let tiny = PackageFolder.url.appendingPathComponent(tinyModel)
        for path in copied {
            let destination = url.appendingPathComponent("\(modelId)/\(path)")
            try FileManager.default.createDirectory(
                at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
            // The tiny SDXL model's vocabulary is a relative symlink; copy the file it names.
            try FileManager.default.copyItem(
                at: tiny.appendingPathComponent(path).resolvingSymlinksInPath(), to: destination)
        }
    }
}
