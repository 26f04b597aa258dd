// Follows diffusers' loaders/single_file_utils.py (infer_diffusers_model_type and the per-component
// conversions) for the Stable Diffusion 1.5 and SDXL base layouts.
import DiffusionFormats
import Foundation

/// A whole pipeline in one file, as A1111 and civitai publish fine-tunes: `.safetensors`, or a
/// pickled `.ckpt` (read by `TorchCheckpoint`), keyed by the original Stable Diffusion modules.
///
/// ```swift
/// let checkpoint = try SingleFileCheckpoint(contentsOf: url)
/// let unet = try checkpoint.loadUNet(configFolder: nil)   // built-in config, shapes from the keys
/// ```
/// Each component is a `RemappedTensorFile`: the file's tensors under diffusers' names, loaded
/// through the same strict `WeightStore` as a folder, so a missing or unknown key is an error naming it.
public final class SingleFileCheckpoint: @unchecked Sendable {
    /// The pipeline families a single file can hold here.
    public enum Family: String, Sendable {
        case stableDiffusion15 = "sd-1_5"
        case stableDiffusionXL = "sd-xl"
    }

    /// A pipeline component, named as the folder layout names its subfolder.
    public enum Component: String, Sendable, CaseIterable {
        case unet, vae
        case textEncoder = "text_encoder"
        case textEncoder2 = "text_encoder_2"
    }

    static let unetPrefix = "model.diffusion_model."
    static let vaePrefix = "first_stage_model."
    static let clipPrefix = "cond_stage_model.transformer."
    static let xlClipPrefix = "conditioner.embedders.0.transformer."
    static let xlOpenCLIPPrefix = "conditioner.embedders.1.model."

    public let file: any TensorFile
    public let family: Family

    public var url: URL { file.url }

    /// Opens `url` (`TensorFiles.open`) and infers its family from the keys.
    public convenience init(contentsOf url: URL) throws {
        try self.init(file: try TensorFiles.open(url))
    }

    /// - Throws: `ModelLoadingError` naming the file and what it holds when it is not an SD1.5 or
    ///   SDXL base checkpoint (SD2, refiner and inpainting checkpoints are named as such).
    public init(file: any TensorFile) throws {
        self.file = file
        family = try Self.family(of: file)
    }

    /// The components the family's pipeline has.
    public var components: [Component] {
        family == .stableDiffusionXL ? Component.allCases : [.unet, .vae, .textEncoder]
    }

    /// True when `file` looks like a single-file pipeline checkpoint (it has UNet keys).
    public static func holdsPipeline(_ file: any TensorFile) -> Bool {
        file.names.contains { $0.hasPrefix(unetPrefix) }
    }

    /// The family, from which text encoders the file holds, as diffusers' `infer_diffusers_model_type`
    /// tells them apart (by prefix rather than by a deep layer's key, so that small models work too).
    static func family(of file: any TensorFile) throws -> Family {
        func has(_ prefix: String) -> Bool { file.names.contains { $0.hasPrefix(prefix) } }
        let path = file.url.path
        guard has(unetPrefix) else {
            let prefixes = Set(file.names.map { $0.split(separator: ".").prefix(2).joined(separator: ".") }).sorted().prefix(8)
            throw ModelLoadingError(
                "\(path): not a single-file Stable Diffusion checkpoint: no '\(unetPrefix)*' keys (found: \(prefixes.joined(separator: ", ")))")
        }
        if let conv = file.info(unetPrefix + "input_blocks.0.0.weight"), conv.shape.count == 4, conv.shape[1] != 4 {
            throw ModelLoadingError("\(path): a UNet with \(conv.shape[1]) input channels (an inpainting or instruct-pix2pix checkpoint) is not supported; only 4-channel text-to-image UNets are")
        }
        if has(xlOpenCLIPPrefix) { return .stableDiffusionXL }
        if has("conditioner.embedders.0.model.") {
            throw ModelLoadingError("\(path): an SDXL refiner checkpoint (OpenCLIP only) is not supported")
        }
        if has("cond_stage_model.model.") {
            throw ModelLoadingError("\(path): a Stable Diffusion 2 checkpoint (OpenCLIP ViT-H) is not supported")
        }
        if has(clipPrefix) { return .stableDiffusion15 }
        throw ModelLoadingError("\(path): a UNet without a known text encoder ('\(clipPrefix)*' or '\(xlOpenCLIPPrefix)*')")
    }

    /// The tensors of `component` under diffusers' (or transformers') names.
    public func weights(_ component: Component) throws -> RemappedTensorFile {
        guard components.contains(component) else {
            throw ModelLoadingError("\(url.path): an \(family.rawValue) checkpoint has no \(component.rawValue)")
        }
        let sources: [String: RemappedTensorFile.Source]
        switch component {
        case .unet: sources = UNetKeyMap.sources(file.names, prefix: Self.unetPrefix)
        case .vae: sources = VAEKeyMap.sources(file, prefix: Self.vaePrefix)
        case .textEncoder:
            let prefix = family == .stableDiffusionXL ? Self.xlClipPrefix : Self.clipPrefix
            // Files saved by older transformers lack the `text_model.` level; the names here always have it.
            sources = Dictionary(uniqueKeysWithValues: file.names.filter { $0.hasPrefix(prefix) }.map {
                let local = String($0.dropFirst(prefix.count))
                return (local.hasPrefix("text_model.") ? local : "text_model." + local, RemappedTensorFile.Source($0))
            })
        case .textEncoder2: sources = OpenCLIPKeyMap.sources(file, prefix: Self.xlOpenCLIPPrefix)
        }
        return try RemappedTensorFile(base: file, sources: sources)
    }
}
