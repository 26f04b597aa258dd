import CPlatform
import DiffusionCore
import Foundation
import Testing

@Suite struct CPUTests {
    /// The registers of the Zen 4 EPYC this was written on, read with cpuid (Docs/PERFORMANCE.md's machine).
    @Test func zen4FromItsOwnRegisters() {
        let leaves: [UInt32: cplatform_cpuid_registers] = [
            0: .init(eax: 0x1c, ebx: 0x6874_7541, ecx: 0x444d_4163, edx: 0x6974_6e65),
            1: .init(eax: 0x00a1_0f11, ebx: 0x0002_0800, ecx: 0xfffa_3203, edx: 0x178b_fbff),
            7: .init(eax: 1, ebx: 0xf1bf_07ab, ecx: 0x0040_5fc6, edx: 0x10),
            0x8000_0000: .init(eax: 0x8000_0021, ebx: 0, ecx: 0, edx: 0),
            0x8000_0002: .init(eax: 0x2044_4d41, ebx: 0x4359_5045, ecx: 0, edx: 0),
        ]
        let zen4 = CPU(cpuid: { leaf, subleaf in subleaf == 0 ? leaves[leaf] ?? .init() : .init() }, xcr0: 0xe7)
        #expect(zen4.vendor == "AuthenticAMD")
        #expect(zen4.brand == "AMD EPYC")
        #expect((zen4.family, zen4.model) == (25, 17))
        #expect(zen4.vectorLevel == .avx512)
        // Without the zmm state in XCR0 (a hypervisor hiding it) AVX-512 is unusable: AVX2 it is.
        #expect(CPU(cpuid: { leaf, subleaf in subleaf == 0 ? leaves[leaf] ?? .init() : .init() }, xcr0: 0x7).vectorLevel == .avx2)
    }

    @Test func familyModelAndLevelOfEachKind() {
        #expect((emeraldRapids.family, emeraldRapids.model, emeraldRapids.vectorLevel) == (6, 207, .avx512))
        #expect((raptorLake.family, raptorLake.model, raptorLake.vectorLevel) == (6, 183, .avx2))
        #expect((ivyBridge.family, ivyBridge.model, ivyBridge.vectorLevel) == (6, 58, .avx))
        #expect((nehalem.family, nehalem.model, nehalem.vectorLevel) == (6, 26, .sse))
        #expect((zen3.family, zen3.model, zen3.vectorLevel) == (25, 33, .avx2))
        #expect(emeraldRapids.description == "GenuineIntel (family 6, model 207, AVX-512)")
    }

    /// The machine running the tests: cpuid and /proc/cpuinfo must agree on family and model.
    @Test func currentMatchesProcCpuinfo() throws {
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return }
        func field(_ name: String) -> Int? {
            info.split(separator: "\n").first { $0.hasPrefix(name) }.flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) }
        }
        #expect(field("cpu family\t") == CPU.current.family)
        #expect(field("model\t") == CPU.current.model)
    }
}

@Suite struct OpenBLASCoreTests {
    private let noEnvironment: [String: String] = [:]

    /// The case: 0.3.21 falls into its Pentium 4 branch for extended model 0xC.
    @Test func emeraldRapidsOnPrescottGetsSkylakeX() {
        #expect(OpenBLASCore.decide(cpu: emeraldRapids, libraryCore: "Prescott", environment: noEnvironment) == .replace(with: "SkylakeX"))
        #expect(OpenBLASCore.decide(cpu: emeraldRapids, libraryCore: "Cooperlake", environment: noEnvironment) == .libraryChoice)
        #expect(OpenBLASCore.decide(cpu: emeraldRapids, libraryCore: "Haswell", environment: noEnvironment) == .replace(with: "SkylakeX"))
    }

    /// This machine: 0.3.21 picks Cooperlake on Zen 4, which already fits.
    @Test func zen4KeepsCooperlake() {
        let zen4 = cpu(vendor: "AuthenticAMD", leaf1: (0x00A1_0F11, avxECX | fmaECX), leaf7ebx: avx2EBX | avx512EBX, xcr0: zmmState)
        #expect(OpenBLASCore.decide(cpu: zen4, libraryCore: "Cooperlake", environment: noEnvironment) == .libraryChoice)
        #expect(OpenBLASCore.decide(cpu: zen4, libraryCore: "SkylakeX", environment: noEnvironment) == .libraryChoice)
    }

    @Test func avx2CoresGetHaswellOrZen() {
        #expect(OpenBLASCore.decide(cpu: raptorLake, libraryCore: "Prescott", environment: noEnvironment) == .replace(with: "Haswell"))
        #expect(OpenBLASCore.decide(cpu: raptorLake, libraryCore: "Haswell", environment: noEnvironment) == .libraryChoice)
        #expect(OpenBLASCore.decide(cpu: zen3, libraryCore: "Barcelona", environment: noEnvironment) == .replace(with: "Zen"))
        #expect(OpenBLASCore.decide(cpu: zen3, libraryCore: "Zen", environment: noEnvironment) == .libraryChoice)
    }

    @Test func preAVX2CPUs() {
        #expect(OpenBLASCore.decide(cpu: ivyBridge, libraryCore: "Sandybridge", environment: noEnvironment) == .libraryChoice)
        #expect(OpenBLASCore.decide(cpu: ivyBridge, libraryCore: "Nehalem", environment: noEnvironment) == .replace(with: "Sandybridge"))
        // Nothing beats an SSE core on an SSE CPU, whichever SSE core the library took.
        #expect(OpenBLASCore.decide(cpu: nehalem, libraryCore: "Prescott", environment: noEnvironment) == .libraryChoice)
    }

    @Test func theUserOverrides() {
        #expect(OpenBLASCore.decide(cpu: emeraldRapids, libraryCore: "Haswell", environment: ["OPENBLAS_CORETYPE": "Haswell"])
                == .userChoice("Haswell"))
        #expect(OpenBLASCore.decide(cpu: emeraldRapids, libraryCore: "Prescott", environment: ["OPENBLAS_CORETYPE": "prescott"])
                == .userChoice("prescott"))
    }

    /// A core newer than our table, or a non-x86 one, is the library's business.
    @Test func unknownCoresAreKept() {
        #expect(OpenBLASCore.decide(cpu: emeraldRapids, libraryCore: "NeoverseN2", environment: noEnvironment) == .libraryChoice)
        #expect(OpenBLASCore.decide(cpu: emeraldRapids, libraryCore: "unknown", environment: noEnvironment) == .libraryChoice)
        #expect(OpenBLASCore.level(of: "SAPPHIRERAPIDS") == .avx512)
    }
}

@Suite struct OpenBLASLoadingTests {
    /// The core running here fits this CPU, unless the environment forced one.
    @Test func theRunningCoreFitsThisCPU() throws {
        let library = OpenBLAS.library
        if case .userChoice = library.decision { return }
        let level = try #require(OpenBLASCore.level(of: library.core), "core \(library.core)")
        #expect(level >= CPU.current.vectorLevel || OpenBLASCore.fittingCore(for: .current) == nil)
    }

    /// The replacement path on this machine, in a child process (it unloads the library): the
    /// library is made to start on Prescott, as 0.3.21 does on Emerald Rapids, and the decision,
    /// which does not see that setting, must load it again on the core fitting this CPU; the
    /// products must then still be right and the environment as it was.
    @Test func aLaggingCoreIsReplacedBeforeUse() async {
        await #expect(processExitsWith: .success) {
            setenv("OPENBLAS_CORETYPE", "Prescott", 1)
            let library = OpenBLAS.load(cpu: .current, environment: [:])
            let fitting = OpenBLASCore.fittingCore(for: .current)
            guard library.libraryCore == "Prescott", library.core == fitting ?? "Prescott",
                  getenv("OPENBLAS_CORETYPE") == nil || fitting == nil
            else { exit(1) }
            // [[1, 2], [3, 4]] x [[5, 6], [7, 8]], by hand.
            let a: [Float] = [1, 2, 3, 4], b: [Float] = [5, 6, 7, 8]
            var c = [Float](repeating: 0, count: 4)
            cplatform_sgemm(false, false, 2, 2, 2, 1, a, 2, b, 2, 0, &c, 2)
            exit(c == [19, 22, 43, 50] ? 0 : 2)
        }
    }

    /// `BLAS.sgemm` sets OpenBLAS's thread count per product, which concurrent callers may change
    /// under each other: that is safe only because the count does not change the result. A
    /// product above `smallProduct` on one thread and on two must agree bit for bit (in a child
    /// process, since the thread count is process-wide).
    @Test func threadCountDoesNotChangeProducts() async {
        await #expect(processExitsWith: .success) {
            var random = SplitMix(seed: 7)
            let a = random.tensor([300, 200]), b = random.tensor([200, 250])
            Parallel.threadCount = 1
            let one = a.matmul(b)
            Parallel.threadCount = 2
            let two = a.matmul(b)
            exit(one.scalars == two.scalars && one.scalars.contains { $0 != 0 } ? 0 : 1)
        }
    }
}
