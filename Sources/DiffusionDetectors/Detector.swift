import DiffusionCore

/// Turns a control image into the map its modality's ControlNet was trained on.
///
/// A ControlNet for edges expects white edges on black, one for depth a depth map, and so on;
/// with `disableModalityDetection` false the pipeline runs the modality's detector on the
/// control image before the ControlNet sees it. Detectors keep the image's size.
public protocol Detector: Sendable {
    /// The modality whose map this detector makes (`"canny"`, `"depth"`, ...).
    var modality: String { get }

    /// The modality's map for `image`, as an RGB image of the same width and height.
    func detect(_ image: RGBImage) throws -> RGBImage
}
