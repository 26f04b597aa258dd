import DiffusionCore
import Foundation

/// The processor, the OpenBLAS core and the instruction set of our own kernels a benchmark ran on:
/// printed first, and recorded in every result, since a figure means little without them (an older
/// OpenBLAS can pick a core far below the CPU; `DIFFUSE_ISA` can pick a path below it).
enum Machine {
    /// "cpu", "cpu_family", "cpu_model", "cpu_vector_level", "blas_core", "blas_library", "isa".
    static var fields: [String: Any] {
        let cpu = CPU.current
        return ["cpu": cpu.brand.isEmpty ? cpu.vendor : cpu.brand, "cpu_family": cpu.family, "cpu_model": cpu.model,
                "cpu_vector_level": cpu.vectorLevel.description, "blas_core": OpenBLAS.library.core,
                "blas_library": OpenBLAS.library.description, "isa": ISA.selected.rawValue]
    }

    /// Prints the CPU, the BLAS core and the kernels' instruction set, one line each.
    static func announce() {
        print("cpu: \(CPU.current)")
        print("blas: \(OpenBLAS.library) from \(OpenBLAS.library.path)")
        let chosen = ProcessInfo.processInfo.environment[ISA.variable] == nil ? "the best this CPU runs" : "\(ISA.variable)"
        print("kernels: \(ISA.selected) (\(chosen); this CPU runs \(ISA.supported.map(\.rawValue).joined(separator: ", ")))")
    }
}
