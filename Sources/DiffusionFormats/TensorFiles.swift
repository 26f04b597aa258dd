import Foundation

/// Opens tensor files by their extension.
public enum TensorFiles {
    /// The extensions of PyTorch's pickled checkpoints (`torch.save`).
    public static let pickleExtensions: Set<String> = ["bin", "pt", "pth", "ckpt"]

    /// `.safetensors` opens as `SafeTensorsFile`; `.bin`, `.pt`, `.pth` and `.ckpt` as
    /// `TorchCheckpoint` (its safe unpickler); anything else is refused, naming the file.
    public static func open(_ url: URL) throws -> any TensorFile {
        let ext = url.pathExtension.lowercased()
        if ext == "safetensors" { return try SafeTensorsFile(contentsOf: url) }
        if pickleExtensions.contains(ext) { return try TorchCheckpoint(contentsOf: url) }
        throw SafeTensorsError(
            .unreadableFile, file: url.path, "not a tensor file: expected .safetensors, .bin, .pt, .pth or .ckpt")
    }
}
