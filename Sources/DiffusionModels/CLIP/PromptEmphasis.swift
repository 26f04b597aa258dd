// Follows AUTOMATIC1111 stable-diffusion-webui modules/prompt_parser.py (parse_prompt_attention), v1.10.

/// A1111's emphasis grammar: `(text)` weighs text by 1.1, `[text]` by 1/1.1, `(text:1.3)` by 1.3;
/// brackets nest and multiply; `\(` `\)` `\[` `\]` `\\` are literal characters; `BREAK` (a whole word)
/// ends the current 75-token chunk. Docs/TEXT.md, "Prompt weighting", has the rules in full.
///
/// The parse reproduces A1111's, unbalanced brackets included: a bracket left open weighs everything
/// after it, a closing bracket with nothing open is literal text, a backslash before any other
/// character vanishes, and neighbouring pieces of equal weight are merged.
public enum PromptEmphasis {
    /// A piece of the prompt and its weight; A1111 marks a `BREAK` as the text "BREAK" of weight -1.
    public struct Segment: Equatable, Sendable {
        public var text: String
        public var weight: Double

        public init(_ text: String, _ weight: Double) {
            self.text = text
            self.weight = weight
        }

        /// True for the marker of a `BREAK` (only an unweighted one: inside brackets it is scaled and
        /// A1111 then tokenizes it as the word "BREAK").
        public var isBreak: Bool { text == "BREAK" && weight == -1 }
    }

    static let roundMultiplier = 1.1
    static let squareMultiplier = 1 / 1.1

    /// Splits `prompt` into weighted segments, as A1111's `parse_prompt_attention`.
    ///
    /// - Throws: `PromptSyntaxError` for a `(text:weight)` whose weight is not a number (`1.2.3`),
    ///   where A1111's `float()` fails the generation.
    public static func parse(_ prompt: String) throws -> [Segment] {
        var parser = Parser(Array(prompt.unicodeScalars))
        try parser.run()
        return merged(parser.result.isEmpty ? [Segment("", 1)] : parser.result)
    }

    /// Runs of equal weight joined into one segment.
    private static func merged(_ segments: [Segment]) -> [Segment] {
        var result: [Segment] = []
        for segment in segments {
            if let last = result.last, last.weight == segment.weight {
                result[result.count - 1].text += segment.text
            } else {
                result.append(segment)
            }
        }
        return result
    }

    /// The left-to-right pass over A1111's tokens: escapes, brackets, `:weight)`, text runs, lone colons.
    private struct Parser {
        let scalars: [Unicode.Scalar]
        var result: [Segment] = []
        var roundOpen: [Int] = []
        var squareOpen: [Int] = []
        var position = 0

        init(_ scalars: [Unicode.Scalar]) { self.scalars = scalars }

        mutating func run() throws {
            while position < scalars.count {
                try step()
            }
            for start in roundOpen { scale(from: start, by: PromptEmphasis.roundMultiplier) }
            for start in squareOpen { scale(from: start, by: PromptEmphasis.squareMultiplier) }
        }

        private mutating func step() throws {
            let scalar = scalars[position]
            switch scalar {
            case "\\":
                // An escaped bracket or backslash is that character; a lone backslash is dropped.
                if position + 1 < scalars.count, "()[]\\".unicodeScalars.contains(scalars[position + 1]) {
                    result.append(Segment(String(scalars[position + 1]), 1))
                    position += 2
                } else {
                    result.append(Segment("", 1))
                    position += 1
                }
            case "(":
                roundOpen.append(result.count)
                position += 1
            case "[":
                squareOpen.append(result.count)
                position += 1
            case ":":
                try colon()
            case ")" where !roundOpen.isEmpty:
                scale(from: roundOpen.removeLast(), by: PromptEmphasis.roundMultiplier)
                position += 1
            case "]" where !squareOpen.isEmpty:
                scale(from: squareOpen.removeLast(), by: PromptEmphasis.squareMultiplier)
                position += 1
            case ")", "]":
                appendText(position..<(position + 1))
                position += 1
            default:
                let end = scalars[position...].firstIndex { "\\()[]:".unicodeScalars.contains($0) } ?? scalars.count
                appendText(position..<end)
                position = end
            }
        }

        /// `:weight)` closes the innermost round bracket with that weight; with none open, or when the
        /// colon starts no weight, the text is literal.
        private mutating func colon() throws {
            guard let (end, weight) = weightToken(at: position) else {
                appendText(position..<(position + 1))
                position += 1
                return
            }
            if let start = roundOpen.popLast() {
                scale(from: start, by: try PromptEmphasis.number(weight))
            } else {
                appendText(position..<end)
            }
            position = end
        }

        /// A1111's `:\s*([+-]?[.\d]+)\s*\)` at `start`: the end of the match and the weight's scalars.
        private func weightToken(at start: Int) -> (end: Int, weight: ArraySlice<Unicode.Scalar>)? {
            var index = start + 1
            while index < scalars.count, PromptEmphasis.isSpace(scalars[index]) { index += 1 }
            let numberStart = index
            if index < scalars.count, scalars[index] == "+" || scalars[index] == "-" { index += 1 }
            let digitsStart = index
            while index < scalars.count, scalars[index] == "." || PromptEmphasis.isDecimalDigit(scalars[index]) { index += 1 }
            guard index > digitsStart else { return nil }
            let numberEnd = index
            while index < scalars.count, PromptEmphasis.isSpace(scalars[index]) { index += 1 }
            guard index < scalars.count, scalars[index] == ")" else { return nil }
            return (index + 1, scalars[numberStart..<numberEnd])
        }

        /// Plain text, split at each `BREAK` into the text before, the marker, and the text after.
        private mutating func appendText(_ range: Range<Int>) {
            let text = scalars[range]
            var pieceStart = text.startIndex
            for found in PromptEmphasis.breaks(in: text) {
                result.append(Segment(String(String.UnicodeScalarView(text[pieceStart..<found.lowerBound])), 1))
                result.append(Segment("BREAK", -1))
                pieceStart = found.upperBound
            }
            result.append(Segment(String(String.UnicodeScalarView(text[pieceStart...])), 1))
        }

        private mutating func scale(from start: Int, by factor: Double) {
            for index in start..<result.count { result[index].weight *= factor }
        }
    }
}

/// A prompt A1111 would refuse; the message quotes the faulty part.
public struct PromptSyntaxError: Error, CustomStringConvertible, Sendable {
    public let message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }
}
