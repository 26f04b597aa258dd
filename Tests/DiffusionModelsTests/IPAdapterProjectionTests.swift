import DiffusionCore
import DiffusionFormats
import DiffusionModels
import Foundation
import Testing

/// The IP-Adapter image projections against diffusers (Tests/Goldens/ipadapter/generate.py), read
/// from the original `ip-adapter.safetensors` layout.
@Suite struct IPAdapterProjectionTests {
    static let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Goldens/ipadapter/projection.safetensors")

    /// The store restricted to one variant: the other variant's keys and the case tensors are not weights.
    func store(_ variant: String) throws -> WeightStore {
        try WeightStore(contentsOf: Self.url, ignored: { !$0.hasPrefix("\(variant).image_proj.") })
    }

    // Tolerance 1e-4 relative to the output's scale: a few float32 matrix products, softmax and
    // layer norms; PyTorch and OpenBLAS sum in different orders.
    @Test(arguments: ["base", "plus"]) func matchesDiffusers(_ variant: String) throws {
        let store = try store(variant)
        let projection = try IPAdapterImageProjection(store.root[variant]["image_proj"])
        try store.checkAllUsed()
        let output = projection(try store.file.tensor(named: "\(variant).x"))
        let expected = try store.file.tensor(named: "\(variant).out")
        UNetGoldens.expectClose(output, expected, variant)
    }

    @Test func readsTheVariantFromTheKeys() throws {
        let base = try IPAdapterImageProjection(try store("base").root["base"]["image_proj"])
        let plus = try IPAdapterImageProjection(try store("plus").root["plus"]["image_proj"])
        guard case .base = base, case .plus(let resampler) = plus else {
            Issue.record("wrong variants")
            return
        }
        #expect(base.inputDimension == 40 && base.outputDimension == 24)
        #expect(plus.inputDimension == 40 && plus.outputDimension == 24)
        #expect(resampler.layers.count == 4)
    }

    @Test func keysOfNeitherLayoutAreAnErrorNamingTheFile() throws {
        #expect {
            try IPAdapterImageProjection(try store("base").root["missing"])
        } throws: { error in
            "\(error)".contains("projection.safetensors") && "\(error)".contains("missing.proj.weight")
        }
    }
}
