/// The 15 diffusers scheduler classes this package implements, named as diffusers names them:
/// the one table a request's `scheduler`, the command line and the factory read.
///
/// To add a scheduler: one file with its type, one case here and one line in `make`.
public enum SchedulerKind: String, CaseIterable, Codable, Sendable {
    case ddim = "DDIMScheduler"
    case ddpm = "DDPMScheduler"
    case deisMultistep = "DEISMultistepScheduler"
    case dpmSolverMultistep = "DPMSolverMultistepScheduler"
    case dpmSolverSinglestep = "DPMSolverSinglestepScheduler"
    case eulerAncestralDiscrete = "EulerAncestralDiscreteScheduler"
    case eulerDiscrete = "EulerDiscreteScheduler"
    case heunDiscrete = "HeunDiscreteScheduler"
    case kdpm2AncestralDiscrete = "KDPM2AncestralDiscreteScheduler"
    case kdpm2Discrete = "KDPM2DiscreteScheduler"
    case lcm = "LCMScheduler"
    case lmsDiscrete = "LMSDiscreteScheduler"
    case pndm = "PNDMScheduler"
    case tcd = "TCDScheduler"
    case uniPCMultistep = "UniPCMultistepScheduler"

    /// What a pipeline passes to the scheduler besides its config.
    public struct Options: Equatable, Sendable {
        /// TCD's stochasticity `eta` (diffusers' `gamma`); nil keeps `TCDScheduler.step`'s default 0.3.
        /// diffusers' ControlNet pipelines pass their `eta` argument, 0, to every scheduler whose step takes one.
        public var eta: Float?

        public init(eta: Float? = nil) {
            self.eta = eta
        }

        /// What diffusers' ControlNet pipelines pass: `eta = 0`.
        public static let controlNetPipeline = Options(eta: 0)
    }

    /// The scheduler built from `config`, like diffusers' `Class.from_config(config)`.
    /// Throws for a config option the scheduler does not implement.
    public func make(config: SchedulerConfig, options: Options = Options()) throws -> any Scheduler {
        switch self {
        case .ddim: return try DDIMScheduler(config: config)
        case .ddpm: return try DDPMScheduler(config: config)
        case .deisMultistep: return try DEISMultistepScheduler(config: config)
        case .dpmSolverMultistep: return try DPMSolverMultistepScheduler(config: config)
        case .dpmSolverSinglestep: return try DPMSolverSinglestepScheduler(config: config)
        case .eulerAncestralDiscrete: return try EulerAncestralDiscreteScheduler(config: config)
        case .eulerDiscrete: return try EulerDiscreteScheduler(config: config)
        case .heunDiscrete: return try HeunDiscreteScheduler(config: config)
        case .kdpm2AncestralDiscrete: return try KDPM2AncestralDiscreteScheduler(config: config)
        case .kdpm2Discrete: return try KDPM2DiscreteScheduler(config: config)
        case .lcm: return try LCMScheduler(config: config)
        case .lmsDiscrete: return try LMSDiscreteScheduler(config: config)
        case .pndm: return try PNDMScheduler(config: config)
        case .tcd:
            var tcd = try TCDScheduler(config: config)
            if let eta = options.eta { tcd.eta = eta }
            return tcd
        case .uniPCMultistep: return try UniPCMultistepScheduler(config: config)
        }
    }
}
