import DiffusionCore
import DiffusionFormats
import Foundation
import Testing

@Suite struct DataURLTests {
    @Test func decodesPNGAndJPEGDataURLs() throws {
        for (name, mediaType) in [("rgba.png", "image/png"), ("baseline_420.jpg", "image/jpeg"),
                                  ("gray.jpg", "IMAGE/JPG"), ("palette.png", "")] {
            let bytes = try imageFile(name)
            let url = "data:\(mediaType);base64,\(bytes.base64EncodedString())"
            #expect(try DataURL.decode(url) == bytes, "\(name)")
            #expect(try DataURL.decodeImage(url) == ImageDecoder.decode(bytes), "\(name)")
        }
    }

    @Test func toleratesWhitespaceLineBreaksParametersAndMissingPadding() throws {
        let bytes = try imageFile("gray.jpg")
        let wrapped = bytes.base64EncodedString(options: [.lineLength64Characters, .endLineWithLineFeed])
        #expect(wrapped.contains("\n"))
        #expect(try DataURL.decode("  data:image/jpeg;base64,\n\(wrapped)\r\n ") == bytes)
        #expect(try DataURL.decode("data:image/jpeg;name=a.jpg;BASE64,\(bytes.base64EncodedString())") == bytes)
        let unpadded = "data:image/png;base64," + Data([1, 2, 3, 4]).base64EncodedString().replacingOccurrences(of: "=", with: "")
        #expect(try DataURL.decode(unpadded) == Data([1, 2, 3, 4]))
    }

    /// A mislabelled image decodes by its bytes: the media type is only a hint.
    @Test func sniffsTheBytesRatherThanTrustingTheLabel() throws {
        let png = try imageFile("rgb.png")
        let image = try DataURL.decodeImage("data:image/jpeg;base64,\(png.base64EncodedString())")
        #expect(image == (try PNG.decode(png)))
    }

    @Test func refusesMalformedURLsSayingWhy() throws {
        let jpeg = try imageFile("baseline_420.jpg").base64EncodedString()
        let cases: [(String, String)] = [
            ("image/png;base64,\(jpeg)", "does not start with"),
            ("asset_abc123", "does not start with"),
            ("data:image/png;base64", "no comma"),
            ("data:image/png,\(jpeg)", "must be base64"),
            ("data:text/plain;base64,\(jpeg)", "not an image type"),
            ("data:image/webp;base64,\(jpeg)", "not a supported image type"),
            ("data:image/png;base64,", "no data"),
            ("data:image/png;base64,iVBO!!RwKGgo=", "not valid base64"),
            ("data:image/png;base64,A", "not valid base64"),
            ("data:image/png;base64,\(jpeg.dropLast(1))%", "not valid base64"),
        ]
        for (url, reason) in cases {
            let error = try #require(throws: DataURLError.self, "\(url.prefix(40))") { try DataURL.decode(url) }
            #expect(error.description.contains(reason), "\(url.prefix(40)): \(error)")
        }
    }

    @Test func reportsBadImagesInsideGoodURLs() throws {
        let truncated = try imageFile("bad_truncated_half.jpg").base64EncodedString()
        #expect(throws: ImageDecodingError.self) { try DataURL.decodeImage("data:image/jpeg;base64,\(truncated)") }
        let text = Data("hello".utf8).base64EncodedString()
        let error = try #require(throws: ImageDecodingError.self) { try DataURL.decodeImage("data:;base64,\(text)") }
        #expect(error.kind == .unsupportedFormat)
    }

    @Test func tellsDataURLsFromAssetIDs() {
        #expect(DataURL.isDataURL("data:image/png;base64,AAAA"))
        #expect(DataURL.isDataURL(" DATA:image/png;base64,AAAA"))
        #expect(!DataURL.isDataURL("asset_Zx9-_q"))
    }
}
