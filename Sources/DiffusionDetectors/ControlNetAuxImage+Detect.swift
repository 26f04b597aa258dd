import DiffusionCore

extension ControlNetAuxImage {
    /// A controlnet_aux detector's whole call: `image` through `resize_image` to `resolution`,
    /// `map` of that, and the map back at the image's size. An empty image is its own map.
    static func detect(_ image: RGBImage, resolution: Int, _ map: (RGBImage) throws -> RGBImage) rethrows -> RGBImage {
        guard image.width > 0, image.height > 0 else { return image }
        return restore(try map(resizeImage(image, resolution: resolution)), width: image.width, height: image.height)
    }
}
