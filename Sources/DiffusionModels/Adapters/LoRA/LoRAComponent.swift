/// The models of a pipeline a LoRA can change: the UNet and the text encoders (not ControlNets, as
/// in diffusers). Raw values are the folder names of a diffusers pipeline and diffusers' key prefixes.
public enum LoRAComponent: String, CaseIterable, Sendable {
    case unet
    case textEncoder = "text_encoder"
    case textEncoder2 = "text_encoder_2"

    /// The file holding the component's weights inside its folder.
    var weightsFile: String {
        self == .unet ? "diffusion_pytorch_model.safetensors" : "model.safetensors"
    }
}

/// A LoRA file that cannot be applied; the message names the file and, where one is at fault, the key.
public struct LoRAError: Error, CustomStringConvertible, Sendable {
    public let message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }
}
