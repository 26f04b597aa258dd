import DiffusionCore
import DiffusionFormats
import Foundation

/// A detector's weight file, read strictly (STYLE §3): every key the network asks for must be
/// there with the shape it implies, and every key of the file must be read, but for the few the
/// published file holds and the detector does not use (`checkAllUsed(ignoring:)`). Errors are
/// `DetectionError.invalidWeights` naming the file and the full key.
///
/// Keys are the network's, whatever wrapping the checkpoint puts around its state dict
/// (`stateDictKeys`, Docs/DETECTORS.md "Real weight files").
final class DetectorWeights: @unchecked Sendable {
    let modality: String
    let url: URL
    private let file: any TensorFile
    /// The file's name of each of the network's keys.
    private let stored: [String: String]
    private var used = Set<String>()

    init(modality: String, url: URL) throws {
        self.modality = modality
        self.url = url
        let fail = { (reason: String) in DetectionError.invalidWeights(modality: modality, file: url.lastPathComponent, reason: reason) }
        do {
            file = try TensorFiles.open(url)
        } catch {
            throw fail("\(error)")
        }
        stored = try Self.stateDictKeys(file.names, fail: fail)
    }

    /// The network's key for each tensor of a checkpoint named `names`, unwrapped as the Python
    /// loaders of the published files unwrap them: a training checkpoint's `model` entry
    /// (`{"model": state_dict, "optimizer": ..., "iter": n}`, MiDaS's and NormalBae's form) is
    /// the state dict and its other tensors (the optimizer's) are not weights, and a leading
    /// `module.` ((Distributed)DataParallel's, which NormalBae and mmcv strip) is dropped. mmcv's
    /// `{"meta": ..., "state_dict": ...}` is unwrapped by the checkpoint reader already.
    static func stateDictKeys(_ names: [String], fail: (String) -> DetectionError) throws -> [String: String] {
        let model = "model.", module = "module."
        let isTrainingCheckpoint = names.contains { $0.hasPrefix(model) }
        var keys: [String: String] = [:]
        for name in names {
            var key = Substring(name)
            if isTrainingCheckpoint {
                guard key.hasPrefix(model) else { continue }
                key = key.dropFirst(model.count)
            }
            if key.hasPrefix(module) { key = key.dropFirst(module.count) }
            if let other = keys[String(key)] {
                throw fail("'\(other)' and '\(name)' are both the weight '\(key)'")
            }
            keys[String(key)] = name
        }
        return keys
    }

    /// The scope of keys starting with nothing: keys as the network names them.
    var root: Scope { Scope(weights: self, prefix: "") }

    func fail(_ reason: String) -> DetectionError {
        DetectionError.invalidWeights(modality: modality, file: url.lastPathComponent, reason: reason)
    }

    /// The network's keys of every tensor of the file, sorted.
    var keys: [String] { stored.keys.sorted() }

    func contains(_ key: String) -> Bool { stored[key] != nil }

    /// The stored shape of `key`.
    func shape(_ key: String) throws -> [Int] {
        guard let name = stored[key], let info = file.info(name) else { throw fail("missing weight '\(key)'") }
        return info.shape
    }

    /// Reads `key` as float32 (whatever its stored dtype), checking its shape when given, and
    /// marks it used.
    func tensor(_ key: String, shape expected: [Int]? = nil) throws -> Tensor {
        let shape = try self.shape(key)
        if let expected, shape != expected {
            throw fail("weight '\(key)' has shape \(shape), the network implies \(expected)")
        }
        used.insert(key)
        do { return try file.tensor(named: stored[key] ?? key) } catch { throw fail("weight '\(key)': \(error)") }
    }

    /// Throws when a key of the file was never read and `ignoring` does not excuse it.
    func checkAllUsed(ignoring: (String) -> Bool = { _ in false }) throws {
        let unused = keys.filter { !used.contains($0) && !ignoring($0) }
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
        func contains(_ key: String) -> Bool { weights.contains(self.key(key)) }
    }
}
