import Foundation

extension UNet2DConditionModel {
    /// Loads `folder` (`unet/`) with `patches` merged into the weights they change: a separate model
    /// holding its own merged weights; any model already built from the folder is untouched.
    public init(folder: URL, patches: WeightPatches) throws {
        let config = try UNet2DConditionConfig.load(contentsOf: folder.appendingPathComponent("config.json"))
        let store = try WeightStore(
            contentsOf: folder.appendingPathComponent("diffusion_pytorch_model.safetensors"), patches: patches)
        try self.init(config: config, weights: store)
        try store.checkAllUsed()
        try patches.checkAllApplied(model: folder.path)
    }
}
