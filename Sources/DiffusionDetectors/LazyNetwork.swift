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
