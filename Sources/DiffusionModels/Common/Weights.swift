import DiffusionCore
import DiffusionFormats
import Foundation

/// Why a model could not be built from its folder. The message names the file and, where one
/// is at fault, the full weight key or config field.
public struct ModelLoadingError: Error, CustomStringConvertible, LocalizedError, Sendable {
    public let message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }
    public var errorDescription: String? { message }
}

/// The tensors of one model's weight file (safetensors, a PyTorch checkpoint, or a single-file
/// checkpoint's component view), with a record of which keys were read so that
/// loading can insist every key was used (STYLE §3: loading is strict).
///
/// `rename` maps a key as the code asks for it to the key stored in the file, for checkpoints
/// written under older names (VAE `query`/`key`/`value`/`proj_attn`, `text_model.` prefixes);
/// keys listed in `ignored` (buffers such as `position_ids`) are never reported as unused;
/// `patches` (LoRA) change layer weights as they are read, leaving the file untouched.
public final class WeightStore: @unchecked Sendable {
    public let file: any TensorFile
    private let rename: (String) -> String
    private let ignored: (String) -> Bool
    private let patches: WeightPatches
    private var used = Set<String>()
    private let lock = NSLock()

    public init(
        file: any TensorFile, rename: @escaping (String) -> String = { $0 },
        ignored: @escaping (String) -> Bool = { _ in false }, patches: WeightPatches = .none
    ) {
        self.file = file
        self.rename = rename
        self.ignored = ignored
        self.patches = patches
    }

    /// Opens `url` as a store (`TensorFiles.open`: by its extension).
    public convenience init(
        contentsOf url: URL, rename: @escaping (String) -> String = { $0 },
        ignored: @escaping (String) -> Bool = { _ in false }, patches: WeightPatches = .none
    ) throws {
        self.init(file: try TensorFiles.open(url), rename: rename, ignored: ignored, patches: patches)
    }

    /// The root scope: keys as the model names them.
    public var root: WeightScope { WeightScope(store: self, prefix: "") }

    /// True when the file holds `key` (after renaming).
    public func contains(_ key: String) -> Bool { file.info(rename(key)) != nil }

    /// Reads `key` as float32, checking its shape when `shape` is given, and marks it used.
    public func tensor(_ key: String, shape: [Int]? = nil) throws -> Tensor {
        try file.tensor(named: use(key, shape: shape))
    }

    /// Reads a layer's weights `key` in their stored precision (`TensorFile.weights(named:)`),
    /// checking the shape when given, and marks it used.
    public func weights(_ key: String, shape: [Int]? = nil) throws -> WeightArray {
        patches.patched(key, try file.weights(named: use(key, shape: shape)))
    }

    /// The stored name of `key`, after checking it exists with `shape`; marks it used.
    private func use(_ key: String, shape: [Int]?) throws -> String {
        let stored = rename(key)
        guard let info = file.info(stored) else {
            throw ModelLoadingError("\(file.url.path): missing weight '\(key)'")
        }
        if let shape, info.shape != shape {
            throw ModelLoadingError(
                "\(file.url.path): weight '\(key)' has shape \(info.shape), the config implies \(shape)")
        }
        lock.lock()
        used.insert(stored)
        lock.unlock()
        return stored
    }

    /// Throws when the file holds keys the model never read: a checkpoint of another
    /// architecture, or a config that does not match its weights.
    public func checkAllUsed() throws {
        let unused = file.names.filter { !used.contains($0) && !ignored($0) }
        guard unused.isEmpty else {
            let shown = unused.prefix(5).map { "'\($0)'" }.joined(separator: ", ")
            throw ModelLoadingError(
                "\(file.url.path): \(unused.count) unexpected weight(s) the config does not use: \(shown)"
                    + (unused.count > 5 ? ", ..." : ""))
        }
    }
}

/// A key prefix within a `WeightStore`: `w["down_blocks"][1]["attentions"][0]` is the scope of
/// `down_blocks.1.attentions.0.`, so the construction path of a layer is its checkpoint key.
public struct WeightScope: Sendable {
    public let store: WeightStore
    public let prefix: String

    public subscript(name: String) -> WeightScope {
        WeightScope(store: store, prefix: prefix + name + ".")
    }

    public subscript(index: Int) -> WeightScope { self[String(index)] }

    /// The full key of `name` in this scope.
    public func key(_ name: String) -> String { prefix + name }

    /// True when the file holds `name` in this scope.
    public func contains(_ name: String) -> Bool { store.contains(key(name)) }

    /// The tensor `name` of this scope, checked against `shape` when given.
    public func tensor(_ name: String, shape: [Int]? = nil) throws -> Tensor {
        try store.tensor(key(name), shape: shape)
    }

    /// The layer weights `name` of this scope in their stored precision, checked against `shape`.
    public func weights(_ name: String, shape: [Int]? = nil) throws -> WeightArray {
        try store.weights(key(name), shape: shape)
    }

    /// `nn.Linear(inFeatures, outFeatures, bias:)` at this scope.
    public func linear(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true) throws -> Linear {
        Linear(
            weight: try weights("weight", shape: [outFeatures, inFeatures]),
            bias: bias ? try tensor("bias", shape: [outFeatures]) : nil)
    }

    /// `nn.Conv2d(inChannels, outChannels, kernel, stride:, padding:)` at this scope.
    public func conv2d(
        _ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0, bias: Bool = true
    ) throws -> Conv2D {
        Conv2D(
            weight: try weights("weight", shape: [outChannels, inChannels, kernel, kernel]),
            bias: bias ? try tensor("bias", shape: [outChannels]) : nil, stride: stride, padding: padding)
    }

    /// `nn.GroupNorm(groups, channels, eps)` at this scope.
    public func groupNorm(groups: Int, channels: Int, epsilon: Float) throws -> GroupNorm {
        GroupNorm(
            groups: groups, epsilon: epsilon, weight: try tensor("weight", shape: [channels]),
            bias: try tensor("bias", shape: [channels]))
    }

    /// `nn.LayerNorm(features, eps)` at this scope.
    public func layerNorm(_ features: Int, epsilon: Float, bias: Bool = true) throws -> LayerNorm {
        LayerNorm(
            epsilon: epsilon, weight: try tensor("weight", shape: [features]),
            bias: bias ? try tensor("bias", shape: [features]) : nil)
    }
}
