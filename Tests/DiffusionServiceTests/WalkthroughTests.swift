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

    /// The files each step places, relative to `~/models`.
    static let installed = [
        "sd15/sd15.safetensors", "controlnets/sd-1_5/canny/control_v11p_sd15_canny_fp16.safetensors",
        "ip-adapters/sd-1_5/style/ip-adapter_sd15.safetensors", "ip-adapters/sd-1_5/character/ip-adapter-plus_sd15.safetensors",
        "ip-adapters/sd-1_5/image_encoder/config.json", "ip-adapters/sd-1_5/image_encoder/model.safetensors",
        "detectors/pose/body_pose_model.pth", "detectors/scribble/ControlNetHED.pth", "detectors/depth/dpt_hybrid-midas-501f0c75.pt",
        "detectors/lines/mlsd_large_512_fp32.pth", "detectors/lineart/sk_model.pth", "detectors/lineart/sk_model2.pth",
    ]

    /// The lines `diffuse models` must print for what the walkthrough installs.
    static let listed = [
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
    ]

    @Test func theWalkthroughInstallsModelsThatGenerate() throws {
        let blocks = try Self.shellBlocks()
        try #require(blocks.count == 5, "Weights/README.md's 'Installing real models' should have five sh blocks: \(blocks)")
        let stepFive = try #require(blocks.last)
        try #require(stepFive.contains(Self.stepFiveSize), "step 5 no longer says '\(Self.stepFiveSize)': update the test's override")
        let session = try WalkthroughSession(hub: Self.writeStandIns)

        // Steps 1-4 in one shell, as typed in one terminal; step 5 then starts where they left it.
        let place = session.hub.appendingPathComponent("cwd")
        let install = try session.run(blocks.dropLast().joined(separator: "\n") + "\npwd > '\(place.path)'", in: session.home)
        try #require(install.status == 0, "steps 1-4 failed:\n\(install.errors)")
        let models = session.home.appendingPathComponent("models")
        for path in Self.installed {
            #expect(FileManager.default.fileExists(atPath: models.appendingPathComponent(path).path), "\(path) is not where step 5 needs it")
        }
        #expect(!FileManager.default.fileExists(atPath: models.appendingPathComponent("ip-adapters/sd-1_5/models").path))
        try Self.addTinyConfigs(models: models)

        let folder = URL(fileURLWithPath: try String(contentsOf: place, encoding: .utf8).trimmingCharacters(in: .newlines))
        let script = stepFive.replacingOccurrences(of: Self.stepFiveSize, with: Self.testSize)
        let run = try session.run(script, in: folder)
        try #require(run.status == 0, "step 5 failed:\n\(run.output)\n\(run.errors)")
        let listing = (run.output.components(separatedBy: "\n{").first ?? "").components(separatedBy: "\n")
        for line in Self.listed {
            #expect(listing.contains(line), "diffuse models does not say '\(line)':\n\(listing.joined(separator: "\n"))")
        }
        #expect(!listing.contains { $0.contains("unusable") }, "\(listing)")

        // The same block with ~/models the tiny models' diffusers folders (Weights/, sd15 being
        // shapes-sd15): the same image, bit for bit, so each installed file was found and used.
        let folderHome = try TemporaryFolder()
        try Self.linkFolderForm(models: folderHome.url.appendingPathComponent("models"))
        for name in ["edges.png", "style.png"] {
            try FileManager.default.copyItem(at: session.home.appendingPathComponent(name), to: folderHome.url.appendingPathComponent(name))
        }
        let image = try PNG.decode(Data(contentsOf: folder.appendingPathComponent("castle.png")))
        let folderRun = try session.run(script, in: folderHome.url, home: folderHome.url)
        try #require(folderRun.status == 0, "the folder-form run failed:\n\(folderRun.output)\n\(folderRun.errors)")
        #expect(image == (try PNG.decode(Data(contentsOf: folderHome.url.appendingPathComponent("castle.png")))))

        try Self.expectPlusAdapterWorks(session, script: script, folder: folder, folderHome: folderHome.url, styleImage: image)
        try Self.expectDetectorsLoad(session, folder: folder)
    }

    /// The Plus adapter under its published name with the shared encoder gives the image of the same
    /// tensors as a folder-form adapter with its own `image_encoder/`, and not the style adapter's.
    static func expectPlusAdapterWorks(_ session: WalkthroughSession, script: String, folder: URL, folderHome: URL, styleImage: RGBImage) throws {
        try writePlusFolder(models: folderHome.appendingPathComponent("plus-models"), hub: session.hub)
        let character = script.components(separatedBy: "\n").drop { !$0.hasPrefix("diffuse generate") }.joined(separator: "\n")
            .replacingOccurrences(of: "-o castle.png", with: "--ip-adapter-type character -o character.png")
        let run = try session.run(character, in: folder)
        try #require(run.status == 0, "the character run failed:\n\(run.output)\n\(run.errors)")
        let folderRun = try session.run(character.replacingOccurrences(of: "~/models", with: "~/plus-models"), in: folderHome, home: folderHome)
        try #require(folderRun.status == 0, "the folder-form character run failed:\n\(folderRun.output)\n\(folderRun.errors)")
        let image = try PNG.decode(Data(contentsOf: folder.appendingPathComponent("character.png")))
        #expect(image == (try PNG.decode(Data(contentsOf: folderHome.appendingPathComponent("character.png")))))
        #expect(image != styleImage, "the character adapter changed nothing")
    }

    /// Each detector loads its file from where step 4 put it (M-LSD's broadcast views included).
    static func expectDetectorsLoad(_ session: WalkthroughSession, folder: URL) throws {
        for (modality, flag) in [("pose", ""), ("scribble", ""), ("depth", ""), ("lines", ""), ("lineart", ""), ("lineart", " --coarse")] {
            let map = "map-\(modality)\(flag.isEmpty ? "" : "-coarse").png"
            let detect = try session.run("diffuse detect --modality \(modality)\(flag) --image edges.png --output \(map) --models ~/models", in: folder)
            #expect(detect.status == 0, "diffuse detect --modality \(modality)\(flag): \(detect.errors)")
            #expect((try? PNG.decode(Data(contentsOf: folder.appendingPathComponent(map)))) != nil, "\(map)")
        }
    }

    /// A misspelt name in a download fails the walkthrough, naming it: the stand-in knows only the
    /// published files.
    @Test func theStandInRefusesNamesItDoesNotKnow() throws {
        let session = try WalkthroughSession(hub: Self.writeStandIns)
        for (command, expected) in [
            ("hf download h94/IP-Adapter models/ip-adapter_sd15.bin --local-dir x", "repository 'h94/IP-Adapter' has no file 'models/ip-adapter_sd15.bin'"),
            ("hf download runwayml/stable-diffusion-v1-5 v1-5-pruned-emaonly-fp16.safetensors --local-dir x", "no repository 'runwayml/stable-diffusion-v1-5'"),
            ("huggingface-cli download h94/IP-Adapter models/ip-adapter_sd15.safetensors --local-dir x", "not found"),
        ] {
            let run = try session.run(command, in: session.home)
            #expect(run.status != 0 && run.errors.contains(expected), "\(command): \(run.errors)")
        }
    }

    /// The canny repack is keyed `control_model.*` here, as lllyasviel's `.pth` it was converted from;
    /// repacks without the prefix exist too. Either way the loader reads the folder's tensors, bit
    /// for bit, and infers the folder's channels.
    @Test(arguments: ["control_model.", ""])
    func theCannyStandInReadsAsTheFolder(prefix: String) throws {
        let folder = Self.weights.appendingPathComponent("controlnets/sd-1_5/canny")
        let keyMap = try WalkthroughKeyMap(contentsOf: Self.fixtures.appendingPathComponent("key_map.json"))
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
        let keyMap = try WalkthroughKeyMap(contentsOf: fixtures.appendingPathComponent("key_map.json"))
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
