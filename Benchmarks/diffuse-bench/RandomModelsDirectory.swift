import ArgumentParser
import Foundation

/// A full-size SD1.5 models directory (SPEC §1) with random F16 weights, what `diffuse-bench generate`
/// and `reference_generate.py` run (about 4 GB):
///
/// - the pipeline `stable-diffusion-v1-5`: UNet, VAE and CLIP ViT-L text encoder, with the real CLIP
///   tokenizer, SD1.5's scheduler config and model_index.json copied from Weights/tiny-sd15;
/// - `controlnets/sd-1_5/canny`: a ControlNet shaped like lllyasviel's SD1.5 ControlNets;
/// - `ip-adapters/sd-1_5/style`: the base IP-Adapter (ip-adapter_sd15's layout) with a ViT-H image encoder.
enum RandomModelsDirectory {
    static let modelId = "stable-diffusion-v1-5"

    /// Each model's folder in the directory, its config and manifest `<kind>/<name>`, and its weights file.
    private static let models: [(folder: String, kind: String, name: String, weightsFile: String)] = [
        ("\(modelId)/unet", "unet", "sd-1_5", RandomModelFolder.diffusersWeights),
        ("\(modelId)/vae", "vae", "sd-1_5", RandomModelFolder.diffusersWeights),
        ("\(modelId)/text_encoder", "text_encoder", "sd-1_5", "model.safetensors"),
        ("controlnets/sd-1_5/canny", "controlnet", "sd-1_5", RandomModelFolder.diffusersWeights),
        ("ip-adapters/sd-1_5/style", "ip-adapter", "sd-1_5", "ip-adapter.safetensors"),
        ("ip-adapters/sd-1_5/style/image_encoder", "image_encoder", "vit-h", "model.safetensors"),
    ]

    /// The pipeline's files that hold no weights, taken as they are from the tiny default model.
    private static let copied = [
        "model_index.json", "scheduler/scheduler_config.json", "tokenizer/vocab.json", "tokenizer/merges.txt",
        "tokenizer/special_tokens_map.json", "tokenizer/tokenizer_config.json",
    ]

    /// Writes the directory to `url`, which must not exist yet.
    static func write(to url: URL, manifests: ModelManifests) throws {
        guard !FileManager.default.fileExists(atPath: url.path) else {
            throw ValidationError("\(url.path) already exists; give a new folder")
        }
        for model in models {
            _ = try manifests.randomFolder(
                model.kind, model.name, at: url.appendingPathComponent(model.folder), weightsFile: model.weightsFile)
        }
        let tinyModel = PackageFolder.url.appendingPathComponent("Weights/tiny-sd15")
        for path in copied {
            let destination = url.appendingPathComponent("\(modelId)/\(path)")
            try FileManager.default.createDirectory(
                at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: tinyModel.appendingPathComponent(path), to: destination)
        }
    }
}
