import Foundation

/// A PyTorch checkpoint written by `torch.save` (`.bin`, `.pt`, `.pth`, `.ckpt`), memory-mapped and
/// read without running Python: the zip form (`<name>/data.pkl` plus one stored entry per storage,
/// `<name>/data/<key>`) and the legacy form (`_use_new_zipfile_serialization=False`: pickles, then
/// the raw storages).
///
/// The pickle runs in `PickleMachine` with `TorchUnpickler`'s policy: tensors
/// (`torch._utils._rebuild_tensor_v2`, or `_rebuild_tensor` as torch before 0.4 wrote them, over
/// `torch.*Storage`), `collections.OrderedDict` and plain
/// data only; any other global is an error naming it, and nothing is ever imported or called.
/// The tensors are those of the state dict: the top-level dict, or its `state_dict` entry (A1111
/// and Lightning checkpoints nest it), nested dicts flattened with `.` (an IP-Adapter `.bin`'s
/// `{"image_proj": ..., "ip_adapter": ...}` becomes `image_proj.proj.weight`, ...); other values
/// (step counts, strings) are skipped. Every view is checked to lie inside its storage on opening.
public final class TorchCheckpoint: TensorFile, @unchecked Sendable {
    /// A tensor's element type and shape.
    public struct Entry: TensorFileEntry {
        public let dtype: SafeTensors.DType
        public let shape: [Int]
        let view: TorchTensor
    }

    public let url: URL
    public let names: [String]
    private let entries: [String: Entry]
    /// The byte range of each storage's data in the file.
    private let storages: [String: Range<Int>]
    private let file: MappedFile

    /// Maps and reads the checkpoint at `url`.
    ///
    /// - Throws: `TorchCheckpointError` naming the file and what is wrong with it.
    public init(contentsOf url: URL) throws {
        self.url = url
        let fail: (String) -> Error = { TorchCheckpointError(file: url.path, $0) }
        file = try MappedFile(url: url, makeError: fail)
        let unpickler = TorchUnpickler(fail: fail)
        let (root, storages) = try Self.isZip(file.bytes)
            ? Self.readZip(file.bytes, unpickler: unpickler, fail: fail)
            : Self.readLegacy(file.bytes, unpickler: unpickler, fail: fail)
        var entries: [String: Entry] = [:], visited = Set<ObjectIdentifier>()
        try Self.collect(Self.stateDict(root), prefix: "", into: &entries, visited: &visited, fail: fail)
        guard !entries.isEmpty else { throw fail("no tensors found (the checkpoint holds a \(root.kind))") }
        for (name, entry) in entries {
            try Self.validate(entry.view, storage: storages[entry.view.storage.key]) {
                TorchCheckpointError(file: url.path, tensor: name, $0)
            }
        }
        self.entries = entries
        self.storages = storages
        names = entries.keys.sorted()
    }

    public func info(_ name: String) -> Entry? { entries[name] }

    /// Calls `body` with a tensor's elements; a contiguous view is read in place, a strided one
    /// (a transposed or sliced tensor saved as such) is first gathered into row-major order.
    public func withElements<T>(_ name: String, _ body: (UnsafeRawBufferPointer) throws -> T) throws -> T {
        guard let view = entries[name]?.view, let range = storages[view.storage.key] else {
            throw TorchCheckpointError(file: url.path, tensor: name, "no tensor of that name")
        }
        let storage = UnsafeRawBufferPointer(rebasing: file.bytes[range])
        defer { file.release(range) }
        let size = view.storage.dtype.size, count = view.shape.reduce(1, *)
        if view.isContiguous {
            return try body(UnsafeRawBufferPointer(rebasing: storage[view.offset * size..<(view.offset + count) * size]))
        }
        var gathered = [UInt8](repeating: 0, count: count * size)
        gathered.withUnsafeMutableBytes { view.gather(from: storage, into: $0) }
        return try gathered.withUnsafeBytes(body)
    }

    // MARK: containers

    private static func isZip(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.count >= 4 && bytes.loadUnaligned(as: UInt32.self) == UInt32(0x0403_4b50).littleEndian
    }

    /// The zip form: `<name>/data.pkl`, `<name>/byteorder` (little, when present), `<name>/data/<key>`.
    private static func readZip(
        _ bytes: UnsafeRawBufferPointer, unpickler: TorchUnpickler, fail: @escaping (String) -> Error
    ) throws -> (PickleValue, [String: Range<Int>]) {
        let archive = try ZipArchive(bytes: bytes, fail: fail)
        let pickles = archive.entries.keys.filter { $0.hasSuffix("/data.pkl") && $0.filter { $0 == "/" }.count == 1 }
        guard pickles.count == 1, let pickle = pickles.first, let range = archive.entries[pickle] else {
            throw fail("a zip archive without exactly one <name>/data.pkl: not a torch.save checkpoint")
        }
        let prefix = String(pickle.dropLast("data.pkl".count))
        if let order = archive.entries[prefix + "byteorder"],
           String(decoding: bytes[order], as: UTF8.self) != "little" {
            throw fail("the checkpoint was saved big-endian; only little-endian checkpoints are read")
        }
        let (root, _) = try PickleMachine.load(UnsafeRawBufferPointer(rebasing: bytes[range]), delegate: unpickler.delegate, fail: fail)
        var storages: [String: Range<Int>] = [:]
        for (key, storage) in unpickler.storages {
            guard let data = archive.entries[prefix + "data/" + key] else { throw fail("no zip entry \(prefix)data/\(key) for storage \(key)") }
            storages[key] = try storageRange(data.lowerBound, available: data.count, storage, fail: fail)
        }
        return (root, storages)
    }

    /// The pickles `_legacy_save` writes first: the magic number (protocol 2, `LONG1` of 10 bytes).
    private static let legacyMagic: [UInt8] = [0x80, 0x02, 0x8A, 0x0A, 0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19, 0x2E]

    /// The legacy form: magic number, protocol version 1001, system info, the object, the list of
    /// storage keys, then for each key an 8-byte element count and the elements.
    private static func readLegacy(
        _ bytes: UnsafeRawBufferPointer, unpickler: TorchUnpickler, fail: @escaping (String) -> Error
    ) throws -> (PickleValue, [String: Range<Int>]) {
        guard bytes.count >= legacyMagic.count, bytes.prefix(legacyMagic.count).elementsEqual(legacyMagic) else {
            throw fail("not a PyTorch checkpoint: neither a zip archive nor a legacy torch.save file")
        }
        let plain = PickleMachine.Delegate(
            global: { throw fail("unexpected global \($0).\($1) in the checkpoint's header") },
            reduce: { callable, _ in throw fail("unexpected call of \(callable.kind) in the checkpoint's header") },
            persistentLoad: { _ in throw fail("unexpected persistent id in the checkpoint's header") })
        let version = try PickleMachine.load(bytes, from: legacyMagic.count, delegate: plain, fail: fail)
        guard case .int(1001) = version.value else { throw fail("legacy protocol version \(version.value.kind), expected 1001") }
        let info = try PickleMachine.load(bytes, from: version.end, delegate: plain, fail: fail)
        if case .dict(let system) = info.value, case .bool(false)? = system["little_endian"] {
            throw fail("the checkpoint was saved big-endian; only little-endian checkpoints are read")
        }
        let object = try PickleMachine.load(bytes, from: info.end, delegate: unpickler.delegate, fail: fail)
        let keys = try PickleMachine.load(bytes, from: object.end, delegate: plain, fail: fail)
        guard case .list(let list) = keys.value else { throw fail("the legacy storage key list is a \(keys.value.kind)") }
        var storages: [String: Range<Int>] = [:], offset = keys.end
        let reader = ByteReader(bytes: bytes, fail: fail)
        for item in list.items {
            guard case .string(let key) = item, let storage = unpickler.storages[key] else {
                throw fail("the legacy storage list names \(item.kind) that no tensor uses")
            }
            let count = try reader.int(reader.u64(try reader.checked(offset, count: 8, "size of storage \(key)")), "size of storage \(key)")
            guard count == storage.count else { throw fail("storage \(key) holds \(count) elements, its tensors say \(storage.count)") }
            let range = try storageRange(offset + 8, available: bytes.count - offset - 8, storage, fail: fail)
            storages[key] = range
            offset = range.upperBound
        }
        return (object.value, storages)
    }

    /// The bytes `storage` needs from `start`, checked against the `available` bytes.
    private static func storageRange(
        _ start: Int, available: Int, _ storage: TorchStorage, fail: (String) -> Error
    ) throws -> Range<Int> {
        let (bytes, overflow) = storage.count.multipliedReportingOverflow(by: storage.dtype.size)
        guard !overflow, bytes <= available else {
            throw fail("storage \(storage.key) needs \(storage.count) x \(storage.dtype.size) bytes, the file has \(available)")
        }
        return start..<start + bytes
    }

    // MARK: the state dict

    /// The state dict of `root`: `root["state_dict"]` as long as there is one. (The pickle machine
    /// builds no dict that holds itself, so the descent ends.)
    private static func stateDict(_ root: PickleValue) -> PickleValue {
        var current = root
        while case .dict(let dict) = current, let inner = dict["state_dict"], case .dict = inner {
            current = inner
        }
        return current
    }

    /// Every tensor of `value` under `prefix`, nested dicts flattened with `.`. A dict reached a
    /// second time (held under two keys) is refused: flattening it would take time exponential in
    /// the file's size. (The pickle machine has refused dicts that hold themselves and limited the
    /// nesting, so the recursion ends.)
    private static func collect(
        _ value: PickleValue, prefix: String, into entries: inout [String: Entry], visited: inout Set<ObjectIdentifier>,
        fail: (String) -> Error
    ) throws {
        guard case .dict(let dict) = value else { return }
        guard visited.insert(ObjectIdentifier(dict)).inserted else {
            throw fail("the dict at \"\(prefix.dropLast())\" is also held elsewhere in the checkpoint")
        }
        for (key, item) in dict.items {
            let name = prefix + key
            switch item {
            case .tensor(let view):
                guard entries[name] == nil else { throw fail("two tensors are named \"\(name)\"") }
                entries[name] = Entry(dtype: view.storage.dtype, shape: view.shape, view: view)
            case .dict: try collect(item, prefix: name + ".", into: &entries, visited: &visited, fail: fail)
            default: continue
            }
        }
    }

    /// Throws unless every element `view` addresses lies inside its storage's data.
    private static func validate(_ view: TorchTensor, storage range: Range<Int>?, fail: (String) -> Error) throws {
        guard range != nil else { throw fail("storage \(view.storage.key) has no data") }
        guard view.offset >= 0, view.shape.allSatisfy({ $0 >= 0 }), view.strides.allSatisfy({ $0 >= 0 }) else {
            throw fail("negative offset, size or stride (offset \(view.offset), size \(view.shape), stride \(view.strides))")
        }
        guard let extent = view.extent, extent <= view.storage.count else {
            throw fail("the view (offset \(view.offset), size \(view.shape), stride \(view.strides)) runs past its "
                + "\(view.storage.count)-element storage \(view.storage.key)")
        }
    }
}
