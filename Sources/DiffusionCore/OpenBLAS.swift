import CPlatform
import Foundation

/// OpenBLAS, loaded on the first product instead of linked: its constructor reads the
/// OPENBLAS_* environment variables, so loading it ourselves lets us replace a core that lags
/// the CPU (`OpenBLASCore`) before any product runs (Docs/PERFORMANCE.md, "Which sgemm runs").
public enum OpenBLAS {
    /// The loaded library: the core that runs the products and how it was chosen.
    public struct Library: Sendable, CustomStringConvertible {
        /// The core running now ("Cooperlake", "SkylakeX", "Haswell", ...).
        public let core: String
        /// The core the library chose by itself on its first load.
        public let libraryCore: String
        public let decision: OpenBLASCore
        /// The file loaded, "libopenblas.so.0" when the loader does not say.
        public let path: String
        /// The threads it started with: OPENBLAS_NUM_THREADS if set, else the cores. Large
        /// products run on at most this many, small ones on one (`BLAS.sgemm`).
        public let threads: Int

        public var description: String {
            switch decision {
            case .libraryChoice: "OpenBLAS \(core) (the library's choice)"
            case .userChoice(let forced): "OpenBLAS \(core) (OPENBLAS_CORETYPE=\(forced))"
            case .replace: "OpenBLAS \(core) (the library chose \(libraryCore), below this CPU)"
            }
        }
    }

    /// Loaded once, on first use; a missing library stops the process with the loader's message.
    public static let library: Library = load(cpu: .current, environment: ProcessInfo.processInfo.environment)

    /// Loads the library and replaces its core if `OpenBLASCore` says so; `environment` is what
    /// the decisions see. `library` calls it once; tests call it in a child process, with the
    /// environment they mean the decisions to see.
    public static func load(cpu: CPU, environment: [String: String]) -> Library {
        // OpenBLAS's idle workers spin on sched_yield for 2^28 cycles (73 ms at 3.7 GHz) after
        // each product, taking a core from our own workers; 2^4 sends them to sleep at once
        // (Docs/PERFORMANCE.md, "Threads"). Like the core, it is read only at initialization.
        let timeout = environment["OPENBLAS_THREAD_TIMEOUT"] == nil ? "4" : nil
        return withVariables(["OPENBLAS_THREAD_TIMEOUT": timeout]) {
            open()
            let libraryCore = currentCore()
            let decision = OpenBLASCore.decide(cpu: cpu, libraryCore: libraryCore, environment: environment)
            if case .replace(let core) = decision {
                // A fresh copy of the library reads the variable again as it initializes.
                cplatform_openblas_close()
                withVariables(["OPENBLAS_CORETYPE": core], open)
            }
            let path = cplatform_openblas_path().map { String(cString: $0) } ?? "libopenblas.so.0"
            return Library(core: currentCore(), libraryCore: libraryCore, decision: decision, path: path,
                           threads: Int(cplatform_openblas_initial_threads()))
        }
    }

    /// Runs `body` with the non-nil `variables` set in the process environment, then removes
    /// them, so that the environment stays as the user gave it.
    private static func withVariables<T>(_ variables: [String: String?], _ body: () -> T) -> T {
        let set = variables.compactMapValues { $0 }
        for (name, value) in set { setenv(name, value, 1) }
        defer { for name in set.keys { unsetenv(name) } }
        return body()
    }

    private static func open() {
        if let error = cplatform_openblas_open() { fatalError(String(cString: error)) }
    }

    private static func currentCore() -> String {
        cplatform_openblas_core().map { String(cString: $0) } ?? "unknown"
    }
}
