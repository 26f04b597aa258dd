import Foundation
import Testing

import DiffusionModels

/// Tokenizer folders as transformers 5 saves them (tokenizer.json + tokenizer_config.json, no
/// vocab.json or merges.txt), made by Tests/Goldens/clip/generate_tokenizer_json.py with a vocabulary
/// cut to CLIP's first 2000 merges; ids must equal transformers' on the whole corpus.
struct CLIPTokenizerJSONTests {
    static let folders = ["tokenizer_json", "tokenizer_json_2"]
    static let tokens: CLIPGoldens.Tokens? = try? JSONDecoder().decode(
        CLIPGoldens.Tokens.self, from: Data(contentsOf: CLIPGoldens.url("tokens_tokenizer_json.json")))

    @Test(arguments: folders)
    func idsMatchTransformers(folder: String) throws {
        let tokenizer = try CLIPTokenizer(directory: CLIPGoldens.url(folder))
        let tokens = try #require(Self.tokens)
        let expected = try #require(tokens.folders[folder])
        #expect(tokens.prompts.count >= 50)
        #expect(tokenizer.padTokenId == expected.pad_token_id)
        for (prompt, ids) in zip(tokens.prompts, expected.padded) {
            #expect(tokenizer.encode(prompt) == ids, "\(folder): \(prompt.debugDescription)")
        }
        for (prompt, ids) in zip(tokens.prompts, expected.untruncated) {
            #expect(tokenizer.encode(prompt, padding: false, truncation: false) == ids, "\(folder): \(prompt.debugDescription)")
        }
    }

    /// tokenizer.json's added tokens keep their flags: SDXL's `<|startoftext|>` is `normalized`, so an
    /// upper-cased one in a prompt is still the special token once lower-cased (ids 2512/2513 here);
    /// SD1.5's is not, and is split into BPE pieces. Both lists are transformers' output.
    @Test func addedTokensKeepTheirFlags() throws {
        let sd = try CLIPTokenizer(directory: CLIPGoldens.url("tokenizer_json"))
        let xl = try CLIPTokenizer(directory: CLIPGoldens.url("tokenizer_json_2"))
        #expect((xl.bosTokenId, xl.eosTokenId, xl.padTokenId) == (2512, 2513, 0))
        #expect(xl.encode("<|STARTOFTEXT|>", padding: false) == [2512, 2512, 2513])
        #expect(sd.encode("<|STARTOFTEXT|>", padding: false) == [2512, 27, 347, 993, 580, 69, 600, 1052, 91, 285, 2513])
    }

    @Test func malformedTokenizerJSONNamesTheFault() throws {
        let folder = try CLIPScratchFolder(copying: "tokenizer_json")
        try folder.write(#"{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a b c"]}}"#, to: "tokenizer.json")
        let error = #expect(throws: CLIPTokenizerError.self) { try CLIPTokenizer(directory: folder.url) }
        #expect(error?.file.lastPathComponent == "tokenizer.json")
        #expect(error?.reason.contains("model.merges[0]") == true, "\(String(describing: error))")
        try folder.write(#"{"model": {"type": "WordPiece", "vocab": {}}}"#, to: "tokenizer.json")
        let other = #expect(throws: CLIPTokenizerError.self) { try CLIPTokenizer(directory: folder.url) }
        #expect(other?.reason.contains("BPE") == true)
    }

    /// With neither vocab.json nor tokenizer.json the error still names vocab.json.
    @Test func missingBothNamesVocabJSON() throws {
        let folder = try CLIPScratchFolder(copying: "tokenizer_json")
        #expect(CLIPTokenizer.missingFiles(in: folder.url).isEmpty)
        #expect(CLIPTokenizer.missingFiles(in: CLIPGoldens.url("tokenizer")).isEmpty)
        try folder.remove("tokenizer.json")
        #expect(CLIPTokenizer.missingFiles(in: folder.url) == ["vocab.json", "merges.txt"])
        let error = #expect(throws: CLIPTokenizerError.self) { try CLIPTokenizer(directory: folder.url) }
        #expect(error?.file.lastPathComponent == "vocab.json" && error?.reason.contains("file not found") == true)
    }
}
