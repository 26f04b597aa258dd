import Foundation

/// Large float32 blocks kept after use and handed out again: tensors' storage (a UNet step
/// allocates the same activation sizes as the step before) and work buffers (widened float16
/// weights, Winograd's transformed weights and tiles). A fresh large block costs a page fault and
/// the kernel's zeroing per 4 KB on first touch, about 5% of a UNet forward.
///
/// A block goes to the request whose size it fits within 2x, so a small long-lived tensor never
/// pins a large block. At most `idleBudget` bytes are kept idle, the oldest released first, which
/// bounds what the pool adds to peak memory.
final class BlockPool: @unchecked Sendable {
    static let shared = BlockPool()
    /// Blocks under this size go straight back to malloc, which recycles small blocks itself.
    static let minimumBytes = 1 << 20
    static let idleBudget = 384 << 20

    struct Block {
        let pointer: UnsafeMutablePointer<Float>
        let capacity: Int
    }

    private let lock = NSLock()
    private var idle: [Block] = []
    private var idleBytes = 0

    /// A block of at least `count` floats, its contents undefined.
    func take(_ count: Int) -> Block {
        let count = max(count, 1)
        if count * 4 >= BlockPool.minimumBytes {
            lock.lock()
            defer { lock.unlock() }
            let fitting = idle.indices.filter { idle[$0].capacity >= count && idle[$0].capacity <= 2 * count }
            if let best = fitting.min(by: { idle[$0].capacity < idle[$1].capacity }) {
                idleBytes -= idle[best].capacity * 4
                return idle.remove(at: best)
            }
        }
        let raw = UnsafeMutableRawPointer.allocate(byteCount: count * 4, alignment: 64)
        return Block(pointer: raw.bindMemory(to: Float.self, capacity: count), capacity: count)
    }

    func give(_ block: Block) {
        guard block.capacity * 4 >= BlockPool.minimumBytes else { return block.pointer.deallocate() }
        lock.lock()
        idle.append(block)
        idleBytes += block.capacity * 4
        var released: [Block] = []
        while idleBytes > BlockPool.idleBudget, !idle.isEmpty {
            let oldest = idle.removeFirst()
            idleBytes -= oldest.capacity * 4
            released.append(oldest)
        }
        lock.unlock()
        for block in released { block.pointer.deallocate() }
    }
}

/// Work buffers lent for the duration of a closure, so concurrent callers (two models running
/// at once) get different buffers.
enum ScratchPool {
    /// Calls `body` with a buffer of at least `count` floats; its contents are undefined.
    static func withFloats<R>(_ count: Int, _ body: (UnsafeMutablePointer<Float>) throws -> R) rethrows -> R {
        let block = BlockPool.shared.take(count)
        defer { BlockPool.shared.give(block) }
        return try body(block.pointer)
    }
}
