import CKernels
import DiffusionCore
import Foundation
import Testing

@Suite struct ISATests {
    /// Every path at or below the CPU's vector level, best first; the generic one everywhere.
    @Test func pathsOfEachKindOfCPU() {
        #if arch(x86_64)
        #expect(ISA.supported(by: emeraldRapids) == [.avx512, .avx2, .generic])
        #expect(ISA.supported(by: raptorLake) == [.avx2, .generic])
        #expect(ISA.supported(by: zen3) == [.avx2, .generic])
        #expect(ISA.supported(by: ivyBridge) == [.generic])
        #expect(ISA.supported(by: nehalem) == [.generic])
        #endif
    }

    /// This machine's paths all have a table built for them, named as the path; the tests below and
    /// the goldens (`AttentionTests` and others, one run per path) exercise each of them.
    @Test func thisMachineBuildsEveryPathItRuns() throws {
        #expect(ISA.supported == ISA.supported(by: .current))
        #expect(ISA.supported.last == .generic)
        #if arch(x86_64)
        // The machine this was written on (Zen 4) runs all three x86-64 paths.
        if CPU.current.vectorLevel == .avx512 { #expect(ISA.supported == [.avx512, .avx2, .generic]) }
        #endif
        for isa in ISA.supported {
            let table = try #require(kernelTable(isa), "\(isa) has no table")
            #expect(String(cString: table.pointee.name) == isa.rawValue)
        }
    }

    @Test func theEnvironmentNamesThePath() throws {
        #expect(try ISA.choose(cpu: emeraldRapids, environment: [:]) == .avx512)
        #expect(try ISA.choose(cpu: emeraldRapids, environment: ["DIFFUSE_ISA": ""]) == .avx512)
        #expect(try ISA.choose(cpu: emeraldRapids, environment: ["DIFFUSE_ISA": "avx2"]) == .avx2)
        #expect(try ISA.choose(cpu: emeraldRapids, environment: ["DIFFUSE_ISA": "Generic"]) == .generic)
        #expect(try ISA.choose(cpu: raptorLake, environment: [:]) == .avx2)
        #expect(try ISA.choose(cpu: nehalem, environment: [:]) == .generic)
    }

    /// A path the CPU lacks, or a name that is none, is refused with a message naming the
    /// variable and the paths the CPU runs.
    @Test func aPathTheCPULacksIsRefused() {
        #if arch(x86_64)
        #expect(throws: ISA.Refusal.unsupported(.avx512, cpu: raptorLake, supported: [.avx2, .generic])) {
            try ISA.choose(cpu: raptorLake, environment: ["DIFFUSE_ISA": "avx512"])
        }
        #expect(throws: ISA.Refusal.unsupported(.neon, cpu: emeraldRapids, supported: [.avx512, .avx2, .generic])) {
            try ISA.choose(cpu: emeraldRapids, environment: ["DIFFUSE_ISA": "neon"])
        }
        #expect(throws: ISA.Refusal.unsupported(.avx2, cpu: ivyBridge, supported: [.generic])) {
            try ISA.choose(cpu: ivyBridge, environment: ["DIFFUSE_ISA": "avx2"])
        }
        #expect(ISA.Refusal.unsupported(.avx512, cpu: raptorLake, supported: [.avx2, .generic]).description
            == "DIFFUSE_ISA=avx512 cannot run on this CPU (GenuineIntel (family 6, model 183, AVX2+FMA)); it runs avx2, generic")
        #endif
        #expect(throws: ISA.Refusal.unknown(name: "sse9", supported: [.avx512, .avx2, .generic])) {
            try ISA.choose(cpu: emeraldRapids, environment: ["DIFFUSE_ISA": "sse9"])
        }
    }

    /// Tests run a path with `run`; one this machine lacks is refused before any kernel runs.
    @Test func runRefusesAPathThisMachineLacks() throws {
        let lacking = ISA.allCases.filter { !ISA.supported.contains($0) }
        for isa in lacking {
            #expect(throws: ISA.Refusal.self) { try isa.run {} }
        }
        for isa in ISA.supported { #expect(try isa.run { 1 } == 1) }
    }

    /// In a process whose `DIFFUSE_ISA` names a path this CPU lacks, the first operation stops it
    /// with exit status 2 and the refusal on stderr, rather than an illegal instruction later.
    @Test func anUnsupportedOverrideStopsTheProcessWithAMessage() async throws {
        guard let lacking = ISA.allCases.first(where: { !ISA.supported.contains($0) }) else { return }
        let result = await #expect(processExitsWith: .exitCode(2), observing: [\.standardErrorContent]) {
            setenv("DIFFUSE_ISA", ISA.allCases.first { !ISA.supported.contains($0) }!.rawValue, 1)
            _ = Tensor(shape: [1, 2], values: [1, 2]).softmax()
        }
        let message = String(decoding: try #require(result).standardErrorContent, as: UTF8.self)
        #expect(message.contains("DIFFUSE_ISA=\(lacking) cannot run on this CPU"), "\(message)")
    }

    /// A supported override is the path every operation then runs.
    @Test func aSupportedOverrideIsTaken() async {
        await #expect(processExitsWith: .success) {
            setenv("DIFFUSE_ISA", "generic", 1)
            let y = Tensor(shape: [1, 2], values: [0, 0]).softmax()
            exit(ISA.selected == .generic && y.scalars == [0.5, 0.5] ? 0 : 1)
        }
    }
}
