// The examples of Docs/USAGE.md, kept compiling: the typed pipeline, then the endpoint service.
import DiffusionCore
import DiffusionFormats
import DiffusionPipeline
import DiffusionService
import Foundation

// The repository's tiny default models, wherever this runs from.
let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../../..").standardized
let weights = repository.appendingPathComponent("Weights")
let output = FileManager.default.temporaryDirectory.appendingPathComponent("diffuse-library-usage")
try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)

// 1. The typed pipeline: parameters and images in, images out, nothing written.
let pipeline = try StableDiffusionPipeline(folder: weights.appendingPathComponent("shapes-sd15"))
let parameters = GenerationParameters(prompt: "a red circle above a blue square", width: 64, height: 64, steps: 8, seed: 42)
let plain = try pipeline.generate(parameters)  // text to image
let edges = try ImageDecoder.decode(contentsOf: repository.appendingPathComponent("Examples/images/control.png"))
let style = try ImageDecoder.decode(contentsOf: repository.appendingPathComponent("Examples/images/style.png"))
let steered = try pipeline.generate(
    parameters,
    controlNets: [ControlNetInput(folder: weights.appendingPathComponent("controlnets/sd-1_5/canny"), image: edges, scale: 0.8)],
    ipAdapter: IPAdapterInput(folder: weights.appendingPathComponent("ip-adapters/sd-1_5/style"), images: [style], scale: 0.6)
) { progress in
    print(progress)
    return progress.elapsed < 600 ? .proceed : .stop  // answering .stop ends the run
}
try PNG.write(plain[0], to: output.appendingPathComponent("plain.png"))
try PNG.write(steered[0], to: output.appendingPathComponent("steered.png"))

// 2. The endpoint service: a request body in, assets and the endpoint's response out.
let service = GenerationService(models: weights, assets: output.appendingPathComponent("Assets"))
let body = try Data(contentsOf: repository.appendingPathComponent("Examples/canny-style.json"))
do {
    let result = try service.generate(try GenerationRequest(json: body))
    print(result.response.job.status, result.response.job.metadata.assetIds)
} catch let error as GenerationError {
    print(error.status, error.message, error.field ?? "")  // the 400/404 the endpoint would answer
}
print("images in", output.path)
