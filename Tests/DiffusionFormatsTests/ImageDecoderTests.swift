import DiffusionCore
import DiffusionFormats
import Foundation
import Testing

/// PNG and JPEG files through `ImageDecoder`, against Pillow's
/// `ImageOps.exif_transpose(Image.open(f)).convert("RGB")` (Tests/Goldens/images).
@Suite struct ImageDecoderTests {
    let decoded: SafeTensorsFile
    /// File name -> "ok" (Pillow decodes it), "error" (Pillow raises) or "too large".
    let outcomes: [String: String]

    init() throws {
        decoded = try SafeTensorsFile(contentsOf: imageGoldens.appendingPathComponent("decoded.safetensors"))
        outcomes = try JSONDecoder().decode(
            [String: String].self, from: Data(contentsOf: imageGoldens.appendingPathComponent("decoding.json")))
    }

    /// Decoding is exact: the same libjpeg IDCT/upsampling defaults and conversions as
    /// Pillow, so every sample of every file equals Pillow's.
    @Test func decodesEveryGoodFileExactlyAsPillow() throws {
        let good = outcomes.filter { $0.value == "ok" }.keys.sorted()
        #expect(good.count >= 25)
        for name in good {
            let image = try ImageDecoder.decode(imageFile(name))
            let expected = try goldenImage(decoded, name)
            #expect(image == expected, "\(name): \(image.width)x\(image.height), expected \(expected.width)x\(expected.height)")
        }
    }

    /// Whatever Pillow refuses, the decoder refuses with an `ImageDecodingError` too.
    @Test func refusesWhatPillowRefuses() throws {
        let bad = outcomes.filter { $0.value != "ok" }.keys.sorted()
        #expect(bad.count >= 8)
        for name in bad {
            #expect(throws: ImageDecodingError.self, "\(name)") { try ImageDecoder.decode(imageFile(name)) }
        }
    }

    @Test func namesWhatIsWrong() throws {
        #expect(try kind("bad_huge.jpg") == .tooLarge)
        #expect(try kind("bad_zero_height.jpg") == .empty)
        #expect(try kind("bad_garbage.jpg") == .corrupt)
        for truncated in ["bad_truncated_half.jpg", "bad_truncated_progressive.jpg", "missing_eoi.jpg"] {
            let error = try #require(throws: ImageDecodingError.self) { try ImageDecoder.decode(imageFile(truncated)) }
            #expect(error.kind == .corrupt && error.format == "JPEG")
            #expect(error.message.contains("truncated"), "\(truncated): \(error.message)")
        }
    }

    @Test func refusesOtherFormatsAndNothing() throws {
        let gif = Data("GIF89a\u{1}\0\u{1}\0".utf8)
        let error = try #require(throws: ImageDecodingError.self) { try ImageDecoder.decode(gif) }
        #expect(error.kind == .unsupportedFormat)
        #expect(error.description.contains("neither PNG nor JPEG") && error.description.contains("47 49 46"))
        #expect(throws: ImageDecodingError.self) { try ImageDecoder.decode(Data()) }
        #expect(throws: ImageDecodingError.self) { try ImageDecoder.decode(Data([0xFF, 0xD8, 0xFF])) }
        #expect(ImageDecoder.Format(sniffing: try imageFile("rgba.png")) == .png)
        #expect(ImageDecoder.Format(sniffing: try imageFile("cmyk.jpg")) == .jpeg)
    }

    /// Every prefix of a JPEG either fails cleanly or, past the last scan data, decodes.
    @Test func survivesEveryTruncation() throws {
        let data = try imageFile("progressive.jpg")
        for length in stride(from: 0, to: data.count, by: 7) {
            _ = try? ImageDecoder.decode(data.prefix(length))
        }
        let full = try ImageDecoder.decode(data)
        #expect(full.width == 37 && full.height == 29)
    }

    /// Random damage anywhere in a file (three bytes replaced, 150 times per file) is
    /// decoded or refused with an `ImageDecodingError`, never a crash or another error.
    @Test func survivesRandomDamage() throws {
        var generator = SeededGenerator(state: 1)
        for name in ["baseline_420.jpg", "progressive.jpg", "cmyk.jpg", "rgb.png", "palette.png"] {
            let original = [UInt8](try imageFile(name))
            for _ in 0..<150 {
                var bytes = original
                for _ in 0..<3 {
                    bytes[Int.random(in: 0..<bytes.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
                }
                do {
                    _ = try ImageDecoder.decode(Data(bytes))
                } catch {
                    #expect(error is ImageDecodingError, "\(name): \(error)")
                }
            }
        }
    }

    /// The orientation fixtures are one 13x7 picture stored with tags 1 to 8: the decoded
    /// pixels of 2...8 are the upright picture's, moved as each tag says.
    @Test func appliesEveryExifOrientation() throws {
        let upright = try ImageDecoder.decode(imageFile("orientation_1.jpg"))
        #expect(upright.width == 13 && upright.height == 7)
        for value in 2...8 {
            let image = try ImageDecoder.decode(imageFile("orientation_\(value).jpg"))
            #expect((image.width, image.height) == (value >= 5 ? (7, 13) : (13, 7)), "orientation \(value)")
            #expect(image == (try goldenImage(decoded, "orientation_\(value).jpg")), "orientation \(value)")
        }
        #expect(try ImageDecoder.decode(imageFile("orientation_9_ignored.jpg")) == upright)
    }

    private func kind(_ name: String) throws -> ImageDecodingError.Kind? {
        do {
            _ = try ImageDecoder.decode(imageFile(name))
            return nil
        } catch let error as ImageDecodingError {
            return error.kind
        }
    }
}
