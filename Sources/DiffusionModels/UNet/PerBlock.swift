// Follows the int-or-list options of diffusers' models/unets/unet_2d_condition.py.

/// A diffusers config option written either as one value for every block or as a list with
/// one value per block (`attention_head_dim`, `transformer_layers_per_block`, ...).
public enum PerBlock<Value: Codable & Sendable & Equatable>: Codable, Sendable, Equatable {
    case all(Value)
    case each([Value])

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let list = try? container.decode([Value].self) {
            self = .each(list)
        } else {
            self = .all(try container.decode(Value.self))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .all(let value): try container.encode(value)
        case .each(let values): try container.encode(values)
        }
    }

    /// One value per block for `count` blocks; a list of another length names `field` in the error.
    public func values(count: Int, field: String) throws -> [Value] {
        switch self {
        case .all(let value): return Array(repeating: value, count: count)
        case .each(let values):
            guard values.count == count else {
                throw ModelLoadingError("config field '\(field)' lists \(values.count) values for \(count) blocks")
            }
            return values
        }
    }
}
