import ArgumentParser

@main
struct DiffuseBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diffuse-bench",
        abstract: "Benchmarks of the kernels and models (release builds only).",
        subcommands: [OpsBenchmark.self, UNetBenchmark.self, GenerateBenchmark.self, DetectorsBenchmark.self])
}
