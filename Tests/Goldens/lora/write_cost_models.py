"""Writes a full-size random SD1.5 UNet folder and a typical style LoRA for it, to measure what merging
costs (Docs/LORA.md, "Cost"). Nothing here is committed: the files are 1.7 GB.

    /work/venv/bin/python Tests/Goldens/lora/write_cost_models.py /tmp/lora-cost
    DIFFUSE_LORA_COST=/tmp/lora-cost swift test -c release --filter LoRACostTests

The LoRA is kohya-shaped, rank 32, on every attention projection, proj_in/proj_out and feed-forward
layer of the UNet (the layers most style and character LoRAs train).
"""
import os
import sys

import numpy as np
import torch
from diffusers import UNet2DConditionModel
from safetensors.numpy import save_file

LAYERS = ("to_q", "to_k", "to_v", "to_out.0", "proj_in", "proj_out", "ff.net.0.proj", "ff.net.2")


def main(folder):
    torch.manual_seed(0)
    unet = UNet2DConditionModel(cross_attention_dim=768, attention_head_dim=8, sample_size=64).half()
    unet.save_pretrained(os.path.join(folder, "unet"))
    rng = np.random.default_rng(0)
    lora, patched = {}, 0
    for key, value in unet.state_dict().items():
        module = key.removesuffix(".weight")
        if not key.endswith(".weight") or not module.endswith(LAYERS) or value.ndim not in (2, 4):
            continue
        name = "lora_unet_" + module.replace(".", "_")
        columns = int(np.prod(value.shape[1:]))
        lora[f"{name}.lora_down.weight"] = (rng.standard_normal((32, columns)) * 0.01).astype(np.float16).reshape(
            (32,) + tuple(value.shape[1:]))
        lora[f"{name}.lora_up.weight"] = np.zeros((value.shape[0], 32) + (1,) * (value.ndim - 2), dtype=np.float16)
        lora[f"{name}.alpha"] = np.array(16.0, dtype=np.float16)
        patched += value.numel()
    os.makedirs(os.path.join(folder, "loras"), exist_ok=True)
    save_file(lora, os.path.join(folder, "loras", "style.safetensors"))
    total = sum(v.numel() for v in unet.state_dict().values())
    print(f"{len(lora) // 3} modules, {patched / 1e6:.0f}M of {total / 1e6:.0f}M UNet parameters patched")


if __name__ == "__main__":
    main(sys.argv[1])
