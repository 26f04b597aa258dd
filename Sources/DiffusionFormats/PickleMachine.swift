import Foundation

/// A pickle interpreter for data only: the opcodes `torch.save` and plain containers use
/// (protocols 2 to 5), with every global, call and persistent id handed to a `Delegate` that
/// allows what tensor storage needs and refuses the rest. It never imports or calls anything,
/// so a hostile pickle (`os.system`, `builtins.eval`) is an error, never code execution.
///
/// Unknown opcodes are errors naming the opcode and its byte offset; so are stack underflows,
/// out-of-range memo indices and reads past the end. Work is linear in the input length.
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
    private var stack: [PickleValue] = []
    private var marks: [Int] = []
    private var memo: [Int: PickleValue] = [:]

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
                return try pop(at)
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
        case 0x4E: stack.append(.none)  // NONE
        case 0x88: stack.append(.bool(true))  // NEWTRUE
        case 0x89: stack.append(.bool(false))  // NEWFALSE
        case 0x4A: stack.append(.int(Int(Int32(bitPattern: UInt32(try unsigned(4))))))  // BININT
        case 0x4B: stack.append(.int(try unsigned(1)))  // BININT1
        case 0x4D: stack.append(.int(try unsigned(2)))  // BININT2
        case 0x8A: stack.append(.int(try long(count: try unsigned(1), at: at)))  // LONG1
        case 0x47: stack.append(.float(Double(bitPattern: UInt64(bigEndianBytes: try take(8)))))  // BINFLOAT
        case 0x58: stack.append(.string(try text(count: try unsigned(4), at: at)))  // BINUNICODE
        case 0x8C: stack.append(.string(try text(count: try unsigned(1), at: at)))  // SHORT_BINUNICODE
        case 0x8D: stack.append(.string(try text(count: try unsigned(8), at: at)))  // BINUNICODE8
        case 0x54: stack.append(.string(try text(count: try unsigned(4), at: at)))  // BINSTRING
        case 0x55: stack.append(.string(try text(count: try unsigned(1), at: at)))  // SHORT_BINSTRING
        case 0x42: stack.append(.bytes(Array(try take(try unsigned(4)))))  // BINBYTES
        case 0x43: stack.append(.bytes(Array(try take(try unsigned(1)))))  // SHORT_BINBYTES
        case 0x7D: stack.append(.dict(PickleDict()))  // EMPTY_DICT
        case 0x5D: stack.append(.list(PickleList()))  // EMPTY_LIST
        case 0x29: stack.append(.tuple([]))  // EMPTY_TUPLE
        case 0x74: stack.append(.tuple(try popMark(at)))  // TUPLE
        case 0x85: stack.append(.tuple(try pop(1, at)))  // TUPLE1
        case 0x86: stack.append(.tuple(try pop(2, at)))  // TUPLE2
        case 0x87: stack.append(.tuple(try pop(3, at)))  // TUPLE3
        case 0x6C: let list = PickleList(); list.items = try popMark(at); stack.append(.list(list))  // LIST
        case 0x64: let dict = PickleDict(); try insert(try popMark(at), into: dict, at: at); stack.append(.dict(dict))  // DICT
        case 0x61: let value = try pop(at); try list(at).items.append(value)  // APPEND
        case 0x65: let items = try popMark(at); try list(at).items.append(contentsOf: items)  // APPENDS
        case 0x73: let pair = try pop(2, at); try insert(pair, into: try dict(at), at: at)  // SETITEM
        case 0x75: let items = try popMark(at); try insert(items, into: try dict(at), at: at)  // SETITEMS
        case 0x71: memo[try unsigned(1)] = try top(at)  // BINPUT
        case 0x72: memo[try unsigned(4)] = try top(at)  // LONG_BINPUT
        case 0x94: memo[memo.count] = try top(at)  // MEMOIZE
        case 0x68: stack.append(try memoValue(try unsigned(1), at))  // BINGET
        case 0x6A: stack.append(try memoValue(try unsigned(4), at))  // LONG_BINGET
        case 0x63: stack.append(try delegate.global(try line(at), try line(at)))  // GLOBAL
        case 0x93: try stackGlobal(at)  // STACK_GLOBAL
        case 0x52: try reduce(at)  // REDUCE
        case 0x62: try build(at)  // BUILD
        case 0x51: stack.append(try delegate.persistentLoad(try pop(at)))  // BINPERSID
        default:
            throw reader.fail("unsupported pickle opcode 0x\(String(opcode, radix: 16)) at byte \(at)")
        }
    }

    private mutating func stackGlobal(_ at: Int) throws {
        let names = try pop(2, at)
        guard case .string(let module) = names[0], case .string(let name) = names[1] else {
            throw reader.fail("STACK_GLOBAL at byte \(at) wants two strings")
        }
        stack.append(try delegate.global(module, name))
    }

    private mutating func reduce(_ at: Int) throws {
        let pair = try pop(2, at)
        guard case .tuple(let arguments) = pair[1] else {
            throw reader.fail("REDUCE at byte \(at): arguments are a \(pair[1].kind), not a tuple")
        }
        stack.append(try delegate.reduce(pair[0], arguments))
    }

    /// `BUILD` sets an object's state; only a dict's (an `OrderedDict`'s `_metadata`) is accepted,
    /// and dropped: it describes module versions, not tensors.
    private mutating func build(_ at: Int) throws {
        let state = try pop(at)
        guard case .dict = try top(at) else {
            throw reader.fail("BUILD at byte \(at) sets the state (\(state.kind)) of a \(try top(at).kind); only dicts are allowed")
        }
    }

    // MARK: stack

    private mutating func pop(_ at: Int) throws -> PickleValue { try pop(1, at)[0] }

    private mutating func pop(_ count: Int, _ at: Int) throws -> [PickleValue] {
        guard stack.count - (marks.last ?? 0) >= count else { throw reader.fail("pickle stack underflow at byte \(at)") }
        defer { stack.removeLast(count) }
        return Array(stack.suffix(count))
    }

    private func top(_ at: Int) throws -> PickleValue {
        guard let value = stack.last, stack.count > (marks.last ?? 0) else { throw reader.fail("pickle stack underflow at byte \(at)") }
        return value
    }

    private mutating func popMark(_ at: Int) throws -> [PickleValue] {
        guard let mark = marks.popLast() else { throw reader.fail("pickle opcode at byte \(at) needs a MARK") }
        defer { stack.removeLast(stack.count - mark) }
        return Array(stack[mark...])
    }

    private func list(_ at: Int) throws -> PickleList {
        guard case .list(let list) = try top(at) else { throw reader.fail("append at byte \(at) to a \(try top(at).kind)") }
        return list
    }

    private func dict(_ at: Int) throws -> PickleDict {
        guard case .dict(let dict) = try top(at) else { throw reader.fail("setitem at byte \(at) on a \(try top(at).kind)") }
        return dict
    }

    /// Adds key-value pairs (`items` alternates them) to `dict`; keys must be `str` or `int`.
    private func insert(_ items: [PickleValue], into dict: PickleDict, at: Int) throws {
        guard items.count % 2 == 0 else { throw reader.fail("odd number of dict items at byte \(at)") }
        for index in stride(from: 0, to: items.count, by: 2) {
            switch items[index] {
            case .string(let key): dict.items.append((key, items[index + 1]))
            case .int(let key): dict.items.append((String(key), items[index + 1]))
            default: throw reader.fail("dict key of type \(items[index].kind) at byte \(at)")
            }
        }
    }

    private func memoValue(_ index: Int, _ at: Int) throws -> PickleValue {
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
