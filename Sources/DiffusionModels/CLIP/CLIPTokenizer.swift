// Follows transformers/models/clip/tokenization_clip.py (v5: the `tokenizers`-backed CLIPTokenizer).
import Foundation

/// The CLIP byte-level BPE tokenizer of a model folder's `tokenizer/` (and SDXL's `tokenizer_2/`).
///
/// Gives the ids of transformers 5's `CLIPTokenizer` as diffusers calls it,
/// `tokenizer(prompt, padding="max_length", max_length=tokenizer.model_max_length, truncation=True)`.
/// In transformers 5 that class is the `tokenizers`-backed one (the former `CLIPTokenizerFast`; the
/// pure-Python, ftfy-using tokenizer is gone), so this port follows its pipeline:
///
/// 1. special tokens are cut out of the raw text (`<|endoftext|>`, and `!` where it is the pad token);
/// 2. normalizer: NFC, whitespace to a space, per-character lower-casing;
/// 3. CLIP's split regex, then byte-level mapping of each word;
/// 4. BPE with the `</w>` end-of-word suffix;
/// 5. `<|startoftext|>` ... `<|endoftext|>`, truncated to `model_max_length` and padded with the pad token.
public struct CLIPTokenizer: Sendable {
    /// `model_max_length` from `tokenizer_config.json`: 77 for every Stable Diffusion tokenizer.
    public let maxLength: Int
    /// The id of `<|startoftext|>`.
    public let bosTokenId: Int32
    /// The id of `<|endoftext|>`.
    public let eosTokenId: Int32
    /// The id of the pad token: `<|endoftext|>` (49407) for SD1.5, `!` (0) for SDXL's `tokenizer_2`.
    public let padTokenId: Int32

    /// `merges.txt` (or `tokenizer.json`'s `model.merges`): the pair of ids to its rank (list order) and
    /// the id of the merged token.
    let bpeRanks: [UInt64: Merge]
    /// The id of each byte's byte-level character, inside a word and at its end (with `</w>`).
    let byteTokenIds: [Int32]
    let byteEndTokenIds: [Int32]
    /// Special tokens matched as wholes before (or, if `normalized`, after) normalization.
    let addedTokens: [AddedToken]

    struct Merge: Sendable {
        let rank: Int32
        let id: Int32
    }

    /// Loads `vocab.json`, `merges.txt`, `tokenizer_config.json` and (if present) `special_tokens_map.json`
    /// from `directory`; a folder without `vocab.json` (transformers 5 saves none) is read from its
    /// `tokenizer.json` instead. Throws `CLIPTokenizerError` naming the file when one is missing or malformed.
    public init(directory: URL) throws {
        var vocabFile = directory.appendingPathComponent("vocab.json")
        let jsonFile = directory.appendingPathComponent("tokenizer.json")
        let encoder: [String: Int32]
        let config: SpecialTokensConfig
        if !FileManager.default.fileExists(atPath: vocabFile.path), FileManager.default.fileExists(atPath: jsonFile.path) {
            let model = try TokenizerJSON(jsonFile)
            (vocabFile, encoder, bpeRanks) = (jsonFile, model.encoder, model.bpeRanks)
            config = try SpecialTokensConfig(directory: directory, tokenizerJSONTokens: model.addedTokens)
        } else {
            encoder = try Self.loadVocab(vocabFile)
            config = try SpecialTokensConfig(directory: directory)
            bpeRanks = try Self.loadMerges(directory.appendingPathComponent("merges.txt"), encoder: encoder)
        }
        (byteTokenIds, byteEndTokenIds) = try Self.byteLevelTokenIds(encoder: encoder, vocabFile: vocabFile)
        maxLength = config.modelMaxLength
        addedTokens = try config.addedTokens(encoder: encoder)
        bosTokenId = try config.id(of: "bos_token", encoder: encoder)
        eosTokenId = try config.id(of: "eos_token", encoder: encoder)
        padTokenId = try config.id(of: "pad_token", encoder: encoder)
    }

    /// The input ids of `text`: `<|startoftext|>`, the BPE ids, `<|endoftext|>`.
    ///
    /// With `truncation` the BPE ids are cut to `maxLength - 2` so that the end token is kept, as the
    /// `tokenizers` post-processor does; with `padding` the result is filled to `maxLength` with the pad
    /// token. The defaults give exactly the `maxLength` ids diffusers feeds the text encoder.
    public func encode(_ text: String, padding: Bool = true, truncation: Bool = true) -> [Int32] {
        var tokens = tokenIds(text)
        if truncation, tokens.count > maxLength - 2 {
            tokens.removeLast(tokens.count - (maxLength - 2))
        }
        var ids = [bosTokenId] + tokens + [eosTokenId]
        if padding, ids.count < maxLength {
            ids += repeatElement(padTokenId, count: maxLength - ids.count)
        }
        return ids
    }

    /// The ids of `text` without start, end or pad tokens and without truncation.
    func tokenIds(_ text: String) -> [Int32] {
        var ids: [Int32] = []
        for segment in splitOnAddedTokens(Array(text.unicodeScalars), normalized: false) {
            switch segment {
            case .token(let id):
                ids.append(id)
            case .text(let raw):
                for inner in splitOnAddedTokens(Self.normalize(raw), normalized: true) {
                    switch inner {
                    case .token(let id): ids.append(id)
                    case .text(let normalized): ids += bpeIds(ofNormalized: normalized)
                    }
                }
            }
        }
        return ids
    }

    /// Pre-tokenizes normalized text into words and encodes each with BPE.
    private func bpeIds(ofNormalized scalars: ArraySlice<Unicode.Scalar>) -> [Int32] {
        var ids: [Int32] = []
        var bytes: [UInt8] = []
        for word in Self.preTokenize(scalars) {
            bytes.removeAll(keepingCapacity: true)
            for scalar in scalars[word] {
                bytes.append(contentsOf: UTF8.encode(scalar)!)
            }
            ids += bpe(bytes)
        }
        return ids
    }

    /// Merges the byte-level symbols of one word, always the lowest-ranked pair first (the leftmost
    /// on ties), which is the order of the `tokenizers` BPE priority queue.
    func bpe(_ bytes: [UInt8]) -> [Int32] {
        var symbols = bytes.map { byteTokenIds[Int($0)] }
        symbols[symbols.count - 1] = byteEndTokenIds[Int(bytes[bytes.count - 1])]
        while symbols.count > 1 {
            var best: (index: Int, merge: Merge)?
            for index in 0..<(symbols.count - 1) {
                if let merge = bpeRanks[Self.pairKey(symbols[index], symbols[index + 1])],
                    merge.rank < best?.merge.rank ?? .max
                {
                    best = (index, merge)
                }
            }
            guard let best else { break }
            symbols[best.index] = best.merge.id
            symbols.remove(at: best.index + 1)
        }
        return symbols
    }

    static func pairKey(_ first: Int32, _ second: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: first)) << 32 | UInt64(UInt32(bitPattern: second))
    }
}

/// A tokenizer file that is missing or cannot be used.
public struct CLIPTokenizerError: Error, CustomStringConvertible {
    /// The file at fault.
    public let file: URL
    /// What is wrong with it.
    public let reason: String

    public var description: String { "\(file.path): \(reason)" }
}
