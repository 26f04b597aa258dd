import DiffusionPipeline
import DiffusionService
import Foundation
import Testing

/// The `modality` grammar, family restrictions and presets (Docs/SPEC.md §2).
@Suite struct ModalityTests {
    /// Resolves `modality` and returns its ControlNets as `name:scale` strings.
    private func controlNets(_ modality: String, model: String = "sd15", in environment: TestEnvironment) throws -> [String] {
        try environment.resolve(adding: #""modality": "\#(modality)""#, model: model).controlNets.map(\.modality.description)
    }

    @Test(arguments: [
        ("canny", "sd15", ["canny:1.0"]),
        ("illusion:1", "sd15", ["illusion:1.0"]),
        ("depth:0.5,pose:1.0", "sd15", ["depth:0.5", "pose:1.0"]),
        ("canny:0.5,depth:0.5,lines:0.3", "sd15", ["canny:0.5", "depth:0.5", "lines:0.3"]),
        (" depth : 0.5 , pose ", "sd15", ["depth:0.5", "pose:1.0"]),
        ("pose,canny", "sdxl", ["pose:1.0", "canny:1.0"]),
        ("canny:0.001", "sd15", ["canny:0.001"]),
        ("landscape", "sd15", ["depth:1.0", "canny:1.0"]),
        ("character:0.5", "sd15", ["depth:0.5", "pose:0.5"]),
        ("character", "sdxl", ["depth:1.0", "pose:1.0"]),
        ("city:0.25", "sd15", ["canny:0.25", "depth:0.25", "seg:0.25"]),
        ("interior", "sd15", ["lines:1.0", "depth:1.0", "seg:1.0"]),
    ])
    func accepted(_ modality: String, _ model: String, _ expected: [String]) throws {
        #expect(try controlNets(modality, model: model, in: TestEnvironment.shared()) == expected)
    }

    /// (modality, model, a phrase the message must hold).
    @Test(arguments: [
        ("canny:0", "sd15", "]0, 1]"), ("canny:1.01", "sd15", "]0, 1]"), ("canny:-0.5", "sd15", "]0, 1]"),
        ("canny:abc", "sd15", "]0, 1]"), ("canny:", "sd15", "]0, 1]"), ("canny:nan", "sd15", "]0, 1]"),
        ("canny:inf", "sd15", "]0, 1]"), (":0.5", "sd15", "name:value"), ("canny:0.5:1", "sd15", "name:value"),
        ("", "sd15", "name:value"), ("canny,,depth", "sd15", "name:value"), ("canny,", "sd15", "name:value"),
        ("canny,canny", "sd15", "listed twice"), ("canny:0.5,canny:1", "sd15", "listed twice"),
        ("canny,depth,pose,lines", "sd15", "at most 3"),
        ("character,canny", "sd15", "cannot be combined"), ("canny,landscape:0.5", "sd15", "cannot be combined"),
        ("lines", "sdxl", "not a modality of sd-xl"), ("lineart", "sdxl", "not a modality of sd-xl"),
        ("normal-map", "sdxl", "not a modality of sd-xl"),
        ("canny:0.5,depth:0.5,lines:0.3", "sdxl", "not a modality of sd-xl"),
        ("city", "sdxl", "not available for sd-xl"), ("interior:0.5", "sdxl", "not available for sd-xl"),
        ("blur", "sd15", "not a modality of sd-1_5"), ("tile", "sdxl", "not a modality of sd-xl"),
        ("Canny", "sd15", "not a modality of sd-1_5"), ("sketch", "sd15", "not a modality of sd-1_5"),
        ("character:0", "sd15", "]0, 1]"),
    ])
    func refused(_ modality: String, _ model: String, _ phrase: String) throws {
        let failure = error { try controlNets(modality, model: model, in: TestEnvironment.shared()) }
        #expect(failure?.status == 400 && failure?.field == "modality")
        #expect(failure?.message.contains(phrase) == true, "\(failure?.message ?? "no error")")
    }

    @Test func missingControlNetIs404NamingModalityAndFamily() throws {
        let environment = try TestEnvironment()
        let failure = error { try controlNets("canny,scribble", in: environment) }
        #expect(failure?.status == 404 && failure?.field == "modality")
        #expect(failure?.message.contains("'scribble'") == true && failure?.message.contains("sd-1_5") == true)
        // A preset whose member has no ControlNet fails the same way.
        try environment.folder.remove("models/controlnets/sd-1_5/seg")
        let preset = error { try controlNets("city", in: environment) }
        #expect(preset?.status == 404 && preset?.message.contains("'seg'") == true)
    }

    @Test func presetsJSONOverridesItsEntriesOnly() throws {
        let environment = try TestEnvironment()
        try environment.folder.write(#"{"character": ["canny", "depth:0.5"]}"#, at: "models/presets.json")
        #expect(try controlNets("character:0.5", in: environment) == ["canny:0.5", "depth:0.25"])
        #expect(try controlNets("character", in: environment) == ["canny:1.0", "depth:0.5"])
        #expect(try controlNets("landscape", in: environment) == ["depth:1.0", "canny:1.0"])
        #expect(try environment.models.presets().members(of: "character")
            == [ControlNetModality(name: "canny"), ControlNetModality(name: "depth", scale: 0.5)])
    }

    @Test(arguments: [
        #"{"character": []}"#, #"{"character": ["canny", "canny"]}"#, #"{"character": ["canny", "depth", "pose", "seg"]}"#,
        #"{"character": ["laser"]}"#, #"{"character": ["canny:2"]}"#, #"{"hero": ["canny"]}"#, #"{"character": "canny"}"#,
        "not json",
    ])
    func badPresetsJSONIsAServerError(_ contents: String) throws {
        let environment = try TestEnvironment()
        try environment.folder.write(contents, at: "models/presets.json")
        let failure = error { try controlNets("canny", in: environment) }
        #expect(failure?.status == 500)
        #expect(failure?.message.contains("presets.json") == true, "\(failure?.message ?? "no error")")
    }

    @Test func presetMemberOutsideTheFamilyIsAServerError() throws {
        let environment = try TestEnvironment()
        try environment.folder.write(#"{"character": ["lines"]}"#, at: "models/presets.json")
        let failure = error { try controlNets("character", model: "sdxl", in: environment) }
        #expect(failure?.status == 500 && failure?.message.contains("'lines'") == true)
    }

    @Test func canonicalModalityString() throws {
        let resolved = try TestEnvironment.shared().resolve(adding: #""modality": "character:0.5""#)
        #expect(resolved.modality == "depth:0.5,pose:0.5")
    }
}
