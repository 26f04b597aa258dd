import DiffusionCore
import DiffusionFormats
import DiffusionModels
import Foundation
import Testing

/// NaN and infinite weights are data: a model loads from them and its forward pass returns
/// non-finite numbers (which the pipeline reports by stage) instead of trapping anywhere.
struct NonFiniteWeightsTests {
    private static let tinyVAE = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Tests/Fixtures/Weights/tiny-sd15/vae")

    /// A copy of the tiny VAE whose every weight is `value`, in float16 as the original.
    private func poisonedVAE(_ value: Float) throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("NonFiniteVAE-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: Self.tinyVAE.appendingPathComponent("config.json"), to: folder.appendingPathComponent("config.json"))
        let file = try SafeTensorsFile(contentsOf: Self.tinyVAE.appendingPathComponent("diffusion_pytorch_model.safetensors"))
        let tensors = try file.names.map { name in
            (name: name, tensor: Tensor(shape: try file.tensor(named: name).shape, repeating: value))
        }
        try SafeTensors.write(tensors, dtype: .f16, to: folder.appendingPathComponent("diffusion_pytorch_model.safetensors"))
        return folder
    }

    @Test(arguments: [Float.nan, .infinity, -.infinity])
    func vaeDecodesWithoutTrapping(_ value: Float) throws {
        let folder = try poisonedVAE(value)
        defer { try? FileManager.default.removeItem(at: folder) }
        let vae = try AutoencoderKL(folder: folder)
        let image = try vae.decode(Tensor(shape: [1, 8, 8, 4], repeating: 0.5))
        #expect(image.shape == [1, 64, 64, 3])
        #expect(image.scalars.allSatisfy { !$0.isFinite })
    }
}
