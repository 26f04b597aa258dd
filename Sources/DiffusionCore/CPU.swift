import CPlatform
import Foundation

/// The processor as cpuid reports it: who made it, which model it is, and the widest vector
/// instructions both it and the OS support (which OpenBLAS core fits it, Docs/PERFORMANCE.md).
public struct CPU: Equatable, Sendable, CustomStringConvertible {
    /// The widest vector instruction set usable, in increasing order.
    public enum VectorLevel: Int, Comparable, Sendable, CustomStringConvertible {
        /// SSE only (every x86-64 CPU), or a CPU that is not x86-64.
        case sse
        /// 256-bit AVX, no FMA or AVX2 (Sandy Bridge, Ivy Bridge).
        case avx
        /// AVX2 with FMA (Haswell and later Intel cores without AVX-512, AMD Zen 1-3).
        case avx2
        /// AVX-512 F, BW, DQ and VL (Skylake-X and later Xeons, AMD Zen 4 and 5).
        case avx512

        public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }

        public var description: String {
            switch self {
            case .sse: "SSE"
            case .avx: "AVX"
            case .avx2: "AVX2+FMA"
            case .avx512: "AVX-512"
            }
        }
    }

    /// cpuid's vendor string: "GenuineIntel", "AuthenticAMD", ...; empty off x86-64.
    public let vendor: String
    /// The brand string ("AMD EPYC", "INTEL(R) XEON(R) PLATINUM 8581C"); empty where the CPU has none.
    public let brand: String
    /// The display family and model, as Linux's /proc/cpuinfo prints them (6 and 207 for Emerald Rapids).
    public let family: Int
    public let model: Int
    public let vectorLevel: VectorLevel

    /// Reads the facts from `cpuid(leaf, subleaf)` and XCR0; pure, so tests can pass any CPU's registers.
    public init(cpuid: (UInt32, UInt32) -> cplatform_cpuid_registers, xcr0: UInt64) {
        let leaf0 = cpuid(0, 0), leaf1 = cpuid(1, 0)
        vendor = Self.ascii([leaf0.ebx, leaf0.edx, leaf0.ecx])
        brand = cpuid(0x8000_0000, 0).eax >= 0x8000_0004
            ? Self.ascii((UInt32(0x8000_0002)...0x8000_0004).flatMap { leaf -> [UInt32] in
                let r = cpuid(leaf, 0)
                return [r.eax, r.ebx, r.ecx, r.edx]
            })
            : ""
        // Intel's rule (also AMD's): the extended family adds to 15, the extended model prefixes
        // the model for families 6 and 15.
        let baseFamily = Int(leaf1.eax >> 8 & 0xF), baseModel = Int(leaf1.eax >> 4 & 0xF)
        family = baseFamily == 0xF ? baseFamily + Int(leaf1.eax >> 20 & 0xFF) : baseFamily
        model = baseFamily == 6 || baseFamily == 0xF ? Int(leaf1.eax >> 16 & 0xF) << 4 | baseModel : baseModel
        vectorLevel = Self.vectorLevel(leaf1: leaf1, leaf7: leaf0.eax >= 7 ? cpuid(7, 0) : cplatform_cpuid_registers(), xcr0: xcr0)
    }

    /// This machine's processor.
    public static let current = CPU(cpuid: cplatform_cpuid, xcr0: cplatform_xcr0())

    public var description: String {
        let name = brand.isEmpty ? vendor : brand
        return "\(name.isEmpty ? "unknown CPU" : name) (family \(family), model \(model), \(vectorLevel))"
    }

    /// An instruction set counts only when the OS also saves its registers (XCR0), as a
    /// hypervisor or kernel may leave AVX-512 state off on a CPU that has it.
    private static func vectorLevel(leaf1: cplatform_cpuid_registers, leaf7: cplatform_cpuid_registers, xcr0: UInt64) -> VectorLevel {
        func has(_ register: UInt32, _ bits: Int...) -> Bool { bits.allSatisfy { register >> UInt32($0) & 1 == 1 } }
        guard has(leaf1.ecx, 27, 28), xcr0 & 0b110 == 0b110 else { return .sse }  // OSXSAVE, AVX; SSE and AVX state
        guard has(leaf1.ecx, 12), has(leaf7.ebx, 5) else { return .avx }  // FMA, AVX2
        // AVX-512 F, DQ, BW, VL; opmask and both halves of the zmm state.
        guard has(leaf7.ebx, 16, 17, 30, 31), xcr0 & 0b1110_0000 == 0b1110_0000 else { return .avx2 }
        return .avx512
    }

    /// Registers read as little-endian ASCII, trailing NULs and spaces dropped.
    private static func ascii(_ registers: [UInt32]) -> String {
        let bytes = registers.flatMap { r in (0..<4).map { UInt8(truncatingIfNeeded: r >> (8 * $0)) } }
        return String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self).trimmingCharacters(in: .whitespaces)
    }
}
