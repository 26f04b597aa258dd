import DiffusionPipeline
import Foundation

/// One ControlNet of a request: its modality and its conditioning scale (Docs/SPEC.md §2, `modality`).
public struct ControlNetModality: Equatable, Codable, Sendable, CustomStringConvertible {
    /// A modality name (`canny`, `depth`, ...), the ControlNet folder's name.
    public var name: String
    /// The ControlNet's `controlnet_conditioning_scale`, in ]0, 1].
    public var scale: Double

    public init(name: String, scale: Double = 1) {
        self.name = name
        self.scale = scale
    }

    /// At most this many ControlNets per request.
    public static let maximumCount = 3

    /// `name:scale`, the form `modality` strings use.
    public var description: String { "\(name):\(scale)" }

    /// The ControlNets a `modality` string asks for: comma-separated `name[:value]` (value in
    /// ]0, 1], default 1, at most 3 names, no repeats), or exactly one `preset[:value]`, whose
    /// value scales every member of the preset.
    ///
    /// - Throws: `GenerationError` 400 naming `modality` for a malformed string, a value out of
    ///   range, or a name or preset the family does not allow.
    static func parse(_ text: String, family: ModelFamily, presets: ModalityPresets) throws -> [ControlNetModality] {
        let items = try text.split(separator: ",", omittingEmptySubsequences: false).map { try parseItem(String($0)) }
        if items.count == 1, let preset = presets.members(of: items[0].name) {
            guard family.presets.contains(items[0].name) else {
                throw invalid("preset '\(items[0].name)' is not available for \(family.rawValue) models; "
                    + "presets: \(family.presets.joined(separator: ", "))")
            }
            if let member = preset.first(where: { !family.modalities.contains($0.name) }) {
                throw GenerationError.internalError(
                    "preset '\(items[0].name)' lists '\(member.name)', which \(family.rawValue) models do not have")
            }
            return preset.map { ControlNetModality(name: $0.name, scale: $0.scale * items[0].scale) }
        }
        guard items.count <= maximumCount else {
            throw invalid("at most \(maximumCount) modalities may be combined, not \(items.count)")
        }
        var seen: Set<String> = []
        for item in items {
            if presets.members(of: item.name) != nil {
                throw invalid("the preset '\(item.name)' cannot be combined with other modalities")
            }
            guard family.modalities.contains(item.name) else {
                throw invalid("'\(item.name)' is not a modality of \(family.rawValue) models; "
                    + "modalities: \(family.modalities.joined(separator: ", ")); "
                    + "presets: \(family.presets.joined(separator: ", "))")
            }
            guard seen.insert(item.name).inserted else { throw invalid("'\(item.name)' is listed twice") }
        }
        return items
    }

    /// One `name[:value]` item; spaces (U+0020 only) around the name and value are ignored.
    static func parseItem(_ item: String) throws -> ControlNetModality {
        let parts = item.split(separator: ":", omittingEmptySubsequences: false).map(trimmingSpaces)
        guard parts.count <= 2, !parts[0].isEmpty else {
            throw invalid("'\(item)' is not of the form name or name:value")
        }
        guard parts.count == 2 else { return ControlNetModality(name: String(parts[0])) }
        guard let value = scale(parts[1]) else {
            throw invalid("the value of '\(parts[0])' must be a decimal number in ]0, 1] such as 0.5 or 1, "
                + "not '\(parts[1])'")
        }
        return ControlNetModality(name: String(parts[0]), scale: value)
    }

    /// A value as the schema's examples write it: digits with an optional fraction (`1`, `0.5`,
    /// `1.0`). `Double.init` accepts more (a sign, an exponent, hexadecimal, `inf`, `nan`), all
    /// refused, as are values whose float32 conditioning scale would be 0 or subnormal.
    private static func scale(_ text: Substring) -> Double? {
        let pieces = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard pieces.allSatisfy({ !$0.isEmpty && $0.utf8.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) } }),
              let value = Double(text), value > 0, value <= 1, Float(value).isNormal
        else { return nil }
        return value
    }

    /// `text` without the spaces around it; other whitespace (tabs, non-breaking spaces) stays
    /// and makes the name or value invalid.
    private static func trimmingSpaces(_ text: Substring) -> Substring {
        guard let first = text.firstIndex(where: { $0 != " " }), let last = text.lastIndex(where: { $0 != " " }) else {
            return text[text.endIndex...]
        }
        return text[first...last]
    }

    private static func invalid(_ message: String) -> GenerationError {
        .badRequest("modality: \(message)", field: "modality")
    }
}

/// The canonical `modality` string of a list of ControlNets (`depth:0.5,pose:0.5`).
func modalityString(_ modalities: [ControlNetModality]) -> String {
    modalities.map(\.description).joined(separator: ",")
}
