// Follows tokenizers' added_vocabulary.rs, normalizers (NFC, Replace, Lowercase) and pre_tokenizers (Split, ByteLevel)
// as transformers/models/clip/tokenization_clip.py configures them.
import Foundation

extension CLIPTokenizer {
    /// A stretch of text, or a special token cut out of it.
    enum Segment {
        case text(ArraySlice<Unicode.Scalar>)
        case token(Int32)
    }

    /// Cuts the added tokens with the given `normalized` flag out of `scalars`, leftmost first and the
    /// longest at a position, as the added vocabulary's Aho-Corasick matcher does.
    func splitOnAddedTokens(_ scalars: [Unicode.Scalar], normalized: Bool) -> [Segment] {
        let candidates = addedTokens.filter { $0.normalized == normalized }
        var segments: [Segment] = []
        var textStart = 0
        var index = 0
        while index < scalars.count {
            var match: AddedToken?
            for token in candidates where token.content.count > match?.content.count ?? 0 {
                if scalars[index...].starts(with: token.content) { match = token }
            }
            guard let match else {
                index += 1
                continue
            }
            if textStart < index { segments.append(.text(scalars[textStart..<index])) }
            segments.append(.token(match.id))
            index += match.content.count
            textStart = index
        }
        if textStart < scalars.count { segments.append(.text(scalars[textStart...])) }
        return segments
    }

    /// The normalizer: NFC, each `\s` to a space, then per-character full lower-casing.
    ///
    /// transformers replaces whole runs of `\s` by one space; mapping each character instead gives the
    /// same words, because the pre-tokenizer drops every space. Lower-casing goes one scalar at a time
    /// with no final-sigma rule ("Σ" is always "σ") and full mappings ("İ" is "i" + U+0307), as Rust's
    /// `char::to_lowercase` does; Swift's Unicode tables give the same result for every scalar.
    static func normalize(_ scalars: ArraySlice<Unicode.Scalar>) -> [Unicode.Scalar] {
        var normalized: [Unicode.Scalar] = []
        normalized.reserveCapacity(scalars.count)
        for scalar in nfc(scalars) {
            if scalar.isASCII {
                let value = scalar.value
                normalized.append(
                    isASCIIWhitespace(value) ? " " : (65...90).contains(value) ? Unicode.Scalar(value + 32)! : scalar)
            } else if scalar.properties.isWhitespace {
                normalized.append(" ")
            } else {
                normalized.append(contentsOf: scalar.properties.lowercaseMapping.unicodeScalars)
            }
        }
        return normalized
    }

    /// Canonical composition. Text below U+0300 holds no combining marks, so it is already NFC.
    private static func nfc(_ scalars: ArraySlice<Unicode.Scalar>) -> [Unicode.Scalar] {
        guard scalars.contains(where: { $0.value >= 0x300 }) else { return Array(scalars) }
        var text = String.UnicodeScalarView()
        text.append(contentsOf: scalars)
        return Array(String(text).precomposedStringWithCanonicalMapping.unicodeScalars)
    }

    /// CLIP's split regex, keeping the matches:
    /// `<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+`.
    ///
    /// The byte-level pre-tokenizer then applies GPT-2's regex to each match; that only changes the two
    /// special-token spellings, which it cuts into `<|`, the letters, and `|>`.
    static func preTokenize(_ scalars: ArraySlice<Unicode.Scalar>) -> [Range<Int>] {
        var words: [Range<Int>] = []
        var index = scalars.startIndex
        while index < scalars.endIndex {
            if let length = specialSpellingLength(scalars[index...]) {
                let end = index + length
                words += [index..<(index + 2), (index + 2)..<(end - 2), (end - 2)..<end]
                index = end
                continue
            }
            if let length = contractionLength(scalars[index...]) {
                words.append(index..<(index + length))
                index += length
                continue
            }
            let kind = characterClass(scalars[index])
            var end = index + 1
            if kind == .letter || kind == .other {
                while end < scalars.endIndex, characterClass(scalars[end]) == kind { end += 1 }
            }
            if kind != .whitespace { words.append(index..<end) }
            index = end
        }
        return words
    }

    private static let specialSpellings: [[Unicode.Scalar]] = ["<|startoftext|>", "<|endoftext|>"].map {
        Array($0.unicodeScalars)
    }

    private static func specialSpellingLength(_ scalars: ArraySlice<Unicode.Scalar>) -> Int? {
        specialSpellings.first { scalars.starts(with: $0) }?.count
    }

    private static let contractions: [[Unicode.Scalar]] = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d"].map {
        Array($0.unicodeScalars)
    }

    private static func contractionLength(_ scalars: ArraySlice<Unicode.Scalar>) -> Int? {
        guard scalars.first == "'" else { return nil }
        return contractions.first { scalars.starts(with: $0) }?.count
    }

    enum CharacterClass {
        case whitespace, letter, number, other
    }

    /// The classes of the split regex: `\s`, `\p{L}`, `\p{N}`, anything else.
    ///
    /// The Oniguruma engine inside `tokenizers` knows Unicode 16.0, so scalars assigned later are
    /// unassigned to it (class `other`), whatever Swift's newer tables say. `\s` is `White_Space`.
    static func characterClass(_ scalar: Unicode.Scalar) -> CharacterClass {
        let value = scalar.value
        if value < 0x80 {
            if (97...122).contains(value) || (65...90).contains(value) { return .letter }
            if (48...57).contains(value) { return .number }
            return isASCIIWhitespace(value) ? .whitespace : .other
        }
        let properties = scalar.properties
        if properties.isWhitespace { return .whitespace }
        guard let age = properties.age, age.major < 16 || (age.major == 16 && age.minor == 0) else { return .other }
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            return .letter
        case .decimalNumber, .letterNumber, .otherNumber:
            return .number
        default:
            return .other
        }
    }

    /// Tab, line feed, vertical tab, form feed, carriage return, space.
    private static func isASCIIWhitespace(_ value: UInt32) -> Bool {
        value == 32 || (9...13).contains(value)
    }
}
