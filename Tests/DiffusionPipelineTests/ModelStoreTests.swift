import DiffusionPipeline
import Foundation
import Testing

/// The model store through the public pipeline: one load per model, shared across pipelines, and
/// the byte budget.
@Suite struct ModelStoreTests {
    static let sd15 = StableDiffusionPipelineTests.sd15

    /// Weights keep their stored precision, so a model's bytes are its weight files' sizes.
    static func bytes(_ component: String) throws -> Int {
        let folder = sd15.appendingPathComponent(component)
        return try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: [.fileSizeKey])
            .reduce(0) { $0 + (try $1.resourceValues(forKeys: [.fileSizeKey]).fileSize ?? 0) }
    }

    @Test func concurrentGenerationsLoadEachModelOnce() throws {
        let store = ModelStore()
        let parameters = GenerationParameters(prompt: "x", width: 64, height: 64, steps: 1)
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            _ = try? StableDiffusionPipeline(folder: Self.sd15, store: store).generate(parameters)
        }
        #expect(store.keys.map(\.kind.rawValue).sorted() == ["textEncoders", "unet", "vae"])
        let expected = try Self.bytes("unet") + Self.bytes("vae") + Self.bytes("text_encoder")
        #expect(store.bytesLoaded == expected)
    }

    @Test func overBudgetTheLeastRecentlyUsedModelsGo() throws {
        // Room for the UNet alone: after a generation only the last model loaded (the VAE, which
        // decodes) may stay, with whatever else still fits.
        let budget = try Self.bytes("unet")
        let store = ModelStore(budget: budget)
        _ = try StableDiffusionPipeline(folder: Self.sd15, store: store)
            .generate(GenerationParameters(prompt: "x", width: 64, height: 64, steps: 1))
        #expect(store.bytesLoaded <= max(budget, try Self.bytes("vae")))
        #expect(store.keys.contains { $0.kind == .vae })
        #expect(!store.keys.contains { $0.kind == .textEncoders })
    }
}
