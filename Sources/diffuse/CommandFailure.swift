import Foundation

/// An error of `diffuse` with the whole message for the user; ArgumentParser prints it to
/// standard error as `Error: <message>` and exits with status 1.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) { self.description = description }
}

/// Runs `body`, turning any error into a `CommandFailure` that says `context: <error>`.
func failing<T>(_ context: String, _ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as CocoaError {
        // Foundation's file errors describe themselves only through localizedDescription.
        throw CommandFailure("\(context): \(error.localizedDescription)")
    } catch {
        throw CommandFailure("\(context): \(error)")
    }
}

/// What stops `path` from being used as a file (or a folder, if `expectingFolder`), or nil.
func pathProblem(_ path: String, expectingFolder: Bool) -> String? {
    var isFolder: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
        return expectingFolder ? "no such folder" : "no such file"
    }
    switch (isFolder.boolValue, expectingFolder) {
    case (true, false): return "it is a folder, not a file"
    case (false, true): return "it is a file, not a folder"
    case (false, false):
        // A FIFO or device would block the read or never end.
        let type = (try? FileManager.default.attributesOfItem(atPath: path)[.type]) as? FileAttributeType
        return type == .typeRegular ? nil : "it is not a regular file"
    default: return nil
    }
}
