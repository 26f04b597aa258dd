import DiffusionSchedulers
import Foundation
import Testing

struct SchedulerFixture: Decodable {
    struct Step: Decodable {
        let timestep: Double
        let scaled: [Double]
        let sample: [Double]
    }
    struct Case: Decodable, CustomTestStringConvertible {
        let `class`: String
        let name: String
        let config: SchedulerConfig
        let steps: Int
        let seed: UInt64
        let order: Int
        let timesteps: [Double]
        let sigmas: [Double]?
        let initNoiseSigma: Double
        let initialProbe: [Double]
        let loop: [Step]
        let final: [Double]

        var testDescription: String { "\(self.class) [\(name)]" }

        enum CodingKeys: String, CodingKey {
            case `class`, name, config, steps, seed, order, timesteps, sigmas, loop, final
            case initNoiseSigma = "init_noise_sigma", initialProbe = "initial_probe"
        }
    }
    let probes: [Int]
    let cases: [Case]

    static let shared = try! Fixtures.load(SchedulerFixture.self, "schedulers.json")
}

/// The stand-in for the UNet that generate.py uses, in the same float32 operations:
/// `x * (0.8 cos(t/300)) + sin(3x + t/100) * 0.1`, the scalars rounded to float as torch does.
func dummyModel(_ x: [Float], timestep t: Double) -> [Float] {
    let gain = Float(0.8 * cos(t / 300)), shift = Float(t / 100)
    return x.map { $0 * gain + sin($0 * 3 + shift) * Float(0.1) }
}

/// Values must agree within 1e-5 relative (plus 1e-6 absolute for values near zero). diffusers
/// runs the same float32 operations, but part of its schedule is computed by numpy and torch
/// kernels whose last bit can differ from Swift's libm and loops (torch's vectorised linspace,
/// Sleef's sin); a whole denoising loop accumulates a few such ulps, far below 1e-5.
func expectClose(_ actual: [Float], _ expected: [Double], _ what: String,
                 sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(actual.count == expected.count, "\(what): count", sourceLocation: sourceLocation)
    let worst = zip(actual, expected).map { a, e in abs(Double(a) - e) - 1e-5 * abs(e) }.max() ?? 0
    #expect(worst <= 1e-6, "\(what): \(actual.prefix(8)) vs \(expected.prefix(8))", sourceLocation: sourceLocation)
}

@Test(arguments: SchedulerFixture.shared.cases)
func schedulerMatchesDiffusers(_ golden: SchedulerFixture.Case) throws {
    let probes = SchedulerFixture.shared.probes
    var scheduler = try makeScheduler(named: golden.class, config: golden.config)
    try scheduler.setTimesteps(golden.steps)
    #expect(scheduler.order == golden.order)
    expectClose(scheduler.timesteps.map { Float($0) }, golden.timesteps, "timesteps")
    if let sigmas = golden.sigmas { expectClose(scheduler.sigmas, sigmas, "sigmas") }
    expectClose([scheduler.initNoiseSigma], [golden.initNoiseSigma], "init_noise_sigma")

    var random = TorchRandomSource(seed: golden.seed)
    let noise = random.randn(4 * 8 * 8)
    var sample = noise.map { $0 * scheduler.initNoiseSigma }
    expectClose(probes.map { sample[$0] }, golden.initialProbe, "initial latent")
    #expect(scheduler.timesteps.count == golden.loop.count)
    for (index, (t, expected)) in zip(scheduler.timesteps, golden.loop).enumerated() {
        let scaled = scheduler.scaleModelInput(sample, timestep: t)
        expectClose(probes.map { scaled[$0] }, expected.scaled, "step \(index) scaled input")
        sample = scheduler.step(modelOutput: dummyModel(scaled, timestep: t), timestep: t, sample: sample, random: &random)
        expectClose(probes.map { sample[$0] }, expected.sample, "step \(index) sample")
    }
    expectClose(sample, golden.final, "final latent")
}
