import DiffusionCore
import Foundation

/// Tests/Goldens/canny, made by its generate.py: images stored raw with `cv2.Canny(rgb, 100, 200)`
/// of each, from the pinned OpenCV in the reference venv.
enum CannyFixtures {
    static let folder = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Goldens/canny")

    struct Manifest: Decodable {
        let opencv: String
        let low: Double
        let high: Double
        let images: [Entry]
    }

    struct Entry: Decodable, Sendable, CustomStringConvertible {
        let name: String
        let width: Int
        let height: Int
        let edgePixels: Int

        var description: String { name }
    }

    struct FixtureError: Error, CustomStringConvertible {
        let description: String
    }

    static func manifest() throws -> Manifest {
        try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: folder.appendingPathComponent("manifest.json")))
    }

    /// The manifest's images, or none when it cannot be read (the manifest test then fails).
    static let entries: [Entry] = (try? manifest().images) ?? []

    /// The image of `entry`, checked against the size the manifest gives.
    static func image(_ entry: Entry) throws -> RGBImage {
        let bytes = try read(entry.name + ".rgb", count: entry.width * entry.height * 3)
        return RGBImage(width: entry.width, height: entry.height, pixels: bytes)
    }

    /// OpenCV's one-channel edge map for `entry`: 0 or 255 per pixel.
    static func edges(_ entry: Entry) throws -> [UInt8] {
        try read(entry.name + ".edges", count: entry.width * entry.height)
    }

    static func entry(named name: String) throws -> Entry {
        guard let entry = entries.first(where: { $0.name == name }) else {
            throw FixtureError(description: "no image '\(name)' in \(folder.path)/manifest.json")
        }
        return entry
    }

    private static func read(_ file: String, count: Int) throws -> [UInt8] {
        let bytes = try [UInt8](Data(contentsOf: folder.appendingPathComponent(file)))
        guard bytes.count == count else {
            throw FixtureError(description: "\(file) holds \(bytes.count) bytes, the manifest implies \(count)")
        }
        return bytes
    }
}
