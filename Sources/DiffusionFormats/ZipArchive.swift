import Foundation

/// The central directory of a zip archive whose entries are stored uncompressed, as
/// `torch.save` writes them: each entry's data is a byte range of the mapped file, read in
/// place. (A general zip library such as ZIPFoundation extracts entries through copies; a
/// multi-gigabyte checkpoint should be read where it lies.) ZIP64 sizes and offsets are read,
/// since checkpoints pass 4 GiB. Every offset is checked against the file before use.
struct ZipArchive {
    /// Each entry's name and the byte range of its (stored) data in the file.
    let entries: [String: Range<Int>]

    /// Reads the directory of `bytes` (the whole file); `fail(reason)` makes the errors.
    init(bytes: UnsafeRawBufferPointer, fail: @escaping (String) -> Error) throws {
        let reader = ByteReader(bytes: bytes, fail: fail)
        let directory = try Self.centralDirectory(reader)
        var entries: [String: Range<Int>] = [:]
        var offset = directory.offset
        for _ in 0..<directory.count {
            let (name, range, next) = try Self.entry(at: offset, reader)
            entries[name] = range
            offset = next
        }
        self.entries = entries
    }

    /// The offset and entry count of the central directory, from the end record (ZIP64's when
    /// the classic fields are saturated).
    private static func centralDirectory(_ reader: ByteReader) throws -> (offset: Int, count: Int) {
        let size = reader.bytes.count
        guard size >= 22 else { throw reader.fail("\(size) bytes is too short for a zip archive") }
        // The end record is 22 bytes plus a comment of at most 65535 bytes.
        guard let end = stride(from: size - 22, through: max(0, size - 22 - 0xFFFF), by: -1)
            .first(where: { reader.u32($0) == 0x0605_4b50 })
        else { throw reader.fail("no zip end-of-central-directory record") }
        var count = Int(reader.u16(end + 10)), offset = Int(reader.u32(end + 16))
        if end >= 20, reader.u32(end - 20) == 0x0706_4b50 {
            let record = try reader.checked(try reader.int(reader.u64(end - 12), "ZIP64 end record offset"), count: 56, "ZIP64 end record")
            guard reader.u32(record) == 0x0606_4b50 else { throw reader.fail("bad ZIP64 end record") }
            count = try reader.int(reader.u64(record + 32), "ZIP64 entry count")
            offset = try reader.int(reader.u64(record + 48), "ZIP64 directory offset")
        }
        return (offset, count)
    }

    /// One central-directory header at `offset`: the entry's name, its data range, and the
    /// offset of the next header.
    private static func entry(at offset: Int, _ reader: ByteReader) throws -> (String, Range<Int>, Int) {
        let header = try reader.checked(offset, count: 46, "central directory header")
        guard reader.u32(header) == 0x0201_4b50 else { throw reader.fail("bad central directory header at byte \(header)") }
        let nameLength = Int(reader.u16(header + 28)), extraLength = Int(reader.u16(header + 30))
        let commentLength = Int(reader.u16(header + 32))
        let nameStart = try reader.checked(header + 46, count: nameLength + extraLength, "entry name")
        let name = String(decoding: reader.bytes[nameStart..<nameStart + nameLength], as: UTF8.self)
        guard reader.u16(header + 8) & 1 == 0, reader.u16(header + 10) == 0 else {
            throw reader.fail("entry \"\(name)\" is encrypted or compressed; torch.save stores entries uncompressed")
        }
        var sizes = (UInt64(reader.u32(header + 24)), UInt64(reader.u32(header + 20)))
        var local = UInt64(reader.u32(header + 42))
        try zip64(reader, extra: nameStart + nameLength, length: extraLength, sizes: &sizes, local: &local)
        guard sizes.0 == sizes.1 else { throw reader.fail("entry \"\(name)\" is stored with differing sizes") }
        let size = try reader.int(sizes.0, "size of \(name)")
        let data = try dataStart(reader, local: try reader.int(local, "local header offset"), name: name)
        let range = try reader.checked(data, count: size, "data of \(name)")..<data + size
        return (name, range, nameStart + nameLength + extraLength + commentLength)
    }

    /// Replaces saturated 32-bit fields with the ZIP64 extra field's 64-bit values, which appear
    /// in order (uncompressed size, compressed size, local header offset) for the saturated ones.
    private static func zip64(
        _ reader: ByteReader, extra: Int, length: Int, sizes: inout (UInt64, UInt64), local: inout UInt64
    ) throws {
        var position = extra
        while position + 4 <= extra + length {
            let id = reader.u16(position), end = position + 4 + Int(reader.u16(position + 2))
            guard end <= extra + length else { throw reader.fail("truncated zip extra field") }
            var field = position + 4
            func next(_ value: UInt64) throws -> UInt64 {
                guard id == 0x0001, value == 0xFFFF_FFFF else { return value }
                guard field + 8 <= end else { throw reader.fail("truncated ZIP64 extra field") }
                defer { field += 8 }
                return reader.u64(field)
            }
            sizes.0 = try next(sizes.0)
            sizes.1 = try next(sizes.1)
            local = try next(local)
            position = end
        }
    }

    /// Where an entry's data begins: after its local header, whose name and extra lengths may
    /// differ from the central directory's (torch pads the extra field to align the data).
    private static func dataStart(_ reader: ByteReader, local: Int, name: String) throws -> Int {
        let header = try reader.checked(local, count: 30, "local header of \(name)")
        guard reader.u32(header) == 0x0403_4b50 else { throw reader.fail("bad local header for \"\(name)\"") }
        return header + 30 + Int(reader.u16(header + 26)) + Int(reader.u16(header + 28))
    }
}

/// Little-endian loads from a byte buffer, with range checks that throw instead of trapping.
struct ByteReader {
    let bytes: UnsafeRawBufferPointer
    let fail: (String) -> Error

    /// `offset`, after checking that `count` bytes from it lie inside the buffer.
    func checked(_ offset: Int, count: Int, _ what: String) throws -> Int {
        guard offset >= 0, count >= 0, offset <= bytes.count, count <= bytes.count - offset else {
            throw fail("\(what) (\(count) bytes at \(offset)) lies outside the \(bytes.count)-byte file")
        }
        return offset
    }

    /// A 64-bit value as an Int, or an error naming it when it does not fit.
    func int(_ value: UInt64, _ what: String) throws -> Int {
        guard let result = Int(exactly: value) else { throw fail("\(what) \(value) is out of range") }
        return result
    }

    // The loads below are only called at offsets already checked (or bounded by a checked header).
    func u16(_ offset: Int) -> UInt16 { UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt16.self)) }
    func u32(_ offset: Int) -> UInt32 { UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)) }
    func u64(_ offset: Int) -> UInt64 { UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) }
}
