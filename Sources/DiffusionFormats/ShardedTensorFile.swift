// Follows the index format of diffusers' and transformers' save_pretrained(max_shard_size=...).
import Foundation

/// The tensors of a sharded checkpoint as one file: an index (`diffusion_pytorch_model.safetensors.index.json`,
/// `model.safetensors.index.json`, `pytorch_model.bin.index.json` and their variants) whose
/// `weight_map` names, for each tensor, the shard beside it that holds it. Each shard is read as
/// its extension says (`TensorFiles.open`), mapped, not copied.
public final class ShardedTensorFile: TensorFile, @unchecked Sendable {
    public struct Entry: TensorFileEntry {
        public let dtype: SafeTensors.DType
        public let shape: [Int]
    }

    /// The index file.
    public let url: URL
    public let names: [String]
    private let shardOf: [String: any TensorFile]
    private let entries: [String: Entry]

    /// The most bytes an index may have (the largest published ones are under 200 KB).
    static let maximumIndexSize = 16 << 20

    private struct Index: Decodable {
        let weightMap: [String: String]

        enum CodingKeys: String, CodingKey { case weightMap = "weight_map" }
    }

    /// Reads the index at `url` and opens its shards.
    ///
    /// - Throws: `SafeTensorsError` of kind `.invalidIndex` naming the index for a malformed one,
    ///   a shard name that is not a plain file name beside it, or a tensor missing from its
    ///   shard; the shard's own error when a shard cannot be read.
    public init(contentsOf url: URL) throws {
        func failure(_ reason: String, tensor: String? = nil) -> SafeTensorsError {
            SafeTensorsError(.invalidIndex, file: url.path, tensor: tensor, reason)
        }
        let index: Index
        do {
            index = try JSONDecoder().decode(Index.self, from: RegularFile.read(url, maximumSize: Self.maximumIndexSize))
        } catch let error as FileReadError {
            throw SafeTensorsError(.unreadableFile, file: url.path, error.reason)
        } catch {
            throw failure("not an index of shards (a JSON object with a \"weight_map\" of tensor names to files): "
                + describeDecodingError(error))
        }
        guard !index.weightMap.isEmpty else { throw failure("its weight_map is empty") }
        var shards: [String: any TensorFile] = [:]
        for name in Set(index.weightMap.values).sorted() {
            guard !name.isEmpty, !name.contains("/"), !name.contains("\\"), name != ".", name != ".." else {
                throw failure("shard '\(name)' is not a file name beside the index")
            }
            shards[name] = try TensorFiles.open(url.deletingLastPathComponent().appendingPathComponent(name))
        }
        var shardOf: [String: any TensorFile] = [:], entries: [String: Entry] = [:]
        for (tensor, name) in index.weightMap {
            guard let shard = shards[name], let entry = shard.info(tensor) else {
                throw failure("the index puts it in \(name), which has no tensor of that name", tensor: tensor)
            }
            shardOf[tensor] = shard
            entries[tensor] = Entry(dtype: entry.dtype, shape: entry.shape)
        }
        self.url = url
        self.shardOf = shardOf
        self.entries = entries
        names = entries.keys.sorted()
    }

    public func info(_ name: String) -> Entry? { entries[name] }

    public func withElements<T>(_ name: String, _ body: (UnsafeRawBufferPointer) throws -> T) throws -> T {
        guard let shard = shardOf[name] else {
            throw SafeTensorsError(.tensorNotFound, file: url.path, tensor: name, "no tensor of that name")
        }
        return try shard.withElements(name, body)
    }
}
