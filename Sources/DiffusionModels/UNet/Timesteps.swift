// Follows diffusers' models/embeddings.py (get_timestep_embedding, Timesteps).
import DiffusionCore
import Foundation

/// The sinusoidal embedding of timesteps (weightless), computed in float32 as diffusers does so
/// the frequencies and their products round the same way.
public struct Timesteps: Sendable {
    public let channels: Int
    public let flipSinToCos: Bool
    public let downscaleFreqShift: Float

    public init(channels: Int, flipSinToCos: Bool, downscaleFreqShift: Float) {
        self.channels = channels
        self.flipSinToCos = flipSinToCos
        self.downscaleFreqShift = downscaleFreqShift
    }

    /// `[timesteps.count, channels]`: sin then cos of `t * exp(-ln(10000) i / (half - shift))`
    /// (cos first when flipped), zero-padded when `channels` is odd.
    public func callAsFunction(_ timesteps: [Float]) -> Tensor {
        let half = channels / 2
        let logPeriod = Float(-log(10000.0))
        let frequencies = (0..<half).map { expf(logPeriod * Float($0) / (Float(half) - downscaleFreqShift)) }
        var values = [Float](repeating: 0, count: timesteps.count * channels)
        for (row, t) in timesteps.enumerated() {
            for (i, frequency) in frequencies.enumerated() {
                let angle = t * frequency
                let (first, second) = flipSinToCos ? (cosf(angle), sinf(angle)) : (sinf(angle), cosf(angle))
                values[row * channels + i] = first
                values[row * channels + half + i] = second
            }
        }
        return Tensor(shape: [timesteps.count, channels], values: values)
    }
}
