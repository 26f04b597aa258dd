import DiffusionCore
import Foundation

/// An IP-Adapter (a folder in the original layout: `ip-adapter.safetensors` + `image_encoder/`)
/// with its reference images, each one adapter instance with its own scale (Docs/SPEC.md §3 step 3).
public struct IPAdapterInput: Sendable {
    public var folder: URL
    public var images: [RGBImage]
    /// One per image.
    public var scales: [Double]

    public init(folder: URL, images: [RGBImage], scales: [Double]) {
        self.folder = folder
        self.images = images
        self.scales = scales
    }

    /// Every image at the same scale (diffusers' default 1.0; the endpoint's is 0.9).
    public init(folder: URL, images: [RGBImage], scale: Double = 1) {
        self.init(folder: folder, images: images, scales: Array(repeating: scale, count: images.count))
    }
}
