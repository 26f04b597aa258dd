import DiffusionCore
import DiffusionFormats
import DiffusionModels
import Foundation
import Testing

/// Weight file names as diffusers' `variant=` and transformers name them, and pickled weights
/// loading wherever safetensors do (Tests/Goldens/checkpoints, made by its generate.py).
struct WeightFileTests {
    static let goldens = UNetGoldens.root.appendingPathComponent("checkpoints")
    static let weights = UNetGoldens.root.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Tests/Fixtures/Weights")

    /// A temporary folder holding empty files of the given names.
    private func folder(_ names: [String]) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("WeightFileTests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        for name in names { try Data().write(to: url.appendingPathComponent(name)) }
        return url
    }

    @Test func plainFilesWinOverVariantsAndSafetensorsOverPickles() throws {
        let all = try folder([
            "diffusion_pytorch_model.fp16.safetensors", "diffusion_pytorch_model.bin", "diffusion_pytorch_model.safetensors",
            "diffusion_pytorch_model.bf16.safetensors", "diffusion_pytorch_model.fp16.bin", "config.json",
            "diffusion_pytorch_model.safetensors.index.json",
        ])
        defer { try? FileManager.default.removeItem(at: all) }
        #expect(WeightFile.diffusers.candidates(in: all) == [
            "diffusion_pytorch_model.safetensors", "diffusion_pytorch_model.safetensors.index.json", "diffusion_pytorch_model.bin",
            "diffusion_pytorch_model.fp16.safetensors",
            "diffusion_pytorch_model.fp16.bin", "diffusion_pytorch_model.bf16.safetensors",
        ])
        let variantOnly = try folder(["model.fp16.safetensors", "pytorch_model.fp16.bin", "config.json"])
        defer { try? FileManager.default.removeItem(at: variantOnly) }
        #expect(try WeightFile.transformers.locate(in: variantOnly).lastPathComponent == "model.fp16.safetensors")
        #expect(!WeightFile.diffusers.exists(in: variantOnly))
        let pickle = try folder(["pytorch_model.bin", "model.fp16.safetensors"])
        defer { try? FileManager.default.removeItem(at: pickle) }
        #expect(try WeightFile.transformers.locate(in: pickle).lastPathComponent == "pytorch_model.bin")
        #expect(try WeightFile.named("ip-adapter").locate(in: try folder(["ip-adapter.bin"])).lastPathComponent == "ip-adapter.bin")
    }

    @Test func missingWeightsNameTheFolderAndWhatIsThere() throws {
        let url = try folder(["config.json", "model.onnx"])
        defer { try? FileManager.default.removeItem(at: url) }
        let error = #expect(throws: ModelLoadingError.self) { try WeightFile.diffusers.locate(in: url) }
        let message = error?.message ?? ""
        #expect(message.contains(url.appendingPathComponent("diffusion_pytorch_model.safetensors").path)
            && message.contains("the folder holds: config.json, model.onnx"), "\(message)")
    }

    /// A VAE whose only weights are `diffusion_pytorch_model.fp16.safetensors`, and one saved with
    /// `torch.save` (legacy form), decode exactly as the safetensors folder does.
    @Test func variantAndPickledVAEDecodeIdentically() throws {
        let source = Self.weights.appendingPathComponent("tiny-sd15/vae")
        let variant = try folder([])
        defer { try? FileManager.default.removeItem(at: variant) }
        try FileManager.default.copyItem(at: source.appendingPathComponent("config.json"), to: variant.appendingPathComponent("config.json"))
        try FileManager.default.copyItem(
            at: source.appendingPathComponent("diffusion_pytorch_model.safetensors"),
            to: variant.appendingPathComponent("diffusion_pytorch_model.fp16.safetensors"))
        let latents = Tensor(shape: [1, 4, 4, 4], values: (0..<64).map { Float($0 % 7) * 0.25 - 0.75 })
        let reference = try AutoencoderKL(folder: source).decode(latents).scalars.map(\.bitPattern)
        for folder in [variant, Self.goldens.appendingPathComponent("vae")] {
            #expect(try AutoencoderKL(folder: folder).decode(latents).scalars.map(\.bitPattern) == reference, "\(folder.path)")
        }
    }

    /// Shards' indexes stand for their file, right after the unsharded name, variants included;
    /// the shards themselves are no variant.
    @Test func shardIndexesAreCandidatesAndShardsAreNot() throws {
        let sharded = try folder([
            "diffusion_pytorch_model.fp16-00001-of-00002.safetensors", "diffusion_pytorch_model.fp16-00002-of-00002.safetensors",
            "diffusion_pytorch_model.safetensors.index.fp16.json", "diffusion_pytorch_model.bin.index.json",
            "diffusion_pytorch_model-00001-of-00002.bin",
        ])
        defer { try? FileManager.default.removeItem(at: sharded) }
        #expect(WeightFile.diffusers.candidates(in: sharded) == [
            "diffusion_pytorch_model.bin.index.json", "diffusion_pytorch_model.safetensors.index.fp16.json",
        ])
        let shardsOnly = try folder(["model-00001-of-00002.safetensors", "model.fp16-00001-of-00002.safetensors"])
        defer { try? FileManager.default.removeItem(at: shardsOnly) }
        #expect(!WeightFile.transformers.exists(in: shardsOnly))
        #expect(TensorFiles.isShardIndex("model.safetensors.index.json") && TensorFiles.isShardIndex("pytorch_model.bin.index.fp16.json"))
        #expect(!TensorFiles.isShardIndex("model.index.json") && !TensorFiles.isShardIndex("config.json"))
    }

    /// What save_pretrained(max_shard_size=...) writes (Tests/Goldens/checkpoints/generate_sharded.py):
    /// safetensors shards, their fp16 variant and pickled `.bin` shards of the tiny VAE, and the
    /// text encoder's shards, hold the unsharded file's tensors bit for bit, and the VAE decodes
    /// exactly as the unsharded one.
    @Test(arguments: [("vae", "vae"), ("vae-fp16", "vae"), ("vae-bin", "vae"), ("text_encoder", "text_encoder"),
                      ("text_encoder-fp16", "text_encoder")])
    func shardedWeightsAreTheirUnshardedFile(_ name: String, _ component: String) throws {
        let folder = Self.goldens.appendingPathComponent("sharded/\(name)")
        let kind: WeightFile = component == "vae" ? .diffusers : .transformers
        let file = try kind.locate(in: folder)
        #expect(TensorFiles.isShardIndex(file.lastPathComponent), "\(file.lastPathComponent)")
        let sharded = try TensorFiles.open(file)
        let plain = try TensorFiles.open(kind.locate(in: Self.goldens.appendingPathComponent("sd15/\(component)")))
        #expect(sharded.names == plain.names)
        for tensor in plain.names {
            #expect(try sharded.tensor(named: tensor).scalars.map(\.bitPattern) == plain.tensor(named: tensor).scalars.map(\.bitPattern),
                    "\(tensor)")
        }
        if component == "vae" {
            let latents = Tensor(shape: [1, 4, 4, 4], values: (0..<64).map { Float($0 % 5) * 0.3 - 0.6 })
            let reference = try AutoencoderKL(folder: Self.goldens.appendingPathComponent("sd15/vae")).decode(latents)
            #expect(try AutoencoderKL(folder: folder).decode(latents).scalars.map(\.bitPattern) == reference.scalars.map(\.bitPattern))
        }
    }

    /// A damaged index is an error naming it: a shard outside the folder, a tensor its shard lacks,
    /// not an index at all.
    @Test func badShardIndexesAreNamed() throws {
        let url = try folder([])
        defer { try? FileManager.default.removeItem(at: url) }
        let source = Self.goldens.appendingPathComponent("sharded/vae")
        for shard in try FileManager.default.contentsOfDirectory(atPath: source.path) where shard.hasSuffix(".safetensors") {
            try FileManager.default.copyItem(at: source.appendingPathComponent(shard), to: url.appendingPathComponent(shard))
        }
        let index = url.appendingPathComponent("diffusion_pytorch_model.safetensors.index.json")
        let cases = [
            (#"{"weight_map": {"decoder.conv_in.bias": "../diffusion_pytorch_model-00001-of-00003.safetensors"}}"#, "not a file name beside"),
            (#"{"weight_map": {"decoder.nothing": "diffusion_pytorch_model-00001-of-00003.safetensors"}}"#, "decoder.nothing"),
            (#"{"weight_map": {"decoder.conv_in.bias": "diffusion_pytorch_model-00009-of-00009.safetensors"}}"#, "00009"),
            (#"{"weight_map": 3}"#, "weight_map"),
            (#"{"weight_map": {}}"#, "empty"),
        ]
        for (json, expected) in cases {
            try Data(json.utf8).write(to: index)
            let error = #expect(throws: SafeTensorsError.self) { try TensorFiles.open(index) }
            let message = error.map(String.init(describing:)) ?? ""
            #expect(message.contains(expected) && message.contains(url.lastPathComponent), "\(json): \(message)")
        }
    }

    /// h94/IP-Adapter's `.bin` nests `image_proj` and `ip_adapter`; flattened, it is the safetensors file.
    @Test func nestedIPAdapterBinMatchesItsSafetensors() throws {
        let bin = try TensorFiles.open(Self.goldens.appendingPathComponent("ip-adapter.bin"))
        let safetensors = try SafeTensorsFile(
            contentsOf: Self.weights.appendingPathComponent("ip-adapters/sd-1_5/style/ip-adapter.safetensors"))
        #expect(bin.names == safetensors.names)
        for name in safetensors.names {
            #expect(try bin.tensor(named: name).scalars.map(\.bitPattern) == safetensors.tensor(named: name).scalars.map(\.bitPattern))
        }
    }

    /// An adapter under its published name (here the style adapter as h94's nested `.bin`) with a
    /// separately kept image encoder gives the tokens of the folder layout, bit for bit.
    @Test func ipAdapterLoadsUnderAnyFileName() throws {
        let unet = try UNet2DConditionModel(folder: Self.weights.appendingPathComponent("tiny-sd15/unet"))
        let folder = Self.weights.appendingPathComponent("ip-adapters/sd-1_5/style")
        let published = try IPAdapter(
            weights: Self.goldens.appendingPathComponent("ip-adapter.bin"),
            imageEncoder: folder.appendingPathComponent("image_encoder"), unet: unet)
        let reference = try IPAdapter(folder: folder, unet: unet)
        let pixels = Tensor(shape: [1, 32, 32, 3], values: (0..<3072).map { Float($0 % 11) / 5 - 1 })
        let (got, want) = (try published.imageTokens(pixels), try reference.imageTokens(pixels))
        #expect(got.positive.scalars.map(\.bitPattern) == want.positive.scalars.map(\.bitPattern))
        #expect(got.negative.scalars.map(\.bitPattern) == want.negative.scalars.map(\.bitPattern))
    }
}
