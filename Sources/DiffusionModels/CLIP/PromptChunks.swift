// Follows AUTOMATIC1111 stable-diffusion-webui modules/sd_hijack_clip.py (tokenize_line, process_tokens).
import DiffusionCore

/// How a prompt string is read.
public enum PromptSyntax: Sendable {
    /// diffusers' `encode_prompt`: the text as is, cut to 77 tokens.
    case plain
    /// A1111's: emphasis (`PromptEmphasis`), `BREAK`, and prompts of any length in 75-token chunks.
    case weighted
}

/// A prompt as a text encoder takes it: chunks of `maxLength` (77) ids, each `<|startoftext|>`, up to
/// 75 ids of the prompt, `<|endoftext|>` and padding, with a weight per id (1 on the special tokens).
public struct PromptChunks: Equatable, Sendable {
    public private(set) var ids: [[Int32]]
    public private(set) var weights: [[Float]]

    /// A1111's `comma_padding_backtrack` default: a chunk that would split within this many tokens of
    /// its last comma ends at the comma instead, and the rest moves to the next chunk.
    public static let commaBacktrack = 20

    /// The prompt read with `syntax`: one chunk as diffusers cuts it, or A1111's chunks.
    public init(_ prompt: String, syntax: PromptSyntax, tokenizer: CLIPTokenizer) throws {
        switch syntax {
        case .plain:
            let ids = tokenizer.encode(prompt)
            self.init(ids: [ids], weights: [Array(repeating: 1, count: ids.count)])
        case .weighted:
            self.init(segments: try PromptEmphasis.parse(prompt), tokenizer: tokenizer)
        }
    }

    /// A1111's `tokenize_line`: each segment tokenized on its own, its ids carrying its weight, chunks
    /// closed at 75 ids (earlier at a nearby comma) and at each `BREAK`.
    public init(segments: [PromptEmphasis.Segment], tokenizer: CLIPTokenizer) {
        var builder = Builder(tokenizer: tokenizer)
        for segment in segments {
            if segment.isBreak {
                builder.closeChunk()
                continue
            }
            for id in tokenizer.tokenIds(segment.text) {
                builder.append(id, weight: Float(segment.weight))
            }
        }
        if !builder.ids.isEmpty || builder.chunks.ids.isEmpty {
            builder.closeChunk()
        }
        self = builder.chunks
    }

    /// The chunk of the empty prompt, which A1111 pads the shorter of two prompts with.
    public static func empty(tokenizer: CLIPTokenizer) -> PromptChunks {
        PromptChunks(segments: [], tokenizer: tokenizer)
    }

    private init(ids: [[Int32]] = [], weights: [[Float]] = []) {
        self.ids = ids
        self.weights = weights
    }

    public var count: Int { ids.count }

    /// The chunks followed by empty-prompt chunks up to `count` in all.
    public func padded(to count: Int, tokenizer: CLIPTokenizer) -> PromptChunks {
        var result = self
        let empty = Self.empty(tokenizer: tokenizer)
        while result.count < count {
            result.ids += empty.ids
            result.weights += empty.weights
        }
        return result
    }

    /// A1111's `tokenize_line` state: the open chunk and the position of its last comma.
    private struct Builder {
        let tokenizer: CLIPTokenizer
        let chunkLength: Int
        let comma: Int32?
        var chunks = PromptChunks()
        var ids: [Int32] = []
        var weights: [Float] = []
        var lastComma: Int?

        init(tokenizer: CLIPTokenizer) {
            self.tokenizer = tokenizer
            chunkLength = max(tokenizer.maxLength - 2, 1)  // a model_max_length of 2 leaves no room
            let commaIds = tokenizer.tokenIds(",")
            comma = commaIds.count == 1 ? commaIds[0] : nil
        }

        mutating func append(_ id: Int32, weight: Float) {
            if id == comma {
                lastComma = ids.count
            } else if ids.count == chunkLength, let lastComma, ids.count - lastComma <= PromptChunks.commaBacktrack {
                let (movedIds, movedWeights) = (ids[(lastComma + 1)...], weights[(lastComma + 1)...])
                ids.removeLast(movedIds.count)
                weights.removeLast(movedWeights.count)
                closeChunk()
                ids = Array(movedIds)
                weights = Array(movedWeights)
            }
            if ids.count == chunkLength {
                closeChunk()
            }
            ids.append(id)
            weights.append(weight)
        }

        /// Wraps the open chunk in start and end tokens, pads it, and opens an empty one. A1111 fills
        /// with end tokens and, where the pad token differs (SDXL's second tokenizer), turns everything
        /// after the first end token into padding.
        mutating func closeChunk() {
            var full = [tokenizer.bosTokenId] + ids + Array(repeating: tokenizer.eosTokenId, count: chunkLength - ids.count + 1)
            if tokenizer.padTokenId != tokenizer.eosTokenId, let end = full.firstIndex(of: tokenizer.eosTokenId) {
                for index in (end + 1)..<full.count { full[index] = tokenizer.padTokenId }
            }
            chunks.ids.append(full)
            chunks.weights.append([1] + weights + Array(repeating: 1, count: chunkLength - weights.count + 1))
            ids = []
            weights = []
            lastComma = nil
        }
    }
}

extension PromptChunks {
    /// Each text read by each tokenizer (`result[tokenizer][text]`), all padded with empty-prompt chunks
    /// to one count, so that a prompt and its negative (and SDXL's two encoders) line up token for token.
    static func uniform(_ texts: [String], syntax: PromptSyntax, tokenizers: [CLIPTokenizer]) throws -> [[PromptChunks]] {
        let chunks = try tokenizers.map { tokenizer in try texts.map { try PromptChunks($0, syntax: syntax, tokenizer: tokenizer) } }
        let count = chunks.joined().map(\.count).max() ?? 1
        return zip(chunks, tokenizers).map { chunks, tokenizer in chunks.map { $0.padded(to: count, tokenizer: tokenizer) } }
    }
}
