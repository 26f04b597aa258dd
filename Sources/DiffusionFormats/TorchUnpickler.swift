/// The globals and calls a `torch.save` state dict needs, and nothing else: the delegate that
/// gives `PickleMachine` its meaning for PyTorch checkpoints (the policy of torch's own
/// `weights_only` loader, narrowed to tensors).
final class TorchUnpickler {
    /// The storage classes `torch.save` names, by their element type.
    static let storageTypes: [String: SafeTensors.DType] = [
        "FloatStorage": .f32, "HalfStorage": .f16, "BFloat16Storage": .bf16, "DoubleStorage": .f64,
        "LongStorage": .i64, "IntStorage": .i32, "ShortStorage": .i16, "CharStorage": .i8,
        "ByteStorage": .u8, "BoolStorage": .bool,
    ]

    /// Callables by their `module.name`.
    private static let rebuildTensor = "torch._utils._rebuild_tensor_v2"
    /// The form torch before 0.4 pickled tensors in (`_rebuild_tensor(storage, offset, size, stride)`).
    private static let rebuildTensorV1 = "torch._utils._rebuild_tensor"
    private static let orderedDict = "collections.OrderedDict"
    private static let parameters: Set<String> = ["torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state"]

    /// Every storage a persistent id named, by key.
    private(set) var storages: [String: TorchStorage] = [:]
    private let fail: (String) -> Error

    init(fail: @escaping (String) -> Error) { self.fail = fail }

    var delegate: PickleMachine.Delegate {
        PickleMachine.Delegate(global: global, reduce: reduce, persistentLoad: persistentLoad)
    }

    private func global(_ module: String, _ name: String) throws -> PickleValue {
        let full = "\(module).\(name)"
        let allowed = full == Self.rebuildTensor || full == Self.rebuildTensorV1 || full == Self.orderedDict || Self.parameters.contains(full)
            || (module == "torch" && Self.storageTypes[name] != nil)
        guard allowed else {
            throw fail("the pickle names the global '\(full)', which is not allowed: a checkpoint may only hold "
                + "tensors (\(Self.rebuildTensor), torch.*Storage, \(Self.orderedDict)); nothing is executed")
        }
        return .global(module: module, name: name)
    }

    private func reduce(_ callable: PickleValue, _ arguments: [PickleValue]) throws -> PickleValue {
        guard case .global(let module, let name) = callable else { throw fail("the pickle calls a \(callable.kind)") }
        switch "\(module).\(name)" {
        case Self.orderedDict where arguments.isEmpty:
            return .dict(PickleDict())
        case Self.orderedDict where arguments.count == 1:
            return .dict(try dictionary(pairs: arguments[0]))
        case Self.rebuildTensor:
            return .tensor(try tensor(arguments))
        case Self.rebuildTensorV1 where arguments.count == 4:
            return .tensor(try tensor(arguments))
        case let full where Self.parameters.contains(full):
            guard case .tensor? = arguments.first else { throw fail("\(full) without a tensor") }
            return arguments[0]
        case let full:
            throw fail("the pickle calls \(full) with \(arguments.count) argument(s), which is not supported")
        }
    }

    /// `_rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])`.
    private func tensor(_ arguments: [PickleValue]) throws -> TorchTensor {
        guard arguments.count >= 4, case .storage(let storage) = arguments[0], case .int(let offset) = arguments[1],
              let shape = integers(arguments[2]), let strides = integers(arguments[3]), shape.count == strides.count
        else { throw fail("_rebuild_tensor_v2 with arguments (\(arguments.map(\.kind).joined(separator: ", ")))") }
        return TorchTensor(storage: storage, offset: offset, shape: shape, strides: strides)
    }

    /// `OrderedDict([[key, value], ...])`: how Python 2 pickled an `OrderedDict` (a state dict of
    /// torch before 1.0 saved from Python 2); keys must be `str` or `int`.
    private func dictionary(pairs: PickleValue) throws -> PickleDict {
        guard case .list(let list) = pairs else { throw fail("OrderedDict of a \(pairs.kind), not a list of pairs") }
        let dict = PickleDict()
        for item in list.items {
            let pair: [PickleValue]
            switch item {
            case .list(let items): pair = items.items
            case .tuple(let items): pair = items
            default: throw fail("OrderedDict item of type \(item.kind), not a pair")
            }
            switch (pair.count, pair.first) {
            case (2, .string(let key)?): dict.items.append((key, pair[1]))
            case (2, .int(let key)?): dict.items.append((String(key), pair[1]))
            default: throw fail("OrderedDict item of \(pair.count) values or a key of type \(pair.first?.kind ?? "none")")
            }
        }
        return dict
    }

    private func integers(_ value: PickleValue) -> [Int]? {
        guard case .tuple(let items) = value else { return nil }
        let numbers = items.compactMap { item -> Int? in if case .int(let number) = item { number } else { nil } }
        return numbers.count == items.count ? numbers : nil
    }

    /// `('storage', torch.XStorage, key, location, numel)` (plus `view_metadata`, which must be
    /// None, in the legacy form).
    private func persistentLoad(_ id: PickleValue) throws -> PickleValue {
        guard case .tuple(let items) = id, items.count == 5 || items.count == 6, case .string("storage") = items[0],
              case .global("torch", let type) = items[1], let dtype = Self.storageTypes[type],
              case .string(let key) = items[2], case .int(let count) = items[4], count >= 0
        else { throw fail("unsupported persistent id \(id.kind): expected ('storage', torch.XStorage, key, location, numel)") }
        if items.count == 6, case .none = items[5] {} else if items.count == 6 {
            throw fail("storage \(key) is a view of another storage (a pre-1.0 checkpoint form), which is not supported")
        }
        let storage = TorchStorage(key: key, dtype: dtype, count: count)
        if let known = storages[key], known.dtype != dtype || known.count != count {
            throw fail("storage \(key) is named as both \(known.dtype.rawValue)[\(known.count)] and \(dtype.rawValue)[\(count)]")
        }
        storages[key] = storage
        return .storage(storage)
    }
}
