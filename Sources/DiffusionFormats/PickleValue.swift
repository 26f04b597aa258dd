/// A value the safe unpickler (`PickleMachine`) builds: Python's plain data, plus the two
/// objects tensor storage needs. Nothing else exists, so nothing else can be built.
indirect enum PickleValue {
    case none
    case bool(Bool)
    case int(Int)
    case float(Double)
    case string(String)
    case bytes([UInt8])
    case tuple([PickleValue])
    /// Lists and dicts are references, as in Python: the memo and the stack share them.
    case list(PickleList)
    case dict(PickleDict)
    /// A `module.name` the unpickler allowed; what it means is up to `PickleMachine.Delegate`.
    case global(module: String, name: String)
    case storage(TorchStorage)
    case tensor(TorchTensor)

    /// A short description for error messages.
    var kind: String {
        switch self {
        case .none: "None"
        case .bool: "bool"
        case .int: "int"
        case .float: "float"
        case .string: "str"
        case .bytes: "bytes"
        case .tuple: "tuple"
        case .list: "list"
        case .dict: "dict"
        case .global(let module, let name): "\(module).\(name)"
        case .storage: "storage"
        case .tensor: "tensor"
        }
    }
}

final class PickleList {
    var items: [PickleValue] = []
    /// How deep containers nest in it, and whether it sits inside another container (`PickleMachine`).
    var depth = 1
    var sealed = false
}

/// A dict in insertion order (Python's and `OrderedDict`'s), keyed by `str` or `int` keys.
final class PickleDict {
    var items: [(key: String, value: PickleValue)] = []
    /// How deep containers nest in it, and whether it sits inside another container (`PickleMachine`).
    var depth = 1
    var sealed = false

    subscript(key: String) -> PickleValue? { items.last { $0.key == key }?.value }
}
