import CPlatform
import DiffusionCore

// CPUs of each kind, from their cpuid registers, for the tests of the decisions made from them
// (OpenBLAS's core, the kernels' instruction set).

/// A CPU from the registers of cpuid leaves 0, 1 and 7 and XCR0, as `CPU.init` reads them.
func cpu(
    vendor: String, leaf1: (eax: UInt32, ecx: UInt32), leaf7ebx: UInt32, xcr0: UInt64,
    brand: [UInt32] = []
) -> CPU {
    // The vendor string is spread over ebx, edx, ecx, four ASCII bytes each, little-endian.
    let words = stride(from: 0, to: 12, by: 4).map { start in
        Array(vendor.utf8)[start..<start + 4].enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (8 * $1.offset) }
    }
    let leaves: [UInt32: cplatform_cpuid_registers] = [
        0: .init(eax: 0x20, ebx: words[0], ecx: words[2], edx: words[1]),
        1: .init(eax: leaf1.eax, ebx: 0, ecx: leaf1.ecx, edx: 0),
        7: .init(eax: 1, ebx: leaf7ebx, ecx: 0, edx: 0),
        0x8000_0000: .init(eax: brand.isEmpty ? 0x8000_0001 : 0x8000_0004, ebx: 0, ecx: 0, edx: 0),
        0x8000_0002: .init(eax: brand.first ?? 0, ebx: brand.dropFirst().first ?? 0, ecx: 0, edx: 0),
    ]
    return CPU(cpuid: { leaf, subleaf in subleaf == 0 ? leaves[leaf] ?? .init() : .init() }, xcr0: xcr0)
}

// cpuid bits (Intel SDM vol. 2, CPUID): leaf 1 ecx FMA 12, OSXSAVE 27, AVX 28; leaf 7 ebx AVX2 5,
// AVX-512 F 16, DQ 17, BW 30, VL 31. XCR0: SSE and AVX state 0x6, opmask and zmm state 0xe0.
let avxECX: UInt32 = 1 << 27 | 1 << 28, fmaECX: UInt32 = 1 << 12
let avx2EBX: UInt32 = 1 << 5, avx512EBX: UInt32 = 1 << 16 | 1 << 17 | 1 << 30 | 1 << 31
let ymmState: UInt64 = 0x7, zmmState: UInt64 = 0xe7

/// Emerald Rapids (5th-generation Xeon, the machine): family 6, extended model 0xC, model 0xF.
let emeraldRapids = cpu(
    vendor: "GenuineIntel", leaf1: (0x000C_06F2, avxECX | fmaECX), leaf7ebx: avx2EBX | avx512EBX, xcr0: zmmState)
/// Raptor Lake (family 6, model 0xB7): AVX2 and FMA, no AVX-512; OpenBLAS 0.3.21 runs it as Prescott too.
let raptorLake = cpu(vendor: "GenuineIntel", leaf1: (0x000B_0671, avxECX | fmaECX), leaf7ebx: avx2EBX, xcr0: ymmState)
/// Ivy Bridge (family 6, model 0x3A): AVX without FMA or AVX2.
let ivyBridge = cpu(vendor: "GenuineIntel", leaf1: (0x0003_06A9, avxECX), leaf7ebx: 0, xcr0: ymmState)
/// Nehalem (family 6, model 0x1A): SSE 4.2, no AVX.
let nehalem = cpu(vendor: "GenuineIntel", leaf1: (0x0001_06A5, 0), leaf7ebx: 0, xcr0: 0)
/// Zen 3 (family 25, model 0x21): AVX2 and FMA.
let zen3 = cpu(vendor: "AuthenticAMD", leaf1: (0x00A2_0F10, avxECX | fmaECX), leaf7ebx: avx2EBX, xcr0: ymmState)
