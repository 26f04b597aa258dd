import DiffusionModels
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Damaged copies of the tiny models' configs (Tests/Fixtures/Weights/), each one value changed: every value
/// that used to trap (negative layer counts, zero channels, sizes whose weight shapes overflow)
/// or made NaN (a non-positive norm epsilon) is an error naming the file and the field.
struct ConfigValidationTests {
    private static let weights = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Tests/Fixtures/Weights")

    /// The config at `path` under Tests/Fixtures/Weights/ with `key` set to `value` (JSON text), in a fresh folder.
    private func damaged(_ path: String, _ key: String, _ value: String) throws -> URL {
        let data = try Data(contentsOf: Self.weights.appendingPathComponent(path))
        var json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        json[key] = try JSONSerialization.jsonObject(with: Data(value.utf8), options: .fragmentsAllowed)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ConfigValidation-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let url = folder.appendingPathComponent("config.json")
        try JSONSerialization.data(withJSONObject: json).write(to: url)
        return url
    }

    /// The message `load` throws for the damaged config, which must name its path.
    private func message(_ path: String, _ key: String, _ value: String, _ load: (URL) throws -> Void) throws -> String {
        let url = try damaged(path, key, value)
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        do {
            try load(url)
            Issue.record("\(path) with \(key) = \(value) was accepted")
            return ""
        } catch let error as ModelLoadingError {
            #expect(error.message.hasPrefix(url.path + ": "), "\(error.message)")
            return error.message
        }
    }

    @Test(arguments: [
        ("layers_per_block", "-1", "'layers_per_block' = -1"),
        ("layers_per_block", "[2, -1]", "'layers_per_block' = -1"),
        ("transformer_layers_per_block", "-1", "'transformer_layers_per_block' = -1"),
        ("norm_eps", "-1", "'norm_eps' = -1.0"),
        ("norm_eps", "0", "'norm_eps' = 0.0"),
        ("in_channels", "0", "'in_channels' = 0"),
        ("out_channels", "-4", "'out_channels' = -4"),
        ("block_out_channels", "[32, 3037000500]", "'block_out_channels' = 3037000500"),
        ("block_out_channels", "[8, 8, 8, 8, 8, 8, 8, 8, 8]", "'block_out_channels' lists 9 blocks"),
        ("cross_attention_dim", "0", "'cross_attention_dim' = 0"),
        ("conv_in_kernel", "100001", "'conv_in_kernel' must be an odd kernel size up to 31"),
        ("downsample_padding", "-3", "'downsample_padding' = -3"),
    ])
    func unetConfig(_ key: String, _ value: String, _ words: String) throws {
        let text = try message("tiny-sd15/unet/config.json", key, value) { _ = try UNet2DConditionConfig.load(contentsOf: $0) }
        #expect(text.contains(words), "\(text)")
    }

    @Test(arguments: [
        ("layers_per_block", "-1", "'layers_per_block' = -1"),
        ("latent_channels", "0", "'latent_channels' = 0"),
        ("scaling_factor", "0", "'scaling_factor' = 0.0"),
        // 4 blocks: a tile is sample_size / 8 latent pixels and must be at least 2.
        ("sample_size", "8", "'sample_size' = 8 must be an integer in 16...1000000"),
        ("block_out_channels", "[8, 16, 16, 1000000000]", "'block_out_channels' = 1000000000"),
    ])
    func vaeConfig(_ key: String, _ value: String, _ words: String) throws {
        let text = try message("tiny-sd15/vae/config.json", key, value) { _ = try AutoencoderKLConfig.load(contentsOf: $0) }
        #expect(text.contains(words), "\(text)")
    }

    @Test(arguments: [
        ("conditioning_channels", "0", "'conditioning_channels' = 0"),
        ("conditioning_embedding_out_channels", "[16, -32]", "'conditioning_embedding_out_channels' = -32"),
        ("layers_per_block", "-2", "'layers_per_block' = -2"),
        ("norm_eps", "-0.5", "'norm_eps' = -0.5"),
    ])
    func controlNetConfig(_ key: String, _ value: String, _ words: String) throws {
        let text = try message("controlnets/sd-1_5/canny/config.json", key, value) { _ = try ControlNetConfig.load(contentsOf: $0) }
        #expect(text.contains(words), "\(text)")
    }

    @Test(arguments: [
        ("text_encoder/config.json", "layer_norm_eps", "-1", "'layer_norm_eps' = -1.0"),
        ("text_encoder/config.json", "vocab_size", "2000000", "'vocab_size' = 2000000"),
        ("text_encoder/config.json", "num_hidden_layers", "-3", "'num_hidden_layers' = -3"),
        ("image_encoder", "layer_norm_eps", "0", "'layer_norm_eps' = 0.0"),
        ("image_encoder", "num_hidden_layers", "-1", "'num_hidden_layers' = -1"),
        ("image_encoder", "patch_size", "0", "'patch_size' = 0"),
    ])
    func clipConfig(_ file: String, _ key: String, _ value: String, _ words: String) throws {
        let text = file == "image_encoder"
            ? try message("ip-adapters/sd-1_5/style/image_encoder/config.json", key, value) { _ = try CLIPVisionConfig.load(contentsOf: $0) }
            : try message("tiny-sd15/text_encoder/config.json", key, value) { _ = try CLIPTextConfig.load(contentsOf: $0) }
        #expect(text.contains(words), "\(text)")
    }

    /// The undamaged configs still load.
    @Test func tinyConfigsLoad() throws {
        _ = try UNet2DConditionConfig.load(contentsOf: Self.weights.appendingPathComponent("tiny-sd15/unet/config.json"))
        _ = try AutoencoderKLConfig.load(contentsOf: Self.weights.appendingPathComponent("tiny-sd15/vae/config.json"))
        _ = try ControlNetConfig.load(contentsOf: Self.weights.appendingPathComponent("controlnets/sd-1_5/canny/config.json"))
        _ = try CLIPTextConfig.load(contentsOf: Self.weights.appendingPathComponent("tiny-sd15/text_encoder/config.json"))
        _ = try CLIPVisionConfig.load(contentsOf: Self.weights.appendingPathComponent("ip-adapters/sd-1_5/style/image_encoder/config.json"))
    }

    /// A FIFO in place of a config is refused at once instead of waiting for a writer.
    @Test func fifoConfigIsAnError() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ConfigFIFO-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("config.json")
        try #require(mkfifo(url.path, 0o644) == 0)
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            #expect {
                _ = try UNet2DConditionConfig.load(contentsOf: url)
            } throws: { error in
                (error as? ModelLoadingError)?.message
                    == "\(url.path): cannot read the UNet config: not a regular file (it is a FIFO)"
            }
            done.signal()
        }
        if done.wait(timeout: .now() + 10) == .timedOut {
            Issue.record("loading a FIFO config did not return within 10 seconds")
            let writer = open(url.path, O_WRONLY | O_NONBLOCK)  // releases the blocked open
            if writer >= 0 { close(writer) }
            _ = done.wait(timeout: .now() + 10)
        }
    }
}
