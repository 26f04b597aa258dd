"""Golden fixtures for the Swift AutoencoderKL (Tests/DiffusionModelsTests/VAE*.swift).

Run from the repo root with the pinned reference venv:
    /work/venv/bin/python Tests/Goldens/vae/generate.py

A tiny random AutoencoderKL (two levels of 16 and 32 channels) saved in diffusers' folder layout
with F16 weights (tiny/config.json + diffusion_pytorch_model.safetensors); the reference runs those
F16-rounded weights in float32.
tiny/io.safetensors holds NCHW inputs and outputs: the decoder's image, the encoder's latent
distribution (mean, logvar), and the tiled decode (sample_size 16: 8x8 latent tiles) of a latent
larger than one tile.
"""
import os
import sys

import torch
from diffusers import AutoencoderKL
from safetensors.torch import save_file

ROOT = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(ROOT))
from tiny_weights import randomize, save_f16  # noqa: E402


def main():
    generator = torch.Generator().manual_seed(4321)
    model = AutoencoderKL(
        in_channels=3, out_channels=3, latent_channels=4, block_out_channels=[16, 32],
        down_block_types=["DownEncoderBlock2D"] * 2, up_block_types=["UpDecoderBlock2D"] * 2,
        layers_per_block=1, norm_num_groups=8, sample_size=16, scaling_factor=0.13025,
    ).eval()
    randomize(model, generator)
    folder = os.path.join(ROOT, "tiny")
    save_f16(model, folder)

    io = {
        "latents": torch.randn(2, 4, 6, 10, generator=generator),
        "image": torch.rand(1, 3, 14, 22, generator=generator) * 2 - 1,
        "tiled_latents": torch.randn(1, 4, 12, 20, generator=generator),
    }
    with torch.no_grad():
        io["decoded"] = model.decode(io["latents"]).sample
        posterior = model.encode(io["image"]).latent_dist
        io["mean"], io["logvar"] = posterior.mean, posterior.logvar
        model.enable_tiling()
        io["tiled_decoded"] = model.decode(io["tiled_latents"]).sample
    save_file({k: v.contiguous() for k, v in io.items()}, os.path.join(folder, "io.safetensors"))
    print({k: list(v.shape) for k, v in io.items()}, "decoded scale", io["decoded"].abs().max().item())


if __name__ == "__main__":
    main()
