// Follows diffusers/schedulers/scheduling_pndm.py.
import Foundation

/// Matches diffusers' `PNDMScheduler`: pseudo linear multistep (PLMS) steps of up to fourth
/// order, warmed up either by PLMS itself (`skip_prk_steps = true`, how every Stable Diffusion
/// config ships it) or, the class default, by three pseudo Runge-Kutta steps of four model calls
/// each. Honours beta schedules, trained betas, prediction_type (epsilon, v_prediction),
/// timestep_spacing, steps_offset, set_alpha_to_one and skip_prk_steps.
public struct PNDMScheduler: Scheduler {
    public let name = "PNDMScheduler"
    public let order = 1
    public private(set) var timesteps: [Double] = []
    public let sigmas: [Float] = []
    public let initNoiseSigma: Float = 1

    private let noise: NoiseSchedule
    private let finalAlphaCumprod: Float
    private let predictsVelocity: Bool
    private let spacing: String
    private let stepsOffset: Int
    private let skipsRungeKutta: Bool
    /// The 12 timesteps of the Runge-Kutta warm-up, or none.
    private var rungeKuttaTimesteps: [Int] = []
    /// The warm-up step's weighted sum of model outputs, and the sample it started from.
    private var rungeKuttaOutput: [Float] = []
    private var rungeKuttaSample: [Float] = []
    private var stride = 1
    private var counter = 0
    /// The last four model outputs (as epsilon) and the sample the first step started from.
    private var ets: [[Float]] = []
    private var firstSample: [Float] = []

    public init(config: SchedulerConfig) throws {
        noise = try NoiseSchedule(name, config: config, defaults: .init(hasZeroSnrOption: false))
        finalAlphaCumprod = config.setAlphaToOne ?? false ? 1 : noise.alphasCumprod[0]
        let prediction = config.predictionType ?? "epsilon"
        try config.require(name, .predictionType, prediction, in: ["epsilon", "v_prediction"])
        predictsVelocity = prediction == "v_prediction"
        skipsRungeKutta = config.skipPrkSteps ?? false
        spacing = try config.timestepSpacing(name, default: "leading")
        stepsOffset = config.stepsOffset ?? 0
    }

    public mutating func setTimesteps(_ numInferenceSteps: Int) throws {
        // The warm-up takes the last four timesteps; diffusers fails with fewer.
        try SchedulerError.requireSteps(numInferenceSteps, name, minimum: skipsRungeKutta ? 1 : 4)
        let train = noise.alphasCumprod.count
        stride = train / numInferenceSteps
        let ascending = Array(IntegerTimesteps.spaced(spacing, steps: numInferenceSteps, train: train, offset: stepsOffset).reversed())
        if skipsRungeKutta {
            // The second-to-last is repeated: PLMS spends two model calls on its first step.
            let plms = ascending.dropLast() + ascending.dropLast().suffix(1) + ascending.suffix(1)
            rungeKuttaTimesteps = []
            timesteps = plms.reversed().map(Double.init)
        } else {
            rungeKuttaTimesteps = Self.rungeKuttaTimesteps(Array(ascending.suffix(4)), half: stride / 2)
            timesteps = (rungeKuttaTimesteps + ascending.dropLast(3).reversed()).map(Double.init)
        }
        try SchedulerError.requireTrainingTimesteps(timesteps.map { Int($0) }, train: train, name, steps: numInferenceSteps)
        counter = 0
        ets = []
    }

    /// The warm-up visits t, t - h, t - h, t - 2h for each of the last three intervals
    /// (h = half the stride): `(prk[:-1].repeat(2)[1:-1])[::-1]` of t and t + h.
    private static func rungeKuttaTimesteps(_ lastFour: [Int], half: Int) -> [Int] {
        let withHalves = lastFour.flatMap { [$0, $0 + half] }.dropLast()
        return Array(withHalves.flatMap { [$0, $0] }.dropFirst().dropLast().reversed())
    }

    public mutating func scaleModelInput(_ sample: [Float], timestep: Double) -> [Float] { sample }

    public mutating func step<R: RandomSource>(
        modelOutput: [Float], timestep: Double, sample: [Float], random: inout R
    ) -> [Float] {
        if counter < rungeKuttaTimesteps.count { return rungeKuttaStep(modelOutput, timestep: Int(timestep), sample: sample) }
        var t = Int(timestep), previous = t - stride
        if counter == 1 {
            // The second call corrects the first step: same interval, averaged outputs.
            previous = t
            t += stride
        } else {
            ets = ets.suffix(3) + [modelOutput]
        }
        let combined: [Float]
        var start = sample
        switch (ets.count, counter) {
        case (1, 0):
            combined = modelOutput
            firstSample = sample
        case (1, _):
            combined = Latent.combine(modelOutput, ets[0]) { ($0 + $1) / 2 }
            start = firstSample
        case (2, _):
            combined = Latent.combine(ets[1], ets[0]) { (3 * $0 - $1) / 2 }
        case (3, _):
            combined = Latent.combine(ets[2], ets[1], ets[0]) { (23 * $0 - 16 * $1 + 5 * $2) / 12 }
        default:
            let scale = Float(1.0 / 24.0)
            combined = ets[3].indices.map { i in
                scale * (55 * ets[3][i] - 59 * ets[2][i] + 37 * ets[1][i] - 9 * ets[0][i])
            }
        }
        counter += 1
        return previousSample(start, t, previous, combined)
    }

    /// `step_prk`: each group of four calls is one fourth-order Runge-Kutta step from the
    /// group's first sample, its intermediate samples taken with the latest output alone.
    private mutating func rungeKuttaStep(_ modelOutput: [Float], timestep: Int, sample: [Float]) -> [Float] {
        let previous = timestep - (counter % 2 == 1 ? 0 : stride / 2)
        let t = rungeKuttaTimesteps[counter / 4 * 4]
        // Python's 1 / 6 and 1 / 3, rounded to float32 as they meet the tensor.
        let sixth = Float(1.0 / 6.0), third = Float(1.0 / 3.0)
        var output = modelOutput
        switch counter % 4 {
        case 0:
            rungeKuttaOutput = modelOutput.map { sixth * $0 }
            ets.append(modelOutput)
            rungeKuttaSample = sample
        case 3:
            output = Latent.combine(rungeKuttaOutput, modelOutput) { $0 + sixth * $1 }
        default:
            rungeKuttaOutput = Latent.combine(rungeKuttaOutput, modelOutput) { $0 + third * $1 }
        }
        counter += 1
        return previousSample(rungeKuttaSample, t, previous, output)
    }

    /// `_get_prev_sample`: formula (9) of the PNDM paper.
    private func previousSample(_ sample: [Float], _ t: Int, _ previous: Int, _ output: [Float]) -> [Float] {
        let alphaProd = noise.alphasCumprod[t]
        let alphaProdPrev = previous >= 0 ? noise.alphasCumprod[previous] : finalAlphaCumprod
        let betaProd = 1 - alphaProd, betaProdPrev = 1 - alphaProdPrev
        var epsilon = output
        if predictsVelocity {
            let a = alphaProd.squareRoot(), b = betaProd.squareRoot()
            epsilon = Latent.combine(output, sample) { a * $0 + b * $1 }
        }
        let sampleScale = (alphaProdPrev / alphaProd).squareRoot()
        let denominator = alphaProd * betaProdPrev.squareRoot() + (alphaProd * betaProd * alphaProdPrev).squareRoot()
        let difference = alphaProdPrev - alphaProd
        return Latent.combine(sample, epsilon) { sampleScale * $0 - difference * $1 / denominator }
    }
}
