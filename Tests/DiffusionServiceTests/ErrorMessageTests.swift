import DiffusionPipeline
import DiffusionService
import Foundation
import Testing

/// Errors reach HTTP clients: they name what is wrong inside the models directory, never where
/// the server keeps its files.
@Suite struct ErrorMessageTests {
    func failure(_ body: () throws -> Any) -> GenerationError? {
        do { _ = try body() } catch let error as GenerationError { return error } catch { Issue.record("\(error)") }
        return nil
    }

    @Test func messagesNameRelativePaths() throws {
        let environment = try TestEnvironment()
        let root = environment.models.url.path
        try environment.folder.remove("models/controlnets/sd-1_5/depth")
        try environment.folder.remove("models/ip-adapters/sd-1_5/character")
        try environment.folder.remove("models/sdxl/unet/config.json")
        try environment.folder.write("{not json", at: "models/sd15/scheduler/scheduler_config.json")
        let cases: [(GenerationError?, Int, String)] = [
            (failure { try environment.models.controlNet(modality: "depth", family: .sd15) }, 404, "controlnets/sd-1_5/depth/"),
            (failure { try environment.models.ipAdapter(type: .character, family: .sd15) }, 404, "ip-adapters/sd-1_5/character/"),
            (failure { try environment.models.model("sdxl") }, 500, "sdxl/unet/config.json"),
            (failure { try environment.models.model("sd15") }, 500, "sd15/scheduler/scheduler_config.json"),
        ]
        for (error, status, path) in cases {
            #expect(error?.status == status, "\(String(describing: error))")
            #expect(error?.message.contains(path) == true, "\(String(describing: error))")
            #expect(error?.message.contains(root) == false, "\(String(describing: error))")
        }
    }
}
