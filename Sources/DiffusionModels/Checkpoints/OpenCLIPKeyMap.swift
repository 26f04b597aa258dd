// Follows diffusers' loaders/single_file_utils.py (convert_open_clip_checkpoint).
import DiffusionFormats
import Foundation

/// The names of OpenCLIP's text tower (SDXL's `conditioner.embedders.1.model.*`: `resblocks`, one
/// stacked `in_proj` for q, k and v, `text_projection` applied as `x @ P`) in transformers'
/// `CLIPTextModelWithProjection` terms.
enum OpenCLIPKeyMap {
    private static let layers = [
        "positional_embedding": "text_model.embeddings.position_embedding.weight",
        "token_embedding.weight": "text_model.embeddings.token_embedding.weight",
        "ln_final.weight": "text_model.final_layer_norm.weight", "ln_final.bias": "text_model.final_layer_norm.bias",
    ]
    private static let sublayers = [
        "ln_1.": "layer_norm1.", "ln_2.": "layer_norm2.", "mlp.c_fc.": "mlp.fc1.", "mlp.c_proj.": "mlp.fc2.",
        "attn.out_proj.": "self_attn.out_proj.",
    ]
    /// OpenCLIP's temperature, which the text encoder does not use (diffusers drops it too).
    static let unused: Set<String> = ["logit_scale"]

    /// Each transformers name and the original key it reads, for every key of `file` under `prefix`
    /// except `unused`; unknown keys keep their original name.
    static func sources(_ file: any TensorFile, prefix: String) -> [String: RemappedTensorFile.Source] {
        var sources: [String: RemappedTensorFile.Source] = [:]
        for key in file.names where key.hasPrefix(prefix) {
            let local = String(key.dropFirst(prefix.count))
            guard !unused.contains(local) else { continue }
            for (name, source) in mapped(local, stored: key, rows: file.info(key)?.shape.first ?? 0) {
                sources[name] = source
            }
        }
        return sources
    }

    /// The names one original key gives: one, or three for `in_proj` (q, k, v: thirds of its rows).
    private static func mapped(_ local: String, stored: String, rows: Int) -> [(String, RemappedTensorFile.Source)] {
        if let name = layers[local] { return [(name, .init(stored))] }
        if local == "text_projection" { return [("text_projection.weight", .init(stored, .transposed))] }
        let parts = local.split(separator: ".", maxSplits: 3).map(String.init)
        guard parts.count == 4, parts[0] == "transformer", parts[1] == "resblocks", let layer = Int(parts[2]) else {
            return [(local, .init(stored))]
        }
        let prefix = "text_model.encoder.layers.\(layer)."
        for kind in ["weight", "bias"] where parts[3] == "attn.in_proj_\(kind)" {
            let third = rows / 3
            return ["q", "k", "v"].enumerated().map { index, projection in
                ("\(prefix)self_attn.\(projection)_proj.\(kind)", .init(stored, .rows(index * third..<(index + 1) * third)))
            }
        }
        guard let (old, new) = sublayers.first(where: { parts[3].hasPrefix($0.key) }) else { return [(local, .init(stored))] }
        return [(prefix + new + parts[3].dropFirst(old.count), .init(stored))]
    }
}
