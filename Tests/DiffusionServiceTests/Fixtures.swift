import DiffusionCore
import DiffusionPipeline
import DiffusionService
import Foundation

/// A fresh folder under the system temporary directory, removed when the value goes away.
final class TemporaryFolder {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("DiffusionPipelineTests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    /// Writes `text` at `path` (relative), creating folders.
    func write(_ text: String, at path: String) throws {
        let file = url.appendingPathComponent(path)
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: file)
    }

    func remove(_ path: String) throws {
        try FileManager.default.removeItem(at: url.appendingPathComponent(path))
    }

    /// The names in `path` (relative; the folder itself by default).
    func contents(of path: String = "") -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: url.appendingPathComponent(path).path)) ?? []).sorted()
    }
}

/// A models directory laid out as Docs/SPEC.md §1 with tiny JSON files and empty weight files (the
/// resolution only checks that files exist): `sd15` (PNDMScheduler) and `sdxl`
/// (EulerDiscreteScheduler), some ControlNets for each family, both IP-Adapter types, and an
/// asset store holding `controlAsset` and `styleAsset`.
final class TestEnvironment {
    let folder: TemporaryFolder
    let models: ModelsDirectory
    let assets: AssetStore
    let controlAsset: String
    let styleAsset: String

    static let controlNets: [ModelFamily: [String]] = [
        .sd15: ["canny", "depth", "pose", "lines", "seg", "illusion"],
        .sdxl: ["canny", "depth", "pose"],
    ]

    init() throws {
        let folder = try TemporaryFolder()
        self.folder = folder
        models = ModelsDirectory(url: folder.url.appendingPathComponent("models"))
        assets = AssetStore(url: folder.url.appendingPathComponent("assets"))
        try Self.writeModel("sd15", className: "StableDiffusionPipeline", scheduler: "PNDMScheduler", family: .sd15, in: folder)
        try Self.writeModel("sdxl", className: "StableDiffusionXLControlNetPipeline", scheduler: "EulerDiscreteScheduler",
                            family: .sdxl, in: folder)
        for (family, modalities) in Self.controlNets {
            for modality in modalities {
                try Self.writeFiles(["config.json", "diffusion_pytorch_model.safetensors"],
                                    in: "models/controlnets/\(family.rawValue)/\(modality)", of: folder)
            }
            for type in IPAdapterType.allCases {
                try Self.writeFiles(IPAdapterFolder.requiredFiles,
                                    in: "models/ip-adapters/\(family.rawValue)/\(type.rawValue)", of: folder)
            }
        }
        controlAsset = try assets.add(RGBImage(width: 2, height: 2), kind: .uploaded).id
        styleAsset = try assets.add(RGBImage(width: 3, height: 1), kind: .uploaded).id
    }

    /// A pipeline folder under `models/` whose model_index.json has `className` (plus
    /// `extraIndex`, JSON members starting with a comma).
    static func writeModel(
        _ id: String, className: String, scheduler: String, family: ModelFamily, extraIndex: String = "",
        in folder: TemporaryFolder
    ) throws {
        try folder.write(#"{"_class_name": "\#(className)", "_diffusers_version": "0.30.0"\#(extraIndex)}"#,
                         at: "models/\(id)/model_index.json")
        try folder.write(#"{"_class_name": "\#(scheduler)", "num_train_timesteps": 1000}"#,
                         at: "models/\(id)/scheduler/scheduler_config.json")
        try writeFiles(ModelFolder.requiredFiles(for: family).filter { !$0.hasPrefix("scheduler/") },
                       in: "models/\(id)", of: folder)
    }

    private static func writeFiles(_ paths: [String], in folderPath: String, of folder: TemporaryFolder) throws {
        for path in paths { try folder.write("{}", at: "\(folderPath)/\(path)") }
    }

    /// Decodes `body` and resolves it here.
    func resolve(_ body: String) throws -> ResolvedRequest {
        try ResolvedRequest(GenerationRequest(json: Data(body.utf8)), models: models, assets: assets)
    }

    /// `minimalBody` with `fields` (JSON members, `"a": 1, "b": 2`) added or replacing its own.
    func resolve(adding fields: String, model: String = "sd15") throws -> ResolvedRequest {
        try resolve(body(adding: fields, model: model))
    }
}

let pngDataURL = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVQYV2NgYAAAAAMAAWgmWQ0AAAAASUVORK5CYII="

/// The smallest valid body (the three required fields, a control image and an IP-Adapter
/// image) with `fields` (JSON members, `"a": 1, "b": null`) added or replacing its own.
func body(adding fields: String = "", model: String = "sd15") -> String {
    var members: [String: Any] = [
        "modelId": model, "prompt": "a cat", "modality": "canny", "controlImage": pngDataURL, "ipAdapterImage": pngDataURL,
    ]
    // A typo in a test's fields makes a body that fails to decode, not a silently different one.
    guard let extra = (try? JSONSerialization.jsonObject(with: Data("{\(fields)}".utf8))) as? [String: Any] else {
        return "test fields are not JSON: \(fields)"
    }
    members.merge(extra) { $1 }
    let data = (try? JSONSerialization.data(withJSONObject: members)) ?? Data()
    return String(decoding: data, as: UTF8.self)
}

/// The `GenerationError` `body` throws, or nil when it throws none.
func error(of body: () throws -> Any) -> GenerationError? {
    do {
        _ = try body()
        return nil
    } catch let error as GenerationError {
        return error
    } catch {
        return GenerationError(status: -1, message: "not a GenerationError: \(error)")
    }
}

extension TestEnvironment {
    /// One environment for the many parameterized tests that only read it: made once per
    /// test process and removed when the process exits, so each case does not rebuild ~60 files.
    static func shared() throws -> TestEnvironment { try sharedEnvironment.get() }

    private static let sharedEnvironment = Result {
        let environment = try TestEnvironment()
        sharedURL = environment.folder.url
        atexit { if let url = TestEnvironment.sharedURL { try? FileManager.default.removeItem(at: url) } }
        return environment
    }

    private static var sharedURL: URL?
}
