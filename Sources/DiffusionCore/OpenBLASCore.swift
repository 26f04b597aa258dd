/// Which OpenBLAS core type (kernel set) runs our products. OpenBLAS picks one from the CPU's
/// family and model when it loads; a release older than the CPU does not know the model and
/// falls back far below it (0.3.21 runs Emerald Rapids on its SSE3 "Prescott" kernels, a fifth
/// of the speed), so a core that lags the CPU's vector level is replaced by one that fits,
/// unless the user chose one with OPENBLAS_CORETYPE (Docs/PERFORMANCE.md, "Which sgemm runs").
public enum OpenBLASCore: Equatable, Sendable {
    /// OPENBLAS_CORETYPE is set: the library used it, and so do we.
    case userChoice(String)
    /// The library's own choice fits the CPU, or no core could do better.
    case libraryChoice
    /// The library's choice lags the CPU: it is to be loaded again with OPENBLAS_CORETYPE set to this core.
    case replace(with: String)

    /// The decision for a library that chose `libraryCore` on `cpu`, given the process's environment.
    public static func decide(cpu: CPU, libraryCore: String, environment: [String: String]) -> OpenBLASCore {
        if let forced = environment["OPENBLAS_CORETYPE"] { return .userChoice(forced) }
        // A name we do not know is a newer core than this table: trust the library.
        guard let fitting = fittingCore(for: cpu), let chosen = level(of: libraryCore), chosen < cpu.vectorLevel else {
            return .libraryChoice
        }
        return .replace(with: fitting)
    }

    /// The core to ask for on `cpu`, nil below AVX (every SSE core is within a few percent).
    /// AVX-512 asks for SkylakeX, the widest name OPENBLAS_CORETYPE accepts in every release
    /// (0.3.21 rejects "Cooperlake", whose sgemm kernels are SkylakeX's anyway).
    public static func fittingCore(for cpu: CPU) -> String? {
        switch cpu.vectorLevel {
        case .avx512: "SkylakeX"
        case .avx2: ["AuthenticAMD", "HygonGenuine"].contains(cpu.vendor) ? "Zen" : "Haswell"
        case .avx: "Sandybridge"
        case .sse: nil
        }
    }

    /// The vector level of an x86-64 core name of OpenBLAS (its `corename` table,
    /// driver/others/dynamic.c), nil for a name not in the table.
    public static func level(of core: String) -> CPU.VectorLevel? {
        coreLevels[core.lowercased()]
    }

    private static let coreLevels: [String: CPU.VectorLevel] = {
        let sse = ["Katmai", "Coppermine", "Northwood", "Prescott", "Banias", "Atom", "Core2", "Penryn", "Dunnington",
                   "Nehalem", "Athlon", "Opteron", "Opteron_SSE3", "Barcelona", "Nano", "Bobcat"]
        let avx = ["Sandybridge", "Bulldozer", "Piledriver", "Steamroller", "Excavator"]
        let levels = [(sse, CPU.VectorLevel.sse), (avx, .avx), (["Haswell", "Zen"], .avx2),
                      (["SkylakeX", "Cooperlake", "SapphireRapids"], .avx512)]
        return Dictionary(uniqueKeysWithValues: levels.flatMap { names, level in names.map { ($0.lowercased(), level) } })
    }()
}
