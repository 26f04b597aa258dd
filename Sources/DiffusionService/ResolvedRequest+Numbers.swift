import DiffusionPipeline
import Foundation

extension ResolvedRequest {
    /// A number field: `value` or the default, which must lie in `range`.
    /// `element` names the index when the field is an array.
    static func number(
        _ value: Double?, _ field: String, default fallback: Double, in range: ClosedRange<Double>, element: Int? = nil
    ) throws -> Double {
        let value = value ?? fallback
        guard range.contains(value) else {
            let name = field + (element.map { "[\($0)]" } ?? "")
            throw GenerationError.badRequest(
                "\(name) must be in [\(format(range.lowerBound)), \(format(range.upperBound))], not \(format(value))",
                field: field)
        }
        return value
    }

    /// A count field: a whole `value` (or the default) in `range`.
    static func integer(_ value: Double?, _ field: String, default fallback: Int, in range: ClosedRange<Int>) throws -> Int {
        let value = value ?? Double(fallback)
        guard value.rounded() == value, value >= Double(range.lowerBound), value <= Double(range.upperBound) else {
            throw GenerationError.badRequest(
                "\(field) must be an integer in [\(range.lowerBound), \(range.upperBound)], not \(format(value))",
                field: field)
        }
        return Int(value)
    }

    /// `width` or `height`: default 512, a multiple of 8 in the family's range.
    static func size(_ value: Double?, _ field: String, family: ModelFamily) throws -> Int {
        let range = family.sizeRange
        let value = value ?? 512
        guard value.rounded() == value, value >= Double(range.lowerBound), value <= Double(range.upperBound),
              Int(value) % 8 == 0
        else {
            throw GenerationError.badRequest(
                "\(field) must be a multiple of 8 in [\(range.lowerBound), \(range.upperBound)] for "
                    + "\(family.rawValue) models, not \(format(value))",
                field: field)
        }
        return Int(value)
    }

    /// Whole numbers without a fraction (`5`, not `5.0`), others as Swift prints them.
    static func format(_ value: Double) -> String {
        value.rounded() == value && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }
}
