// Follows diffusers/schedulers/scheduling_lms_discrete.py.
import Foundation

/// Matches diffusers' `LMSDiscreteScheduler`: a linear multistep method of up to order 4 on
/// the derivatives (x - x0) / sigma. Honours beta schedules, trained betas, prediction_type,
/// timestep_spacing, steps_offset and karras/exponential/beta sigmas.
public struct LMSDiscreteScheduler: Scheduler {
    public let name = "LMSDiscreteScheduler"
    public let order = 1
    public var timesteps: [Double] { state.timesteps }
    public var sigmas: [Float] { state.sigmas }
    public var initNoiseSigma: Float { state.initNoiseSigma }

    /// The pipelines call `step` with diffusers' default `order=4`.
    private static let maximumOrder = 4
    private let prediction: SigmaPrediction
    private var state: DiscreteSigmaState
    private var derivatives: [[Float]] = []

    public init(config: SchedulerConfig) throws {
        state = try DiscreteSigmaState(name, config: config, noiseDefaults: .init(hasZeroSnrOption: false))
        prediction = try SigmaPrediction(name, config: config)
    }

    public mutating func setTimesteps(_ numInferenceSteps: Int) throws {
        let schedule = try state.schedule(name, steps: numInferenceSteps)
        state.start(timesteps: schedule.timesteps, sigmas: schedule.sigmas)
        derivatives = []
    }

    public mutating func scaleModelInput(_ sample: [Float], timestep: Double) -> [Float] {
        state.scaled(sample, timestep: timestep)
    }

    public mutating func step<R: RandomSource>(
        modelOutput: [Float], timestep: Double, sample: [Float], random: inout R
    ) -> [Float] {
        let index = state.index(of: timestep)
        let sigma = sigmas[index]
        let original = prediction.originalSample(modelOutput, sample: sample, sigma: sigma)
        derivatives.append(Latent.combine(sample, original) { x, x0 in (x - x0) / sigma })
        if derivatives.count > Self.maximumOrder { derivatives.removeFirst() }
        let order = min(index + 1, Self.maximumOrder)
        var update = [Float](repeating: 0, count: sample.count)
        for (k, derivative) in derivatives.reversed().enumerated() {
            let coefficient = Float(lmsCoefficient(order: order, index: index, current: k))
            update = Latent.combine(update, derivative) { u, d in u + coefficient * d }
        }
        state.advance(from: index)
        return Latent.combine(sample, update) { $0 + $1 }
    }

    /// The integral over [sigma_t, sigma_t+1] of the Lagrange basis polynomial of the
    /// `current`-th previous sigma. diffusers integrates it with scipy's adaptive quadrature;
    /// the integrand is a polynomial of degree < 4, so 4-point Gauss-Legendre is exact.
    private func lmsCoefficient(order: Int, index: Int, current: Int) -> Double {
        func basis(_ tau: Double) -> Double {
            var product = 1.0
            for k in 0..<order where k != current {
                product *= (tau - Double(sigmas[index - k])) / (Double(sigmas[index - current]) - Double(sigmas[index - k]))
            }
            return product
        }
        let a = Double(sigmas[index]), b = Double(sigmas[index + 1])
        let nodes = [0.3399810435848563, 0.8611363115940526], weights = [0.6521451548625461, 0.3478548451374538]
        let half = (b - a) / 2, middle = (a + b) / 2
        return half * zip(nodes, weights).reduce(0) { sum, nw in
            sum + nw.1 * (basis(middle - half * nw.0) + basis(middle + half * nw.0))
        }
    }
}
