import DiffusionService
import Foundation
import Testing

/// `diffuse models`' inventory of a models directory.
@Suite struct ModelsInventoryTests {
    @Test func listsFormsAndWhatIsMissing() throws {
        let models = try ModelFormTests.models()
        try models.write("{}", at: "broken/model_index.json")
        let inventory = ModelsDirectory(url: models.url).inventory()
        let byId = Dictionary(uniqueKeysWithValues: inventory.models.map { ($0.id, $0) })
        #expect(byId["tiny-sd15"]?.form == "diffusers folder" && byId["tiny-sd15"]?.family == "sd-1_5")
        #expect(byId["tiny-sd15-single"]?.form == "single file tiny-sd15-single.safetensors")
        #expect(byId["broken"]?.family == nil && byId["broken"]?.problem != nil)
        let sd15 = try #require(inventory.families.first { $0.family == "sd-1_5" })
        #expect(Set(sd15.controlNets.keys) == ["canny", "depth", "pose"])
        #expect(sd15.missingControlNets == ["lines", "seg", "scribble", "lineart", "normal-map", "illusion"])
        #expect(sd15.ipAdapters == ["style": "ip-adapter.safetensors", "character": "ip-adapter.safetensors"])
        #expect(inventory.detectors["canny"] == "built in" && inventory.detectors["illusion"] == "no detector needed")
        #expect(inventory.detectors["depth"]?.contains("detectors/depth/") == true)
        #expect(inventory.detectors["pose"]?.hasPrefix("needs detectors/pose/body_pose_model.pth") == true)
    }
}
