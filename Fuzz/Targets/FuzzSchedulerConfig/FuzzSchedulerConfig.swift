// scheduler_config.json: the first input byte picks one of the 15 schedulers, the second a step
// count (1...64), the rest is the config. Building the scheduler, its schedule and a run of every
// step on a small latent either works or throws SchedulerError; it never traps.
import DiffusionSchedulers
import Foundation
import FuzzDriver

func fuzzSchedulerConfig(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let start, count >= 2 else { return 0 }
    let name = schedulerNames[Int(start[0]) % schedulerNames.count]
    let steps = Int(start[1]) % 64 + 1
    let json = Data(bytes: start + 2, count: count - 2)
    guard var scheduler = try? makeScheduler(named: name, config: json),
          (try? scheduler.setTimesteps(steps)) != nil
    else { return 0 }
    var random = TorchRandomSource(seed: 0)
    var sample: [Float] = [0.5, -1, 2, 0]
    for timestep in scheduler.timesteps {
        let input = scheduler.scaleModelInput(sample, timestep: timestep)
        sample = scheduler.step(modelOutput: input.map { $0 * 0.1 }, timestep: timestep, sample: sample, random: &random)
    }
    return 0
}

@_cdecl("FuzzSchedulerConfig_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzSchedulerConfig)
}
