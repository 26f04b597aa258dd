"""Shared by the UNet and VAE golden generators: random weights for a tiny diffusers model, and
saving it in diffusers' folder layout with F16 weights while the reference keeps computing with
those F16-rounded values in float32."""
import torch


def randomize(model, generator):
    """Random weights everywhere, norms included, so every affine and bias is exercised."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name and name.endswith("weight"):
                p.copy_(1 + 0.1 * torch.randn(p.shape, generator=generator))
            elif p.ndim == 1:
                p.copy_(0.1 * torch.randn(p.shape, generator=generator))
            else:
                fan_in = p[0].numel()
                p.copy_(torch.randn(p.shape, generator=generator) / fan_in ** 0.5)


def save_f16(model, folder):
    """Saves F16 weights to `folder` and leaves the model in float32 holding the F16-rounded values."""
    model.half()
    model.save_pretrained(folder, safe_serialization=True)
    model.float()
