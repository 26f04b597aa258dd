// Follows tokenizers/src/models/bpe/serialization.rs (a BPE model in tokenizer.json) and
// tokenizers/src/tokenizer/serialization.rs (its added_tokens).
import Foundation

extension CLIPTokenizer {
    /// The files `init(directory:)` needs that `directory` lacks, by name (empty when it can load):
    /// `tokenizer_config.json`, and `vocab.json` + `merges.txt` or, instead, `tokenizer.json`.
    public static func missingFiles(in directory: URL) -> [String] {
        func exists(_ name: String) -> Bool { FileManager.default.fileExists(atPath: directory.appendingPathComponent(name).path) }
        let vocabulary = exists("vocab.json") || !exists("tokenizer.json") ? ["vocab.json", "merges.txt"] : ["tokenizer.json"]
        return (["tokenizer_config.json"] + vocabulary).filter { !exists($0) }
    }

    /// The BPE model and added tokens of `tokenizer.json`, the one file transformers 5 saves in place
    /// of `vocab.json` and `merges.txt`. The normalizer, pre-tokenizer and post-processor it also
    /// describes are CLIP's, which this tokenizer implements; the model must be CLIP's byte-level BPE.
    struct TokenizerJSON {
        let encoder: [String: Int32]
        let bpeRanks: [UInt64: Merge]
        /// `added_tokens`, which take the place of `tokenizer_config.json`'s `added_tokens_decoder`.
        let addedTokens: [(id: Int32, token: SpecialTokensConfig.Token)]

        init(_ url: URL) throws {
            func failure(_ reason: String) -> CLIPTokenizerError { CLIPTokenizerError(file: url, reason: reason) }
            let object = try readJSONObject(url)
            guard let model = object["model"] as? [String: Any] else { throw failure("no \"model\" object") }
            guard model["type"] as? String == "BPE" else { throw failure("model.type is not \"BPE\"") }
            if let suffix = model["end_of_word_suffix"] as? String, suffix != endOfWordSuffix {
                throw failure("model.end_of_word_suffix is \(quoted(suffix)), CLIP's BPE uses \(quoted(endOfWordSuffix))")
            }
            guard let vocab = model["vocab"] as? [String: Any] else { throw failure("model.vocab is not an object") }
            guard let merges = model["merges"] as? [Any] else { throw failure("model.merges is not a list") }
            encoder = try vocabIds(vocab, file: url)
            let pairs = try merges.enumerated().map { index, merge in
                guard let pair = Self.pair(merge) else {
                    throw failure("model.merges[\(index)] is neither \"first second\" nor [first, second]")
                }
                return pair
            }
            bpeRanks = try rankMerges(pairs, encoder: encoder) { index, token in
                failure("model.merges[\(index)]: \(quoted(token)) is not in model.vocab")
            }
            let added = object["added_tokens"] as? [Any] ?? []
            addedTokens = try added.enumerated().map { index, entry in
                guard let id = (entry as? [String: Any])?["id"] as? Int, let id32 = Int32(exactly: id), id32 >= 0 else {
                    throw failure("added_tokens[\(index)] has no non-negative integer id")
                }
                return (id32, try SpecialTokensConfig.parseToken(entry, key: "added_tokens[\(index)]", file: url))
            }
        }

        /// A merge as tokenizers writes it: `"first second"` (before 0.20) or `["first", "second"]`.
        private static func pair(_ merge: Any) -> (String, String)? {
            if let text = merge as? String {
                let parts = text.split(separator: " ", omittingEmptySubsequences: false)
                return parts.count == 2 ? (String(parts[0]), String(parts[1])) : nil
            }
            guard let parts = merge as? [String], parts.count == 2 else { return nil }
            return (parts[0], parts[1])
        }
    }
}
