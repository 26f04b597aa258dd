import DiffusionDetectors
import DiffusionModels
import Foundation

/// The models a process has loaded, shared by every generation in it (Docs/ARCHITECTURE.md,
/// "The model store").
///
/// Each model is loaded once per key even when requests ask for it at the same time, while
/// loads of different keys run in parallel. Models are read-only once loaded: requests never
/// change them. When the weights held pass `budget` bytes, the least recently used models are
/// dropped (a request still using one keeps it alive until it finishes).
public final class ModelStore: @unchecked Sendable {
    /// What is cached: the kind of model and the files it was read from.
    public struct Key: Hashable, Sendable {
        public enum Kind: String, Sendable {
            case unet, vae, textEncoders, controlNet, ipAdapter, detector, loras
        }

        public let kind: Kind
        public let path: String
        /// The UNet a ControlNet or IP-Adapter was checked against.
        public let base: String?
        /// The LoRAs merged in, `file@scale+...` (empty for none).
        public let loras: String

        public init(kind: Kind, path: String, base: String? = nil, loras: [LoRAInput] = []) {
            self.kind = kind
            self.path = path
            self.base = base
            self.loras = loras.map { "\($0.file.path)@\($0.scale)" }.joined(separator: "+")
        }
    }

    /// The most bytes of weights kept loaded (the weight files' sizes: weights keep their stored precision).
    public let budget: Int

    /// One key's load: its lock makes concurrent requests for the key wait for one load.
    private final class Slot {
        let lock = NSLock()
        /// Set once `value` holds the loaded model (which may itself be nil, as `illusion`'s detector is).
        var isLoaded = false
        var value: Any?
    }

    private let lock = NSLock()
    private var slots: [Key: Slot] = [:]
    /// Bytes and last use of every loaded key, for the budget.
    private var usage: [Key: (bytes: Int, lastUse: UInt64)] = [:]
    private var clock: UInt64 = 0

    /// - Parameter budget: bytes of weights to keep loaded; by default half the machine's memory.
    public init(budget: Int = Int(ProcessInfo.processInfo.physicalMemory / 2)) {
        self.budget = budget
    }

    /// The bytes of weights held now.
    public var bytesLoaded: Int { lock.withLock { usage.values.reduce(0) { $0 + $1.bytes } } }

    /// The keys loaded now.
    public var keys: Set<Key> { lock.withLock { Set(usage.keys) } }

    /// The model under `key`, loading it with `load` the first time; `files` are what it is read
    /// from, whose sizes count against the budget.
    func model<Model>(_ key: Key, files: [URL], _ load: () throws -> Model) throws -> Model {
        let slot = lock.withLock { () -> Slot in
            if let slot = slots[key] { return slot }
            let slot = Slot()
            slots[key] = slot
            return slot
        }
        slot.lock.lock()
        defer { slot.lock.unlock() }
        if slot.isLoaded, let model = slot.value as? Model {
            lock.withLock { touch(key) }
            return model
        }
        let model = try load()
        slot.value = model
        slot.isLoaded = true
        let bytes = files.reduce(0) { $0 + Self.size(of: $1) }
        lock.withLock {
            usage[key] = (bytes, 0)
            touch(key)
            evictOverBudget(keeping: key)
        }
        return model
    }

    private func touch(_ key: Key) {
        clock += 1
        usage[key]?.lastUse = clock
    }

    /// Drops the least recently used models until the rest fit the budget; `key`, just loaded, stays.
    private func evictOverBudget(keeping key: Key) {
        var total = usage.values.reduce(0) { $0 + $1.bytes }
        for (victim, entry) in usage.sorted(by: { $0.value.lastUse < $1.value.lastUse }) where total > budget && victim != key {
            usage[victim] = nil
            slots[victim] = nil
            total -= entry.bytes
        }
    }

    /// The bytes of a file, or of every file under a folder.
    static func size(of url: URL) -> Int {
        let manager = FileManager.default
        var isFolder: ObjCBool = false
        guard manager.fileExists(atPath: url.path, isDirectory: &isFolder) else { return 0 }
        guard isFolder.boolValue else { return (try? manager.attributesOfItem(atPath: url.path)[.size] as? Int) ?? 0 }
        let files = manager.enumerator(at: url, includingPropertiesForKeys: [.fileSizeKey])
        return (files?.allObjects as? [URL] ?? []).reduce(0) {
            $0 + ((try? $1.resourceValues(forKeys: [.fileSizeKey]).fileSize) ?? 0)
        }
    }
}

extension ModelStore {
    /// The UNet, with `loras` merged in when given (each LoRA set is its own cached model).
    func unet(_ model: ModelFolder, loras: [LoRAInput] = []) throws -> UNet2DConditionModel {
        let set = try loraSet(loras, for: model)
        return try self.model(Key(kind: .unet, path: model.unet.path, loras: loras), files: [model.checkpoint ?? model.unet]) {
            guard let checkpoint = try model.openCheckpoint() else {
                return try UNet2DConditionModel(folder: model.unet, patches: set.patches(for: .unet))
            }
            return try checkpoint.loadUNet(configFolder: model.configFolder, patches: set.patches(for: .unet))
        }
    }

    /// The LoRA files read against `model`'s weights, cached so that a set is read once.
    ///
    /// - Throws: `LoRAError` naming the LoRA and the key that fits no weight of the model.
    public func loraSet(_ loras: [LoRAInput], for model: ModelFolder) throws -> LoRASet {
        guard !loras.isEmpty else { return LoRASet([]) }
        return try self.model(Key(kind: .loras, path: model.url.path, loras: loras), files: loras.map(\.file)) {
            try LoRASet(files: loras.map { ($0.file, Float($0.scale)) }, modelDirectory: model.url)
        }
    }

    func vae(_ model: ModelFolder) throws -> AutoencoderKL {
        try self.model(Key(kind: .vae, path: model.vae.path), files: [model.checkpoint ?? model.vae]) {
            try model.openCheckpoint()?.loadVAE(configFolder: model.configFolder) ?? AutoencoderKL(folder: model.vae)
        }
    }

    func promptEncoder(_ model: ModelFolder, loras: [LoRAInput] = []) throws -> any PromptEncoder {
        let files = model.checkpoint.map { [$0] } ?? [model.textEncoder] + (model.textEncoder2.map { [$0] } ?? [])
        let set = try loraSet(loras, for: model)
        return try self.model(Key(kind: .textEncoders, path: model.url.path, loras: loras), files: files) { () throws -> any PromptEncoder in
            guard let checkpoint = try model.openCheckpoint() else {
                switch model.family {
                case .sd15: return try StableDiffusionPromptEncoder(modelDirectory: model.url, loras: set)
                case .sdxl:
                    return try StableDiffusionXLPromptEncoder(
                        modelDirectory: model.url, forceZerosForEmptyPrompt: model.forceZerosForEmptyPrompt, loras: set)
                }
            }
            let tokenizer = try CLIPTokenizer(directory: model.tokenizerFolder("tokenizer"))
            let textEncoder = try checkpoint.loadTextEncoder(configFolder: model.configFolder, patches: set.patches(for: .textEncoder))
            guard model.family == .sdxl else { return StableDiffusionPromptEncoder(tokenizer: tokenizer, textEncoder: textEncoder) }
            return StableDiffusionXLPromptEncoder(
                tokenizer: tokenizer, tokenizer2: try CLIPTokenizer(directory: model.tokenizerFolder("tokenizer_2")),
                textEncoder: textEncoder,
                textEncoder2: try checkpoint.loadTextEncoder2(configFolder: model.configFolder, patches: set.patches(for: .textEncoder2)),
                forceZerosForEmptyPrompt: model.forceZerosForEmptyPrompt)
        }
    }

    /// A ControlNet, checked once to fit `model`'s UNet.
    func controlNet(_ folder: URL, for model: ModelFolder) throws -> ControlNetModel {
        let unet = try unet(model)
        return try self.model(Key(kind: .controlNet, path: folder.path, base: model.unet.path), files: [folder]) {
            let net = try PublishedFiles.controlNetCheckpoint(in: folder)
                .map { try SingleFileControlNet.load(contentsOf: $0, configFolder: folder) } ?? ControlNetModel(folder: folder)
            try net.checkFits(unet, folder: folder)
            return net
        }
    }

    /// An IP-Adapter is loaded for one UNet: its projections must fit that UNet's layers.
    func ipAdapter(_ folder: URL, for model: ModelFolder) throws -> IPAdapter {
        let unet = try unet(model)
        return try self.model(Key(kind: .ipAdapter, path: folder.path, base: model.unet.path), files: [folder]) {
            guard let weights = PublishedFiles.ipAdapterWeights(in: folder) else {
                throw ModelLoadingError("\(folder.path): no IP-Adapter weights (ip-adapter.safetensors, or one published file)")
            }
            return try IPAdapter(weights: weights, imageEncoder: PublishedFiles.ipAdapterImageEncoder(for: folder), unet: unet)
        }
    }

    /// `modality`'s detector with its weights from `modelsDirectory`, nil when it has none (`illusion`).
    func detector(_ modality: Modality, modelsDirectory: URL) throws -> Detector? {
        let weights = modality.weightsDirectory(modelsDirectory: modelsDirectory)
        return try self.model(Key(kind: .detector, path: weights.path), files: [weights]) {
            try modality.detector(modelsDirectory: modelsDirectory)
        }
    }
}
