import CKernels
import Foundation

/// The instruction set the runtime's own kernels (Sources/CKernels) run with: chosen once, on
/// first use, as the best this CPU supports, or named by the `DIFFUSE_ISA` environment variable
/// so tests and benchmarks can run every path (Docs/PERFORMANCE.md, "Runtime ISA dispatch").
public enum ISA: String, CaseIterable, Sendable, CustomStringConvertible {
    /// Portable C vectors at the compiler's baseline (SSE2 on x86-64).
    case generic
    /// AVX2 with FMA.
    case avx2
    /// AVX-512 F, BW, DQ and VL.
    case avx512
    /// arm64's NEON.
    case neon

    /// The environment variable naming the path to run.
    public static let variable = "DIFFUSE_ISA"

    /// The path every operation runs unless a caller runs one with `run(_:)`.
    public static let selected: ISA = {
        do {
            return try choose(cpu: .current, environment: ProcessInfo.processInfo.environment)
        } catch {
            // A path this CPU lacks would stop later on an illegal instruction, far from the cause.
            FileHandle.standardError.write(Data("diffuse: \(error)\n".utf8))
            exit(2)
        }
    }()

    /// The paths this machine runs, best first.
    public static let supported = supported(by: .current)

    /// The paths `cpu` runs, best first: on x86-64 those at or below its vector level, on arm64
    /// NEON, and everywhere the generic one.
    public static func supported(by cpu: CPU) -> [ISA] {
        #if arch(arm64)
        return [.neon, .generic]
        #else
        switch cpu.vectorLevel {
        case .avx512: return [.avx512, .avx2, .generic]
        case .avx2: return [.avx2, .generic]
        case .avx, .sse: return [.generic]
        }
        #endif
    }

    /// `DIFFUSE_ISA` from `environment` when set (refused if `cpu` cannot run it), else the best
    /// path `cpu` supports.
    public static func choose(cpu: CPU, environment: [String: String]) throws -> ISA {
        let supported = supported(by: cpu)
        guard let name = environment[variable], !name.isEmpty else { return supported[0] }
        guard let isa = ISA(rawValue: name.lowercased()) else { throw Refusal.unknown(name: name, supported: supported) }
        guard supported.contains(isa) else { throw Refusal.unsupported(isa, cpu: cpu, supported: supported) }
        return isa
    }

    /// Runs `body` with this path's kernels in the current task (operations read the path as they
    /// start, on the calling thread); refused if this machine cannot run it.
    public func run<T>(_ body: () throws -> T) throws -> T {
        guard ISA.supported.contains(self) else { throw Refusal.unsupported(self, cpu: .current, supported: ISA.supported) }
        return try ISA.$pinned.withValue(self, operation: body)
    }

    /// The path `run(_:)` set for the current task.
    @TaskLocal static var pinned: ISA?

    /// The path to run now.
    static var current: ISA { pinned ?? selected }

    public var description: String { rawValue }

    var table: ckernels_isa {
        switch self {
        case .generic: CKERNELS_GENERIC
        case .avx2: CKERNELS_AVX2
        case .avx512: CKERNELS_AVX512
        case .neon: CKERNELS_NEON
        }
    }

    /// Why a path was not taken.
    public enum Refusal: Error, Equatable, CustomStringConvertible {
        case unknown(name: String, supported: [ISA])
        case unsupported(ISA, cpu: CPU, supported: [ISA])

        public var description: String {
            switch self {
            case .unknown(let name, let supported):
                "\(ISA.variable)=\(name) names no instruction set; this machine runs \(Self.list(supported))"
            case .unsupported(let isa, let cpu, let supported):
                "\(ISA.variable)=\(isa) cannot run on this CPU (\(cpu)); it runs \(Self.list(supported))"
            }
        }

        private static func list(_ supported: [ISA]) -> String { supported.map(\.rawValue).joined(separator: ", ") }
    }
}
