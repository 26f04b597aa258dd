import Foundation

/// A LoRA file (kohya, diffusers/PEFT or LyCORIS; Docs/LORA.md) with its scale: its delta weights
/// are merged into a copy of the UNet and text encoders for the generations that ask for it.
public struct LoRAInput: Equatable, Sendable {
    public var file: URL
    public var scale: Double

    public init(file: URL, scale: Double = 1) {
        self.file = file
        self.scale = scale
    }
}
