import Foundation
import Testing

import DiffusionModels

/// Token ids against transformers' CLIPTokenizer for the corpus of Tests/Goldens/clip/generate.py, with
/// four folder layouts: plain SD1.5 config, SDXL's hub tokenizer_2 (pad "!", AddedToken objects), the
/// hub layout with pad <|endoftext|> (SD1.5, SDXL's first tokenizer), and the added_tokens_decoder
/// layout transformers 4.x saved. Ids must be equal, not close.
struct CLIPTokenizerTests {
    static let folders = ["tokenizer", "tokenizer_2", "tokenizer_hub", "tokenizer_v4"]

    @Test(arguments: folders)
    func paddedIdsMatchTransformers(folder: String) throws {
        let tokenizer = try CLIPGoldens.tokenizer(folder)
        let expected = try #require(CLIPGoldens.tokens.folders[folder])
        #expect(CLIPGoldens.tokens.prompts.count >= 50)
        #expect(tokenizer.maxLength == 77)
        #expect(tokenizer.padTokenId == expected.pad_token_id)
        for (prompt, ids) in zip(CLIPGoldens.tokens.prompts, expected.padded) {
            #expect(tokenizer.encode(prompt) == ids, "\(folder): \(prompt.debugDescription)")
        }
    }

    @Test(arguments: folders)
    func untruncatedIdsMatchTransformers(folder: String) throws {
        let tokenizer = try CLIPGoldens.tokenizer(folder)
        let expected = try #require(CLIPGoldens.tokens.folders[folder])
        for (prompt, ids) in zip(CLIPGoldens.tokens.prompts, expected.untruncated) {
            #expect(tokenizer.encode(prompt, padding: false, truncation: false) == ids, "\(folder): \(prompt.debugDescription)")
        }
    }

    @Test func specialTokenIds() throws {
        let sd = try CLIPGoldens.tokenizer("tokenizer"), xl = try CLIPGoldens.tokenizer("tokenizer_2")
        #expect((sd.bosTokenId, sd.eosTokenId, sd.padTokenId) == (49406, 49407, 49407))
        #expect((xl.bosTokenId, xl.eosTokenId, xl.padTokenId) == (49406, 49407, 0))
    }

    /// The corpus holds prompts far past 77 tokens: truncation keeps the end token last.
    @Test func truncationKeepsTheEndToken() throws {
        let tokenizer = try CLIPGoldens.tokenizer("tokenizer")
        let ids = tokenizer.encode(String(repeating: "cat ", count: 200))
        #expect(ids.count == 77)
        #expect(ids.first == 49406 && ids.last == 49407)
        #expect(tokenizer.encode("", padding: false) == [49406, 49407])
    }
}

/// A missing or malformed tokenizer file is a `CLIPTokenizerError` naming the file and the fault.
struct CLIPTokenizerErrorTests {
    private func loadError(_ folder: CLIPScratchFolder) -> CLIPTokenizerError? {
        do {
            _ = try CLIPTokenizer(directory: folder.url)
            Issue.record("the tokenizer loaded")
            return nil
        } catch {
            return error as? CLIPTokenizerError
        }
    }

    private func expectError(_ folder: CLIPScratchFolder, file: String, saying words: String,
                             sourceLocation: SourceLocation = #_sourceLocation) {
        let error = loadError(folder)
        #expect(error?.file.lastPathComponent == file, "\(String(describing: error))", sourceLocation: sourceLocation)
        #expect(error?.description.contains(words) == true, "\(String(describing: error))", sourceLocation: sourceLocation)
        #expect(error?.description.contains(file) == true, sourceLocation: sourceLocation)
    }

    @Test(arguments: ["vocab.json", "merges.txt", "tokenizer_config.json"])
    func missingFile(name: String) throws {
        let folder = try CLIPScratchFolder(copying: "tokenizer")
        try folder.remove(name)
        expectError(folder, file: name, saying: "file not found")
    }

    @Test func specialTokensMapIsOptional() throws {
        let folder = try CLIPScratchFolder(copying: "tokenizer")
        try folder.remove("special_tokens_map.json")
        #expect(try CLIPTokenizer(directory: folder.url).padTokenId == 49407)
    }

    @Test func malformedVocab() throws {
        let folder = try CLIPScratchFolder(copying: "tokenizer")
        try folder.write("{\"a\": 1,", to: "vocab.json")
        expectError(folder, file: "vocab.json", saying: "not valid JSON")
        try folder.write("[1, 2]", to: "vocab.json")
        expectError(folder, file: "vocab.json", saying: "not a JSON object")
        try folder.write("{\"a\": \"one\"}", to: "vocab.json")
        expectError(folder, file: "vocab.json", saying: "\"a\" is not a non-negative integer")
    }

    @Test func vocabWithoutByteTokens() throws {
        let folder = try CLIPScratchFolder(copying: "tokenizer")
        try folder.write("{\"<|startoftext|>\": 0, \"<|endoftext|>\": 1}", to: "vocab.json")
        try folder.write("#version: 0.2\n", to: "merges.txt")
        expectError(folder, file: "vocab.json", saying: "byte token")
    }

    @Test func malformedMerges() throws {
        let folder = try CLIPScratchFolder(copying: "tokenizer")
        try folder.write("#version: 0.2\ni n\nt h e\n", to: "merges.txt")
        expectError(folder, file: "merges.txt", saying: "line 3 is not two tokens")
        try folder.write("#version: 0.2\ni n\nqqxq zz\n", to: "merges.txt")
        expectError(folder, file: "merges.txt", saying: "line 3: \"qqxq\" is not in vocab.json")
    }

    @Test func mergesThatAreNotUTF8() throws {
        let folder = try CLIPScratchFolder(copying: "tokenizer")
        try Data([0x69, 0x20, 0xFF, 0x0A]).write(to: folder.file("merges.txt"))
        expectError(folder, file: "merges.txt", saying: "not UTF-8")
    }

    @Test func malformedConfig() throws {
        let folder = try CLIPScratchFolder(copying: "tokenizer")
        try folder.remove("special_tokens_map.json")  // it would override the pad token under test
        try folder.write("{\"model_max_length\": \"77\"}", to: "tokenizer_config.json")
        expectError(folder, file: "tokenizer_config.json", saying: "model_max_length")
        try folder.write("{\"model_max_length\": 77, \"pad_token\": 5}", to: "tokenizer_config.json")
        expectError(folder, file: "tokenizer_config.json", saying: "pad_token is neither a string nor an object")
        try folder.write("{\"model_max_length\": 77, \"pad_token\": \"<|nope|>\"}", to: "tokenizer_config.json")
        expectError(folder, file: "tokenizer_config.json", saying: "\"<|nope|>\" is not in vocab.json")
        try folder.write("{\"model_max_length\": 77, \"added_tokens_decoder\": {\"x\": \"!\"}}", to: "tokenizer_config.json")
        expectError(folder, file: "tokenizer_config.json", saying: "added_tokens_decoder key \"x\" is not an id")
    }

    @Test func malformedSpecialTokensMap() throws {
        let folder = try CLIPScratchFolder(copying: "tokenizer")
        try folder.write("{\"pad_token\": {\"lstrip\": true}}", to: "special_tokens_map.json")
        expectError(folder, file: "special_tokens_map.json", saying: "pad_token is neither a string nor an object")
        try folder.write("{\"pad_token\": {\"content\": \"!\", \"rstrip\": true}}", to: "special_tokens_map.json")
        expectError(folder, file: "special_tokens_map.json", saying: "sets rstrip")
    }
}
