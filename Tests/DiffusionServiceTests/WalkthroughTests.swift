import DiffusionCore
import DiffusionFormats
import DiffusionModels
import Foundation
import Testing

/// Weights/README.md's "Installing real models", run as written: its ```sh blocks, read from the
/// README (so the doc and the test cannot drift apart), in one shell in a fresh HOME, with the built
/// `diffuse` installed as a user installs it (the binary and its resources folder, copied) and a
/// stand-in `hf` first on PATH (Tests/Fixtures/Walkthrough/hf). The stand-in serves, under each
/// published repository and path the walkthrough names, a tiny file of the same name, form and key
/// layout as the published one, made from the committed tiny models; any other name fails the run.
///
/// What it proves: every command runs, every name the walkthrough downloads is one the stand-in hub
/// knows (Docs/MODELS.md says which were checked against the published repositories), each file
/// lands where the models directory looks for it, `diffuse models` lists each one in its form, and
/// `diffuse generate` with them gives the image the same tiny models give as diffusers folders, bit
/// for bit. What it does not: that the real files download (no network here), or their sizes.
@Suite struct WalkthroughTests {
    static let root = GenerationBehaviourTests.root
    static let fixtures = root.appendingPathComponent("Tests/Fixtures/Walkthrough")
    static let weights = root.appendingPathComponent("Weights")

    /// Step 5 at 512x512 and 25 steps takes minutes with the tiny models on a CPU: the test runs it
    /// at 64x64 in 3 steps, with a fixed seed so that the folder-form run can repeat it.
    static let stepFiveSize = "--width 512 --height 512 --steps 25"
    static let testSize = "--width 64 --height 64 --steps 3 --seed 7"

    @Test func theWalkthroughInstallsModelsThatGenerate() throws {
        let blocks = try Self.shellBlocks()
        try #require(blocks.count == 5, "Weights/README.md's 'Installing real models' should have five sh blocks: \(blocks)")
        let stepFive = try #require(blocks.last)
        try #require(stepFive.contains(Self.stepFiveSize), "step 5 no longer says '\(Self.stepFiveSize)': update the test's override")
        let hub = try TemporaryFolder()
        try Self.writeStandIns(hub: hub.url)
        let home = try TemporaryFolder()
        let bin = try Self.install(in: home.url.appendingPathComponent(".local/bin"))
        for (name, file) in [("edges.png", "control.png"), ("style.png", "style.png")] {
            try FileManager.default.copyItem(
                at: Self.root.appendingPathComponent("Examples/images/\(file)"), to: home.url.appendingPathComponent(name))
        }

        // Steps 1-4 in one shell, as typed in one terminal; step 5 then starts where they left it.
        let place = hub.url.appendingPathComponent("cwd")
        let install = try Self.shell(
            blocks.dropLast().joined(separator: "\n") + "\npwd > '\(place.path)'", home: home.url, in: home.url, bin: bin, hub: hub.url)
        try #require(install.status == 0, "steps 1-4 failed:\n\(install.errors)")
        let models = home.url.appendingPathComponent("models")
        for path in [
            "sd15/sd15.safetensors", "controlnets/sd-1_5/canny/control_v11p_sd15_canny_fp16.safetensors",
            "ip-adapters/sd-1_5/style/ip-adapter_sd15.safetensors", "ip-adapters/sd-1_5/character/ip-adapter-plus_sd15.safetensors",
            "ip-adapters/sd-1_5/image_encoder/config.json", "ip-adapters/sd-1_5/image_encoder/model.safetensors",
            "detectors/pose/body_pose_model.pth", "detectors/scribble/ControlNetHED.pth", "detectors/depth/dpt_hybrid-midas-501f0c75.pt",
            "detectors/lines/mlsd_large_512_fp32.pth", "detectors/lineart/sk_model.pth", "detectors/lineart/sk_model2.pth",
        ] {
            #expect(FileManager.default.fileExists(atPath: models.appendingPathComponent(path).path), "\(path) is not where step 5 needs it")
        }
        #expect(!FileManager.default.fileExists(atPath: models.appendingPathComponent("ip-adapters/sd-1_5/models").path))
        try Self.addTinyConfigs(models: models)

        let workingFolder = URL(fileURLWithPath: try String(contentsOf: place, encoding: .utf8).trimmingCharacters(in: .newlines))
        let script = stepFive.replacingOccurrences(of: Self.stepFiveSize, with: Self.testSize)
        let run = try Self.shell(script, home: home.url, in: workingFolder, bin: bin, hub: hub.url)
        try #require(run.status == 0, "step 5 failed:\n\(run.output)\n\(run.errors)")
        let listing = run.output.components(separatedBy: "\n{").first ?? ""
        for line in [
            "  sd15: sd-1_5 single file sd15.safetensors",
            "  ControlNet canny: single file control_v11p_sd15_canny_fp16.safetensors",
            "  IP-Adapter character: ip-adapter-plus_sd15.safetensors",
            "  IP-Adapter style: ip-adapter_sd15.safetensors",
            "  pose: installed (detectors/pose/body_pose_model.pth)",
            "  scribble: installed (detectors/scribble/ControlNetHED.pth)",
            "  depth: installed (detectors/depth/dpt_hybrid-midas-501f0c75.pt)",
            "  lines: installed (detectors/lines/mlsd_large_512_fp32.pth)",
            "  lineart: installed (detectors/lineart/sk_model.pth)",
            "  canny: built in",
        ] {
            #expect(listing.components(separatedBy: "\n").contains(line), "diffuse models does not say '\(line)':\n\(listing)")
        }
        #expect(!listing.contains("unusable"), "\(listing)")
        let image = try PNG.decode(Data(contentsOf: workingFolder.appendingPathComponent("castle.png")))

        // The same block with ~/models the tiny models' diffusers folders (Weights/, sd15 being
        // shapes-sd15): the same image, bit for bit, so each installed file was found and used.
        let folderHome = try TemporaryFolder()
        try Self.linkFolderForm(models: folderHome.url.appendingPathComponent("models"))
        for name in ["edges.png", "style.png"] {
            try FileManager.default.copyItem(at: home.url.appendingPathComponent(name), to: folderHome.url.appendingPathComponent(name))
        }
        let folderRun = try Self.shell(script, home: folderHome.url, in: folderHome.url, bin: bin, hub: hub.url)
        try #require(folderRun.status == 0, "the folder-form run failed:\n\(folderRun.output)\n\(folderRun.errors)")
        #expect(image == (try PNG.decode(Data(contentsOf: folderHome.url.appendingPathComponent("castle.png")))))

        // The Plus adapter under its published name with the shared encoder, against the same
        // tensors as a folder-form adapter with its own image_encoder/.
        try Self.writePlusFolder(models: folderHome.url.appendingPathComponent("plus-models"), hub: hub.url)
        let character = script.components(separatedBy: "\n").drop { !$0.hasPrefix("diffuse generate") }.joined(separator: "\n")
            .replacingOccurrences(of: "-o castle.png", with: "--ip-adapter-type character -o character.png")
        let plusRun = try Self.shell(character, home: home.url, in: workingFolder, bin: bin, hub: hub.url)
        try #require(plusRun.status == 0, "the character run failed:\n\(plusRun.output)\n\(plusRun.errors)")
        let plusFolderRun = try Self.shell(
            character.replacingOccurrences(of: "~/models", with: "~/plus-models"),
            home: folderHome.url, in: folderHome.url, bin: bin, hub: hub.url)
        try #require(plusFolderRun.status == 0, "the folder-form character run failed:\n\(plusFolderRun.output)\n\(plusFolderRun.errors)")
        let plusImage = try PNG.decode(Data(contentsOf: workingFolder.appendingPathComponent("character.png")))
        #expect(plusImage == (try PNG.decode(Data(contentsOf: folderHome.url.appendingPathComponent("character.png")))))
        #expect(plusImage != image, "the character adapter changed nothing")

        // Each detector loads its file from where step 4 put it (M-LSD's broadcast views included).
        for (modality, flag) in [("pose", ""), ("scribble", ""), ("depth", ""), ("lines", ""), ("lineart", ""), ("lineart", " --coarse")] {
            let map = "map-\(modality)\(flag.isEmpty ? "" : "-coarse").png"
            let detect = try Self.shell("diffuse detect --modality \(modality)\(flag) --image edges.png --output \(map) --models ~/models",
                                        home: home.url, in: workingFolder, bin: bin, hub: hub.url)
            #expect(detect.status == 0, "diffuse detect --modality \(modality)\(flag): \(detect.errors)")
            #expect((try? PNG.decode(Data(contentsOf: workingFolder.appendingPathComponent(map)))) != nil, "\(map)")
        }
    }

    /// A misspelt name in a download fails the walkthrough, naming it: the stand-in knows only the
    /// published files.
    @Test func theStandInRefusesNamesItDoesNotKnow() throws {
        let hub = try TemporaryFolder()
        try Self.writeStandIns(hub: hub.url)
        let home = try TemporaryFolder()
        let bin = try Self.install(in: home.url.appendingPathComponent(".local/bin"))
        for (command, expected) in [
            ("hf download h94/IP-Adapter models/ip-adapter_sd15.bin --local-dir x", "repository 'h94/IP-Adapter' has no file 'models/ip-adapter_sd15.bin'"),
            ("hf download runwayml/stable-diffusion-v1-5 v1-5-pruned-emaonly-fp16.safetensors --local-dir x", "no repository 'runwayml/stable-diffusion-v1-5'"),
            ("huggingface-cli download h94/IP-Adapter models/ip-adapter_sd15.safetensors --local-dir x", "not found"),
        ] {
            let run = try Self.shell(command, home: home.url, in: home.url, bin: bin, hub: hub.url)
            #expect(run.status != 0 && run.errors.contains(expected), "\(command): \(run.errors)")
        }
    }

    /// The canny repack is keyed `control_model.*` here, as lllyasviel's `.pth` it was converted from;
    /// repacks without the prefix exist too. Either way the loader reads the folder's tensors, bit
    /// for bit, and infers the folder's channels.
    @Test(arguments: ["control_model.", ""])
    func theCannyStandInReadsAsTheFolder(prefix: String) throws {
        let folder = Self.weights.appendingPathComponent("controlnets/sd-1_5/canny")
        let keyMap = try KeyMap(contentsOf: Self.fixtures.appendingPathComponent("key_map.json"))
        let tensors = try keyMap.renamed("controlnet", folder.appendingPathComponent("diffusion_pytorch_model.safetensors"))
            .map { (name: prefix + String($0.name.dropFirst("control_model.".count)), tensor: $0.tensor) }
        let file = try TemporaryFolder()
        let url = file.url.appendingPathComponent("control_v11p_sd15_canny_fp16.safetensors")
        try SafeTensors.write(tensors, dtype: .f16, to: url)
        let view = try SingleFileControlNet.weights(try TensorFiles.open(url))
        let expected = try SafeTensorsFile(contentsOf: folder.appendingPathComponent("diffusion_pytorch_model.safetensors"))
        #expect(view.names == expected.names)
        for name in expected.names {
            #expect(try view.withElements(name) { Array($0) } == expected.withElements(name) { Array($0) }, "\(name)")
        }
        let config = try SingleFileControlNet.config(view)
        let want = try ControlNetConfig.load(contentsOf: folder.appendingPathComponent("config.json"))
        #expect(config.conditioningEmbeddingOutChannels == want.conditioningEmbeddingOutChannels)
        #expect(config.unet.blockOutChannels == want.unet.blockOutChannels && config.unet.downBlockTypes == want.unet.downBlockTypes)
    }

    // MARK: - The walkthrough's commands

    /// The ```sh blocks of Weights/README.md's "Installing real models" section, in order.
    static func shellBlocks() throws -> [String] {
        let readme = try String(contentsOf: weights.appendingPathComponent("README.md"), encoding: .utf8)
        let start = try #require(readme.range(of: "\n## Installing real models\n"), "Weights/README.md has no 'Installing real models' section")
        let rest = readme[start.upperBound...]
        let section = rest.range(of: "\n## ").map { rest[..<$0.lowerBound] } ?? rest
        return section.components(separatedBy: "```sh\n").dropFirst().compactMap { $0.components(separatedBy: "\n```").first }
    }

    struct Run {
        let status: Int32
        let output: String
        let errors: String
    }

    /// Runs `script` with `sh -eu` in `folder`, HOME `home`, `bin` first on PATH and the stand-in hub
    /// at `hub`; no other variable of the test's environment is passed on.
    static func shell(_ script: String, home: URL, in folder: URL, bin: URL, hub: URL) throws -> Run {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-euc", script]
        process.currentDirectoryURL = folder
        process.environment = ["HOME": home.path, "PATH": "\(bin.path):/usr/bin:/bin", "WALKTHROUGH_HUB": hub.path, "LANG": "C.UTF-8"]
        let output = Pipe()
        // Standard error to a file, so that reading the output cannot block on a full error pipe.
        let errors = FileManager.default.temporaryDirectory.appendingPathComponent("walkthrough-\(UUID().uuidString).txt")
        try #require(FileManager.default.createFile(atPath: errors.path, contents: nil))
        defer { try? FileManager.default.removeItem(at: errors) }
        process.standardOutput = output
        process.standardError = try FileHandle(forWritingTo: errors)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(status: process.terminationStatus, output: String(decoding: outputData, as: UTF8.self),
                   errors: try String(contentsOf: errors, encoding: .utf8))
    }

    /// `bin/` with copies of the built `diffuse` and its resources folder (the built-in tokenizers
    /// and scheduler configs), as a user installs them, and the stand-in `hf`.
    static func install(in bin: URL) throws -> URL {
        let built = root.appendingPathComponent(".build/release")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        // `cp` in another process: no process the other tests start meanwhile inherits a descriptor
        // open for writing on the copy (its exec would fail with "Text file busy").
        let copy = Process()
        copy.executableURL = URL(fileURLWithPath: "/bin/cp")
        copy.arguments = ["-R", built.appendingPathComponent("diffuse").path, built.appendingPathComponent("Diffuse_DiffusionPipeline.resources").path,
                          fixtures.appendingPathComponent("hf").path, bin.path]
        try copy.run()
        copy.waitUntilExit()
        try #require(copy.terminationStatus == 0, "cannot copy the built diffuse from \(built.path): build it first")
        return bin
    }

    // MARK: - The stand-in hub

    /// `<hub>/<repository>/<path>` for each file the walkthrough downloads: tiny files in the published
    /// files' forms (single-file safetensors in the original layouts, F32 or F16 as published; torch
    /// zip pickles for the detectors), made from the committed tiny models and detector goldens.
    static func writeStandIns(hub: URL) throws {
        let manager = FileManager.default
        func place(_ repository: String, _ path: String) throws -> URL {
            let url = hub.appendingPathComponent(repository).appendingPathComponent(path)
            try manager.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            return url
        }
        let keyMap = try KeyMap(contentsOf: fixtures.appendingPathComponent("key_map.json"))
        let shapes = weights.appendingPathComponent("shapes-sd15")

        // stable-diffusion-v1-5's A1111 file (its F16 form): the three components in the original keys,
        // and the DDPM schedule buffers the original LatentDiffusion keeps (no loader reads them).
        var checkpoint = try keyMap.renamed("unet", shapes.appendingPathComponent("unet/diffusion_pytorch_model.safetensors"))
        checkpoint += try keyMap.renamed("vae", shapes.appendingPathComponent("vae/diffusion_pytorch_model.safetensors"))
        checkpoint += try keyMap.renamed("text_encoder", shapes.appendingPathComponent("text_encoder/model.safetensors"))
        checkpoint += Self.scheduleBuffers.map { (name: $0, tensor: Tensor(shape: [1000])) }
        try SafeTensors.write(checkpoint, dtype: .f16, to: place("stable-diffusion-v1-5/stable-diffusion-v1-5", "v1-5-pruned-emaonly-fp16.safetensors"))

        // comfyanonymous' F16 repack of lllyasviel's ControlNet 1.1 canny, keyed `control_model.*`.
        let canny = try keyMap.renamed("controlnet", weights.appendingPathComponent("controlnets/sd-1_5/canny/diffusion_pytorch_model.safetensors"))
        try SafeTensors.write(canny, dtype: .f16, to: place("comfyanonymous/ControlNet-v1-1_fp16_safetensors", "control_v11p_sd15_canny_fp16.safetensors"))

        // h94/IP-Adapter: the base adapter (F16, `image_proj.*` + `ip_adapter.*`), a Plus adapter (the
        // Plus fixture's Resampler with the base adapter's attention layers, which fit this UNet), and
        // the shared image encoder (F32, transformers' keys).
        let style = weights.appendingPathComponent("ip-adapters/sd-1_5/style")
        try manager.copyItem(at: style.appendingPathComponent("ip-adapter.safetensors"), to: place("h94/IP-Adapter", "models/ip-adapter_sd15.safetensors"))
        let base = try SafeTensorsFile(contentsOf: style.appendingPathComponent("ip-adapter.safetensors"))
        let plus = try SafeTensorsFile(contentsOf: root.appendingPathComponent("Tests/Fixtures/Weights/ip-adapters/sd-1_5/character/ip-adapter.safetensors"))
        let plusTensors = try plus.names.filter { $0.hasPrefix("image_proj.") }.map { (name: $0, tensor: try plus.tensor(named: $0)) }
            + base.names.filter { $0.hasPrefix("ip_adapter.") }.map { (name: $0, tensor: try base.tensor(named: $0)) }
        try SafeTensors.write(plusTensors, dtype: .f16, to: place("h94/IP-Adapter", "models/ip-adapter-plus_sd15.safetensors"))
        let encoder = try SafeTensorsFile(contentsOf: style.appendingPathComponent("image_encoder/model.safetensors"))
        try SafeTensors.write(try encoder.names.map { (name: $0, tensor: try encoder.tensor(named: $0)) },
                              to: place("h94/IP-Adapter", "models/image_encoder/model.safetensors"))
        try manager.copyItem(at: style.appendingPathComponent("image_encoder/config.json"), to: place("h94/IP-Adapter", "models/image_encoder/config.json"))

        // lllyasviel/Annotators: the detector goldens' shrunk networks under the published names
        // (torch zip pickles in the published keys), and M-LSD at its real shapes (generate.py).
        let goldens = root.appendingPathComponent("Tests/Goldens/detectors")
        for (published, source) in [
            ("body_pose_model.pth", goldens.appendingPathComponent("pose_tiny.pth")),
            ("ControlNetHED.pth", goldens.appendingPathComponent("hed_tiny.pth")),
            ("dpt_hybrid-midas-501f0c75.pt", goldens.appendingPathComponent("depth_tiny.pt")),
            ("mlsd_large_512_fp32.pth", fixtures.appendingPathComponent("mlsd_large_512_fp32.pth")),
            ("sk_model.pth", goldens.appendingPathComponent("lineart_tiny.pth")),
            ("sk_model2.pth", goldens.appendingPathComponent("lineart2_tiny.pth")),
        ] {
            try manager.copyItem(at: source, to: place("lllyasviel/Annotators", published))
        }
    }

    /// The buffers `register_schedule` of the original `ldm/models/diffusion/ddpm.py` saves with the model.
    static let scheduleBuffers = [
        "betas", "alphas_cumprod", "alphas_cumprod_prev", "sqrt_alphas_cumprod", "sqrt_one_minus_alphas_cumprod",
        "log_one_minus_alphas_cumprod", "sqrt_recip_alphas_cumprod", "sqrt_recipm1_alphas_cumprod", "posterior_variance",
        "posterior_log_variance_clipped", "posterior_mean_coef1", "posterior_mean_coef2",
    ]

    /// What the tiny stand-ins need and a real SD1.5 file does not (Docs/MODELS.md, "Configs of a
    /// single file"): configs whose norm groups, heads and prediction type the tensors do not hold
    /// (the tiny VAE's 16 channels cannot take SD1.5's 32 groups), beside the files, as diffusers'
    /// `from_single_file(config=...)` reads them. The tokenizer stays the built-in one.
    static func addTinyConfigs(models: URL) throws {
        let shapes = weights.appendingPathComponent("shapes-sd15")
        for path in ["unet/config.json", "vae/config.json", "text_encoder/config.json", "scheduler/scheduler_config.json"] {
            let destination = models.appendingPathComponent("sd15").appendingPathComponent(path)
            try FileManager.default.createDirectory(at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: shapes.appendingPathComponent(path), to: destination)
        }
        try FileManager.default.copyItem(
            at: weights.appendingPathComponent("controlnets/sd-1_5/canny/config.json"),
            to: models.appendingPathComponent("controlnets/sd-1_5/canny/config.json"))
    }

    /// A models directory whose `sd15` is shapes-sd15, with the ControlNet folder and a character
    /// adapter as `ip-adapter.safetensors` with its own `image_encoder/`: the stand-in hub's files.
    static func writePlusFolder(models: URL, hub: URL) throws {
        let manager = FileManager.default
        let character = models.appendingPathComponent("ip-adapters/sd-1_5/character")
        try manager.createDirectory(at: character.appendingPathComponent("image_encoder"), withIntermediateDirectories: true)
        try manager.createSymbolicLink(at: models.appendingPathComponent("sd15"), withDestinationURL: weights.appendingPathComponent("shapes-sd15"))
        try manager.createSymbolicLink(at: models.appendingPathComponent("controlnets"), withDestinationURL: weights.appendingPathComponent("controlnets"))
        let published = hub.appendingPathComponent("h94/IP-Adapter/models")
        try manager.copyItem(at: published.appendingPathComponent("ip-adapter-plus_sd15.safetensors"), to: character.appendingPathComponent("ip-adapter.safetensors"))
        for file in ["config.json", "model.safetensors"] {
            try manager.copyItem(at: published.appendingPathComponent("image_encoder/\(file)"), to: character.appendingPathComponent("image_encoder/\(file)"))
        }
    }

    /// A models directory holding the same tiny models as diffusers folders: `sd15` is shapes-sd15.
    static func linkFolderForm(models: URL) throws {
        try FileManager.default.createDirectory(at: models, withIntermediateDirectories: true)
        for (name, target) in [("sd15", "shapes-sd15"), ("controlnets", "controlnets"), ("ip-adapters", "ip-adapters")] {
            try FileManager.default.createSymbolicLink(at: models.appendingPathComponent(name), withDestinationURL: weights.appendingPathComponent(target))
        }
    }
}

/// key_map.json (Tests/Fixtures/Walkthrough/generate.py): per component, each diffusers tensor name
/// with its name and shape in the original layout, as diffusers' single-file conversion reads them.
struct KeyMap {
    let components: [String: [String: (name: String, shape: [Int])]]

    init(contentsOf url: URL) throws {
        let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: [String: [Any]]])
        components = try json.mapValues { entries in
            try entries.mapValues { entry in
                (name: try #require(entry.first as? String), shape: try #require(entry.last as? [Int]))
            }
        }
    }

    /// The tensors of the diffusers file `url` under their original names and shapes.
    func renamed(_ component: String, _ url: URL) throws -> [(name: String, tensor: Tensor)] {
        let map = try #require(components[component])
        let file = try SafeTensorsFile(contentsOf: url)
        try #require(Set(file.names) == Set(map.keys), "\(url.path) and key_map.json's \(component) name different tensors")
        return try file.names.map { name in
            let original = try #require(map[name])
            return (name: original.name, tensor: try file.tensor(named: name).reshaped(original.shape))
        }
    }
}
