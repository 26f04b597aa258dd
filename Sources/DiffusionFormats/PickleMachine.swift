import Foundation

/// A pickle interpreter for data only: the opcodes `torch.save` and plain containers use
/// (protocols 2 to 5), with every global, call and persistent id handed to a `Delegate` that
/// allows what tensor storage needs and refuses the rest. It never imports or calls anything,
/// so a hostile pickle (`os.system`, `builtins.eval`) is an error, never code execution.
///
/// Unknown opcodes are errors naming the opcode and its byte offset; so are stack underflows,
/// out-of-range memo indices and reads past the end. Work is linear in the input length.
///
/// Containers nest at most `maxNesting` deep: freeing (or walking) a value recurses once per
/// level, so a hostile pickle of a hundred thousand nested tuples (a byte each) would overflow the
/// stack. To keep each container's depth exact, a list or dict is sealed once it is placed inside
/// another container and may not grow after: `pickle` writes a container's items before placing
/// it, so only a recursive structure (a list holding itself) breaks that rule.
struct PickleMachine {
    struct Delegate {
        /// `GLOBAL module name`: the value standing for it, or an error naming it.
        var global: (String, String) throws -> PickleValue
        /// `REDUCE`: the result of calling `callable` with `arguments`, or an error.
        var reduce: (_ callable: PickleValue, _ arguments: [PickleValue]) throws -> PickleValue
        /// `BINPERSID`: the object a persistent id stands for.
        var persistentLoad: (PickleValue) throws -> PickleValue
    }

    private let reader: ByteReader
    private let delegate: Delegate
    private var position: Int
    private var stack: [Entry] = []
    private var marks: [Int] = []
    private var memo: [Int: Entry] = [:]

    /// Torch checkpoints nest a few levels (a state dict in a dict, a tensor's argument tuples).
    static let maxNesting = 64

    /// A stack or memo value and how deep its containers nest (0 for a scalar); a list's or
    /// dict's own depth lives in its object, which can still grow while it is unsealed.
    private struct Entry {
        var value: PickleValue
        var depth = 0

        var nesting: Int {
            switch value {
            case .list(let list): list.depth
            case .dict(let dict): dict.depth
            default: depth
            }
        }
    }

    /// Runs the pickle starting at byte `start` of `bytes` until `STOP`; returns its value and
    /// the offset just past `STOP` (where a following pickle or data begins).
    static func load(
        _ bytes: UnsafeRawBufferPointer, from start: Int = 0, delegate: Delegate, fail: @escaping (String) -> Error
    ) throws -> (value: PickleValue, end: Int) {
        var machine = PickleMachine(reader: ByteReader(bytes: bytes, fail: fail), delegate: delegate, position: start)
        let value = try machine.run()
        return (value, machine.position)
    }

    private init(reader: ByteReader, delegate: Delegate, position: Int) {
        self.reader = reader
        self.delegate = delegate
        self.position = position
    }

    private mutating func run() throws -> PickleValue {
        while true {
            let at = position
            let opcode = try byte()
            if opcode == 0x2E {  // STOP
                return try pop(at).value
            }
            try execute(opcode, at: at)
        }
    }

    // swiftlint:disable:next cyclomatic_complexity function_body_length
    private mutating func execute(_ opcode: UInt8, at: Int) throws {
        switch opcode {
        case 0x80: _ = try byte()  // PROTO
        case 0x95: _ = try take(8)  // FRAME: framing only
        case 0x28: marks.append(stack.count)  // MARK
        case 0x30: _ = try pop(at)  // POP
        case 0x31: _ = try popMark(at)  // POP_MARK
        case 0x32: stack.append(try top(at))  // DUP
        case 0x4E: push(.none)  // NONE
        case 0x88: push(.bool(true))  // NEWTRUE
        case 0x89: push(.bool(false))  // NEWFALSE
        case 0x4A: push(.int(Int(Int32(bitPattern: UInt32(try unsigned(4))))))  // BININT
        case 0x4B: push(.int(try unsigned(1)))  // BININT1
        case 0x4D: push(.int(try unsigned(2)))  // BININT2
        case 0x8A: push(.int(try long(count: try unsigned(1), at: at)))  // LONG1
        case 0x47: push(.float(Double(bitPattern: UInt64(bigEndianBytes: try take(8)))))  // BINFLOAT
        case 0x58: push(.string(try text(count: try unsigned(4), at: at)))  // BINUNICODE
        case 0x8C: push(.string(try text(count: try unsigned(1), at: at)))  // SHORT_BINUNICODE
        case 0x8D: push(.string(try text(count: try unsigned(8), at: at)))  // BINUNICODE8
        case 0x54: push(.string(try text(count: try unsigned(4), at: at)))  // BINSTRING
        case 0x55: push(.string(try text(count: try unsigned(1), at: at)))  // SHORT_BINSTRING
        case 0x42: push(.bytes(Array(try take(try unsigned(4)))))  // BINBYTES
        case 0x43: push(.bytes(Array(try take(try unsigned(1)))))  // SHORT_BINBYTES
        case 0x7D: push(.dict(PickleDict()))  // EMPTY_DICT
        case 0x5D: push(.list(PickleList()))  // EMPTY_LIST
        case 0x29: push(.tuple([]), depth: 1)  // EMPTY_TUPLE
        case 0x74: try tuple(try popMark(at), at)  // TUPLE
        case 0x85: try tuple(try pop(1, at), at)  // TUPLE1
        case 0x86: try tuple(try pop(2, at), at)  // TUPLE2
        case 0x87: try tuple(try pop(3, at), at)  // TUPLE3
        case 0x6C: let list = PickleList(); try append(try popMark(at), to: list, at); push(.list(list))  // LIST
        case 0x64: let dict = PickleDict(); try insert(try popMark(at), into: dict, at: at); push(.dict(dict))  // DICT
        case 0x61: let value = try pop(1, at); try append(value, to: try list(at), at)  // APPEND
        case 0x65: let items = try popMark(at); try append(items, to: try list(at), at)  // APPENDS
        case 0x73: let pair = try pop(2, at); try insert(pair, into: try dict(at), at: at)  // SETITEM
        case 0x75: let items = try popMark(at); try insert(items, into: try dict(at), at: at)  // SETITEMS
        case 0x71: memo[try unsigned(1)] = try top(at)  // BINPUT
        case 0x72: memo[try unsigned(4)] = try top(at)  // LONG_BINPUT
        case 0x94: memo[memo.count] = try top(at)  // MEMOIZE
        case 0x68: stack.append(try memoValue(try unsigned(1), at))  // BINGET
        case 0x6A: stack.append(try memoValue(try unsigned(4), at))  // LONG_BINGET
        case 0x63: push(try delegate.global(try line(at), try line(at)))  // GLOBAL
        case 0x93: try stackGlobal(at)  // STACK_GLOBAL
        case 0x52: try reduce(at)  // REDUCE
        case 0x62: try build(at)  // BUILD
        case 0x51: push(try delegate.persistentLoad(try pop(at).value))  // BINPERSID
        default:
            throw reader.fail("unsupported pickle opcode 0x\(String(opcode, radix: 16)) at byte \(at)")
        }
    }

    private mutating func stackGlobal(_ at: Int) throws {
        let names = try pop(2, at)
        guard case .string(let module) = names[0].value, case .string(let name) = names[1].value else {
            throw reader.fail("STACK_GLOBAL at byte \(at) wants two strings")
        }
        push(try delegate.global(module, name))
    }

    /// The result is made of the arguments' values, so it nests no deeper than their tuple.
    private mutating func reduce(_ at: Int) throws {
        let pair = try pop(2, at)
        guard case .tuple(let arguments) = pair[1].value else {
            throw reader.fail("REDUCE at byte \(at): arguments are a \(pair[1].value.kind), not a tuple")
        }
        let result = try delegate.reduce(pair[0].value, arguments)
        let depth = pair[1].nesting
        switch result {
        case .list(let list): list.depth = max(list.depth, depth)
        case .dict(let dict): dict.depth = max(dict.depth, depth)
        default: break
        }
        push(result, depth: depth)
    }

    /// `BUILD` sets an object's state; only a dict's (an `OrderedDict`'s `_metadata`) is accepted,
    /// and dropped: it describes module versions, not tensors.
    private mutating func build(_ at: Int) throws {
        let state = try pop(at).value
        guard case .dict = try top(at).value else {
            throw reader.fail("BUILD at byte \(at) sets the state (\(state.kind)) of a \(try top(at).value.kind); only dicts are allowed")
        }
    }

    // MARK: stack

    private mutating func push(_ value: PickleValue, depth: Int = 0) { stack.append(Entry(value: value, depth: depth)) }

    private mutating func pop(_ at: Int) throws -> Entry { try pop(1, at)[0] }

    private mutating func pop(_ count: Int, _ at: Int) throws -> [Entry] {
        guard stack.count - (marks.last ?? 0) >= count else { throw reader.fail("pickle stack underflow at byte \(at)") }
        defer { stack.removeLast(count) }
        return Array(stack.suffix(count))
    }

    private func top(_ at: Int) throws -> Entry {
        guard let value = stack.last, stack.count > (marks.last ?? 0) else { throw reader.fail("pickle stack underflow at byte \(at)") }
        return value
    }

    private mutating func popMark(_ at: Int) throws -> [Entry] {
        guard let mark = marks.popLast() else { throw reader.fail("pickle opcode at byte \(at) needs a MARK") }
        defer { stack.removeLast(stack.count - mark) }
        return Array(stack[mark...])
    }

    private func list(_ at: Int) throws -> PickleList {
        guard case .list(let list) = try top(at).value else { throw reader.fail("append at byte \(at) to a \(try top(at).value.kind)") }
        return list
    }

    private func dict(_ at: Int) throws -> PickleDict {
        guard case .dict(let dict) = try top(at).value else { throw reader.fail("setitem at byte \(at) on a \(try top(at).value.kind)") }
        return dict
    }

    // MARK: nesting

    /// Seals the lists and dicts among `items`, which are being placed inside a container, and
    /// returns that container's depth.
    private func place(_ items: [Entry], _ at: Int) throws -> Int {
        var deepest = 0
        for item in items {
            switch item.value {
            case .list(let list): list.sealed = true
            case .dict(let dict): dict.sealed = true
            default: break
            }
            deepest = max(deepest, item.nesting)
        }
        guard deepest < Self.maxNesting else {
            throw reader.fail("containers nested more than \(Self.maxNesting) deep at byte \(at)")
        }
        return deepest + 1
    }

    private mutating func tuple(_ items: [Entry], _ at: Int) throws {
        let depth = try place(items, at)
        push(.tuple(items.map(\.value)), depth: depth)
    }

    private func append(_ items: [Entry], to list: PickleList, _ at: Int) throws {
        let depth = try place(items, at)
        guard !list.sealed else { throw reader.fail(Self.sealedMessage("append to a list", at)) }
        list.items.append(contentsOf: items.map(\.value))
        list.depth = max(list.depth, depth)
    }

    /// Adds key-value pairs (`items` alternates them) to `dict`; keys must be `str` or `int`.
    private func insert(_ items: [Entry], into dict: PickleDict, at: Int) throws {
        guard items.count % 2 == 0 else { throw reader.fail("odd number of dict items at byte \(at)") }
        let depth = try place(items, at)
        guard !dict.sealed else { throw reader.fail(Self.sealedMessage("setitem on a dict", at)) }
        for index in stride(from: 0, to: items.count, by: 2) {
            switch items[index].value {
            case .string(let key): dict.items.append((key, items[index + 1].value))
            case .int(let key): dict.items.append((String(key), items[index + 1].value))
            default: throw reader.fail("dict key of type \(items[index].value.kind) at byte \(at)")
            }
        }
        dict.depth = max(dict.depth, depth)
    }

    private static func sealedMessage(_ what: String, _ at: Int) -> String {
        "\(what) at byte \(at) that is already inside another container (a recursive structure, which a checkpoint never holds)"
    }

    private func memoValue(_ index: Int, _ at: Int) throws -> Entry {
        guard let value = memo[index] else { throw reader.fail("memo index \(index) at byte \(at) was never stored") }
        return value
    }

    // MARK: reading

    private mutating func take(_ count: Int) throws -> UnsafeRawBufferPointer.SubSequence {
        let start = try reader.checked(position, count: count, "pickle argument")
        position += count
        return reader.bytes[start..<start + count]
    }

    private mutating func byte() throws -> UInt8 { try take(1).first ?? 0 }

    /// A little-endian unsigned integer of `count` (1, 2, 4 or 8) bytes.
    private mutating func unsigned(_ count: Int) throws -> Int {
        let bytes = try take(count)
        let value = bytes.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        return try reader.int(value, "pickle integer")
    }

    /// `LONG1`'s little-endian two's-complement integer; longer than 8 bytes is refused.
    private mutating func long(count: Int, at: Int) throws -> Int {
        guard count <= 8 else { throw reader.fail("integer of \(count) bytes at byte \(at) is too large") }
        let bytes = try take(count)
        guard let last = bytes.last else { return 0 }
        let fill: UInt64 = last & 0x80 != 0 ? ~0 : 0
        let value = bytes.reversed().reduce(fill) { $0 << 8 | UInt64($1) }
        return Int(Int64(bitPattern: value))
    }

    private mutating func text(count: Int, at: Int) throws -> String {
        guard let text = String(validating: try take(count), as: UTF8.self) else {
            throw reader.fail("string at byte \(at) is not UTF-8")
        }
        return text
    }

    /// A newline-terminated line (`GLOBAL`'s module and name).
    private mutating func line(_ at: Int) throws -> String {
        guard let newline = reader.bytes[position...].firstIndex(of: 0x0A) else {
            throw reader.fail("unterminated GLOBAL at byte \(at)")
        }
        let count = newline - position
        defer { position += 1 }
        return try text(count: count, at: at)
    }
}

extension UInt64 {
    init(bigEndianBytes bytes: UnsafeRawBufferPointer.SubSequence) {
        self = bytes.reduce(0) { $0 << 8 | UInt64($1) }
    }
}
