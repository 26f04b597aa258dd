// Follows tokenizers/src/models/bpe (vocab and merges files) and pre_tokenizers/byte_level.rs.
import DiffusionFormats
import Foundation

extension CLIPTokenizer {
    /// The end-of-word suffix CLIP's BPE appends to the last symbol of every word.
    static let endOfWordSuffix = "</w>"

    /// Reads `vocab.json`: one JSON object from token string to integer id.
    static func loadVocab(_ url: URL) throws -> [String: Int32] {
        try vocabIds(try readJSONObject(url), file: url)
    }

    /// A vocabulary object (token string to non-negative integer id) as the encoder.
    static func vocabIds(_ object: [String: Any], file url: URL) throws -> [String: Int32] {
        var encoder: [String: Int32] = [:]
        encoder.reserveCapacity(object.count)
        for (token, value) in object {
            guard let id = value as? Int, let id32 = Int32(exactly: id), id32 >= 0 else {
                throw CLIPTokenizerError(file: url, reason: "the id of \(quoted(token)) is not a non-negative integer")
            }
            encoder[token] = id32
        }
        return encoder
    }

    /// Reads `merges.txt`: an optional `#version` line, then one `first second` pair a line; the line
    /// order is the merge priority.
    static func loadMerges(_ url: URL, encoder: [String: Int32]) throws -> [UInt64: Merge] {
        let text = try readText(url)
        var pairs: [(String, String, line: Int)] = []
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        if lines.last?.isEmpty == true {
            lines.removeLast()  // the newline that ends the last line
        }
        for (index, line) in lines.enumerated() {
            let line = line.hasSuffix("\r") ? line.dropLast() : line
            if line.hasPrefix("#version") {
                continue
            }
            let parts = line.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 2 else {
                throw CLIPTokenizerError(file: url, reason: "line \(index + 1) is not two tokens separated by one space: \(quoted(String(line)))")
            }
            pairs.append((String(parts[0]), String(parts[1]), index + 1))
        }
        return try rankMerges(pairs.map { ($0.0, $0.1) }, encoder: encoder) { index, token in
            CLIPTokenizerError(file: url, reason: "line \(pairs[index].line): \(quoted(token)) is not in vocab.json")
        }
    }

    /// The merge table: each pair of ids to its rank (list order) and the id of the merged token. Both
    /// halves and their concatenation must be in the vocabulary, as `tokenizers` requires when it
    /// builds the model; `missing(index, token)` reports the first that is not.
    static func rankMerges(
        _ pairs: [(String, String)], encoder: [String: Int32], missing: (Int, String) -> CLIPTokenizerError
    ) throws -> [UInt64: Merge] {
        var ranks: [UInt64: Merge] = [:]
        for (rank, (first, second)) in pairs.enumerated() {
            let tokens = [first, second, first + second]
            let ids = tokens.compactMap { encoder[$0] }
            if let absent = tokens.first(where: { encoder[$0] == nil }) {
                throw missing(rank, absent)
            }
            ranks[pairKey(ids[0], ids[1])] = Merge(rank: Int32(rank), id: ids[2])
        }
        return ranks
    }

    /// GPT-2's `bytes_to_unicode`: printable Latin-1 bytes stand for themselves, the other 68 bytes are
    /// shifted to U+0100... so that every byte has a visible, non-space character in the vocabulary.
    static let byteToUnicode: [Character] = {
        let printable = Array(33...126) + Array(161...172) + Array(174...255)
        var characters = [Character](repeating: " ", count: 256)
        var shifted = 0
        for byte in 0..<256 {
            let codePoint = printable.contains(byte) ? byte : 256 + shifted
            if !printable.contains(byte) { shifted += 1 }
            characters[byte] = Character(Unicode.Scalar(UInt32(codePoint))!)
        }
        return characters
    }()

    /// The vocabulary ids of the 256 byte characters, bare and with `</w>`; BPE starts every word from them.
    static func byteLevelTokenIds(encoder: [String: Int32], vocabFile: URL) throws -> ([Int32], [Int32]) {
        func id(_ token: String) throws -> Int32 {
            guard let id = encoder[token] else {
                throw CLIPTokenizerError(file: vocabFile, reason: "no entry for the byte token \(quoted(token))")
            }
            return id
        }
        let bare = try byteToUnicode.map { try id(String($0)) }
        let end = try byteToUnicode.map { try id(String($0) + endOfWordSuffix) }
        return (bare, end)
    }

    static func readJSONObject(_ url: URL) throws -> [String: Any] {
        let data = try readData(url)
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: data)
        } catch {
            throw CLIPTokenizerError(file: url, reason: "not valid JSON (\(error.localizedDescription))")
        }
        guard let object = json as? [String: Any] else {
            throw CLIPTokenizerError(file: url, reason: "not a JSON object")
        }
        return object
    }

    static func readText(_ url: URL) throws -> String {
        guard let text = String(data: try readData(url), encoding: .utf8) else {
            throw CLIPTokenizerError(file: url, reason: "not UTF-8 text")
        }
        return text
    }

    static func readData(_ url: URL) throws -> Data {
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw CLIPTokenizerError(file: url, reason: "file not found")
        }
        do {
            // A regular file of sane size: a FIFO or device in its place would block or never end.
            return try RegularFile.read(url, maximumSize: 256 << 20)
        } catch {
            throw CLIPTokenizerError(file: url, reason: "cannot be read (\(error))")
        }
    }

    /// A token as a quoted Swift literal, so that control characters and spaces stay visible.
    static func quoted(_ token: String) -> String {
        token.debugDescription
    }
}
