// Follows diffusers' _get_model_file / _add_variant and transformers' weight names.
import Foundation

/// The weight file of a component folder, found under the names diffusers and transformers give it:
/// the plain file, its `.bin` (pickled) form, or a variant (`diffusion_pytorch_model.fp16.safetensors`,
/// `model.fp16.safetensors`, as `from_pretrained(variant: "fp16")` reads), in that order of preference,
/// so a plain file wins over a variant beside it and safetensors wins over a pickle of the same kind.
/// Each may also be sharded (`save_pretrained(max_shard_size=...)`): its index
/// (`diffusion_pytorch_model.safetensors.index.json`, `model.safetensors.index.fp16.json`) stands
/// for it, right after the unsharded name.
public enum WeightFile: Sendable, Equatable {
    /// diffusers' models (UNet, VAE, ControlNet): `diffusion_pytorch_model.safetensors` / `.bin`.
    case diffusers
    /// transformers' models (CLIP text and image encoders): `model.safetensors` / `pytorch_model.bin`.
    case transformers
    /// A file of its own name (`ip-adapter` for `ip-adapter.safetensors` / `ip-adapter.bin`).
    case named(String)

    /// The stems of the safetensors and the pickled file names.
    private var stems: (safetensors: String, pickle: String) {
        switch self {
        case .diffusers: ("diffusion_pytorch_model", "diffusion_pytorch_model")
        case .transformers: ("model", "pytorch_model")
        case .named(let name): (name, name)
        }
    }

    /// The plain safetensors name, the one errors cite (`diffusion_pytorch_model.safetensors`).
    public var plainName: String { stems.safetensors + ".safetensors" }

    /// The candidate names present in `folder`, best first: plain `.safetensors`, plain `.bin`, then
    /// the variants (`fp16` first, the others by name), each safetensors before its `.bin` and each
    /// file before its shards' index.
    public func candidates(in folder: URL) -> [String] {
        let present = Set((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [])
        let variants = present.compactMap { variant(of: $0) }
        let ordered = Set(variants).sorted { ($0 == "fp16" ? 0 : 1, $0) < ($1 == "fp16" ? 0 : 1, $1) }
        return ([nil] + ordered).flatMap(names).filter { present.contains($0) }
    }

    /// The names of `variant` (nil: the plain names), in order of preference.
    private func names(_ variant: String?) -> [String] {
        let infix = variant.map { ".\($0)" } ?? ""
        return [
            "\(stems.safetensors)\(infix).safetensors", "\(stems.safetensors).safetensors.index\(infix).json",
            "\(stems.pickle)\(infix).bin", "\(stems.pickle).bin.index\(infix).json",
        ]
    }

    /// The weight file to load from `folder`.
    ///
    /// - Throws: `ModelLoadingError` naming the folder, the names tried and the files found.
    public func locate(in folder: URL) throws -> URL {
        if let best = candidates(in: folder).first { return folder.appendingPathComponent(best) }
        let found = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).sorted()
        throw ModelLoadingError(
            "\(folder.appendingPathComponent(plainName).path): no such file, nor \(stems.pickle).bin, a variant "
                + "such as \(stems.safetensors).fp16.safetensors or a shards index such as \(plainName).index.json; the folder holds: "
                + (found.isEmpty ? "nothing" : found.joined(separator: ", ")))
    }

    /// True when `folder` holds a weight file under one of the names.
    public func exists(in folder: URL) -> Bool { !candidates(in: folder).isEmpty }

    /// The variant of a file name of this kind (`fp16` of `model.fp16.safetensors` and of
    /// `model.safetensors.index.fp16.json`), or nil.
    private func variant(of name: String) -> String? {
        let forms = [
            (stems.safetensors, ".safetensors"), (stems.pickle, ".bin"), (stems.safetensors + ".safetensors.index", ".json"),
            (stems.pickle + ".bin.index", ".json"),
        ]
        for (stem, ext) in forms
        where name.hasPrefix(stem + ".") && name.hasSuffix(ext) && name.count > stem.count + 1 + ext.count {
            let middle = String(name.dropFirst(stem.count + 1).dropLast(ext.count))
            // A shard (`model.fp16-00001-of-00002.safetensors`) is read through its index only.
            if !middle.contains("."), middle.range(of: #"-[0-9]+-of-[0-9]+$"#, options: .regularExpression) == nil { return middle }
        }
        return nil
    }
}
