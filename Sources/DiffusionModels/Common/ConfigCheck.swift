import DiffusionFormats
import Foundation

/// The value checks a model config gets before any layer is built from it: a negative count
/// traps on a range, a size of billions overflows the weight-shape products or the allocation,
/// and a non-positive or non-finite epsilon turns every normalisation into NaN.
enum ConfigCheck {
    /// The largest width accepted (channels, hidden sizes, embedding dims, vocabulary). Real
    /// checkpoints stay under 50,000 (CLIP's vocabulary; SDXL's widest layer is 5,120), and
    /// three such factors still multiply without overflowing Int.
    static let maximumSize = 1_000_000
    /// The most resolution levels (`block_out_channels` entries) a UNet or VAE may have: each
    /// halves the image, and Stable Diffusion has 3 or 4.
    static let maximumBlocks = 8
    /// The most layers a block or encoder may stack (SDXL's deepest block has 10, CLIP-H 32).
    static let maximumDepth = 1_000

    /// Throws unless `value` is a width in 1...`maximumSize`.
    static func size(_ field: String, _ value: Int) throws {
        try range(field, value, 1...maximumSize)
    }

    /// Throws unless `value` is a layer count in 1...`maximumDepth`.
    static func depth(_ field: String, _ value: Int) throws {
        try range(field, value, 1...maximumDepth)
    }

    /// Throws unless `block_out_channels` lists 1...`maximumBlocks` blocks.
    static func blockCount(_ count: Int) throws {
        guard (1...maximumBlocks).contains(count) else {
            throw ModelLoadingError("config field 'block_out_channels' lists \(count) blocks; 1 to \(maximumBlocks) are supported")
        }
    }

    /// Throws unless `value` lies in `allowed`.
    static func range(_ field: String, _ value: Int, _ allowed: ClosedRange<Int>) throws {
        guard allowed.contains(value) else {
            throw ModelLoadingError("config field '\(field)' = \(value) must be an integer in \(allowed.lowerBound)...\(allowed.upperBound)")
        }
    }

    /// Throws unless `value` is a usable normalisation epsilon: finite and positive.
    static func epsilon(_ field: String, _ value: Float) throws {
        guard value.isFinite, value > 0 else {
            throw ModelLoadingError("config field '\(field)' = \(value) must be a positive finite number")
        }
    }

    /// Throws unless `value` is finite.
    static func finite(_ field: String, _ value: Float) throws {
        guard value.isFinite else { throw ModelLoadingError("config field '\(field)' = \(value) must be a finite number") }
    }

    /// The bytes of a config file, refusing a FIFO, directory or device (which would hang or
    /// fail obscurely); configs are small, so anything over 16 MB is refused too. The caller
    /// prefixes the path, as for its other errors.
    static func read(_ url: URL, what: String) throws -> Data {
        do {
            return try RegularFile.read(url, maximumSize: 16 << 20)
        } catch let error as FileReadError {
            throw ModelLoadingError("cannot read the \(what): \(error.reason)")
        }
    }
}
