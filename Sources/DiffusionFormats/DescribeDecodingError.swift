import Foundation

/// A decoding error as one line for a message: the field path and what is wrong
/// (`entries[2].dtype: ...`), not the decoder's dump of its context.
public func describeDecodingError(_ error: Error) -> String {
    switch error {
    case DecodingError.keyNotFound(let key, _): "missing \"\(key.stringValue)\""
    case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context),
         DecodingError.dataCorrupted(let context):
        (context.codingPath.isEmpty ? "" : "\(codingPathText(context.codingPath)): ") + context.debugDescription
    default: "\(error)"
    }
}

private func codingPathText(_ codingPath: [CodingKey]) -> String {
    let text = codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
    return text.hasPrefix(".") ? String(text.dropFirst()) : text
}
