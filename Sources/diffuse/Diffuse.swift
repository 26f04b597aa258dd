import ArgumentParser

/// The `diffuse` command: one subcommand per task, each in its own file.
///
/// To add one, write a `ParsableCommand` in `<Name>Command.swift` and list it in `subcommands`.
@main
struct Diffuse: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diffuse",
        abstract: "Stable Diffusion (SD1.5, SDXL) with ControlNets and IP-Adapters on the CPU.",
        discussion: """
            A pure-Swift runtime that reads diffusers-layout weights from a models directory \
            (--models, default Weights/) and matches the diffusers reference number for number. \
            Run 'diffuse help <subcommand>' for the options of each subcommand.
            """,
        subcommands: [
            GenerateCommand.self,
            ModelsCommand.self,
            AssetsCommand.self,
            DetectCommand.self,
            ServeCommand.self,
        ])
}
