import DiffusionCore
import DiffusionFormats
import Foundation

/// A detector's weight file, read strictly (STYLE §3): every key the network asks for must be
/// there with the shape it implies, and every key of the file must be read, but for the few the
/// published file holds and the detector does not use (`checkAllUsed(ignoring:)`). Errors are
/// `DetectionError.invalidWeights` naming the file and the full key.
final class DetectorWeights: @unchecked Sendable {
    let modality: String
    let url: URL
    private let file: any TensorFile
    private var used = Set<String>()

    init(modality: String, url: URL) throws {
        self.modality = modality
        self.url = url
        do {
            file = try TensorFiles.open(url)
        } catch {
            throw DetectionError.invalidWeights(modality: modality, file: url.lastPathComponent, reason: "\(error)")
        }
    }

    /// The scope of keys starting with nothing: keys as the checkpoint names them.
    var root: Scope { Scope(weights: self, prefix: "") }

    func fail(_ reason: String) -> DetectionError {
        DetectionError.invalidWeights(modality: modality, file: url.lastPathComponent, reason: reason)
    }

    func contains(_ key: String) -> Bool { file.info(key) != nil }

    /// The stored shape of `key`.
    func shape(_ key: String) throws -> [Int] {
        guard let info = file.info(key) else { throw fail("missing weight '\(key)'") }
        return info.shape
    }

    /// Reads `key` as float32, checking its shape when given, and marks it used.
    func tensor(_ key: String, shape expected: [Int]? = nil) throws -> Tensor {
        let stored = try shape(key)
        if let expected, stored != expected {
            throw fail("weight '\(key)' has shape \(stored), the network implies \(expected)")
        }
        used.insert(key)
        do { return try file.tensor(named: key) } catch { throw fail("weight '\(key)': \(error)") }
    }

    /// Throws when a key of the file was never read and `ignoring` does not excuse it.
    func checkAllUsed(ignoring: (String) -> Bool = { _ in false }) throws {
        let unused = file.names.filter { !used.contains($0) && !ignoring($0) }
        guard unused.isEmpty else {
            throw fail("\(unused.count) unexpected weights, such as '\(unused[0])'")
        }
    }

    /// A key prefix: `w["blocks"][3]["attn"]` reads `blocks.3.attn.<name>`, the construction
    /// path being the checkpoint key.
    struct Scope {
        let weights: DetectorWeights
        let prefix: String

        subscript(_ name: String) -> Scope { Scope(weights: weights, prefix: key(name)) }
        subscript(_ index: Int) -> Scope { self[String(index)] }

        func key(_ name: String) -> String { prefix.isEmpty ? name : prefix + "." + name }
        func tensor(_ name: String, shape: [Int]? = nil) throws -> Tensor { try weights.tensor(key(name), shape: shape) }
        func shape(_ name: String) throws -> [Int] { try weights.shape(key(name)) }
        func contains(_ name: String) -> Bool { weights.contains(key(name)) }
    }
}
