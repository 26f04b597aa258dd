import DiffusionFormats
import Foundation
import Testing

/// The duplicate-key scanner: keys compared after unescaping, per object, at any depth, and no
/// answer (rather than a wrong one or a trap) for text that is not JSON.
struct JSONDuplicateKeysTests {
    private func duplicate(_ json: String) -> [String]? {
        JSONDuplicateKeys.first(in: Data(json.utf8)).map { [$0.key, $0.path] }
    }

    @Test func findsTheFirstRepeatedKeyAndItsObject() {
        #expect(duplicate(#"{"a": 1, "b": 2, "a": 3}"#) == ["a", ""])
        #expect(duplicate(#"{"x": {"y": [1, {"k": null, "k": true}]}}"#) == ["k", "x.y[1]"])
        #expect(duplicate(#"[{"a": 1}, {"a": 2, "b": {"c": "}", "c": "{"}}]"#) == ["c", "[1].b"])
        // Escapes: \u0061 is a, a surrogate pair is one scalar, \" and \\ stay inside the key.
        #expect(duplicate(#"{"a": 1, "\u0061": 2}"#) == ["a", ""])
        #expect(duplicate(#"{"😀": 1, "\ud83d\ude00": 2}"#) == ["😀", ""])
        #expect(duplicate(#"{"q\"\\": 1, "q\u0022\u005c": 2}"#) == ["q\"\\", ""])
    }

    @Test func noDuplicate() {
        #expect(duplicate(#"{"a": {"a": {"a": 1}}, "b": [{"a": 1}, {"a": 2}], "c": "a\"a"}"#) == nil)
        #expect(duplicate(#"{"A": 1, "a": 2}"#) == nil)
        #expect(duplicate("[]") == nil)
        #expect(duplicate("{}") == nil)
        #expect(duplicate(" 12 ") == nil)
    }

    /// Broken or hostile text ends the scan without an answer and without trapping, however
    /// deep the nesting.
    @Test func malformedTextEndsTheScan() {
        for text in ["", "{", #"{"a""#, #"{"a": 1 "a": 2}"#, #"{"\u12"#, #"{"a\"#, "[1,", "[,]", "{,}", #"{"a": }"#, "]]]"] {
            #expect(duplicate(text) == nil, "\(text)")
        }
        #expect(duplicate(String(repeating: "[", count: 100_000)) == nil)
        #expect(duplicate(String(repeating: #"{"a":"#, count: 100_000)) == nil)
    }
}
