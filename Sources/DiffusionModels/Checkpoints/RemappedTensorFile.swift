import DiffusionFormats
import Foundation

/// One component of a single-file checkpoint, seen under diffusers' names: each name reads a tensor
/// of the underlying file, as stored or through one of the few transforms the original layouts need
/// (OpenCLIP's stacked q/k/v rows, its transposed projection, the VAE's 1x1-convolution attention).
/// Models load from it exactly as from a folder's weight file, through `WeightStore`.
public final class RemappedTensorFile: TensorFile, @unchecked Sendable {
    /// How a tensor is derived from its stored tensor.
    public enum Transform: Sendable, Equatable {
        case stored
        /// Rows `range` of the first dimension (a third of OpenCLIP's `in_proj_weight`/`in_proj_bias`).
        case rows(Range<Int>)
        /// A 2-D tensor transposed (OpenCLIP's `text_projection`, stored as `x @ P`).
        case transposed
        /// The same elements under another shape (`[c, c, 1, 1]` convolution weights read as `[c, c]`).
        case reshaped([Int])
    }

    public struct Source: Sendable, Equatable {
        public let key: String
        public let transform: Transform

        public init(_ key: String, _ transform: Transform = .stored) {
            self.key = key
            self.transform = transform
        }
    }

    public struct Entry: TensorFileEntry {
        public let dtype: SafeTensors.DType
        public let shape: [Int]
    }

    public let base: any TensorFile
    public let names: [String]
    /// Where each name comes from.
    public let sources: [String: Source]
    private let entries: [String: Entry]

    public var url: URL { base.url }

    /// The view of `base` under `sources`' names; a missing stored key or a transform that does not
    /// fit the stored shape is an error naming both keys.
    public init(base: any TensorFile, sources: [String: Source]) throws {
        var entries: [String: Entry] = [:]
        for (name, source) in sources {
            guard let stored = base.info(source.key) else {
                throw ModelLoadingError("\(base.url.path): missing weight '\(source.key)' (for '\(name)')")
            }
            guard let shape = Self.shape(of: stored.shape, source.transform) else {
                throw ModelLoadingError(
                    "\(base.url.path): weight '\(source.key)' of shape \(stored.shape) cannot give '\(name)' (\(source.transform))")
            }
            entries[name] = Entry(dtype: stored.dtype, shape: shape)
        }
        self.base = base
        self.sources = sources
        self.entries = entries
        names = sources.keys.sorted()
    }

    public func info(_ name: String) -> Entry? { entries[name] }

    public func withElements<T>(_ name: String, _ body: (UnsafeRawBufferPointer) throws -> T) throws -> T {
        guard let source = sources[name], let entry = entries[name] else {
            throw ModelLoadingError("\(url.path): no weight '\(name)'")
        }
        let size = entry.dtype.size
        return try base.withElements(source.key) { stored in
            switch source.transform {
            case .stored, .reshaped:
                return try body(stored)
            case .rows(let rows):
                let rowBytes = entry.shape.dropFirst().reduce(size, *)
                return try body(UnsafeRawBufferPointer(rebasing: stored[rows.lowerBound * rowBytes..<rows.upperBound * rowBytes]))
            case .transposed:
                let (rows, columns) = (entry.shape[1], entry.shape[0])  // the stored shape
                var out = [UInt8](repeating: 0, count: stored.count)
                out.withUnsafeMutableBytes { buffer in
                    guard let source = stored.baseAddress, let target = buffer.baseAddress else { return }
                    for row in 0..<rows {
                        for column in 0..<columns {
                            let from = (row * columns + column) * size, to = (column * rows + row) * size
                            (target + to).copyMemory(from: source + from, byteCount: size)
                        }
                    }
                }
                return try out.withUnsafeBytes(body)
            }
        }
    }

    /// The shape a transform gives, or nil when it does not apply to `stored`.
    private static func shape(of stored: [Int], _ transform: Transform) -> [Int]? {
        switch transform {
        case .stored: return stored
        case .rows(let rows):
            guard let first = stored.first, rows.lowerBound >= 0, rows.upperBound <= first else { return nil }
            return [rows.count] + stored.dropFirst()
        case .transposed:
            return stored.count == 2 ? [stored[1], stored[0]] : nil
        case .reshaped(let shape):
            return shape.reduce(1, *) == stored.reduce(1, *) ? shape : nil
        }
    }
}
