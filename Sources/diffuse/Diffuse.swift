import ArgumentParser

@main
struct Diffuse: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diffuse",
        abstract: "Stable Diffusion (SD1.5, SDXL) with ControlNets and IP-Adapters on the CPU.",
        subcommands: [])
}
