import DiffusionCore
import DiffusionDetectors
import DiffusionFormats
import Foundation
import Testing

/// LineartDetector against controlnet_aux's LineartDetector with the tiny random Generators of
/// Tests/Goldens/detectors/lineart.py (`lineart_tiny.pth` in sk_model.pth's place,
/// `lineart2_tiny.pth` in sk_model2.pth's).
@Suite struct LineartDetectorTests {
    static let fixtures = Result { try DetectorFixtures("lineart.safetensors") }

    static func image(_ name: String) throws -> RGBImage {
        try ImageDecoder.decode(Data(contentsOf: DetectorFixtures.folder.appendingPathComponent("\(name).png")))
    }

    /// A fresh `detectors/lineart/` holding the given fixtures under the given names; the caller removes it.
    static func weightsDirectory(_ files: [(fixture: String, published: String)] = [
        ("lineart_tiny.pth", LineartDetector.weightsFile), ("lineart2_tiny.pth", LineartDetector.coarseWeightsFile),
    ]) throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lineart-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for (fixture, published) in files {
            try FileManager.default.copyItem(at: DetectorFixtures.folder.appendingPathComponent(fixture),
                                             to: folder.appendingPathComponent(published))
        }
        return folder
    }

    @Test func networkMatchesTorch() throws {
        let folder = try Self.weightsDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let input = ControlNetAuxImage.resizeImage(try Self.image("astronaut"), resolution: 128)
        let line = try LineartDetector(weightsDirectory: folder).line(input)
        let expected = try Self.fixtures.get().tensor("astronaut.line")
        #expect(line.shape == expected.shape)
        // float32 through 12 convolutions and 11 instance norms, summed in other orders than
        // torch's: within 1e-4 of the output's largest value (at most 1). Measured 1.3e-6.
        let worst = zip(line.scalars, expected.scalars).map { abs($0 - $1) }.max() ?? .nan
        #expect(worst <= 1e-4, "largest difference \(worst)")
    }

    /// The whole call: the photo enlarged to the detection resolution (Lanczos), the network's
    /// bytes, resized back (linear) and inverted.
    @Test(arguments: ["astronaut", "coffee", "chelsea"])
    func mapsMatchControlNetAux(_ name: String) throws {
        let folder = try Self.weightsDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        try expectMap(LineartDetector(weightsDirectory: folder), name, key: "\(name).map")
    }

    /// `coarse` runs sk_model2.pth (a network of other weights and channels), as `coarse=True`.
    @Test func coarseRunsTheSecondModel() throws {
        let folder = try Self.weightsDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let detector = try LineartDetector(weightsDirectory: folder, coarse: true)
        #expect(detector.coarse)
        try expectMap(detector, "astronaut", key: "astronaut.coarse")
        #expect(try Self.fixtures.get().bytes("astronaut.coarse") != (try Self.fixtures.get().bytes("astronaut.map")))
    }

    func expectMap(_ detector: LineartDetector, _ name: String, key: String) throws {
        let image = try Self.image(name)
        let map = try detector.detect(image)
        #expect(map.width == image.width && map.height == image.height)
        let gray = DetectorGoldens.channel(map)
        #expect(map.pixels == gray.flatMap { [$0, $0, $0] })
        let difference = byteDifference(gray, try Self.fixtures.get().bytes(key))
        // The network's output times 255 is truncated to a byte: a float32 difference (up to
        // 1.3e-6, so 3e-4 of a level) moves a value across an integer only when it lies that
        // close to one, so a few pixels differ by 1 (then blended by the linear resize), none by
        // more; at most 0.1%. Measured: 1, 6 and 3 pixels of 36,864-49,152 by 1 on the three
        // images, 2 with the coarse model.
        #expect(difference.largest <= 1, "\(key): differs by up to \(difference.largest)")
        #expect(difference.count * 1000 <= gray.count, "\(key): \(difference.count) pixels differ")
    }

    /// The published file's tensors converted to safetensors under `sk_model.safetensors` give
    /// the same map.
    @Test func safetensorsConversionLoads() throws {
        let published = try Self.weightsDirectory([("lineart_tiny.pth", LineartDetector.weightsFile)])
        let converted = try Self.weightsDirectory([])
        defer { for folder in [published, converted] { try? FileManager.default.removeItem(at: folder) } }
        let file = try TensorFiles.open(published.appendingPathComponent(LineartDetector.weightsFile))
        try SafeTensors.write(try file.names.map { (name: $0, tensor: try file.tensor(named: $0)) },
                              to: converted.appendingPathComponent("sk_model.safetensors"))
        let image = try Self.image("astronaut")
        #expect(try LineartDetector(weightsDirectory: converted).detect(image) == (try LineartDetector(weightsDirectory: published).detect(image)))
    }

    @Test(arguments: [false, true])
    func missingWeightsNameTheFile(_ coarse: Bool) throws {
        let folder = try Self.weightsDirectory(coarse ? [("lineart_tiny.pth", LineartDetector.weightsFile)] : [])
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = coarse ? "sk_model2.pth" : "sk_model.pth"
        #expect(throws: DetectionError.missingWeights(modality: "lineart", file: file)) {
            try LineartDetector(weightsDirectory: folder, coarse: coarse)
        }
    }

    /// Another network's file under the published name is refused at the first detection,
    /// naming the file and the first key the Generator asks for.
    @Test func anotherNetworksFileIsInvalid() throws {
        let folder = try Self.weightsDirectory([("hed_tiny.pth", LineartDetector.weightsFile)])
        defer { try? FileManager.default.removeItem(at: folder) }
        let detector = try LineartDetector(weightsDirectory: folder)
        #expect(throws: DetectionError.invalidWeights(modality: "lineart", file: "sk_model.pth",
                                                      reason: "missing weight 'model0.1.weight'")) {
            try detector.detect(RGBImage(width: 64, height: 64, pixels: [UInt8](repeating: 128, count: 64 * 64 * 3)))
        }
    }

    /// The published files' sizes keep the network's shapes; others are refused, not run.
    @Test func sidesNotMultiplesOfFourAreRefused() throws {
        let folder = try Self.weightsDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let detector = try LineartDetector(weightsDirectory: folder)
        #expect(throws: DetectionError.self) { try detector.line(RGBImage(width: 66, height: 64, pixels: [UInt8](repeating: 0, count: 66 * 64 * 3))) }
    }
}
