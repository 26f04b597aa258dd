import DiffusionCore

/// The processor and the OpenBLAS core a benchmark ran on: printed first, and recorded in every
/// result, since a figure means little without them (an older OpenBLAS can pick a core far below the CPU).
enum Machine {
    /// "cpu", "cpu_family", "cpu_model", "cpu_vector_level", "blas_core", "blas_library".
    static var fields: [String: Any] {
        let cpu = CPU.current
        return ["cpu": cpu.brand.isEmpty ? cpu.vendor : cpu.brand, "cpu_family": cpu.family, "cpu_model": cpu.model,
                "cpu_vector_level": cpu.vectorLevel.description, "blas_core": OpenBLAS.library.core,
                "blas_library": OpenBLAS.library.description]
    }

    /// Prints the CPU and the BLAS core, one line each.
    static func announce() {
        print("cpu: \(CPU.current)")
        print("blas: \(OpenBLAS.library) from \(OpenBLAS.library.path)")
    }
}
