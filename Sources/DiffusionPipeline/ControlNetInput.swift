import DiffusionCore
import Foundation

/// One ControlNet of a generation: its folder (a diffusers ControlNetModel), the image it reads
/// and its conditioning scale.
public struct ControlNetInput: Sendable {
    public var folder: URL
    /// Resized to the output size with Lanczos (Docs/SPEC.md §3 step 2), then run through `detect`'s detector.
    public var image: RGBImage
    public var scale: Double
    /// The modality whose detector turns `image` into the map first; nil: `image` is the map.
    public var detect: Modality?

    public init(folder: URL, image: RGBImage, scale: Double = 1, detect: Modality? = nil) {
        self.folder = folder
        self.image = image
        self.scale = scale
        self.detect = detect
    }
}
