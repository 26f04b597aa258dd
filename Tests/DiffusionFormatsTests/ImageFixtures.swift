import DiffusionCore
import DiffusionFormats
import Foundation

/// Tests/Goldens/images, made by its generate.py with the pinned reference venv.
let imageGoldens = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Goldens/images")

/// The bytes of Tests/Goldens/images/files/`name`.
func imageFile(_ name: String) throws -> Data {
    try Data(contentsOf: imageGoldens.appendingPathComponent("files").appendingPathComponent(name))
}

/// A U8 [height, width, 3] tensor of a golden file as an image.
func goldenImage(_ file: SafeTensorsFile, _ name: String) throws -> RGBImage {
    let tensor = try file.tensor(named: name)
    return RGBImage(width: tensor.shape[1], height: tensor.shape[0], pixels: tensor.scalars.map { UInt8($0) })
}

/// generate.py's `pattern`: a high-frequency integer image rebuilt here instead of stored.
func patternImage(width: Int, height: Int) -> RGBImage {
    var pixels = [UInt8](repeating: 0, count: width * height * 3)
    for y in 0..<height {
        for x in 0..<width {
            for c in 0..<3 {
                pixels[3 * (y * width + x) + c] = UInt8(((x * 31 + y * 17 + c * 101) ^ (x * y * 7 + c)) & 255)
            }
        }
    }
    return RGBImage(width: width, height: height, pixels: pixels)
}

/// How two same-sized images differ: the share of samples that are equal and the largest
/// difference in levels.
struct PixelComparison: CustomStringConvertible {
    let samples: Int
    let equal: Int
    let maximumDifference: Int

    init(_ actual: RGBImage, _ expected: RGBImage) {
        precondition(actual.width == expected.width && actual.height == expected.height, "sizes differ")
        samples = actual.pixels.count
        equal = zip(actual.pixels, expected.pixels).count { $0 == $1 }
        maximumDifference = zip(actual.pixels, expected.pixels).map { abs(Int($0) - Int($1)) }.max() ?? 0
    }

    var description: String { "\(equal)/\(samples) samples equal, largest difference \(maximumDifference)" }
}

/// SplitMix64: a seeded generator, so damage tests are the same on every run.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
