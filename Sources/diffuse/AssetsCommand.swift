import ArgumentParser
import DiffusionFormats
import DiffusionService
import Foundation

/// `diffuse assets`: the asset store that requests refer to by id.
struct AssetsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "assets",
        abstract: "Store images as assets and list them.",
        subcommands: [Add.self, List.self])

    struct Options: ParsableArguments {
        @Option(help: ArgumentHelp("The asset store (default: the package's Assets/).", valueName: "dir"))
        var assets: String = PackagePaths.defaultFolder("Assets")

        /// The store, once what writers killed earlier left in it is carried out or removed.
        var store: AssetStore {
            let store = AssetStore(url: URL(fileURLWithPath: assets, isDirectory: true))
            store.recover()
            return store
        }
    }

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Store a PNG or JPEG image as an asset (kind 'uploaded') and print its id.",
            discussion: "The image is decoded first (EXIF orientation applied) and stored as PNG; a file that is not a valid image is refused and nothing is written.")

        @Argument(help: ArgumentHelp("The image, a PNG or JPEG file.", valueName: "file"))
        var file: String

        @Flag(help: "Hide the asset from 'diffuse assets list'.")
        var hidden = false

        @OptionGroup var options: Options

        func run() throws {
            let image = try failing("cannot use '\(file)'") { try ImageDecoder.decode(contentsOf: URL(fileURLWithPath: file)) }
            let asset = try failing("cannot store '\(file)'") {
                try options.store.add(image, kind: .uploaded, metadata: AssetMetadata(name: URL(fileURLWithPath: file).lastPathComponent),
                                      hidden: hidden)
            }
            print(asset.id)
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the visible assets as JSON, oldest first.")

        @OptionGroup var options: Options

        func run() throws {
            try printJSON(try failing("cannot list the assets") { try options.store.list() })
        }
    }
}
