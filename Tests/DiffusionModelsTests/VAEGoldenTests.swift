import DiffusionCore
import DiffusionFormats
import DiffusionModels
import Foundation
import Testing

/// AutoencoderKL against diffusers on the tiny VAE of Tests/Goldens/vae/generate.py.
@Suite struct VAEGoldenTests {
    static let folder = UNetGoldens.folder("vae", "tiny")

    @Test func decodesLikeDiffusers() throws {
        let vae = try AutoencoderKL(folder: Self.folder)
        let io = try UNetGoldens.IO(Self.folder)
        UNetGoldens.expectClose(try vae.decode(try io.image("latents")), try io.image("decoded"), "decoded")
        #expect(vae.scalingFactor == 0.13025)
    }

    @Test func encodesLikeDiffusers() throws {
        let vae = try AutoencoderKL(folder: Self.folder)
        let io = try UNetGoldens.IO(Self.folder)
        let posterior = try vae.encode(try io.image("image"))
        UNetGoldens.expectClose(posterior.mean, try io.image("mean"), "mean")
        UNetGoldens.expectClose(posterior.logvar, try io.image("logvar"), "logvar")
    }

    /// sample_size 16: 8x8 latent tiles every 6 latents, blended over 4 pixels; a 12x20 latent
    /// makes 2x4 tiles, the last ones cut short by the edge.
    @Test func decodesTiledLikeDiffusers() throws {
        let vae = try AutoencoderKL(folder: Self.folder)
        let io = try UNetGoldens.IO(Self.folder)
        UNetGoldens.expectClose(try vae.decodeTiled(try io.image("tiled_latents")), try io.image("tiled_decoded"), "tiled")
    }

    /// Files from older diffusers name the mid-block attention query/key/value/proj_attn.
    @Test func loadsLegacyAttentionNames() throws {
        let copy = try UNetGoldens.temporaryCopy(of: Self.folder)
        defer { try? FileManager.default.removeItem(at: copy) }
        let url = copy.appendingPathComponent("diffusion_pytorch_model.safetensors")
        let file = try SafeTensorsFile(contentsOf: url)
        let renames = [(".to_q.", ".query."), (".to_k.", ".key."), (".to_v.", ".value."), (".to_out.0.", ".proj_attn.")]
        let tensors = try file.names.map { name in
            let legacy = renames.reduce(name) { $0.replacingOccurrences(of: $1.0, with: $1.1) }
            return (name: legacy, tensor: try file.tensor(named: name))
        }
        #expect(tensors.contains { $0.name.hasSuffix("mid_block.attentions.0.proj_attn.weight") })
        try SafeTensors.write(tensors, to: url)
        let legacy = try AutoencoderKL(folder: copy)
        let current = try AutoencoderKL(folder: Self.folder)
        let latents = try UNetGoldens.IO(Self.folder).image("latents")
        #expect(try legacy.decode(latents).scalars == current.decode(latents).scalars)
    }

    @Test func rejectsUnsupportedConfigs() throws {
        let base = try String(contentsOf: Self.folder.appendingPathComponent("config.json"), encoding: .utf8)
        let edits = [
            ("shift_factor", "\"shift_factor\": null", "\"shift_factor\": 0.1"),
            ("latents_mean", "\"latents_mean\": null", "\"latents_mean\": [0, 0, 0, 0]"),
            ("act_fn", "\"act_fn\": \"silu\"", "\"act_fn\": \"relu6\""),
        ]
        for (option, original, edited) in edits {
            #expect(base.contains(original))
            let json = base.replacingOccurrences(of: original, with: edited)
            let copy = try UNetGoldens.temporaryCopy(of: Self.folder)
            defer { try? FileManager.default.removeItem(at: copy) }
            try json.write(to: copy.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
            #expect { try AutoencoderKL(folder: copy) } throws: { "\($0)".contains(option) }
        }
    }
}
