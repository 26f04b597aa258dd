import DiffusionCore
import DiffusionDetectors
import DiffusionFormats
import Foundation
import Testing

/// The normal-map detector against controlnet_aux's NormalBaeDetector (Tests/Goldens/detectors/normal.py):
/// the full-size NNET (EfficientNet-B5 and the BN decoder) with random weights, read from a
/// torch.save'd checkpoint of the published layout (`{"model": {"module.encoder...": ...}}`),
/// every tensor a strided view into a few shared bands.
@Suite(.serialized) struct NormalBaeDetectorTests {
    static let goldens = Result { try DetectorGoldens.file("normal.safetensors") }
    static let detector = NormalBaeDetector(weights: DetectorGoldens.folder.appendingPathComponent("normal_scannet.pt"))

    /// The unit normals within 1e-4: float32 through 39 blocks with squeeze-and-excitation, the
    /// decoder's 8 convolutions and 12 MLP layers, summed in other orders than torch's (measured
    /// 4.0e-6).
    @Test func normalsMatchTorch() throws {
        let goldens = try Self.goldens.get()
        let normals = try Self.detector.normals(try DetectorGoldens.image(goldens, "astronaut"))
        let expected = try goldens.tensor(named: "astronaut.normal")
        #expect(normals.shape == [1] + expected.shape)
        let error = zip(normals.scalars, expected.scalars).map { abs($0 - $1) }.max() ?? .infinity
        #expect(error < 1e-4, "largest difference \(error)")
    }

    /// The 8-bit map: a pixel moves only when `(n + 1) * 127.5` lies within the normals' error
    /// (1e-4 * 127.5 ~ 0.013 levels) of an integer, so every value is within one level and at
    /// most 1% differ (measured: 1 of 49,152 values of astronaut, 3 of 73,728 of coffee).
    @Test(arguments: ["astronaut", "coffee"])
    func mapMatchesControlNetAux(_ name: String) throws {
        let goldens = try Self.goldens.get()
        let map = try Self.detector.normalMap(try DetectorGoldens.image(goldens, name))
        let expected = try DetectorGoldens.map(goldens, "\(name).map")
        #expect(map.pixels.count == expected.count)
        let differences = zip(map.pixels, expected).map { abs(Int($0) - Int($1)) }
        let differing = differences.filter { $0 > 0 }.count
        #expect((differences.max() ?? 0) <= 1, "\(name): a level differs by \(differences.max() ?? 0)")
        #expect(differing * 100 <= expected.count, "\(name): \(differing) levels differ")
    }

    /// The levels by hand: (n + 1) / 2 clipped, times 255, truncated; NaN is 0.
    @Test func levelsClipAndTruncate() {
        #expect(NormalBaeDetector.levels(Tensor(shape: [6], values: [-1, 0, 1, 1.5, -0.2, .nan])) == [0, 127, 255, 255, 102, 0])
    }

    /// geffnet's conv2d_same on odd sizes (7x9), where TensorFlow's "same" padding is not the
    /// stride-2 layers' bottom-right row and column: a 3x3 and a depthwise 5x5 convolution within
    /// 1e-5 (float32 sums of at most 27 terms; measured 2.4e-7).
    @Test func samePaddingMatchesGeffnet() throws {
        let goldens = try Self.goldens.get()
        let input = try goldens.tensor(named: "same.input").nchwToNHWC()
        for (key, groups) in [("same.k3", 1), ("same.k5", 3)] {
            let weight = try goldens.tensor(named: "\(key).weight")
            let kernel = weight.shape[3]
            let rows = Tensor.samePadding(size: 7, kernel: kernel, stride: 2)
            let columns = Tensor.samePadding(size: 9, kernel: kernel, stride: 2)
            let padded = input.padded(top: rows.before, bottom: rows.after, left: columns.before, right: columns.after)
            let output = GroupedConv2D(weight: weight, bias: nil, stride: 2, groups: groups)(padded)
            let expected = try goldens.tensor(named: key).nchwToNHWC()
            #expect(output.shape == expected.shape)
            let error = zip(output.scalars, expected.scalars).map { abs($0 - $1) }.max() ?? .infinity
            #expect(error < 1e-5, "\(key): largest difference \(error)")
        }
        // By hand: ceil(size / stride) outputs, the odd padding after.
        #expect(Tensor.samePadding(size: 8, kernel: 3, stride: 2) == (0, 1))
        #expect(Tensor.samePadding(size: 8, kernel: 5, stride: 2) == (1, 2))
        #expect(Tensor.samePadding(size: 7, kernel: 3, stride: 2) == (1, 1))
        #expect(Tensor.samePadding(size: 7, kernel: 3, stride: 1) == (1, 1))
    }

    /// The checkpoint's keys are found under `model.module.` (the published layout), `model.`,
    /// `module.` or no prefix (a conversion of the bare state dict): the stem's weight alone
    /// gets as far as its BatchNorm, whose missing key is named as the network names it.
    @Test(arguments: ["model.module.", "model.", "module.", ""])
    func keysAreFoundUnderEachPrefix(_ prefix: String) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("normal-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("scannet.safetensors")
        try SafeTensors.write([(name: prefix + "encoder.original_model.conv_stem.weight", tensor: Tensor(shape: [4, 3, 3, 3]))], to: url)
        #expect {
            _ = try NormalBaeDetector(weights: url).detect(RGBImage(width: 64, height: 64))
        } throws: { error in
            guard case .invalidWeights(_, "scannet.safetensors", let reason) = error as? DetectionError else { return false }
            return reason == "missing weight 'encoder.original_model.bn1.weight'"
        }
    }

    /// A file that is not NormalBae's is refused, naming it and the key at fault; an image the
    /// network cannot take is refused, naming its size.
    @Test func wrongWeightsAndSizesAreRefused() throws {
        let other = NormalBaeDetector(weights: DetectorGoldens.folder.appendingPathComponent("depth_tiny.pt"))
        #expect {
            _ = try other.detect(RGBImage(width: 64, height: 64))
        } throws: { error in
            guard case .invalidWeights(let modality, let file, let reason) = error as? DetectionError else { return false }
            return modality == "normal-map" && file == "depth_tiny.pt" && reason.contains("encoder.original_model.conv_stem.weight")
        }
        #expect(throws: DetectionError.self) { _ = try Self.detector.normals(RGBImage(width: 64, height: 80)) }
    }
}
