import DiffusionPipeline
import DiffusionService
import Foundation
import Testing

/// The request grammar is as strict as the schema: modality values are plain decimals, a key
/// given twice is an error, `null` and other non-objects are named, negativePromptStrength
/// stays in the schema's [0, 10], and unknown fields give a bounded list of warnings.
@Suite struct RequestGrammarTests {
    private func modality(_ text: String) throws -> [String] {
        let quoted = String(decoding: try JSONSerialization.data(withJSONObject: text, options: .fragmentsAllowed), as: UTF8.self)
        return try TestEnvironment.shared().resolve(adding: #""modality": \#(quoted)"#).controlNets.map(\.modality.description)
    }

    /// Forms `Double.init` accepts that the schema's `]0.0, 1.0]` decimals do not include:
    /// hexadecimal, a sign, exponents (1e-320 is also subnormal), words, and whitespace other
    /// than the ASCII space around the value (a trailing no-break space, a tab, an ideographic space).
    @Test(arguments: [
        "canny:0x1p-1", "canny:+0.5", "canny:1e-320", "canny:5e-1", "canny:1E0", "canny:inf", "canny:nan",
        "canny:infinity", "canny:.5", "canny:1.", "canny:0.5\u{A0}", "canny:\u{A0}0.5", "canny:\t0.5", "canny:0.5\u{3000}",
        "canny:0,5", "canny:٠.5", "canny:0." + String(repeating: "0", count: 320) + "1",
    ])
    func looserNumbersAreRefused(_ text: String) throws {
        let failure = error { try modality(text) }
        #expect(failure?.status == 400 && failure?.field == "modality", "\(text)")
        #expect(failure?.message.contains("must be a decimal number in ]0, 1]") == true, "\(failure?.message ?? "accepted")")
    }

    @Test func nonBreakingSpaceAroundTheNameIsRefused() throws {
        let failure = error { try modality("canny\u{A0}:0.5") }
        #expect(failure?.status == 400 && failure?.message.contains("not a modality of sd-1_5") == true)
    }

    /// What stays accepted: digits with an optional fraction, ASCII spaces around either part.
    @Test(arguments: [
        ("canny:1", "canny:1.0"), ("canny:1.0", "canny:1.0"), ("canny:0.5", "canny:0.5"), ("canny:01", "canny:1.0"),
        ("canny:0.000001", "canny:1e-06"), (" canny : 0.25 ", "canny:0.25"), ("canny:1.000", "canny:1.0"),
    ])
    func plainDecimalsAreAccepted(_ text: String, _ canonical: String) throws {
        #expect(try modality(text) == [canonical])
    }

    @Test func duplicateKeysAreAnErrorNamingTheKey() throws {
        let top = error { try GenerationRequest(json: Data(#"{"modelId": "a", "prompt": "p", "modality": "canny", "prompt": "q"}"#.utf8)) }
        #expect(top == .badRequest("the request body has the key 'prompt' more than once", field: "prompt"))
        // Escapes are unescaped before comparing: "\u0073eed" is "seed".
        let escaped = error { try GenerationRequest(json: Data(#"{"seed": "1", "\u0073eed": "2", "modelId": "a", "prompt": "p", "modality": "c"}"#.utf8)) }
        #expect(escaped == .badRequest("the request body has the key 'seed' more than once", field: "seed"))
        let nested = error {
            try GenerationRequest(json: Data(#"{"modelId": "a", "prompt": "p", "modality": "c", "concepts": [{"modelId": "x", "scale": 1, "scale": 2}]}"#.utf8))
        }
        #expect(nested == .badRequest("concepts[0] has the key 'scale' more than once", field: "concepts"))
        // The same key in two different objects is no duplicate.
        let request = try GenerationRequest(json: Data(#"{"modelId": "a", "prompt": "p", "modality": "c", "concepts": [{"modelId": "x", "scale": 1}, {"modelId": "y", "scale": 2}]}"#.utf8))
        #expect(request.concepts?.map(\.modelId) == ["x", "y"])
    }

    @Test func nullAndOtherNonObjectBodiesAreNamed() {
        #expect(error { try GenerationRequest(json: Data("null".utf8)) } == .badRequest("the request body must be a JSON object, not null"))
        #expect(error { try GenerationRequest(json: Data(" null ".utf8)) } == .badRequest("the request body must be a JSON object, not null"))
        #expect(error { try GenerationRequest(json: Data("42".utf8)) } == .badRequest("the request body must be a JSON object"))
        #expect(error { try GenerationRequest(json: Data("[{}]".utf8)) } == .badRequest("the request body must be a JSON object"))
    }

    /// Every decoding failure is a plain sentence naming the field, never the decoder's own
    /// text ("Expected to decode Dictionary<String, Any> but found ...").
    @Test(arguments: [
        #"{"modelId": "a", "prompt": "p", "modality": "c", "concepts": [1]}"#,
        #"{"modelId": "a", "prompt": "p", "modality": "c", "concepts": {"modelId": "x"}}"#,
        #"{"modelId": "a", "prompt": "p", "modality": "c", "concepts": [{"scale": 1}]}"#,
        #"{"modelId": "a", "prompt": "p", "modality": "c", "ipAdapterScales": [0.5, "1"]}"#,
        #"{"modelId": "a", "prompt": ["p"], "modality": "c"}"#,
        #"{"modelId": {}, "prompt": "p", "modality": "c"}"#,
        #"{"modelId": "a", "prompt": "p", "modality": "c", "numSamples": 1e400}"#,
        #"{"modelId": "a", "prompt": "p", "modality": "c", "seed": -1}"#,
    ])
    func messagesArePlain(_ body: String) {
        let failure = error { try GenerationRequest(json: Data(body.utf8)) }
        #expect(failure?.status == 400)
        for decoderWord in ["Dictionary", "Expected", "expected value", "Swift.", "CodingKeys", "debugDescription"] {
            #expect(failure?.message.contains(decoderWord) == false, "\(failure?.message ?? "")")
        }
    }

    @Test func negativePromptStrengthStaysInTheSchemaRange() throws {
        for value in ["99", "-1", "10.5"] {
            let failure = error { try GenerationRequest(json: Data(#"{"modelId": "a", "prompt": "p", "modality": "c", "negativePromptStrength": \#(value)}"#.utf8)) }
            #expect(failure?.status == 400 && failure?.field == "negativePromptStrength", "\(value)")
            #expect(failure?.message.contains("[0, 10]") == true)
        }
        for value in ["0", "10", "2.5"] {
            let request = try GenerationRequest(json: Data(#"{"modelId": "a", "prompt": "p", "modality": "c", "negativePromptStrength": \#(value)}"#.utf8))
            #expect(request.negativePromptStrength == Double(value))
        }
    }

    /// 100,000 unknown fields: all listed, 21 warnings.
    @Test func unknownFieldWarningsAreBounded() throws {
        let unknown = (0..<100_000).map { #""extra\#($0)": 1"# }.joined(separator: ", ")
        let request = try GenerationRequest(json: Data(#"{"modelId": "a", "prompt": "p", "modality": "c", \#(unknown)}"#.utf8))
        #expect(request.unknownFields.count == 100_000)
        let warnings = request.unknownFieldWarnings
        #expect(warnings.count == GenerationRequest.maximumUnknownFieldWarnings + 1)
        #expect(warnings.first == "unknown field 'extra0' ignored")  // sorted as strings
        #expect(warnings.last == "99980 more unknown fields ignored")
        let few = try GenerationRequest(json: Data(#"{"modelId": "a", "prompt": "p", "modality": "c", "b": 1, "a": 2}"#.utf8))
        #expect(few.unknownFieldWarnings == ["unknown field 'a' ignored", "unknown field 'b' ignored"])
    }
}
