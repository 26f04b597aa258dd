// Follows the config of diffusers' models/controlnets/controlnet.py (ControlNetModel.__init__).
import Foundation

/// A ControlNet's `config.json`: the UNet options of its encoder copy (decoded as a
/// `UNet2DConditionConfig`, whose field names and defaults ControlNetModel shares) and its own.
public struct ControlNetConfig: Sendable {
    public var unet: UNet2DConditionConfig
    public var conditioningChannels = 3
    public var conditioningEmbeddingOutChannels = [16, 32, 96, 256]
    public var channelOrder = "rgb"

    /// Reads and validates `url`; options the runtime does not implement throw, naming the field.
    public static func load(contentsOf url: URL) throws -> ControlNetConfig {
        do {
            let data = try ConfigCheck.read(url, what: "ControlNet config")
            var unet = try JSONDecoder().decode(UNet2DConditionConfig.self, from: data)
            // A ControlNet has no decoder half; mirror the down blocks so the UNet checks apply.
            unet.upBlockTypes = unet.downBlockTypes.reversed().map { $0.replacingOccurrences(of: "Down", with: "Up") }
            var config = ControlNetConfig(unet: unet)
            let own = try JSONDecoder().decode(Own.self, from: data)
            config.conditioningChannels = own.conditioningChannels ?? 3
            config.conditioningEmbeddingOutChannels = own.conditioningEmbeddingOutChannels ?? [16, 32, 96, 256]
            config.channelOrder = own.channelOrder ?? "rgb"
            try config.validate()
            return config
        } catch let error as ModelLoadingError {
            throw ModelLoadingError("\(url.path): \(error.message)")
        } catch {
            throw ModelLoadingError("\(url.path): cannot read the ControlNet config: \(error)")
        }
    }

    func validate() throws {
        try unet.validate()
        guard channelOrder == "rgb" || channelOrder == "bgr" else {
            throw ModelLoadingError("config field 'controlnet_conditioning_channel_order' = \(channelOrder) is not supported")
        }
        guard !conditioningEmbeddingOutChannels.isEmpty else {
            throw ModelLoadingError("config field 'conditioning_embedding_out_channels' must list at least one channel count")
        }
        try ConfigCheck.size("conditioning_channels", conditioningChannels)
        for channels in conditioningEmbeddingOutChannels {
            try ConfigCheck.size("conditioning_embedding_out_channels", channels)
        }
    }

    private struct Own: Decodable {
        var conditioningChannels: Int?
        var conditioningEmbeddingOutChannels: [Int]?
        var channelOrder: String?
        var globalPoolConditions: Bool?

        enum CodingKeys: String, CodingKey {
            case conditioningChannels = "conditioning_channels"
            case conditioningEmbeddingOutChannels = "conditioning_embedding_out_channels"
            case channelOrder = "controlnet_conditioning_channel_order"
            case globalPoolConditions = "global_pool_conditions"
        }

        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            conditioningChannels = try c.decodeIfPresent(Int.self, forKey: .conditioningChannels)
            conditioningEmbeddingOutChannels = try c.decodeIfPresent([Int].self, forKey: .conditioningEmbeddingOutChannels)
            channelOrder = try c.decodeIfPresent(String.self, forKey: .channelOrder)
            globalPoolConditions = try c.decodeIfPresent(Bool.self, forKey: .globalPoolConditions)
            if globalPoolConditions == true {
                throw ModelLoadingError("config field 'global_pool_conditions' = true is not supported")
            }
        }
    }
}
