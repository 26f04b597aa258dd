import DiffusionCore
import DiffusionFormats
import Foundation
import DiffusionModels

/// Tests/Goldens/clip, written by its generate.py with the pinned transformers and diffusers.
enum CLIPGoldens {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Goldens/clip")

    static func url(_ name: String) -> URL { directory.appendingPathComponent(name) }

    /// tokens.json: the corpus and, per tokenizer folder, transformers' ids for every prompt.
    struct Tokens: Decodable {
        struct Folder: Decodable {
            let pad_token_id: Int32
            let padded: [[Int32]]
            let untruncated: [[Int32]]
        }
        let prompts: [String]
        let folders: [String: Folder]
    }

    /// encoders.json: the input ids of each encoder case and the prompts of each encode_prompt case.
    struct Encoders: Decodable {
        struct Pipeline: Decodable {
            let `case`: String
            let prompt: String
            let negative_prompt: String?
        }
        let input_ids: [String: [[Int32]]]
        let pipelines: [Pipeline]
    }

    static let tokens: Tokens = decode("tokens.json")
    static let encoders: Encoders = decode("encoders.json")

    /// The reference outputs of encoders.safetensors.
    static let outputs: SafeTensorsFile = {
        do { return try SafeTensorsFile(contentsOf: url("encoders.safetensors")) } catch {
            fatalError("cannot read the CLIP goldens: \(error)")
        }
    }()

    static func output(_ name: String) throws -> Tensor { try outputs.tensor(named: name) }

    /// The tokenizer of a golden folder, loaded once.
    static func tokenizer(_ folder: String) throws -> CLIPTokenizer {
        try tokenizerCache.value(folder) { try CLIPTokenizer(directory: url(folder)) }
    }

    private static let tokenizerCache = CLIPCache<CLIPTokenizer>()

    private static func decode<T: Decodable>(_ name: String) -> T {
        do { return try JSONDecoder().decode(T.self, from: Data(contentsOf: url(name))) } catch {
            fatalError("cannot read the CLIP golden \(name): \(error)")
        }
    }
}

/// Values built once and shared by the parallel tests.
final class CLIPCache<Value>: @unchecked Sendable {
    private var values: [String: Value] = [:]
    private let lock = NSLock()

    func value(_ key: String, make: () throws -> Value) rethrows -> Value {
        lock.lock()
        defer { lock.unlock() }
        if let value = values[key] { return value }
        let value = try make()
        values[key] = value
        return value
    }
}

/// The largest absolute difference between two tensors of one shape (infinity when the shapes differ).
func clipMaxAbsError(_ actual: Tensor, _ expected: Tensor) -> Float {
    guard actual.shape == expected.shape else { return .infinity }
    var worst: Float = 0
    actual.withUnsafeBufferPointer { a in
        expected.withUnsafeBufferPointer { e in
            for i in 0..<a.count {
                // Not `max`: it keeps `worst` when the difference is NaN, so NaN outputs would pass.
                let difference = abs(a[i] - e[i])
                if !(difference <= worst) { worst = difference }
            }
        }
    }
    return worst
}

/// A copy of a golden folder in a fresh temporary folder, to be corrupted one file at a time.
final class CLIPScratchFolder {
    let url: URL

    init(copying folder: String) throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("CLIPTests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        let source = CLIPGoldens.url(folder).resolvingSymlinksInPath()
        for name in try FileManager.default.contentsOfDirectory(atPath: source.path) {
            let file = source.appendingPathComponent(name).resolvingSymlinksInPath()
            try FileManager.default.copyItem(at: file, to: url.appendingPathComponent(name))
        }
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    func file(_ name: String) -> URL { url.appendingPathComponent(name) }

    func write(_ text: String, to name: String) throws {
        try Data(text.utf8).write(to: file(name))
    }

    func remove(_ name: String) throws {
        try FileManager.default.removeItem(at: file(name))
    }
}
