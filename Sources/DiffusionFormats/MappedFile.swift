import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A whole file mapped read-only into memory, unmapped when the last reference goes.
///
/// Pages load on first touch, so opening a multi-gigabyte checkpoint costs nothing until
/// its tensors are read. Another process truncating the file while it is mapped would
/// fault on access; model files are not rewritten in place (writers here rename).
final class MappedFile: @unchecked Sendable {
    let bytes: UnsafeRawBufferPointer

    /// Maps `url`; `makeError(reason)` reports failures.
    init(url: URL, makeError: (String) -> Error) throws {
        let descriptor: Int32, size: Int
        do { (descriptor, size) = try RegularFile.openForReading(url) } catch let error as FileReadError {
            throw makeError(error.reason)
        }
        defer { close(descriptor) }
        // mmap refuses zero bytes; an empty mapping stands in, and validation rejects it.
        guard size > 0 else {
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        let address = mmap(nil, size, PROT_READ, MAP_PRIVATE, descriptor, 0)
        guard let address, address != MAP_FAILED else { throw makeError("cannot map: \(errnoDescription())") }
        bytes = UnsafeRawBufferPointer(start: address, count: size)
    }

    /// Drops the resident pages wholly inside `range` (byte offsets into the file): a tensor
    /// already converted to float32 needs its source bytes no more, and a multi-gigabyte
    /// checkpoint would otherwise stay resident beside the model built from it. The mapping
    /// stays valid; a later read of those bytes loads them from the file again.
    func release(_ range: Range<Int>) {
        guard let base = bytes.baseAddress, !range.isEmpty else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let first = (range.lowerBound + page - 1) / page * page, last = range.upperBound / page * page
        guard first < last else { return }
        madvise(UnsafeMutableRawPointer(mutating: base + first), last - first, Int32(MADV_DONTNEED))
    }

    deinit {
        if let base = bytes.baseAddress { munmap(UnsafeMutableRawPointer(mutating: base), bytes.count) }
    }
}
