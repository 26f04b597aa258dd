import Foundation

/// Opens tensor files by their extension.
public enum TensorFiles {
    /// The extensions of PyTorch's pickled checkpoints (`torch.save`).
    public static let pickleExtensions: Set<String> = ["bin", "pt", "pth", "ckpt"]

    /// `.safetensors` opens as `SafeTensorsFile`; `.bin`, `.pt`, `.pth` and `.ckpt` as
    /// `TorchCheckpoint` (its safe unpickler); a shards index (`*.safetensors.index.json`,
    /// `*.bin.index.json`, with or without a variant: `*.safetensors.index.fp16.json`) as
    /// `ShardedTensorFile`; anything else is refused, naming the file.
    public static func open(_ url: URL) throws -> any TensorFile {
        if isShardIndex(url.lastPathComponent) { return try ShardedTensorFile(contentsOf: url) }
        let ext = url.pathExtension.lowercased()
        if ext == "safetensors" { return try SafeTensorsFile(contentsOf: url) }
        if pickleExtensions.contains(ext) { return try TorchCheckpoint(contentsOf: url) }
        throw SafeTensorsError(
            .unreadableFile, file: url.path, "not a tensor file: expected .safetensors, .bin, .pt, .pth, .ckpt or a shards index")
    }

    /// Whether `name` is an index of shards: `<stem>.safetensors.index[.<variant>].json` or
    /// `<stem>.bin.index[.<variant>].json`.
    public static func isShardIndex(_ name: String) -> Bool {
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count >= 4, parts.last == "json" else { return false }
        let index = parts.count - (parts[parts.count - 2] == "index" ? 2 : 3)
        return index >= 2 && parts[index] == "index" && ["safetensors", "bin"].contains(parts[index - 1])
    }
}
