"""Golden fixtures for the Swift UNet2DConditionModel (Tests/DiffusionModelsTests/UNet*.swift).

Run from the repo root with the pinned reference venv:
    /work/venv/bin/python Tests/Goldens/unet/generate.py

Each config is a tiny random UNet2DConditionModel saved in diffusers' folder layout with F16
weights; widths of 16 and 32 channels (every layer kind at a quarter of the weights of 32/64, a
few hundred KB to 1.3 MB a model) (<name>/config.json + diffusion_pytorch_model.safetensors). The reference runs the
F16-rounded weights widened back to float32, so both sides compute with identical weights.
<name>/io.safetensors holds the NCHW inputs, the output and single-block outputs for debugging.
"""
import json
import os
import sys

import torch
from diffusers import UNet2DConditionModel
from safetensors.torch import save_file

ROOT = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(ROOT))
from tiny_weights import randomize, save_f16  # noqa: E402

CONFIGS = {
    # SD1.5-shaped: conv projection, per-block head counts (diffusers' attention_head_dim quirk),
    # two levels, non-square latents, batch 2, and ControlNet residuals. Widths 16/32 (heads of 8).
    "sd15_two_level": dict(
        config=dict(
            block_out_channels=[16, 32], layers_per_block=2, norm_num_groups=8, cross_attention_dim=32,
            down_block_types=["CrossAttnDownBlock2D", "DownBlock2D"],
            up_block_types=["UpBlock2D", "CrossAttnUpBlock2D"],
            attention_head_dim=[2, 4], use_linear_projection=False,
        ),
        batch=2, height=8, width=12, tokens=7, controlnet=True,
    ),
    # SDXL-shaped: linear projection, text_time added embedding, several transformer layers,
    # explicit num_attention_heads, three levels. Widths 16/16/32 (heads of 4).
    "sdxl_three_level": dict(
        config=dict(
            block_out_channels=[16, 16, 32], layers_per_block=2, norm_num_groups=8, cross_attention_dim=48,
            down_block_types=["DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"],
            up_block_types=["CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"],
            attention_head_dim=[4, 4, 8], transformer_layers_per_block=[1, 2, 2], use_linear_projection=True,
            addition_embed_type="text_time", addition_time_embed_dim=8,
            projection_class_embeddings_input_dim=24 + 6 * 8, upcast_attention=True,
        ),
        batch=1, height=8, width=12, tokens=5, pooled=24,
    ),
    # SD-shaped, three levels, odd latent sizes: the up blocks resize to each skip's size. Widths 16/16/32.
    "sd_three_level_odd": dict(
        config=dict(
            block_out_channels=[16, 16, 32], layers_per_block=1, norm_num_groups=8, cross_attention_dim=32,
            down_block_types=["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"],
            up_block_types=["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"],
            attention_head_dim=4, freq_shift=1, flip_sin_to_cos=False,
            conv_in_kernel=3, conv_out_kernel=3, mid_block_scale_factor=1.5,
        ),
        batch=2, height=5, width=7, tokens=77, controlnet=True,
    ),
}


def main():
    torch.manual_seed(0)
    for name, spec in CONFIGS.items():
        generator = torch.Generator().manual_seed(1234)
        model = UNet2DConditionModel(**spec["config"]).eval()
        randomize(model, generator)
        folder = os.path.join(ROOT, name)
        save_f16(model, folder)

        b, h, w = spec["batch"], spec["height"], spec["width"]
        cross = spec["config"]["cross_attention_dim"]
        io = {
            "sample": torch.randn(b, 4, h, w, generator=generator),
            "timesteps": torch.tensor([981.0, 17.0][:b]),
            "encoder_hidden_states": torch.randn(b, spec["tokens"], cross, generator=generator),
        }
        kwargs = {}
        if spec["config"].get("addition_embed_type") == "text_time":
            io["text_embeds"] = torch.randn(b, spec["pooled"], generator=generator)
            io["time_ids"] = torch.tensor([[96.0, 64.0, 0.0, 0.0, 96.0, 64.0]] * b)
            kwargs["added_cond_kwargs"] = {"text_embeds": io["text_embeds"], "time_ids": io["time_ids"]}

        # Single-block outputs, for debugging a mismatch.
        captured = {}
        hooks = [model.time_embedding.register_forward_hook(lambda m, i, o: captured.__setitem__("time_embedding", o))]
        for i, block in enumerate(model.down_blocks):
            hooks.append(block.register_forward_hook(
                lambda m, i_, o, i=i: captured.__setitem__(f"down_blocks.{i}", o[0])))
        hooks.append(model.mid_block.register_forward_hook(lambda m, i, o: captured.__setitem__("mid_block", o)))
        with torch.no_grad():
            io["out"] = model(io["sample"], io["timesteps"], io["encoder_hidden_states"], **kwargs).sample
            for hook in hooks:
                hook.remove()
            io.update(captured)

            if spec.get("controlnet"):
                # One residual per skip connection (conv_in, each resnet, each downsampler), and the mid block's.
                shapes = []
                hooks = [model.conv_in.register_forward_hook(lambda m, i, o: shapes.append(o.shape))]
                for block in model.down_blocks:
                    hooks.append(block.register_forward_hook(lambda m, i, o: shapes.extend(t.shape for t in o[1])))
                model(io["sample"], io["timesteps"], io["encoder_hidden_states"], **kwargs)
                for hook in hooks:
                    hook.remove()
                residuals = [0.5 * torch.randn(s, generator=generator) for s in shapes]
                for k, r in enumerate(residuals):
                    io[f"down_residual.{k}"] = r
                io["mid_residual"] = 0.5 * torch.randn(io["mid_block"].shape, generator=generator)
                io["out_controlnet"] = model(
                    io["sample"], io["timesteps"], io["encoder_hidden_states"],
                    down_block_additional_residuals=tuple(residuals),
                    mid_block_additional_residual=io["mid_residual"], **kwargs).sample

        save_file({k: v.contiguous().float() for k, v in io.items()}, os.path.join(folder, "io.safetensors"))
        # The order IP-Adapter files number the cross-attention layers in.
        cross_layers = [k.removesuffix(".processor") for k in model.attn_processors if ".attn2." in k]
        with open(os.path.join(folder, "cross_attention_layers.json"), "w") as f:
            json.dump(cross_layers, f, indent=1)
        print(name, {k: list(v.shape) for k, v in io.items() if not k.startswith("down_residual")},
              "out scale", io["out"].abs().max().item())


if __name__ == "__main__":
    main()
