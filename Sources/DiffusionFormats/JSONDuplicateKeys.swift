import Foundation

/// Finds a key written twice in one JSON object, which JSONDecoder accepts silently (one of
/// the values wins) and a strict reader must refuse: a request saying `"seed"` twice is
/// ambiguous, whichever value a client library or proxy reads.
///
/// A byte scanner, not a parser: it assumes the text is JSON (the decoder reports it when it is
/// not) and only tracks objects, arrays and keys. Keys compare as the decoder compares them,
/// after unescaping (`"\u0073eed"` is `"seed"`), as Swift strings.
public enum JSONDuplicateKeys {
    /// Objects nested deeper than this are not scanned (the decoder refuses them anyway).
    static let maximumDepth = 512

    /// The first repeated key and the path of the object holding it (`""` for the top level,
    /// `concepts[1]` for an object inside the array `concepts`); nil when there is none or
    /// the text stops being JSON before one is found.
    public static func first(in json: Data) -> (key: String, path: String)? {
        json.withUnsafeBytes { bytes in
            var scanner = Scanner(bytes: bytes.bindMemory(to: UInt8.self))
            return scanner.value(path: "", depth: 0)
        }
    }

    private struct Scanner {
        let bytes: UnsafeBufferPointer<UInt8>
        var at = 0

        init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

        /// Scans one value; returns the first duplicate inside it.
        mutating func value(path: String, depth: Int) -> (key: String, path: String)? {
            skipWhitespace()
            guard at < bytes.count, depth < maximumDepth else { return nil }
            switch bytes[at] {
            case UInt8(ascii: "{"): return object(path: path, depth: depth)
            case UInt8(ascii: "["): return array(path: path, depth: depth)
            case UInt8(ascii: "\""):
                _ = string()
                return nil
            default:
                // A number, true, false or null: up to the next delimiter.
                while at < bytes.count, !Self.isDelimiter(bytes[at]) { at += 1 }
                return nil
            }
        }

        private mutating func object(path: String, depth: Int) -> (key: String, path: String)? {
            at += 1
            var keys: Set<String> = []
            while true {
                skipWhitespace()
                guard at < bytes.count, bytes[at] == UInt8(ascii: "\"") || bytes[at] == UInt8(ascii: "}") else { return nil }
                if bytes[at] == UInt8(ascii: "}") {
                    at += 1
                    return nil
                }
                guard let key = string() else { return nil }
                guard keys.insert(key).inserted else { return (key, path) }
                skipWhitespace()
                guard at < bytes.count, bytes[at] == UInt8(ascii: ":") else { return nil }
                at += 1
                let child = path.isEmpty ? key : "\(path).\(key)"
                if let duplicate = value(path: child, depth: depth + 1) { return duplicate }
                guard separator(closing: UInt8(ascii: "}")) else { return nil }
                if bytes[at - 1] == UInt8(ascii: "}") { return nil }
            }
        }

        private mutating func array(path: String, depth: Int) -> (key: String, path: String)? {
            at += 1
            skipWhitespace()
            if at < bytes.count, bytes[at] == UInt8(ascii: "]") {
                at += 1
                return nil
            }
            var index = 0
            while true {
                let start = at
                if let duplicate = value(path: "\(path)[\(index)]", depth: depth + 1) { return duplicate }
                guard at > start, separator(closing: UInt8(ascii: "]")) else { return nil }
                if bytes[at - 1] == UInt8(ascii: "]") { return nil }
                index += 1
            }
        }

        /// Consumes `,` or `closing` after a member; false for anything else.
        private mutating func separator(closing: UInt8) -> Bool {
            skipWhitespace()
            guard at < bytes.count, bytes[at] == UInt8(ascii: ",") || bytes[at] == closing else { return false }
            at += 1
            return true
        }

        /// A string at `at` (on its opening quote), unescaped; nil if it does not end.
        private mutating func string() -> String? {
            at += 1
            var utf8: [UInt8] = []
            while at < bytes.count {
                let byte = bytes[at]
                at += 1
                switch byte {
                case UInt8(ascii: "\""): return String(decoding: utf8, as: UTF8.self)
                case UInt8(ascii: "\\"):
                    guard let unescaped = escape() else { return nil }
                    utf8 += unescaped
                default: utf8.append(byte)
                }
            }
            return nil
        }

        /// The bytes an escape after `\` stands for; `\u` pairs surrogates as JSON does.
        private mutating func escape() -> [UInt8]? {
            guard at < bytes.count else { return nil }
            let letter = bytes[at]
            at += 1
            switch letter {
            case UInt8(ascii: "b"): return [0x08]
            case UInt8(ascii: "f"): return [0x0C]
            case UInt8(ascii: "n"): return [0x0A]
            case UInt8(ascii: "r"): return [0x0D]
            case UInt8(ascii: "t"): return [0x09]
            case UInt8(ascii: "u"):
                guard var code = hex4() else { return nil }
                if (0xD800..<0xDC00).contains(code), at + 1 < bytes.count, bytes[at] == UInt8(ascii: "\\"),
                   bytes[at + 1] == UInt8(ascii: "u") {
                    at += 2
                    guard let low = hex4() else { return nil }
                    code = (0xDC00..<0xE000).contains(low) ? 0x10000 + (code - 0xD800) << 10 + (low - 0xDC00) : 0xFFFD
                }
                return Array(String(Character(Unicode.Scalar(code) ?? "\u{FFFD}")).utf8)
            default: return [letter]  // \" \\ \/
            }
        }

        private mutating func hex4() -> UInt32? {
            guard at + 4 <= bytes.count, let code = UInt32(String(decoding: bytes[at..<at + 4], as: UTF8.self), radix: 16)
            else { return nil }
            at += 4
            return code
        }

        private mutating func skipWhitespace() {
            while at < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[at]) { at += 1 }
        }

        private static func isDelimiter(_ byte: UInt8) -> Bool {
            [UInt8(ascii: ","), UInt8(ascii: "]"), UInt8(ascii: "}"), 0x20, 0x09, 0x0A, 0x0D].contains(byte)
        }
    }
}
