import Foundation

/// Float32 work buffers reused from call to call: widened float16 weights, Winograd's transformed
/// weights and tiles. Allocating them per call would page-fault and zero tens of MB per layer.
///
/// Buffers are lent for the duration of a closure, so concurrent callers (two models running at
/// once) get different buffers. At most `retained` idle buffers are kept, the largest first; the
/// pool then holds about as much as the largest few layers' work areas.
enum ScratchPool {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var idle: [Buffer] = []
    static let retained = 4

    struct Buffer {
        let pointer: UnsafeMutablePointer<Float>
        let capacity: Int
    }

    /// Calls `body` with a buffer of at least `count` floats; its contents are undefined.
    static func withFloats<R>(_ count: Int, _ body: (UnsafeMutablePointer<Float>) throws -> R) rethrows -> R {
        let buffer = take(count)
        defer { give(buffer) }
        return try body(buffer.pointer)
    }

    /// The smallest idle buffer that holds `count` floats, or a new one.
    private static func take(_ count: Int) -> Buffer {
        lock.lock()
        defer { lock.unlock() }
        let fitting = idle.indices.filter { idle[$0].capacity >= count }
        if let best = fitting.min(by: { idle[$0].capacity < idle[$1].capacity }) {
            return idle.remove(at: best)
        }
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * 4, alignment: 64)
        return Buffer(pointer: raw.bindMemory(to: Float.self, capacity: max(count, 1)), capacity: max(count, 1))
    }

    private static func give(_ buffer: Buffer) {
        lock.lock()
        defer { lock.unlock() }
        idle.append(buffer)
        idle.sort { $0.capacity > $1.capacity }
        while idle.count > retained { idle.removeLast().pointer.deallocate() }
    }
}
