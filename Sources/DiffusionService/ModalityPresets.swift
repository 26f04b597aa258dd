import DiffusionPipeline
import Foundation

/// The modality presets (Docs/SPEC.md §2): the defaults, each overridable by `<models>/presets.json`
/// (`{"character": ["depth", "pose:0.8"], ...}`, members written as in a `modality` string).
public struct ModalityPresets: Equatable, Sendable {
    /// Preset name to its ControlNets.
    public private(set) var presets: [String: [ControlNetModality]]

    /// The presets when `presets.json` is absent.
    public static let defaults = ModalityPresets(presets: [
        "character": [ControlNetModality(name: "depth"), ControlNetModality(name: "pose")],
        "landscape": [ControlNetModality(name: "depth"), ControlNetModality(name: "canny")],
        "city": [ControlNetModality(name: "canny"), ControlNetModality(name: "depth"), ControlNetModality(name: "seg")],
        "interior": [ControlNetModality(name: "lines"), ControlNetModality(name: "depth"), ControlNetModality(name: "seg")],
    ])

    /// The ControlNets of preset `name`, nil when `name` is no preset.
    public func members(of name: String) -> [ControlNetModality]? { presets[name] }

    /// The defaults with the entries of the `presets.json` at `url` replacing theirs.
    ///
    /// - Throws: `GenerationError` 500 naming the file and preset for an unreadable file, an
    ///   unknown preset name, or a member list that is empty, too long, repeats a name, or
    ///   names no modality.
    public init(overridesAt url: URL) throws {
        self = Self.defaults
        guard FileManager.default.fileExists(atPath: url.path) else { return }
        let file: [String: [String]] = try decodeJSON(at: url)
        for (name, members) in file {
            guard Self.defaults.presets[name] != nil else {
                throw Self.invalid(url, "'\(name)' is not a preset; presets are character, landscape, city, interior")
            }
            presets[name] = try Self.parseMembers(members, of: name, in: url)
        }
    }

    private init(presets: [String: [ControlNetModality]]) {
        self.presets = presets
    }

    private static func parseMembers(_ members: [String], of name: String, in url: URL) throws -> [ControlNetModality] {
        let modalities = try members.map { member in
            do { return try ControlNetModality.parseItem(member) } catch let error as GenerationError {
                throw invalid(url, "preset '\(name)': \(error.message)")
            }
        }
        let known = Set(ModelFamily.allCases.flatMap(\.modalities))
        guard (1...ControlNetModality.maximumCount).contains(modalities.count),
              Set(modalities.map(\.name)).count == modalities.count,
              modalities.allSatisfy({ known.contains($0.name) })
        else {
            throw invalid(url, "preset '\(name)' must list 1 to \(ControlNetModality.maximumCount) different modalities, "
                + "not \(members)")
        }
        return modalities
    }

    private static func invalid(_ url: URL, _ message: String) -> GenerationError {
        .internalError("\(url.path): \(message)")
    }
}

extension ModelsDirectory {
    /// The presets of this models directory: the defaults overridden by `presets.json`.
    public func presets() throws -> ModalityPresets {
        try ModalityPresets(overridesAt: url.appendingPathComponent("presets.json"))
    }
}

extension ModelFamily {
    /// The preset names a request may use (Docs/SPEC.md §2).
    public var presets: [String] {
        switch self {
        case .sd15: return ["character", "landscape", "city", "interior"]
        case .sdxl: return ["character", "landscape"]
        }
    }
}
