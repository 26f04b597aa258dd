import DiffusionCore
import DiffusionFormats
import Foundation
import Testing

/// Tests/Goldens/checkpoints, made by its generate.py with the pinned reference venv.
private let checkpoints = goldens.deletingLastPathComponent().appendingPathComponent("checkpoints")

/// The safe PyTorch checkpoint reader against `torch.save`'s own files, read bit for bit.
@Suite struct TorchCheckpointTests {
    let expected: SafeTensorsFile

    init() throws {
        expected = try SafeTensorsFile(contentsOf: checkpoints.appendingPathComponent("expected.safetensors"))
    }

    /// Every tensor of the state dict (contiguous, transposed, sliced at an offset, a Parameter, a
    /// scalar, empty, nested) in both forms, with a ZIP64 directory and with pickle protocol 4, equals
    /// the contiguous copy torch wrote to safetensors: same names, dtypes, shapes and bits.
    @Test(arguments: ["state.pt", "state_legacy.pt", "state_zip64.pt", "state_protocol4.pt"])
    func readsEveryTensorExactly(file: String) throws {
        let checkpoint = try TorchCheckpoint(contentsOf: checkpoints.appendingPathComponent(file))
        #expect(checkpoint.names == expected.names)
        for name in expected.names {
            let want = try #require(expected.info(name))
            let got = try #require(checkpoint.info(name))
            #expect(got.dtype == want.dtype && got.shape == want.shape, "\(name)")
            let bytes = try checkpoint.withElements(name) { Array($0) }
            #expect(bytes == (try expected.withElements(name) { Array($0) }), "\(name)")
            #expect(try checkpoint.tensor(named: name).scalars.map(\.bitPattern)
                == (try expected.tensor(named: name)).scalars.map(\.bitPattern), "\(name)")
        }
        #expect(try checkpoint.weights(named: "model.f16").isFloat16)
        #expect(try !checkpoint.weights(named: "model.bf16").isFloat16)
    }

    /// Tensors pickled as torch before 0.4 pickled them (`_rebuild_tensor(storage, offset, size,
    /// stride)`) in the legacy form, as generate_rebuild_v1.py writes them: the values set there.
    @Test func readsTensorsOfTorchBefore04() throws {
        let checkpoint = try TorchCheckpoint(contentsOf: checkpoints.appendingPathComponent("state_rebuild_v1.pt"))
        #expect(checkpoint.names == ["bias", "weight", "weight_t"])
        #expect(try checkpoint.tensor(named: "weight").scalars == [0, 1, 2, 3, 4, 5])
        #expect(checkpoint.info("weight_t")?.shape == [3, 2])
        #expect(try checkpoint.tensor(named: "weight_t").scalars == [0, 3, 1, 4, 2, 5])
        #expect(checkpoint.info("bias")?.dtype == .f16)
        #expect(try checkpoint.tensor(named: "bias").scalars == [0.5, -1, 2])
    }

    /// A state dict pickled as Python 2 pickled an `OrderedDict` (its items as one list of pairs,
    /// an integer key among them), as generate_structures.py writes it: names in order, values set there.
    @Test func readsPython2OrderedDicts() throws {
        let checkpoint = try TorchCheckpoint(contentsOf: checkpoints.appendingPathComponent("state_py2.pt"))
        #expect(checkpoint.names == ["7", "bias", "weight"])
        #expect(try checkpoint.tensor(named: "weight").scalars == [1, 2])
        #expect(try checkpoint.tensor(named: "bias").scalars == [-3])
        #expect(try checkpoint.tensor(named: "7").scalars == [0.25])
    }

    /// A dict that holds itself (under any key, or as its own `state_dict`), written by torch.save,
    /// is refused as the pickle is read, before anything could walk it without end.
    @Test(arguments: ["recursive.pt", "recursive_state_dict.pt"])
    func refusesDictsHoldingThemselves(file: String) throws {
        let error = #expect(throws: TorchCheckpointError.self) {
            try TorchCheckpoint(contentsOf: checkpoints.appendingPathComponent(file))
        }
        let message = error?.description ?? ""
        #expect(message.contains("setitem on a dict at byte") && message.contains("already inside another container")
                && message.contains(file), "\(message)")
    }

    /// One dict held under two keys is refused naming the second, instead of being flattened twice
    /// (a chain of such dicts would take time exponential in the file's size).
    @Test func refusesADictHeldTwice() throws {
        let error = #expect(throws: TorchCheckpointError.self) {
            try TorchCheckpoint(contentsOf: checkpoints.appendingPathComponent("shared.pt"))
        }
        let message = error?.description ?? ""
        #expect(message.contains("the dict at \"b\" is also held elsewhere") && message.contains("shared.pt"), "\(message)")
    }

    /// A tensor under 65 nested dicts (torch.save's deep.pt), past the reader's limit of 64 nested
    /// containers, is refused as the pickle is read.
    @Test func refusesDeepNesting() throws {
        let error = #expect(throws: TorchCheckpointError.self) {
            try TorchCheckpoint(contentsOf: checkpoints.appendingPathComponent("deep.pt"))
        }
        #expect(error?.description.contains("containers nested more than 64 deep") == true, "\(error?.description ?? "")")
    }

    /// A hostile legacy checkpoint whose object is 100,000 tuples nested one in the next (a byte
    /// each: `EMPTY_TUPLE`, then `TUPLE1` again and again) is refused at the 64th level, where an
    /// unbounded reader would overflow the stack freeing or walking it.
    @Test func refusesATupleTowerWithoutOverflowingTheStack() throws {
        let magic: [UInt8] = [0x80, 0x02, 0x8A, 0x0A, 0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19, 0x2E]
        let version: [UInt8] = [0x80, 0x02, 0x4D, 0xE9, 0x03, 0x2E]  // 1001
        let info: [UInt8] = [0x80, 0x02, 0x7D, 0x2E]  // {}
        let tower: [UInt8] = [0x80, 0x02, 0x29] + [UInt8](repeating: 0x85, count: 100_000) + [0x2E]
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("tower-\(UUID().uuidString).pt")
        try Data(magic + version + info + tower).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let error = #expect(throws: TorchCheckpointError.self) { try TorchCheckpoint(contentsOf: url) }
        // Byte 91: after the 25 header bytes, PROTO (2 bytes) and EMPTY_TUPLE (the first level), the
        // 64th TUPLE1, whose tuple would be the 65th level.
        #expect(error?.description.contains("containers nested more than 64 deep at byte 91") == true, "\(error?.description ?? "")")
    }

    /// `TensorFiles.open` reads pickled checkpoints under every extension people use.
    @Test(arguments: ["bin", "pth", "ckpt", "pt"])
    func opensByExtension(ext: String) throws {
        let folder = try TemporaryFolder()
        let url = folder.url.appendingPathComponent("model.\(ext)")
        try FileManager.default.copyItem(at: checkpoints.appendingPathComponent("state.pt"), to: url)
        let file = try TensorFiles.open(url)
        #expect(file.names == expected.names)
        #expect(file.info("model.transposed")?.shape == [4, 3])
    }

    @Test func refusesOtherExtensions() throws {
        let error = #expect(throws: SafeTensorsError.self) { try TensorFiles.open(URL(fileURLWithPath: "/tmp/model.onnx")) }
        #expect(error?.description.contains("model.onnx") == true)
    }

    /// A pickle that calls `os.system` on load is refused at the global, naming it, in both forms.
    @Test(arguments: ["malicious.pt", "malicious_legacy.pt"])
    func refusesCodeExecution(file: String) throws {
        let error = #expect(throws: TorchCheckpointError.self) {
            try TorchCheckpoint(contentsOf: checkpoints.appendingPathComponent(file))
        }
        let message = error?.description ?? ""
        #expect(message.contains("'posix.system'") && message.contains("not allowed") && message.contains(file), "\(message)")
    }

    @Test func refusesFilesThatAreNotCheckpoints() throws {
        let folder = try TemporaryFolder()
        let url = try folder.write(Array("not a checkpoint".utf8), named: "model.bin")
        let error = #expect(throws: TorchCheckpointError.self) { try TorchCheckpoint(contentsOf: url) }
        #expect(error?.reason.contains("not a PyTorch checkpoint") == true)
    }

    /// Truncations (every third length, and the last 64 one by one) and hundreds of random byte
    /// changes: each either opens and reads, or throws; none crashes (bounds are checked before
    /// every read).
    @Test(arguments: ["state.pt", "state_legacy.pt", "state_zip64.pt", "state_rebuild_v1.pt"])
    func survivesCorruption(file: String) throws {
        let original = try [UInt8](Data(contentsOf: checkpoints.appendingPathComponent(file)))
        let folder = try TemporaryFolder()
        var random = SeededGenerator(state: 16)
        let lengths = Array(stride(from: 0, to: original.count - 64, by: 3)) + Array(original.count - 64..<original.count)
        var opened = 0
        for trial in 0..<(lengths.count + 400) {
            var bytes = original
            if trial < lengths.count {
                bytes.removeLast(original.count - lengths[trial])
            } else {
                for _ in 0..<1 + Int(random.next() % 4) {
                    bytes[Int(random.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: random.next())
                }
            }
            let url = try folder.write(bytes, named: "fuzz.pt")
            guard let checkpoint = try? TorchCheckpoint(contentsOf: url) else { continue }
            opened += 1
            for name in checkpoint.names { _ = try? checkpoint.tensor(named: name) }
        }
        // Changes inside tensor data leave the file valid: some must open, or the test tests nothing.
        #expect(opened > 20)
    }
}
