// Follows transformers/tokenization_utils_base.py (`from_pretrained`) and tokenization_utils_tokenizers.py (`_post_init`).
import Foundation

/// A special token that the `tokenizers` added vocabulary cuts out of the text as a whole.
struct AddedToken: Sendable {
    let content: [Unicode.Scalar]
    let id: Int32
    /// Matched in the normalized (lower-cased) text instead of the raw text.
    let normalized: Bool
}

/// The special tokens and `model_max_length` of a tokenizer folder, resolved as transformers 5 does:
/// `tokenizer_config.json` first; `special_tokens_map.json` overrides it only when the config has no
/// `added_tokens_decoder` (the legacy layout of SD1.5 folders); CLIPTokenizer's defaults fill the rest.
struct SpecialTokensConfig {
    /// One special token value: a plain string, or an `AddedToken` object with flags.
    struct Token {
        let content: String
        let normalized: Bool
        let file: URL
    }

    /// transformers' `SPECIAL_TOKENS_ATTRIBUTES`, in the order `_post_init` adds them to the backend.
    static let attributes = ["bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"]
    /// CLIPTokenizer's `__init__` defaults.
    static let defaults = [
        "bos_token": "<|startoftext|>", "eos_token": "<|endoftext|>",
        "unk_token": "<|endoftext|>", "pad_token": "<|endoftext|>",
    ]

    let configFile: URL
    let modelMaxLength: Int
    private(set) var tokens: [String: Token] = [:]
    /// `added_tokens_decoder` of `tokenizer_config.json`, by id.
    private(set) var decoderTokens: [(id: Int32, token: Token)] = []

    /// `tokenizerJSONTokens` are `tokenizer.json`'s `added_tokens` when the vocabulary comes from it;
    /// they stand in for a missing `added_tokens_decoder`, with their flags, as transformers 5 loads them.
    init(directory: URL, tokenizerJSONTokens: [(id: Int32, token: Token)]? = nil) throws {
        configFile = directory.appendingPathComponent("tokenizer_config.json")
        let config = try CLIPTokenizer.readJSONObject(configFile)
        guard let length = config["model_max_length"] as? Int, length >= 2, length <= 1 << 20 else {
            throw CLIPTokenizerError(file: configFile, reason: "model_max_length is missing or not an integer in 2...1048576")
        }
        modelMaxLength = length
        tokens = Self.defaults.mapValues { Token(content: $0, normalized: false, file: configFile) }
        try merge(config, from: configFile)
        if let decoder = config["added_tokens_decoder"] {
            decoderTokens = try Self.parseDecoder(decoder, file: configFile)
            swapNamedTokensForDecoderEntries()
        } else if let tokenizerJSONTokens {
            decoderTokens = tokenizerJSONTokens.sorted { $0.id < $1.id }
            swapNamedTokensForDecoderEntries()
        } else {
            let mapFile = directory.appendingPathComponent("special_tokens_map.json")
            if FileManager.default.fileExists(atPath: mapFile.path) {
                try merge(CLIPTokenizer.readJSONObject(mapFile), from: mapFile)
            }
        }
    }

    /// from_pretrained swaps a named token for its added_tokens_decoder entry (and flags).
    private mutating func swapNamedTokensForDecoderEntries() {
        for (attribute, token) in tokens {
            if let entry = decoderTokens.first(where: { $0.token.content == token.content }) {
                tokens[attribute] = entry.token
            }
        }
    }

    /// The backend's added tokens: the `added_tokens_decoder` entries, then the named tokens in
    /// attribute order; a later token with the same content replaces the earlier one's flags.
    func addedTokens(encoder: [String: Int32]) throws -> [AddedToken] {
        var added: [AddedToken] = []
        let named = Self.attributes.compactMap { tokens[$0] }
        for token in decoderTokens.map(\.token) + named {
            let entry = AddedToken(
                content: Array(token.content.unicodeScalars), id: try id(of: token, encoder: encoder),
                normalized: token.normalized)
            if let index = added.firstIndex(where: { $0.content == entry.content }) {
                added[index] = entry
            } else {
                added.append(entry)
            }
        }
        return added
    }

    /// The id of a named special token such as `pad_token`.
    func id(of attribute: String, encoder: [String: Int32]) throws -> Int32 {
        guard let token = tokens[attribute] else {
            throw CLIPTokenizerError(file: configFile, reason: "\(attribute) is null")
        }
        return try id(of: token, encoder: encoder)
    }

    private func id(of token: Token, encoder: [String: Int32]) throws -> Int32 {
        if let entry = decoderTokens.first(where: { $0.token.content == token.content }) {
            return entry.id
        }
        guard let id = encoder[token.content] else {
            throw CLIPTokenizerError(
                file: token.file, reason: "special token \(CLIPTokenizer.quoted(token.content)) is not in vocab.json")
        }
        return id
    }

    /// Takes the special-token attributes `object` sets; `null` removes a token.
    private mutating func merge(_ object: [String: Any], from file: URL) throws {
        for attribute in Self.attributes {
            guard let value = object[attribute] else { continue }
            tokens[attribute] = value is NSNull ? nil : try Self.parseToken(value, key: attribute, file: file)
        }
    }

    private static func parseDecoder(_ value: Any, file: URL) throws -> [(id: Int32, token: Token)] {
        guard let entries = value as? [String: Any] else {
            throw CLIPTokenizerError(file: file, reason: "added_tokens_decoder is not an object")
        }
        return try entries.map { key, entry in
            guard let id = Int32(key), id >= 0 else {
                throw CLIPTokenizerError(file: file, reason: "added_tokens_decoder key \(key.debugDescription) is not an id")
            }
            return (id, try parseToken(entry, key: "added_tokens_decoder.\(key)", file: file))
        }.sorted { $0.id < $1.id }
    }

    /// A plain string is matched in the raw text; an object carries `content` and `normalized`. The
    /// stripping flags are refused rather than ignored: no Stable Diffusion tokenizer sets them.
    static func parseToken(_ value: Any, key: String, file: URL) throws -> Token {
        if let content = value as? String {
            return Token(content: content, normalized: false, file: file)
        }
        guard let object = value as? [String: Any], let content = object["content"] as? String, !content.isEmpty else {
            throw CLIPTokenizerError(file: file, reason: "\(key) is neither a string nor an object with a \"content\" string")
        }
        for flag in ["lstrip", "rstrip", "single_word"] where object[flag] as? Bool == true {
            throw CLIPTokenizerError(file: file, reason: "\(key) sets \(flag), which CLIPTokenizer does not support")
        }
        return Token(content: content, normalized: object["normalized"] as? Bool ?? false, file: file)
    }
}
