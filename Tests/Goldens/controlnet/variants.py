"""Tiny SDXL ControlNets shaped as diffusers' distilled "mid" and "small" variants, and diffusers'
residuals on them.

    /work/venv/bin/python Tests/Goldens/controlnet/variants.py

diffusers/controlnet-{canny,depth}-sdxl-1.0-mid and -small are ControlNetModel with the full SDXL
ControlNet's config (diffusers/controlnet-canny-sdxl-1.0: cross-attention at the two lower levels,
transformer_layers_per_block [1, 2, 10]) except:
- mid: transformer_layers_per_block [0, 0, 1]: the second level keeps its Transformer2DModel with
  no transformer block (only norm, proj_in and proj_out), the third level and the mid block one;
- small: down_block_types all DownBlock2D and transformer_layers_per_block [0, 0, 0]: no attention
  in the down blocks, and a mid block UNetMidBlock2DCrossAttn whose transformer has no block.
These are checked below against the published files: the full-size models have 272,586,000 and
160,111,120 parameters, the 1.09 GB and 640 MB of their float32 diffusion_pytorch_model.safetensors,
and diffusers' single-file code (infer_diffusers_model_type) names the tiny ones controlnet_xl_mid
and controlnet_xl_small, the types it maps to those two repositories.

Writes, under Tests/Goldens/controlnet/variants/:
- <variant>/: the tiny ControlNet (config.json, diffusion_pytorch_model.safetensors, F16, random
  weights everywhere, zero convolutions included); three levels of 8, 16, 16 channels, SDXL's
  text_time embedding;
- <variant>-single/controlnet-<variant>-tiny.safetensors: the same file under a name of its own
  with no config (a symbolic link: one copy), which diffusers' from_single_file(config=<variant>)
  reads into the folder's tensors;
- configs.json: the full-size configs of both variants, as diffusers writes them;
- residuals.safetensors: inputs and each ControlNet's down and mid residuals (NCHW), conditioning
  scale 0.7.
"""
import json
import os
import shutil
import sys
from pathlib import Path

import torch
from diffusers import ControlNetModel
from diffusers.loaders import single_file_utils as sfu
from safetensors.torch import load_file, save_file

HERE = Path(__file__).resolve().parent
OUT = HERE / "variants"
sys.path.insert(0, str(HERE.parent))
from tiny_weights import randomize, save_f16  # noqa: E402

VARIANTS = {
    "mid": dict(down_block_types=["DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"],
                transformer_layers_per_block=[0, 0, 1]),
    "small": dict(down_block_types=["DownBlock2D", "DownBlock2D", "DownBlock2D"], transformer_layers_per_block=[0, 0, 0]),
}
# diffusers/controlnet-canny-sdxl-1.0's config, less the fields VARIANTS sets.
FULL = dict(addition_embed_type="text_time", addition_time_embed_dim=256, attention_head_dim=[5, 10, 20],
            block_out_channels=[320, 640, 1280], cross_attention_dim=2048, projection_class_embeddings_input_dim=2816,
            use_linear_projection=True, conditioning_embedding_out_channels=[16, 32, 96, 256])
PUBLISHED_PARAMETERS = {"mid": 272_586_000, "small": 160_111_120}
TINY = dict(addition_embed_type="text_time", addition_time_embed_dim=8, attention_head_dim=[1, 2, 2],
            block_out_channels=[8, 16, 16], cross_attention_dim=32, projection_class_embeddings_input_dim=16 + 6 * 8,
            use_linear_projection=True, conditioning_embedding_out_channels=[4, 8, 8, 16], norm_num_groups=4)
MODEL_TYPES = {"mid": "controlnet_xl_mid", "small": "controlnet_xl_small"}


def full_configs():
    configs = {}
    for name, variant in VARIANTS.items():
        with torch.device("meta"):
            model = ControlNetModel(**FULL, **variant)
        count = sum(p.numel() for p in model.parameters())
        assert count == PUBLISHED_PARAMETERS[name], (name, count)
        configs[name] = json.loads(model.to_json_string())
    return configs


def inputs(generator):
    batch, h, w = 2, 4, 6  # latents 4x6, 2x3, 1x2: odd sizes at the lower levels
    return {
        "sample": torch.randn(batch, 4, h, w, generator=generator),
        "image": torch.rand(batch, 3, 8 * h, 8 * w, generator=generator),
        "context": torch.randn(batch, 77, TINY["cross_attention_dim"], generator=generator),
        "text_embeds": torch.randn(batch, 16, generator=generator),
        "time_ids": torch.tensor([[64.0, 96, 0, 0, 64, 96]] * batch),
    }


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir()
    with open(OUT / "configs.json", "w") as f:
        json.dump(full_configs(), f, indent=1)
        f.write("\n")
    generator = torch.Generator().manual_seed(2024)
    out = {f"input.{k}": v for k, v in inputs(generator).items()}
    for seed, name in enumerate(VARIANTS):
        model = ControlNetModel(**TINY, **VARIANTS[name]).eval()
        randomize(model, torch.Generator().manual_seed(60 + seed))
        folder = OUT / name
        save_f16(model, folder)
        single = OUT / f"{name}-single"
        single.mkdir()
        file = single / f"controlnet-{name}-tiny.safetensors"
        os.symlink(f"../{name}/diffusion_pytorch_model.safetensors", file)
        assert sfu.infer_diffusers_model_type(load_file(file)) == MODEL_TYPES[name], name
        loaded = ControlNetModel.from_single_file(str(file), config=str(folder), local_files_only=True)
        state = {k: v.half() for k, v in model.state_dict().items()}
        assert {k: v.half() for k, v in loaded.state_dict().items()}.keys() == state.keys()
        assert all(torch.equal(loaded.state_dict()[k].half(), v) for k, v in state.items()), name
        with torch.no_grad():
            down, mid = model(out["input.sample"], 537.0, out["input.context"], out["input.image"], conditioning_scale=0.7,
                              added_cond_kwargs={"text_embeds": out["input.text_embeds"], "time_ids": out["input.time_ids"]},
                              return_dict=False)
        for i, residual in enumerate(down):
            out[f"{name}.down.{i}"] = residual
        out[f"{name}.mid"] = mid
        print(name, os.path.getsize(folder / "diffusion_pytorch_model.safetensors"), len(down), tuple(mid.shape),
              "scale", max(t.abs().max().item() for t in list(down) + [mid]))
    save_file({k: v.contiguous() for k, v in out.items()}, OUT / "residuals.safetensors")


if __name__ == "__main__":
    main()
