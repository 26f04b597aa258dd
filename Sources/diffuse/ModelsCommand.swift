import ArgumentParser
import DiffusionService
import Foundation

/// `diffuse models`: what the models directory holds and what is missing.
struct ModelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models",
        abstract: "List the models, ControlNets, IP-Adapters, LoRAs and detectors of a models directory.",
        discussion: """
            Each model with its family and form (a diffusers folder or a single-file checkpoint), the \
            ControlNets per family and modality with the modalities that have none, the IP-Adapters, \
            the LoRAs usable as concepts, and each modality's detector. Weights/README.md says where \
            to get what is missing.
            """)

    @Option(help: ArgumentHelp("The models directory (default: the package's Weights/).", valueName: "dir"))
    var models: String = PackagePaths.defaultFolder("Weights")

    @Flag(help: "Print the inventory as JSON.")
    var json = false

    func run() throws {
        let inventory = ModelsDirectory(url: URL(fileURLWithPath: models, isDirectory: true)).inventory()
        if json { return try printJSON(inventory) }
        var lines = ["models in \(models):"]
        lines += inventory.models.map { model in
            "  \(model.id): " + (model.problem.map { "unusable: \($0)" } ?? "\(model.family ?? "") \(model.form ?? "")")
        }
        for family in inventory.families {
            lines.append("\(family.family):")
            lines += family.controlNets.sorted { $0.key < $1.key }.map { "  ControlNet \($0.key): \($0.value)" }
            if !family.missingControlNets.isEmpty {
                lines.append("  no ControlNet for: \(family.missingControlNets.joined(separator: ", "))")
            }
            lines += family.ipAdapters.sorted { $0.key < $1.key }.map { "  IP-Adapter \($0.key): \($0.value)" }
            lines.append("  LoRAs: " + (family.loras.isEmpty ? "none" : family.loras.joined(separator: ", ")))
        }
        lines.append("detectors:")
        lines += inventory.detectors.sorted { $0.key < $1.key }.map { "  \($0.key): \($0.value)" }
        try StandardStreams.writeOutput(lines.joined(separator: "\n") + "\n")
    }
}
