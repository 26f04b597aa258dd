import DiffusionFormats
import DiffusionModels
import Foundation

/// Where the weights of a ControlNet or IP-Adapter folder are, in the forms they are published in
/// (Docs/MODELS.md, "File forms"): a diffusers folder, or the one downloaded file dropped in.
public enum PublishedFiles {
    /// The single-file ControlNet of a `controlnets/<family>/<modality>/` folder that has no diffusers
    /// weights (`control_v11p_sd15_canny.pth`, a `.safetensors` repack), nil for a diffusers folder.
    public static func controlNetCheckpoint(in folder: URL) -> URL? {
        guard !WeightFile.diffusers.exists(in: folder) else { return nil }
        return onlyWeightFile(in: folder)
    }

    /// An IP-Adapter's weights: `ip-adapter.safetensors` (or its `.bin`), else the one weight file in
    /// the folder under its published name (`ip-adapter_sd15.safetensors`, `ip-adapter-plus_sdxl_vit-h.bin`).
    public static func ipAdapterWeights(in folder: URL) -> URL? {
        let named = WeightFile.named("ip-adapter")
        return named.exists(in: folder) ? try? named.locate(in: folder) : onlyWeightFile(in: folder)
    }

    /// An IP-Adapter's image encoder: its folder's `image_encoder/`, else one shared by the family's
    /// adapters (`ip-adapters/<family>/image_encoder/`, as h94's repository lays them out).
    public static func ipAdapterImageEncoder(for folder: URL) -> URL {
        let own = folder.appendingPathComponent("image_encoder", isDirectory: true)
        let shared = folder.deletingLastPathComponent().appendingPathComponent("image_encoder", isDirectory: true)
        return FileManager.default.fileExists(atPath: own.path) || !FileManager.default.fileExists(atPath: shared.path) ? own : shared
    }

    /// The one `.safetensors` or pickled weight file directly in `folder`, nil for none or several.
    static func onlyWeightFile(in folder: URL) -> URL? {
        let extensions = Set(["safetensors"] + TensorFiles.pickleExtensions)
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [])
            .filter { extensions.contains(URL(fileURLWithPath: $0).pathExtension.lowercased()) }
        return files.count == 1 ? folder.appendingPathComponent(files[0]) : nil
    }
}
