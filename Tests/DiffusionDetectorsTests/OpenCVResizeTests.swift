import DiffusionCore
import DiffusionDetectors
import Foundation
import Testing

/// OpenCVResize and ControlNetAuxImage against `cv2.resize` and controlnet_aux's `resize_image`
/// (Tests/Goldens/detectors/resize.py).
@Suite struct OpenCVResizeTests {
    static let fixtures = Result { try DetectorFixtures("resize.safetensors") }

    @Test(arguments: [
        ("lanczos_up", OpenCVResize.Interpolation.lanczos4), ("lanczos_down", .lanczos4),
        ("area_down", .area), ("area_half", .area), ("area_third", .area), ("area_up_one_axis", .area), ("area_up", .area),
        ("linear_up", .linear), ("linear_down", .linear), ("linear_mixed", .linear),
    ])
    func bytesMatchOpenCV(name: String, interpolation: OpenCVResize.Interpolation) throws {
        let fixtures = try Self.fixtures.get()
        let size = try fixtures.integers("\(name).size")
        let resized = OpenCVResize.resize(try fixtures.image("\(name).x"), width: size[0], height: size[1], interpolation: interpolation)
        let expected = try fixtures.image("\(name).out")
        #expect(resized.width == expected.width && resized.height == expected.height)
        let difference = byteDifference(resized.pixels, expected.pixels)
        // Same fixed-point weights and integer sums as OpenCV: identical bytes.
        #expect(difference.count == 0, "\(name): \(difference.count) bytes differ, by up to \(difference.largest)")
    }

    @Test(arguments: [
        ("float_lanczos_x8", OpenCVResize.Interpolation.lanczos4), ("float_lanczos_down", .lanczos4),
        ("float_area_down", .area), ("float_area_half", .area), ("float_linear_up", .linear), ("float_linear_down", .linear),
    ])
    func floatsMatchOpenCV(name: String, interpolation: OpenCVResize.Interpolation) throws {
        let fixtures = try Self.fixtures.get()
        let size = try fixtures.integers("\(name).size")
        let resized = OpenCVResize.resize(try fixtures.tensor("\(name).x"), width: size[0], height: size[1], interpolation: interpolation)
        let expected = try fixtures.tensor("\(name).out")
        #expect(resized.shape == expected.shape)
        // float32 weights and sums in OpenCV's order, but its vector code may fuse or reorder
        // additions: a few float32 ulps of values of order 1.
        let worst = zip(resized.scalars, expected.scalars).map { abs($0 - $1) }.max() ?? .nan
        #expect(worst <= 1e-5, "\(name): largest difference \(worst)")
    }

    @Test(arguments: ["resize_image_up", "resize_image_down", "resize_image_wide"])
    func resizeImageMatchesControlNetAux(name: String) throws {
        let fixtures = try Self.fixtures.get()
        let resized = ControlNetAuxImage.resizeImage(try fixtures.image("\(name).x"), resolution: 64)
        let expected = try fixtures.image("\(name).out")
        #expect(resized.width == expected.width && resized.height == expected.height)
        #expect(byteDifference(resized.pixels, expected.pixels).count == 0)
    }

    @Test func detectSizeRoundsAsNumpy() {
        // Hand-computed: 768 x 1152 -> k = 512/768, 768 x 512/768 = 512, 1152 -> 768.
        #expect(ControlNetAuxImage.detectSize(width: 768, height: 1152, resolution: 512) == (512, 768))
        // 832 x 1216 (an SDXL size): 1216 x 512/832 = 748.3 -> 11.69 x 64 -> 768.
        #expect(ControlNetAuxImage.detectSize(width: 832, height: 1216, resolution: 512) == (512, 768))
        // 1000 x 500: 1024 exactly; 544 x 512: 544/64 = 8.5 rounds half to even, to 8 x 64 = 512.
        #expect(ControlNetAuxImage.detectSize(width: 1000, height: 500, resolution: 512) == (1024, 512))
        #expect(ControlNetAuxImage.detectSize(width: 544, height: 512, resolution: 512) == (512, 512))
    }
}
