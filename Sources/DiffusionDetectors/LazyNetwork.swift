import Foundation

/// A detector's network, loaded from its weights on first use and kept.
///
/// Detectors are built whenever a request is validated (to answer a missing file with a 400
/// before any work), and the model store keeps the one it runs; loading the weights at the first
/// detection instead of at construction keeps validation from reading hundreds of megabytes.
final class LazyNetwork<Network: Sendable>: @unchecked Sendable {
    private let load: () throws -> Network
    private var network: Network?
    private let lock = NSLock()

    init(_ load: @escaping () throws -> Network) {
        self.load = load
    }

    /// The network `build` makes from the tensors of `url` (`modality`'s weights file), read
    /// strictly: every tensor but those `isUnused` names must have been read, or the file is refused.
    convenience init(
        modality: String, url: URL, ignoring isUnused: @escaping (String) -> Bool = { _ in false },
        _ build: @escaping (DetectorWeights.Scope) throws -> Network
    ) {
        self.init {
            let file = try DetectorWeights(modality: modality, url: url)
            let network = try build(file.root)
            try file.checkAllUsed(ignoring: isUnused)
            return network
        }
    }

    /// The network, loading it on the first call; a failed load is retried on the next.
    func get() throws -> Network {
        lock.lock()
        defer { lock.unlock() }
        if let network { return network }
        let loaded = try load()
        network = loaded
        return loaded
    }
}
