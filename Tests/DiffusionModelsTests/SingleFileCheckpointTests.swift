import DiffusionCore
import DiffusionFormats
import DiffusionModels
import Foundation
import Testing

/// Single-file checkpoints against their diffusers folder form (Tests/Goldens/checkpoints, made by
/// generate_single_file.py, whose files diffusers' own single-file conversion turns back into the
/// folder's tensors exactly).
struct SingleFileCheckpointTests {
    static let goldens = UNetGoldens.root.appendingPathComponent("checkpoints")

    /// Every converted tensor equals the folder form's tensor under the diffusers name, bit for bit,
    /// and no tensor is missing or extra on either side.
    @Test(arguments: ["sd15", "sdxl"])
    func everyTensorEqualsTheFolderForm(name: String) throws {
        let checkpoint = try SingleFileCheckpoint(contentsOf: Self.goldens.appendingPathComponent("\(name).safetensors"))
        #expect(checkpoint.family == (name == "sdxl" ? .stableDiffusionXL : .stableDiffusion15))
        for component in checkpoint.components {
            let view = try checkpoint.weights(component)
            let folder = Self.goldens.appendingPathComponent(name).appendingPathComponent(component.rawValue)
            let file = try TensorFiles.open(WeightFile.transformers.exists(in: folder)
                ? WeightFile.transformers.locate(in: folder) : WeightFile.diffusers.locate(in: folder))
            let prefixed = component == .textEncoder && !(file.names.first?.hasPrefix("text_model.") ?? true)
            let expected = Set(file.names.map { prefixed ? "text_model." + $0 : $0 })
            #expect(!expected.isEmpty && Set(view.names) == expected, "\(name) \(component)")
            for stored in file.names {
                let converted = prefixed ? "text_model." + stored : stored
                let got = try view.withElements(converted) { Array($0) }
                let want = try file.withElements(stored) { Array($0) }
                #expect(view.info(converted)?.shape == file.info(stored)?.shape, "\(name) \(component) \(converted)")
                #expect(got == want, "\(name) \(component) \(converted)")
            }
        }
    }
}
