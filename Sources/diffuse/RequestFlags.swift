import ArgumentParser
import DiffusionFormats
import DiffusionService
import Foundation

/// The human form of a request: flags with file paths instead of a JSON body with data URLs.
/// They build the same `GenerationRequest` the endpoint takes, so both forms run alike.
struct RequestFlags: ParsableArguments {
    @Option(help: "The prompt.")
    var prompt: String?

    @Option(help: "The negative prompt.")
    var negativePrompt: String?

    @Option(help: ArgumentHelp("The model folder's name in the models directory (default: the only model there).", valueName: "id"))
    var model: String?

    @Option(help: ArgumentHelp("The control image, a PNG or JPEG file.", valueName: "file"),
            completion: .file(extensions: ["png", "jpg", "jpeg"]))
    var controlImage: String?

    @Option(help: "Modalities as in a request: canny, depth:0.5,pose, or a preset such as landscape.")
    var modality = "canny"

    @Flag(help: "Run each modality's detector on the control image first (disableModalityDetection false).")
    var detect = false

    @Option(help: ArgumentHelp("A reference image for the IP-Adapter (PNG or JPEG); repeat for several.", valueName: "file"),
            completion: .file(extensions: ["png", "jpg", "jpeg"]))
    var reference: [String] = []

    @Option(help: "The IP-Adapter scale of every reference image, 0...1 (default 0.9).")
    var referenceScale: Double?

    @Option(help: "style or character: which IP-Adapter reads the references.")
    var ipAdapterType: String?

    @Option(help: "Images to make (the endpoint's default is 4).")
    var samples = 1

    @Option(help: "Denoising steps (default 30).")
    var steps: Int?

    @Option(help: "Classifier-free guidance scale (default 7.5 for SD1.5, 6 for SDXL).")
    var guidance: Double?

    @Option(help: "Width in pixels, a multiple of 8 (default 512).")
    var width: Int?

    @Option(help: "Height in pixels, a multiple of 8 (default 512).")
    var height: Int?

    @Option(help: "A diffusers scheduler class name, e.g. EulerDiscreteScheduler (default: the model's).")
    var scheduler: String?

    @Option(help: "The seed of the first image; image i uses seed + i (default: random, printed in the response).")
    var seed: UInt64?

    /// Whether any flag of the human form was given.
    var isGiven: Bool { prompt != nil || controlImage != nil || !reference.isEmpty }

    /// The request these flags describe.
    func request(models: URL) throws -> GenerationRequest {
        guard let prompt else { throw ValidationError("--prompt is required (or give --request FILE)") }
        guard let controlImage else { throw ValidationError("--control-image is required: the endpoint steers every image with one") }
        guard !reference.isEmpty else { throw ValidationError("--reference is required: at least one reference image for the IP-Adapter") }
        var request = GenerationRequest(modelId: try model ?? Self.onlyModel(in: models), prompt: prompt, modality: modality)
        request.negativePrompt = negativePrompt
        request.controlImage = try Self.dataURL(controlImage, flag: "--control-image")
        request.disableModalityDetection = !detect
        request.ipAdapterImages = try reference.map { try Self.dataURL($0, flag: "--reference") }
        request.ipAdapterScale = referenceScale
        request.ipAdapterType = ipAdapterType
        request.numSamples = Double(samples)
        request.numInferenceSteps = steps.map(Double.init)
        request.guidance = guidance
        request.width = width.map(Double.init)
        request.height = height.map(Double.init)
        request.scheduler = scheduler
        request.seed = seed.map(String.init)
        return request
    }

    /// The file at `path` as a data URL (its media type from its first bytes).
    static func dataURL(_ path: String, flag: String) throws -> String {
        if let problem = pathProblem(path, expectingFolder: false) { throw ValidationError("\(flag) '\(path)': \(problem)") }
        let data = try failing("cannot read \(flag) '\(path)'") { try Data(contentsOf: URL(fileURLWithPath: path)) }
        guard let format = ImageDecoder.Format(sniffing: data) else {
            throw ValidationError("\(flag) '\(path)' is neither a PNG nor a JPEG file")
        }
        let type = format == .png ? "image/png" : "image/jpeg"
        return "data:\(type);base64,\(data.base64EncodedString())"
    }

    /// The one model folder of the models directory.
    static func onlyModel(in models: URL) throws -> String {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: models.path)) ?? []
        let ids = names.filter {
            FileManager.default.fileExists(atPath: models.appendingPathComponent($0).appendingPathComponent("model_index.json").path)
        }.sorted()
        guard ids.count == 1 else {
            throw ValidationError("give --model: the models directory \(models.path) holds "
                + (ids.isEmpty ? "no model" : "\(ids.count) models (\(ids.joined(separator: ", ")))"))
        }
        return ids[0]
    }
}
