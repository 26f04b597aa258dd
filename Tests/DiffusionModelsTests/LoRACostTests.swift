import DiffusionModels
import Foundation
import Testing

/// What merging a LoRA costs on a full-size SD1.5 UNet: the load time of the base model and of the
/// patched ones. Runs only when DIFFUSE_LORA_COST names a folder written by
/// Tests/Goldens/lora/write_cost_models.py (1.7 GB, not committed); Docs/LORA.md holds the figures.
struct LoRACostTests {
    static let folder = ProcessInfo.processInfo.environment["DIFFUSE_LORA_COST"].map { URL(fileURLWithPath: $0) }

    /// Builds a model with `build`, printing its load time. (Memory follows from the weights' sizes,
    /// Docs/LORA.md; the resident set cannot show it here, freed models' pages being reused.)
    private func measure(_ what: String, _ build: () throws -> UNet2DConditionModel) rethrows {
        let start = Date()
        let model = try build()
        print(String(format: "%@: %.2f s", what, Date().timeIntervalSince(start)))
        withExtendedLifetime(model) {}
    }

    @Test(.enabled(if: folder != nil)) func mergeCost() throws {
        let folder = try #require(Self.folder)
        let unet = folder.appendingPathComponent("unet")
        let start = Date()
        let targets = try LoRATargets(modelDirectory: folder)
        let lora = try LoRA(contentsOf: folder.appendingPathComponent("loras/style.safetensors"), targets: targets)
        print(String(format: "read the LoRA (%d modules): %.2f s", lora.moduleCount(.unet), Date().timeIntervalSince(start)))
        let set = LoRASet([(lora, 1)])
        try measure("base UNet") { try UNet2DConditionModel(folder: unet) }
        try measure("patched, float32") { try UNet2DConditionModel(folder: unet, patches: set.patches(for: .unet)) }
        try measure("patched, float16 kept") {
            try UNet2DConditionModel(folder: unet, patches: set.patches(for: .unet, keepingFloat16: true))
        }
    }
}
