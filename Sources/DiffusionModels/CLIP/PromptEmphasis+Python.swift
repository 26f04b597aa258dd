// Python's `re` character classes and float() as A1111's parser meets them on a str pattern.

extension PromptEmphasis {
    /// The `BREAK` keywords of a text run: A1111 splits runs on `\s*\bBREAK\b\s*`, so each match takes
    /// the whitespace around the word; the run's ends count as word boundaries.
    static func breaks(in text: ArraySlice<Unicode.Scalar>) -> [Range<Int>] {
        let keyword = Array("BREAK".unicodeScalars)
        var found: [Range<Int>] = []
        var searchStart = text.startIndex, index = text.startIndex
        while index + keyword.count <= text.endIndex {
            let after = index + keyword.count
            guard text[index..<after].elementsEqual(keyword),
                index == text.startIndex || !isWordCharacter(text[index - 1]),
                after == text.endIndex || !isWordCharacter(text[after])
            else {
                index += 1
                continue
            }
            var start = index, end = after
            while start > searchStart, isSpace(text[start - 1]) { start -= 1 }
            while end < text.endIndex, isSpace(text[end]) { end += 1 }
            found.append(start..<end)
            searchStart = end
            index = end
        }
        return found
    }

    /// Python's `\s` on str: Unicode White_Space plus the separators U+001C-U+001F that `str.isspace` counts.
    static func isSpace(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.isWhitespace || (0x1C...0x1F).contains(scalar.value)
    }

    /// Python's `\d` on str: any decimal digit (category Nd), not only ASCII.
    static func isDecimalDigit(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.generalCategory == .decimalNumber
    }

    /// Python's `\w` on str: letters, numbers and the underscore.
    static func isWordCharacter(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
            .decimalNumber, .letterNumber, .otherNumber:
            return true
        default:
            return scalar == "_" || scalar.properties.numericType != nil
        }
    }

    /// Python's `float()` of a weight A1111's pattern matched (a sign, then digits and dots): digits of
    /// any script count, and a number with no digit or two dots is an error, as in Python.
    static func number(_ scalars: ArraySlice<Unicode.Scalar>) throws -> Double {
        var ascii = ""
        for scalar in scalars {
            if isDecimalDigit(scalar), let value = scalar.properties.numericValue {
                ascii += String(Int(value))
            } else {
                ascii.unicodeScalars.append(scalar)
            }
        }
        let hasDigit = ascii.contains { $0.isASCII && $0.isNumber }
        guard hasDigit, ascii.filter({ $0 == "." }).count <= 1, let value = Double(ascii) else {
            throw PromptSyntaxError(
                "prompt: the weight '\(String(String.UnicodeScalarView(scalars)))' is not a number")
        }
        return value
    }
}
