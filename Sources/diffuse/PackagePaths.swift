import Foundation

/// Where the command line's default folders are: in the package the `diffuse` binary was built
/// from (found by walking up from the executable to the folder holding Package.swift and
/// Weights/), so `Weights/` and `Assets/` mean the same folders from any working directory. A
/// binary copied elsewhere falls back to the working directory.
enum PackagePaths {
    static let root: URL? = {
        var folder = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        if let executable = Bundle.main.executableURL?.resolvingSymlinksInPath() { folder = executable.deletingLastPathComponent() }
        while folder.path != "/" {
            let manager = FileManager.default
            if manager.fileExists(atPath: folder.appendingPathComponent("Package.swift").path),
               manager.fileExists(atPath: folder.appendingPathComponent("Weights").path) {
                return folder
            }
            folder.deleteLastPathComponent()
        }
        return nil
    }()

    /// `name` in the package, else in the working directory.
    static func defaultFolder(_ name: String) -> String {
        root?.appendingPathComponent(name, isDirectory: true).path ?? name
    }
}
