import Foundation

extension AtomicFile {
    /// Removes the temporary files in `folder` that killed writers left (`.<name>.<uuid>.tmp`,
    /// of destination `name` or of any), leaving those of live writers in this or any other
    /// process (`AbandonedFile`).
    ///
    /// - Returns: the names removed.
    @discardableResult
    public static func removeStaleTemporaries(in folder: URL, of name: String? = nil) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        let prefix = name.map { ".\($0)." } ?? "."
        return names.filter { isTemporary($0) && $0.hasPrefix(prefix) }.filter {
            guard let file = AbandonedFile(folder.appendingPathComponent($0)) else { return false }
            file.remove()
            return true
        }
    }
}
